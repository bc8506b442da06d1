#!/usr/bin/env bash
# vm/shell.sh - build the commands under ./cmd/ and boot the IPVS VM with an
# interactive shell on this terminal (`make shell`).
#
# Usage: vm/shell.sh [vm/run.sh options...]
#   Our binaries: /usr/local/sbin (first on PATH); reference:
#   /opt/ref/sbin/{ipvsadm,ipvsadm-save,ipvsadm-restore} (also on PATH).
#   Leave with `poweroff -f` or `exit` (/out is then copied to
#   build/vm/shell-out), or Ctrl-a x to kill qemu.
set -euo pipefail
# shellcheck source=vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vm_build_cmds "$VM_BUILD/bin"
exec "$VM_DIR/run.sh" --shell --bin "$VM_BUILD/bin" --out "$VM_BUILD/shell-out" "$@"
