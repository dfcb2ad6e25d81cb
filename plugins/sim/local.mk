# plugins/sim: the simulated reader/gate/sensor/sorter and its scenario parser
plugins_LTLIBRARIES += plugins/sim.la
plugins_sim_la_SOURCES = plugins/sim/sim.c plugins/sim/scenario.c plugins/sim/scenario.h \
	plugins/sim/scn_action.c plugins/sim/tag_state.c plugins/sim/tag_state.h
plugins_sim_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_sim_la_LIBADD = lib/libcircd-util.la -lm

# The scenario parser's fuzz target: always a corpus-replay test, and a
# libFuzzer binary with --enable-fuzzing.
check_PROGRAMS += tests/fuzz/replay_scenario
tests_fuzz_replay_scenario_SOURCES = tests/fuzz/fuzz_scenario.c tests/fuzz/replay_main.c \
	plugins/sim/scenario.c plugins/sim/scn_action.c
tests_fuzz_replay_scenario_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins -DFUZZ_NAME='"scenario"'
tests_fuzz_replay_scenario_LDADD = lib/libcircd-util.la -lm
TESTS += tests/fuzz/replay_scenario
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_scenario
tests_fuzz_fuzz_scenario_SOURCES = tests/fuzz/fuzz_scenario.c plugins/sim/scenario.c \
	plugins/sim/scn_action.c
tests_fuzz_fuzz_scenario_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins
tests_fuzz_fuzz_scenario_LDADD = lib/libcircd-util.la -lm
tests_fuzz_fuzz_scenario_LDFLAGS = -fsanitize=fuzzer
FUZZ_TARGETS += tests/fuzz/fuzz_scenario
endif
