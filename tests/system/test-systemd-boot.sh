#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end under a real systemd: the generated circd.service, booted with
# systemd as PID 1 in a shielded namespace.  Checked:
#
#  1. Type=notify start: `systemctl start circd` returns only once circd is
#     ready (active/running, STATUS= text set, control socket answering).
#  2. `systemctl reload circd` applies a changed config (a second sim
#     device): circctl status and STATUS= show it, MainPID is unchanged.
#  3. A stalled worker: the jsonl upstream writes into a FIFO; its reader is
#     stopped, so the worker blocks in open(2) -- outside host->wait() -- and
#     circd withholds WATCHDOG=1.  With WatchdogSec=2s systemd kills circd
#     (Result=watchdog) and restarts it (NRestarts 1, a new MainPID).
#  4. The journal survives: returns journaled (not yet forwarded) before the
#     kill are still in /var/lib/circd/journal.db after the restart, and the
#     restarted circd forwards them to the jsonl sink.
#
# HOST PROTECTION.  Booting systemd as PID 1 without shielding runs tmpfiles
# and empties the host's /tmp.  So, inside `unshare --pid --mount --uts
# --ipc --net --cgroup` (loopback only) and BEFORE systemd starts:
#  - mounts are made private; tmpfs over /tmp /var/tmp /var/log /var/lib
#    /var/cache /run; /etc is an overlay whose writes go to a tmpfs (the
#    circd user is added there by systemd-sysusers from our sysusers file);
#    /dev is a fresh tmpfs with null/zero/full/random/urandom/tty bound in
#    and its own devpts; /sys, /proc/sys and / are read-only (so PID 1
#    cannot set e.g. the host's kernel.core_pattern); /sys/fs/cgroup is a
#    cgroup2 mount rooted (cgroup namespace) at our own sub-cgroup, so
#    systemd runs unified and touches no host cgroup (removed at the end;
#    the host's trees are checked for stray systemd cgroups); PID 1 runs
#    without cap_sys_module, sys_time, sys_rawio, syslog, mac_*.
#  - A dry check: probe files created inside under every shielded directory
#    must be visible in the namespace (/proc/PID/root) and absent on the
#    host, or the boot is not attempted.
#  - Units live in /run/systemd/system (tmpfs): the generated circd.service
#    unchanged, a drop-in (DefaultDependencies=no, ExecStart= the built
#    binary, WatchdogSec=2s, RestartSec=2s), a target pulling only
#    journald; sysinit/basic/local-fs/multi-user/default targets, tmpfiles
#    and modprobe@ units and network-online.target are masked.  systemd is
#    booted with --unit=circd-test.target.
#  - systemd is stopped with kill -9 of its host PID (trap, also on
#    failure); should this script itself be killed, `timeout` ends unshare
#    after CIRCD_SYSTEST_LIMIT (300) s and --kill-child takes PID 1 along.
#  - Compared before/after, a difference fails: a canary file in the host's
#    /tmp, the names in /tmp (half gone = wiped; a few gone is only reported:
#    other jobs share /tmp), kernel.core_pattern, /etc/circd and
#    /var/lib/circd, stray systemd cgroups.  `ls -la /tmp | wc -l` is printed.
#
# The stall is real and uses only shipped code: jsonl opens its path, a FIFO,
# with a blocking open(2) that waits for a reader (the test's circd-sink
# unit).  The sim plugin has no blocking action, so no test-only plugin is
# needed.  Test-only settings, all in a drop-in: DefaultDependencies=no,
# ExecStart (built binary, config in /etc/circd), WatchdogSec=2s, RestartSec=2s.
#
# Exit 77 (skip) with the reason when not root, or unshare, mount, overlay
# or systemd as PID 1 are not available.  Not part of `make check`: run
# with `make check-system`.
set -u

me=$(readlink -f "$0")
: "${top_builddir:=$(pwd)}"
top_builddir=$(cd "$top_builddir" && pwd)
: "${CIRCD_BIN:=$top_builddir/circd}"
: "${CIRCCTL_BIN:=$top_builddir/circctl}"
: "${CIRCD_PLUGIN_DIR:=$top_builddir/plugins/.libs}"

NS_DIRS_TMPFS="/tmp /var/tmp /var/log /var/lib /var/cache /run"

