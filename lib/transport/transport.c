/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* transport: open by spec, read with timeout, write all, drain, close. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/transport-internal.h"

static int open_fd(struct transport *t, int connect_timeout_ms)
{
	t->reason[0] = '\0';
	return t->spec.kind == TRANSPORT_SERIAL ? transport_serial_open(t)
						: transport_tcp_open(t, connect_timeout_ms);
}

int transport_open(const char *spec, int connect_timeout_ms, struct transport **out,
		   char *reason, size_t reason_size)
{
	char dummy[TRANSPORT_REASON_MAX];
	struct transport *t;
	int r;

	*out = NULL;
	if (!reason || !reason_size) {
		reason = dummy;
		reason_size = sizeof(dummy);
	}
	reason[0] = '\0';
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	r = transport_spec_parse(spec, &t->spec, reason, reason_size);
	if (r < 0)
		goto fail;
	t->spec_text = strdup(spec);
	if (!t->spec_text) {
		r = -ENOMEM;
		goto fail;
	}
	r = open_fd(t, connect_timeout_ms);
	if (r < 0) {
		snprintf(reason, reason_size, "%s", t->reason);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	free(t->spec_text);
	free(t);
	return r;
}

int transport_reopen(struct transport *t, int connect_timeout_ms)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	return open_fd(t, connect_timeout_ms);
}

void transport_close(struct transport *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t->spec_text);
	free(t);
}

static int wait_fd(struct transport *t, short events, int timeout_ms)
{
	struct pollfd p = { .fd = t->fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r; /* 0 = timeout; POLLHUP/POLLERR: the read/write says what */
}

ssize_t transport_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	ssize_t n;
	int r;

	if (t->fd < 0)
		return -EBADF;
	for (;;) {
		n = read(t->fd, buf, len);
		if (n > 0)
			return n;
		if (n == 0) {
			snprintf(t->reason, sizeof(t->reason), "end of file");
			return -EPIPE;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			snprintf(t->reason, sizeof(t->reason), "read: %s", strerror(-r));
			return r;
		}
		if (timeout_ms == 0)
			return 0;
		r = wait_fd(t, POLLIN, timeout_ms);
		if (r <= 0)
			return r;
		timeout_ms = 0; /* readable now: one more read, no second wait */
	}
}

int transport_write_all(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;
	int r;

	if (t->fd < 0)
		return -EBADF;
	while (len > 0) {
		/* MSG_NOSIGNAL is a socket flag: a tty gets a plain write() */
		ssize_t n = t->spec.kind == TRANSPORT_TCP ? send(t->fd, p, len, MSG_NOSIGNAL)
							  : write(t->fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			r = -errno;
			snprintf(t->reason, sizeof(t->reason), "write: %s", strerror(-r));
			return r;
		}
		r = wait_fd(t, POLLOUT, timeout_ms);
		if (r < 0)
			return r;
		if (r == 0) {
			snprintf(t->reason, sizeof(t->reason), "write: timed out");
			return -ETIMEDOUT;
		}
	}
	return 0;
}

ssize_t transport_drain(struct transport *t)
{
	uint8_t buf[256];
	ssize_t total = 0, n;

	while ((n = transport_read(t, buf, sizeof(buf), 0)) > 0)
		total += n;
	return n < 0 ? n : total;
}

int transport_fd(const struct transport *t)
{
	return t ? t->fd : -1;
}

const char *transport_spec(const struct transport *t)
{
	return t->spec_text;
}

const char *transport_reason(const struct transport *t)
{
	return t->reason;
}
