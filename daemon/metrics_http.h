/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The metrics HTTP listener: `metrics = { listen = "127.0.0.1:9465"; };`.
 *
 * A minimal HTTP/1.0 and 1.1 server for one resource: GET (or HEAD)
 * /metrics answers 200 with the text exposition (Content-Type text/plain;
 * version=0.0.4); any other path 404; another method 405; a request that is
 * not HTTP 400; a request head over 8 KiB 431.  Every answer closes the
 * connection (no keep-alive: a scraper opens one per scrape).
 *
 * It runs on the core's sd-event loop and never blocks it: sockets are
 * non-blocking, the answer is rendered once when the request is complete
 * and written as the peer takes it, a connection idle for 10 s is closed,
 * and at most 64 connections are served at once (more are closed at
 * accept).
 */
#ifndef CIRCD_METRICS_HTTP_H
#define CIRCD_METRICS_HTTP_H

#include <stddef.h>

#include <systemd/sd-event.h>

#define METRICS_HTTP_REQUEST_MAX 8192
#define METRICS_HTTP_IDLE_USEC (10 * 1000000ULL)
#define METRICS_HTTP_MAX_CLIENTS 64

struct metrics_http;

/* Fill *text (malloc'd) and *len with the exposition; 0 or a negative errno. */
typedef int (*metrics_http_render_fn)(void *userdata, char **text, size_t *len);

/* Bind address ("127.0.0.1:9465", "[::1]:9465"; see listen_address_parse()
 * in conf.h) and serve on e.  Returns 0, or a negative errno with *error
 * (malloc'd) saying what failed. */
int metrics_http_new(struct metrics_http **out, sd_event *e, const char *address,
		     metrics_http_render_fn render, void *userdata, char **error);
/* Closes the listener and every connection. */
void metrics_http_free(struct metrics_http *h);
const char *metrics_http_listen(const struct metrics_http *h);

#endif
