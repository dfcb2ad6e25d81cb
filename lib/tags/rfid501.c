/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 3M "RFID501" legacy layout, decode only (rfid.md §1.5; Biblio::RFID
 * RFID501.pm).  No CRC, so detection leans on the fixed bytes:
 *   block 0   04 [ordinal:4 | total:4] 00 [item type]
 *   block 1-4 barcode, 16 bytes, NUL-padded
 *   block 5   big-endian branch:12 | library:20
 *   block 6   custom int32 (big-endian)
 *   block 7   0
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tags/tag_internal.h"

#define RFID501_MIN 24 /* blocks 0-5 carry the data */
#define BARCODE_OFFSET 4
#define BARCODE_LEN 16

static const char *item_type_name(unsigned t)
{
	switch (t) {
	case 1: return "book";
	case 2: return "magazine";
	case 3: return "bound journal";
	case 4: return "audio tape";
	case 5: return "video";
	case 6: return "CD";
	case 7: return "diskette";
	case 8: return "book with diskette";
	case 9: return "book with CD";
	case 13: return "book with audio tape";
	default: return NULL;
	}
}

bool tag_looks_like_rfid501(const uint8_t *mem, size_t len)
{
	return len >= RFID501_MIN && mem[0] == 0x04 && mem[2] == 0x00 &&
	       mem[BARCODE_OFFSET] >= 0x20 && mem[BARCODE_OFFSET] < 0x7f;
}

int tag_decode_rfid501(const uint8_t *mem, size_t len, struct tag_item *item)
{
	if (len < RFID501_MIN)
		return tag_fail(item, TAG_R_TRUNCATED, len, -EBADMSG);
	item->model = TAG_MODEL_RFID501;

	item->set_present = true;
	item->part_ordinal = mem[1] >> 4;
	item->parts_total = mem[1] & 0x0f;
	tag_item_check_set(item, 1);

	item->rfid501_item_type = mem[3];
	const char *type = item_type_name(mem[3]);
	if (type) {
		item->media_format_oid = 19;
		strcpy(item->media_format, type);
	}

	tag_copy_text(item->primary_id, sizeof(item->primary_id), mem + BARCODE_OFFSET, BARCODE_LEN);
	for (size_t i = 0; i < BARCODE_LEN && mem[BARCODE_OFFSET + i]; i++)
		if (mem[BARCODE_OFFSET + i] < 0x20 || mem[BARCODE_OFFSET + i] > 0x7e) {
			tag_finding_add(item, TAG_R_ILLEGAL_CHAR, TAG_SEV_WARN, BARCODE_OFFSET + i);
			break;
		}

	uint32_t b5 = (uint32_t)mem[20] << 24 | (uint32_t)mem[21] << 16 | (uint32_t)mem[22] << 8 | mem[23];
	item->rfid501_branch = (uint16_t)(b5 >> 20);
	item->rfid501_library = b5 & 0xFFFFF;
	if (len >= 28)
		item->rfid501_custom = (uint32_t)mem[24] << 24 | (uint32_t)mem[25] << 16 |
				       (uint32_t)mem[26] << 8 | mem[27];
	item->mem_len = (uint16_t)len;
	if (!item->primary_id[0])
		return tag_fail(item, TAG_R_NO_PRIMARY_ID, BARCODE_OFFSET, -EBADMSG);
	return 0;
}
