/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO 28560-2: ISO/IEC 15962 "no-directory" encoding, DSFID 0x06
 * (rfid.md §1.3).  Each element:
 *
 *   precursor  bit 7 offset flag, bits 6-4 compaction, bits 3-0 OID 1..14
 *              (0xF: relative OID - 15 follows)
 *   [relative OID]  if the precursor says 0xF
 *   [offset]   if bit 7: number of padding bytes after the data
 *   length     of the compacted data
 *   data, then the padding bytes
 *
 * Memory ends at the first 0x00 precursor (or at the end).  OID 1 comes
 * first, OID 2 (content parameter) second.  The relative OID and the length
 * are single bytes below 128; above, they continue ISO/IEC 15962's EBV-8
 * way (bit 7 = more bytes follow), which the decoder accepts and the
 * encoder writes.
 *
 * Worked example, ISO/TS 28560-4:2014 p.52 (user bank, same encoding):
 *   91 00 05 1c be 99 1a 14  PII 123456789012, integer, offset 0 (lockable)
 *   02 01 d0                 content parameter: OIDs 3, 4, 6
 *   14 02 04 b3              set information "1203", integer
 *   46 07 44 1c b6 e2 e3 35 d6   shelf location "QA268.L55", 6-bit
 *   83 02 07 ac c0 9e ba a0 6f 6b 00 00   owner "US-InU-Mu", ISIL, 2 pad
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tags/compaction.h"
#include "tags/tag_internal.h"

#define PRE_OFFSET 0x80
#define PRE_OID_ESCAPE 0x0F
#define OID_MAX 127

bool tag_looks_like_28560_2(const uint8_t *mem, size_t len)
{
	/* the first element is OID 1 */
	return len >= 3 && (mem[0] & 0x0F) == 1;
}

static bool is_isil_oid(unsigned oid)
{
	return oid == 3 || oid == 11; /* ISO 28560-2: ISIL compaction for these */
}

