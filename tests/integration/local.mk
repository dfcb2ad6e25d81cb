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
# XFAIL (bug, daemon/core.c core_reload): after a reload that is applied,
# plugin_registry_free(&old_reg) frees the old registry's plugins[] array
# that every instance kept across the reload still points into
# (inst->plugin); the control socket's status then reads freed memory and
# answers nothing (valgrind: invalid read in ctl_status).  Remove when fixed.
XFAIL_TESTS += tests/integration/test_reload_apply.py
# XFAIL (bug, daemon/core.c core_reload + station.c station_new): a station
# without "upstreams" (= every configured upstream) that is unchanged across
# a reload keeps the upstream list computed at its creation, so an upstream
# added by the reload never receives its transactions (a fresh start would).
XFAIL_TESTS += tests/integration/test_reload_new_upstream.py
TESTS += tests/integration/test_bad_state.py
EXTRA_DIST += tests/integration/test_bad_state.py
TESTS += tests/integration/test_disk_full.py
EXTRA_DIST += tests/integration/test_disk_full.py
# XFAIL (bug, daemon/forwarder.c + journal.c journal_commit): when a commit
# fails, journal_commit() drops the after-commit actions but the forwarder
# keeps its staged transactions (fw->staged, n_staged, window, cursor); the
# next commit that succeeds -- core_stop_instance()'s core_flush() during the
# exit-3 shutdown -- queues hand_over() again and sends a transaction whose
# INSERT was rolled back to the upstream (jsonl gets an id the journal does
# not have; after restart that id is reused by AUTOINCREMENT).  A race: the
# test fills the disk up to 100 times (<= 8 s) and stops at the first
# violation; measured: caught within ~30 rounds.  Remove when fixed.
XFAIL_TESTS += tests/integration/test_disk_full.py
TESTS += tests/integration/test_exceptions.py
TESTS += tests/integration/test_retry_order.py
EXTRA_DIST += tests/integration/test_exceptions.py tests/integration/test_retry_order.py
TESTS += tests/integration/test_control_errors.py
EXTRA_DIST += tests/integration/test_control_errors.py
