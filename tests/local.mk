# tests/: shared test pieces and the daemon's integration stories.
# Each area adds its own unit tests (tests/unit/test_<module>.c) in its local.mk.
EXTRA_DIST += tests/fuzz/replay_main.c tests/fuzz/corpus
