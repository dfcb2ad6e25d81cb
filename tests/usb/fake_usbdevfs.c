/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * usbdevfs for the FAKE USB readers in tests (see fake_usbdevfs.h): what
 * the kernel does with a URB, on umockdev's programmable ioctl handler.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h> /* before linux/usbdevice_fs.h (umockdev gotcha) */
#include <linux/usbdevice_fs.h>

#include <umockdev.h>

#include "fake_usbdevfs.h"

#define MAX_PLUGS 32

struct urb {
	UMockdevIoctlData *data; /* the resolved struct usbdevfs_urb + its buffer */
	bool done;
	int actual;
	uint8_t *answer; /* bulk IN: bytes to hand back when reaped */
	size_t answer_len;
};

/* One plugged-in appearance of the device: its own device node, handler
 * and URBs.  Kept until the end so a stale fd still gets ENODEV. */
struct plug {
	struct fake_usbdevfs *t;
	UMockdevIoctlBase *handler;
	GList *urbs;      /* struct urb *, in submit order */
	GList *discarded; /* struct urb *, reaped with -ENOENT */
	bool gone;
	uint16_t product_id;
	char serial[64];
	bool has_serial;
};

struct fake_usbdevfs {
	const struct fake_usbdevfs_device *dev;
	pthread_mutex_t *lock;
	void *user;
	UMockdevTestbed *testbed;
	struct plug *plugs[MAX_PLUGS];
	unsigned nplugs;
	struct plug *current; /* plugged in now, or NULL */
	char syspath[64];
};

static size_t device_descriptor(const struct plug *p, uint8_t d[18])
{
	const struct fake_usbdevfs_device *dev = p->t->dev;

	d[0] = 18;
	d[1] = 0x01; /* DEVICE */
	d[2] = 0x00; /* USB 2.0 */
	d[3] = 0x02;
	d[4] = d[5] = d[6] = 0; /* class in the interface */
	d[7] = dev->ep0_size;
	d[8] = (uint8_t)dev->vendor_id;
	d[9] = (uint8_t)(dev->vendor_id >> 8);
	d[10] = (uint8_t)p->product_id;
	d[11] = (uint8_t)(p->product_id >> 8);
	d[12] = (uint8_t)dev->bcd_device;
	d[13] = (uint8_t)(dev->bcd_device >> 8);
	d[14] = 1; /* iManufacturer */
	d[15] = 2; /* iProduct */
	d[16] = p->has_serial ? 3 : 0;
	d[17] = 1; /* configurations */
	return 18;
}

static size_t string_descriptor(const struct plug *p, unsigned index, uint8_t *out, size_t max)
{
	const char *s;
	size_t k = 2;

	if (index == 0) {
		memcpy(out, "\x04\x03\x09\x04", 4); /* LANGID en-US */
		return max < 4 ? max : 4;
	}
	if (index == 1)
		s = p->t->dev->manufacturer;
	else if (index == 2)
		s = p->t->dev->product;
	else
		s = index == 3 && p->has_serial ? p->serial : NULL;
	if (!s)
		return 0;
	for (; *s && k + 2 <= 254; s++) {
		out[k++] = (uint8_t)*s;
		out[k++] = 0;
	}
	out[0] = (uint8_t)k;
	out[1] = 0x03;
	return max < k ? max : k;
}

/* Give the device's answer to the waiting bulk IN URBs, oldest first, as
 * long as it has bytes for them. */
static void feed_in(struct plug *p)
{
	const struct fake_usbdevfs_device *dev = p->t->dev;

	for (GList *l = p->urbs; l; l = l->next) {
		struct urb *u = l->data;
		struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->data->data;
		if (u->done || k->type != USBDEVFS_URB_TYPE_BULK || k->endpoint != dev->ep_in)
			continue;
		size_t max = k->buffer_length > 0 ? (size_t)k->buffer_length : 0;
		uint8_t *buf = g_malloc(max ? max : 1);
		ssize_t n = dev->bulk_in(p->t->user, buf, max);
		if (n < 0) {
			g_free(buf);
			return;
		}
		u->answer = buf;
		u->answer_len = (size_t)n;
		u->actual = (int)n;
		u->done = true;
	}
}

