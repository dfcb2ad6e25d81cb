# tests/emulators: reader emulators for tests; emulator_io.py is the I/O
# loop (pty, TCP, --control, --state, unplug) feig_emulator.py,
# m3m_emulator.py and example_emulator.py share
EXTRA_DIST += tests/emulators/emulator_io.py
# acs.py: SIP2 ACS emulator (independent of lib/sip2), with its fixtures
EXTRA_DIST += tests/emulators/acs.py tests/emulators/acs-basic.json
