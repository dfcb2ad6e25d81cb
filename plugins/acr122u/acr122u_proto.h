/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ACS ACR122U: the bytes on its bulk endpoints.  Pure functions over
 * buffers (no I/O), fuzzed by tests/fuzz/fuzz_acr122u.c.
 *
 * Three layers, outermost first:
 *
 *  CCID 1.1 (§6.1, §6.2): 10-byte header  TYPE dwLength(LE32) bSlot bSeq
 *      3 bytes, then dwLength bytes.  Host -> reader: PC_to_RDR_IccPowerOn
 *      0x62, PC_to_RDR_XfrBlock 0x6F.  Reader -> host: RDR_to_PC_DataBlock
 *      0x80, RDR_to_PC_SlotStatus 0x81, with bStatus (bits 7-6: 0 = done,
 *      1 = failed (see bError), 2 = more time needed) and bError.
 *  ACR122U pseudo-APDUs (ACR122U API v2.02 §4-§6), carried in XfrBlock:
 *      FF 00 00 00 Lc <PN532 command>   direct transmit to the PN532
 *      FF 00 40 P2 04 T1 T2 Rep Link    LED and buzzer
 *      FF 00 52 P2 00                   beep on card detection (P2 FF/00)
 *      FF 00 48 00 00                   firmware version (ASCII, no SW)
 *    each answered by data + SW1 SW2 (90 00 = done, 63 00 = failed).
 *  PN532 (User Manual UM0701-02 §7): command D4 CC ..., answer D5 CC+1 ...
 *      InListPassiveTarget D4 4A MaxTg BrTy(00 = 106 kbps type A) ->
 *      D5 4B NbTg { Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1 [ATS] }.
 */
#ifndef CIRCD_ACR122U_PROTO_H
#define CIRCD_ACR122U_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define ACR_CCID_HEADER 10
#define ACR_MSG_MAX (ACR_CCID_HEADER + 300) /* ACR122U answers are < 270 bytes */

#define ACR_PC_TO_RDR_ICC_POWER_ON 0x62
#define ACR_PC_TO_RDR_XFR_BLOCK 0x6F
#define ACR_RDR_TO_PC_DATA_BLOCK 0x80
#define ACR_RDR_TO_PC_SLOT_STATUS 0x81

/* bStatus bits 7-6 */
#define ACR_CCID_CMD_OK 0
#define ACR_CCID_CMD_FAILED 1
#define ACR_CCID_TIME_EXTENSION 2

#define ACR_PN532_IN_LIST_PASSIVE_TARGET 0x4A
#define ACR_PN532_IN_RELEASE 0x52
#define ACR_PN532_RF_CONFIGURATION 0x32
#define ACR_PN532_GET_FIRMWARE_VERSION 0x02

#define ACR_SW_OK 0x9000
#define ACR_SW_FAILED 0x6300

#define ACR_UID_MAX 10
#define ACR_MAX_TARGETS 2 /* the PN532 lists at most two */

/* One message from the reader. */
struct acr_ccid_answer {
	uint8_t type;  /* 0x80 DataBlock, 0x81 SlotStatus, or another RDR_to_PC */
	uint8_t slot, seq;
	uint8_t status; /* bStatus */
	uint8_t error;  /* bError */
	const uint8_t *data; /* points into the buffer parsed */
	size_t len;
};

/* An ISO 14443 type A target (card) from InListPassiveTarget. */
struct acr_target_a {
	uint8_t tg;            /* the PN532's logical number for it */
	uint16_t sens_res;     /* ATQA, as sent (first byte high) */
	uint8_t sel_res;       /* SAK */
	uint8_t uid[ACR_UID_MAX];
	uint8_t uid_len;       /* 4, 7 or 10 */
	uint8_t ats_len;       /* 0 = no ATS (not ISO 14443-4) */
};

/* ---- building requests: the length written, or -EMSGSIZE / -EINVAL ---- */

int acr_ccid_power_on(uint8_t *out, size_t size, uint8_t seq);
int acr_ccid_xfr_block(uint8_t *out, size_t size, uint8_t seq, const uint8_t *apdu,
		       size_t apdu_len);
/* FF 00 00 00 Lc D4 <cmd...>: cmd[0] is the PN532 command code. */
int acr_pn532_apdu(uint8_t *out, size_t size, const uint8_t *cmd, size_t cmd_len);
/* FF 00 40 P2 04 T1 T2 Rep Link. */
int acr_led_buzzer_apdu(uint8_t *out, size_t size, uint8_t led_control, uint8_t t1_100ms,
			uint8_t t2_100ms, uint8_t repetitions, uint8_t buzzer_link);

/* ---- parsing answers: 0 or -EBADMSG (malformed), -EIO (the reader says
 * it failed), -EPROTO (an answer to something else) ---- */

/* One whole bulk IN transfer: a CCID header and exactly dwLength bytes. */
int acr_ccid_parse(const uint8_t *buf, size_t len, struct acr_ccid_answer *a);
/* bStatus bits 7-6. */
static inline unsigned acr_ccid_command_status(const struct acr_ccid_answer *a)
{
	return a->status >> 6;
}
/* Split an APDU answer into body and SW1 SW2. */
int acr_apdu_split(const uint8_t *data, size_t len, const uint8_t **body, size_t *body_len,
		   uint16_t *sw);
/* The answer to PN532 command `cmd`: D5 cmd+1 ...; *out after those two. */
int acr_pn532_answer(const uint8_t *body, size_t len, uint8_t cmd, const uint8_t **out,
		     size_t *out_len);
/* InListPassiveTarget (106 kbps type A) answer data after D5 4B:
 * NbTg then the targets.  Fills up to max targets, *count = NbTg. */
int acr_parse_targets_106a(const uint8_t *data, size_t len, struct acr_target_a *targets,
			   size_t max, size_t *count);

/* DataBlock -> APDU answer -> PN532 answer to `cmd`, all checked: the
 * DataBlock's seq must be `seq`, the SW 90 00.  out and out_len as above. */
int acr_parse_pn532_exchange(const uint8_t *buf, size_t len, uint8_t seq, uint8_t cmd,
			     const uint8_t **out, size_t *out_len);

/* bError in words (CCID 1.1 Table 6.2-2), for the logs. */
const char *acr_ccid_error_text(uint8_t error);

#endif
