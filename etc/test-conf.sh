#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# etc/circd.conf, the example installed as /etc/circd/circd.conf, must pass
# `circd -t` with the plugins of this build, as shipped and with every
# commented-out setting (the sip2 upstream, the scenario, ...) switched on:
# an administrator who uncomments a block must not meet an error we could
# have seen.  -t checks syntax, keys, types, references and every plugin
# option against its schema; it opens no journal, device, socket or password
# file, so the Debian paths in the example need not exist here.
# Exit 77 (skip) when circd or its plugins are not built.
set -u

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
: "${CIRCD_BIN:=$top_builddir/circd}"
: "${CIRCD_PLUGIN_DIR:=$top_builddir/plugins/.libs}"
conf="$top_srcdir/etc/circd.conf"

[ -x "$CIRCD_BIN" ] || { echo "SKIP: $CIRCD_BIN is not built"; exit 77; }
[ -d "$CIRCD_PLUGIN_DIR" ] || { echo "SKIP: no plugin directory $CIRCD_PLUGIN_DIR"; exit 77; }
[ -f "$conf" ] || { echo "ERROR: $conf not found"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-conf.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

failed=0
check() { # check NAME FILE
	"$CIRCD_BIN" -t -c "$2" --plugin-dir "$CIRCD_PLUGIN_DIR" > "$tmp/out" 2>&1
	rc=$?
	cat "$tmp/out"
	if [ $rc -ne 0 ]; then
		echo "FAIL: circd -t on $1 exited with $rc"
		failed=1
	fi
}

check "etc/circd.conf" "$conf"

# Uncomment "#key = value;" lines and the "#," "#{" "#}" of commented-out
# groups; comments about settings stay comments.
sed -E -e 's/^([[:space:]]*)#[[:space:]]*([a-z_]+ = [^#]*;)([[:space:]]*#.*)?$/\1\2/' \
	-e 's/^([[:space:]]*)#[[:space:]]*([,{}])[[:space:]]*$/\1\2/' \
	"$conf" > "$tmp/all.conf"
if cmp -s "$conf" "$tmp/all.conf"; then
	echo "FAIL: found no commented-out settings to switch on"
	failed=1
fi
grep -q 'plugin = "sip2";' "$tmp/all.conf" && ! grep -q '^[[:space:]]*#.*plugin = "sip2"' "$tmp/all.conf" ||
	{ echo "FAIL: the sip2 example was not switched on"; failed=1; }
check "etc/circd.conf with every commented-out setting on" "$tmp/all.conf"

exit $failed
