#!/bin/bash
# vm/golden-guest.sh - run by vm/golden.sh inside the IPVS VM: runs every
# scenario of testdata/scenarios (format: testdata/scenarios/README.md) with
# the reference ipvsadm 1.31. For scenario NAME and its step N it leaves in
# /out/golden/NAME/ the step's line (N.line), argv (N.argv, NUL-terminated
# elements), stdin (N.in), both (N.input), stdout (N.out), stderr (N.err)
# and exit status (N.rc), and the number of steps (steps);
# /out/golden/.kernel is uname -r, and /out/golden/.complete is written
# last. vm/golden.sh turns that into the goldens, on the host, where forks
# are cheap.
#
# Before each scenario the kernel is brought back to the scenarios' starting
# world: table flushed, both sync daemons stopped, timeouts 900 120 300; the
# reset is checked, so a scenario cannot leak into the next.
set -euo pipefail
export LC_ALL=C
ulimit -c 0

cd /src
scenarios=testdata/scenarios
out=/out/golden
mkdir -p "$out"

die() { printf 'golden: %s\n' "$*" >&2; exit 1; }

# The world of the scenarios: their /etc/hosts and /etc/services, and eth0
# and eth1 (ipvsadm's default sync interface; the in-memory kernel has both).
cp testdata/etc/hosts /etc/hosts
cp testdata/etc/services /etc/services
for dev in eth0 eth1; do
	ip link add "$dev" type dummy
	ip link set "$dev" up
done

# The reference comes first on PATH, so that argv[0] is the bare command
# name, as the scenarios' argv[0] is. Its wrappers call /opt/ref/sbin/ipvsadm.
export PATH=/opt/ref/sbin:/usr/sbin:/usr/bin:/sbin:/bin
[[ "$(command -v ipvsadm)" == /opt/ref/sbin/ipvsadm ]] || die "reference ipvsadm not found"

# reset_kernel: one ipvsadm -R (each ipvsadm costs tens of milliseconds
# under qemu's emulation) that flushes, stops both daemons (-R goes on past
# "No daemon is running"), sets the timeouts and then lists what must be
# empty or default.
reset_lines=$'-C\n--stop-daemon master\n--stop-daemon backup\n--set 900 120 300\n-S -n\n-L --daemon\n-L --timeout\n'
reset_kernel() {
	local got
	got="$(ipvsadm -R <<<"$reset_lines" 2>/dev/null)" || die "reset: ipvsadm -R failed"
	[[ "$got" == "Timeout (tcp tcpfin udp): 900 120 300" ]] || die "reset: the kernel is not back to its start: $got"
}

