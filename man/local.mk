# man/: hand-written manual pages (roff), distributed as they are: the paths
# in them are those of a Debian build (/etc, /var/lib, /run), which each page
# says.
dist_man_MANS = \
	man/circd.8 \
	man/circd.conf.5 \
	man/circctl.1 \
	man/circd-plugin.7

# test-man.sh: every page renders without a single warning (man-db and groff).
# test-plugin-example.sh: the example plugin in circd-plugin(7) compiles
# against include/circd and exports only its descriptor.
TESTS += man/test-man.sh man/test-plugin-example.sh
EXTRA_DIST += man/test-man.sh man/test-plugin-example.sh

# test-man-coverage.py: every option of `circd --help`, every configuration
# key, plugin option (with its default) and station role option the built
# daemon knows is documented in circd(8) / circd.conf(5).
TESTS += man/test-man-coverage.py
EXTRA_DIST += man/test-man-coverage.py
# The plugins `make install` installs, for test-man-coverage.py: only those
# need a section in circd.conf(5) (plugins/example is built for the tests
# but not installed).
AM_TESTS_ENVIRONMENT += CIRCD_INSTALLED_PLUGINS='$(plugins_LTLIBRARIES)'; \
	export CIRCD_INSTALLED_PLUGINS;
