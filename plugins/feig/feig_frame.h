/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FEIG OBID ISO-Host protocol: frames and the answers of the commands the
 * plugin uses.  Pure functions over byte buffers (no I/O), fuzzed by
 * tests/fuzz/fuzz_feig_frame.c.
 *
 * Standard frame (H20800 §3.1):  LEN ADR CMD [STATUS] [DATA] CRC_LSB CRC_MSB
 *   LEN counts the whole frame, 6..255 for answers (5.. for requests).
 * Advanced frame (§3.2):          02 ALEN_MSB ALEN_LSB ADR CMD [STATUS] DATA CRC
 *   ALEN counts the whole frame; used by the reader when LEN would pass 255.
 * CRC-16/MCRF4XX: poly 0x8408 (reflected 0x1021), preset 0xFFFF, no final
 * XOR, over every byte before it, sent low byte first.
 */
#ifndef CIRCD_FEIG_FRAME_H
#define CIRCD_FEIG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FEIG_FRAME_MAX 1024 /* we never ask for more than ~140 bytes of data */
#define FEIG_UID_LEN 8

/* Commands (H20800 §6, §7) */
#define FEIG_CMD_READ_CONFIG 0x80  /* §5.1: CFG-ADR -> 14-byte CFG-REC */
#define FEIG_CMD_WRITE_CONFIG 0x81 /* §5.2: CFG-ADR CFG-REC */
#define FEIG_CMD_RF_RESET 0x69
#define FEIG_CMD_RF_OUTPUT 0x6A    /* §6.7: RF_OUTPUT.ANT_OUT */
#define FEIG_CMD_ISO 0xB0
#define FEIG_ISO_INVENTORY 0x01
#define FEIG_ISO_READ_MULTIPLE 0x23
#define FEIG_ISO_WRITE_MULTIPLE 0x24
#define FEIG_ISO_WRITE_AFI 0x27
#define FEIG_ISO_SYSINFO 0x2B

#define FEIG_MODE_ADDRESSED 0x01
#define FEIG_MODE_MORE 0x80 /* inventory: the rest of the last answer */

/* §6.7 RF_OUTPUT: ANT_OUT b00 = RF off at every antenna, b01 = antenna 1
 * (the only one of a one-antenna reader), b10 = antenna 2. */
#define FEIG_ANT_OUT_OFF 0x00
#define FEIG_ANTENNAS_MAX 2

/* §5, §4.5: configuration blocks of 14 bytes; CFG-ADR bit 7 (LOC) = EEPROM
 * (we only touch RAM, so a power cycle restores the reader's own setting).
 * CFG4 byte 4 ISO15693-MODE bit 5 = AFI enabled, byte 5 = ISO15693-AFI:
 * the reader then only inventories transponders of that AFI. */
#define FEIG_CFG_LEN 14
#define FEIG_CFG_EEPROM 0x80
#define FEIG_CFG4 0x04
#define FEIG_CFG4_ISO15693_MODE 4
#define FEIG_CFG4_MODE_AFI 0x20
#define FEIG_CFG4_ISO15693_AFI 5

#define FEIG_WRITE_MAX 128 /* §7.1.4: at most 128 data bytes per write */

/* Status bytes (H20800 Annex C) */
#define FEIG_OK 0x00
#define FEIG_NO_TRANSPONDER 0x01
#define FEIG_DATA_FALSE 0x02
#define FEIG_WRITE_ERROR 0x03
#define FEIG_UNKNOWN_COMMAND 0x80
#define FEIG_LENGTH_ERROR 0x81
#define FEIG_RF_ERROR 0x83
#define FEIG_BUFFER_OVERFLOW 0x93
#define FEIG_MORE_DATA 0x94
#define FEIG_ISO_ERROR 0x95

uint16_t feig_crc16(const uint8_t *data, size_t len);
const char *feig_status_text(uint8_t status);

/* Build a request; returns its length, or -EMSGSIZE when out is too small.
 * Standard frame when it fits in 255 bytes, advanced otherwise. */
int feig_frame_encode(uint8_t addr, uint8_t cmd, const uint8_t *data, size_t data_len,
		      uint8_t *out, size_t out_size);

/* How long is the frame that starts at buf?  0 and *frame_len, -EAGAIN when
 * the header is not complete yet, -EBADMSG when the length is impossible. */
int feig_frame_length(const uint8_t *buf, size_t len, size_t *frame_len);

struct feig_answer {
	uint8_t addr, cmd, status;
	const uint8_t *data; /* points into the frame */
	size_t data_len;
};

/* Check and split one complete answer frame (len = its exact length):
 * -EBADMSG for a length that does not match, -EILSEQ for a bad CRC. */
int feig_answer_decode(const uint8_t *frame, size_t len, struct feig_answer *a);

/* ---- Answer data of the ISO host commands ---- */

struct feig_inventory_tag {
	uint8_t tr_type, dsfid;
	uint8_t uid[FEIG_UID_LEN]; /* as the reader sends it: MSB (0xE0) first */
};

/* [0xB0][0x01]: DATA-SETS { TR-TYPE DSFID UID[8] }; fills at most max
 * entries, *count = how many; -EBADMSG when the sets do not fit the data. */
int feig_parse_inventory(const uint8_t *data, size_t len, struct feig_inventory_tag *tags,
			 size_t max, size_t *count);

/* [0xB0][0x23]: DB-N DB-SIZE { SEC DB[DB-SIZE] }.  Copies the blocks (as
 * sent, without the security bytes) to mem; -EMSGSIZE if mem is too small. */
int feig_parse_read_blocks(const uint8_t *data, size_t len, uint8_t *mem, size_t mem_size,
			   size_t *blocks, size_t *block_size);

struct feig_sysinfo {
	uint8_t dsfid, afi, ic_ref;
	uint8_t uid[FEIG_UID_LEN];
	unsigned block_size, blocks; /* from MEM-SIZE; 0 when not reported */
};

/* [0xB0][0x2B]: DSFID UID[8] AFI MEM-SIZE[2] IC-REF */
int feig_parse_sysinfo(const uint8_t *data, size_t len, struct feig_sysinfo *info);

/* [0x80]: CFG-REC[14]; -EBADMSG for any other length */
int feig_parse_config(const uint8_t *data, size_t len, uint8_t rec[FEIG_CFG_LEN]);

/* [0xB0][0x24] request data: MODE=addressed UID DB_ADR DB-N DB-SIZE DB...,
 * each block's bytes reversed (the reader takes them MSB first, §7.1.4,
 * as it sends them on read).  mem holds count blocks in tag order.
 * Returns the length, or -EINVAL / -EMSGSIZE. */
int feig_build_write_blocks(const uint8_t uid[FEIG_UID_LEN], unsigned first, unsigned count,
			    unsigned block_size, const uint8_t *mem, uint8_t *out,
			    size_t out_size);

#endif
