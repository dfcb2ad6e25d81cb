/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FAKE FEIG USB reader for tests (see fake_feig.h).  Two layers:
 *
 *  - usbdevfs: tests/usb/fake_usbdevfs.c, shared with fake_acr122u.c; a
 *    bulk IN URB waits for the reader's next piece of answer.
 *  - the reader (here): OBID ISO-Host frames (H20800 §3): standard
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

#include <glib.h>

#include "fake_feig.h"
#include "fake_usbdevfs.h"

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

struct tag {
	uint8_t uid[8];
	uint8_t dsfid, afi;
	unsigned block_size, blocks;
	uint8_t mem[MAX_TAG_MEM];
};

struct fake_feig {
	pthread_mutex_t lock;
	struct fake_usbdevfs *usb;
	/* the answer on its way to the host, handed out piece by piece */
	uint8_t out[ANSWER_MAX];
	size_t out_len, out_pos;

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

/* An answer frame into f->out: standard, advanced when over 255 bytes. */
static void answer(struct fake_feig *f, uint8_t addr, uint8_t cmd, uint8_t status,
		   const uint8_t *data, size_t len)
{
	size_t head = len + 6 <= 255 ? 1 : 3, total = head + 3 + len + 2, k = 0;
	uint8_t *o = f->out;

	if (total > sizeof(f->out))
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
	f->out_len = k;
	f->out_pos = 0;
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
static void reader_receive(void *user, const uint8_t *msg, size_t len)
{
	struct fake_feig *f = user;
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
		f->out_len = f->out_pos = 0;
		return;
	}
	answer(f, addr, cmd, status, data, dlen);
}

/* A bulk IN URB waits: the next piece of the answer. */
static ssize_t reader_send(void *user, uint8_t *buf, size_t max)
{
	struct fake_feig *f = user;

	if (f->out_pos >= f->out_len)
		return -1;
	size_t n = f->out_len - f->out_pos;
	if (f->chunk && n > f->chunk)
		n = f->chunk;
	if (n > max)
		n = max;
	memcpy(buf, f->out + f->out_pos, n);
	f->out_pos += n;
	f->in_transfers++;
	return (ssize_t)n;
}

/* A new appearance of the reader has nothing on its way to the host. */
static void reader_plugged(void *user)
{
	struct fake_feig *f = user;

	f->out_len = f->out_pos = 0;
}

/* USB 2.0, EP0 64 bytes, VID 0AB1, bcdDevice 1.00, strings 1 (maker),
 * 2 (product), 3 (serial); bulk OUT 0x02, bulk IN 0x81. */
static const struct fake_usbdevfs_device feig_usb = {
	.name = "fake_feig",
	.sysname = "1-2",
	.vendor_id = 0x0AB1,
	.bcd_device = 0x0100,
	.ep0_size = 64,
	.manufacturer = "FEIG ELECTRONIC",
	.product = "OBID RFID-Reader (fake)",
	.cfg_desc = CFG_DESC,
	.ep_out = 0x02,
	.ep_in = 0x81,
	.plugged = reader_plugged,
	.bulk_out = reader_receive,
	.bulk_in = reader_send,
};

/* ---- the testbed ---- */

struct fake_feig *fake_feig_new(void)
{
	struct fake_feig *f = g_new0(struct fake_feig, 1);

	pthread_mutex_init(&f->lock, NULL);
	f->max_sets = 8;
	f->usb = fake_usbdevfs_new(&feig_usb, &f->lock, f);
	if (!f->usb) {
		fake_feig_free(f);
		return NULL;
	}
	return f;
}

int fake_feig_plug(struct fake_feig *f, uint16_t product_id, const char *serial)
{
	return fake_usbdevfs_plug(f->usb, product_id, serial);
}

void fake_feig_unplug(struct fake_feig *f)
{
	fake_usbdevfs_unplug(f->usb);
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
	fake_usbdevfs_free(f->usb);
	pthread_mutex_destroy(&f->lock);
	g_free(f);
}