# ======================================================================
# Inside the namespace, as PID 1, before systemd.  $1 = work dir (host
# path), $2 = "boot" or "dry".
# ======================================================================
if [ "${1:-}" = "--inner" ]; then
	work=$2 mode=$3
	inner_fail() { echo "INNER: $*" >&2; exit 70; }
	inner_skip() { echo "$*" > "$work/inner-skip"; exit 77; }
	mount --make-rprivate / || inner_fail "make-rprivate"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || inner_fail "tmpfs /tmp"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp || inner_fail "tmpfs /var/tmp"
	for d in /var/log /var/lib /var/cache /run; do
		mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$d" || inner_fail "tmpfs $d"
	done
	mkdir -p /run/systest/etc.upper /run/systest/etc.work /run/systest/dev
	mount -t overlay overlay \
		-o lowerdir=/etc,upperdir=/run/systest/etc.upper,workdir=/run/systest/etc.work /etc ||
		inner_skip "cannot mount an overlay over /etc in the namespace"
	# /dev: a private tmpfs with the few nodes services need.
	mount -t tmpfs -o mode=0755,nosuid tmpfs /run/systest/dev || inner_fail "tmpfs dev"
	for n in null zero full random urandom tty; do
		touch /run/systest/dev/$n && mount --bind /dev/$n /run/systest/dev/$n || inner_fail "dev $n"
	done
	mkdir /run/systest/dev/pts /run/systest/dev/shm
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /run/systest/dev/pts ||
		inner_fail "devpts"
	ln -s pts/ptmx /run/systest/dev/ptmx
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /run/systest/dev/shm || inner_fail "dev/shm"
	ln -s /proc/self/fd /run/systest/dev/fd
	ln -s /proc/self/fd/0 /run/systest/dev/stdin
	ln -s /proc/self/fd/1 /run/systest/dev/stdout
	ln -s /proc/self/fd/2 /run/systest/dev/stderr
	mount --move /run/systest/dev /dev || inner_fail "move /dev"
	# cgroups: a cgroup2 mount straight on /sys/fs/cgroup, whose root (the
	# cgroup namespace's) is our own sub-cgroup.  systemd then runs in
	# unified mode and mounts no v1 controller hierarchy: on a hybrid host
	# it would otherwise create init.scope and system.slice in the host's
	# v1 trees (devices, pids, and memory under whatever cgroup runs us).
	umount -l /sys/fs/cgroup 2>/dev/null
	mount -o remount,bind,ro /sys || inner_fail "ro /sys"
	mount -t cgroup2 cgroup2 /sys/fs/cgroup ||
		inner_skip "cannot mount cgroup2 in the namespace"
	mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || inner_fail "ro /proc/sys"
	if [ -e /proc/sysrq-trigger ]; then
		mount --bind /proc/sysrq-trigger /proc/sysrq-trigger &&
			mount -o remount,bind,ro /proc/sysrq-trigger || inner_fail "ro sysrq-trigger"
	fi
	mount -o remount,bind,ro / || inner_fail "ro /"

	# The system user, from the project's sysusers file, into the overlay.
	systemd-sysusers "$work/sysusers.conf" || inner_fail "systemd-sysusers"
	getent passwd circd >/dev/null || inner_fail "no circd user after systemd-sysusers"

	# Units (tmpfs) and the config (overlay).
	u=/run/systemd/system
	mkdir -p $u/circd.service.d /etc/circd /var/lib/circd-sink
	cp "$work/circd.service" $u/circd.service
	cp "$work/10-systest.conf" $u/circd.service.d/10-systest.conf
	cp "$work/circd-test.target" "$work/circd-sink.service" $u/
	for m in sysinit.target basic.target local-fs.target local-fs-pre.target multi-user.target \
		 default.target graphical.target network-online.target network.target \
		 systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service \
		 systemd-tmpfiles-clean.service systemd-tmpfiles-clean.timer \
		 modprobe@usbserial.service modprobe@cdc_acm.service timers.target \
		 systemd-journald-audit.socket systemd-sysusers.service; do
		ln -s /dev/null $u/$m
	done
	cp "$work/circd.conf.1" /etc/circd/circd.conf
	mkfifo -m 0622 /var/lib/circd-sink/sink.fifo
	: > /var/lib/circd-sink/out.jsonl

	# Probes for the dry check: the outer side looks for them on the host.
	for d in $NS_DIRS_TMPFS /etc /dev; do
		: > "$d/.circd-systest-probe.$4" || inner_fail "probe in $d"
	done
	: > /run/systest/ready
	read -r go < "$work/go"
	for d in $NS_DIRS_TMPFS /etc /dev; do rm -f "$d/.circd-systest-probe.$4"; done
	[ "$go" = boot ] || exit 0
	[ "$mode" = boot ] || exit 0
	# Without the capabilities that reach past the namespaces: kernel
	# modules, the system clock, raw I/O, the kernel log, LSM policy.
	exec setpriv --bounding-set -sys_module,-sys_time,-sys_rawio,-syslog,-mac_admin,-mac_override \
		env -i container=circd-systest PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		"$5" --unit=circd-test.target --log-target=journal --log-level=info --log-color=no --show-status=0
