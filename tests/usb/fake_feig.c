/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FAKE FEIG USB reader for tests (see fake_feig.h).  Two layers:
 *
 *  - usbdevfs, as tests/usb/fake_acr122u.c models it: control and bulk OUT
 *    URBs complete at once; a bulk IN URB waits for the reader's next
 *    piece of answer; DISCARDURB (a timed-out transfer) is reaped with
 *    -ENOENT; after unplug in-flight URBs end with -ESHUTDOWN and new
 *    ioctls fail with ENODEV.
 *  - the reader: OBID ISO-Host frames (H20800 §3): standard
 *    LEN ADR CMD DATA CRC16 or advanced 02 ALEN(2) ADR CMD DATA CRC16;
 *    answers LEN ADR CMD STATUS DATA CRC16; CRC-16 poly 0x8408 (reflected),
 *    preset 0xFFFF, low byte first.  A frame that does not check is
 *    ignored, as a reader does: the host times out.
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

#include "fake_feig.h"

#define EP_BULK_OUT 0x02
#define EP_BULK_IN 0x81
#define MAX_PLUGS 32
#define MAX_TAGS 16
#define MAX_TAG_MEM 512
#define ANSWER_MAX 1100

/* Configuration: 32 bytes, one interface (0, class 0xFF vendor specific,
 * two endpoints), bulk OUT 0x02 and bulk IN 0x81, 64-byte packets. */
#define CFG_DESC \
	"0902200001010080" "32" \
	"0904000002ff000000" \
	"07050202400000" \
	"07058102400000"

struct urb {
	UMockdevIoctlData *data; /* the resolved struct usbdevfs_urb */
	bool done;
	int actual;
	uint8_t *answer; /* bulk IN: the bytes handed back when reaped */
	size_t answer_len;
};

struct plug {
	struct fake_feig *f;
	UMockdevIoctlBase *handler;
	GList *urbs;      /* struct urb *, in submit order */
	GList *discarded; /* reaped with -ENOENT */
	bool gone;
	uint16_t product_id;
	char serial[64];
	bool has_serial;
	/* the answer on its way to the host, handed out piece by piece */
	uint8_t out[ANSWER_MAX];
	size_t out_len, out_pos;
};

struct tag {
	uint8_t uid[8];
	uint8_t dsfid, afi;
	unsigned block_size, blocks;
	uint8_t mem[MAX_TAG_MEM];
};

struct fake_feig {
	pthread_mutex_t lock;
	UMockdevTestbed *testbed;
	struct plug *plugs[MAX_PLUGS];
	unsigned nplugs;
	struct plug *current;

	struct tag tags[MAX_TAGS];
	unsigned ntags;
	/* inventory data sets not yet sent (MODE.MORE) */
	uint8_t more[MAX_TAGS][10];
	unsigned nmore;
	unsigned max_sets;
	size_t chunk;
	unsigned withhold, ignore_afi;
	unsigned requests, inventories, rf_resets, withheld, in_transfers;
};

