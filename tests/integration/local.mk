# tests/integration: the daemon's stories (python3, real circd binary).
# Each test_<story>.py starts circd with the sim and jsonl plugins in a
# temporary directory (harness: circdtest.py) and exits 0 / 1 / 77 (skip).
EXTRA_DIST += tests/integration/circdtest.py
TESTS += tests/integration/test_returns.py
EXTRA_DIST += tests/integration/test_returns.py
TESTS += tests/integration/test_sigkill.py
EXTRA_DIST += tests/integration/test_sigkill.py
