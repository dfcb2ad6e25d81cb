/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tag_decode(): which model wrote this memory, and in which byte order.
 *
 * The DSFID is only a hint (rfid.md §1.2: DDM tags carry 0x00 or 0x3E as
 * often as anything), so the content decides:
 *   1. blank tags (all 0x00, all 0xFF, 3M's 0x55 fill) are reported as such;
 *   2. each candidate model is tried in both byte orders, because FEIG
 *      readers return every 4-byte block reversed and some vendors write
 *      them reversed (rfid.md §1.2 "Interop gotchas");
 *   3. ISO 28560-3 first, whatever the DSFID (a CRC match is the strongest
 *      evidence there is), then ISO 28560-2, then 3M RFID501 (no checksum
 *      at all).  When nothing decodes, a DSFID of 0x06 makes the 28560-2
 *      failure the reason reported.
 * The first candidate that decodes wins.  If none does, the first
 * candidate that looked plausible names the reason.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tags/tag_internal.h"

#define DSFID_28560_2 0x06 /* ISO/IEC 15961 registration for ISO 28560-2 */
#define RFID501_BLANK 0x55 /* rfid.md §1.5: 3M blank, all 6 data blocks */

static bool is_blank(const uint8_t *mem, size_t len)
{
	bool zero = true, ff = true, m3 = len >= 24;

	for (size_t i = 0; i < len; i++) {
		zero &= mem[i] == 0x00;
		ff &= mem[i] == 0xFF;
		if (i < 24)
			m3 &= mem[i] == RFID501_BLANK;
		if (!zero && !ff && !m3)
			return false;
	}
	return zero || ff || m3;
}

/* How plausible a decode is.  Models without a checksum (28560-2, RFID501)
 * can decode in the wrong byte order too: then every element found counts
 * for it, a content parameter that matches the elements counts more, and
 * every warning counts against it.  The other order must score higher to
 * win, so the order the site expects keeps ties. */
static int plausibility(const struct tag_item *item)
{
	int score = 2 * item->n_elements;
	for (unsigned i = 0; i < item->n_findings; i++)
		score -= item->findings[i].severity >= TAG_SEV_WARN ? 3 : 0;
	if (item->content_parameter && !tag_item_has_finding(item, TAG_R_CONTENT_PARAMETER))
		score += 3;
	return score;
}

static bool has_warnings(const struct tag_item *item)
{
	for (unsigned i = 0; i < item->n_findings; i++)
		if (item->findings[i].severity >= TAG_SEV_WARN)
			return true;
	return false;
}

typedef int (*decode_fn)(const uint8_t *, size_t, struct tag_item *);
typedef bool (*looks_fn)(const uint8_t *, size_t);

static const struct {
	uint8_t model;
	looks_fn looks;
	decode_fn decode;
} models[] = {
	{ TAG_MODEL_ISO28560_3, tag_looks_like_28560_3, tag_decode_28560_3 },
	{ TAG_MODEL_ISO28560_2, tag_looks_like_28560_2, tag_decode_28560_2 },
	{ TAG_MODEL_RFID501, tag_looks_like_rfid501, tag_decode_rfid501 },
};

int tag_decode(const uint8_t *mem, size_t len, int dsfid, const struct tag_decode_options *opts,
	       struct tag_item *item)
{
	uint8_t reversed[TAG_MEM_MAX];
	uint32_t bs = opts && opts->block_size ? opts->block_size : 4;
	bool have_reversed = false;
	int first_err = 0;
	unsigned first_reason = TAG_R_NONE, first_model = TAG_MODEL_UNKNOWN;
	uint16_t first_offset = 0, first_crc_stored = 0, first_crc_computed = 0;

	if (!item || (!mem && len))
		return -EINVAL;
	tag_item_reset(item);
	item->dsfid = (int16_t)(dsfid < 0 || dsfid > 0xff ? -1 : dsfid);
	if (len > TAG_MEM_MAX)
		len = TAG_MEM_MAX;
	item->mem_len = (uint16_t)len;
	if (len == 0)
		return tag_fail(item, TAG_R_TRUNCATED, 0, -EBADMSG);
	if (is_blank(mem, len)) {
		item->model = TAG_MODEL_BLANK;
		return tag_fail(item, TAG_R_BLANK, 0, -ENODATA);
	}

	bool can_reverse = bs >= 2 && bs <= 64 && len >= bs;
	size_t n_orders = opts && opts->order_known ? 1 : 2;
	unsigned byte_orders[2] = { TAG_ORDER_AS_READ, TAG_ORDER_BLOCKS_REVERSED };
	if (opts && opts->reader_reverses) {
		byte_orders[0] = TAG_ORDER_BLOCKS_REVERSED;
		byte_orders[1] = TAG_ORDER_AS_READ;
	}

	for (size_t m = 0; m < 3; m++) {
		const __typeof__(models[0]) *md = &models[m];
		if (opts && opts->only_model && opts->model != md->model)
			continue;
		for (size_t o = 0; o < n_orders; o++) {
			const uint8_t *buf = mem;
			if (byte_orders[o] == TAG_ORDER_BLOCKS_REVERSED) {
				if (!can_reverse)
					continue;
				if (!have_reversed) {
					memcpy(reversed, mem, len);
					tag_reverse_blocks(reversed, len, bs);
					have_reversed = true;
				}
				buf = reversed;
			}
			/* asked for one model: let its decoder say what is wrong */
			if (!(opts && opts->only_model) && !md->looks(buf, len))
				continue;
			int r = md->decode(buf, len, item);
			if (r == 0 && md->model != TAG_MODEL_ISO28560_3 && o == 0 && n_orders == 2 && can_reverse &&
			    has_warnings(item)) {
				/* try the other order; keep whichever is cleaner */
				struct tag_item other;
				const uint8_t *obuf = buf == mem ? reversed : mem;
				if (!have_reversed) {
					memcpy(reversed, mem, len);
					tag_reverse_blocks(reversed, len, bs);
					have_reversed = true;
				}
				tag_item_reset(&other);
				other.dsfid = item->dsfid;
				if (md->looks(obuf, len) && md->decode(obuf, len, &other) == 0 &&
				    plausibility(&other) > plausibility(item)) {
					*item = other;
					o = 1;
				}
			}
			if (r == 0) {
				item->byte_order = (uint8_t)byte_orders[o];
				item->mem_len = (uint16_t)len;
				if (byte_orders[o] == TAG_ORDER_BLOCKS_REVERSED)
					tag_finding_add(item, TAG_R_BLOCKS_REVERSED, TAG_SEV_INFO, TAG_NO_OFFSET);
				if ((item->dsfid == DSFID_28560_2) != (md->model == TAG_MODEL_ISO28560_2) &&
				    item->dsfid > 0)
					tag_finding_add(item, TAG_R_DSFID_MISMATCH, TAG_SEV_INFO, TAG_NO_OFFSET);
				return 0;
			}
			/* the first plausible candidate names the reason; with
			 * DSFID 0x06 the 28560-2 reason is the one to report */
			bool dsfid_says = item->dsfid == DSFID_28560_2 && md->model == TAG_MODEL_ISO28560_2 &&
					  first_model != TAG_MODEL_ISO28560_2;
			if (!first_err || dsfid_says) {
				first_err = r;
				first_reason = item->error;
				first_offset = item->error_offset;
				first_model = md->model;
				first_crc_stored = item->crc_stored;
				first_crc_computed = item->crc_computed;
			}
			int16_t d = item->dsfid;
			tag_item_reset(item);
			item->dsfid = d;
			item->mem_len = (uint16_t)len;
		}
	}
	if (!first_err)
		return tag_fail(item, TAG_R_UNKNOWN_FORMAT, 0, -ENOMSG);
	item->model = (uint8_t)first_model;
	item->crc_stored = first_crc_stored;
	item->crc_computed = first_crc_computed;
	return tag_fail(item, first_reason, first_offset, first_err);
}
