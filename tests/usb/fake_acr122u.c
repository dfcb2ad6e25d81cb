/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FAKE ACS ACR122U for tests (see fake_acr122u.h).  Two layers:
 *
 *  - usbdevfs: what the kernel does with a URB.  Control and bulk OUT URBs
 *    complete at once; a bulk IN URB waits for the device's next answer.
 *    libusb reaps with REAPURBNDELAY, cancels a timed-out transfer with
 *    DISCARDURB (reaped with -ENOENT), and reads ESHUTDOWN / ENODEV as "the
 *    device is gone".
 *  - the reader: CCID 1.1 bulk messages (PC_to_RDR_IccPowerOn 0x62,
 *    XfrBlock 0x6F, GetSlotStatus 0x65 -> RDR_to_PC_DataBlock 0x80 /
 *    SlotStatus 0x81, 10-byte headers, lengths little-endian) carrying the
 *    ACR122U pseudo-APDUs (FF 00 00 00 Lc + PN532 command; FF 00 40 LED and
 *    buzzer; FF 00 48 firmware; FF 00 52 buzzer on detection) and the PN532
 *    answers (D5 4B InListPassiveTarget ...), each APDU answer ending with
 *    SW1 SW2 = 90 00 (63 00 when the reader refuses).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h> /* before linux/usbdevice_fs.h (umockdev gotcha) */
#include <linux/usbdevice_fs.h>

#include <umockdev.h>

#include "fake_acr122u.h"

#define EP_BULK_OUT 0x02
#define EP_BULK_IN 0x82
#define MAX_PLUGS 32

/* Device descriptor: USB 2.0, class in interface, EP0 8 bytes, 072F:2200,
 * bcdDevice 2.14, strings 1 (maker), 2 (product), 3 (serial), 1 config. */
#define DEV_DESC "12010002000000082f07002214020102" "0301"
#define DEV_DESC_NO_SERIAL "12010002000000082f07002214020102" "0001"
/* Configuration: one interface, class 0x0B (smart card, CCID), a CCID
 * functional descriptor (0x21, 54 bytes), interrupt IN 0x81, bulk OUT
 * 0x02, bulk IN 0x82 (64-byte packets). */
#define CFG_DESC \
	"09025d00010100803209040000030b000000" \
	"36211001000107000000a00f0000a00f0000000000000000000000" \
	"00000000000000000000000000000000000f000000000000000001" \
	"0705810308000a" "07050202400000" "07058202400000"

struct urb {
	UMockdevIoctlData *data; /* the resolved struct usbdevfs_urb + its buffer */
	bool done;
	int status;
	int actual;
	uint8_t *answer; /* bulk IN: bytes to hand back when reaped */
	size_t answer_len;
};

/* One plugged-in appearance of the reader: its own device node, handler
 * and URBs.  Kept until the end so a stale fd still gets ENODEV. */
struct plug {
	struct fake_acr122u *f;
	UMockdevIoctlBase *handler;
	GList *urbs;      /* struct urb *, in submit order */
	GList *discarded; /* struct urb *, reaped with -ENOENT */
	bool gone;
	char serial[64];
	bool has_serial;
	/* the device's next answer, waiting for a bulk IN URB */
	uint8_t pending[512];
	size_t pending_len;
	bool has_pending;
};

struct fake_acr122u {
	pthread_mutex_t lock;
	UMockdevTestbed *testbed;
	struct plug *plugs[MAX_PLUGS];
	unsigned nplugs;
	struct plug *current; /* plugged in now, or NULL */
	char syspath[64];

	uint8_t uid[10];
	size_t uid_len;
	bool silent;
	unsigned garbage_left, garbage_sent, garbage_kind;
	unsigned polls, power_ons;
	uint8_t led[5];
	bool led_seen;
};

