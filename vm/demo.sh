#!/usr/bin/env bash
# vm/demo.sh - build the commands under ./cmd/ and run vm/demo-guest.sh in the
# IPVS VM, printing its output (`make demo`).
#
# Usage: vm/demo.sh [vm/run.sh options...]
#   The guest script runs with bash in /src, our binaries first on PATH,
#   IPVSADM_REFERENCE=/opt/ref/sbin/ipvsadm. Its /out lands in
#   build/vm/demo-out. Exit status: that of vm/run.sh (non-zero if the
#   script failed).
set -euo pipefail
# shellcheck source=vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vm_build_cmds "$VM_BUILD/bin"
exec "$VM_DIR/run.sh" --bin "$VM_BUILD/bin" --out "$VM_BUILD/demo-out" "$@" -- "$VM_DIR/demo-guest.sh"
