# shellcheck shell=bash
# vm/lib.sh - shared helpers for the IPVS qemu test rig. Sourced, not run.
#
# Layout (all paths relative to the repository root, the parent of vm/):
#   .cache/vm/            downloaded .debs, unpacked kernel + reference tools,
#                         cached base initramfs           (override: VM_CACHE)
#   build/vm/             per-run scratch, test binaries, logs (override: VM_BUILD)

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VM_REPO_ROOT="$(cd "$VM_DIR/.." && pwd)"
VM_CACHE="${VM_CACHE:-$VM_REPO_ROOT/.cache/vm}"
VM_BUILD="${VM_BUILD:-$VM_REPO_ROOT/build/vm}"

# Debian package names. The kernel metapackage is resolved to the real
# linux-image-<abi>-cloud-amd64 package it depends on (override: VM_KERNEL_PKG).
VM_KERNEL_META="${VM_KERNEL_META:-linux-image-cloud-amd64}"
# shellcheck disable=SC2034 # used by the scripts that source this file
VM_REF_PKGS=(ipvsadm libpopt0 libnl-3-200 libnl-genl-3-200)
# Host tools: package name -> command that proves it is installed.
# shellcheck disable=SC2034
VM_HOST_TOOLS=(
	"qemu-system-x86:qemu-system-x86_64"
	"busybox-static:"
	"kmod:depmod"
	"cpio:cpio"
	"iproute2:ip"
)

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }

# vm_go prints the go command to use.
vm_go() {
	if [[ -n "${GO:-}" ]]; then
		printf '%s\n' "$GO"
	elif command -v go >/dev/null 2>&1; then
		command -v go
	elif [[ -x /usr/local/go/bin/go ]]; then
		printf '%s\n' /usr/local/go/bin/go
	else
		vm_die "go not found (set GO=/path/to/go)"
	fi
}

# vm_busybox prints the path of a statically linked busybox.
vm_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		if [[ -x "$b" ]] && ! ldd "$b" >/dev/null 2>&1; then
			printf '%s\n' "$b"
			return 0
		fi
	done
	return 1
}

# vm_kver prints the kernel release (uname -r) of the unpacked kernel.
vm_kver() {
	local f="$VM_CACHE/kernel/kver"
	[[ -s "$f" ]] || vm_die "kernel not fetched yet; run vm/fetch.sh"
	cat "$f"
}

vm_sha256() { sha256sum | cut -d' ' -f1; }

# vm_build_cmds DIR: build every main package under ./cmd/ of the repository
# (CGO_ENABLED=0) into DIR, which is emptied first. No cmd/ is not an error.
vm_build_cmds() {
	local dir="$1" go mains
	go="$(vm_go)"
	rm -rf "$dir"
	mkdir -p "$dir"
	[[ -d "$VM_REPO_ROOT/cmd" ]] || { vm_log "no cmd/ directory: no binaries to build"; return 0; }
	mains="$(cd "$VM_REPO_ROOT" && "$go" list -e -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./cmd/... 2>/dev/null || true)"
	if [[ -z "$mains" ]]; then
		vm_log "no main packages under cmd/"
		return 0
	fi
	vm_log "building $(wc -w <<<"$mains") command(s) into ${dir#"$VM_REPO_ROOT"/}/"
	# shellcheck disable=SC2086 # one word per package
	(cd "$VM_REPO_ROOT" && CGO_ENABLED=0 "$go" build -o "$dir/" $mains)
}

# vm_copy_with_libs SRC DEST_ROOT GUEST_PATH [LIBROOT...]
# Copies the ELF executable SRC to DEST_ROOT/GUEST_PATH together with every
# shared library ldd resolves for it (and the dynamic loader). LIBROOTs are
# unpacked .deb trees searched before the host's libraries; a library found
# under a LIBROOT is placed at its path relative to that root.
vm_copy_with_libs() {
	local src="$1" dest="$2" gpath="$3"
	shift 3
	local libpath="" r
	for r in "$@"; do
		libpath+="$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu:"
	done
	install -D -m 0755 "$src" "$dest/$gpath"
	local line lib
	while IFS= read -r line; do
		lib=""
		case "$line" in
		*"=> not found"*) vm_die "ldd $src: $line" ;;
		*"=> /"*) lib="${line#*=> }"; lib="${lib%% (*}" ;;
		/*) lib="${line%% (*}" ;;
		*) continue ;;
		esac
		lib="${lib//[[:space:]]/}"
		[[ -n "$lib" ]] || continue
		local gl="$lib"
		for r in "$@"; do
			if [[ "$lib" == "$r"/* ]]; then
				gl="${lib#"$r"}"
				break
			fi
		done
		# Guest is usr-merged: /lib and /lib64 are symlinks into /usr.
		case "$gl" in
		/lib/*|/lib64/*) gl="/usr$gl" ;;
		esac
		if [[ ! -e "$dest$gl" ]]; then
			install -D -m 0755 "$(readlink -f "$lib")" "$dest$gl"
		fi
	done < <(LD_LIBRARY_PATH="$libpath" ldd "$src" 2>&1 | sed 's/^[[:space:]]*//')
}