static int read_ebv(const uint8_t *mem, size_t len, size_t *pos, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 3; i++) {
		if (*pos >= len)
			return -1;
		uint8_t b = mem[(*pos)++];
		v = v << 7 | (b & 0x7fu);
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

int tag_decode_28560_2(const uint8_t *mem, size_t len, struct tag_item *item)
{
	uint8_t seen[(OID_MAX + 1) / 8] = { 0 };
	uint32_t present = 0;
	bool terminated = false, have_cp = false;
	size_t pos = 0;
	unsigned idx = 0;

	item->model = TAG_MODEL_ISO28560_2;
	while (pos < len) {
		size_t start = pos;
		uint8_t pre = mem[pos++];
		if (pre == 0) {
			terminated = true;
			break;
		}
		unsigned comp = (pre >> 4) & 7u, oid = pre & 0x0Fu;
		uint32_t v, pad = 0, dlen;
		if (oid == PRE_OID_ESCAPE) {
			if (read_ebv(mem, len, &pos, &v) < 0)
				return tag_fail(item, TAG_R_OVERRUN, start, -EBADMSG);
			if (v > OID_MAX - 15)
				return tag_fail(item, TAG_R_OID_INVALID, start, -EBADMSG);
			oid = 15 + v;
		}
		if (oid == 0)
			return tag_fail(item, TAG_R_OID_INVALID, start, -EBADMSG);
		if (pre & PRE_OFFSET) {
			if (pos >= len)
				return tag_fail(item, TAG_R_OVERRUN, start, -EBADMSG);
			pad = mem[pos++];
		}
		if (read_ebv(mem, len, &pos, &dlen) < 0)
			return tag_fail(item, TAG_R_OVERRUN, start, -EBADMSG);
		if (dlen > len - pos || pad > len - pos - dlen)
			return tag_fail(item, TAG_R_OVERRUN, start, -EBADMSG);

		if (idx == 0 && oid != 1)
			return tag_fail(item, TAG_R_OID_ORDER, start, -EBADMSG);
		if (idx > 0 && oid == 1)
			return tag_fail(item, TAG_R_OID_INVALID, start, -EBADMSG);
		if (oid == 2 && idx != 1)
			tag_finding_add(item, TAG_R_OID_ORDER, TAG_SEV_WARN, start);
		if (seen[oid / 8] & (1u << (oid % 8)))
			tag_finding_add(item, TAG_R_OID_INVALID, TAG_SEV_WARN, start);
		seen[oid / 8] |= (uint8_t)(1u << (oid % 8));
		idx++;

		const uint8_t *data = mem + pos;
		if (oid == 2) {
			/* content parameter: bitmap, MSB of the first byte = OID 3 */
			have_cp = true;
			item->content_parameter = 0;
			for (uint32_t b = 0; b < dlen * 8 && b + 3 < 32; b++)
				if (data[b / 8] & (0x80u >> (b % 8)))
					item->content_parameter |= 1u << (b + 3);
		} else if (oid < 32) {
			present |= 1u << oid;
		}

		if (oid > 26) {
			/* ISO 28560-1 leaves 27.. undefined: keep them as found */
			tag_item_add_raw(item, oid, comp, data, dlen, start);
		} else {
			unsigned scheme = comp == 0 && is_isil_oid(oid) ? TAG_CMP_ISIL : comp;
			/* decode straight into the table; a full table still
			 * validates the data, in a scratch element */
			struct tag_element scratch;
			bool full = item->n_elements >= TAG_ELEMENTS_MAX;
			struct tag_element *el = full ? &scratch : &item->elements[item->n_elements];
			bool is_hex, cut;
			if (tag_compaction_decode(scheme, data, dlen, el->value, sizeof(el->value), &is_hex, &cut) < 0)
				return tag_fail(item, TAG_R_COMPACTION, start, -EBADMSG);
			if (cut)
				tag_finding_add(item, TAG_R_VALUE_TOO_LONG, TAG_SEV_WARN, start);
			el->oid = (uint8_t)oid;
			el->compaction = (uint8_t)scheme;
			el->locked = 0;
			el->is_hex = is_hex;
			el->len = (uint16_t)strlen(el->value);
			if (full) {
				tag_finding_add(item, TAG_R_TABLE_FULL, TAG_SEV_WARN, start);
			} else {
				item->n_elements++;
				tag_item_apply_element(item, el, start);
			}
		}
		pos += dlen + pad;
	}
	item->mem_len = (uint16_t)len;
	if (!terminated)
		tag_finding_add(item, TAG_R_NO_TERMINATOR, TAG_SEV_INFO, len);
	if (idx == 0 || !item->primary_id[0])
		return tag_fail(item, TAG_R_NO_PRIMARY_ID, 0, -EBADMSG);
	/* bits 3..31 only: what the bitmap can say */
	if (have_cp && (item->content_parameter & ~7u) != (present & ~7u))
		tag_finding_add(item, TAG_R_CONTENT_PARAMETER, TAG_SEV_WARN, TAG_NO_OFFSET);
	if (item->owner_isil[0] && !tag_isil_plausible(item->owner_isil, true))
		tag_finding_add(item, TAG_R_ISIL, TAG_SEV_WARN, TAG_NO_OFFSET);
	return 0;
}

/* ---- encoding ---- */

struct enc_element {
	unsigned oid;
	const char *text;
	char buf[24];
	bool is_hex;
	bool lock;       /* tag_element.locked */
	unsigned scheme; /* requested, or TAG_COMPACTION_AUTO */
};

static size_t ebv_len(uint32_t v)
{
	return v < 0x80 ? 1 : v < 0x4000 ? 2 : 3;
}

static size_t put_ebv(uint8_t *p, uint32_t v)
{
	size_t n = ebv_len(v);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(((v >> (7 * (n - 1 - i))) & 0x7f) | (i + 1 < n ? 0x80 : 0));
	return n;
}

static bool covered_by_field(unsigned oid, const struct tag_item *item)
{
	switch (oid) {
	case 1: case 2: case 3: case 4: case 5: case 6: case 15: case 16: case 17: case 26:
		return true;
	default:
		return oid == item->media_format_oid;
	}
}

static int add(struct enc_element *list, size_t *n, unsigned oid, const char *text, bool is_hex,
	       unsigned scheme)
{
	if (!text || !text[0])
		return 0;
	if (*n >= TAG_ELEMENTS_MAX + 12)
		return -ENOSPC;
	/* keep the list sorted by OID: OID 1 first, then 2, then the rest */
	size_t i = *n;
	while (i > 0 && list[i - 1].oid > oid) {
		list[i] = list[i - 1];
		i--;
	}
	list[i] = (struct enc_element){ .oid = oid, .text = text, .is_hex = is_hex, .scheme = scheme };
	(*n)++;
	return 0;
}

int tag_encode_28560_2(const struct tag_item *item, const struct tag_encode_options *opts,
		       uint8_t *out, size_t out_size, size_t *out_len)
{
	struct enc_element list[TAG_ELEMENTS_MAX + 12];
	char set_buf[16], usage_buf[4], cp_hex[10];
	uint32_t bs = opts && opts->block_size ? opts->block_size : 4;
	uint32_t lock = opts ? opts->lock_oids : 0;
	size_t n = 0;
	int r;

	if (!item->primary_id[0] || bs > 64)
		return -EINVAL;
	r = add(list, &n, 1, item->primary_id, false, TAG_COMPACTION_AUTO);
	if (r == 0)
		r = add(list, &n, 3, item->owner_isil, false, TAG_COMPACTION_AUTO);
	if (item->set_present) {
		if (item->parts_total > 999 || item->part_ordinal > 999)
			return -EINVAL;
		unsigned w = item->parts_total > 99 || item->part_ordinal > 99 ? 3 : 2;
		snprintf(set_buf, sizeof(set_buf), "%0*u%0*u", (int)w, item->parts_total, (int)w,
			 item->part_ordinal);
		if (r == 0)
			r = add(list, &n, 4, set_buf, false, TAG_COMPACTION_AUTO);
	}
	if (item->usage >= 0) {
		snprintf(usage_buf, sizeof(usage_buf), "%02X", (unsigned)item->usage & 0xff);
		if (r == 0)
			r = add(list, &n, 5, usage_buf, false, TAG_COMPACTION_AUTO);
	}
	if (r == 0)
		r = add(list, &n, 6, item->shelf_location, false, TAG_COMPACTION_AUTO);
	if (r == 0 && item->media_format_oid)
		r = add(list, &n, item->media_format_oid, item->media_format, false, TAG_COMPACTION_AUTO);
	if (r == 0)
		r = add(list, &n, 15, item->local_data[0], false, TAG_COMPACTION_AUTO);
	if (r == 0)
		r = add(list, &n, 16, item->local_data[1], false, TAG_COMPACTION_AUTO);
	if (r == 0)
		r = add(list, &n, 17, item->title, false, TAG_COMPACTION_AUTO);
	if (r == 0)
		r = add(list, &n, 26, item->local_data[2], false, TAG_COMPACTION_AUTO);
	for (unsigned i = 0; r == 0 && i < item->n_elements; i++) {
		const struct tag_element *el = &item->elements[i];
		if (covered_by_field(el->oid, item))
			continue;
		r = add(list, &n, el->oid, el->value, el->is_hex, el->compaction);
		for (size_t k = 0; r == 0 && k < n; k++)
			if (list[k].text == el->value)
				list[k].lock = el->locked;
	}
	if (r < 0)
		return r;

	/* content parameter: which OIDs >= 3 follow */
	uint8_t cp[16] = { 0 };
	size_t cp_len = 0;
	for (size_t i = 0; i < n; i++)
		if (list[i].oid >= 3) {
			unsigned b = list[i].oid - 3;
			cp[b / 8] |= (uint8_t)(0x80u >> (b % 8));
			if (b / 8 + 1 > cp_len)
				cp_len = b / 8 + 1;
		}
	if (cp_len) {
		if (cp_len > 4)
			return -EINVAL; /* a hex buffer of 4 bytes covers OIDs 3..34 */
		static const char hex[] = "0123456789abcdef";
		for (size_t i = 0; i < cp_len; i++) {
			cp_hex[2 * i] = hex[cp[i] >> 4];
			cp_hex[2 * i + 1] = hex[cp[i] & 15];
		}
		cp_hex[2 * cp_len] = '\0';
		r = add(list, &n, 2, cp_hex, true, TAG_CMP_APPLICATION);
		if (r < 0)
			return r;
	}

	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		struct enc_element *e = &list[i];
		uint8_t data[256];
		unsigned scheme = e->scheme;

		if (e->is_hex)
			scheme = scheme == TAG_CMP_APPLICATION ? TAG_CMP_APPLICATION : TAG_CMP_OCTET;
		else if (scheme > TAG_CMP_ISIL || scheme == TAG_CMP_APPLICATION ||
			 !tag_compaction_fits(scheme, e->text) ||
			 (scheme == TAG_CMP_ISIL && !is_isil_oid(e->oid)))
			scheme = tag_compaction_choose(e->text, is_isil_oid(e->oid));
		int dl = tag_compaction_encode(scheme, e->text, e->is_hex, data, sizeof(data));
		if (dl < 0)
			return dl == -ENOSPC ? -EINVAL : dl;

		bool lk = e->lock || (e->oid < 32 && (lock & (1u << e->oid)));
		const struct enc_element *nx = i + 1 < n ? &list[i + 1] : NULL;
		bool next_lk = nx && (nx->lock || (nx->oid < 32 && (lock & (1u << nx->oid))));
		size_t hdr = 1 + (e->oid >= 15 ? ebv_len(e->oid - 15) : 0) + ebv_len((uint32_t)dl);
		size_t size0 = hdr + (size_t)dl;
		bool use_offset = lk || (next_lk && (pos + size0) % bs != 0);
		size_t pad = 0;
		if (use_offset)
			pad = (bs - (pos + size0 + 1) % bs) % bs;
		size_t total = size0 + (use_offset ? 1 + pad : 0);
		if (pos + total > out_size)
			return -ENOSPC;

		uint8_t *p = out + pos;
		unsigned code = scheme == TAG_CMP_ISIL ? 0 : scheme;
		*p++ = (uint8_t)((use_offset ? PRE_OFFSET : 0) | code << 4 |
				 (e->oid >= 15 ? PRE_OID_ESCAPE : e->oid));
		if (e->oid >= 15)
			p += put_ebv(p, e->oid - 15);
		if (use_offset)
			*p++ = (uint8_t)pad;
		p += put_ebv(p, (uint32_t)dl);
		memcpy(p, data, (size_t)dl);
		p += dl;
		memset(p, 0, pad);
		pos += total;
	}
	/* terminator, when there is room: memory ends at the first 0x00 precursor */
	if (pos < out_size)
		out[pos++] = 0;
	if (opts && opts->pad_to > pos) {
		if (opts->pad_to > out_size)
			return -ENOSPC;
		memset(out + pos, 0, opts->pad_to - pos);
		pos = opts->pad_to;
	}
	if (opts && opts->reverse_blocks) {
		size_t to = (pos + bs - 1) / bs * bs;
		if (to > out_size)
			return -ENOSPC;
		memset(out + pos, 0, to - pos);
		pos = to;
		tag_reverse_blocks(out, pos, bs);
	}
	*out_len = pos;
	return 0;
}
