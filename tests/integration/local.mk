# tests/integration: the daemon's stories (python3, real circd binary).
# Each test_<story>.py starts circd with the sim and jsonl plugins in a
# temporary directory (harness: circdtest.py) and exits 0 / 1 / 77 (skip).
EXTRA_DIST += tests/integration/circdtest.py
TESTS += tests/integration/test_returns.py
EXTRA_DIST += tests/integration/test_returns.py
TESTS += tests/integration/test_sigkill.py
EXTRA_DIST += tests/integration/test_sigkill.py
TESTS += tests/integration/test_notify.py
TESTS += tests/integration/test_reload_refused.py
TESTS += tests/integration/test_reload_apply.py
TESTS += tests/integration/test_reload_new_upstream.py
EXTRA_DIST += tests/integration/test_notify.py tests/integration/test_reload_refused.py \
	tests/integration/test_reload_apply.py tests/integration/test_reload_new_upstream.py
TESTS += tests/integration/test_bad_state.py
EXTRA_DIST += tests/integration/test_bad_state.py
TESTS += tests/integration/test_disk_full.py
EXTRA_DIST += tests/integration/test_disk_full.py
TESTS += tests/integration/test_exceptions.py
TESTS += tests/integration/test_retry_order.py
EXTRA_DIST += tests/integration/test_exceptions.py tests/integration/test_retry_order.py
TESTS += tests/integration/test_control_errors.py
EXTRA_DIST += tests/integration/test_control_errors.py
TESTS += tests/integration/test_tags_and_sets.py
EXTRA_DIST += tests/integration/test_tags_and_sets.py
TESTS += tests/integration/test_metrics.py
EXTRA_DIST += tests/integration/test_metrics.py
# The bookdrop station: sorting, re-securing, offline, bins and sorter faults
# (sim reader + modbus sorter against tests/emulators/modbus_sim + sip2
# against tests/emulators/acs.py).
EXTRA_DIST += tests/integration/bookdrop_lib.py
TESTS += tests/integration/test_bookdrop_sort.py
EXTRA_DIST += tests/integration/test_bookdrop_sort.py
TESTS += tests/integration/test_bookdrop_offline.py tests/integration/test_bookdrop_binfull.py \
	tests/integration/test_bookdrop_sorter_faults.py tests/integration/test_bookdrop_check.py
EXTRA_DIST += tests/integration/test_bookdrop_offline.py tests/integration/test_bookdrop_binfull.py \
	tests/integration/test_bookdrop_sorter_faults.py tests/integration/test_bookdrop_check.py
