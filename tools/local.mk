# tools/: circctl, the command-line client of the control socket
bin_PROGRAMS += circctl
circctl_SOURCES = tools/circctl.c tools/circctl.h tools/circctl-conn.c \
	tools/circctl-format.c tools/circctl-status.c tools/circctl-journal.c \
	tools/circctl-commands.c
circctl_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir) -DHAVE_TAG_CLI
circctl_LDADD = lib/libcircd-tags.la lib/libcircd-util.la $(JSONC_LIBS)

# Bash completion, installed under the command's name as bash-completion
# looks it up.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = tools/completion/circctl

# Tests: a fake circd (Python) drives circctl through every command.
TESTS += tests/unit/test_circctl.py
EXTRA_DIST += tests/unit/test_circctl.py tools/control-commands.md