fi

# ======================================================================
# Host side.
# ======================================================================
t_start=$(date +%s.%N)
exec 3>&1 # messages still reach the log from inside waitfor's predicates
skip() { echo "SKIP: $*" >&3; exit 77; }
log() { echo "# $*" >&3; }
ok() { echo "ok: $*" >&3; }

[ "$(id -u)" = 0 ] || skip "needs root (unshare --pid --mount, mount tmpfs/overlay, systemd as PID 1)"
for c in unshare nsenter setpriv timeout mount systemctl systemd-sysusers journalctl python3 mkfifo; do
	command -v $c >/dev/null 2>&1 || skip "$c not found"
done
SYSTEMD=
for s in /lib/systemd/systemd /usr/lib/systemd/systemd; do [ -x $s ] && SYSTEMD=$s && break; done
[ -n "$SYSTEMD" ] || skip "no systemd binary (/lib/systemd/systemd)"
for f in "$CIRCD_BIN" "$CIRCCTL_BIN" "$CIRCD_PLUGIN_DIR/sim.so" "$CIRCD_PLUGIN_DIR/jsonl.so" \
	 "$top_builddir/systemd/circd.service" "$top_builddir/systemd/sysusers.d/circd.conf"; do
	[ -e "$f" ] || { echo "ERROR: $f is not built"; exit 99; }
done
# Our own sub-cgroup of the host's cgroup2 tree, under the cgroup we are in.
cgv2=
for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[ "$(stat -f -c %T $m 2>/dev/null)" = cgroup2fs ] && cgv2=$m && break
done
[ -n "$cgv2" ] || skip "no cgroup2 hierarchy (/sys/fs/cgroup or /sys/fs/cgroup/unified)"
cgcur=$(sed -n 's/^0:://p' /proc/self/cgroup)
[ -d "$cgv2$cgcur" ] || skip "cannot find our cgroup2 ($cgcur) under $cgv2"
unshare --pid --fork --mount --mount-proc true 2>/dev/null ||
	skip "unshare --pid --mount is not permitted here"

work=$(mktemp -d "$top_builddir/tests/system/boot.XXXXXX" 2>/dev/null ||
       { mkdir -p "$top_builddir/tests/system" && mktemp -d "$top_builddir/tests/system/boot.XXXXXX"; }) || exit 99
tag=$$.$RANDOM
# Left by a run that was itself SIGKILLed (its namespace died with the
# timeout): empty by now; removed when the run's PID is gone.
cgbase="${cgv2}${cgcur%/}"
for stale in "$cgbase"/circd-systest.*; do
	[ -d "$stale" ] || continue
	p=${stale##*/circd-systest.}
	kill -0 "${p%%.*}" 2>/dev/null && continue
	find "$stale" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -d "$stale" ] || log "removed the empty cgroup $stale of an earlier run that was killed"
done
cg="$cgbase/circd-systest.$tag"
ns_pid=
unshare_pid=

# ---- host state before ----
host_tmp_before=$(ls -la /tmp | wc -l)
host_tmp_names=$(ls -A /tmp)
canary=$(mktemp /tmp/circd-systest-canary.XXXXXX) || exit 99
core_pattern_before=$(cat /proc/sys/kernel/core_pattern)
# systemd-named cgroups (init.scope, system.slice, *.service ...) anywhere in
# the host's trees but under ours (or another run's) sub-cgroup.  Other
# cgroups come and go with the machine's other jobs.
cgroups_now() {
	find /sys/fs/cgroup -mindepth 1 -type d \( -name '*.scope' -o -name '*.slice' -o \
		-name '*.service' -o -name '*.socket' -o -name '*.mount' \) \
		-not -path '*/circd-systest.*' 2>/dev/null | sort
}
cgroups_before=$(cgroups_now)
etc_circd_before=$(test -e /etc/circd && echo present || echo absent)
varlib_circd_before=$(test -e /var/lib/circd && echo present || echo absent)

