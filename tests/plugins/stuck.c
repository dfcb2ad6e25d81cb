/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stuck — a test plugin that misbehaves on purpose (tests only, never
 * installed).  A reader that idles in host->wait() like a good plugin until
 * the file `trigger` appears; then it blocks OUTSIDE host->wait(), in
 * open(2) of the FIFO `fifo`, as a plugin stuck on a device that does not
 * answer would.  It comes back when someone opens the FIFO for writing, and
 * from then on behaves again (the trigger is removed).
 *
 * tests/integration/test_stuck_worker.py uses it to show that a stuck
 * worker does not stall the daemon, and that the watchdog says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <circd/plugin.h>

struct stuck {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	const char *trigger, *fifo;
};

static int stuck_run(void *state)
{
	struct stuck *s = state;

	s->host->set_health(s->inst, CIRCD_HEALTH_OK, "idle");
	for (;;) {
		int w = s->host->wait(s->inst, -1, 0, 50);
		if (w < 0)
			return w;
		if (w & CIRCD_WAKE_STOP)
			return 0;
		struct circd_command cmd = { .struct_size = sizeof(cmd) };
		while (s->host->take_command(s->inst, &cmd) == 1)
			s->host->command_done(s->inst, &cmd, -EOPNOTSUPP, "stuck plugin");
		if (access(s->trigger, F_OK) != 0)
			continue;
		s->host->log(s->inst, CIRCD_LOG_NOTICE, "stuck: blocking in open(%s)", s->fifo);
		int fd = open(s->fifo, O_RDONLY | O_CLOEXEC); /* the deliberate stall */
		if (fd >= 0) {
			char buf[64];
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			close(fd);
		}
		unlink(s->trigger);
		s->host->log(s->inst, CIRCD_LOG_NOTICE, "stuck: free again");
	}
}

static int stuck_create(struct circd_instance *inst, const struct circd_host_api *host,
			void **state)
{
	struct stuck *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->inst = inst;
	s->host = host;
	s->trigger = host->opt_string(inst, "trigger");
	s->fifo = host->opt_string(inst, "fifo");
	*state = s;
	return 0;
}

static void stuck_destroy(void *state)
{
	free(state);
}

static const struct circd_option stuck_options[] = {
	{ "trigger", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0, "get stuck when this file exists" },
	{ "fifo", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0, "the FIFO to block on" },
	CIRCD_OPTION_END,
};

CIRCD_PLUGIN_DEFINE(stuck, "1.0", "test plugin: blocks outside host->wait() on demand",
		    CIRCD_KIND_READER, stuck_options, stuck_create, stuck_run, stuck_destroy);
