#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every manual page in man/ must render without a single warning:
#   - as a reader sees it: man-db's `man --warnings -l` at 80 columns, in a
#     UTF-8 locale (the page must not rely on a wide terminal);
#   - under groff with all warnings on (-ww), which also catches undefined
#     strings and registers, bad escapes and unbreakable lines.
# Any output on standard error fails the test.
# Exit 77 (skip) when neither man nor groff is installed (Debian packages
# man-db and groff-base).
set -u

: "${top_srcdir:=.}"
mandir="$top_srcdir/man"

have_man=false
have_groff=false
command -v man >/dev/null 2>&1 && have_man=true
command -v groff >/dev/null 2>&1 && have_groff=true
if ! $have_man && ! $have_groff; then
	echo "SKIP: neither man (man-db) nor groff (groff-base) is installed"
	exit 77
fi
$have_man || echo "note: man (man-db) not installed; checking with groff only"
$have_groff || echo "note: groff not installed; checking with man only"

# C.UTF-8 always exists on Debian; without it man would render in ASCII
# and could hide warnings about characters.
locale=C.UTF-8
if command -v locale >/dev/null 2>&1 && ! locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
	locale=C
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

failed=0
checked=0
for page in "$mandir"/*.[1-8]; do
	[ -f "$page" ] || continue
	name=$(basename "$page")
	checked=$((checked + 1))
	if $have_man; then
		LC_ALL=$locale MANROFFSEQ='' MANWIDTH=80 \
			man --warnings -l "$page" > "$tmp/out" 2> "$tmp/err"
		rc=$?
		if [ $rc -ne 0 ] || [ -s "$tmp/err" ] || [ ! -s "$tmp/out" ]; then
			echo "FAIL: man --warnings -l $name (exit $rc):"
			cat "$tmp/err"
			failed=$((failed + 1))
			continue
		fi
	fi
	if $have_groff; then
		LC_ALL=$locale groff -man -Tutf8 -ww -z "$page" 2> "$tmp/err"
		rc=$?
		if [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
			echo "FAIL: groff -man -ww $name (exit $rc):"
			cat "$tmp/err"
			failed=$((failed + 1))
			continue
		fi
	fi
	# The NAME line is what apropos/whatis index: "name \- description".
	if ! sed -n '/^\.SH NAME/{n;p;q}' "$page" | grep -q '^[^ ]* \\- .'; then
		echo "FAIL: $name: the line after .SH NAME must be \"name \\- description\""
		failed=$((failed + 1))
		continue
	fi
	echo "ok: $name"
done

[ $checked -gt 0 ] || { echo "ERROR: no manual pages in $mandir"; exit 99; }
[ $failed -eq 0 ] || exit 1
exit 0
