/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakehost: the byte streams of host API 1.4, as the daemon has them
 * (daemon/host_stream.c): lib/transport, a read that waits ends with
 * -ECANCELED on a stop request.  Open streams are counted so that a test
 * can check a plugin closed its own (fakehost_open_streams()).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "fakehost-internal.h"
#include "transport/transport.h"

struct circd_stream {
	struct fakehost *fh;
	struct transport *t;
	struct circd_stream *next; /* fh->streams, under fh->lock */
};

static bool stop_requested(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	bool stop = fh->stop;
	pthread_mutex_unlock(&fh->lock);
	return stop;
}

int fakehost_stream_open(struct circd_instance *inst, const char *spec, int connect_timeout_ms,
			 struct circd_stream **out, char *reason, size_t reason_size)
{
	struct fakehost *fh = inst->fh;
	struct transport *t;
	int r;

	*out = NULL;
	__atomic_add_fetch(&fh->checkins, 1, __ATOMIC_SEQ_CST);
	r = transport_open(spec, connect_timeout_ms, &t, reason, reason_size);
	if (r < 0)
		return r;
	struct circd_stream *s = xcalloc(1, sizeof(*s));
	s->fh = fh;
	s->t = t;
	pthread_mutex_lock(&fh->lock);
	s->next = fh->streams;
	fh->streams = s;
	pthread_mutex_unlock(&fh->lock);
	*out = s;
	return 0;
}

/* 1 readable, 0 timeout, -ECANCELED stop.  The wake eventfd is drained
 * here: host->wait() looks at the queues themselves, not at the counter. */
static int wait_readable(struct circd_stream *s, int timeout_ms)
{
	struct fakehost *fh = s->fh;
	struct pollfd p[2] = { { .fd = fh->wake_fd, .events = POLLIN },
			       { .fd = transport_fd(s->t), .events = POLLIN } };
	uint64_t v;

	if (stop_requested(fh))
		return -ECANCELED;
	__atomic_add_fetch(&fh->checkins, 1, __ATOMIC_SEQ_CST);
	int r = poll(p, 2, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents & POLLIN) {
		if (read(fh->wake_fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: drained by a racing wait(); fine */
		}
	}
	if (stop_requested(fh))
		return -ECANCELED;
	return p[1].revents ? 1 : 0;
}

ssize_t fakehost_stream_read(struct circd_stream *s, void *buf, size_t len, int timeout_ms)
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
		if (r < 0)
			return r;
		/* 0: a wake for something else, or the time is up (checked above) */
	}
}

int fakehost_stream_write_all(struct circd_stream *s, const void *buf, size_t len, int timeout_ms)
{
	return transport_write_all(s->t, buf, len, timeout_ms);
}

ssize_t fakehost_stream_drain(struct circd_stream *s)
{
	return transport_drain(s->t);
}

int fakehost_stream_reopen(struct circd_stream *s, int connect_timeout_ms)
{
	return transport_reopen(s->t, connect_timeout_ms);
}

int fakehost_stream_fd(const struct circd_stream *s)
{
	return s ? transport_fd(s->t) : -1;
}

const char *fakehost_stream_reason(const struct circd_stream *s)
{
	return s ? transport_reason(s->t) : "no stream";
}

void fakehost_stream_close(struct circd_stream *s)
{
	if (!s)
		return;
	struct fakehost *fh = s->fh;
	pthread_mutex_lock(&fh->lock);
	for (struct circd_stream **pp = &fh->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	pthread_mutex_unlock(&fh->lock);
	transport_close(s->t);
	free(s);
}

unsigned fakehost_open_streams(struct fakehost *fh)
{
	unsigned n = 0;

	pthread_mutex_lock(&fh->lock);
	for (struct circd_stream *s = fh->streams; s; s = s->next)
		n++;
	pthread_mutex_unlock(&fh->lock);
	return n;
}
