/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The metrics HTTP listener (see metrics_http.h for what it answers).
 *
 * A connection lives through two phases: reading the request head (until
 * an empty line, at most METRICS_HTTP_REQUEST_MAX bytes), then writing one
 * answer and closing.  Each phase is driven by EPOLLIN / EPOLLOUT on the
 * connection's own io source; a timer closes a connection that makes no
 * progress for METRICS_HTTP_IDLE_USEC (a client that connects and sends
 * nothing, or never reads its answer).  Nothing here waits: a slow client
 * costs one buffer and one fd, never time on the loop.
 */
#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/metrics_http.h"
#include "util/util.h"

#define ACCEPT_BURST 32
#define ACCEPT_RETRY_USEC (1 * 1000000ULL)

struct http_client {
	struct metrics_http *h;
	struct http_client *prev, *next;
	int fd;
	sd_event_source *io, *timer;
	char in[METRICS_HTTP_REQUEST_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
};

struct metrics_http {
	sd_event *event;
	int fd;
	sd_event_source *listen_source;
	sd_event_source *accept_retry; /* after EMFILE/ENFILE/ENOBUFS/ENOMEM */
	char *listen;
	metrics_http_render_fn render;
	void *userdata;
	struct http_client *clients;
	size_t n_clients;
};

static void client_free(struct http_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->h->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->h->n_clients--;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	close(c->fd);
	free(c->out);
	free(c);
}

static void client_touch(struct http_client *c)
{
	sd_event_source_set_time_relative(c->timer, METRICS_HTTP_IDLE_USEC);
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* ---- answers ---- */

static void client_answer(struct http_client *c, int status, const char *reason,
			  const char *content_type, const char *extra_headers, const char *body,
			  size_t body_len, bool head_only)
{
	char *head = xasprintf("HTTP/1.1 %d %s\r\n"
			       "Content-Type: %s\r\n"
			       "Content-Length: %zu\r\n"
			       "%s"
			       "Connection: close\r\n"
			       "\r\n",
			       status, reason, content_type, body_len, extra_headers ? extra_headers : "");
	size_t head_len = strlen(head);
	size_t n = head_len + (head_only ? 0 : body_len);
	c->out = xcalloc(1, n ? n : 1);
	memcpy(c->out, head, head_len);
	if (!head_only && body_len)
		memcpy(c->out + head_len, body, body_len);
	c->out_len = n;
	c->out_off = 0;
	free(head);
}

static void client_error(struct http_client *c, int status, const char *reason,
			 const char *extra_headers)
{
	_cleanup_free_ char *body = xasprintf("%d %s\n", status, reason);
	client_answer(c, status, reason, "text/plain; charset=utf-8", extra_headers, body,
		      strlen(body), false);
}

static bool token_char(char ch)
{
	/* RFC 9110 tchar */
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The request head is complete (in[0..in_len)): the status it deserves,
 * 200 for GET or HEAD of /metrics.  Only the request line matters; header
 * fields are not needed for one read-only resource (they were size-checked
 * with the rest). */
static int request_status(struct http_client *c, bool *head_only)
{
	char *line = c->in;
	char *eol = memchr(line, '\n', c->in_len);
	if (!eol)
		return 400;
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	/* METHOD SP request-target SP HTTP/1.x, nothing else (RFC 9112 3). */
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' '))
		return 400;
	*sp1 = *sp2 = '\0';
	const char *method = line, *target = sp1 + 1, *version = sp2 + 1;
	for (const char *p = method; *p; p++)
		if (!token_char(*p))
			return 400;
	for (const char *p = target; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 400;
	if (strcmp(version, "HTTP/1.0") != 0 && strcmp(version, "HTTP/1.1") != 0)
		return 400;
	if (target[0] != '/')
		return 400;
	*head_only = strcmp(method, "HEAD") == 0;
	if (!*head_only && strcmp(method, "GET") != 0)
		return 405;
	size_t path_len = strcspn(target, "?#");
	if (path_len != strlen("/metrics") || strncmp(target, "/metrics", path_len) != 0)
		return 404;
	return 200;
}

static void client_handle_request(struct http_client *c)
{
	bool head_only = false;
	switch (request_status(c, &head_only)) {
	case 400:
		client_error(c, 400, "Bad Request", NULL);
		return;
	case 404:
		client_error(c, 404, "Not Found", NULL);
		return;
	case 405:
		client_error(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
		return;
	}
	char *text = NULL;
	size_t len = 0;
	int r = c->h->render(c->h->userdata, &text, &len);
	if (r < 0) {
		free(text);
		client_error(c, 500, "Internal Server Error", NULL);
		return;
	}
	client_answer(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", NULL, text, len,
		      head_only);
	free(text);
}

/* ---- I/O ---- */

/* 0 while there is more to write, 1 when all is written, <0 on error. */
static int client_write(struct http_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
		client_touch(c);
	}
	return 1;
}

/* The end of the request head: an empty line (CRLF CRLF, or LF LF from a
 * lenient client). */
static bool head_complete(const struct http_client *c)
{
	for (size_t i = 0; i + 1 < c->in_len; i++)
		if (c->in[i] == '\n' &&
		    (c->in[i + 1] == '\n' ||
		     (c->in[i + 1] == '\r' && i + 2 < c->in_len && c->in[i + 2] == '\n')))
			return true;
	return false;
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct http_client *c = userdata;
	if (!c->out) {
		/* Reading the request head. */
		for (;;) {
			if (c->in_len == sizeof(c->in)) {
				client_error(c, 431, "Request Header Fields Too Large", NULL);
				break;
			}
			ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
					 MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (n <= 0) {
				/* Gone, or closed before a whole request: nothing to answer. */
				client_free(c);
				return 0;
			}
			size_t before = c->in_len;
			c->in_len += (size_t)n;
			client_touch(c);
			/* NUL bytes have no place in a request head. */
			if (memchr(c->in + before, '\0', (size_t)n)) {
				client_error(c, 400, "Bad Request", NULL);
				break;
			}
			if (head_complete(c)) {
				client_handle_request(c);
				break;
			}
		}
		/* The rest of what the client sends is not read; answer now. */
		sd_event_source_set_io_events(c->io, EPOLLOUT);
	}
	int r = client_write(c);
	if (r != 0) {
		/* Written (or the peer is gone): half-close so the client sees
		 * the end of the answer, and take what it sent beyond the head
		 * (an oversized request): closing with unread input would
		 * reset the connection under the answer. */
		shutdown(c->fd, SHUT_WR);
		char sink[4096];
		for (int i = 0; i < 16 && recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
			;
		client_free(c);
	}
	return 0;
}

static int on_client_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	client_free(userdata);
	return 0;
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct metrics_http *h = userdata;
	sd_event_source_set_enabled(h->listen_source, SD_EVENT_ON);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct metrics_http *h = userdata;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int cfd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				errno == ENOMEM)) {
			/* The connection stays queued and the socket readable:
			 * pause accepting for a while instead of spinning. */
			sd_event_source_set_enabled(h->listen_source, SD_EVENT_OFF);
			if (!h->accept_retry)
				sd_event_add_time_relative(h->event, &h->accept_retry, CLOCK_MONOTONIC,
							   ACCEPT_RETRY_USEC, 0, on_accept_retry, h);
			else {
				sd_event_source_set_time_relative(h->accept_retry, ACCEPT_RETRY_USEC);
				sd_event_source_set_enabled(h->accept_retry, SD_EVENT_ONESHOT);
			}
			return 0;
		}
		if (cfd < 0)
			return 0; /* EAGAIN, or the peer gave up (ECONNABORTED) */
		if (h->n_clients >= METRICS_HTTP_MAX_CLIENTS) {
			close(cfd);
			continue;
		}
		struct http_client *c = xcalloc(1, sizeof(*c));
		c->h = h;
		c->fd = cfd;
		if (sd_event_add_io(h->event, &c->io, cfd, EPOLLIN, on_client_io, c) < 0 ||
		    sd_event_add_time_relative(h->event, &c->timer, CLOCK_MONOTONIC,
					       METRICS_HTTP_IDLE_USEC, 0, on_client_idle, c) < 0) {
			sd_event_source_disable_unref(c->io);
			close(cfd);
			free(c);
			continue;
		}
		c->next = h->clients;
		if (h->clients)
			h->clients->prev = c;
		h->clients = c;
		h->n_clients++;
	}
	return 0;
}

