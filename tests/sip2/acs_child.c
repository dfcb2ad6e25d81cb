/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acs_child.h"
#include "util/util.h"

char *srcdir_path(const char *rel)
{
	const char *top = getenv("top_srcdir");
	return xasprintf("%s/%s", top && *top ? top : "..", rel);
}

int acs_start(struct acs_child *a, const char *const *extra)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->dir, sizeof(a->dir), "/tmp/acs-c-XXXXXX");
	if (!mkdtemp(a->dir))
		return -errno;
	snprintf(a->log, sizeof(a->log), "%s/log.jsonl", a->dir);
	snprintf(a->control, sizeof(a->control), "%s/control.json", a->dir);
	char port_file[128];
	snprintf(port_file, sizeof(port_file), "%s/port", a->dir);
	_cleanup_free_ char *script = srcdir_path("tests/emulators/acs.py");
	_cleanup_free_ char *fixture = srcdir_path("tests/emulators/acs-basic.json");
	const char *py = getenv("PYTHON3");
	if (!py || !*py)
		py = "python3";
	const char *argv[32] = { py, script, "--fixture", fixture, "--port-file", port_file,
				 "--log", a->log, "--control", a->control };
	size_t n = 10;
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t parent = getpid();
	a->pid = fork();
	if (a->pid < 0)
		return -errno;
	if (a->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		execvp(py, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(port_file, "r");
		if (f) {
			unsigned port = 0;
			int k = fscanf(f, "%u", &port);
			fclose(f);
			if (k == 1 && port) {
				a->port = (uint16_t)port;
				return 0;
			}
		}
		if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
			a->pid = 0;
			return -ECHILD;
		}
		usleep(20000);
	}
	acs_stop(a);
	return -ETIMEDOUT;
}

void acs_stop(struct acs_child *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
		a->pid = 0;
	}
	if (a->dir[0]) {
		_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", a->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", a->dir);
		a->dir[0] = 0;
	}
}

void acs_faults(struct acs_child *a, const char *json)
{
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->control);
	FILE *f = fopen(tmp, "w");
	if (!f)
		abort();
	fputs(json, f);
	fclose(f);
	/* the emulator compares mtimes: make each write a visible change */
	static long bump;
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += ++bump;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, tmp, ts, 0);
	rename(tmp, a->control);
}

static bool line_matches(const char *line, const char *mid, const char *item)
{
	char want[64];
	snprintf(want, sizeof(want), "\"id\": \"%s\"", mid);
	if (!strstr(line, want))
		return false;
	if (!item)
		return true;
	snprintf(want, sizeof(want), "\"AB\": [\"%s\"]", item);
	return strstr(line, want) != NULL;
}

int acs_count(struct acs_child *a, const char *mid, const char *item)
{
	FILE *f = fopen(a->log, "r");
	if (!f)
		return 0;
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += line_matches(line, mid, item);
	fclose(f);
	return n;
}

char *acs_raw(struct acs_child *a, const char *mid, int n)
{
	FILE *f = fopen(a->log, "r");
	if (!f)
		return NULL;
	char line[8192];
	char *out = NULL;
	while (!out && fgets(line, sizeof(line), f))
		if (line_matches(line, mid, NULL) && n-- == 0) {
			char *p = strstr(line, "\"raw\": \"");
			if (p) {
				p += 8;
				char *e = strstr(p, "\", \"id\"");
				if (e)
					*e = 0;
				out = xstrdup(p);
			}
		}
	fclose(f);
	return out;
}
