/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * struct tag_item: reset, findings, element bookkeeping and the names used
 * by circctl and the JSON output.  Shared by every model decoder.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tags/tag_internal.h"

void tag_item_init(struct tag_item *item)
{
	memset(item, 0, sizeof(*item));
	item->usage = -1;
	item->dsfid = -1;
}

void tag_item_reset(struct tag_item *item)
{
	/* the tables after the scalar part are only read up to their counts:
	 * clearing 1 KiB instead of 6 per decode keeps tag_decode() cheap */
	memset(item, 0, offsetof(struct tag_item, n_elements));
	item->n_elements = 0;
	item->n_raw = 0;
	item->error = 0;
	item->error_offset = 0;
	item->n_findings = 0;
	item->usage = -1;
	item->dsfid = -1;
}

void tag_finding_add(struct tag_item *item, unsigned reason, unsigned severity, size_t offset)
{
	if (item->n_findings >= TAG_FINDINGS_MAX) {
		item->findings[TAG_FINDINGS_MAX - 1] = (struct tag_finding){
			.reason = TAG_R_TABLE_FULL, .severity = TAG_SEV_WARN, .offset = TAG_NO_OFFSET };
		return;
	}
	item->findings[item->n_findings++] = (struct tag_finding){
		.reason = (uint8_t)reason,
		.severity = (uint8_t)severity,
		.offset = offset > TAG_NO_OFFSET ? TAG_NO_OFFSET : (uint16_t)offset,
	};
}

int tag_fail(struct tag_item *item, unsigned reason, size_t offset, int err)
{
	item->error = (uint8_t)reason;
	item->error_offset = offset > TAG_NO_OFFSET ? TAG_NO_OFFSET : (uint16_t)offset;
	tag_finding_add(item, reason, TAG_SEV_ERROR, offset);
	return err;
}

bool tag_item_has_finding(const struct tag_item *item, unsigned reason)
{
	for (unsigned i = 0; i < item->n_findings; i++)
		if (item->findings[i].reason == reason)
			return true;
	return false;
}

bool tag_copy_text(char *dst, size_t dst_size, const uint8_t *src, size_t len)
{
	size_t n = 0;

	while (n < len && src[n])
		n++;
	bool cut = n >= dst_size;
	if (cut)
		n = dst_size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return cut;
}

static void set_text(struct tag_item *item, char *dst, size_t dst_size, const char *src, size_t offset)
{
	if (tag_copy_text(dst, dst_size, (const uint8_t *)src, strlen(src)))
		tag_finding_add(item, TAG_R_VALUE_TOO_LONG, TAG_SEV_WARN, offset);
}

/* ISO 28560-1: set information is "number of parts" then "ordinal part",
 * two halves of equal length ("1203" = part 3 of 12).  A few encoders write
 * "3/12"-style text instead; accept "total/ordinal" as dp2's Gaoxiao does. */
static void parse_set(struct tag_item *item, const char *v, size_t offset)
{
	size_t n = strlen(v);
	const char *slash = strchr(v, '/');
	unsigned long total, ordinal;
	char *end;

	if (slash) {
		total = strtoul(v, &end, 10);
		if (end != slash)
			goto bad;
		ordinal = strtoul(slash + 1, &end, 10);
		if (*end || end == slash + 1)
			goto bad;
		/* "1/1": Gaoxiao writes ordinal/total; for 1/1 it makes no difference */
		unsigned long t = total;
		total = ordinal;
		ordinal = t;
	} else {
		if (n == 0 || n % 2 || n > 8)
			goto bad;
		for (size_t i = 0; i < n; i++)
			if (!isdigit((unsigned char)v[i]))
				goto bad;
		char half[5];
		memcpy(half, v, n / 2);
		half[n / 2] = '\0';
		total = strtoul(half, NULL, 10);
		memcpy(half, v + n / 2, n / 2);
		ordinal = strtoul(half, NULL, 10);
	}
	if (total > UINT16_MAX || ordinal > UINT16_MAX)
		goto bad;
	item->set_present = true;
	item->parts_total = (uint16_t)total;
	item->part_ordinal = (uint16_t)ordinal;
	tag_item_check_set(item, offset);
	return;
bad:
	tag_finding_add(item, TAG_R_SET_FORMAT, TAG_SEV_WARN, offset);
}

