#!/usr/bin/env bash
# vm/initramfs.sh - build (or reuse) the cached base initramfs for the test VM.
#
# Usage: vm/initramfs.sh [--force]
#
# Prints the path of the base cpio archive ($VM_CACHE/initramfs/base.cpio) on
# stdout. It is rebuilt only when one of its inputs changes (the vm/ scripts,
# the unpacked kernel/reference packages, the host's busybox/bash/ip).
# vm/run.sh appends a small per-run cpio (test binaries, our binaries, config)
# to it; the kernel unpacks concatenated cpio archives in order.
#
# Contents of the base image:
#   /init                       vm/guest-init.sh
#   /usr/bin/busybox + applets  (host busybox-static; /bin,/sbin,/lib,/lib64
#                               are symlinks into /usr)
#   /usr/bin/bash               host bash + libs
#   /usr/sbin/ip                host iproute2 ip + libs (busybox ip has no netns)
#   /lib/modules/<kver>         IPVS modules and their dependencies, tunnels
#                               (ipip, gre, fou, fou6, ip6_tunnel), veth, dummy,
#                               virtio_pci/virtio_blk (result disk); depmod'd
#   /opt/ref/sbin/ipvsadm       Debian ipvsadm 1.31 + libpopt/libnl
#   /opt/ref/sbin/ipvsadm-save, ipvsadm-restore
#                               Debian's wrappers, PATH patched so that they run
#                               /opt/ref/sbin/ipvsadm
#   /opt/ref/debian/ipvsadm-save, ipvsadm-restore
#                               the unmodified wrappers (they run the first
#                               `ipvsadm` found on their fixed PATH, i.e. ours
#                               in /usr/local/sbin)
#   /etc/{services,protocols,hosts,nsswitch.conf,passwd,group,...}
set -euo pipefail
# shellcheck source=vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0
[[ "${1:-}" == --force ]] && force=1

kver="$(vm_kver)"
kroot="$VM_CACHE/kernel/root"
rroot="$VM_CACHE/ref/root"
[[ -f "$VM_CACHE/ref/.done" ]] || vm_die "reference not fetched yet; run vm/fetch.sh"
busybox="$(vm_busybox)" || vm_die "static busybox not found"
bash_bin="$(readlink -f "$(command -v bash)")"
ip_bin="$(readlink -f "$(command -v ip)")" || vm_die "iproute2 ip not found"

# Extra modules beyond net/netfilter/ipvs/* (dependencies are added from
# modules.dep automatically).
extra_mods=(ipip ip_gre gre fou fou6 ip6_tunnel tunnel4 tunnel6 ip_tunnel
	udp_tunnel ip6_udp_tunnel veth dummy virtio_pci virtio_blk ipv6
	nf_conntrack_ftp nf_conntrack_sip)

outdir="$VM_CACHE/initramfs"
out="$outdir/base.cpio"
key="$(
	{
		cat "$VM_DIR/lib.sh" "$VM_DIR/initramfs.sh" "$VM_DIR/guest-init.sh"
		cat "$VM_CACHE/kernel/.done" "$VM_CACHE/ref/.done"
		for f in "$busybox" "$bash_bin" "$ip_bin"; do
			stat -c '%n %s %Y' "$f"
		done
	} | vm_sha256
)"
if [[ $force == 0 && -f "$out" && -f "$outdir/base.key" && "$(cat "$outdir/base.key")" == "$key" ]]; then
	printf '%s\n' "$out"
	exit 0
fi

vm_log "building base initramfs for $kver"
mkdir -p "$outdir"
stage="$(mktemp -d "$outdir/stage.XXXXXX")"
trap 'rm -rf "$stage" "$out.tmp.$$"' EXIT
S="$stage"

# --- skeleton (usr-merged) --------------------------------------------------
mkdir -p "$S"/usr/{bin,sbin,lib,lib64} "$S"/usr/local/{bin,sbin} \
	"$S"/{proc,sys,dev,tmp,run,root,etc,out,vmresult,src,mnt,var} \
	"$S"/opt/ref/{sbin,debian} "$S"/vmtest/tests
chmod 1777 "$S/tmp"
chmod 0700 "$S/root"
ln -s usr/bin "$S/bin"
ln -s usr/sbin "$S/sbin"
ln -s usr/lib "$S/lib"
ln -s usr/lib64 "$S/lib64"
ln -s ../run "$S/var/run"
ln -s ../tmp "$S/var/tmp"
if [[ $(id -u) == 0 ]]; then
	mknod -m 600 "$S/dev/console" c 5 1
	mknod -m 666 "$S/dev/null" c 1 3
fi