host_check() {
	local bad=0 after
	after=$(ls -la /tmp | wc -l)
	if [ ! -e "$canary" ]; then echo "FAIL: HOST /tmp LOST FILES: the canary $canary is gone"; bad=1; fi
	# Other jobs on a shared machine come and go in /tmp: a few names
	# gone is reported; the canary gone, or half of /tmp, is the wipe.
	lost=$(printf '%s\n' "$host_tmp_names" | while IFS= read -r n; do
		[ -n "$n" ] && [ ! -e "/tmp/$n" ] && [ ! -L "/tmp/$n" ] && echo "$n"; done)
	n_lost=$(printf '%s' "$lost" | grep -c .)
	n_before=$(printf '%s' "$host_tmp_names" | grep -c .)
	if [ "$n_lost" -gt 0 ]; then
		echo "WARNING: $n_lost of $n_before names in the host's /tmp went away during the run" \
		     "(other jobs?): $(echo $lost | cut -c1-300)"
		if [ $((n_lost * 2)) -ge "$n_before" ] && [ "$n_before" -gt 2 ]; then
			echo "FAIL: HOST /tmp LOST FILES: $n_lost of $n_before entries gone"; bad=1
		fi
	fi
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$core_pattern_before" ] ||
		{ echo "FAIL: the host's kernel.core_pattern changed"; bad=1; }
	[ "$(cgroups_now)" = "$cgroups_before" ] ||
		{ echo "FAIL: the host's cgroup trees changed: $(diff <(echo "$cgroups_before") <(cgroups_now) | grep '^[<>]' | head -20 | tr '\n' ' ')"; bad=1; }
	[ "$(test -e /etc/circd && echo present || echo absent)" = "$etc_circd_before" ] ||
		{ echo "FAIL: the host's /etc/circd changed ($etc_circd_before before)"; bad=1; }
	[ "$(test -e /var/lib/circd && echo present || echo absent)" = "$varlib_circd_before" ] ||
		{ echo "FAIL: the host's /var/lib/circd changed ($varlib_circd_before before)"; bad=1; }
	for d in $NS_DIRS_TMPFS /etc /dev; do
		[ -e "$d/.circd-systest-probe.$tag" ] &&
			{ echo "FAIL: namespace probe leaked to the host: $d/.circd-systest-probe.$tag"; bad=1; }
	done
	[ $bad = 0 ] && echo "ok: host untouched: /tmp had $host_tmp_before entries (ls -la | wc -l), now $after; canary kept; core_pattern, cgroup roots, /etc/circd, /var/lib/circd unchanged"
	return $bad
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$ns_pid" ] && kill -0 "$ns_pid" 2>/dev/null; then
		if [ $rc != 0 ] && [ $rc != 77 ] && [ -e /proc/$ns_pid/root/run/systemd/private ]; then
			echo "# the namespace's journal (last 60 lines):"
			nsenter -t "$ns_pid" -m -p journalctl --no-pager -o short-monotonic 2>&1 |
				tail -60 | sed 's/^/#   /'
		fi
		kill -9 "$ns_pid"
	fi
	[ -n "$unshare_pid" ] && wait "$unshare_pid" 2>/dev/null
	# Every process of the namespace died with its PID 1; remove our cgroups.
	if [ -d "$cg" ]; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$cg" ] || break
			sleep 0.2
		done
		[ -d "$cg" ] && echo "WARNING: could not remove $cg"
	fi
	host_check || rc=1
	rm -f "$canary"
	if [ $rc = 0 ] || [ $rc = 77 ]; then
		[ "${CIRCD_TEST_KEEP:-0}" = 1 ] || rm -rf "$work"
	else
		echo "# set-up output of this run:"
		sed 's/^/#   /' "$work/setup.log" 2>/dev/null | tail -20
		echo "# kept for inspection: $work"
	fi
	log "took $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&3; exit 1; }

# ---- files the namespace side installs ----
cp "$top_builddir/systemd/circd.service" "$work/circd.service"
cp "$top_builddir/systemd/sysusers.d/circd.conf" "$work/sysusers.conf"
execstart=$(sed -n 's/^ExecStart=//p' "$work/circd.service")
case $execstart in
*" -c "*" --log-target=journal") ;;
*) fail "unexpected ExecStart=$execstart in the generated unit" ;;
esac
# Same command line, the built binary and the config in /etc/circd (overlay).
set -- $execstart
shift
new_exec="$CIRCD_BIN"
while [ $# -gt 0 ]; do
	if [ "$1" = -c ]; then new_exec="$new_exec -c /etc/circd/circd.conf"; shift 2; continue; fi
	new_exec="$new_exec $1"; shift
done
cat > "$work/10-systest.conf" <<EOF
# test-systemd-boot.sh: boot-safe and fast.  Everything else is the
# generated unit, unchanged.
[Unit]
DefaultDependencies=no
[Service]
ExecStart=
ExecStart=$new_exec
WatchdogSec=2s
RestartSec=2s
EOF
cat > "$work/circd-test.target" <<EOF
[Unit]
Description=circd system test (nothing but journald)
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service
EOF
# The reader of the jsonl FIFO: while it runs, jsonl's open()/write() go
# through; stopped, jsonl's worker blocks in open(2).
cat > "$work/circd-sink.service" <<EOF
[Unit]
Description=circd system test: reader of the jsonl FIFO
DefaultDependencies=no
[Service]
ExecStart=/bin/sh -c 'exec cat /var/lib/circd-sink/sink.fifo >> /var/lib/circd-sink/out.jsonl'
EOF
conf() { # $1 = device list
	cat <<EOF
site = "systest";
log_level = "info";
state_directory = "/var/lib/circd";
runtime_directory = "/run/circd";
plugin_directory = "$CIRCD_PLUGIN_DIR";
devices = ( $1 );
stations = ( { name = "returns"; role = "bookdrop"; devices = [ $2 ]; debounce_ms = 0; } );
upstreams = ( { name = "out"; plugin = "jsonl"; path = "/var/lib/circd-sink/sink.fifo"; } );
EOF
}
conf '{ name = "drop1"; plugin = "sim"; }' '"drop1"' > "$work/circd.conf.1"
conf '{ name = "drop1"; plugin = "sim"; }, { name = "drop2"; plugin = "sim"; }' '"drop1", "drop2"' \
	> "$work/circd.conf.2"
"$CIRCD_BIN" -t -c "$work/circd.conf.2" >/dev/null 2>&1 ||
	{ "$CIRCD_BIN" -t -c "$work/circd.conf.2"; fail "the test config is refused by circd -t"; }
mkfifo "$work/go"

# ---- the namespace ----
mkdir "$cg" || skip "cannot create a cgroup2 sub-cgroup $cg"
mode=${CIRCD_SYSTEST_MODE:-boot}
limit=${CIRCD_SYSTEST_LIMIT:-300}
(
	echo $BASHPID > "$cg/cgroup.procs" || exit 98
	# A last resort if this script is itself killed (no trap runs): after
	# $limit s timeout kills unshare, and --kill-child makes the kernel
	# SIGKILL the namespace's PID 1 when unshare dies.
	exec timeout -s KILL "$limit" unshare --kill-child=SIGKILL --pid --fork --mount --mount-proc \
		--uts --ipc --net --cgroup bash "$me" --inner "$work" "$mode" "$tag" "$SYSTEMD"
) > "$work/setup.log" 2>&1 &
unshare_pid=$!
child_of() { cat /proc/$1/task/$1/children 2>/dev/null | awk '{print $1}'; }
for _ in $(seq 100); do
	u=$(child_of $unshare_pid)
	ns_pid=$([ -n "$u" ] && child_of $u)
	[ -n "$ns_pid" ] && [ -e "/proc/$ns_pid/root/run/systest/ready" ] && break
	if ! kill -0 $unshare_pid 2>/dev/null; then
		wait $unshare_pid; rc=$?
		[ -s "$work/inner-skip" ] && skip "$(cat "$work/inner-skip")"
		cat "$work/setup.log"
		fail "the namespace set-up failed (exit $rc)"
	fi
	sleep 0.05
done
[ -e "/proc/$ns_pid/root/run/systest/ready" ] || fail "the namespace set-up did not finish"

# ---- dry check: nothing created inside shows up on the host ----
for d in $NS_DIRS_TMPFS /etc /dev; do
	[ -e "/proc/$ns_pid/root$d/.circd-systest-probe.$tag" ] ||
		{ echo stop > "$work/go"; fail "probe $d not visible inside the namespace"; }
	[ ! -e "$d/.circd-systest-probe.$tag" ] ||
		{ echo stop > "$work/go"; fail "SHIELD BROKEN: $d/.circd-systest-probe.$tag appeared on the host"; }
done
[ -e "$canary" ] || { echo stop > "$work/go"; fail "HOST /tmp LOST FILES during the set-up: $canary is gone"; }
ok "dry check: probes in $NS_DIRS_TMPFS /etc /dev exist in the namespace and not on the host"
if [ "$mode" = dry ]; then
	echo stop > "$work/go"
	exit 0
fi
echo boot > "$work/go"
t_boot=$(date +%s.%N)

# ---- talking to it ----
ns() { nsenter -t "$ns_pid" -m -p -u -i -n -C "$@"; }
sctl() { ns systemctl "$@"; }
show() { sctl show -p "$1" --value circd; }
circctl() { ns "$CIRCCTL_BIN" -s /run/circd/control.sock "$@"; }
jdb() { # python3 expression over a read-only journal.db -> prints result
	ns python3 -c '
import sqlite3, sys
db = sqlite3.connect("file:/var/lib/circd/journal.db?mode=ro", uri=True)
for row in db.execute(sys.argv[1]): print("|".join(str(x) for x in row))' "$1"
}
sink_items() { ns sh -c 'cat /var/lib/circd-sink/out.jsonl' | python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip(): print(json.loads(line).get("item_id", ""))'; }
waitfor() { # seconds, what, command...
	local t=$1 what=$2 end
	shift 2
	end=$(( $(date +%s%N) + t * 1000000000 ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt $end ] || fail "timed out after ${t}s waiting for $what"
		sleep 0.1
	done
}
booted() {
	kill -0 "$ns_pid" 2>/dev/null ||
		skip "systemd could not run as PID 1 in the namespace here (it exited at boot; see $work/setup.log)"
	[ -e /proc/$ns_pid/root/run/systemd/private ] && [ "$(sctl is-active circd-test.target)" = active ]
}
waitfor 30 "systemd to boot circd-test.target" booted
t=$(awk -v a="$t_boot" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
ok "systemd $(sctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p') booted as PID 1 of the namespace (host PID $ns_pid) in ${t}s"
# The shield as systemd left it: re-read the namespace's mount table.
shield_ok() {
	python3 - "/proc/$ns_pid/mountinfo" $NS_DIRS_TMPFS <<'PY'
import sys
top = {}
for line in open(sys.argv[1]):
    f = line.split()
    sep = f.index("-")
    top[f[4]] = (f[sep + 1], f[5].split(","))  # last mount on a path wins
want = {d: "tmpfs" for d in sys.argv[2:]}
want["/etc"] = "overlay"
bad = ["%s is %s, not %s" % (d, top.get(d, ("-",))[0], t) for d, t in want.items() if top.get(d, ("-",))[0] != t]
for ro in ("/", "/sys", "/proc/sys"):
    if "ro" not in top.get(ro, ("", []))[1]:
        bad.append("%s is not read-only" % ro)
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
}
why=$(shield_ok) || fail "the namespace's shield changed after boot: $why"
capbnd=$(sed -n 's/^CapBnd:\t//p' /proc/$ns_pid/status)
for bit in 16 17 25 34; do # sys_module sys_rawio sys_time syslog
	[ $(( 0x$capbnd >> bit & 1 )) = 0 ] || fail "PID 1 of the namespace still has capability $bit"
done
ok "after boot: tmpfs on $NS_DIRS_TMPFS, overlay on /etc, / /sys /proc/sys read-only; PID 1 without cap_sys_module/rawio/time/syslog"
[ "$(sctl is-active systemd-journald.service)" = active ] ||
	fail "systemd-journald does not run in the namespace"
log "units: $(sctl show -p FragmentPath -p DropInPaths circd | tr '\n' ' ')"
cmp -s "$top_builddir/systemd/circd.service" /proc/$ns_pid/root/run/systemd/system/circd.service ||
	fail "the unit in the namespace is not the generated circd.service"

sctl start circd-sink.service || fail "cannot start the FIFO reader"

# ---- 1. Type=notify start ----
t0=$(date +%s%N)
sctl start circd.service || { sctl status circd; fail "systemctl start circd failed"; }
t1=$(date +%s%N)
state=$(sctl show -p ActiveState -p SubState -p Type -p NotifyAccess -p WatchdogUSec -p MainPID circd)
log "$(echo $state)"
[ "$(show ActiveState)/$(show SubState)" = active/running ] ||
	fail "after systemctl start: $(show ActiveState)/$(show SubState), not active/running"
[ "$(show Type)" = notify ] || fail "Type=$(show Type), not notify"
status=$(show StatusText)
case $status in
"running: 1/1 devices ok"*) ;;
*) fail "StatusText='$status' is not circd's running status" ;;
esac
pid1=$(show MainPID)
[ "$pid1" -gt 1 ] || fail "MainPID=$pid1"
circctl status > "$work/status.1" || fail "circctl status does not answer right after start"
ok "Type=notify start: systemctl start returned after $(( (t1 - t0) / 1000000 )) ms with active/running, MainPID $pid1, STATUS=\"$status\"; control socket answers"
user=$(ns ps -o user= -p "$pid1")
[ "$user" = circd ] || fail "circd runs as '$user', not circd"
ok "circd runs as user circd (from the project's sysusers file, in the namespace's /etc overlay)"

inject() { # device, item
	circctl sim "$1" "tag uid=$(printf 'E0040100%08X' "$3") item=$2 dwell=20" >/dev/null ||
		fail "circctl sim $1 failed"
}
in_sink() { sink_items | grep -qx "$1"; }
inject drop1 SYS-0001 1
waitfor 10 "SYS-0001 in the jsonl sink" in_sink SYS-0001
ok "a return at drop1 is forwarded to the jsonl upstream"

# ---- 2. reload ----
ns sh -c 'cat > /etc/circd/circd.conf' < "$work/circd.conf.2"
sctl reload circd.service || fail "systemctl reload circd failed"
has_drop2() { circctl status | grep -q drop2 && [ "$(show StatusText | cut -d, -f1)" = "running: 2/2 devices ok" ]; }
waitfor 10 "drop2 in circctl status and 2/2 devices in STATUS=" has_drop2
[ "$(show MainPID)" = "$pid1" ] || fail "MainPID changed on reload: $pid1 -> $(show MainPID)"
[ "$(show ActiveState)" = active ] || fail "not active after reload"
inject drop2 SYS-0002 2
waitfor 10 "SYS-0002 (drop2) in the jsonl sink" in_sink SYS-0002
ok "systemctl reload applied the new config (drop2 in circctl status, STATUS=\"$(show StatusText)\"), MainPID $pid1 unchanged; drop2's return forwarded"
ns journalctl -u circd --no-pager -o cat | grep -q "reload done: 2 devices" ||
	fail "the journal does not show 'reload done: 2 devices'"
ok "journalctl -u circd shows 'reload done: 2 devices'"

# ---- 3. stalled worker -> watchdog ----
# First the control: with every worker checking in, WATCHDOG=1 keeps
# coming and circd outlives WatchdogSec= (2 s) by far.
sleep 3
[ "$(show NRestarts)/$(show MainPID)/$(show ActiveState)" = "0/$pid1/active" ] ||
	fail "circd was restarted although no worker stalled (NRestarts=$(show NRestarts), MainPID=$(show MainPID))"
ok "no stall, no restart: MainPID $pid1 still active after $(( ($(date +%s%N) - t1) / 1000000000 )) s with WatchdogSec=2s"
sctl stop circd-sink.service || fail "cannot stop the FIFO reader"
t_stall=$(date +%s%N)
K=5
for k in $(seq 3 $((K + 2))); do inject drop1 "SYS-000$k" "$k"; done
journaled() { [ "$(jdb "SELECT count(*) FROM transactions WHERE item_id LIKE 'SYS-%'")" = $((K + 2)) ]; }
waitfor 3 "the $K returns of the outage in journal.db" journaled
[ "$(show MainPID)" = "$pid1" ] || fail "circd was restarted before the $K returns were journaled"
jdb "SELECT t.id, t.item_id, d.state FROM transactions t JOIN deliveries d ON d.txn_id = t.id ORDER BY t.id" \
	> "$work/journal.before"
sink_items > "$work/sink.before"
pending=$(grep -c '|pending$\||inflight$' "$work/journal.before")
for k in $(seq 3 $((K + 2))); do
	grep -qx "SYS-000$k" "$work/sink.before" && fail "SYS-000$k reached the sink although its reader is stopped"
done
ok "FIFO reader stopped: $K returns journaled, not forwarded ($pending deliveries pending/inflight in journal.db)"
# Result=watchdog is only visible until the restart resets it: poll closely.
# Meanwhile, where the worker is: a thread of circd in openat(2) (x86-64
# syscall 257, /proc/PID/task/TID/syscall) is jsonl opening the FIFO.
result='' blocked=''
blocked_in_open() {
	ns sh -c "for t in /proc/$pid1/task/*; do
		case \$(cat \$t/syscall 2>/dev/null) in '257 '*) echo \${t##*/} \$(cat \$t/comm); esac; done"
}
for _ in $(seq 150); do
	[ -n "$blocked" ] || blocked=$(blocked_in_open)
	r=$(sctl show -p Result -p SubState -p MainPID circd | tr '\n' ' ')
	case $r in *"Result=watchdog"*) result=watchdog; break ;; esac
	case $r in *"MainPID=$pid1 "*) ;; *) break ;; esac
	sleep 0.1