/* ---- the reader: CCID + ACR122U pseudo-APDUs + PN532 ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* RDR_to_PC_DataBlock (0x80) or SlotStatus (0x81) answering `req`. */
static size_t ccid_answer(uint8_t *out, uint8_t type, const uint8_t *req, uint8_t status,
			  uint8_t error, const uint8_t *data, size_t len)
{
	out[0] = type;
	put_le32(out + 1, (uint32_t)len);
	out[5] = req[5]; /* slot */
	out[6] = req[6]; /* sequence number, echoed */
	out[7] = status;
	out[8] = error;
	out[9] = 0;
	if (len)
		memcpy(out + 10, data, len);
	return 10 + len;
}

/* The answer (APDU response, with SW) to one XfrBlock APDU. */
static size_t apdu_answer(struct fake_acr122u *f, const uint8_t *apdu, size_t n, uint8_t *out)
{
	size_t k = 0;

	if (n >= 5 && apdu[0] == 0xFF && apdu[1] == 0x00 && apdu[2] == 0x48) {
		memcpy(out, "ACR122U207", 10); /* the firmware answers without SW */
		return 10;
	}
	if (n >= 9 && apdu[0] == 0xFF && apdu[1] == 0x00 && apdu[2] == 0x40 && apdu[4] == 4) {
		f->led[0] = apdu[3];
		memcpy(f->led + 1, apdu + 5, 4);
		f->led_seen = true;
		out[0] = 0x90;
		out[1] = apdu[3] & 0x03; /* LED state */
		return 2;
	}
	if (n >= 5 && apdu[0] == 0xFF && apdu[1] == 0x00 && apdu[2] == 0x52) {
		out[0] = 0x90;
		out[1] = 0x00;
		return 2;
	}
	if (n >= 7 && apdu[0] == 0xFF && apdu[1] == 0x00 && apdu[2] == 0x00 && apdu[3] == 0x00 &&
	    apdu[4] == n - 5 && apdu[5] == 0xD4) {
		const uint8_t *cmd = apdu + 6;
		size_t clen = n - 6;
		out[k++] = 0xD5;
		out[k++] = (uint8_t)(cmd[0] + 1);
		switch (cmd[0]) {
		case 0x4A: /* InListPassiveTarget MaxTg BrTy */
			f->polls++;
			if (clen < 3 || cmd[2] != 0x00) {
				k = 0;
				break;
			}
			if (!f->uid_len) {
				out[k++] = 0; /* NbTg */
				break;
			}
			out[k++] = 1;    /* NbTg */
			out[k++] = 1;    /* Tg */
			out[k++] = 0x00; /* SENS_RES (ATQA) */
			/* ATQA bits 7-6: UID size single/double/triple */
			out[k++] = f->uid_len == 4 ? 0x04 : f->uid_len == 7 ? 0x44 : 0x84;
			out[k++] = f->uid_len == 4 ? 0x08 : 0x00; /* SEL_RES (SAK) */
			out[k++] = (uint8_t)f->uid_len;
			memcpy(out + k, f->uid, f->uid_len);
			k += f->uid_len;
			break;
		case 0x52: /* InRelease */
		case 0x44: /* InDeselect */
			out[k++] = 0x00;
			break;
		case 0x32: /* RFConfiguration */
			break;
		case 0x02: /* GetFirmwareVersion: PN532 v1.6 */
			memcpy(out + k, "\x32\x01\x06\x07", 4);
			k += 4;
			break;
		default:
			k = 0;
		}
		if (k == 0) {
			out[k++] = 0x63;
			out[k++] = 0x00;
			return k;
		}
		out[k++] = 0x90;
		out[k++] = 0x00;
		return k;
	}
	out[0] = 0x63;
	out[1] = 0x00;
	return 2;
}

