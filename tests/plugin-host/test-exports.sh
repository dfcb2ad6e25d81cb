#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every plugin built in this tree exports exactly one symbol: the
# descriptor (plugin.h; -export-symbols-regex and -fvisibility=hidden).
set -eu
dir=${CIRCD_PLUGIN_DIR:?run me from make check}
n=0
fail=0
for so in "$dir"/*.so; do
	[ -e "$so" ] || continue
	n=$((n + 1))
	exports=$(nm -D --defined-only "$so" | awk '{ print $3 }' | tr '\n' ' ')
	if [ "$exports" = "circd_plugin_descriptor " ]; then
		echo "ok   $so"
	else
		echo "FAIL $so exports: $exports"
		fail=1
	fi
done
[ "$n" -gt 0 ] || exit 77
exit $fail