# split_words LINE: sets WORDS to LINE's words: separated by spaces,
# '...' taken literally.
split_words() {
	local s="$1" c word="" inword=0 quoted=0 i
	WORDS=()
	for ((i = 0; i < ${#s}; i++)); do
		c="${s:i:1}"
		if ((quoted)); then
			if [[ "$c" == "'" ]]; then quoted=0; else word+="$c"; fi
		elif [[ "$c" == "'" ]]; then
			quoted=1
			inword=1
		elif [[ "$c" == " " ]]; then
			if ((inword)); then WORDS+=("$word"); fi
			word=""
			inword=0
		else
			word+="$c"
			inword=1
		fi
	done
	((quoted == 0)) || return 1
	if ((inword)); then WORDS+=("$word"); fi
	return 0
}

# raw_bytes TEXT: writes TEXT with the <<EOF-RAW escapes replaced; fails on
# any other backslash.
raw_bytes() {
	local rest="$1"
	rest="${rest//\\\\/}"
	rest="${rest//\\n/}"
	rest="${rest//\\r/}"
	rest="${rest//\\t/}"
	while [[ "$rest" =~ \\x[0-9A-Fa-f][0-9A-Fa-f] ]]; do
		rest="${rest/"${BASH_REMATCH[0]}"/}"
	done
	[[ "$rest" != *\\* ]] || return 1
	printf '%b' "$1"
}

heredoc_re='^(.*) <<EOF(-RAW)?$'

# parse FILE DIR: writes step N of FILE as DIR/N.line (the line), DIR/N.argv
# (argv, each element followed by NUL), DIR/N.in (stdin) and DIR/N.input
# (both: what the golden's input checksum covers); sets NSTEPS and
# KERNEL_ONLY. Fails on anything internal/testenv/scenario.go would refuse.
# Only builtins: under qemu's emulation every fork costs milliseconds.
parse() {
	local file="$1" dir="$2" line n=0 heredoc="" lineno=0 first=1
	NSTEPS=0
	KERNEL_ONLY=""
	while IFS= read -r line || [[ -n "$line" ]]; do
		lineno=$((lineno + 1))
		[[ "$line" != *$'\r'* ]] || die "$file:$lineno: CR in a scenario file (use <<EOF-RAW and \\r)"
		if [[ -n "$heredoc" ]]; then
			if [[ "$line" == EOF ]]; then
				heredoc=""
			elif [[ "$heredoc" == RAW ]]; then
				raw_bytes "$line" >>"$dir/$n.in" || die "$file:$lineno: bad escape (only \\n \\r \\t \\\\ \\xHH)"
				raw_bytes "$line" >>"$dir/$n.input"
			else
				printf '%s\n' "$line" >>"$dir/$n.in"
				printf '%s\n' "$line" >>"$dir/$n.input"
			fi
			continue
		fi
		if ((first)); then
			[[ "$line" == "# "?* ]] || die "$file:1: the first line must be '# ' and what the scenario proves"
			first=0
			continue
		fi
		case "$line" in
		"") ;;
		"#! kernel-only "?*) KERNEL_ONLY="${line#"#! kernel-only "}" ;;
		"#! differs "?*) ;;
		"#!"*) die "$file:$lineno: unknown directive: $line" ;;
		"#"*) ;;
		"\$ "*)
			n=$((n + 1))
			local cmd="${line#"\$ "}"
			printf '%s\n' "$line" >"$dir/$n.line"
			: >"$dir/$n.in"
			if [[ "$cmd" =~ $heredoc_re ]]; then
				cmd="${BASH_REMATCH[1]}"
				heredoc="${BASH_REMATCH[2]:-LF}"
				heredoc="${heredoc#-}"
			fi
			split_words "$cmd" || die "$file:$lineno: unterminated quote"
			((${#WORDS[@]} > 0)) || die "$file:$lineno: empty step"
			case "${WORDS[0]}" in
			ipvsadm | ipvsadm-save | ipvsadm-restore) ;;
			*) die "$file:$lineno: a step runs ipvsadm, ipvsadm-save or ipvsadm-restore, not ${WORDS[0]}" ;;
			esac
			printf '%s\0' "${WORDS[@]}" >"$dir/$n.argv"
			printf '%s\0' "${WORDS[@]}" >"$dir/$n.input"
			;;
		*) die "$file:$lineno: neither a comment nor a step: $line" ;;
		esac
	done <"$file"
	[[ -z "$heredoc" ]] || die "$file: missing EOF"
	((first == 0)) || die "$file: empty"
	((n > 0)) || die "$file: no steps"
	NSTEPS=$n
}

kver="$(uname -r)"
printf '%s\n' "$kver" >"$out/.kernel"
nscen=0
nsteps=0
nkonly=0
for file in "$scenarios"/*.scn; do
	name="${file##*/}"
	dir="$out/${name%.scn}"
	mkdir -p "$dir"
	parse "$file" "$dir"
	reset_kernel
	for ((i = 1; i <= NSTEPS; i++)); do
		mapfile -d '' -t argv <"$dir/$i.argv"
		rc=0
		"${argv[@]}" <"$dir/$i.in" >"$dir/$i.out" 2>"$dir/$i.err" || rc=$?
		printf '%d\n' "$rc" >"$dir/$i.rc"
	done
	printf '%d\n' "$NSTEPS" >"$dir/steps"
	nscen=$((nscen + 1))
	nsteps=$((nsteps + NSTEPS))
	[[ -z "$KERNEL_ONLY" ]] || nkonly=$((nkonly + 1))
done
reset_kernel
printf '%d scenarios, %d steps, %d kernel-only\n' "$nscen" "$nsteps" "$nkonly" >"$out/.complete"
printf 'golden: ran %d scenarios, %d steps (%d kernel-only) on Linux %s\n' "$nscen" "$nsteps" "$nkonly" "$kver"
