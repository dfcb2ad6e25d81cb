/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting, steering and stopping a reader emulator (see emulator.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "emulator.h"
#include "util/util.h"

static int fail(struct emulator *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct emulator *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->error, sizeof(e->error), fmt, ap);
	va_end(ap);
	return r;
}

/* A raw pty behind e->link.  The kit keeps a slave fd open for as long as
 * the "device" is plugged in: without one, the master sees EIO whenever
 * the plugin has its side closed (between reconnects), and a real serial
 * adapter does not vanish because nobody has it open. */
static int open_pty(struct emulator *e)
{
	struct termios raw;
	char name[128];

	memset(&raw, 0, sizeof(raw));
	cfmakeraw(&raw);
	if (openpty(&e->master, &e->slave, name, &raw, NULL) < 0)
		return fail(e, -errno, "openpty: %s", strerror(errno));
	fcntl(e->master, F_SETFD, FD_CLOEXEC);
	fcntl(e->slave, F_SETFD, FD_CLOEXEC);
	unlink(e->link);
	if (symlink(name, e->link) < 0)
		return fail(e, -errno, "symlink %s: %s", e->link, strerror(errno));
	return 0;
}

static void close_pty(struct emulator *e)
{
	if (e->master >= 0)
		close(e->master);
	if (e->slave >= 0)
		close(e->slave);
	e->master = e->slave = -1;
	unlink(e->link);
}

static int spawn(struct emulator *e)
{
	const struct driver *d = e->driver;
	const char *py = getenv("PYTHON3") ? getenv("PYTHON3") : "python3";
	const char *argv[8 + DRIVER_MAX_LIST];
	char fdarg[16];
	int out[2] = { -1, -1 };
	size_t n = 0;

	argv[n++] = py;
	argv[n++] = d->emulator;
	if (e->kind == TRANSPORT_TCP) {
		if (pipe2(out, O_CLOEXEC) < 0)
			return fail(e, -errno, "pipe: %s", strerror(errno));
		argv[n++] = "--tcp";
		argv[n++] = "0";
	} else {
		snprintf(fdarg, sizeof(fdarg), "%d", e->master);
		argv[n++] = "--pty-fd";
		argv[n++] = fdarg;
	}
	argv[n++] = "--control";
	argv[n++] = e->control;
	argv[n++] = "--state";
	argv[n++] = e->state;
	for (size_t i = 0; i < d->n_emulator_args; i++)
		argv[n++] = d->emulator_args[i];
	argv[n] = NULL;

	e->pid = fork();
	if (e->pid < 0)
		return fail(e, -errno, "fork: %s", strerror(errno));
	if (e->pid == 0) {
		/* the kit dying (a crash under test) must not leave it behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (e->kind == TRANSPORT_TCP)
			dup2(out[1], 1);
		else
			fcntl(e->master, F_SETFD, 0); /* the one fd it inherits */
		execvp(py, (char *const *)argv);
		_exit(127);
	}
	if (e->kind == TRANSPORT_TCP) {
		char line[64] = "";
		close(out[1]);
		FILE *f = fdopen(out[0], "r");
		bool got = f && fgets(line, sizeof(line), f);
		if (f)
			fclose(f);
		else
			close(out[0]);
		if (!got || sscanf(line, "TCP %u", &e->port) != 1)
			return fail(e, -EIO, "%s did not say 'TCP <port>'", d->emulator);
	}
	return 0;
}

int emulator_start(struct emulator *e, const struct driver *d, enum transport_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->driver = d;
	e->kind = kind;
	e->master = e->slave = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/circd-conformance-XXXXXX");
	if (!mkdtemp(e->dir)) {
		e->dir[0] = '\0';
		return fail(e, -errno, "mkdtemp: %s", strerror(errno));
	}
	snprintf(e->link, sizeof(e->link), "%s/tty", e->dir);
	snprintf(e->control, sizeof(e->control), "%s/control", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	int fd = open(e->control, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(e, -errno, "%s: %s", e->control, strerror(errno));
	close(fd);
	if (kind == TRANSPORT_PTY) {
		int r = open_pty(e);
		if (r < 0)
			return r;
	}
	return spawn(e);
}

static void kill_process(struct emulator *e)
{
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, NULL, 0);
	}
	e->pid = 0;
}

void emulator_stop(struct emulator *e)
{
	kill_process(e);
	close_pty(e);
	if (!e->dir[0])
		return;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", e->state);
	unlink(tmp);
	unlink(e->state);
	unlink(e->control);
	rmdir(e->dir);
	e->dir[0] = '\0';
}

int emulator_say(struct emulator *e, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return fail(e, -EINVAL, "control line too long");
	line[n++] = '\n';
	/* one write() per line, O_APPEND: the emulator never sees half a line
	 * unless it reads in the middle, and it only takes complete ones */
	int fd = open(e->control, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return fail(e, -errno, "%s: %s", e->control, strerror(errno));
	ssize_t w = write(fd, line, (size_t)n);
	close(fd);
	return w == n ? 0 : fail(e, -EIO, "short write to %s", e->control);
}

int emulator_unplug(struct emulator *e)
{
	if (e->kind != TRANSPORT_PTY)
		return fail(e, -EINVAL, "unplug by the kit is for ptys; say 'unplug MS' over TCP");
	kill_process(e);
	close_pty(e); /* the plugin's slave now reads EIO / POLLHUP */
	return 0;
}

int emulator_replug(struct emulator *e, const char *const *field, size_t n)
{
	int fd = open(e->control, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int r;

	if (fd < 0)
		return fail(e, -errno, "%s: %s", e->control, strerror(errno));
	close(fd);
	for (size_t i = 0; i < n; i++)
		if ((r = emulator_say(e, "%s", field[i])) < 0)
			return r;
	if ((r = open_pty(e)) < 0)
		return r;
	return spawn(e);
}

static char *read_state(struct emulator *e)
{
	_cleanup_fclose_ FILE *f = fopen(e->state, "re");
	char *buf = NULL;
	size_t size = 0;

	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &size);
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, got, m);
	fclose(m);
	return buf;
}

static int field_value(const char *line, const char *key)
{
	_cleanup_free_ char *pat = xasprintf(" %s=", key);
	const char *p = strstr(line, pat);
	if (!p)
		return -1;
	return (int)strtol(p + strlen(pat), NULL, strcmp(key, "eas") ? 16 : 10);
}

int emulator_tag_state(struct emulator *e, const char *uid, int *afi, int *eas)
{
	_cleanup_free_ char *buf = read_state(e);
	char *save = NULL;

	if (!buf)
		return -errno;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncasecmp(line, uid, strlen(uid)) || line[strlen(uid)] != ' ')
			continue;
		*afi = field_value(line, "afi");
		*eas = field_value(line, "eas");
		return 1;
	}
	return 0;
}

long emulator_counter(struct emulator *e, const char *name)
{
	_cleanup_free_ char *buf = read_state(e);
	_cleanup_free_ char *pat = xasprintf("%s=", name);
	const char *p = buf ? strstr(buf, pat) : NULL;

	if (!p || (p > buf && p[-1] != ' ' && p[-1] != '\n'))
		return -1;
	return strtol(p + strlen(pat), NULL, 10);
}