static void submit(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	const struct fake_usbdevfs_device *dev = p->t->dev;
	UMockdevIoctlData *urb_data =
		umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
	struct usbdevfs_urb *k = (struct usbdevfs_urb *)urb_data->data;
	UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(
		urb_data, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer), (gsize)k->buffer_length,
		NULL);
	struct urb *u = g_new0(struct urb, 1);

	u->data = urb_data;
	if (k->type == USBDEVFS_URB_TYPE_CONTROL && k->buffer_length >= 8) {
		const uint8_t *setup = buf->data;
		uint8_t *data = (uint8_t *)buf->data + 8;
		size_t want = (size_t)setup[6] | (size_t)setup[7] << 8;
		if (want > (size_t)k->buffer_length - 8)
			want = (size_t)k->buffer_length - 8;
		u->done = true;
		if (setup[0] == 0x80 && setup[1] == 0x06 && setup[3] == 0x03) {
			u->actual = (int)string_descriptor(p, setup[2], data, want);
		} else if (setup[0] == 0x80 && setup[1] == 0x06 && setup[3] == 0x01) {
			uint8_t d[18];
			size_t n = device_descriptor(p, d);
			memcpy(data, d, want < n ? want : n);
			u->actual = (int)(want < n ? want : n);
		}
	} else if (k->type == USBDEVFS_URB_TYPE_BULK && k->endpoint == dev->ep_out) {
		dev->bulk_out(p->t->user, buf->data, (size_t)k->buffer_length);
		u->done = true;
		u->actual = k->buffer_length;
	} else if (k->type == USBDEVFS_URB_TYPE_BULK && k->endpoint == dev->ep_in) {
		/* waits for the device's answer */
	} else if (dev->ep_idle_in && k->endpoint == dev->ep_idle_in) {
		/* waits forever */
	} else {
		g_object_unref(buf);
		g_object_unref(urb_data);
		g_free(u);
		umockdev_ioctl_client_complete(client, -1, EINVAL);
		return;
	}
	g_object_unref(buf); /* urb_data keeps its resolved child */
	p->urbs = g_list_append(p->urbs, u);
	feed_in(p);
	umockdev_ioctl_client_complete(client, 0, 0);
}

static void free_urb(struct urb *u)
{
	g_object_unref(u->data);
	g_free(u->answer);
	g_free(u);
}

/* Hand `u` back to the client with `status` and free our record. */
static void reap_one(UMockdevIoctlClient *client, UMockdevIoctlData *arg, struct urb *u,
		     int status)
{
	struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->data->data;
	UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), NULL);

	k->status = status;
	k->actual_length = status ? 0 : u->actual;
	/* the buffer pointer inside the resolved URB is local memory; control
	 * data was written in place at submit time */
	if (!status && u->answer_len)
		memcpy(k->buffer, u->answer, u->answer_len);
	umockdev_ioctl_data_set_ptr(ptr, 0, u->data);
	umockdev_ioctl_client_complete(client, 0, 0);
	g_object_unref(ptr);
	free_urb(u);
}

static void reap(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	struct urb *u;

	if (p->discarded) {
		u = p->discarded->data;
		p->discarded = g_list_delete_link(p->discarded, p->discarded);
		reap_one(client, arg, u, -ENOENT);
		return;
	}
	for (GList *l = p->urbs; l; l = l->next) {
		u = l->data;
		if (u->done || p->gone) {
			p->urbs = g_list_delete_link(p->urbs, l);
			/* on disconnect the kernel ends in-flight URBs with ESHUTDOWN */
			reap_one(client, arg, u, u->done && !p->gone ? 0 : -ESHUTDOWN);
			return;
		}
	}
	umockdev_ioctl_client_complete(client, -1, p->gone ? ENODEV : EAGAIN);
}

static void discard(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	gulong addr = (gulong) * (void **)arg->data;

	for (GList *l = p->urbs; l; l = l->next) {
		struct urb *u = l->data;
		if (u->data->client_addr == addr && !u->done) {
			p->urbs = g_list_delete_link(p->urbs, l);
			p->discarded = g_list_append(p->discarded, u);
			umockdev_ioctl_client_complete(client, 0, 0);
			return;
		}
	}
	umockdev_ioctl_client_complete(client, -1, EINVAL);
}

static gboolean handle_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
			     gpointer user)
{
	struct plug *p = user;
	gulong request = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);

	(void)handler;
	pthread_mutex_lock(p->t->lock);
	if (p->gone && request != USBDEVFS_REAPURB && request != USBDEVFS_REAPURBNDELAY &&
	    request != USBDEVFS_DISCARDURB && request != USBDEVFS_RELEASEINTERFACE) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		goto out;
	}
	switch (request) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
		*(guint32 *)d->data = USBDEVFS_CAP_BULK_CONTINUATION |
				      USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_ZERO_PACKET |
				      USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
		umockdev_ioctl_client_complete(client, 0, 0);
		g_object_unref(d);
		break;
	}
	case USBDEVFS_GETDRIVER:
	case USBDEVFS_IOCTL: /* detach a kernel driver: there is none */
		umockdev_ioctl_client_complete(client, -1, ENODATA);
		break;
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
	case USBDEVFS_DISCONNECT_CLAIM:
	case USBDEVFS_SETCONFIGURATION:
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
	case USBDEVFS_RESET:
		umockdev_ioctl_client_complete(client, 0, 0);
		break;
	case USBDEVFS_SUBMITURB:
		submit(p, client, arg);
		break;
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY:
		reap(p, client, arg);
		break;
	case USBDEVFS_DISCARDURB:
		discard(p, client, arg);
		break;
	default:
		umockdev_ioctl_client_complete(client, -1, ENOTTY);
	}
