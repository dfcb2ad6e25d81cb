#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test-deb.sh SRCDIR — build the Debian packages from a copy of the source
# tree and check what an administrator would get (`make check-package`).
#
#  1. copies SRCDIR (tracked and untracked-but-not-ignored files, i.e. the
#     working tree as it is, without build trees) into a temporary
#     directory: the build never writes into SRCDIR;
#  2. dpkg-buildpackage -us -uc -b there, with the nocheck build option and
#     profile unless CIRCD_DEB_CHECK=1 (`make check` is the test suite's
#     job; CIRCD_DEB_CHECK=1 also needs the tests' Build-Depends);
#  3. checks each package's contents and maintainer scripts: the conffile,
#     unit, sysusers and tmpfiles files, plugins in the right package;
#  4. unpacks every .deb into a scratch root (dpkg -x) and runs
#     debian/tests/installed (the autopkgtest) on it: that root's circd -t
#     on the shipped /etc/circd/circd.conf with the shipped plugins,
#     circctl --version, and the template plugin from circd-dev built with
#     the shipped header and .pc, then loaded;
#  5. runs circd's postinst, prerm and postrm against the scratch root
#     (DPKG_ROOT, as dpkg --root would): user, directories, enabled unit,
#     and nothing of it on the host;
#  6. lintian on the .changes: any error fails the test; warnings are shown.
#
# Exit 0 pass, 1 fail, 77 skip (no debian/ in SRCDIR, e.g. a dist tarball,
# or no dpkg-buildpackage).  Keeps the temporary directory on failure, or
# always with CIRCD_DEB_KEEP=1.
set -eu

srcdir=$(cd "${1:-.}" && pwd)
say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failed=1; }
failed=0

[ -f "$srcdir/debian/control" ] || { echo "SKIP: no debian/ in $srcdir"; exit 77; }
for t in dpkg-buildpackage dpkg-deb lintian; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "SKIP: $t not found (Debian packages dpkg-dev debhelper lintian)"; exit 77; }
done

# The package's version follows the release: a new AC_INIT version needs a
# debian/changelog entry (native package: the versions are the same).
upstream=$(sed -n 's/^AC_INIT(\[circd\], *\[\([^]]*\)\].*/\1/p' "$srcdir/configure.ac")
packaged=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -SVersion)
if [ "$upstream" != "$packaged" ]; then
	echo "FAIL: configure.ac says $upstream, debian/changelog $packaged: add a changelog entry"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-deb.XXXXXX")
cleanup() {
	if [ "$failed" = 0 ] && [ "${CIRCD_DEB_KEEP:-0}" != 1 ]; then
		rm -rf "$tmp"
	else
		echo "(build tree, packages and logs kept in $tmp)"
	fi
}
trap cleanup EXIT
trap 'failed=1; exit 1' INT TERM
start=$(date +%s)