done
t_kill=$(date +%s%N)
[ "$result" = watchdog ] || fail "circd did not end with Result=watchdog ($r)"
wd_line=$(ns journalctl --no-pager -o cat _PID=1 | grep -m1 "circd.service: Watchdog timeout")
[ -n "$wd_line" ] || fail "systemd did not log 'circd.service: Watchdog timeout'"
ok "the stalled jsonl worker stopped the pings: systemd logged \"$wd_line\", Result=watchdog, $(( (t_kill - t_stall) / 1000000 )) ms after the reader stopped"
ns journalctl -u circd --no-pager -o cat | grep -q "out: worker has not checked in" ||
	fail "circd did not log that the 'out' worker had not checked in"
ok "circd logged: $(ns journalctl -u circd --no-pager -o cat | grep -m1 'out: worker has not checked in')"
[ -n "$blocked" ] && log "during the stall, circd thread ${blocked% *} (${blocked#* }) sat in openat(2)"
# The restarted circd's jsonl worker needs a reader again.
sctl start circd-sink.service || fail "cannot restart the FIFO reader"
restarted() { [ "$(show NRestarts)" = 1 ] && [ "$(show ActiveState)/$(show SubState)" = active/running ] &&
	      [ "$(show MainPID)" != "$pid1" ] && [ "$(show MainPID)" != 0 ]; }
