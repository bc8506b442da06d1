#!/bin/bash
# vm/demo-guest.sh - what `make demo` shows, run inside the VM: the LVS-DR
# setup an operator types, with our ipvsadm, ipvsadm-save and
# ipvsadm-restore (first on the PATH), on the real kernel.
set -euo pipefail

run() {
	printf '\n# %s\n' "$*"
	"$@"
}

run ipvsadm -A -t 192.0.2.10:80 -s rr
run ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.11 -g
run ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.12 -g
run ipvsadm -Ln
printf '\n# ipvsadm-save -n > /tmp/rules\n'
ipvsadm-save -n >/tmp/rules
cat /tmp/rules
run ipvsadm -C
run ipvsadm -Ln
printf '\n# ipvsadm-restore < /tmp/rules\n'
ipvsadm-restore </tmp/rules
run ipvsadm -Ln

printf '\n# the reference ipvsadm 1.31 reads the same table:\n'
run "$IPVSADM_REFERENCE" -Ln
run ipvsadm -C
