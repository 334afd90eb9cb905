#!/usr/bin/env bash
# Installs the Debian 12 packages finwatch needs. Idempotent: packages already
# present are skipped, and apt is only touched when something is missing.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   plus what the test suite needs
#   scripts/install-deps.sh --bench  plus what make bench needs
#   scripts/install-deps.sh --vm     plus what the kernel matrix needs (in --test too)
#   scripts/install-deps.sh --static plus what make static needs
#   scripts/install-deps.sh --image  plus what make image needs (in --test too)
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev libmicrohttpd-dev libcap-ng-dev
	libncurses-dev)
# Tests: unit framework, the netns lab, JSON checks, fuzzing (clang's
# libFuzzer runtime), Prometheus (promtool and a real server), rsyslog,
# validators for deploy/ (systemd-analyze, yamllint, logrotate, man page), tmux
# (finwatch top is driven in it).
test_pkgs=(libcmocka-dev iproute2 procps python3 libclang-rt-14-dev curl prometheus rsyslog
	yamllint systemd logrotate groff-base man-db mandoc tmux)

# Benchmarks: perf for the kernel's ground truth, and the tools compared.
bench_pkgs=(linux-perf libbpf-tools bpftrace iproute2 procps python3)

# Kernel matrix (tests/vm/matrix.sh, part of make test): qemu boots Debian's
# kernels (apt-get download, dpkg-deb -x) with a busybox initramfs (cpio)
# holding the kernel's virtio/9p modules (kmod: depmod, modprobe; xz: .ko.xz).
vm_pkgs=(qemu-system-x86 busybox-static cpio kmod xz-utils)

# make static: apt-get source (libmicrohttpd without TLS, see
# scripts/build-static-mhd.sh); the other .a files come with the -dev packages.
static_pkgs=(dpkg-dev)

# make image: podman builds the Containerfile offline (FROM scratch, vfs
# storage); tests/e2e/test_image.sh unpacks the image with tar.
image_pkgs=(podman tar ncurses-base)

want=("${build_pkgs[@]}")
case "${1:-}" in
	--test) want+=("${test_pkgs[@]}" "${vm_pkgs[@]}" "${static_pkgs[@]}" "${image_pkgs[@]}") ;;
	--vm) want+=("${vm_pkgs[@]}") ;;
	--bench) want+=("${bench_pkgs[@]}") ;;
	--static) want+=("${static_pkgs[@]}") ;;
	--image) want+=("${image_pkgs[@]}") ;;
	"") ;;
	*) echo "install-deps.sh: unknown option '$1' (use --test, --vm, --bench, --static, --image or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Packages such as prometheus and rsyslog would start daemons; tests start
# their own on loopback. policy-rc.d exit 101 = "do not start services".
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
trap '[ $own_policy -eq 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
