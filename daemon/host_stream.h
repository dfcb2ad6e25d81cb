/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The byte streams of host API 1.4 (host->stream_open() ... stream_close()):
 * lib/transport offered to plugins, so that a plugin needs no serial or TCP
 * code of its own.  host_api in instance.c points at these.
 *
 * A stream belongs to one instance and is used by its worker thread (or by
 * destroy(), after run() has returned).  A read that has to wait polls the
 * device and the instance's stop eventfd, so a stop request ends it with
 * -ECANCELED, and the time it waits counts as checked in for the watchdog,
 * as in host->wait().
 */
#ifndef CIRCD_HOST_STREAM_H
#define CIRCD_HOST_STREAM_H

#include <circd/plugin.h>

struct instance;

int host_stream_open(struct circd_instance *inst, const char *spec, int connect_timeout_ms,
		     struct circd_stream **out, char *reason, size_t reason_size);
ssize_t host_stream_read(struct circd_stream *s, void *buf, size_t len, int timeout_ms);
int host_stream_write_all(struct circd_stream *s, const void *buf, size_t len, int timeout_ms);
ssize_t host_stream_drain(struct circd_stream *s);
int host_stream_reopen(struct circd_stream *s, int connect_timeout_ms);
int host_stream_fd(const struct circd_stream *s);
const char *host_stream_reason(const struct circd_stream *s);
void host_stream_close(struct circd_stream *s);

/* Main thread, after destroy(): close what the plugin left open (a plugin
 * bug, logged), so that a restarted worker finds its device free. */
void host_streams_close_leftovers(struct instance *inst);

#endif
