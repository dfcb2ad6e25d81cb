#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `circd --udev-rules` turns the plugins' USB id tables into udev rules
# (installed as 70-circd.rules): one rule per VID:PID, giving the group
# access, nothing for plugins without USB ids.  Uses the loader test's
# plugins (tests/unit/badplug: a fake, for tests only).
set -u
: "${top_builddir:=.}"
: "${CIRCD_BIN:=$top_builddir/circd}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-udev.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 755 "$tmp"
cp "$top_builddir/tests/unit/badplug/.libs/usb_reader.so" "$top_builddir/tests/unit/badplug/.libs/good.so" "$tmp/" || exit 99
out=$("$CIRCD_BIN" --udev-rules=libstaff --plugin-dir "$tmp") || { echo "FAIL: circd --udev-rules exited $?"; exit 1; }
echo "$out"
fail=0
expect() { echo "$out" | grep -qF -- "$1" || { echo "FAIL: missing: $1"; fail=1; }; }
expect 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="0ab1", ATTR{idProduct}=="0002", GROUP="libstaff", MODE="0660"  # FEIG ID CPR40 (test table)'
expect 'ATTR{idVendor}=="0ab1", ATTR{idProduct}=="0073", GROUP="libstaff", MODE="0660"'
[ "$(echo "$out" | grep -c '^SUBSYSTEM')" = 2 ] || { echo "FAIL: expected exactly 2 rules"; fail=1; }
echo "$out" | grep -q '# plugin good' && { echo "FAIL: a plugin without USB ids got a section"; fail=1; }
# The rules file the build installs exists and is well-formed.
rules="$top_builddir/systemd/70-circd.rules"
[ -f "$rules" ] || { echo "FAIL: $rules was not built"; fail=1; }
# Built with USB (the acr122u plugin is there): the feig plugin's FEIG USB
# readers are in it too.
if [ -f "$rules" ] && [ -f "$top_builddir/plugins/.libs/acr122u.so" ]; then
	for pid in 0002 0004; do
		grep -qF "ATTR{idVendor}==\"0ab1\", ATTR{idProduct}==\"$pid\"" "$rules" ||
			{ echo "FAIL: $rules has no rule for FEIG 0ab1:$pid"; fail=1; }
	done
fi
[ $fail = 0 ] && echo "PASS: udev rules from the plugins' USB ids"
exit $fail
