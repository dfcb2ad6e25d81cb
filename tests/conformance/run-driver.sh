#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-driver.sh DRIVER.conf — the conformance kit for one reader plugin
# (tests/conformance/conformance), then the same run under valgrind, which
# must find no error and no leak.  In an ASan build LeakSanitizer has
# already checked the first run and valgrind cannot run ASan binaries: the
# second run is left out.  Exit 77 (skip) only when valgrind is missing.
driver=$1
kit=${top_builddir:-.}/tests/conformance/conformance
[ -x "$kit" ] || { echo "FAIL: $kit not built"; exit 99; }

echo "== $driver"
"$kit" "$driver" || exit 1

if ldd "$kit" 2>/dev/null | grep -q libasan; then
	echo "ASan build: leaks were checked by LeakSanitizer in the run above; no valgrind run"
	exit 0
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind is not installed (apt-get install valgrind)"
	exit 77
fi
echo "== $driver under valgrind"
exec valgrind -q --leak-check=full --error-exitcode=1 --track-fds=no "$kit" "$driver"
