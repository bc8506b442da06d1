#!/bin/sh
# vm/guest-init.sh - installed as /init in the guest initramfs (busybox sh).
#
# Reads /vmtest/config (written by vm/run.sh), loads IPVS, runs the test
# binaries listed in /vmtest/tests.list one after another, then the optional
# /vmtest/script, writes a tar stream of /vmresult and /out to the virtio disk
# whose serial is "vmtest-out", and powers off. In shell mode it starts an
# interactive shell instead of the tests.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp /out /vmresult
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
exec </dev/console >/dev/console 2>&1
# SeaBIOS's last line may lose its newline when the kernel resets the UART.
echo

say() { echo "vmtest: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

MODE=run
TEST_ARGS=""
[ -f /vmtest/config ] && . /vmtest/config

hostname vmtest
ip link set lo up

# have_mod NAME: NAME is a loadable module of this kernel (not built in).
have_mod() { grep -qE "/$1\.ko(\.[a-z]+)?:" "/lib/modules/$(uname -r)/modules.dep"; }

# IPVS core, every scheduler, application helper and persistence engine.
# (ip_vs_twos only exists from Linux 6.2 on.)
mods="ip_vs"
for m in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos ftp pe_sip; do
	have_mod "ip_vs_$m" && mods="$mods ip_vs_$m"
done
# IPv6 is built into the Debian cloud kernel; load it only if it is a module.
have_mod ipv6 && mods="ipv6 $mods"
# Needed for the result disk.
mods="$mods virtio_pci virtio_blk"
modfail=0
for m in $mods; do
	if ! modprobe "$m"; then
		say "modprobe $m FAILED"
		modfail=1
	fi
done

# Wait for the result disk.
outdev=""
i=0
while [ $i -lt 100 ]; do
	for b in /sys/block/vd*; do
		[ -e "$b/serial" ] || continue
		if [ "$(cat "$b/serial")" = vmtest-out ]; then
			outdev="/dev/${b##*/}"
		fi
	done
	[ -n "$outdev" ] && [ -b "$outdev" ] && break
	outdev=""
	i=$((i + 1))
	sleep 0.1
done
[ -n "$outdev" ] || say "WARNING: result disk not found"

KVER="$(uname -r)"
{
	echo "kernel=$KVER"
	echo "kversion=$(cat /proc/version)"
	echo "modfail=$modfail"
	echo "boot_s=$(uptime_s)"
} >/vmresult/status

export IPVS_VM=1
export IPVSADM_REFERENCE=/opt/ref/sbin/ipvsadm
export IPVSADM_REFERENCE_DIR=/opt/ref/sbin
export VMTEST_OUT=/out

finish() {
	rc="$1"
	echo "exit=$rc" >>/vmresult/status
	dmesg >/vmresult/dmesg.log 2>/dev/null
	if [ -n "$outdev" ]; then
		cd / && tar -cf "$outdev" vmresult out && sync
		blockdev --flushbufs "$outdev" 2>/dev/null
	fi
	sync
	echo "@@VMTEST-EXIT@@ $rc"
	poweroff -f
	sleep 10
}

if [ "$MODE" = shell ]; then
	export PATH=/usr/local/sbin:/usr/local/bin:/opt/ref/sbin:/usr/sbin:/usr/bin:/sbin:/bin
	export TERM="${VM_TERM:-linux}"
	[ -n "${VM_ROWS:-}" ] && stty rows "$VM_ROWS" cols "$VM_COLS" 2>/dev/null
	cat <<EOF

==================================================================
 IPVS test VM: kernel $KVER ($(sed -n 's/.*Debian \([^ ]*\).*/Debian \1/p' /proc/version))
 Modules: $(lsmod | awk 'NR>1 && $1 ~ /^ip_vs/ {printf "%s ", $1}')
 Our binaries:  /usr/local/sbin (first on PATH)
 Reference:     /opt/ref/sbin/ipvsadm (ipvsadm 1.31, Debian), also
                /opt/ref/sbin/ipvsadm-save, /opt/ref/sbin/ipvsadm-restore
                (on PATH after ours; \$IPVSADM_REFERENCE)
 Files in /out are copied back to the host if run.sh got --out.
 Exit: 'poweroff -f' or 'exit' (both save /out), or Ctrl-a x (kills qemu).
==================================================================
EOF
	cd /root 2>/dev/null || cd /
	# /etc/profile turns poweroff/halt/reboot into "exit" for this shell so
	# that /out is written to the result disk before the VM stops.
	VMTEST_SHELL=1 setsid cttyhack /bin/bash -l
	finish 0
fi

# ---- batch mode: tests, then script ------------------------------------
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
rc=0
[ "$modfail" = 0 ] || rc=1
say "guest up at $(uptime_s)s, kernel $KVER"

# Watchdog: shortly before the host kills qemu (--timeout), SIGQUIT the running
# test binary (Go prints all goroutine stacks and exits), skip the rest and
# still write the results, so a hang is reported with its stack dump.
wdpid=""
if [ -n "${VM_TIMEOUT:-}" ] && [ "$VM_TIMEOUT" -gt 60 ]; then
	(
		up=$(cut -d. -f1 /proc/uptime)
		sleep $((VM_TIMEOUT - 25 - up))
		touch /run/vmtest.abort
		say "WATCHDOG: --timeout ${VM_TIMEOUT}s nearly used up; sending SIGQUIT to the running test"
		pid=$(cat /run/vmtest.pid 2>/dev/null)
		if [ -n "$pid" ]; then
			kill -QUIT "$pid" 2>/dev/null
			sleep 8
			kill -KILL "$pid" 2>/dev/null
		fi
	) &
	wdpid=$!
fi
# run_logged DIR CMD...: run CMD in DIR, remember its pid for the watchdog.
run_logged() {
	# A new sh (not a subshell): its $$ is the pid that exec hands to CMD.
	sh -c 'cd "$1" || exit 125; shift; echo $$ >/run/vmtest.pid; exec "$@" </dev/null' vmtest "$@"
}

nbin=0
if [ -s /vmtest/tests.list ]; then
	while read -r name dir; do
		[ -n "$name" ] || continue
		nbin=$((nbin + 1))
		if [ -e /run/vmtest.abort ]; then
			say "--- skipping $name: time budget exhausted"
			echo "bin $name skipped" >>/vmresult/status
			rc=1
			continue
		fi
		mkdir -p "/src/$dir"
		say "=== running $name in /src/$dir (t=$(uptime_s)s)"
		# pipefail keeps the binary's status rather than tee's.
		(
			set -o pipefail # busybox ash has it
			set -f          # $TEST_ARGS: split into words, no globbing
			# shellcheck disable=SC2086
			run_logged "/src/$dir" "/vmtest/tests/$name" -test.v -test.count=1 -test.timeout=20m $TEST_ARGS 2>&1 |
				tee -a /vmresult/tests.log
		)
		brc=$?
		rm -f /run/vmtest.pid
		echo "bin $name $brc" >>/vmresult/status
		if [ $brc -ne 0 ]; then
			rc=1
			say "--- binary $name exited with status $brc"
		fi
	done </vmtest/tests.list
fi
echo "binaries=$nbin" >>/vmresult/status

if [ -f /vmtest/script ]; then
	if [ -e /run/vmtest.abort ]; then
		say "--- skipping script: time budget exhausted"
		echo "script skipped" >>/vmresult/status
		rc=1
	else
		say "=== running script (t=$(uptime_s)s)"
		sdir=/src
		[ -d "$sdir" ] || sdir=/
		run_logged "$sdir" /bin/bash /vmtest/script
		src=$?
		rm -f /run/vmtest.pid
		echo "script $src" >>/vmresult/status
		if [ $src -ne 0 ]; then
			rc=1
			say "--- script exited with status $src"
		fi
	fi
fi
[ -n "$wdpid" ] && kill "$wdpid" 2>/dev/null
[ -e /run/vmtest.abort ] && echo "watchdog=1" >>/vmresult/status
say "done at $(uptime_s)s"
finish "$rc"