# ---- 1. a clean copy of the working tree ----
say "copying $srcdir to $tmp/circd"
mkdir "$tmp/circd"
if git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Files deleted in the working tree are still listed by -c: skip them.
	git -C "$srcdir" ls-files -z -c -o --exclude-standard |
		(cd "$srcdir" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$srcdir" --null -T - -cf - | tar -C "$tmp/circd" -xf -
else
	tar -C "$srcdir" --exclude='./build' --exclude='./build-*' -cf - . | tar -C "$tmp/circd" -xf -
fi

# ---- 2. build ----
say "dpkg-buildpackage -us -uc -b (log: $tmp/build.log)"
opts=${DEB_BUILD_OPTIONS:-}
profiles=${DEB_BUILD_PROFILES:-}
# nocheck as both option and profile: the tests' Build-Depends (<!nocheck>)
# are then not required either.
[ "${CIRCD_DEB_CHECK:-0}" = 1 ] || { opts="nocheck $opts"; profiles="nocheck $profiles"; }
case "$opts" in *parallel=*) ;; *) opts="$opts parallel=$(nproc 2>/dev/null || echo 2)" ;; esac
if ! (cd "$tmp/circd" && DEB_BUILD_OPTIONS="$opts" DEB_BUILD_PROFILES="$profiles" dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log" | sed "s/^/   /"
	fail "dpkg-buildpackage failed"
	exit 1
fi
ls "$tmp"/*.deb | sed "s|^$tmp/|   |"
echo "   (built in $(($(date +%s) - start)) s)"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
plugindir=usr/lib/$triplet/circd/plugins
deb() { ls "$tmp"/"$1"_*_"$arch".deb 2>/dev/null | head -1; }

# ---- 3. contents and maintainer scripts ----
say "package contents"
circd_deb=$(deb circd); dev_deb=$(deb circd-dev); mqtt_deb=$(deb circd-plugin-mqtt)
[ -n "$circd_deb" ] || { fail "no circd .deb"; exit 1; }
[ -n "$dev_deb" ] || fail "no circd-dev .deb"
has() { # has DEB PATH...: each path is in the package
	d=$1; shift
	dpkg-deb -c "$d" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/list"
	for p; do grep -qx "$p" "$tmp/list" || fail "$(basename "$d") lacks $p"; done
}
has "$circd_deb" /usr/sbin/circd /usr/bin/circctl /etc/circd/circd.conf \
	/lib/systemd/system/circd.service /usr/lib/sysusers.d/circd.conf \
	/usr/lib/tmpfiles.d/circd.conf /$plugindir/sim.so /$plugindir/sip2.so /$plugindir/jsonl.so \
	/usr/share/man/man8/circd.8.gz /usr/share/man/man5/circd.conf.5.gz \
	/usr/share/man/man1/circctl.1.gz /usr/share/bash-completion/completions/circctl \
	/usr/share/circd/scenarios/demo.scn /usr/share/doc/circd/copyright
dpkg-deb -c "$circd_deb" | grep -q '\.la$' && fail "circd ships libtool .la files"
[ -n "$dev_deb" ] && has "$dev_deb" /usr/include/circd/plugin.h /usr/include/circd/event.h \
	/usr/lib/$triplet/pkgconfig/circd-plugin.pc /usr/share/man/man7/circd-plugin.7.gz \
	/usr/share/doc/circd-dev/examples/example.c

# The MQTT plugin: in its own package once the tree builds it, never in circd.
dpkg-deb -c "$circd_deb" | grep -q '/mqtt\.so$' && fail "mqtt.so is in circd, not circd-plugin-mqtt"
if grep -q '^include plugins/mqtt/local.mk' "$srcdir/Makefile.am"; then
	if [ -z "$mqtt_deb" ]; then
		fail "the tree builds plugins/mqtt but there is no circd-plugin-mqtt .deb"
	else
		has "$mqtt_deb" /$plugindir/mqtt.so
		grep -q '^/usr/share/doc/circd-plugin-mqtt/README\.md' "$tmp/list" ||
			fail "circd-plugin-mqtt lacks the plugin's README.md"
		dpkg-deb -f "$mqtt_deb" Depends | grep -q libmosquitto ||
			fail "circd-plugin-mqtt does not depend on libmosquitto"
	fi
else
	echo "   (plugins/mqtt not in the tree yet: no circd-plugin-mqtt package)"
fi

ctl="$tmp/control"
dpkg-deb -e "$circd_deb" "$ctl"
grep -qx /etc/circd/circd.conf "$ctl/conffiles" || fail "/etc/circd/circd.conf is not a conffile"
grep -q 'systemd-sysusers.*circd\.conf' "$ctl/postinst" || fail "postinst does not run systemd-sysusers"
grep -q 'systemd-tmpfiles.*circd\.conf' "$ctl/postinst" || fail "postinst does not run systemd-tmpfiles"
grep -q 'deb-systemd-helper enable .circd\.service' "$ctl/postinst" || fail "postinst does not enable circd.service"
grep -q 'deb-systemd-invoke start' "$ctl/postinst" && fail "postinst starts circd on installation"
grep -q 'deb-systemd-invoke stop .*circd\.service' "$ctl/prerm" || fail "prerm does not stop circd on removal"
dpkg-deb -f "$circd_deb" Depends | grep -q libsqlite3 || fail "circd's Depends lack the shared libraries"

# ---- 4. the scratch root ----
root="$tmp/root"
say "dpkg -x into $root"
for d in "$tmp"/*.deb; do
	case "$d" in *-dbgsym_*) continue ;; esac
	dpkg -x "$d" "$root"
done
# debian/tests/installed is also the autopkgtest: the same checks on an
# installed system.
say "debian/tests/installed on the scratch root (circd -t, plugins, circctl, template plugin)"
mkdir "$tmp/installed"
if CIRCD_ROOT="$root" AUTOPKGTEST_TMP="$tmp/installed" sh "$srcdir/debian/tests/installed" \
	>"$tmp/installed.log" 2>&1; then
	sed 's/^/   /' "$tmp/installed.log"
else
	sed 's/^/   /' "$tmp/installed.log"
	fail "debian/tests/installed on the scratch root"
fi

# ---- 5. maintainer scripts against the scratch root ----
# The package's own postinst, prerm and postrm, run with DPKG_ROOT as
# `dpkg --root` would: systemd-sysusers, systemd-tmpfiles and
# deb-systemd-helper then work inside the scratch root, never on the host.
say "maintainer scripts in the scratch root (DPKG_ROOT=$root)"
wants=etc/systemd/system/multi-user.target.wants/circd.service
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null 2>&1 &&
	command -v deb-systemd-helper >/dev/null 2>&1; then
	host_had_wants=no; [ -L "/$wants" ] && host_had_wants=yes
	mkdir -p "$root/etc"
	# A root's base accounts, as base-passwd would have made them: root and
	# the device groups the sysusers file adds circd to.
	for f in passwd group shadow gshadow; do
		grep -E '^(root|dialout|plugdev):' /etc/$f >"$root/etc/$f" 2>/dev/null || true
	done
	grep -q '^plugdev:' "$root/etc/group" || echo 'plugdev:x:46:' >>"$root/etc/group"
	grep -q '^dialout:' "$root/etc/group" || echo 'dialout:x:20:' >>"$root/etc/group"
	maint() { # maint SCRIPT ARGS...: as dpkg --root=$root would run it
		DPKG_ROOT="$root" DPKG_MAINTSCRIPT_PACKAGE=circd DPKG_MAINTSCRIPT_NAME=$1 \
			DPKG_MAINTSCRIPT_ARCH="$arch" sh -e "$ctl/$@" >>"$tmp/maint.log" 2>&1
	}
	before=$failed; failed=0
	if maint postinst configure ""; then
		uid=$(grep '^circd:' "$root/etc/passwd" | cut -d: -f3)
		[ -n "$uid" ] || fail "postinst made no circd user"
		grep -q '^dialout:.*circd' "$root/etc/group" || fail "postinst did not add circd to dialout"
		m=$(stat -c '%a %u' "$root/var/lib/circd" 2>/dev/null || true)
		[ "$m" = "750 $uid" ] || fail "/var/lib/circd is '$m', not 0750 circd ($uid)"
		[ -L "$root/$wants" ] || fail "postinst did not enable circd.service"
		[ "$failed" = 0 ] &&
			echo "   postinst: circd user ($uid), its groups, /var/lib/circd 0750, circd.service enabled"
		maint prerm remove || fail "prerm remove"
		maint postrm remove || fail "postrm remove"
		maint postrm purge || fail "postrm purge"
		[ -L "$root/$wants" ] && fail "postrm purge left circd.service enabled"
		[ "$failed" = 0 ] && echo "   prerm remove, postrm remove, postrm purge: circd.service no longer enabled"
	else
		fail "postinst configure failed in the scratch root"
	fi
	[ "$failed" = 0 ] || sed 's/^/   /' "$tmp/maint.log"
	[ "$before" = 0 ] || failed=1
	[ "$host_had_wants" = yes ] || [ ! -L "/$wants" ] || fail "the maintainer scripts enabled circd on the host"
else
	echo "   (skipped: needs root, systemd-sysusers and deb-systemd-helper)"
fi

# ---- 6. lintian ----
say "lintian (log: $tmp/lintian.log)"
changes=$(ls "$tmp"/*.changes | head -1)
lintian_start=$(date +%s)
if lintian --fail-on error --display-info "$changes" >"$tmp/lintian.log" 2>&1; then
	:
else
	fail "lintian reports errors"
fi
if [ -s "$tmp/lintian.log" ]; then sed 's/^/   /' "$tmp/lintian.log"; else echo "   (no tags)"; fi
echo "   E: $(grep -c '^E:' "$tmp/lintian.log" || true)  W: $(grep -c '^W:' "$tmp/lintian.log" || true)  I: $(grep -c '^I:' "$tmp/lintian.log" || true)  ($(($(date +%s) - lintian_start)) s)"

echo "check-package: $(($(date +%s) - start)) s"
[ "$failed" = 0 ] && echo "packages build, install into a scratch root, pass circd -t and lintian"
exit "$failed"
