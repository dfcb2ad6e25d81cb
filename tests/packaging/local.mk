# tests/packaging: the Debian packages (debian/).  Builds them with
# dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck) in a copy of the
# source tree, checks their contents, runs circd's maintainer scripts and
# the packaged circd -t on the packaged circd.conf in a scratch root, and
# fails on any lintian error.  Needs dpkg-dev, debhelper and lintian; skips
# (77) with the reason otherwise.  Not part of `make check`: it builds the
# whole tree again.  Run it with
#     make check-package
# (about 35 s on the project's machines; CIRCD_DEB_CHECK=1 also runs
# `make check` inside the package build, about 100 s; CIRCD_DEB_KEEP=1
# keeps the packages and logs).
EXTRA_DIST += tests/packaging/test-deb.sh

check-package:
	@$(SHELL) $(srcdir)/tests/packaging/test-deb.sh $(srcdir); rc=$$?; \
	case $$rc in 0) echo "PASS: tests/packaging/test-deb.sh";; \
	77) echo "SKIP: tests/packaging/test-deb.sh";; \
	*) echo "FAIL: tests/packaging/test-deb.sh (exit $$rc)"; exit 1;; esac

.PHONY: check-package
