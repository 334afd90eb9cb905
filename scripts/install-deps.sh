#!/usr/bin/env bash
# Installs the Debian 12 packages finwatch needs. Idempotent: packages already
# present are skipped, and apt is only touched when something is missing.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   plus what the test suite needs
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev libmicrohttpd-dev)
test_pkgs=(libcmocka-dev iproute2 procps python3)

want=("${build_pkgs[@]}")
case "${1:-}" in
	--test) want+=("${test_pkgs[@]}") ;;
	"") ;;
	*) echo "install-deps.sh: unknown option '$1' (use --test or nothing)" >&2; exit 2 ;;
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
