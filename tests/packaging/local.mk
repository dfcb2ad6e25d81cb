# tests/packaging: `make check-package` builds the Debian packages from a
# copy of the source tree (debian/; dpkg-buildpackage -us -uc -b with
# DEB_BUILD_OPTIONS=nocheck), checks their contents and maintainer scripts,
# runs the packaged circd -t on the packaged circd.conf in a scratch root,
# and fails on any lintian error.  Not part of `make check`: it takes about
# a minute and needs dpkg-dev, debhelper and lintian.  CIRCD_DEB_CHECK=1
# also runs `make check` inside the package build; CIRCD_DEB_KEEP=1 keeps
# the packages and logs.
EXTRA_DIST += tests/packaging/test-deb.sh
check-package:
	$(SHELL) $(srcdir)/tests/packaging/test-deb.sh $(srcdir)
.PHONY: check-package
