/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CRC-16/CCITT-FALSE for the ISO 28560-3 basic block.
 * A nibble table (16 entries, const) keeps it small and branch-free; the
 * basic block is 32 bytes, so this is never worth a 512-byte table.
 */
#include "config.h"

#include "tags/crc.h"

/* entry n = CRC register after shifting nibble n through poly 0x1021 */
static const uint16_t crc_nibble[16] = {
	0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
	0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
};

uint16_t tag_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		crc = (uint16_t)((crc << 4) ^ crc_nibble[(crc >> 12) ^ (data[i] >> 4)]);
		crc = (uint16_t)((crc << 4) ^ crc_nibble[(crc >> 12) ^ (data[i] & 0x0f)]);
	}
	return crc;
}

uint16_t tag_crc_28560_3(const uint8_t *mem, size_t basic_len)
{
	/* rfid.md §1.2: bytes 19-20 hold the CRC itself and are skipped; a
	 * 32-byte block is followed by two zero bytes so the input is always
	 * 32 bytes long. */
	static const uint8_t zero[2];
	uint16_t crc = tag_crc16_update(TAG_CRC16_INIT, mem, 19);

	crc = tag_crc16_update(crc, mem + 21, basic_len - 21);
	if (basic_len < 34)
		crc = tag_crc16_update(crc, zero, 34 - basic_len);
	return crc;
}
