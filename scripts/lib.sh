# Shared by scripts/test and scripts/demo: install what is missing, build.
# shellcheck shell=bash

HUSK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HUSK_BUILD=${HUSK_BUILD:-$HUSK_TOP/build}

# Debian packages the build, the guest kernel and the tests need.
HUSK_PACKAGES=(
	build-essential cmake pkg-config check zlib1g-dev
	linux-libc-dev linux-source-6.1 flex bison bc libelf-dev cpio xz-utils
	qemu-system-x86 linux-image-cloud-amd64 python3 e2fsprogs curl
	clang clang-format libclang-rt-14-dev libjansson-dev libmnl-dev iproute2 busybox-static crun
	erofs-utils libseccomp-dev
	podman containernetworking-plugins containerd docker.io runc runsc
	iproute2
)

husk_log() { printf '==> %s\n' "$*" >&2; }

husk_install_deps() {
	local missing=() p
	for p in "${HUSK_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	husk_cni_bin
	[ ${#missing[@]} -eq 0 ] && return 0
	husk_log "installing ${missing[*]}"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# `ctr run --cni` looks for CNI plugins in /opt/cni/bin; Debian installs them in /usr/lib/cni.
husk_cni_bin() {
	local sudo=
	[ -e /opt/cni/bin ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo mkdir -p /opt/cni && $sudo ln -s /usr/lib/cni /opt/cni/bin
}

husk_build() {
	husk_log "building into $HUSK_BUILD (the guest kernel is cached by hash)"
	cmake -S "$HUSK_TOP" -B "$HUSK_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$HUSK_BUILD" -j"$(nproc)"
}