void tag_item_check_set(struct tag_item *item, size_t offset)
{
	if (!item->set_present)
		return;
	if (item->parts_total == 0)
		tag_finding_add(item, TAG_R_SET_ZERO, TAG_SEV_WARN, offset);
	else if (item->part_ordinal == 0 || item->part_ordinal > item->parts_total)
		tag_finding_add(item, TAG_R_SET_ORDINAL, TAG_SEV_WARN, offset);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void tag_item_apply_element(struct tag_item *item, const struct tag_element *el, size_t offset)
{
	switch (el->oid) {
	case 1:
		set_text(item, item->primary_id, sizeof(item->primary_id), el->value, offset);
		break;
	case 2:
		break; /* the decoder keeps the bitmap itself */
	case 3:
		set_text(item, item->owner_isil, sizeof(item->owner_isil), el->value, offset);
		tag_item_split_isil(item, offset);
		break;
	case 4:
		parse_set(item, el->value, offset);
		break;
	case 5:
		/* ISO 28560-1: one byte, main category in the high nibble; written
		 * as two hex digits ("10") or as one octet. */
		if (el->len == 2 && hexval(el->value[0]) >= 0 && hexval(el->value[1]) >= 0)
			item->usage = (int16_t)(hexval(el->value[0]) << 4 | hexval(el->value[1]));
		else if (el->len == 1 && hexval(el->value[0]) >= 0)
			item->usage = (int16_t)(hexval(el->value[0]) << 4);
		else
			tag_finding_add(item, TAG_R_USAGE, TAG_SEV_WARN, offset);
		break;
	case 6:
		set_text(item, item->shelf_location, sizeof(item->shelf_location), el->value, offset);
		break;
	case 7:
	case 8:
	case 19:
		/* first one wins; the others stay in elements[] */
		if (!item->media_format_oid) {
			item->media_format_oid = el->oid;
			set_text(item, item->media_format, sizeof(item->media_format), el->value, offset);
		}
		break;
	case 15:
	case 16:
		set_text(item, item->local_data[el->oid - 15], sizeof(item->local_data[0]), el->value, offset);
		break;
	case 26:
		set_text(item, item->local_data[2], sizeof(item->local_data[2]), el->value, offset);
		break;
	case 17:
		set_text(item, item->title, sizeof(item->title), el->value, offset);
		break;
	default:
		break;
	}
}

void tag_item_add_raw(struct tag_item *item, uint32_t id, unsigned compaction,
		      const uint8_t *data, size_t len, size_t offset)
{
	if (item->n_raw >= TAG_RAW_MAX) {
		tag_finding_add(item, TAG_R_TABLE_FULL, TAG_SEV_WARN, offset);
		return;
	}
	struct tag_raw *r = &item->raw[item->n_raw++];
	r->id = id;
	r->compaction = (uint8_t)compaction;
	r->offset = offset > UINT16_MAX ? UINT16_MAX : (uint16_t)offset;
	r->orig_len = len > UINT16_MAX ? UINT16_MAX : (uint16_t)len;
	r->len = (uint16_t)(len > TAG_RAW_DATA_MAX ? TAG_RAW_DATA_MAX : len);
	memcpy(r->data, data, r->len);
	if (len > TAG_RAW_DATA_MAX)
		tag_finding_add(item, TAG_R_VALUE_TOO_LONG, TAG_SEV_INFO, offset);
}

void tag_item_split_isil(struct tag_item *item, size_t offset)
{
	const char *s = item->owner_isil;

	item->isil_country[0] = '\0';
	item->isil_library[0] = '\0';
	if (!s[0])
		return;
	/* DDM: bytes 21-22 are the ISO 3166 country, the rest the library.
	 * ISO 15511 prefixes of other lengths ("O-", "ZDB-") have no country. */
	if (isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1])) {
		item->isil_country[0] = (char)toupper((unsigned char)s[0]);
		item->isil_country[1] = (char)toupper((unsigned char)s[1]);
		item->isil_country[2] = '\0';
		s += 2;
		if (*s == '-')
			s++;
		/* rfid.md §1.2: some tags repeat the country inside the library field */
		if (strncasecmp(s, item->isil_country, 2) == 0 && s[2] && !isalpha((unsigned char)s[2]))
			tag_finding_add(item, TAG_R_ISIL_COUNTRY_REPEATED, TAG_SEV_INFO, offset);
	}
	/* s is a tail of owner_isil, which has the same size */
	memcpy(item->isil_library, s, strlen(s) + 1);
}