int metrics_http_new(struct metrics_http **out, sd_event *e, const char *address,
		     metrics_http_render_fn render, void *userdata, char **error)
{
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool loopback;
	*error = NULL;
	if (listen_address_parse(address, &addr, &addr_len, &loopback) < 0) {
		*error = xasprintf("'%s' is not an address:port", address);
		return -EINVAL;
	}
	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int r = -errno;
		*error = xasprintf("socket: %s", strerror(-r));
		return r;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, addr_len) < 0 || listen(fd, 64) < 0) {
		int r = -errno;
		*error = xasprintf("cannot listen on %s: %s", address, strerror(-r));
		close(fd);
		return r;
	}
	struct metrics_http *h = xcalloc(1, sizeof(*h));
	h->event = sd_event_ref(e);
	h->fd = fd;
	h->listen = xstrdup(address);
	h->render = render;
	h->userdata = userdata;
	int r = sd_event_add_io(e, &h->listen_source, fd, EPOLLIN, on_accept, h);
	if (r < 0) {
		*error = xasprintf("cannot watch the listening socket: %s", strerror(-r));
		metrics_http_free(h);
		return r;
	}
	*out = h;
	return 0;
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	while (h->clients)
		client_free(h->clients);
	sd_event_source_disable_unref(h->listen_source);
	sd_event_source_disable_unref(h->accept_retry);
	if (h->fd >= 0)
		close(h->fd);
	sd_event_unref(h->event);
	free(h->listen);
	free(h);
}

const char *metrics_http_listen(const struct metrics_http *h)
{
	return h->listen;
}
