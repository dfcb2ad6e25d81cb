/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * usb transport — one USB device found by VID:PID (and serial number),
 * spoken to with bulk and control transfers through libusb-1.0:
 *
 *     072F:2200               the first ACR122U on any bus
 *     072F:2200:RR123-45678   the one with this serial number
 *
 * Opening detaches a kernel driver that holds the interface (Linux's
 * pn533_usb takes the ACR122U) and gives it back when closed.  Transfers
 * never block longer than the timeout they are given.  When a transfer
 * finds the device gone (LIBUSB_ERROR_NO_DEVICE) the handle is closed and
 * the function returns -ENODEV: the caller goes OFFLINE and reopens with
 * usb_transport_next_retry_ms() between attempts.
 *
 * While no device is open the caller waits on usb_transport_event_fd()
 * (POLLIN) with that retry delay as the timeout, then calls
 * usb_transport_handle_events(): where libusb supports hotplug, an arrival
 * wakes the wait at once; elsewhere (no hotplug) the fd is -1 and the
 * retry delay alone paces the attempts (polling).
 *
 * Return values: 0 (or a byte count) or a negative errno; on failure
 * usb_transport_reason() says why in words.  One thread per transport.
 */
#ifndef CIRCD_TRANSPORT_USB_H
#define CIRCD_TRANSPORT_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define USB_SERIAL_MAX 128
#define USB_REASON_MAX 256

struct usb_id {
	uint16_t vendor_id, product_id;
	char serial[USB_SERIAL_MAX]; /* "" = any */
};

/* "VID:PID[:SERIAL]" in hex, e.g. "072F:2200" or "072f:2200:RR1234". */
int usb_id_parse(const char *text, struct usb_id *id, char *reason, size_t reason_size);

struct usb_transport;

/* A libusb context and, where supported, a hotplug watch for `id`; opens
 * nothing yet. */
int usb_transport_new(const struct usb_id *id, struct usb_transport **out, char *reason,
		      size_t reason_size);
void usb_transport_free(struct usb_transport *u);

/* Find the device, open it, claim the first interface that has a bulk IN
 * and a bulk OUT endpoint (of interface class `iface_class`, or any class
 * when negative).  -ENODEV when no such device is plugged in, -EACCES
 * without permission (see circd --udev-rules), -EBUSY when another program
 * has it.  Resets the retry delay on success. */
int usb_transport_open(struct usb_transport *u, int iface_class);
void usb_transport_close(struct usb_transport *u);
bool usb_transport_is_open(const struct usb_transport *u);

/* Bulk OUT, everything or an error (-ETIMEDOUT, -ENODEV, -EPIPE, -EIO). */
int usb_transport_bulk_write(struct usb_transport *u, const void *buf, size_t len,
			     int timeout_ms);
/* Bulk IN: one transfer of up to len bytes.  The count (ends at a short
 * packet), or -ETIMEDOUT when nothing came, -EOVERFLOW when the device sent
 * more than len, -ENODEV, -EPIPE, -EIO. */
ssize_t usb_transport_bulk_read(struct usb_transport *u, void *buf, size_t len, int timeout_ms);
/* A control transfer on endpoint 0; the count, or a negative errno as above. */
int usb_transport_control(struct usb_transport *u, uint8_t request_type, uint8_t request,
			  uint16_t value, uint16_t index, void *data, uint16_t len,
			  int timeout_ms);

/* Reconnect pacing: the delay before the next open attempt, doubling from
 * 100 ms to 5 s on each call; usb_transport_open() success resets it. */
unsigned usb_transport_next_retry_ms(struct usb_transport *u);

/* An fd that turns readable (POLLIN) when libusb has events to handle,
 * rebuilt on each call from libusb's own fds; -1 without hotplug support.
 * Meant for waiting while no device is open. */
int usb_transport_event_fd(struct usb_transport *u);
bool usb_transport_has_hotplug(const struct usb_transport *u);
/* Handle pending libusb events without blocking.  Returns the number of
 * matching devices that arrived since the last call (0 without hotplug). */
unsigned usb_transport_handle_events(struct usb_transport *u);

/* "072f:2200 bus 1 device 4 serial RR1234" while open, else the id asked for. */
const char *usb_transport_describe(const struct usb_transport *u);
const char *usb_transport_reason(const struct usb_transport *u);

#endif
