/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host API 1.4 byte streams: lib/transport, owned by an instance (see host_stream.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_stream.h"
#include "instance.h"
#include "log.h"
#include "transport/transport.h"
#include "util/util.h"

struct circd_stream {
	struct instance *inst;
	struct transport *t;
	struct circd_stream *next; /* the instance's open streams */
};

static void checkin(struct instance *inst)
{
	atomic_store(&inst->heartbeat_usec, now_monotonic_usec());
}

int host_stream_open(struct circd_instance *ci, const char *spec, int connect_timeout_ms,
		     struct circd_stream **out, char *reason, size_t reason_size)
{
	struct instance *inst = (struct instance *)ci;
	struct transport *t;
	int r;

	*out = NULL;
	checkin(inst);
	r = transport_open(spec, connect_timeout_ms, &t, reason, reason_size);
	checkin(inst);
	if (r < 0)
		return r;
	struct circd_stream *s = xcalloc(1, sizeof(*s));
	s->inst = inst;
	s->t = t;
	s->next = inst->streams;
	inst->streams = s;
	*out = s;
	return 0;
}

/* Wait until the stream's fd is readable (1), timeout_ms passes (0) or a
 * stop is requested (-ECANCELED); checked in all the while, like wait(). */
static int wait_readable(struct circd_stream *s, int timeout_ms)
{
	struct instance *inst = s->inst;
	struct pollfd p[2] = {
		{ .fd = inst->stop_efd, .events = POLLIN },
		{ .fd = transport_fd(s->t), .events = POLLIN },
	};
	int r;

	checkin(inst);
	if (atomic_load(&inst->stop_requested))
		return -ECANCELED;
	atomic_store(&inst->in_wait, true);
	do
		r = poll(p, 2, timeout_ms);
	while (r < 0 && errno == EINTR);
	atomic_store(&inst->in_wait, false);
	checkin(inst);
	if (r < 0)
		return -errno;
	if (atomic_load(&inst->stop_requested))
		return -ECANCELED;
	return p[1].revents ? 1 : 0; /* POLLHUP/POLLERR too: the read says what */
}

ssize_t host_stream_read(struct circd_stream *s, void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = now_monotonic_usec() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;

	for (;;) {
		ssize_t n = transport_read(s->t, buf, len, 0);
		if (n != 0 || timeout_ms == 0)
			return n;
		int left = -1;
		if (timeout_ms > 0) {
			uint64_t now = now_monotonic_usec();
			if (now >= deadline)
				return 0;
			left = (int)((deadline - now + 999) / 1000);
		}
		int r = wait_readable(s, left);
		if (r <= 0)
			return r;
	}
}

int host_stream_write_all(struct circd_stream *s, const void *buf, size_t len, int timeout_ms)
{
	/* Bounded by timeout_ms (a tty without flow control hardly ever
	 * blocks); not a wait, so the watchdog sees a write that hangs. */
	checkin(s->inst);
	int r = transport_write_all(s->t, buf, len, timeout_ms);
	checkin(s->inst);
	return r;
}

ssize_t host_stream_drain(struct circd_stream *s)
{
	return transport_drain(s->t);
}

int host_stream_reopen(struct circd_stream *s, int connect_timeout_ms)
{
	checkin(s->inst);
	int r = transport_reopen(s->t, connect_timeout_ms);
	checkin(s->inst);
	return r;
}

int host_stream_fd(const struct circd_stream *s)
{
	return s ? transport_fd(s->t) : -1;
}

const char *host_stream_reason(const struct circd_stream *s)
{
	return s ? transport_reason(s->t) : "no stream";
}

void host_stream_close(struct circd_stream *s)
{
	if (!s)
		return;
	for (struct circd_stream **pp = &s->inst->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	transport_close(s->t);
	free(s);
}

void host_streams_close_leftovers(struct instance *inst)
{
	unsigned n = 0;

	while (inst->streams) {
		struct circd_stream *s = inst->streams;
		inst->streams = s->next;
		transport_close(s->t);
		free(s);
		n++;
	}
	if (n)
		log_fields(CIRCD_LOG_ERR, (const char *const *)inst->fields,
			   "%s: plugin bug: %u stream(s) left open after destroy(); closed", inst->name,
			   n);
}
