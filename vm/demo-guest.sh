#!/bin/bash
# vm/demo-guest.sh - what `make demo` shows, run inside the VM: the ipvs
# library sets up a direct-routing web service with two real servers, and
# the reference ipvsadm 1.31 lists the very table the library wrote.
set -euo pipefail

step() { printf '\n### %s\n' "$*"; }

step "ipvsadm-example -keep   (our library: one batch of three netlink requests)"
ipvsadm-example -keep

step "ipvsadm -Ln             (the reference ipvsadm 1.31 reading what we wrote)"
"$IPVSADM_REFERENCE" -Ln

step "ipvsadm -Sn"
"$IPVSADM_REFERENCE" -Sn

"$IPVSADM_REFERENCE" -C
