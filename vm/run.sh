#!/usr/bin/env bash
# vm/run.sh - boot the IPVS test VM (qemu TCG, Debian cloud kernel, initramfs).
#
# Usage:
#   vm/run.sh [--bin DIR]... [--tests DIR] [--src DIR] [--out DIR]
#             [--shell] [--timeout SECONDS] [--test-args ARGS] [--] [SCRIPT]
#
#   --bin DIR       every executable file in DIR goes to the guest's
#                   /usr/local/sbin (first on PATH). Repeatable.
#   --tests DIR     Go test binaries (CGO_ENABLED=0 go test -c) named
#                   <import path with "/" replaced by "_">.test, e.g.
#                   github.com_lvsgo_ipvsadm_internal_ipvs.test. They run one
#                   after another as root with
#                     -test.v -test.count=1 -test.timeout=20m [ARGS]
#                   in /src/<package dir relative to the module root>.
#                   The package dir comes from DIR/vmtest-packages.txt
#                   (lines "<binary>\t<import path>\t<rel dir>", written by
#                   vm/vmtest.sh), else from `go list` in --src, else it is
#                   guessed from the module path in --src/go.mod.
#   --src DIR       module/repo root whose testdata/ directories are copied
#                   to the guest's /src/<same relative path> (default: the
#                   parent of vm/).
#   --out DIR       copy the guest's /out back into DIR after the run (files
#                   are added/overwritten; DIR is not emptied first).
#   --shell         interactive shell on the serial console instead of tests.
#   --timeout SEC   kill qemu after SEC seconds (default 1200; none for --shell).
#                   25 s before that a guest watchdog sends SIGQUIT to the
#                   running test binary (goroutine dump), skips the rest and
#                   still reports; the run then exits 3.
#   --test-args A   extra arguments for every test binary, e.g.
#                   --test-args '-test.run=TestFoo' (also: env VMTEST_ARGS).
#   SCRIPT          shell script run in the guest with bash after the tests,
#                   in /src, same environment as the tests.
#
# Reference tools in the guest (not on PATH): /opt/ref/sbin/ipvsadm (Debian
# ipvsadm 1:1.31-1+b1), /opt/ref/sbin/ipvsadm-save and ipvsadm-restore (Debian's
# wrappers, PATH patched to use /opt/ref/sbin/ipvsadm); the unmodified wrappers
# are in /opt/ref/debian/ (they run the first `ipvsadm` on their own fixed PATH,
# i.e. ours from /usr/local/sbin). Also: bash, busybox, iproute2 `ip` (netns
# works), modules ip_vs + all schedulers + ip_vs_ftp + ip_vs_pe_sip loaded;
# ipip, gre, fou, fou6, ip6_tunnel, veth, dummy available via modprobe.
#
# Guest environment for tests and SCRIPT:
#   IPVS_VM=1  IPVSADM_REFERENCE=/opt/ref/sbin/ipvsadm
#   IPVSADM_REFERENCE_DIR=/opt/ref/sbin  VMTEST_OUT=/out  HOME=/root
#   PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
#
# Output: the serial console is streamed to stdout and saved (CRs stripped)
# to build/vm/last-run.log; the exact test output (from the result disk) to
# build/vm/last-test-output.log; the guest's dmesg to build/vm/last-dmesg.log.
# When test binaries were given, the output ends with
#   vmtest: N passed, M failed, K skipped
#   vmtest: kernel <uname -r>, X test binaries
# (counts of "--- PASS:", "--- FAIL:", "--- SKIP:" lines, subtests included).
#
# Exit status: 0 all test binaries and SCRIPT succeeded; 1 a test binary or
# the script failed, or a module failed to load, or the kernel oopsed;
# 2 usage error; 3 the guest crashed, timed out or left no status.
#
# Environment: VM_CACHE, VM_BUILD (see vm/lib.sh), VM_MEM (MiB, default 512),
# VM_KEEP=1 keeps the per-run directory build/vm/run.*, VM_OUT_DISK_SIZE
# (default 2G, sparse), VM_APPEND (extra kernel command line).
set -euo pipefail
# shellcheck source=vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

