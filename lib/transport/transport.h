/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * transport — one byte stream to a device, whatever carries it:
 *
 *     serial:/dev/ttyUSB0:38400:8E1     a tty (raw, exclusive, given speed/framing)
 *     tcp:192.0.2.7:10001               a TCP client (keepalive, connect timeout)
 *
 * Every function returns 0 (or a byte count) or a negative errno; when a
 * function fails, transport_reason() / the reason buffer says why in words.
 * Nothing here blocks longer than the timeout it is given, so a plugin can
 * keep its own wait loop: poll transport_fd() and call transport_read() with
 * timeout 0.  A transport is used from one thread.
 */
#ifndef CIRCD_TRANSPORT_H
#define CIRCD_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#define TRANSPORT_REASON_MAX 160

struct transport;

/* Parse and open `spec`; connect_timeout_ms bounds a TCP connect.
 * On failure *out stays NULL and `reason` (if given) says why. */
int transport_open(const char *spec, int connect_timeout_ms, struct transport **out,
		   char *reason, size_t reason_size);
/* Close and open again with the same spec (after EOF, EIO, a reset). */
int transport_reopen(struct transport *t, int connect_timeout_ms);
void transport_close(struct transport *t);

/* Up to len bytes, waiting at most timeout_ms (0 = don't wait, -1 = forever).
 * Returns the count, 0 on timeout, -EPIPE at end of file (peer closed, pty
 * master gone) or another negative errno. */
ssize_t transport_read(struct transport *t, void *buf, size_t len, int timeout_ms);
/* Everything or an error; -ETIMEDOUT when the device takes none for timeout_ms. */
int transport_write_all(struct transport *t, const void *buf, size_t len, int timeout_ms);
/* Throw away whatever is waiting to be read (resynchronise). Returns the
 * number of bytes dropped or a negative errno. */
ssize_t transport_drain(struct transport *t);

/* The fd to poll (-1 when closed), the spec, the last failure in words. */
int transport_fd(const struct transport *t);
const char *transport_spec(const struct transport *t);
const char *transport_reason(const struct transport *t);

#endif
