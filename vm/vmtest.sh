#!/usr/bin/env bash
# vm/vmtest.sh - build every test binary and command of the module and run the
# tests in the IPVS VM (`make vmtest`).
#
# Usage: vm/vmtest.sh [vm/run.sh options...] [SCRIPT]
#   e.g. vm/vmtest.sh --test-args '-test.run=TestService' --timeout 1800
#
# Builds, with CGO_ENABLED=0, under build/vm/ (emptied first):
#   build/vm/tests/<import path with / -> _>.test   one per package with
#        _test.go files (go test -c), plus build/vm/tests/vmtest-packages.txt
#        ("<binary>\t<import path>\t<dir relative to repo root>")
#   build/vm/bin/    every main package under ./cmd/ (go build -o)
# then runs
#   vm/run.sh --bin build/vm/bin --tests build/vm/tests --out build/vm/out "$@"
# Each test binary runs in the guest in /src/<package dir> (testdata/ is
# copied there). Exit status: that of run.sh, or 1 if a test binary failed to
# build (the other binaries still run).
#
# Environment: VMTEST_PKGS (package patterns, default ./...), VMTEST_ARGS,
# GO, plus everything vm/run.sh reads.
set -euo pipefail
# shellcheck source=vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

go="$(vm_go)"
cd "$VM_REPO_ROOT"
T="$VM_BUILD/tests"
rm -rf "$T" "$VM_BUILD/out"
mkdir -p "$T" "$VM_BUILD/out"

vm_build_cmds "$VM_BUILD/bin"

# shellcheck disable=SC2086
pkgs="$(CGO_ENABLED=0 "$go" list -e -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}|{{.Dir}}{{end}}' ${VMTEST_PKGS:-./...})"
failed=()
n=0
: >"$T/vmtest-packages.txt"
while IFS='|' read -r ip dir; do
	[[ -n "$ip" ]] || continue
	name="${ip//\//_}.test"
	rel="${dir#"$VM_REPO_ROOT"}"
	rel="${rel#/}"
	[[ -n "$rel" ]] || rel=.
	if CGO_ENABLED=0 "$go" test -c -o "$T/$name" "$ip"; then
		if [[ -f "$T/$name" ]]; then
			printf '%s\t%s\t%s\n' "$name" "$ip" "$rel" >>"$T/vmtest-packages.txt"
			n=$((n + 1))
		fi
	else
		failed+=("$ip")
	fi
done <<<"$pkgs"
vm_log "built $n test binaries into ${T#"$VM_REPO_ROOT"/}/"

rc=0
"$VM_DIR/run.sh" --bin "$VM_BUILD/bin" --tests "$T" --out "$VM_BUILD/out" "$@" || rc=$?
for p in "${failed[@]}"; do
	echo "vmtest: BUILD FAILED: $p"
	if [[ $rc == 0 ]]; then rc=1; fi
done
exit "$rc"
