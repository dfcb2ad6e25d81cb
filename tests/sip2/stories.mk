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
TESTS += tests/sip2/story_sigkill.py
EXTRA_DIST += tests/sip2/story_sigkill.py
TESTS += tests/sip2/story_garbage.py
EXTRA_DIST += tests/sip2/story_garbage.py
TESTS += tests/sip2/story_tls.py tests/sip2/story_tls_status.py
EXTRA_DIST += tests/sip2/story_tls.py tests/sip2/story_tls_status.py
TESTS += tests/sip2/story_exceptions.py
EXTRA_DIST += tests/sip2/story_exceptions.py
# make bench: the backlog drain against the emulator's raw rate
bench_scripts += tests/bench/bench_sip2_drain.py
EXTRA_DIST += tests/bench/bench_sip2_drain.py
TESTS += tests/sip2/story_outage_no17.py
EXTRA_DIST += tests/sip2/story_outage_no17.py