/* ---- the reader ---- */

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	while (n--) {
		crc ^= *p++;
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* An answer frame into p->out: standard, advanced when over 255 bytes. */
static void answer(struct plug *p, uint8_t addr, uint8_t cmd, uint8_t status, const uint8_t *data,
		   size_t len)
{
	size_t head = len + 6 <= 255 ? 1 : 3, total = head + 3 + len + 2, k = 0;
	uint8_t *o = p->out;

	if (total > sizeof(p->out))
		return;
	if (head == 1) {
		o[k++] = (uint8_t)total;
	} else {
		o[k++] = 0x02;
		o[k++] = (uint8_t)(total >> 8);
		o[k++] = (uint8_t)total;
	}
	o[k++] = addr;
	o[k++] = cmd;
	o[k++] = status;
	if (len)
		memcpy(o + k, data, len);
	k += len;
	uint16_t c = crc16(o, k);
	o[k++] = (uint8_t)c;
	o[k++] = (uint8_t)(c >> 8);
	p->out_len = k;
	p->out_pos = 0;
}

static struct tag *find_tag(struct fake_feig *f, const uint8_t *uid)
{
	for (unsigned i = 0; i < f->ntags; i++)
		if (!memcmp(f->tags[i].uid, uid, 8))
			return &f->tags[i];
	return NULL;
}

/* [0xB0] ISO host commands: the status; the data in out, its length in *out_len. */
static uint8_t iso_command(struct fake_feig *f, const uint8_t *d, size_t n, uint8_t *out,
			   size_t *out_len)
{
	struct tag *t;

	*out_len = 0;
	if (n < 1)
		return 0x81;
	if (d[0] == 0x01) { /* inventory */
		uint8_t mode = n > 1 ? d[1] : 0;
		if (!(mode & 0x80)) {
			f->inventories++;
			f->nmore = 0;
			for (unsigned i = 0; i < f->ntags; i++) {
				f->more[f->nmore][0] = 0x03; /* TR-TYPE: ISO 15693 */
				f->more[f->nmore][1] = f->tags[i].dsfid;
				memcpy(&f->more[f->nmore][2], f->tags[i].uid, 8);
				f->nmore++;
			}
		}
		if (!f->nmore)
			return 0x01; /* no transponder */
		unsigned now = f->nmore < f->max_sets ? f->nmore : f->max_sets;
		out[0] = (uint8_t)now;
		for (unsigned i = 0; i < now; i++)
			memcpy(out + 1 + 10 * i, f->more[i], 10);
		*out_len = 1 + 10 * (size_t)now;
		memmove(f->more, f->more + now, (f->nmore - now) * sizeof(f->more[0]));
		f->nmore -= now;
		return f->nmore ? 0x94 : 0x00;
	}
	/* the rest: addressed mode only, MODE UID[8] ... */
	if (n < 10 || (d[1] & 0x07) != 0x01)
		return 0x81;
	t = find_tag(f, d + 2);
	if (!t)
		return 0x01;
	switch (d[0]) {
	case 0x23: /* read multiple blocks: DB-ADR DB-N */
		if (n != 12)
			return 0x81;
		if ((unsigned)d[10] + d[11] > t->blocks) {
			out[0] = 0x10; /* ISO error: block not available */
			*out_len = 1;
			return 0x95;
		}
		out[0] = d[11];
		out[1] = (uint8_t)t->block_size;
		*out_len = 2;
		for (unsigned b = d[10]; b < (unsigned)d[10] + d[11]; b++) {
			out[(*out_len)++] = 0x00; /* security status */
			for (unsigned i = t->block_size; i-- > 0;) /* MSB first */
				out[(*out_len)++] = t->mem[b * t->block_size + i];
		}
		return 0x00;
	case 0x27: /* write AFI */
		if (n != 11)
			return 0x81;
		if (f->ignore_afi)
			f->ignore_afi--;
		else
			t->afi = d[10];
		return 0x00;
	case 0x2B: /* system information */
		if (n != 10)
			return 0x81;
		out[0] = t->dsfid;
		memcpy(out + 1, t->uid, 8);
		out[9] = t->afi;
		out[10] = (uint8_t)((t->block_size - 1) & 0x1F);
		out[11] = (uint8_t)(t->blocks - 1);
		out[12] = 0x01; /* IC reference */
		*out_len = 13;
		return 0x00;
	}
	return 0x80; /* unknown command */
}

/* One bulk OUT transfer from the host: a request frame, answered or not. */
static void reader_receive(struct plug *p, const uint8_t *msg, size_t len)
{
	struct fake_feig *f = p->f;
	uint8_t data[ANSWER_MAX];
	size_t head, flen, dlen = 0;
	uint8_t status;

	if (len >= 3 && msg[0] == 0x02) {
		head = 3;
		flen = (size_t)msg[1] << 8 | msg[2];
	} else if (len >= 1) {
		head = 1;
		flen = msg[0];
	} else {
		return;
	}
	if (flen != len || flen < head + 4 || crc16(msg, flen - 2) !=
						      (msg[flen - 2] | msg[flen - 1] << 8))
		return; /* not a frame: no answer */
	f->requests++;
	uint8_t addr = msg[head], cmd = msg[head + 1];
	const uint8_t *d = msg + head + 2;
	size_t n = flen - head - 4;
	if (cmd == 0x69) {
		f->rf_resets++;
		f->nmore = 0;
		status = 0x00;
	} else if (cmd == 0xB0) {
		status = iso_command(f, d, n, data, &dlen);
	} else {
		status = 0x80;
	}
	if (f->withhold) {
		f->withhold--;
		f->withheld++;
		p->out_len = p->out_pos = 0;
		return;
	}
	answer(p, addr, cmd, status, data, dlen);
}

/* ---- usbdevfs ---- */

static size_t device_descriptor(const struct plug *p, uint8_t *d)
{
	static const uint8_t head[] = { 0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40,
					0xB1, 0x0A }; /* USB 2.0, EP0 64, VID 0AB1 */
	memcpy(d, head, sizeof(head));
	d[10] = (uint8_t)p->product_id;
	d[11] = (uint8_t)(p->product_id >> 8);
	d[12] = 0x00; /* bcdDevice 1.00 */
	d[13] = 0x01;
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
	s = index == 1 ? "FEIG ELECTRONIC" : index == 2 ? "OBID RFID-Reader (fake)"
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

/* Hand the next piece of the answer to the oldest waiting bulk IN URB. */
static void give_answer(struct plug *p)
{
	while (p->out_pos < p->out_len) {
		struct urb *u = NULL;
		for (GList *l = p->urbs; l && !u; l = l->next) {
			struct urb *c = l->data;
			struct usbdevfs_urb *k = (struct usbdevfs_urb *)c->data->data;
			if (!c->done && k->endpoint == EP_BULK_IN)
				u = c;
		}
		if (!u)
			return;
		struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->data->data;
		size_t n = p->out_len - p->out_pos;
		if (p->f->chunk && n > p->f->chunk)
			n = p->f->chunk;
		if (n > (size_t)k->buffer_length)
			n = (size_t)k->buffer_length;
		u->answer = g_memdup2(p->out + p->out_pos, n);
		u->answer_len = n;
		u->actual = (int)n;
		u->done = true;
		p->out_pos += n;
		p->f->in_transfers++;
	}
}

static void submit(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
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
			uint8_t dev[18];
			size_t n = device_descriptor(p, dev);
			memcpy(data, dev, want < n ? want : n);
			u->actual = (int)(want < n ? want : n);
		}
	} else if (k->type == USBDEVFS_URB_TYPE_BULK && k->endpoint == EP_BULK_OUT) {
		reader_receive(p, buf->data, (size_t)k->buffer_length);
		u->done = true;
		u->actual = k->buffer_length;
	} else if (k->type == USBDEVFS_URB_TYPE_BULK && k->endpoint == EP_BULK_IN) {
		/* waits for the reader's answer */
	} else {
		g_object_unref(buf);
		g_object_unref(urb_data);
		g_free(u);
		umockdev_ioctl_client_complete(client, -1, EINVAL);
		return;
	}
	g_object_unref(buf); /* urb_data keeps its resolved child */
	p->urbs = g_list_append(p->urbs, u);
	give_answer(p);
	umockdev_ioctl_client_complete(client, 0, 0);
}

