#!/usr/bin/env bash
# Builds a static libmicrohttpd without TLS for `make static`, from Debian's
# own source package (same version as libmicrohttpd-dev).
#   scripts/build-static-mhd.sh PREFIX
# Why not Debian's libmicrohttpd.a: it is built with GnuTLS, whose static
# archive needs p11-kit, of which Debian ships no static archive, so no
# static binary can link it. finwatch serves plain HTTP only.
# Source packages need a deb-src entry: one is added for Debian's own
# archive (the same URIs and suites as the binary packages) when missing.
set -euo pipefail
prefix=${1:?usage: build-static-mhd.sh PREFIX}
[ -f "$prefix/lib/libmicrohttpd.a" ] && exit 0
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
src="$prefix/src"

if ! apt-cache showsrc libmicrohttpd >/dev/null 2>&1 || [ -z "$(apt-cache showsrc libmicrohttpd 2>/dev/null)" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "build-static-mhd.sh: needs a deb-src entry for Debian's archive; run as root once" >&2
		exit 1
	fi
	deb=/etc/apt/sources.list.d/debian.sources
	[ -r "$deb" ] || { echo "build-static-mhd.sh: no $deb to derive a deb-src entry from" >&2; exit 1; }
	sed 's/^Types: deb$/Types: deb-src/' "$deb" >/etc/apt/sources.list.d/finwatch-deb-src.sources
	apt-get update -qq
fi
rm -rf "$src" && mkdir -p "$src"
(cd "$src" && apt-get source -qq libmicrohttpd >/dev/null 2>&1) ||
	{ echo "build-static-mhd.sh: apt-get source libmicrohttpd failed (is dpkg-dev installed?)" >&2; exit 1; }
dir=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'libmicrohttpd-*' | head -n1)
cd "$dir"
log="$prefix/build.log"
{
	./configure --prefix="$prefix" --disable-https --without-gnutls --enable-static --disable-shared \
		--disable-doc --disable-examples --disable-curl --disable-nls
	make -j"$(nproc)" -C src/microhttpd
	make -C src/microhttpd install
	make -C src/include install
} >"$log" 2>&1 || { echo "build-static-mhd.sh: building libmicrohttpd failed; see $log" >&2; exit 1; }
