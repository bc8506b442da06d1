#!/usr/bin/env bash
# scripts/fuzz.sh - run every fuzz target of the module for FUZZTIME each
# (`make fuzz`, `make fuzz-short`).
#
# Usage: scripts/fuzz.sh
#
# The targets are what `go test -list '^Fuzz' ./...` finds, so a target
# added to any package is fuzzed without a change here. go test fuzzes one
# target per run: each gets
#   go test -run='^$' -fuzz='^NAME$' -fuzztime=$FUZZTIME $FUZZFLAGS PACKAGE
# and its line "fuzz: PACKAGE NAME: N executions" (N from the last
# "fuzz: elapsed: ..., execs: N" line go test prints); then
#   fuzz: T targets, N executions, F failures
# A failing target's output is printed whole: it names the input go test
# wrote under the package's testdata/fuzz/, to be fixed and committed as a
# regression input. Exit status 1 if a target failed, or none was found.
#
# Environment: FUZZTIME (default 60s), FUZZFLAGS (more go test flags, e.g.
# -parallel=1 on a busy host), GO.
set -euo pipefail

go="${GO:-go}"
fuzztime="${FUZZTIME:-60s}"
read -r -a flags <<<"${FUZZFLAGS:-}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
module="$("$go" list -m)"

if ! list="$("$go" test -list '^Fuzz' ./... 2>&1)"; then
	printf '%s\n' "$list"
	echo "fuzz: listing the fuzz targets failed" >&2
	exit 1
fi
# -list prints a package's matching names, then its "ok" line.
targets=() names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg="$(cut -f2 <<<"$line")"
		for name in ${names[@]+"${names[@]}"}; do
			targets+=("./${pkg#"$module"/} $name")
		done
		names=()
		;;
	esac
done <<<"$list"
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
total=0 failed=0
for target in "${targets[@]}"; do
	pkg="${target% *}" name="${target#* }"
	status=0
	"$go" test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" ${flags[@]+"${flags[@]}"} "$pkg" >"$out" 2>&1 || status=$?
	execs="$(sed -n 's/^fuzz: elapsed: .*, execs: \([0-9]*\) .*/\1/p' "$out" | tail -n 1)"
	total=$((total + ${execs:-0}))
	if [ "$status" -ne 0 ]; then
		failed=$((failed + 1))
		cat "$out"
		echo "fuzz: $pkg $name: FAILED after ${execs:-0} executions"
		continue
	fi
	echo "fuzz: $pkg $name: ${execs:-0} executions"
done
echo "fuzz: ${#targets[@]} targets, $total executions, $failed failures"
[ "$failed" -eq 0 ]