static void free_urb(struct urb *u)
{
	g_object_unref(u->data);
	g_free(u->answer);
	g_free(u);
}

static void reap_one(UMockdevIoctlClient *client, UMockdevIoctlData *arg, struct urb *u,
		     int status)
{
	struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->data->data;
	UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), NULL);

	k->status = status;
	k->actual_length = status ? 0 : u->actual;
	if (!status && u->answer_len)
		memcpy(k->buffer, u->answer, u->answer_len); /* local copy of the buffer */
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
	struct fake_feig *f = p->f;
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
	case USBDEVFS_IOCTL: /* no kernel driver to detach */
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

struct fake_feig *fake_feig_new(void)
{
	struct fake_feig *f = g_new0(struct fake_feig, 1);

	pthread_mutex_init(&f->lock, NULL);
	f->max_sets = 8;
	f->testbed = umockdev_testbed_new();
	if (!f->testbed || !umockdev_in_mock_environment()) {
		fake_feig_free(f);
		return NULL;
	}
	return f;
}

int fake_feig_plug(struct fake_feig *f, uint16_t product_id, const char *serial)
{
	char node[64], desc[512], *text;
	uint8_t dev[18];
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
	p->product_id = product_id;
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
	if (!umockdev_testbed_attach_ioctl(f->testbed, node, p->handler, &err)) {
		fprintf(stderr, "fake_feig: attach %s: %s\n", node, err->message);
		g_error_free(err);
		return -EIO;
	}
	device_descriptor(p, dev);
	for (size_t i = 0; i < sizeof(dev); i++)
		snprintf(desc + 2 * i, 3, "%02x", dev[i]);
	snprintf(desc + 2 * sizeof(dev), sizeof(desc) - 2 * sizeof(dev), "%s", CFG_DESC);
	text = g_strdup_printf("P: /devices/usb1/1-2\n"
			       "N: bus/usb/001/%03u\n"
			       "E: SUBSYSTEM=usb\n"
			       "E: DEVTYPE=usb_device\n"
			       "E: DRIVER=usb\n"
			       "E: BUSNUM=001\n"
			       "E: DEVNUM=%03u\n"
			       "E: DEVNAME=/dev/bus/usb/001/%03u\n"
			       "E: PRODUCT=ab1/%x/100\n"
			       "A: idVendor=0ab1\\n\n"
			       "A: idProduct=%04x\\n\n"
			       "A: busnum=1\\n\n"
			       "A: devnum=%u\\n\n"
			       "A: bConfigurationValue=1\\n\n"
			       "A: speed=12\\n\n"
			       "%s%s%s"
			       "H: descriptors=%s\n",
			       devnum, devnum, devnum, product_id, product_id, devnum,
			       serial ? "A: serial=" : "", serial ? serial : "",
			       serial ? "\\n\n" : "", desc);
	gboolean ok = umockdev_testbed_add_from_string(f->testbed, text, &err);
	g_free(text);
	if (!ok) {
		fprintf(stderr, "fake_feig: add device: %s\n", err->message);
		g_error_free(err);
		return -EIO;
	}
	pthread_mutex_lock(&f->lock);
	f->current = p;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

void fake_feig_unplug(struct fake_feig *f)
{
	pthread_mutex_lock(&f->lock);
	struct plug *p = f->current;
	f->current = NULL;
	if (p)
		p->gone = true;
	pthread_mutex_unlock(&f->lock);
	if (!p)
		return;
	umockdev_testbed_uevent(f->testbed, "/sys/devices/usb1/1-2", "remove");
	umockdev_testbed_remove_device(f->testbed, "/sys/devices/usb1/1-2");
}

int fake_feig_add_tag(struct fake_feig *f, const uint8_t uid[8], uint8_t dsfid, uint8_t afi,
		      unsigned block_size, unsigned blocks, const uint8_t *memory)
{
	if (block_size < 1 || block_size > 32 || blocks < 1 || blocks > 256 ||
	    block_size * blocks > MAX_TAG_MEM)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	struct tag *t = find_tag(f, uid);
	if (!t && f->ntags < MAX_TAGS)
		t = &f->tags[f->ntags++];
	if (t) {
		memset(t, 0, sizeof(*t));
		memcpy(t->uid, uid, 8);
		t->dsfid = dsfid;
		t->afi = afi;
		t->block_size = block_size;
		t->blocks = blocks;
		if (memory)
			memcpy(t->mem, memory, (size_t)block_size * blocks);
	}
	pthread_mutex_unlock(&f->lock);
	return t ? 0 : -ENOSPC;
}

void fake_feig_remove_tag(struct fake_feig *f, const uint8_t uid[8])
{
	pthread_mutex_lock(&f->lock);
	struct tag *t = find_tag(f, uid);
	if (t)
		*t = f->tags[--f->ntags];
	pthread_mutex_unlock(&f->lock);
}

int fake_feig_tag_afi(struct fake_feig *f, const uint8_t uid[8])
{
	pthread_mutex_lock(&f->lock);
	struct tag *t = find_tag(f, uid);
	int afi = t ? t->afi : -1;
	pthread_mutex_unlock(&f->lock);
	return afi;
}

#define SETTER(name_, field_, type_)                              \
	void fake_feig_##name_(struct fake_feig *f, type_ v)      \
	{                                                         \
		pthread_mutex_lock(&f->lock);                     \
		f->field_ = v;                                    \
		pthread_mutex_unlock(&f->lock);                   \
	}
SETTER(set_chunk, chunk, size_t)
SETTER(set_max_sets, max_sets, unsigned)
SETTER(withhold, withhold, unsigned)
SETTER(ignore_afi_writes, ignore_afi, unsigned)

#define COUNTER(name_, field_)                              \
	unsigned fake_feig_##name_(struct fake_feig *f)     \
	{                                                   \
		pthread_mutex_lock(&f->lock);               \
		unsigned v = f->field_;                     \
		pthread_mutex_unlock(&f->lock);             \
		return v;                                   \
	}
COUNTER(requests, requests)
COUNTER(inventories, inventories)
COUNTER(rf_resets, rf_resets)
COUNTER(withheld, withheld)
COUNTER(in_transfers, in_transfers)

void fake_feig_free(struct fake_feig *f)
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