/* Replace an answer by garbage of the next kind. */
static size_t garbage(struct fake_acr122u *f, const uint8_t *req, uint8_t *out)
{
	static const uint8_t bad_target[] = { 0xD5, 0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, 0x09,
					      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
					      0x09, 0x90, 0x00 }; /* NFCID length 9 */
	size_t n;

	f->garbage_sent++;
	switch (f->garbage_kind++ % 4) {
	case 0: /* not CCID at all */
		memcpy(out, "\x13\x37\x00\xff\x42", 5);
		return 5;
	case 1: /* a DataBlock whose length says more than there is */
		n = ccid_answer(out, 0x80, req, 0, 0, (const uint8_t *)"\xD5\x4B", 2);
		put_le32(out + 1, 200);
		return n;
	case 2: /* a well-formed DataBlock with an impossible UID length */
		return ccid_answer(out, 0x80, req, 0, 0, bad_target, sizeof(bad_target));
	default: /* the answer to some other request */
		n = ccid_answer(out, 0x80, req, 0, 0, (const uint8_t *)"\xD5\x4B\x00\x90\x00", 5);
		out[6] = (uint8_t)(req[6] + 7);
		return n;
	}
}

/* A bulk OUT message from the host: queue the reader's answer (or not). */
static void reader_receive(struct plug *p, const uint8_t *msg, size_t len)
{
	struct fake_acr122u *f = p->f;
	uint8_t apdu_out[300];
	size_t n = 0;

	if (len < 10)
		return; /* a real reader would stall; the host times out */
	uint32_t dlen = (uint32_t)msg[1] | (uint32_t)msg[2] << 8 | (uint32_t)msg[3] << 16 |
			(uint32_t)msg[4] << 24;
	if (dlen != len - 10)
		return;
	switch (msg[0]) {
	case 0x62: /* IccPowerOn: the ACR122U's pseudo-ATR */
		f->power_ons++;
		n = ccid_answer(p->pending, 0x80, msg, 0, 0,
				(const uint8_t *)"\x3B\x8F\x80\x01\x80\x4F\x0C\xA0\x00\x00\x03\x06"
						 "\x03\x00\x03\x00\x00\x00\x00\x68",
				20);
		break;
	case 0x63: /* IccPowerOff */
	case 0x65: /* GetSlotStatus */
		n = ccid_answer(p->pending, 0x81, msg, 0, 0, NULL, 0);
		break;
	case 0x6F: /* XfrBlock */
		n = apdu_answer(f, msg + 10, len - 10, apdu_out);
		n = ccid_answer(p->pending, 0x80, msg, 0, 0, apdu_out, n);
		break;
	default: /* command not supported: bStatus "failed", bError 0 */
		n = ccid_answer(p->pending, 0x80, msg, 0x40, 0x00, NULL, 0);
	}
	if (f->silent)
		return;
	if (f->garbage_left) {
		f->garbage_left--;
		n = garbage(f, msg, p->pending);
	}
	p->pending_len = n;
	p->has_pending = true;
}

/* ---- usbdevfs ---- */

