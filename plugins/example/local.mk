# plugins/example: the template a maintainer copies to start a reader plugin.
# Built and installed like the others; it only needs <circd/plugin.h>
# (tests/plugin-host/test-oot-build.sh builds it out of tree too).
plugins_LTLIBRARIES += plugins/example.la
plugins_example_la_SOURCES = plugins/example/example.c
plugins_example_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
