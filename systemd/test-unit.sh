#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The generated circd.service must load cleanly and stay hardened.
#
#  1. `systemd-analyze verify --man=no` prints nothing.  verify exits 0 on
#     unknown keys and typos (it only warns), so any output is a failure.
#     verify insists that ExecStart= exists; the installed path does not
#     exist at build time, so a copy of the unit runs the built circd
#     ($CIRCD_BIN) instead.  Nothing else is changed: User=circd is kept,
#     because verify (systemd 252) does not look users up.
#  2. `systemd-analyze security --offline=true` scores the sandbox at 2.0 or
#     better, AND what systemd parsed still lets the daemon reach its readers
#     (DeviceAllow for the reader device groups, no PrivateDevices, no
#     PrivateUsers).  systemd 252 takes --threshold= as an integer on the
#     0..100 scale, so 2.0 is passed as 20.
#
# Exit 77 (skip) when systemd-analyze is not installed.
set -u

: "${top_builddir:=.}"
unit_in="$top_builddir/systemd/circd.service"
max_exposure=2.0

fail() { echo "FAIL: $*"; exit 1; }

command -v systemd-analyze >/dev/null 2>&1 || {
	echo "SKIP: systemd-analyze not found (Debian package systemd)"
	exit 77
}
[ -f "$unit_in" ] || { echo "ERROR: $unit_in was not generated"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-unit.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
unit="$tmp/circd.service"

# Every @VARIABLE@ must have been substituted.
if grep -n '@[A-Za-z_]*@' "$unit_in"; then
	fail "unsubstituted placeholder in $unit_in"
fi
grep -q '^ExecStart=/[^ ]*/circd -c /[^ ]*/circd/circd\.conf --log-target=journal$' "$unit_in" ||
	fail "unexpected ExecStart= line: $(grep '^ExecStart=' "$unit_in")"

# ---- 1. verify ----
circd_bin=${CIRCD_BIN:-$top_builddir/circd}
[ -x "$circd_bin" ] || { echo "ERROR: $circd_bin is not built"; exit 99; }
sed "s|^ExecStart=[^ ]*|ExecStart=$circd_bin|" "$unit_in" > "$unit" || exit 99

out=$(systemd-analyze verify --man=no "$unit" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	printf '%s\n' "$out"
	fail "systemd-analyze verify (exit $rc) must print nothing"
fi
echo "ok: systemd-analyze verify --man=no printed nothing"

# ---- 2. security ----
threshold=$(awk -v x="$max_exposure" 'BEGIN { printf "%d", x * 10 + 0.5 }')
report=$(LC_ALL=C systemd-analyze security --offline=true --threshold="$threshold" "$unit" 2>&1)
rc=$?
score_line=$(printf '%s\n' "$report" | grep 'Overall exposure level')
printf '%s\n' "$score_line"
score=$(printf '%s\n' "$score_line" | sed -n 's/.*: \([0-9][0-9]*\.[0-9]\).*/\1/p')
if [ -z "$score" ]; then
	printf '%s\n' "$report"
	fail "no exposure score in the output of systemd-analyze security"
fi
if [ $rc -ne 0 ] || ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
	printf '%s\n' "$report" | grep '^- '
	fail "exposure $score is above $max_exposure (systemd-analyze exit $rc)"
fi
echo "ok: exposure $score <= $max_exposure"

# (LC_ALL=C above: the report then marks weak settings with "- " instead
# of a locale-dependent glyph.)
# The hardening must not have cut the daemon off from its hardware: check
# what systemd itself made of the unit, not just its text.
dev_line=$(printf '%s\n' "$report" | grep 'DeviceAllow=')
for group in char-ttyUSB:rw char-ttyACM:rw char-usb_device:rw char-ttyS:rw; do
	case $dev_line in
	*"$group"*) ;;
	*) printf '%s\n' "$dev_line"; fail "device group $group is not allowed" ;;
	esac
done
echo "ok: readers reachable: $(printf '%s\n' "$dev_line" | grep -o 'char-[^ ]*' | tr '\n' ' ')"
printf '%s\n' "$report" | grep -q '^- PrivateDevices=' ||
	fail "PrivateDevices= is on: it hides /dev/ttyUSB* and /dev/bus/usb"
printf '%s\n' "$report" | grep -q '^- PrivateUsers=' ||
	fail "PrivateUsers= is on: dialout/plugdev would no longer open the readers"
printf '%s\n' "$report" | grep -q '^- SupplementaryGroups=' ||
	fail "SupplementaryGroups= is gone: dialout/plugdev own the readers"
grep -q '^SupplementaryGroups=dialout plugdev$' "$unit" ||
	fail "SupplementaryGroups= must be dialout plugdev"
echo "ok: no PrivateDevices/PrivateUsers, supplementary groups dialout plugdev"
exit 0
