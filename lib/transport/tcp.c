/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TCP client: non-blocking connect bounded by a timeout (a LAN reader that
 * is switched off must not hold the worker thread for the kernel's two
 * minutes), keepalive so that a silently dead peer shows up as an error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/transport-internal.h"

static void set_keepalive(int fd)
{
	int on = 1, idle = 10, intvl = 5, cnt = 3;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	int r, err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
			goto fail;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			r = -ETIMEDOUT;
			goto fail;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
			r = -errno;
			goto fail;
		}
		if (err) {
			r = -err;
			goto fail;
		}
	}
	set_keepalive(fd);
	*out = fd;
	return 0;
fail:
	close(fd);
	return r;
}

int transport_tcp_open(struct transport *t, int connect_timeout_ms)
{
	const struct transport_spec *s = &t->spec;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char port[8];
	int r, g;

	snprintf(port, sizeof(port), "%u", s->port);
	g = getaddrinfo(s->host, port, &hints, &res);
	if (g != 0) {
		snprintf(t->reason, sizeof(t->reason), "%.80s: %s", s->host, gai_strerror(g));
		return -EHOSTUNREACH;
	}
	r = -ENOENT;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		r = connect_one(ai, connect_timeout_ms, &t->fd);
		if (r == 0)
			break;
	}
	freeaddrinfo(res);
	if (r < 0)
		snprintf(t->reason, sizeof(t->reason), "%.80s:%u: %s", s->host, s->port,
			 strerror(-r));
	return r;
}
