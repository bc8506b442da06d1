#!/bin/bash
# vm/demo-guest.sh - PLACEHOLDER guest script for vm/demo.sh; replace freely.
# Runs inside the VM with bash, cwd /src, our binaries (/usr/local/sbin)
# first on PATH, the reference at $IPVSADM_REFERENCE; /out is copied back to
# build/vm/demo-out. A non-zero exit fails `make demo`.
set -euo pipefail
if command -v ipvsadm-example >/dev/null 2>&1; then
	ipvsadm-example
else
	echo "(ipvsadm-example not built; showing the reference ipvsadm instead)"
	"$IPVSADM_REFERENCE" -Ln
fi
