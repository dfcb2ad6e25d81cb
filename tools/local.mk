# tools/: circctl, the command-line client of the control socket
bin_PROGRAMS += circctl
circctl_SOURCES = tools/circctl.c tools/circctl.h tools/circctl-conn.c \
	tools/circctl-format.c tools/circctl-status.c tools/circctl-journal.c \
	tools/circctl-commands.c tools/circctl-item.c tools/circctl-upstream.c \
	tools/circctl-shelf.c \
	tools/circctl-selfcheck.c \
	tools/circctl-report.c tools/report-html.c \
	tools/circctl-gate.c \
	tools/circctl-station.c
circctl_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir) -DHAVE_TAG_CLI
# upstream test reads circd.conf (libcircd-config) and probes the ACS
# with the sip2 plugin's own client and option mapping (libcircd-sip2).
circctl_LDADD = lib/libcircd-tags.la daemon/libcircd-config.la lib/libcircd-sip2.la \
	lib/libcircd-util.la $(LIBCONFIG_LIBS) $(OPENSSL_LIBS) $(JSONC_LIBS) -lm

# Bash completion, installed under the command's name as bash-completion
# looks it up.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = tools/completion/circctl

# Tests: a fake circd (Python) drives circctl through every command.
TESTS += tests/unit/test_circctl.py
EXTRA_DIST += tests/unit/test_circctl.py tools/control-commands.md

# upstream test against the ACS emulator (plain, TLS, failures)
TESTS += tests/unit/test_circctl_upstream.py
EXTRA_DIST += tests/unit/test_circctl_upstream.py

# item --refresh end to end: circctl, circd, the sip2 plugin, the emulator
TESTS += tests/unit/test_circctl_item.py
EXTRA_DIST += tests/unit/test_circctl_item.py

# Fuzz target: the report page from any JSON (corpus replay always;
# libFuzzer with --enable-fuzzing).
check_PROGRAMS += tests/fuzz/replay_report_html
tests_fuzz_replay_report_html_SOURCES = tests/fuzz/fuzz_report_html.c tests/fuzz/replay_main.c \
	tools/report-html.c tools/circctl-format.c
tests_fuzz_replay_report_html_CPPFLAGS = $(circctl_CPPFLAGS) -DFUZZ_NAME='"report_html"'
tests_fuzz_replay_report_html_LDADD = lib/libcircd-util.la $(JSONC_LIBS) -lm
TESTS += tests/fuzz/replay_report_html
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_report_html
tests_fuzz_fuzz_report_html_SOURCES = tests/fuzz/fuzz_report_html.c tools/report-html.c \
	tools/circctl-format.c
tests_fuzz_fuzz_report_html_CPPFLAGS = $(circctl_CPPFLAGS)
tests_fuzz_fuzz_report_html_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_report_html_LDADD = lib/libcircd-util.la $(JSONC_LIBS) -lm
FUZZ_TARGETS += tests/fuzz/fuzz_report_html
endif
