/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO 28560-3 fixed-length model / Danish data model (DS/INF 163).
 *
 * Basic block (rfid.md §1.2):
 *   0      version (high nibble, = 1) | type of usage (low nibble)
 *   1      number of parts in item       2      ordinal part number
 *   3-18   primary item id, NUL-padded (byte 3 = 0x01: id is in the
 *          library extension block)
 *   19-20  CRC-16/CCITT-FALSE, low byte first
 *   21-33  owner ISIL (21-31 only in the 32-byte "truncated" form);
 *          DDM reads 21-22 as country, 23-31 as library number
 *   34...  extension blocks: [len][id lo][id hi][xor][payload], len 0 = end,
 *          len 1 = filler byte; an id high byte of 0xFF means a 24-bit id.
 *
 * Extension block payloads.  The standard's exact field widths were not
 * available to us (rfid.md §1.2 lists only the contents), so this module
 * uses one documented reading and keeps anything it does not know raw:
 *   id 1 library:     [media format code][NUL-separated: long primary id,
 *                     extended owner ISIL, alternative item id (OID 22)]
 *   id 2 acquisition: NUL-separated supplier id (9), product id local (18),
 *                     order no. (10), invoice no. (21), GS1 id (13),
 *                     supply chain stage (20)   (thwildau order)
 *   id 3 ILL:         NUL-separated borrowing institution (11),
 *                     transaction no. (12), alternative ILL institution (25)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tags/crc.h"
#include "tags/tag_internal.h"

#define BASIC_SHORT 32
#define BASIC_LONG 34
#define ID_OFFSET 3
#define ID_LEN 16
#define CRC_OFFSET 19
#define ISIL_OFFSET 21
#define LONG_ID_MARKER 0x01 /* biblstandard.dk clarification of 28560-3 */

#define EXT_LIBRARY 1
#define EXT_ACQUISITION 2
#define EXT_ILL 3

static const uint8_t acquisition_oids[] = { 9, 18, 10, 21, 13, 20 };
static const uint8_t ill_oids[] = { 11, 12, 25 };

bool tag_looks_like_28560_3(const uint8_t *mem, size_t len)
{
	/* version 1 in either nibble (Bibliotheca swaps them) */
	return len >= BASIC_SHORT && ((mem[0] >> 4) == 1 || (mem[0] & 0x0f) == 1);
}

static bool has_control_chars(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len && p[i]; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return true;
	return false;
}

/* Map the NUL-separated fields of an extension payload onto OIDs. */
static void map_fields(struct tag_item *item, const uint8_t *p, size_t len, const uint8_t *oids,
		       size_t n_oids, size_t offset)
{
	size_t start = 0;

	for (size_t f = 0; f < n_oids && start < len; f++) {
		size_t end = start;
		while (end < len && p[end])
			end++;
		if (end > start) {
			char buf[TAG_TEXT_MAX + 1];
			if (tag_copy_text(buf, sizeof(buf), p + start, end - start))
				tag_finding_add(item, TAG_R_VALUE_TOO_LONG, TAG_SEV_WARN, offset + start);
			if (tag_item_add_element(item, oids[f], buf, TAG_COMPACTION_AUTO) < 0) {
				tag_finding_add(item, TAG_R_TABLE_FULL, TAG_SEV_WARN, offset + start);
			} else {
				struct tag_element *el = &item->elements[item->n_elements - 1];
				tag_item_apply_element(item, el, offset + start);
			}
		}
		start = end + 1;
	}
}

