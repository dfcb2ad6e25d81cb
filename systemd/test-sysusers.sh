#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The generated sysusers.d and tmpfiles.d files do what circd.service needs,
# applied to a throw-away root directory only:
#   systemd-sysusers --root=DIR writes DIR/etc/{passwd,group,shadow,gshadow}
#   systemd-tmpfiles --root=DIR --create makes DIR/var/lib/circd, DIR/run/circd
# and both look the user up in DIR/etc, never in the host's /etc.  The test
# also checks that the host's account files are byte-for-byte unchanged.
#
# DIR/etc/group starts with dialout and plugdev at Debian's fixed GIDs (from
# base-passwd), as on a real machine, so the test sees circd being added to
# the existing groups rather than the groups being created.
#
# Exit 77 (skip) when systemd-sysusers is not installed.  The tmpfiles part
# needs root (it chowns); as another user it is skipped with a message.
set -u

: "${top_builddir:=.}"
sysusers_conf="$top_builddir/systemd/sysusers.d/circd.conf"
tmpfiles_conf="$top_builddir/systemd/tmpfiles.d/circd.conf"
user=circd

fail() { echo "FAIL: $*"; exit 1; }

command -v systemd-sysusers >/dev/null 2>&1 || {
	echo "SKIP: systemd-sysusers not found (Debian package systemd)"
	exit 77
}
for f in "$sysusers_conf" "$tmpfiles_conf"; do
	[ -f "$f" ] || { echo "ERROR: $f was not generated"; exit 99; }
	if grep -n '@[A-Za-z_]*@' "$f"; then fail "unsubstituted placeholder in $f"; fi
done
# The user the files name is the one configure chose (--with-circd-user).
user=$(awk '$1 == "u" { print $2; exit }' "$sysusers_conf")
[ -n "$user" ] || fail "no u line in $sysusers_conf"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/circd-sysusers.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
root="$tmp/root"
mkdir -p "$root/etc" || exit 99
printf 'root:x:0:\ndialout:x:20:\nplugdev:x:46:\n' > "$root/etc/group"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"

host_files=
for f in /etc/passwd /etc/group /etc/shadow /etc/gshadow; do
	[ -r "$f" ] && host_files="$host_files $f"
done
# shellcheck disable=SC2086 # word splitting of the file list is intended
host_sum() { [ -z "$host_files" ] || cksum $host_files; }
host_before=$(host_sum)

# ---- sysusers ----
out=$(systemd-sysusers --root="$root" "$sysusers_conf" 2>&1)
rc=$?
[ -z "$out" ] || printf '%s\n' "$out"
[ $rc -eq 0 ] || fail "systemd-sysusers exit $rc"
[ "$(host_sum)" = "$host_before" ] || fail "the host's account files changed"

pw=$(grep "^$user:" "$root/etc/passwd") || fail "no user $user in $root/etc/passwd"
uid=$(echo "$pw" | cut -d: -f3)
gid=$(echo "$pw" | cut -d: -f4)
home=$(echo "$pw" | cut -d: -f6)
grep -q "^$user:x:$gid:" "$root/etc/group" || fail "no group $user with GID $gid"
[ "$uid" -lt 1000 ] || fail "$user got UID $uid: not a system user"
[ "$home" = /var/lib/circd ] || fail "home directory is $home, not /var/lib/circd"
for g in dialout plugdev; do
	grep -Eq "^$g:x:[0-9]+:(.*,)?$user(,.*)?\$" "$root/etc/group" ||
		fail "$user is not a member of $g: $(grep "^$g:" "$root/etc/group")"
done
grep -q '^dialout:x:20:' "$root/etc/group" || fail "dialout was recreated with another GID"
echo "ok: $user (UID $uid, GID $gid, home $home), member of dialout and plugdev"

# ---- tmpfiles ----
command -v systemd-tmpfiles >/dev/null 2>&1 || {
	echo "SKIP: systemd-tmpfiles not found; sysusers part passed"
	exit 0
}
if [ "$(id -u)" -ne 0 ]; then
	echo "note: tmpfiles part skipped: it chowns and needs root"
	exit 0
fi
# Which of the directories the host already had (a real install): those
# are left alone, the others must still not exist afterwards.
host_dirs_before=" "
for d in /var/lib/circd /run/circd; do
	[ -e "$d" ] && host_dirs_before="$host_dirs_before$d "
done
out=$(systemd-tmpfiles --root="$root" --create "$tmpfiles_conf" 2>&1)
rc=$?
[ -z "$out" ] || printf '%s\n' "$out"
[ $rc -eq 0 ] && [ -z "$out" ] || fail "systemd-tmpfiles exit $rc, output above"
for d in /var/lib/circd /run/circd; do
	got=$(stat -c '%a %u %g' "$root$d") || fail "$d was not created"
	[ "$got" = "750 $uid $gid" ] || fail "$d is '$got', want '750 $uid $gid'"
	echo "ok: $d mode 0750 owner $user:$user"
done
for d in /var/lib/circd /run/circd; do
	case $host_dirs_before in
	*" $d "*) ;;
	*) [ ! -e "$d" ] || fail "systemd-tmpfiles created the host's $d" ;;
	esac
done
exit 0