waitfor 20 "circd to be restarted (NRestarts=1, active/running, new MainPID)" restarted
pid2=$(show MainPID)
ok "systemd restarted circd: NRestarts=1, MainPID $pid1 -> $pid2, $(show ActiveState)/$(show SubState), STATUS=\"$(show StatusText)\""

# ---- 4. the journal survived; the rest is forwarded ----
all_in_sink() { for k in $(seq 1 $((K + 2))); do in_sink "SYS-000$k" || return 1; done; }
waitfor 15 "all $((K + 2)) returns in the jsonl sink after the restart" all_in_sink
jdb "SELECT t.id, t.item_id FROM transactions t ORDER BY t.id" > "$work/journal.after"
while IFS='|' read -r id item state; do
	grep -qx "$id|$item" "$work/journal.after" ||
		fail "transaction $id ($item), journaled before the kill, is not in journal.db after the restart"
done < "$work/journal.before"
left=$(jdb "SELECT count(*) FROM deliveries WHERE state IN ('pending','inflight')")
[ "$left" = 0 ] || fail "$left deliveries still pending/inflight after the restart"
ok "journal.db survived the watchdog kill: all $(wc -l < "$work/journal.before") transactions journaled before it are there after the restart; the restarted circd forwarded the $K outage returns (no delivery left open)"
dups=$(sink_items | sort | uniq -d | tr '\n' ' ')
log "jsonl sink: $(sink_items | wc -l) lines for $((K + 2)) returns${dups:+; sent twice (inflight at the kill, at-least-once over a FIFO): $dups}"
inject drop2 SYS-0099 99
waitfor 10 "SYS-0099 in the jsonl sink" in_sink SYS-0099
ok "the restarted circd takes and forwards new returns (both devices, config kept)"
why=$(shield_ok) || fail "the namespace's shield changed during the run: $why"
exit 0
