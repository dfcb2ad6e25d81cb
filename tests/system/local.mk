# tests/system: circd under a real systemd booted as PID 1 in a shielded
# namespace (tmpfs over /tmp /var/* /run, /etc as an overlay, read-only /,
# /sys and /proc/sys).  Needs root; skips (77) with the reason otherwise.
# Not part of `make check`: it boots an init system.  Run it with
#     make check-system
# (about 11 s on the project's machines).
EXTRA_DIST += tests/system/test-systemd-boot.sh

check-system: all
	@$(AM_TESTS_ENVIRONMENT) bash $(srcdir)/tests/system/test-systemd-boot.sh; rc=$$?; \
	case $$rc in 0) echo "PASS: tests/system/test-systemd-boot.sh";; \
	77) echo "SKIP: tests/system/test-systemd-boot.sh";; \
	*) echo "FAIL: tests/system/test-systemd-boot.sh (exit $$rc)"; exit 1;; esac

clean-local: clean-local-system
clean-local-system:
	-rm -rf tests/system/boot.*

.PHONY: check-system clean-local-system