out:
	pthread_mutex_unlock(p->t->lock);
	return TRUE;
}

/* ---- the testbed ---- */

struct fake_usbdevfs *fake_usbdevfs_new(const struct fake_usbdevfs_device *dev,
					pthread_mutex_t *lock, void *user)
{
	struct fake_usbdevfs *t = g_new0(struct fake_usbdevfs, 1);

	t->dev = dev;
	t->lock = lock;
	t->user = user;
	snprintf(t->syspath, sizeof(t->syspath), "/sys/devices/usb1/%s", dev->sysname);
	t->testbed = umockdev_testbed_new();
	if (!t->testbed || !umockdev_in_mock_environment()) {
		fake_usbdevfs_free(t);
		return NULL;
	}
	return t;
}

int fake_usbdevfs_plug(struct fake_usbdevfs *t, uint16_t product_id, const char *serial)
{
	const struct fake_usbdevfs_device *dev = t->dev;
	char node[64], desc[1024], *text;
	uint8_t d[18];
	GError *err = NULL;
	struct plug *p;
	unsigned devnum;

	pthread_mutex_lock(t->lock);
	if (t->current || t->nplugs == MAX_PLUGS) {
		pthread_mutex_unlock(t->lock);
		return -EBUSY;
	}
	p = g_new0(struct plug, 1);
	p->t = t;
	p->product_id = product_id;
	if (serial) {
		snprintf(p->serial, sizeof(p->serial), "%s", serial);
		p->has_serial = true;
	}
	t->plugs[t->nplugs++] = p;
	devnum = t->nplugs + 1; /* 001 would be the root hub */
	if (dev->plugged)
		dev->plugged(t->user);
	pthread_mutex_unlock(t->lock);

	p->handler = umockdev_ioctl_base_new();
	g_signal_connect(p->handler, "handle-ioctl", G_CALLBACK(handle_ioctl), p);
	snprintf(node, sizeof(node), "/dev/bus/usb/001/%03u", devnum);
	/* the handler first, so the node answers as soon as the "add" is seen */
	if (!umockdev_testbed_attach_ioctl(t->testbed, node, p->handler, &err)) {
		fprintf(stderr, "%s: attach %s: %s\n", dev->name, node, err->message);
		g_error_free(err);
		return -EIO;
	}
	device_descriptor(p, d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(desc + 2 * i, 3, "%02x", d[i]);
	snprintf(desc + 2 * sizeof(d), sizeof(desc) - 2 * sizeof(d), "%s", dev->cfg_desc);
	text = g_strdup_printf("P: /devices/usb1/%s\n"
			       "N: bus/usb/001/%03u\n"
			       "E: SUBSYSTEM=usb\n"
			       "E: DEVTYPE=usb_device\n"
			       "E: DRIVER=usb\n"
			       "E: BUSNUM=001\n"
			       "E: DEVNUM=%03u\n"
			       "E: DEVNAME=/dev/bus/usb/001/%03u\n"
			       "E: PRODUCT=%x/%x/%x\n"
			       "A: idVendor=%04x\\n\n"
			       "A: idProduct=%04x\\n\n"
			       "A: busnum=1\\n\n"
			       "A: devnum=%u\\n\n"
			       "A: bConfigurationValue=1\\n\n"
			       "A: speed=12\\n\n"
			       "%s%s%s"
			       "H: descriptors=%s\n",
			       dev->sysname, devnum, devnum, devnum, dev->vendor_id, product_id,
			       dev->bcd_device, dev->vendor_id, product_id, devnum,
			       serial ? "A: serial=" : "", serial ? serial : "",
			       serial ? "\\n\n" : "", desc);
	gboolean ok = umockdev_testbed_add_from_string(t->testbed, text, &err);
	g_free(text);
	if (!ok) {
		fprintf(stderr, "%s: add device: %s\n", dev->name, err->message);
		g_error_free(err);
		return -EIO;
	}
	pthread_mutex_lock(t->lock);
	t->current = p;
	pthread_mutex_unlock(t->lock);
	return 0;
}

void fake_usbdevfs_unplug(struct fake_usbdevfs *t)
{
	pthread_mutex_lock(t->lock);
	struct plug *p = t->current;
	t->current = NULL;
	if (p)
		p->gone = true;
	pthread_mutex_unlock(t->lock);
	if (!p)
		return;
	umockdev_testbed_uevent(t->testbed, t->syspath, "remove");
	umockdev_testbed_remove_device(t->testbed, t->syspath);
}

void fake_usbdevfs_free(struct fake_usbdevfs *t)
{
	if (!t)
		return;
	if (t->testbed)
		g_object_unref(t->testbed);
	for (unsigned i = 0; i < t->nplugs; i++) {
		struct plug *p = t->plugs[i];
		if (p->handler)
			g_object_unref(p->handler);
		g_list_free_full(p->urbs, (GDestroyNotify)free_urb);
		g_list_free_full(p->discarded, (GDestroyNotify)free_urb);
		g_free(p);
	}
	g_free(t);
}
