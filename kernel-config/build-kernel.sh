#!/usr/bin/env bash
# Build the husk guest kernel: Debian's linux-source-6.1, `make tinyconfig`,
# our fragment, `make olddefconfig`, a check that every symbol of the
# fragment ended up as asked, our patch series, then an uncompressed
# vmlinux (and a bzImage of the same kernel, for the bzImage loader's tests).
#
# The result is cached by a hash of the source version, the fragment, the
# patches and this script, so a second build is a copy.
#
# usage: build-kernel.sh OUTDIR      -> OUTDIR/vmlinux, OUTDIR/bzImage
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-kernel.sh OUTDIR}
fragment=$here/husk.fragment
tarball=/usr/src/linux-source-6.1.tar.xz
cache_root=${HUSK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/husk}/kernel

log() { printf 'kernel: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ -r "$tarball" ] || die "$tarball missing (install linux-source-6.1)"
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)

hash=$( { echo "linux-source-6.1 $version"; cat "$fragment" "$0"; cat "$here"/patches/*.patch; } |
	sha256sum | cut -c1-16)
cached=$cache_root/$hash
mkdir -p "$cache_root" "$out"

# check_config CONFIG FRAGMENT: every symbol the fragment sets must be set so.
check_config() {
	local config=$1 fragment=$2 bad=0 line sym want got
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) sym=${line%%=*}; want=${line#*=} ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want=n ;;
		*) continue ;;
		esac
		got=$(grep -E "^$sym=" "$config" | head -n1 | cut -d= -f2- || true)
		[ -n "$got" ] || got=n
		if [ "$got" != "$want" ]; then
			log "config symbol $sym is '$got', the fragment asks for '$want'"
			bad=1
		fi
	done < "$fragment"
	return $bad
}

exec 9>"$cache_root/.lock"
flock 9

if [ ! -f "$cached/vmlinux" ]; then
	log "building $hash (linux-source-6.1 $version); this takes minutes"
	work=$cache_root/build-$hash
	rm -rf "$work"
	mkdir -p "$work"
	tar -C "$work" --strip-components=1 -xf "$tarball"
	for p in "$here"/patches/*.patch; do
		patch -d "$work" -p1 --quiet --forward < "$p" || die "patch $(basename "$p") does not apply"
	done
	make -C "$work" -s ARCH=x86_64 tinyconfig >/dev/null
	"$work"/scripts/kconfig/merge_config.sh -m -O "$work" "$work/.config" "$fragment" >/dev/null
	make -C "$work" -s ARCH=x86_64 olddefconfig >/dev/null
	check_config "$work/.config" "$fragment" || die "the guest kernel config does not match $fragment"
	make -C "$work" -s ARCH=x86_64 -j"$(nproc)" vmlinux bzImage >/dev/null
	mkdir -p "$cached.tmp"
	cp "$work/vmlinux" "$work/arch/x86/boot/bzImage" "$work/.config" "$cached.tmp/"
	rm -rf "$cached"
	mv "$cached.tmp" "$cached"
	rm -rf "$work"
	log "built $cached/vmlinux"
fi

cp "$cached/vmlinux" "$cached/bzImage" "$out/"
cp "$cached/.config" "$out/kernel.config"
echo "$out/vmlinux"
