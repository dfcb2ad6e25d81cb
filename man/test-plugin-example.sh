#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The example plugin in circd-plugin(7) is code people copy: it must compile
# against the headers in include/circd with warnings as errors, and the
# shared object must export nothing but circd_plugin_descriptor.  This keeps
# the page honest when the ABI headers change.
#
# The code is taken from the page's source (the .EX/.EE block under
# .SH EXAMPLE) and its roff escapes undone.
# Exit 77 (skip) when no C compiler is found.
set -u

: "${top_srcdir:=.}"
page="$top_srcdir/man/circd-plugin.7"
cc=${CC:-cc}

command -v "$cc" >/dev/null 2>&1 || { echo "SKIP: no C compiler ($cc)"; exit 77; }
[ -f "$page" ] || { echo "ERROR: $page not found"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-example.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

# Lines between .EX and .EE in the EXAMPLE section; \- \e \(aq \& undone.
sed -n '/^\.SH EXAMPLE/,/^\.SH /{
	/^\.EX/,/^\.EE/{
		/^\.E[XE]/d
		s/\\-/-/g
		s/\\(aq/'"'"'/g
		s/\\&//g
		s/\\e/\\/g
		p
	}
}' "$page" > "$tmp/mydev.c"
[ -s "$tmp/mydev.c" ] || { echo "FAIL: no example code found in $page"; exit 1; }
if grep -n '\\[^n0t"\\]' "$tmp/mydev.c"; then
	echo "FAIL: a roff escape was left in the example (above)"
	exit 1
fi

"$cc" -std=gnu11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
	-Wl,-z,noexecstack -I"$top_srcdir/include" -o "$tmp/mydev.so" "$tmp/mydev.c" || {
	echo "FAIL: the example in circd-plugin(7) does not compile:"
	cat -n "$tmp/mydev.c"
	exit 1
}
echo "ok: example plugin compiles ($(wc -l < "$tmp/mydev.c") lines)"

if command -v nm >/dev/null 2>&1; then
	syms=$(nm -D --defined-only "$tmp/mydev.so" | awk '{ print $NF }' | sort -u)
	if [ "$syms" != circd_plugin_descriptor ]; then
		echo "FAIL: the example exports more than its descriptor:"
		echo "$syms"
		exit 1
	fi
	echo "ok: exports only circd_plugin_descriptor"
else
	echo "note: nm not found; exported symbols not checked"
fi
exit 0
