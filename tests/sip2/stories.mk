# tests/sip2: the SIP2 issue's end-to-end stories: the real circd binary with
# the sim reader, a bookdrop station and the sip2 upstream plugin against the
# ACS emulator (tests/emulators/acs.py) on 127.0.0.1.  Each story_<name>.py
# exits 0 / 1 / 77 (skip, with the reason).  Shared code: story_lib.py.
EXTRA_DIST += tests/sip2/story_lib.py tests/emulators/acs-stories.json
TESTS += tests/sip2/story_online.py
EXTRA_DIST += tests/sip2/story_online.py
TESTS += tests/sip2/story_outage.py tests/sip2/story_outage_drop.py \
	tests/sip2/story_outage_noblock.py
EXTRA_DIST += tests/sip2/story_outage.py tests/sip2/story_outage_drop.py \
	tests/sip2/story_outage_noblock.py
# Bug: returns journaled while the upstream was paused (never attempted during
# the outage) are posted as live checkins, no block = N; DESIGN.md wants the
# whole backlog replayed with no block = Y.  daemon/forwarder.c
# txn_from_delivery() decides replay only from attempts/maybe_sent/age.
XFAIL_TESTS += tests/sip2/story_outage_noblock.py
TESTS += tests/sip2/story_sigkill.py
EXTRA_DIST += tests/sip2/story_sigkill.py
TESTS += tests/sip2/story_garbage.py
EXTRA_DIST += tests/sip2/story_garbage.py
TESTS += tests/sip2/story_tls.py tests/sip2/story_tls_status.py
EXTRA_DIST += tests/sip2/story_tls.py tests/sip2/story_tls_status.py
# Bug: status hides why a TLS upstream is offline: an upstream's last_error
# is the forwarder's last RETRY message ("ACS not connected") rather than the
# health reason ("tls-verify: ..."); daemon/ctl_handlers.c ctl_status().
XFAIL_TESTS += tests/sip2/story_tls_status.py
TESTS += tests/sip2/story_exceptions.py
EXTRA_DIST += tests/sip2/story_exceptions.py
# make bench: the backlog drain against the emulator's raw rate
bench_scripts += tests/bench/bench_sip2_drain.py
EXTRA_DIST += tests/bench/bench_sip2_drain.py
TESTS += tests/sip2/story_outage_no17.py
EXTRA_DIST += tests/sip2/story_outage_no17.py
# Bug: every RETRY marks the delivery maybe_sent, also "ACS not connected"
# (never sent): each costs a 17 before its 09 after an outage (halves the
# drain rate for backlogs up to the 2048 window).  daemon/forwarder.c
# forwarder_handle_report(); plugins/sip2/session.c serve_round().
XFAIL_TESTS += tests/sip2/story_outage_no17.py