bool tag_isil_plausible(const char *isil, bool with_prefix)
{
	size_t n = strlen(isil);

	if (n < 2 || n > TAG_ISIL_MAX || !isalpha((unsigned char)isil[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)isil[i];
		if (!isalnum(c) && c != '-' && c != '/' && c != ':')
			return false;
	}
	if (with_prefix) {
		/* ISO 15511: prefix of 1-4 characters, a hyphen, then the identifier */
		const char *dash = strchr(isil, '-');
		if (!dash || dash == isil || dash - isil > 4 || !dash[1])
			return false;
	}
	return true;
}

void tag_reverse_blocks(uint8_t *mem, size_t len, uint32_t block_size)
{
	if (block_size < 2)
		return;
	for (size_t b = 0; b + block_size <= len; b += block_size)
		for (size_t i = 0, j = block_size - 1; i < j; i++, j--) {
			uint8_t t = mem[b + i];
			mem[b + i] = mem[b + j];
			mem[b + j] = t;
		}
}

int tag_item_add_element(struct tag_item *item, unsigned oid, const char *value, unsigned compaction)
{
	if (oid == 0 || oid > 127)
		return -EINVAL;
	if (item->n_elements >= TAG_ELEMENTS_MAX)
		return -ENOSPC;
	size_t n = strlen(value);
	if (n > TAG_TEXT_MAX)
		return -EMSGSIZE;
	struct tag_element *el = &item->elements[item->n_elements++];
	memset(el, 0, sizeof(*el));
	el->oid = (uint8_t)oid;
	el->compaction = (uint8_t)compaction;
	el->len = (uint16_t)n;
	memcpy(el->value, value, n + 1);
	return 0;
}

const struct tag_element *tag_item_find_element(const struct tag_item *item, unsigned oid)
{
	for (unsigned i = 0; i < item->n_elements; i++)
		if (item->elements[i].oid == oid)
			return &item->elements[i];
	return NULL;
}

const char *tag_model_name(unsigned model)
{
	switch (model) {
	case TAG_MODEL_BLANK: return "blank";
	case TAG_MODEL_ISO28560_3: return "iso28560-3";
	case TAG_MODEL_ISO28560_2: return "iso28560-2";
	case TAG_MODEL_RFID501: return "3m-rfid501";
	default: return "unknown";
	}
}

static const struct {
	const char *name;
	const char *text;
} reasons[TAG_R__MAX] = {
	[TAG_R_NONE] = { "none", "no problem" },
	[TAG_R_CRC] = { "crc-mismatch", "the basic block CRC does not match (either byte order)" },
	[TAG_R_TRUNCATED] = { "truncated", "memory is shorter than the layout needs" },
	[TAG_R_COMPACTION] = { "illegal-compaction", "data is not valid for its compaction scheme" },
	[TAG_R_OVERRUN] = { "overrun", "an element or block runs past the end of memory" },
	[TAG_R_SET_ZERO] = { "set-zero-parts", "set information says the item has 0 parts" },
	[TAG_R_SET_ORDINAL] = { "set-ordinal", "ordinal part number is 0 or exceeds the number of parts" },
	[TAG_R_SET_FORMAT] = { "set-format", "set information is not two equal halves of digits" },
	[TAG_R_BLANK] = { "blank", "the tag is blank" },
	[TAG_R_UNKNOWN_FORMAT] = { "unknown-format", "no known data model matches the content" },
	[TAG_R_OID_ORDER] = { "oid-order", "OID 1 must come first and OID 2 second" },
	[TAG_R_OID_INVALID] = { "oid-invalid", "an element has OID 0 or appears twice" },
	[TAG_R_EXT_CHECKSUM] = { "extension-checksum", "an extension block fails its XOR check" },
	[TAG_R_EXT_MALFORMED] = { "extension-malformed", "an extension block is shorter than its header" },
	[TAG_R_NO_PRIMARY_ID] = { "no-primary-id", "the primary item identifier is missing" },
	[TAG_R_VALUE_TOO_LONG] = { "value-too-long", "a value was cut to fit" },
	[TAG_R_TABLE_FULL] = { "table-full", "more elements than the decoder keeps" },
	[TAG_R_ISIL] = { "isil-implausible", "the owner ISIL does not look like an ISO 15511 ISIL" },
	[TAG_R_ISIL_COUNTRY_REPEATED] = { "isil-country-repeated", "the library field repeats the country code" },
	[TAG_R_CONTENT_PARAMETER] = { "content-parameter", "the content parameter disagrees with the elements present" },
	[TAG_R_SWAPPED_NIBBLES] = { "swapped-nibbles", "version and type-of-usage nibbles are swapped (Bibliotheca)" },
	[TAG_R_VERSION] = { "version", "unexpected data model version" },
	[TAG_R_USAGE] = { "type-of-usage", "type of usage is outside the defined values" },
	[TAG_R_DSFID_MISMATCH] = { "dsfid-mismatch", "the DSFID names another data model than the content" },
	[TAG_R_BLOCKS_REVERSED] = { "blocks-reversed", "decoded with the bytes of each block reversed" },
	[TAG_R_NO_TERMINATOR] = { "no-terminator", "no end marker before the end of memory" },
	[TAG_R_ILLEGAL_CHAR] = { "illegal-character", "a text value contains control characters" },
};

const char *tag_reason_name(unsigned reason)
{
	return reason < TAG_R__MAX && reasons[reason].name ? reasons[reason].name : "unknown";
}

const char *tag_reason_text(unsigned reason)
{
	return reason < TAG_R__MAX && reasons[reason].text ? reasons[reason].text : "unknown reason";
}

const char *tag_severity_name(unsigned severity)
{
	switch (severity) {
	case TAG_SEV_INFO: return "info";
	case TAG_SEV_WARN: return "warning";
	default: return "error";
	}
}

/* rfid.md §1.1 (ISO/TS 28560-4:2014 p.11) */
static const char *const oid_names[] = {
	[1] = "primary-item-id", [2] = "content-parameter", [3] = "owner-institution",
	[4] = "set-information", [5] = "type-of-usage", [6] = "shelf-location",
	[7] = "onix-media-format", [8] = "marc-media-format", [9] = "supplier-id",
	[10] = "order-number", [11] = "ill-borrowing-institution",
	[12] = "ill-borrowing-transaction", [13] = "gs1-product-id",
	[14] = "alternative-unique-item-id", [15] = "local-data-a", [16] = "local-data-b",
	[17] = "title", [18] = "product-id-local", [19] = "media-format-other",
	[20] = "supply-chain-stage", [21] = "supplier-invoice-number",
	[22] = "alternative-item-id", [23] = "alternative-owner-institution",
	[24] = "subsidiary-of-owner", [25] = "alternative-ill-institution",
	[26] = "local-data-c",
};

const char *tag_oid_name(unsigned oid)
{
	if (oid < sizeof(oid_names) / sizeof(oid_names[0]) && oid_names[oid])
		return oid_names[oid];
	return "undefined";
}

const char *tag_usage_text(int usage)
{
	if (usage < 0)
		return "absent";
	/* rfid.md §1.2 (thwildau, libdanrfid): main category */
	switch (usage >> 4) {
	case 0: return "acquisition";
	case 1: return "for circulation";
	case 2: return "not for circulation";
	case 3:
	case 4: return "local";
	case 5: return "for future use";
	case 6: return "no information";
	case 7: return "discarded";
	case 8: return "patron card";
	case 9: return "library equipment";
	default: return "undefined";
	}
}