static void decode_library_block(struct tag_item *item, const uint8_t *p, size_t len, size_t offset,
				 bool long_id)
{
	if (len == 0)
		return;
	if (p[0]) {
		char code[4];
		snprintf(code, sizeof(code), "%u", p[0]);
		if (tag_item_add_element(item, 19, code, TAG_COMPACTION_AUTO) == 0)
			tag_item_apply_element(item, &item->elements[item->n_elements - 1], offset);
	}
	/* fields: long primary id, extended ISIL, alternative item id */
	const uint8_t *f = p + 1;
	size_t left = len - 1;
	for (unsigned field = 0; field < 3 && left > 0; field++) {
		size_t n = 0;
		while (n < left && f[n])
			n++;
		size_t at = offset + (size_t)(f - p);
		if (n > 0) {
			if (field == 0 && long_id) {
				if (tag_copy_text(item->primary_id, sizeof(item->primary_id), f, n))
					tag_finding_add(item, TAG_R_VALUE_TOO_LONG, TAG_SEV_WARN, at);
			} else if (field == 1) {
				if (tag_copy_text(item->owner_isil, sizeof(item->owner_isil), f, n))
					tag_finding_add(item, TAG_R_VALUE_TOO_LONG, TAG_SEV_WARN, at);
				tag_item_split_isil(item, at);
			} else if (field == 2) {
				map_fields(item, f, n, (const uint8_t[]){ 22 }, 1, at);
			}
		}
		f += n < left ? n + 1 : n;
		left -= n < left ? n + 1 : n;
	}
}

static void decode_extensions(const uint8_t *mem, size_t len, size_t pos, struct tag_item *item,
			      bool long_id)
{
	while (pos < len) {
		size_t blen = mem[pos];
		if (blen == 0)
			return;             /* end block */
		if (blen == 1) {            /* filler */
			pos++;
			continue;
		}
		if (pos + blen > len) {
			tag_finding_add(item, TAG_R_OVERRUN, TAG_SEV_WARN, pos);
			return;
		}
		if (blen < 4) {
			tag_finding_add(item, TAG_R_EXT_MALFORMED, TAG_SEV_WARN, pos);
			return;
		}
		uint32_t id = (uint32_t)mem[pos + 1] | (uint32_t)mem[pos + 2] << 8;
		size_t hdr = 4;
		if (mem[pos + 2] == 0xFF) {
			/* 24-bit id escape (DDM §3.3) */
			if (blen < 5) {
				tag_finding_add(item, TAG_R_EXT_MALFORMED, TAG_SEV_WARN, pos);
				return;
			}
			id |= (uint32_t)mem[pos + 3] << 16;
			hdr = 5;
		}
		uint8_t x = 0;
		for (size_t i = 0; i < blen; i++)
			x ^= mem[pos + i];
		if (x != 0) {
			/* a broken block is not trusted, but kept for the record */
			tag_finding_add(item, TAG_R_EXT_CHECKSUM, TAG_SEV_WARN, pos);
			tag_item_add_raw(item, id, 0, mem + pos + hdr, blen - hdr, pos);
		} else if (id == EXT_LIBRARY) {
			decode_library_block(item, mem + pos + hdr, blen - hdr, pos + hdr, long_id);
		} else if (id == EXT_ACQUISITION) {
			map_fields(item, mem + pos + hdr, blen - hdr, acquisition_oids,
				   sizeof(acquisition_oids), pos + hdr);
		} else if (id == EXT_ILL) {
			map_fields(item, mem + pos + hdr, blen - hdr, ill_oids, sizeof(ill_oids), pos + hdr);
		} else {
			tag_item_add_raw(item, id, 0, mem + pos + hdr, blen - hdr, pos);
		}
		pos += blen;
	}
}