static size_t string_descriptor(struct plug *p, unsigned index, uint8_t *out, size_t max)
{
	const char *s;
	size_t k = 2;

	if (index == 0) {
		memcpy(out, "\x04\x03\x09\x04", 4); /* LANGID en-US */
		return max < 4 ? max : 4;
	}
	s = index == 1 ? "ACS" : index == 2 ? "ACR122U PICC Interface"
				: index == 3 && p->has_serial ? p->serial : NULL;
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

/* Give the pending answer to the oldest waiting bulk IN URB. */
static void match_answer(struct plug *p)
{
	if (!p->has_pending)
		return;
	for (GList *l = p->urbs; l; l = l->next) {
		struct urb *u = l->data;
		struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->data->data;
		if (u->done || k->endpoint != EP_BULK_IN)
			continue;
		size_t n = p->pending_len < (size_t)k->buffer_length ? p->pending_len
								      : (size_t)k->buffer_length;
		u->answer = g_memdup2(p->pending, n);
		u->answer_len = n;
		u->actual = (int)n;
		u->status = 0;
		u->done = true;
		p->has_pending = false;
		return;
	}
}

static void submit(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *urb_data = umockdev_ioctl_data_resolve(arg, 0,
								  sizeof(struct usbdevfs_urb), NULL);
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
		if (setup[0] == 0x80 && setup[1] == 0x06 && setup[3] == 0x03)
			u->actual = (int)string_descriptor(p, setup[2], data, want);
		else if (setup[0] == 0x80 && setup[1] == 0x06 && setup[3] == 0x01) {
			uint8_t dev[18];
			for (int i = 0; i < 18; i++)
				sscanf(DEV_DESC + 2 * i, "%2hhx", &dev[i]);
			memcpy(data, dev, want < 18 ? want : 18);
			u->actual = (int)(want < 18 ? want : 18);
		}
	} else if (k->type == USBDEVFS_URB_TYPE_BULK && k->endpoint == EP_BULK_OUT) {
		reader_receive(p, buf->data, (size_t)k->buffer_length);
		u->done = true;
		u->actual = k->buffer_length;
	} else if (k->endpoint & 0x80) {
		/* IN: waits for an answer (bulk) or forever (interrupt) */
	} else {
		g_object_unref(buf);
		g_object_unref(urb_data);
		g_free(u);
		umockdev_ioctl_client_complete(client, -1, EINVAL);
		return;
	}
	g_object_unref(buf); /* urb_data keeps its resolved child */
	p->urbs = g_list_append(p->urbs, u);
	match_answer(p);
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
	if (!status && u->answer_len) {
		/* the buffer pointer inside the resolved URB is local memory */
		memcpy(k->buffer, u->answer, u->answer_len);
	} else if (!status && k->type == USBDEVFS_URB_TYPE_CONTROL) {
		/* control data was written in place at submit time */
	}
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
	struct fake_acr122u *f = p->f;
	gulong request = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);

	(void)handler;
	pthread_mutex_lock(&f->lock);
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
	pthread_mutex_unlock(&f->lock);
	return TRUE;
}

/* ---- the testbed ---- */

struct fake_acr122u *fake_acr122u_new(void)
{
	struct fake_acr122u *f = g_new0(struct fake_acr122u, 1);

	pthread_mutex_init(&f->lock, NULL);
	f->testbed = umockdev_testbed_new();
	if (!f->testbed || !umockdev_in_mock_environment()) {
		fake_acr122u_free(f);
		return NULL;
	}
	return f;
}

int fake_acr122u_plug(struct fake_acr122u *f, const char *serial)
{
	char node[64], desc[1024], *text;
	GError *err = NULL;
	struct plug *p;
	unsigned devnum;

	pthread_mutex_lock(&f->lock);
	if (f->current || f->nplugs == MAX_PLUGS) {
		pthread_mutex_unlock(&f->lock);
		return -EBUSY;
	}
	p = g_new0(struct plug, 1);
	p->f = f;
	if (serial) {
		snprintf(p->serial, sizeof(p->serial), "%s", serial);
		p->has_serial = true;
	}
	f->plugs[f->nplugs++] = p;
	devnum = f->nplugs + 1; /* 001 would be the root hub */
	pthread_mutex_unlock(&f->lock);

	p->handler = umockdev_ioctl_base_new();
	g_signal_connect(p->handler, "handle-ioctl", G_CALLBACK(handle_ioctl), p);
	snprintf(node, sizeof(node), "/dev/bus/usb/001/%03u", devnum);
	/* the handler first, so the node answers as soon as the "add" is seen */
	if (!umockdev_testbed_attach_ioctl(f->testbed, node, p->handler, &err)) {
		fprintf(stderr, "fake_acr122u: attach %s: %s\n", node, err->message);
		g_error_free(err);
		return -EIO;
	}
	snprintf(desc, sizeof(desc), "%s%s", serial ? DEV_DESC : DEV_DESC_NO_SERIAL, CFG_DESC);
	text = g_strdup_printf("P: /devices/usb1/1-1\n"
			       "N: bus/usb/001/%03u\n"
			       "E: SUBSYSTEM=usb\n"
			       "E: DEVTYPE=usb_device\n"
			       "E: DRIVER=usb\n"
			       "E: BUSNUM=001\n"
			       "E: DEVNUM=%03u\n"
			       "E: DEVNAME=/dev/bus/usb/001/%03u\n"
			       "E: PRODUCT=72f/2200/214\n"
			       "A: idVendor=072f\\n\n"
			       "A: idProduct=2200\\n\n"
			       "A: busnum=1\\n\n"
			       "A: devnum=%u\\n\n"
			       "A: bConfigurationValue=1\\n\n"
			       "A: speed=12\\n\n"
			       "%s%s%s"
			       "H: descriptors=%s\n",
			       devnum, devnum, devnum, devnum, serial ? "A: serial=" : "",
			       serial ? serial : "", serial ? "\\n\n" : "", desc);
	gboolean ok = umockdev_testbed_add_from_string(f->testbed, text, &err);
	g_free(text);
	if (!ok) {
		fprintf(stderr, "fake_acr122u: add device: %s\n", err->message);
		g_error_free(err);
		return -EIO;
	}
	pthread_mutex_lock(&f->lock);
	f->current = p;
	snprintf(f->syspath, sizeof(f->syspath), "/sys/devices/usb1/1-1");
	pthread_mutex_unlock(&f->lock);
	return 0;
}

