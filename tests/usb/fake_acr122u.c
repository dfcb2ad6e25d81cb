/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FAKE ACS ACR122U for tests (see fake_acr122u.h).  Two layers:
 *
 *  - usbdevfs: tests/usb/fake_usbdevfs.c, shared with fake_feig.c; a bulk
 *    IN URB waits for the reader's next answer.
 *  - the reader (here): CCID 1.1 bulk messages (PC_to_RDR_IccPowerOn 0x62,
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

#include <glib.h>

#include "fake_acr122u.h"
#include "fake_usbdevfs.h"

/* Configuration: one interface, class 0x0B (smart card, CCID), a CCID
 * functional descriptor (0x21, 54 bytes), interrupt IN 0x81, bulk OUT
 * 0x02, bulk IN 0x82 (64-byte packets). */
#define CFG_DESC \
	"09025d00010100803209040000030b000000" \
	"36211001000107000000a00f0000a00f0000000000000000000000" \
	"00000000000000000000000000000000000f000000000000000001" \
	"0705810308000a" "07050202400000" "07058202400000"

struct fake_acr122u {
	pthread_mutex_t lock;
	struct fake_usbdevfs *usb;
	/* the reader's next answer, waiting for a bulk IN URB */
	uint8_t pending[512];
	size_t pending_len;
	bool has_pending;

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
static void reader_receive(void *user, const uint8_t *msg, size_t len)
{
	struct fake_acr122u *f = user;
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
		n = ccid_answer(f->pending, 0x80, msg, 0, 0,
				(const uint8_t *)"\x3B\x8F\x80\x01\x80\x4F\x0C\xA0\x00\x00\x03\x06"
						 "\x03\x00\x03\x00\x00\x00\x00\x68",
				20);
		break;
	case 0x63: /* IccPowerOff */
	case 0x65: /* GetSlotStatus */
		n = ccid_answer(f->pending, 0x81, msg, 0, 0, NULL, 0);
		break;
	case 0x6F: /* XfrBlock */
		n = apdu_answer(f, msg + 10, len - 10, apdu_out);
		n = ccid_answer(f->pending, 0x80, msg, 0, 0, apdu_out, n);
		break;
	default: /* command not supported: bStatus "failed", bError 0 */
		n = ccid_answer(f->pending, 0x80, msg, 0x40, 0x00, NULL, 0);
	}
	if (f->silent)
		return;
	if (f->garbage_left) {
		f->garbage_left--;
		n = garbage(f, msg, f->pending);
	}
	f->pending_len = n;
	f->has_pending = true;
}

/* A bulk IN URB waits: the pending answer, whole (cut to the URB's size). */
static ssize_t reader_send(void *user, uint8_t *buf, size_t max)
{
	struct fake_acr122u *f = user;

	if (!f->has_pending)
		return -1;
	size_t n = f->pending_len < max ? f->pending_len : max;
	memcpy(buf, f->pending, n);
	f->has_pending = false;
	return (ssize_t)n;
}

/* A new appearance of the reader has nothing on its way to the host. */
static void reader_plugged(void *user)
{
	struct fake_acr122u *f = user;

	f->has_pending = false;
}

/* USB 2.0, class in interface, EP0 8 bytes, 072F:2200, bcdDevice 2.14,
 * strings 1 (maker), 2 (product), 3 (serial), 1 config; bulk OUT 0x02,
 * bulk IN 0x82, interrupt IN 0x81 (never anything to report). */
static const struct fake_usbdevfs_device acr122u_usb = {
	.name = "fake_acr122u",
	.sysname = "1-1",
	.vendor_id = 0x072F,
	.bcd_device = 0x0214,
	.ep0_size = 8,
	.manufacturer = "ACS",
	.product = "ACR122U PICC Interface",
	.cfg_desc = CFG_DESC,
	.ep_out = 0x02,
	.ep_in = 0x82,
	.ep_idle_in = 0x81,
	.plugged = reader_plugged,
	.bulk_out = reader_receive,
	.bulk_in = reader_send,
};

/* ---- the testbed ---- */

struct fake_acr122u *fake_acr122u_new(void)
{
	struct fake_acr122u *f = g_new0(struct fake_acr122u, 1);

	pthread_mutex_init(&f->lock, NULL);
	f->usb = fake_usbdevfs_new(&acr122u_usb, &f->lock, f);
	if (!f->usb) {
		fake_acr122u_free(f);
		return NULL;
	}
	return f;
}

int fake_acr122u_plug(struct fake_acr122u *f, const char *serial)
{
	return fake_usbdevfs_plug(f->usb, 0x2200, serial);
}

void fake_acr122u_unplug(struct fake_acr122u *f)
{
	fake_usbdevfs_unplug(f->usb);
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
	fake_usbdevfs_free(f->usb);
	pthread_mutex_destroy(&f->lock);
	g_free(f);
}