int tag_decode_28560_3(const uint8_t *mem, size_t len, struct tag_item *item)
{
	if (len < BASIC_SHORT)
		return tag_fail(item, TAG_R_TRUNCATED, len, -EBADMSG);

	uint16_t stored = (uint16_t)(mem[CRC_OFFSET] | mem[CRC_OFFSET + 1] << 8);
	size_t basic = 0;
	static const uint8_t zero[2];
	uint16_t prefix = tag_crc_28560_3_prefix(mem), crc34 = 0, crc32 = 0;

	if (len >= BASIC_LONG) {
		crc34 = tag_crc16_update(prefix, mem + BASIC_SHORT, 2);
		if (crc34 == stored)
			basic = BASIC_LONG;
	}
	if (!basic) {
		crc32 = tag_crc16_update(prefix, zero, 2);
		if (crc32 == stored)
			basic = BASIC_SHORT;
	}
	item->crc_stored = stored;
	item->crc_computed = basic == BASIC_SHORT || len < BASIC_LONG ? crc32 : crc34;
	if (!basic)
		return tag_fail(item, TAG_R_CRC, CRC_OFFSET, -EBADMSG);

	item->model = TAG_MODEL_ISO28560_3;
	item->basic_len = (uint8_t)basic;

	unsigned hi = mem[0] >> 4, lo = mem[0] & 0x0f, usage;
	if (hi == 1) {
		usage = lo;
		item->version = 1;
	} else if (lo == 1) {
		/* rfid.md §1.2: Bibliotheca writes 0x21 (reference only), 0x71 (discarded) */
		usage = hi;
		item->version = 1;
		tag_finding_add(item, TAG_R_SWAPPED_NIBBLES, TAG_SEV_INFO, 0);
	} else {
		usage = lo;
		item->version = (uint8_t)hi;
		tag_finding_add(item, TAG_R_VERSION, TAG_SEV_WARN, 0);
	}
	item->usage = (int16_t)(usage << 4);
	if (usage > 9)
		tag_finding_add(item, TAG_R_USAGE, TAG_SEV_WARN, 0);

	item->set_present = true;
	item->parts_total = mem[1];
	item->part_ordinal = mem[2];
	tag_item_check_set(item, 1);

	bool long_id = mem[ID_OFFSET] == LONG_ID_MARKER;
	if (!long_id) {
		tag_copy_text(item->primary_id, sizeof(item->primary_id), mem + ID_OFFSET, ID_LEN);
		if (has_control_chars(mem + ID_OFFSET, ID_LEN))
			tag_finding_add(item, TAG_R_ILLEGAL_CHAR, TAG_SEV_WARN, ID_OFFSET);
	}

	tag_copy_text(item->owner_isil, sizeof(item->owner_isil), mem + ISIL_OFFSET, basic - ISIL_OFFSET);
	if (has_control_chars(mem + ISIL_OFFSET, basic - ISIL_OFFSET))
		tag_finding_add(item, TAG_R_ILLEGAL_CHAR, TAG_SEV_WARN, ISIL_OFFSET);
	tag_item_split_isil(item, ISIL_OFFSET);

	if (basic == BASIC_LONG)
		decode_extensions(mem, len, BASIC_LONG, item, long_id);

	if (item->owner_isil[0] && !tag_isil_plausible(item->owner_isil, false))
		tag_finding_add(item, TAG_R_ISIL, TAG_SEV_WARN, ISIL_OFFSET);
	if (!item->primary_id[0])
		return tag_fail(item, TAG_R_NO_PRIMARY_ID, ID_OFFSET, -EBADMSG);
	return 0;
}

/* ---- encoding ---- */

struct writer {
	uint8_t *out;
	size_t size;
	size_t pos;
	int err;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (w->pos + n > w->size) {
		w->err = -ENOSPC;
		return;
	}
	memcpy(w->out + w->pos, p, n);
	w->pos += n;
}

static void put_field(uint8_t *payload, size_t *n, size_t cap, const char *s, int *err)
{
	size_t l = strlen(s);
	if (*n + l + 1 > cap) {
		*err = -EINVAL;
		return;
	}
	memcpy(payload + *n, s, l);
	*n += l;
	payload[(*n)++] = 0;
}

/* Writes one extension block with the given fields; empty trailing fields
 * are dropped (the reader treats a missing field as empty). */
static void put_block(struct writer *w, unsigned id, const uint8_t *payload, size_t n)
{
	while (n > 0 && payload[n - 1] == 0)
		n--;
	if (n == 0)
		return;
	if (n + 4 > 255) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	uint8_t hdr[4] = { (uint8_t)(n + 4), (uint8_t)id, (uint8_t)(id >> 8), 0 };
	uint8_t x = hdr[0] ^ hdr[1] ^ hdr[2];
	for (size_t i = 0; i < n; i++)
		x ^= payload[i];
	hdr[3] = x;
	put(w, hdr, 4);
	put(w, payload, n);
}

static const char *element_value(const struct tag_item *item, unsigned oid)
{
	const struct tag_element *el = tag_item_find_element(item, oid);
	return el ? el->value : "";
}