void fake_acr122u_unplug(struct fake_acr122u *f)
{
	pthread_mutex_lock(&f->lock);
	struct plug *p = f->current;
	f->current = NULL;
	if (p)
		p->gone = true;
	pthread_mutex_unlock(&f->lock);
	if (!p)
		return;
	umockdev_testbed_uevent(f->testbed, f->syspath, "remove");
	umockdev_testbed_remove_device(f->testbed, f->syspath);
}

void fake_acr122u_set_card(struct fake_acr122u *f, const uint8_t *uid, size_t uid_len)
{
	pthread_mutex_lock(&f->lock);
	f->uid_len = uid_len <= sizeof(f->uid) ? uid_len : 0;
	if (f->uid_len)
		memcpy(f->uid, uid, f->uid_len);
	pthread_mutex_unlock(&f->lock);
}

void fake_acr122u_set_silent(struct fake_acr122u *f, bool silent)
{
	pthread_mutex_lock(&f->lock);
	f->silent = silent;
	pthread_mutex_unlock(&f->lock);
}

void fake_acr122u_garbage(struct fake_acr122u *f, unsigned n)
{
	pthread_mutex_lock(&f->lock);
	f->garbage_left += n;
	pthread_mutex_unlock(&f->lock);
}

#define COUNTER(name_, field_)                                  \
	unsigned fake_acr122u_##name_(struct fake_acr122u *f)   \
	{                                                       \
		pthread_mutex_lock(&f->lock);                   \
		unsigned v = f->field_;                         \
		pthread_mutex_unlock(&f->lock);                 \
		return v;                                       \
	}
COUNTER(polls, polls)
COUNTER(power_ons, power_ons)
COUNTER(garbage_sent, garbage_sent)

bool fake_acr122u_last_led(struct fake_acr122u *f, uint8_t out[5])
{
	pthread_mutex_lock(&f->lock);
	bool seen = f->led_seen;
	if (seen)
		memcpy(out, f->led, 5);
	pthread_mutex_unlock(&f->lock);
	return seen;
}

void fake_acr122u_free(struct fake_acr122u *f)
{
	if (!f)
		return;
	if (f->testbed)
		g_object_unref(f->testbed);
	for (unsigned i = 0; i < f->nplugs; i++) {
		struct plug *p = f->plugs[i];
		if (p->handler)
			g_object_unref(p->handler);
		g_list_free_full(p->urbs, (GDestroyNotify)free_urb);
		g_list_free_full(p->discarded, (GDestroyNotify)free_urb);
		g_free(p);
	}
	pthread_mutex_destroy(&f->lock);
	g_free(f);
}