# --- busybox ------------------------------------------------------------------
install -m 0755 "$busybox" "$S/usr/bin/busybox"
while IFS= read -r applet; do
	case "$applet" in
	bin/*) d=usr/bin ;;
	sbin/*) d=usr/sbin ;;
	usr/bin/*) d=usr/bin ;;
	usr/sbin/*) d=usr/sbin ;;
	*) continue ;;
	esac
	name="${applet##*/}"
	[[ "$name" == busybox || "$name" == linuxrc || "$name" == init ]] && continue
	[[ -e "$S/$d/$name" || -e "$S/usr/bin/$name" || -e "$S/usr/sbin/$name" ]] && continue
	ln -s /usr/bin/busybox "$S/$d/$name"
done < <("$busybox" --list-full)

# --- bash and iproute2 ip (dynamically linked, host copies) -----------------------
vm_copy_with_libs "$bash_bin" "$S" /usr/bin/bash
rm -f "$S/usr/sbin/ip" "$S/usr/bin/ip"
vm_copy_with_libs "$ip_bin" "$S" /usr/sbin/ip
for d in /usr/share/iproute2 /etc/iproute2 /usr/lib/iproute2; do
	[[ -d "$d" ]] && mkdir -p "$S$d" && cp -a "$d/." "$S$d/"
done

# --- reference ipvsadm ------------------------------------------------------------
vm_copy_with_libs "$rroot/sbin/ipvsadm" "$S" /opt/ref/sbin/ipvsadm "$rroot"
for w in ipvsadm-save ipvsadm-restore; do
	install -m 0755 "$rroot/sbin/$w" "$S/opt/ref/debian/$w"
	sed 's|^PATH=|PATH=/opt/ref/sbin:|' "$rroot/sbin/$w" >"$S/opt/ref/sbin/$w"
	chmod 0755 "$S/opt/ref/sbin/$w"
	grep -q '^PATH=/opt/ref/sbin:' "$S/opt/ref/sbin/$w" || vm_die "could not patch PATH in $w"
done
[[ -d "$rroot/etc/libnl-3" ]] && cp -a "$rroot/etc/libnl-3" "$S/etc/"
cat "$VM_CACHE/ref/ipvsadm-version" >"$S/opt/ref/VERSION"

# --- kernel modules ----------------------------------------------------------------
mdir="lib/modules/$kver"
mods_wanted="$(
	{
		(cd "$kroot/$mdir" && find kernel/net/netfilter/ipvs -name '*.ko*')
		for m in "${extra_mods[@]}"; do
			grep -E "^kernel/[^:]*/${m}\.ko(\.[a-z]+)?:" "$kroot/$mdir/modules.dep" | cut -d: -f1 || true
		done
	} | sort -u
)"
mods_all="$(
	for m in $mods_wanted; do
		printf '%s\n' "$m"
		grep -E "^${m}:" "$kroot/$mdir/modules.dep" | cut -d: -f2 | tr ' ' '\n'
	done | sed '/^$/d' | sort -u
)"
for m in $mods_all; do
	install -D -m 0644 "$kroot/$mdir/$m" "$S/usr/$mdir/$m"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[[ -f "$kroot/$mdir/$f" ]] && cp "$kroot/$mdir/$f" "$S/usr/$mdir/"
done
depmod -b "$S/usr" "$kver"
printf '%s\n' "$mods_all" >"$outdir/modules.txt"

# --- /etc ------------------------------------------------------------------------
cp /etc/services "$S/etc/services"
cp /etc/protocols "$S/etc/protocols"
cat >"$S/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
EOF
cat >"$S/etc/nsswitch.conf" <<'EOF'
passwd:    files
group:     files
shadow:    files
hosts:     files
networks:  files
protocols: files
services:  files
EOF
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$S/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$S/etc/group"
printf 'vmtest\n' >"$S/etc/hostname"
: >"$S/etc/resolv.conf"
cat >"$S/etc/profile" <<'EOF'
export PS1='vm:\w# '
alias ll='ls -la'
if [ "${VMTEST_SHELL:-}" = 1 ] && [ -n "${BASH_VERSION:-}" ]; then
	# Leave through /init so that /out reaches the host first.
	poweroff() { exit 0; }
	halt() { exit 0; }
	reboot() { exit 0; }
fi
EOF
cp "$S/etc/profile" "$S/root/.bashrc"
# Terminal descriptions for the interactive shell (bash/readline).
for t in l/linux v/vt100 v/vt102 v/vt220 x/xterm x/xterm-256color x/xterm-color s/screen s/screen-256color t/tmux t/tmux-256color d/dumb; do
	for base in /usr/share/terminfo /lib/terminfo /usr/lib/terminfo; do
		if [[ -f "$base/$t" ]]; then
			install -D -m 0644 "$(readlink -f "$base/$t")" "$S/usr/share/terminfo/$t"
			break
		fi
	done
done

# --- init ----------------------------------------------------------------------------
install -m 0755 "$VM_DIR/guest-init.sh" "$S/init"

# --- archive ------------------------------------------------------------------------
(cd "$S" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
printf '%s\n' "$key" >"$outdir/base.key"
vm_log "base initramfs: $out ($(du -h "$out" | cut -f1), $(wc -l <"$outdir/modules.txt") modules)"
printf '%s\n' "$out"