bins=()
tests=""
src="$VM_REPO_ROOT"
out=""
shell=0
timeout=""
test_args="${VMTEST_ARGS:-}"
script=""
need() { [[ $# -ge 2 && -n "$2" ]] || { echo "vm/run.sh: $1 needs an argument" >&2; exit 2; }; }
while (($#)); do
	case "$1" in
	--bin) need "$@"; bins+=("$2"); shift 2 ;;
	--bin=*) bins+=("${1#*=}"); shift ;;
	--tests) need "$@"; tests="$2"; shift 2 ;;
	--tests=*) tests="${1#*=}"; shift ;;
	--src) need "$@"; src="$2"; shift 2 ;;
	--src=*) src="${1#*=}"; shift ;;
	--out) need "$@"; out="$2"; shift 2 ;;
	--out=*) out="${1#*=}"; shift ;;
	--timeout) need "$@"; timeout="$2"; shift 2 ;;
	--timeout=*) timeout="${1#*=}"; shift ;;
	--test-args) need "$@"; test_args="$2"; shift 2 ;;
	--test-args=*) test_args="${1#*=}"; shift ;;
	--shell) shell=1; shift ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	-*) echo "vm/run.sh: unknown option $1" >&2; usage 2 ;;
	*) break ;;
	esac
done
if (($# > 1)); then
	echo "vm/run.sh: at most one SCRIPT argument" >&2
	exit 2
fi
script="${1:-}"
[[ -z "$script" || -f "$script" ]] || { echo "vm/run.sh: no such script: $script" >&2; exit 2; }
[[ -z "$tests" || -d "$tests" ]] || { echo "vm/run.sh: no such directory: $tests" >&2; exit 2; }
for b in "${bins[@]}"; do
	[[ -d "$b" ]] || { echo "vm/run.sh: no such directory: $b" >&2; exit 2; }
done
[[ -d "$src" ]] || { echo "vm/run.sh: no such directory: $src" >&2; exit 2; }
src="$(cd "$src" && pwd)"
if [[ -z "$timeout" && $shell == 0 ]]; then timeout=1200; fi
[[ -z "$timeout" || "$timeout" =~ ^[0-9]+$ ]] || { echo "vm/run.sh: bad --timeout" >&2; exit 2; }

t_start=$(date +%s.%N)
mkdir -p "$VM_BUILD" "$VM_CACHE"
run="$(mktemp -d "$VM_BUILD/run.XXXXXX")"
cleanup() {
	if [[ "${VM_KEEP:-0}" != 1 ]]; then rm -rf "$run"; fi
}
trap cleanup EXIT
initrd="$run/initrd.cpio"

# Concurrent runs share the cache: fetch/build it under a lock, then take a
# private copy of the base initramfs.
exec 9>"$VM_CACHE/.lock"
flock 9
"$VM_DIR/fetch.sh"
base="$("$VM_DIR/initramfs.sh")"
cp "$base" "$initrd"
kver="$(vm_kver)"
kernel="$run/vmlinuz"
cp "$VM_CACHE/kernel/root/boot/vmlinuz-$kver" "$kernel"
flock -u 9
exec 9>&-

# ---- per-run overlay cpio ---------------------------------------------------
O="$run/overlay"
mkdir -p "$O/vmtest/tests" "$O/usr/local/sbin" "$O/src"

sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
	echo "MODE=$([[ $shell == 1 ]] && echo shell || echo run)"
	echo "TEST_ARGS=$(sq "$test_args")"
	[[ $shell == 1 ]] || echo "VM_TIMEOUT=$timeout"
	if [[ $shell == 1 ]]; then
		echo "VM_TERM=$(sq "${TERM:-linux}")"
		if [[ -t 0 ]] && sz="$(stty size 2>/dev/null)"; then
			echo "VM_ROWS=${sz% *}"
			echo "VM_COLS=${sz#* }"
		fi
	fi
} >"$O/vmtest/config"

nbins=0
for d in "${bins[@]}"; do
	for f in "$d"/*; do
		[[ -f "$f" && -x "$f" ]] || continue
		cp -L "$f" "$O/usr/local/sbin/"
		nbins=$((nbins + 1))
	done
done

# testdata directories of the source tree, at the same relative path.
while IFS= read -r -d '' td; do
	rel="${td#"$src"/}"
	mkdir -p "$O/src/$(dirname "$rel")"
	cp -a "$td" "$O/src/$rel"
done < <(find "$src" \( -path "$src/.git" -o -path "$src/.cache" -o -path "$src/build" \
	-o -path "$src/vendor" -o -name node_modules \) -prune -o -type d -name testdata -print0 -prune)

# Map test binaries to package directories.
declare -A pkgdir=()
golist_done=0
golist() {
	golist_done=1
	local go ip dir
	go="$(vm_go 2>/dev/null)" || return 0
	while IFS='|' read -r ip dir; do
		[[ -n "$ip" && -n "$dir" ]] || continue
		if [[ "$dir" == "$src" ]]; then dir=.; else dir="${dir#"$src"/}"; fi
		pkgdir["${ip//\//_}.test"]="$dir"
	done < <(cd "$src" && "$go" list -e -f '{{.ImportPath}}|{{.Dir}}' ./... 2>/dev/null || true)
}
ntests=0
if [[ -n "$tests" ]]; then
	manifest="$tests/vmtest-packages.txt"
	if [[ -f "$manifest" ]]; then
		while IFS=$'\t' read -r name _ dir; do
			[[ -n "$name" && -n "$dir" ]] && pkgdir["$name"]="$dir"
		done <"$manifest"
	fi
	modpath="$(sed -n 's/^module[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$src/go.mod" 2>/dev/null | head -n1)"
	modpath="${modpath//\"/}"
	for f in "$tests"/*.test; do
		[[ -f "$f" && -x "$f" ]] || continue
		name="$(basename "$f")"
		if [[ -z "${pkgdir[$name]:-}" && $golist_done == 0 ]]; then golist; fi
		dir="${pkgdir[$name]:-}"
		if [[ -z "$dir" && -n "$modpath" ]]; then
			mp="${modpath//\//_}"
			if [[ "$name" == "$mp.test" ]]; then
				dir=.
			elif [[ "$name" == "${mp}_"* ]]; then
				g="${name#"${mp}"_}"
				g="${g%.test}"
				[[ -d "$src/${g//_//}" ]] && dir="${g//_//}"
			fi
		fi
		if [[ -z "$dir" ]]; then
			vm_log "warning: no package directory known for $name; running it in /src"
			dir=.
		fi
		cp -L "$f" "$O/vmtest/tests/$name"
		printf '%s %s\n' "$name" "$dir" >>"$O/vmtest/tests.list"
		mkdir -p "$O/src/$dir"
		ntests=$((ntests + 1))
	done
fi
if [[ -n "$script" ]]; then
	install -m 0755 "$script" "$O/vmtest/script"
fi

(cd "$O" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >>"$initrd"

disk="$run/out.img"
truncate -s "${VM_OUT_DISK_SIZE:-2G}" "$disk"

qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "${VM_MEM:-512}" -smp 2
	-nographic -no-reboot -nic none
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 quiet panic=-1 random.trust_cpu=on ${VM_APPEND:-}"
	-drive "file=$disk,if=none,id=vmout,format=raw"
	-device "virtio-blk-pci,drive=vmout,serial=vmtest-out")

t_prep=$(date +%s.%N)
vm_log "booting $kver ($ntests test binaries, $nbins binaries$([[ -n "$script" ]] && echo ", script $(basename "$script")"))"

console="$run/console.log"
qrc=0
if [[ $shell == 1 ]]; then
	qemu+=(-serial mon:stdio)
	if [[ -n "$timeout" ]]; then
		timeout --foreground -k 5 "$timeout" "${qemu[@]}" || qrc=$?
	else
		"${qemu[@]}" || qrc=$?
	fi
else
	# stdin from /dev/null: qemu leaves the terminal alone; Ctrl-C kills it.
	set +e
	timeout --foreground -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1 |
		sed -u -e 's/\r$//' -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tee "$console"
	qrc=${PIPESTATUS[0]}
	set -e
fi
t_end=$(date +%s.%N)

# ---- collect results ----------------------------------------------------------
res="$run/result"
mkdir -p "$res"
status=""
if tar -xf "$disk" -C "$res" 2>"$run/tar.err" && [[ -f "$res/vmresult/status" ]]; then
	status="$res/vmresult/status"
fi
if [[ -n "$out" && -d "$res/out" ]]; then
	mkdir -p "$out"
	cp -a "$res/out/." "$out/"
fi

rc=0
infra=""
if [[ $qrc == 124 || $qrc == 137 ]]; then
	infra="guest timed out after ${timeout}s (qemu killed)"
elif [[ $qrc != 0 ]]; then
	infra="qemu exited with status $qrc"
elif [[ -z "$status" ]]; then
	infra="guest left no status on the result disk (crash or panic?)"
elif ! grep -q '^exit=' "$status"; then
	infra="guest status incomplete"
fi

[[ -f "$console" ]] && cp "$console" "$VM_BUILD/last-run.log"
rm -f "$VM_BUILD/last-dmesg.log"
[[ -f "$res/vmresult/dmesg.log" ]] && cp "$res/vmresult/dmesg.log" "$VM_BUILD/last-dmesg.log"
if [[ -n "$status" && -f "$res/vmresult/tests.log" ]]; then
	cp "$res/vmresult/tests.log" "$VM_BUILD/last-test-output.log"
else
	: >"$VM_BUILD/last-test-output.log"
fi

summary() { printf '%s\n' "$*"; [[ -f "$console" ]] && printf '%s\n' "$*" >>"$VM_BUILD/last-run.log"; return 0; }

if [[ $shell == 0 ]]; then
	klogs=()
	for f in "$console" "$res/vmresult/dmesg.log"; do [[ -f "$f" ]] && klogs+=("$f"); done
	if ((${#klogs[@]})) && grep -qE 'Kernel panic|BUG: |Oops: |general protection fault' "${klogs[@]}"; then
		summary "vmtest: KERNEL CRASH/OOPS in the guest (see build/vm/last-run.log, last-dmesg.log)"
		rc=1
	elif ((${#klogs[@]})) && grep -qE 'WARNING: CPU: |Call Trace:' "${klogs[@]}"; then
		summary "vmtest: note: kernel printed a warning/call trace (see build/vm/last-dmesg.log)"
	fi
	if [[ -n "$status" ]]; then
		if grep -q '^modfail=1' "$status"; then
			summary "vmtest: FAIL: a kernel module failed to load"
			rc=1
		fi
		while read -r _ name brc; do
			if [[ "$brc" == skipped ]]; then
				summary "vmtest: FAIL: $name not run (time budget exhausted)"
				rc=1
			elif [[ "$brc" != 0 ]]; then
				summary "vmtest: FAIL: $name exited with status $brc"
				rc=1
			fi
		done < <(grep '^bin ' "$status" || true)
		if grep -q '^script ' "$status"; then
			src_rc="$(sed -n 's/^script //p' "$status")"
			if [[ "$src_rc" == skipped ]]; then
				summary "vmtest: FAIL: script not run (time budget exhausted)"
				rc=1
			elif [[ "$src_rc" != 0 ]]; then
				summary "vmtest: FAIL: script exited with status $src_rc"
				rc=1
			fi
		elif [[ -n "$script" && -z "$infra" ]]; then
			infra="script status missing"
		fi
		guest_exit="$(sed -n 's/^exit=//p' "$status")"
		[[ -z "$guest_exit" || "$guest_exit" == 0 ]] || rc=1
		if grep -q '^watchdog=1' "$status" && [[ -z "$infra" ]]; then
			infra="--timeout ${timeout}s used up: the guest watchdog sent SIGQUIT to the running test (goroutine dump above)"
		fi
		ran="$(sed -n 's/^binaries=//p' "$status")"
		if [[ -n "$tests" && "${ran:-0}" != "$ntests" && -z "$infra" ]]; then
			infra="only ${ran:-0} of $ntests test binaries ran"
		fi
	fi
	if [[ -n "$tests" ]]; then
		tlog="$VM_BUILD/last-test-output.log"
		if [[ ! -s "$tlog" && -f "$console" ]]; then tlog="$console"; fi
		np=$(grep -cE '^[[:space:]]*--- PASS:' "$tlog" || true)
		nf=$(grep -cE '^[[:space:]]*--- FAIL:' "$tlog" || true)
		ns=$(grep -cE '^[[:space:]]*--- SKIP:' "$tlog" || true)
		gk="$kver"
		[[ -n "$status" ]] && gk="$(sed -n 's/^kernel=//p' "$status")"
		[[ -n "$infra" ]] && summary "vmtest: ERROR: $infra"
		summary "vmtest: $np passed, $nf failed, $ns skipped"
		summary "vmtest: kernel $gk, $ntests test binaries"
	elif [[ -n "$infra" ]]; then
		summary "vmtest: ERROR: $infra"
	fi
	vm_log "timing: prepare $(awk -v a="$t_start" -v b="$t_prep" 'BEGIN{printf "%.1f", b-a}')s, vm $(awk -v a="$t_prep" -v b="$t_end" 'BEGIN{printf "%.1f", b-a}')s$([[ -n "$status" ]] && printf ', guest boot %ss' "$(sed -n 's/^boot_s=//p' "$status")")"
else
	[[ -n "$infra" && $qrc != 0 ]] && vm_log "$infra"
fi

if [[ -n "$infra" ]]; then
	[[ $shell == 1 ]] && exit 0
	exit 3
fi
exit "$rc"
