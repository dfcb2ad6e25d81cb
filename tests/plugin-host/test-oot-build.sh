#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A plugin builds out of tree from the installed header and circd-plugin.pc
# alone: install just those two into a scratch root, compile the template
# (plugins/example/example.c) with the flags pkg-config gives, check that the
# descriptor is its only export, and load it with the fake host, which runs
# it on a pty through the host's streams (host API 1.4): no transport code
# but the header's.
set -eu
: "${top_srcdir:?run me from make check}" "${top_builddir:?run me from make check}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-oot-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

# A make inside make check: not part of the parent's jobserver.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$top_builddir" \
	install-circdincludeHEADERS install-pkgconfigDATA DESTDIR="$tmp/root" >/dev/null

pc=$(find "$tmp/root" -name circd-plugin.pc)
[ -n "$pc" ] || { echo "circd-plugin.pc was not installed"; exit 1; }
# The .pc names the final install paths; the sysroot maps them into $tmp/root.
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_LIBDIR=/nonexistent \
	PKG_CONFIG_SYSROOT_DIR="$tmp/root" pkg-config --cflags circd-plugin)
echo "cflags: $cflags"
case "$cflags" in *"$tmp/root"*) ;; *) echo "pkg-config flags do not point into $tmp/root"; exit 1;; esac

# The .pc's ABI version is the installed header's (configure.ac sets one,
# include/circd/plugin.h the other).
hdr=$(find "$tmp/root" -path '*/circd/plugin.h')
for v in major minor; do
	pcv=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_LIBDIR=/nonexistent \
		pkg-config --variable=abi_$v circd-plugin)
	hv=$(awk -v n="CIRCD_PLUGIN_ABI_$(echo $v | tr a-z A-Z)" '$1 == "#define" && $2 == n { print $3 }' "$hdr")
	echo "abi_$v: .pc $pcv, header $hv"
	[ -n "$hv" ] && [ "$pcv" = "$hv" ] || { echo "circd-plugin.pc says abi_$v=$pcv, plugin.h $hv"; exit 1; }
done

# Only the example's own directory and the installed headers are visible.
cp "$top_srcdir/plugins/example/example.c" "$tmp/"
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers $cflags -shared -fPIC \
	-o "$tmp/example.so" "$tmp/example.c"

exports=$(nm -D --defined-only "$tmp/example.so" | awk '{ print $3 }')
echo "exports: $exports"
[ "$exports" = circd_plugin_descriptor ] || { echo "exports other than the descriptor"; exit 1; }

"$top_builddir/tests/plugin-host/oot-check" "$tmp/example.so"
