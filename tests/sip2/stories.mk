# tests/sip2: the SIP2 issue's end-to-end stories: the real circd binary with
# the sim reader, a bookdrop station and the sip2 upstream plugin against the
# ACS emulator (tests/emulators/acs.py) on 127.0.0.1.  Each story_<name>.py
# exits 0 / 1 / 77 (skip, with the reason).  Shared code: story_lib.py.
EXTRA_DIST += tests/sip2/story_lib.py tests/emulators/acs-stories.json
TESTS += tests/sip2/story_online.py
EXTRA_DIST += tests/sip2/story_online.py
