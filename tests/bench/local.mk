# tests/bench: the core's benchmark (make bench)
bench_helpers += tests/bench/sqlite_reference
tests_bench_sqlite_reference_SOURCES = tests/bench/sqlite_reference.c
tests_bench_sqlite_reference_CPPFLAGS = $(AM_CPPFLAGS) $(SQLITE_CFLAGS)
tests_bench_sqlite_reference_LDADD = $(SQLITE_LIBS)
bench_scripts += tests/bench/bench_core.py
EXTRA_DIST += tests/bench/bench_core.py
# Reader plugins against their emulators (tests/conformance drivers)
bench_scripts += tests/bench/bench_readers.py
EXTRA_DIST += tests/bench/bench_readers.py
# The statistics over a month of a busy branch (report-data, stats).
bench_scripts += tests/bench/bench_report.py
EXTRA_DIST += tests/bench/bench_report.py
# the gate's decision latency at 2,000 reads/s (reference: the core's own dispatch)
bench_scripts += tests/bench/bench_gate.py
EXTRA_DIST += tests/bench/bench_gate.py
# book-drop returns per minute end to end (sim -> journal -> sip2 -> ACS -> sort -> Modbus sorter)
bench_scripts += tests/bench/bench_bookdrop.py
EXTRA_DIST += tests/bench/bench_bookdrop.py
