/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FEIG readers on USB (ID ISC.MR101-U, ID CPR.04-USB, ...): the ISO-Host
 * frames of the serial line, unchanged, on the reader's vendor bulk
 * endpoints (H20800 §2: ISO Host Commands are supported on the USB
 * interface; rfid.md §4.1).  A request goes out in one bulk OUT transfer;
 * the answer comes back in bulk IN transfers, however the reader cuts it:
 * a whole frame in one transfer, or a frame in several.  The bytes of a
 * transfer are kept here and handed out as asked for, so feig_reader.c
 * reads a USB reader exactly as it reads a serial one.
 *
 * The libusb context is made on the worker thread at the first open (a
 * machine without usbfs is OFFLINE and retried, not a failure to start)
 * and kept while the plugin runs, for the hotplug watch.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feig-plugin.h"
#include "transport/usb.h"

#define DRAIN_SLICE_MS 20 /* after an error: wait this long for late pieces */
#define DRAIN_ROUNDS 4

struct feig_usb {
	struct usb_id id;
	struct usb_transport *t; /* NULL until the first open */
	/* one bulk IN transfer; a multiple of the 64-byte full-speed packet,
	 * so a reader can never send more than we asked for in one go */
	uint8_t in[512];
	size_t in_len, in_pos;
	char reason[USB_REASON_MAX];
};

int feig_usb_new(const char *id, struct feig_usb **out, char *why, size_t why_size)
{
	struct feig_usb *u = calloc(1, sizeof(*u));
	char reason[USB_REASON_MAX];
	int r;

	*out = NULL;
	if (!u)
		return -ENOMEM;
	r = usb_id_parse(id, &u->id, reason, sizeof(reason));
	if (r < 0) {
		snprintf(why, why_size, "port 'usb:%s': %s", id, reason);
		free(u);
		return r;
	}
	*out = u;
	return 0;
}

void feig_usb_free(struct feig_usb *u)
{
	if (!u)
		return;
	usb_transport_free(u->t);
	free(u);
}

int feig_usb_open(struct feig_usb *u, char *why, size_t why_size)
{
	int r;

	if (!u->t) {
		r = usb_transport_new(&u->id, &u->t, u->reason, sizeof(u->reason));
		if (r < 0) {
			snprintf(why, why_size, "%s", u->reason);
			return r;
		}
	}
	u->in_len = u->in_pos = 0;
	/* any interface class: the first one with a bulk IN and a bulk OUT
	 * endpoint (FEIG's are vendor specific, 0xFF) */
	r = usb_transport_open(u->t, -1);
	if (r < 0)
		snprintf(why, why_size, "%s", usb_transport_reason(u->t));
	return r;
}

void feig_usb_close(struct feig_usb *u)
{
	if (u->t)
		usb_transport_close(u->t);
	u->in_len = u->in_pos = 0;
}

bool feig_usb_is_open(const struct feig_usb *u)
{
	return u->t && usb_transport_is_open(u->t);
}

const char *feig_usb_describe(const struct feig_usb *u)
{
	return u->t ? usb_transport_describe(u->t) : "usb";
}

int feig_usb_event_fd(struct feig_usb *u)
{
	return u->t ? usb_transport_event_fd(u->t) : -1;
}

unsigned feig_usb_next_retry_ms(struct feig_usb *u)
{
	/* no libusb context (usb_transport_new failed): a fixed slow pace */
	return u->t ? usb_transport_next_retry_ms(u->t) : 1000;
}

void feig_usb_handle_events(struct feig_usb *u)
{
	if (u->t)
		usb_transport_handle_events(u->t);
}

ssize_t feig_usb_drain(struct feig_usb *u, bool after_error)
{
	ssize_t dropped = (ssize_t)(u->in_len - u->in_pos);

	u->in_len = u->in_pos = 0;
	if (!feig_usb_is_open(u))
		return -ENODEV;
	/* After a timeout or a bad frame the rest of an answer (or a late
	 * one) may still come: take it now, so the next answer starts clean. */
	for (int i = 0; after_error && i < DRAIN_ROUNDS; i++) {
		ssize_t n = usb_transport_bulk_read(u->t, u->in, sizeof(u->in), DRAIN_SLICE_MS);
		if (n == -ETIMEDOUT)
			break;
		if (n == -ENODEV)
			return n;
		if (n < 0)
			break; /* a stall or an overflow: the next request will tell */
		dropped += n;
	}
	return dropped;
}

int feig_usb_write(struct feig_usb *u, const uint8_t *buf, size_t len, int timeout_ms)
{
	return u->t ? usb_transport_bulk_write(u->t, buf, len, timeout_ms) : -ENODEV;
}

ssize_t feig_usb_read(struct feig_usb *u, uint8_t *buf, size_t len, int timeout_ms)
{
	if (u->in_pos == u->in_len) {
		if (!u->t)
			return -ENODEV;
		ssize_t n = usb_transport_bulk_read(u->t, u->in, sizeof(u->in), timeout_ms);
		if (n == -ETIMEDOUT)
			return 0;
		if (n == -EOVERFLOW)
			return -EBADMSG; /* more than any answer we ask for */
		if (n < 0)
			return n;
		u->in_len = (size_t)n;
		u->in_pos = 0;
		if (n == 0)
			return 0; /* a zero-length packet: nothing yet */
	}
	size_t k = u->in_len - u->in_pos < len ? u->in_len - u->in_pos : len;
	memcpy(buf, u->in + u->in_pos, k);
	u->in_pos += k;
	return (ssize_t)k;
}

const char *feig_usb_reason(const struct feig_usb *u)
{
	return u->t ? usb_transport_reason(u->t) : u->reason;
}
