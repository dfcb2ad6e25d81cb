/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CIRCD_TAGS_CRC_H
#define CIRCD_TAGS_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final XOR.
 * Check value: "123456789" -> 0x29B1 (rfid.md §1.2). */
#define TAG_CRC16_INIT 0xFFFF
uint16_t tag_crc16_update(uint16_t crc, const uint8_t *data, size_t len);
static inline uint16_t tag_crc16(const uint8_t *data, size_t len)
{
	return tag_crc16_update(TAG_CRC16_INIT, data, len);
}

/* ISO 28560-3 basic block CRC: bytes 0..18, then 21..basic_len-1, zero-padded
 * to 32 bytes of input (rfid.md §1.2).  basic_len is 32 or 34; mem must hold
 * basic_len bytes. */
uint16_t tag_crc_28560_3(const uint8_t *mem, size_t basic_len);
/* The part both forms share: bytes 0..18 and 21..31.  Finish with bytes
 * 32-33 (34-byte form) or two zeros (32-byte form). */
uint16_t tag_crc_28560_3_prefix(const uint8_t *mem);

#endif
