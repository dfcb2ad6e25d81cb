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

# A worker stuck outside host->wait() (tests/plugins/stuck.c, a test-only
# plugin built outside plugins/.libs so no other test loads it).
check_LTLIBRARIES += tests/plugins/stuck.la
tests_plugins_stuck_la_SOURCES = tests/plugins/stuck.c
tests_plugins_stuck_la_LDFLAGS = $(CIRCD_PLUGIN_LINK) -rpath $(abs_builddir)
TESTS += tests/integration/test_stuck_worker.py
EXTRA_DIST += tests/integration/test_stuck_worker.py
TESTS += tests/integration/test_shelf.py tests/integration/test_shelf_config.py
EXTRA_DIST += tests/integration/test_shelf.py tests/integration/test_shelf_config.py
# Self-check kiosk stories: sim pad and card readers, sip2 against the ACS
# emulator (tests/emulators/acs-selfcheck.json), circctl selfcheck.
EXTRA_DIST += tests/integration/selfcheck_lib.py tests/emulators/acs-selfcheck.json
TESTS += tests/integration/test_selfcheck.py
EXTRA_DIST += tests/integration/test_selfcheck.py
TESTS += tests/integration/test_selfcheck_offline.py
EXTRA_DIST += tests/integration/test_selfcheck_offline.py
# The statistics and the HTML report (seeded journal; the screenshot test
# needs Debian's chromium and skips without it).
TESTS += tests/integration/test_report.py tests/integration/test_report_screenshot.py
# A month's report while the branch works: the query thread (daemon/ctl_query.h).
TESTS += tests/integration/test_report_busy.py
EXTRA_DIST += tests/integration/test_report_busy.py
EXTRA_DIST += tests/integration/test_report.py tests/integration/test_report_screenshot.py \
	tests/integration/reportseed.py
# Reader fault stories: the real feig and 3m810 plugins against their
# emulators (a pty pair, loopback TCP) next to a sim device at one bookdrop:
# a pulled cable and a dropped connection, garbage answers, a silent reader.
EXTRA_DIST += tests/integration/readers_lib.py
TESTS += tests/integration/test_reader_unplug.py tests/integration/test_reader_garbage.py \
	tests/integration/test_reader_silent.py
EXTRA_DIST += tests/integration/test_reader_unplug.py tests/integration/test_reader_garbage.py \
	tests/integration/test_reader_silent.py
# The template plugin on a TCP reader through the daemon's host streams (ABI 1.4).
TESTS += tests/integration/test_example_tcp.py
EXTRA_DIST += tests/integration/test_example_tcp.py
# The gate station: decision modes with the ILS, lingering and garbage tags,
# the Modbus alarm coil and beams.
EXTRA_DIST += tests/integration/gate_lib.py
TESTS += tests/integration/test_gate_modes.py
EXTRA_DIST += tests/integration/test_gate_modes.py
TESTS += tests/integration/test_gate_linger.py
EXTRA_DIST += tests/integration/test_gate_linger.py
TESTS += tests/integration/test_gate_modbus.py
EXTRA_DIST += tests/integration/test_gate_modbus.py
TESTS += tests/integration/test_gate_restart.py
EXTRA_DIST += tests/integration/test_gate_restart.py
TESTS += tests/integration/test_gate_config.py
EXTRA_DIST += tests/integration/test_gate_config.py
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
TESTS += tests/integration/test_durable_order.py
EXTRA_DIST += tests/integration/test_durable_order.py

# ./quickstart demo shows what the README says (tools/circd-demo, ~40 s)
TESTS += tests/integration/test_demo.py
EXTRA_DIST += tests/integration/test_demo.py
