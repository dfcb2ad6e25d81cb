/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The way to the reader, whatever carries it: a byte stream (serial or TCP,
 * lib/transport) or USB bulk transfers (feig_usb.c).  feig_reader.c sees
 * only "send a request, read some bytes of the answer".
 *
 * A stream is watched in host->wait() (its fd), so a stop request ends a
 * wait at once.  A USB bulk IN transfer cannot be polled that way: it is
 * made in short slices, with a look at the stop request between them.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "feig-plugin.h"

#define USB_SLICE_MS 100 /* longest bulk IN transfer between stop checks */

int feig_port_check(const char *spec, char *why, size_t why_size)
{
	if (!strncmp(spec, "serial:", 7) || !strncmp(spec, "tcp:", 4))
		return 0;
	if (!strncmp(spec, "usb:", 4)) {
#ifdef FEIG_USB
		struct feig_usb *u;
		int r = feig_usb_new(spec + 4, &u, why, why_size);
		/* only the id is checked here; libusb starts on the worker */
		feig_usb_free(u);
		return r;
#else
		snprintf(why, why_size, "port '%s': this circd was built without USB (--disable-usb)",
			 spec);
		return -EINVAL;
#endif
	}
	snprintf(why, why_size,
		 "port '%s': expected serial:PATH:SPEED:FRAMING, tcp:HOST:PORT or usb:VID:PID[:SERIAL]",
		 spec);
	return -EINVAL;
}

int feig_port_open(struct feig *f, char *why, size_t why_size)
{
#ifdef FEIG_USB
	if (f->usb) {
		if (!f->u) {
			int r = feig_usb_new(f->port + 4, &f->u, why, why_size);
			if (r < 0)
				return r;
		}
		return feig_usb_open(f->u, why, why_size);
	}
#endif
	return transport_open(f->port, FEIG_CONNECT_TIMEOUT_MS, &f->t, why, why_size);
}

void feig_port_close(struct feig *f)
{
#ifdef FEIG_USB
	if (f->u)
		feig_usb_close(f->u);
#endif
	transport_close(f->t);
	f->t = NULL;
}

bool feig_port_is_open(const struct feig *f)
{
#ifdef FEIG_USB
	if (f->usb)
		return f->u && feig_usb_is_open(f->u);
#endif
	return f->t != NULL;
}

void feig_port_retry_wait(struct feig *f)
{
#ifdef FEIG_USB
	if (f->usb && f->u) {
		/* an arrival (hotplug) ends the wait early; without hotplug
		 * the pacing alone (100 ms doubling to 5 s) polls */
		unsigned ms = feig_usb_next_retry_ms(f->u);
		if (feig_pause(f, feig_usb_event_fd(f->u), (int)ms))
			feig_usb_handle_events(f->u);
		return;
	}
#endif
	feig_pause(f, -1, (int)f->backoff_ms);
	f->backoff_ms = f->backoff_ms * 2 > FEIG_BACKOFF_MAX_MS ? FEIG_BACKOFF_MAX_MS
							 : f->backoff_ms * 2;
}

ssize_t feig_port_drain(struct feig *f, bool after_error)
{
#ifdef FEIG_USB
	if (f->usb)
		return f->u ? feig_usb_drain(f->u, after_error) : -ENOTCONN;
#endif
	(void)after_error;
	return f->t ? transport_drain(f->t) : -ENOTCONN;
}

int feig_port_write(struct feig *f, const uint8_t *buf, size_t len, int timeout_ms)
{
#ifdef FEIG_USB
	if (f->usb)
		return f->u ? feig_usb_write(f->u, buf, len, timeout_ms) : -ENOTCONN;
#endif
	return f->t ? transport_write_all(f->t, buf, len, timeout_ms) : -ENOTCONN;
}

ssize_t feig_port_read(struct feig *f, uint8_t *buf, size_t len, int timeout_ms)
{
	int w;

#ifdef FEIG_USB
	if (f->usb) {
		if (!f->u)
			return -ENOTCONN;
		w = f->host->wait(f->inst, -1, 0, 0); /* only: stop requested? */
		if (w < 0)
			return w;
		if (w & CIRCD_WAKE_STOP) {
			f->stopping = true;
			return -ECANCELED;
		}
		return feig_usb_read(f->u, buf, len, timeout_ms < USB_SLICE_MS ? timeout_ms
										  : USB_SLICE_MS);
	}
#endif
	if (!f->t)
		return -ENOTCONN;
	w = f->host->wait(f->inst, transport_fd(f->t), POLLIN, timeout_ms);
	if (w < 0)
		return w;
	if (w & CIRCD_WAKE_STOP) {
		f->stopping = true;
		return -ECANCELED;
	}
	/* A queued command also wakes us: commands wait for the next cycle,
	 * the answer is read now (briefly blocking if need be). */
	return transport_read(f->t, buf, len,
			      (w & CIRCD_WAKE_FD) ? 0 : (timeout_ms < 10 ? timeout_ms : 10));
}

const char *feig_port_reason(const struct feig *f)
{
#ifdef FEIG_USB
	if (f->usb)
		return f->u ? feig_usb_reason(f->u) : "";
#endif
	return f->t ? transport_reason(f->t) : "";
}
