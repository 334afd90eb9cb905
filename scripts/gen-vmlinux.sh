#!/usr/bin/env bash
# Regenerates vmlinux/<arch>/vmlinux.h from a kernel's BTF.
#   scripts/gen-vmlinux.sh ARCH [BTF_FILE]
# ARCH is finwatch's arch directory name (x86, arm64, ...); BTF_FILE defaults
# to the running kernel's /sys/kernel/btf/vmlinux. CO-RE relocates field
# offsets at load time, so one header per architecture is enough.
set -euo pipefail
arch=${1:?usage: gen-vmlinux.sh ARCH [BTF_FILE]}
btf=${2:-/sys/kernel/btf/vmlinux}
case "$arch" in
	x86|arm64|arm|riscv|powerpc|s390|loongarch|mips) ;;
	*) echo "gen-vmlinux.sh: unknown ARCH '$arch'" >&2; exit 2 ;;
esac
if [ ! -r "$btf" ]; then
	echo "gen-vmlinux.sh: cannot read BTF at $btf; boot a kernel built with CONFIG_DEBUG_INFO_BTF=y or pass a BTF file" >&2
	exit 1
fi
command -v bpftool >/dev/null || { echo "gen-vmlinux.sh: bpftool not found; run scripts/install-deps.sh" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/vmlinux/$arch/vmlinux.h"
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c > "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
