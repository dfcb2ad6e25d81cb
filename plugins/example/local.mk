# plugins/example: the template a maintainer copies to start a reader plugin.
# Built (into plugins/.libs/ like the others, for its tests) but not
# installed as a plugin: its source goes to $(docdir)/examples instead.  It
# only needs <circd/plugin.h>; tests/plugin-host/test-oot-build.sh builds it
# out of tree as well.  -rpath makes libtool build a real module.
noinst_LTLIBRARIES += plugins/example.la
plugins_example_la_SOURCES = plugins/example/example.c
plugins_example_la_LDFLAGS = $(CIRCD_PLUGIN_LINK) -rpath $(pluginsdir)
examplesdir = $(docdir)/examples
dist_examples_DATA = plugins/example/example.c
