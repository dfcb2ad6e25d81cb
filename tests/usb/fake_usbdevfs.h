/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The usbdevfs part of the FAKE USB readers for tests (fake_acr122u.c,
 * fake_feig.c), not a driver: a umockdev testbed with one USB device that
 * is plugged in and out, whose /dev/bus/usb node answers the usbdevfs
 * ioctls as the kernel would.  Control and bulk OUT URBs complete at once;
 * a bulk IN URB waits until the device has bytes for it.  libusb reaps
 * with REAPURBNDELAY, cancels a timed-out transfer with DISCARDURB (reaped
 * with -ENOENT), and reads ESHUTDOWN / ENODEV as "the device is gone":
 * after unplug, in-flight URBs end with -ESHUTDOWN and new ioctls fail
 * with ENODEV.
 *
 * The device itself (the reader's protocol) is the caller's: it takes what
 * the host sends in bulk OUT transfers and hands out bytes for bulk IN
 * transfers through the callbacks below.
 *
 * Needs the umockdev preload (run the program under umockdev-wrapper).
 * umockdev answers ioctls on its own thread; every callback is called with
 * the caller's lock (given to fake_usbdevfs_new) held, and the functions
 * below take that lock themselves: call them without it.
 */
#ifndef CIRCD_FAKE_USBDEVFS_H
#define CIRCD_FAKE_USBDEVFS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

struct fake_usbdevfs;

struct fake_usbdevfs_device {
	const char *name;    /* in messages: "fake_feig" */
	const char *sysname; /* the device is /sys/devices/usb1/<sysname> */
	uint16_t vendor_id, bcd_device;
	uint8_t ep0_size;     /* bMaxPacketSize0 */
	const char *manufacturer, *product; /* string descriptors 1 and 2 */
	const char *cfg_desc; /* the configuration descriptor(s), in hex */
	uint8_t ep_out, ep_in; /* the bulk endpoints */
	/* An IN endpoint whose transfers are taken and never complete (an
	 * interrupt endpoint with nothing to report); 0: none. */
	uint8_t ep_idle_in;

	/* A new appearance of the device was plugged in: forget what was on
	 * its way to the host before.  May be NULL. */
	void (*plugged)(void *user);
	/* A bulk OUT transfer to ep_out: the bytes the host sent. */
	void (*bulk_out)(void *user, const uint8_t *data, size_t len);
	/* A bulk IN transfer to ep_in is waiting: write at most max bytes of
	 * the device's answer to buf and return how many; -1 while the device
	 * has nothing to send.  Called again for the next waiting transfer as
	 * long as it returns >= 0. */
	ssize_t (*bulk_in)(void *user, uint8_t *buf, size_t max);
};

/* A testbed with nothing plugged in; NULL when umockdev is not active.
 * `dev` and `lock` must outlive it. */
struct fake_usbdevfs *fake_usbdevfs_new(const struct fake_usbdevfs_device *dev,
					pthread_mutex_t *lock, void *user);
void fake_usbdevfs_free(struct fake_usbdevfs *t);

/* Plug the device in (a new device number each time, an "add" uevent);
 * serial may be NULL (no serial number string).  0 or a negative errno
 * (-EBUSY: already plugged in, or plugged too often). */
int fake_usbdevfs_plug(struct fake_usbdevfs *t, uint16_t product_id, const char *serial);
/* Pull it out: in-flight transfers end with ESHUTDOWN, new ones ENODEV,
 * then the device leaves sysfs with a "remove" uevent. */
void fake_usbdevfs_unplug(struct fake_usbdevfs *t);

#endif
