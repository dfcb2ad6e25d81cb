# tests/emulators: nothing yet
# acs.py: SIP2 ACS emulator (independent of lib/sip2), with its fixtures
EXTRA_DIST += tests/emulators/acs.py tests/emulators/acs-basic.json