int tag_encode_28560_3(const struct tag_item *item, const struct tag_encode_options *opts,
		       uint8_t *out, size_t out_size, size_t *out_len)
{
	size_t basic = opts && opts->basic_len ? opts->basic_len : BASIC_LONG;
	uint32_t bs = opts && opts->block_size ? opts->block_size : 4;
	size_t id_len = strlen(item->primary_id), isil_len = strlen(item->owner_isil);

	if (basic != BASIC_SHORT && basic != BASIC_LONG)
		return -EINVAL;
	if (id_len == 0 || item->primary_id[0] == LONG_ID_MARKER)
		return -EINVAL;
	bool long_id = id_len > ID_LEN, long_isil = isil_len > basic - ISIL_OFFSET;
	if ((long_id || long_isil) && basic == BASIC_SHORT)
		return -ENOSPC; /* a 32-byte tag holds only the basic block */

	unsigned usage = item->usage < 0 ? 1 : (unsigned)item->usage >> 4;
	unsigned total = item->set_present ? item->parts_total : 1;
	unsigned ordinal = item->set_present ? item->part_ordinal : 1;
	if (total > 255 || ordinal > 255)
		return -EINVAL;

	uint8_t blk[BASIC_LONG] = { 0 };
	blk[0] = (uint8_t)(0x10 | (usage & 0x0f));
	blk[1] = (uint8_t)total;
	blk[2] = (uint8_t)ordinal;
	if (long_id)
		blk[ID_OFFSET] = LONG_ID_MARKER;
	else
		memcpy(blk + ID_OFFSET, item->primary_id, id_len);
	if (!long_isil)
		memcpy(blk + ISIL_OFFSET, item->owner_isil, isil_len);
	uint16_t crc = tag_crc_28560_3(blk, basic);
	blk[CRC_OFFSET] = (uint8_t)(crc & 0xff);
	blk[CRC_OFFSET + 1] = (uint8_t)(crc >> 8);

	struct writer w = { .out = out, .size = out_size };
	put(&w, blk, basic);

	if (basic == BASIC_LONG) {
		uint8_t payload[256];
		size_t n;
		int err = 0;

		/* library block */
		unsigned long media = 0;
		if (item->media_format_oid == 19 && item->media_format[0]) {
			char *end;
			media = strtoul(item->media_format, &end, 10);
			if (*end || media > 255)
				return -EINVAL;
		}
		n = 0;
		payload[n++] = (uint8_t)media;
		put_field(payload, &n, sizeof(payload), long_id ? item->primary_id : "", &err);
		put_field(payload, &n, sizeof(payload), long_isil ? item->owner_isil : "", &err);
		put_field(payload, &n, sizeof(payload), element_value(item, 22), &err);
		if (err)
			return err;
		put_block(&w, EXT_LIBRARY, payload, n);

		n = 0;
		for (size_t i = 0; i < sizeof(acquisition_oids); i++)
			put_field(payload, &n, sizeof(payload), element_value(item, acquisition_oids[i]), &err);
		if (err)
			return err;
		put_block(&w, EXT_ACQUISITION, payload, n);

		n = 0;
		for (size_t i = 0; i < sizeof(ill_oids); i++)
			put_field(payload, &n, sizeof(payload), element_value(item, ill_oids[i]), &err);
		if (err)
			return err;
		put_block(&w, EXT_ILL, payload, n);

		/* end marker: rfid.md §1.2 vector 2 (35 bytes) ends in 0x00 */
		put(&w, (const uint8_t[]){ 0 }, 1);
	}
	if (w.err)
		return w.err;
	if (opts && opts->pad_to > w.pos) {
		if (opts->pad_to > out_size)
			return -ENOSPC;
		memset(out + w.pos, 0, opts->pad_to - w.pos);
		w.pos = opts->pad_to;
	}
	if (opts && opts->reverse_blocks) {
		if (w.pos % bs) {
			size_t to = (w.pos + bs - 1) / bs * bs;
			if (to > out_size)
				return -ENOSPC;
			memset(out + w.pos, 0, to - w.pos);
			w.pos = to;
		}
		tag_reverse_blocks(out, w.pos, bs);
	}
	*out_len = w.pos;
	return 0;
}
