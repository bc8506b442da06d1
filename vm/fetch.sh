#!/usr/bin/env bash
# vm/fetch.sh - install host tools and download/unpack the guest's Debian parts.
#
# Usage: vm/fetch.sh
#
# Idempotent and offline once cached: a second run returns at once.
#   1. host tools (apt-get install, only if missing): qemu-system-x86,
#      busybox-static, kmod, cpio, iproute2
#   2. apt-get download (never install) into $VM_CACHE/debs:
#      the kernel behind linux-image-cloud-amd64 (or $VM_KERNEL_PKG),
#      ipvsadm (reference 1.31) and the libraries it links against.
#   3. dpkg-deb -x into $VM_CACHE/kernel (then depmod) and $VM_CACHE/ref.
#
# Environment: VM_CACHE (default <repo>/.cache/vm), VM_KERNEL_PKG.
set -euo pipefail
# shellcheck source=vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_updated=0
apt_update_once() {
	if [[ $apt_updated == 0 ]]; then
		vm_log "apt-get update"
		apt-get update -qq >&2
		apt_updated=1
	fi
}

as_root() {
	if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi
}

# --- 1. host tools ---------------------------------------------------------
missing=()
for spec in "${VM_HOST_TOOLS[@]}"; do
	pkg="${spec%%:*}" cmd="${spec#*:}"
	if [[ -n "$cmd" ]] && command -v "$cmd" >/dev/null 2>&1; then
		continue
	fi
	if [[ "$pkg" == busybox-static ]] && vm_busybox >/dev/null; then
		continue
	fi
	if dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
		continue
	fi
	missing+=("$pkg")
done
if ((${#missing[@]})); then
	vm_log "installing host tools: ${missing[*]}"
	apt_update_once
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
fi
vm_busybox >/dev/null || vm_die "no static busybox found (need busybox-static)"

# --- 2. downloads ----------------------------------------------------------
debs="$VM_CACHE/debs"
mkdir -p "$debs"
# apt's sandbox user must be able to write here.
chmod 0777 "$debs" 2>/dev/null || true

# deb_for PKG: path of a cached .deb for PKG (any version), or empty.
deb_for() {
	local f
	for f in "$debs/$1"_*.deb; do
		[[ -f "$f" ]] && { printf '%s\n' "$f"; return 0; }
	done
	return 0
}

download() {
	local pkg="$1"
	[[ -n "$(deb_for "$pkg")" ]] && return 0
	vm_log "apt-get download $pkg"
	if ! (cd "$debs" && apt-get download -q "$pkg" >&2); then
		apt_update_once
		(cd "$debs" && apt-get download -q "$pkg" >&2)
	fi
	[[ -n "$(deb_for "$pkg")" ]] || vm_die "download of $pkg produced no .deb"
}

kpkg="${VM_KERNEL_PKG:-}"
if [[ -z "$kpkg" ]]; then
	# Reuse whatever kernel is cached, so a second run needs no apt at all.
	for f in "$debs"/linux-image-*-cloud-amd64_*.deb; do
		[[ -f "$f" ]] || continue
		b="$(basename "$f")"
		kpkg="${b%%_*}"
		break
	done
fi
if [[ -z "$kpkg" ]]; then
	resolve() {
		apt-cache depends "$VM_KERNEL_META" 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1
	}
	kpkg="$(resolve)"
	if [[ -z "$kpkg" ]]; then
		apt_update_once
		kpkg="$(resolve)"
	fi
	[[ -n "$kpkg" ]] || vm_die "cannot resolve $VM_KERNEL_META to a kernel package"
fi
download "$kpkg"
for p in "${VM_REF_PKGS[@]}"; do
	download "$p"
done

# --- 3. unpack -------------------------------------------------------------
kdeb="$(deb_for "$kpkg")"
kdir="$VM_CACHE/kernel"
if [[ ! -f "$kdir/.done" || "$(cat "$kdir/.done")" != "$(basename "$kdeb")" ]]; then
	vm_log "unpacking $(basename "$kdeb")"
	rm -rf "$kdir"
	mkdir -p "$kdir/root"
	dpkg-deb -x "$kdeb" "$kdir/root"
	kver="$(ls "$kdir/root/lib/modules")"
	[[ $(wc -w <<<"$kver") == 1 ]] || vm_die "unexpected modules dirs: $kver"
	[[ -f "$kdir/root/boot/vmlinuz-$kver" ]] || vm_die "no vmlinuz-$kver in $kdeb"
	depmod -b "$kdir/root" "$kver"
	printf '%s\n' "$kver" >"$kdir/kver"
	dpkg-deb -f "$kdeb" Version >"$kdir/debian-version"
	basename "$kdeb" >"$kdir/.done"
fi

rdir="$VM_CACHE/ref"
want=""
for p in "${VM_REF_PKGS[@]}"; do want+="$(basename "$(deb_for "$p")") "; done
if [[ ! -f "$rdir/.done" || "$(cat "$rdir/.done")" != "$want" ]]; then
	vm_log "unpacking reference ipvsadm and libraries"
	rm -rf "$rdir"
	mkdir -p "$rdir/root"
	for p in "${VM_REF_PKGS[@]}"; do
		dpkg-deb -x "$(deb_for "$p")" "$rdir/root"
	done
	[[ -x "$rdir/root/sbin/ipvsadm" ]] || vm_die "ipvsadm binary missing from deb"
	dpkg-deb -f "$(deb_for ipvsadm)" Version >"$rdir/ipvsadm-version"
	printf '%s' "$want" >"$rdir/.done"
fi
