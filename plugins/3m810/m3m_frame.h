/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 3M RFID reader protocol (Model 210 / 810 staff pad, spec v1.0.0, 2009):
 * frames and the answers of the commands the plugin uses.  Pure functions
 * over byte buffers (no I/O), fuzzed by tests/fuzz/fuzz_m3m_frame.c.
 *
 * Frame (spec §"Overview of the Protocol"):
 *     D6 LEN_MSB LEN_LSB CMD [ERROR] [UID(8)] [fields] BCC_MSB BCC_LSB
 *   LEN counts the bytes after itself, BCC included.  Answers carry an
 *   error byte after CMD; requests do not.  Numbers and UIDs are big-endian
 *   (the UID goes E0 first).
 * BCC (spec §4, App. C): CRC-16/GENIBUS — poly 0x1021, preset 0xFFFF, not
 * reflected, final XOR 0xFFFF — over every byte but the start byte, sent
 * MSB first.  Spec vector: D6 00 09 03 00 02 00 00 00 03 -> 12 E6.
 */
#ifndef CIRCD_M3M_FRAME_H
#define CIRCD_M3M_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define M3M_START 0xD6
#define M3M_FRAME_MAX 2048 /* an inventory of 128 tags with DSFIDs is ~1.2 KiB */
#define M3M_UID_LEN 8
#define M3M_BLOCK_MAX 32   /* bytes per block we accept (ICODE: 4) */

/* Command codes (spec §7) */
#define M3M_CMD_QUIET 0x01
#define M3M_CMD_READ_BLOCKS 0x02
#define M3M_CMD_CHECK_EAS 0x03
#define M3M_CMD_WRITE_BLOCKS 0x04
#define M3M_CMD_WRITE_AFI 0x09
#define M3M_CMD_GET_AFI 0x0A
#define M3M_CMD_EAS_CONTROL 0x0C
#define M3M_CMD_TAG_INFO 0x0D
#define M3M_CMD_VERSION 0x11
#define M3M_CMD_INVENTORY 0xFE

/* Read Block UID response options (§7.1) */
#define M3M_INV_UID 0x01
#define M3M_INV_DSFID 0x02

/* Tag Info bits (§7.18) */
#define M3M_INFO_DSFID 0x01
#define M3M_INFO_AFI 0x02
#define M3M_INFO_MEMSIZE 0x04
#define M3M_INFO_ICREF 0x08

/* Error codes (App. A) */
#define M3M_OK 0x00
#define M3M_NOT_IMPLEMENTED 0x02
#define M3M_NO_TRANSPONDER 0x06
#define M3M_UNKNOWN_ERROR 0x0F
#define M3M_MEM_NOT_AVAILABLE 0x11
#define M3M_MEM_LOCKED 0x12
#define M3M_MEM_NOT_READ 0x15
#define M3M_MEM_NOT_PUT 0x16
#define M3M_TAG_CMD_NOT_SUPPORTED 0x21
#define M3M_TAG_CMD_UNKNOWN 0x22
#define M3M_TAG_OPTION_NOT_SUPPORTED 0x23
#define M3M_NOT_SUPPORTED 0x30
#define M3M_OPTION_NOT_SUPPORTED 0x31
#define M3M_PARAM_ERROR 0x32
#define M3M_USER_CANCEL 0xFD
#define M3M_NOT_ENOUGH_MEMORY 0xFE

uint16_t m3m_crc16(const uint8_t *data, size_t len);
const char *m3m_error_text(uint8_t code);

/* Build a request: D6, length, cmd, data, BCC.  Returns its length, or
 * -EMSGSIZE when out is too small or the frame too long. */
int m3m_frame_encode(uint8_t cmd, const uint8_t *data, size_t data_len, uint8_t *out,
		     size_t out_size);

/*
 * Hunt for a frame in a byte stream that may hold garbage: every 0xD6 is a
 * candidate start; a candidate whose length is impossible or whose BCC does
 * not check is not a frame.  A complete, valid frame anywhere in buf wins
 * over an earlier candidate that is still incomplete (a stray 0xD6 that
 * claims a long length must not hide the real answer behind it).
 *
 * Returns 1 when a frame starts at buf + skip (frame_len bytes), 0 when
 * there is none yet: the first `skip` bytes can then be dropped, the rest
 * kept for more input.  `rejected` counts the candidates before `skip`
 * that were not frames; `bad_crc` is set when one of them was complete with
 * a plausible length but a wrong BCC (a damaged answer, not noise).
 */
struct m3m_scan {
	size_t skip;
	size_t frame_len;
	unsigned rejected;
	bool bad_crc;
};
int m3m_frame_scan(const uint8_t *buf, size_t len, struct m3m_scan *scan);

struct m3m_answer {
	uint8_t cmd, error;
	const uint8_t *data; /* after the error byte, points into the frame */
	size_t data_len;
};

/* Check and split one complete answer (len = its exact length): -EBADMSG
 * for a start byte or length that does not fit, -EILSEQ for a bad BCC. */
int m3m_answer_decode(const uint8_t *frame, size_t len, struct m3m_answer *a);

/* ---- Answer data of the commands ---- */

struct m3m_inventory_tag {
	int16_t dsfid;             /* -1 when not asked for */
	uint8_t uid[M3M_UID_LEN];  /* MSB (0xE0) first, as sent */
};

/* Read Block UID: AFI OPTIONS COUNT { [DSFID] [UID] }.  Only answers with
 * the UID bit are usable; fills at most max entries, *count = how many. */
int m3m_parse_inventory(const uint8_t *data, size_t len, struct m3m_inventory_tag *tags,
			size_t max, size_t *count);

/* Read Multiblock, old style: UID N { BLOCK# LOCK/ERR DATA[bs] }.  The
 * block size follows from the length (4 on ISO 15693 ICODE tags).  Checks
 * the UID and that the blocks are first, first+1, ...; copies the data to
 * mem.  -EIO with *block_error set when a block's status is an error code
 * (> 3), -EMSGSIZE when mem is too small. */
int m3m_parse_read_blocks(const uint8_t *data, size_t len, const uint8_t uid[M3M_UID_LEN],
			  unsigned first, uint8_t *mem, size_t mem_size, size_t *blocks,
			  size_t *block_size, uint8_t *block_error);

/* The answers that are UID [+ one byte]: Write AFI, EAS Control, Write
 * Block(s) (UID [next block]), Get AFI (UID AFI), Check EAS (UID EAS).
 * *value is set when the byte is there (-1 otherwise). */
int m3m_parse_uid_byte(const uint8_t *data, size_t len, const uint8_t uid[M3M_UID_LEN],
		       int *value);

struct m3m_tag_info {
	uint8_t avail;          /* M3M_INFO_* bits the reader could fill */
	uint8_t dsfid, afi;
	unsigned block_size, blocks; /* 0 when not reported */
	uint16_t ic_ref;
};

/* Tag Info: UID AVAIL [DSFID] [AFI] [BS-1 N-1] [ICREF(2)] */
int m3m_parse_tag_info(const uint8_t *data, size_t len, const uint8_t uid[M3M_UID_LEN],
		       struct m3m_tag_info *info);

/* Reader Version: 0A MAJOR MINOR BUILD */
int m3m_parse_version(const uint8_t *data, size_t len, uint8_t version[4]);

#endif
