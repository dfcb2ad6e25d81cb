/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACR122U: CCID messages, pseudo-APDUs and PN532 answers (see the header). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "acr122u_proto.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* CCID §6.1: TYPE dwLength bSlot bSeq + 3 message-specific bytes. */
static int ccid_request(uint8_t *out, size_t size, uint8_t type, uint8_t seq,
			const uint8_t *data, size_t len)
{
	if (len > ACR_MSG_MAX - ACR_CCID_HEADER || size < ACR_CCID_HEADER + len)
		return -EMSGSIZE;
	out[0] = type;
	put_le32(out + 1, (uint32_t)len);
	out[5] = 0; /* slot: the ACR122U has one */
	out[6] = seq;
	out[7] = 0; /* IccPowerOn: bPowerSelect 0 = automatic; XfrBlock: bBWI */
	out[8] = 0; /* XfrBlock: wLevelParameter 0 = the APDU is whole */
	out[9] = 0;
	if (len)
		memcpy(out + ACR_CCID_HEADER, data, len);
	return (int)(ACR_CCID_HEADER + len);
}

int acr_ccid_power_on(uint8_t *out, size_t size, uint8_t seq)
{
	return ccid_request(out, size, ACR_PC_TO_RDR_ICC_POWER_ON, seq, NULL, 0);
}

int acr_ccid_xfr_block(uint8_t *out, size_t size, uint8_t seq, const uint8_t *apdu,
		       size_t apdu_len)
{
	if (!apdu_len)
		return -EINVAL;
	return ccid_request(out, size, ACR_PC_TO_RDR_XFR_BLOCK, seq, apdu, apdu_len);
}

int acr_pn532_apdu(uint8_t *out, size_t size, const uint8_t *cmd, size_t cmd_len)
{
	/* Lc counts the D4 too and is one byte */
	if (!cmd_len || cmd_len + 1 > 255)
		return -EINVAL;
	if (size < 6 + cmd_len)
		return -EMSGSIZE;
	out[0] = 0xFF;
	out[1] = 0x00;
	out[2] = 0x00;
	out[3] = 0x00;
	out[4] = (uint8_t)(cmd_len + 1);
	out[5] = 0xD4;
	memcpy(out + 6, cmd, cmd_len);
	return (int)(6 + cmd_len);
}

int acr_led_buzzer_apdu(uint8_t *out, size_t size, uint8_t led_control, uint8_t t1_100ms,
			uint8_t t2_100ms, uint8_t repetitions, uint8_t buzzer_link)
{
	if (size < 9)
		return -EMSGSIZE;
	if (buzzer_link > 3)
		return -EINVAL;
	out[0] = 0xFF;
	out[1] = 0x00;
	out[2] = 0x40;
	out[3] = led_control;
	out[4] = 0x04;
	out[5] = t1_100ms;
	out[6] = t2_100ms;
	out[7] = repetitions;
	out[8] = buzzer_link;
	return 9;
}

int acr_ccid_parse(const uint8_t *buf, size_t len, struct acr_ccid_answer *a)
{
	uint32_t dlen;

	if (len < ACR_CCID_HEADER)
		return -EBADMSG;
	/* RDR_to_PC messages are 0x80..0x84 (CCID §6.2) */
	if (buf[0] < 0x80 || buf[0] > 0x84)
		return -EBADMSG;
	dlen = (uint32_t)buf[1] | (uint32_t)buf[2] << 8 | (uint32_t)buf[3] << 16 |
	       (uint32_t)buf[4] << 24;
	/* one bulk transfer carries one whole message, nothing after it */
	if (dlen != len - ACR_CCID_HEADER)
		return -EBADMSG;
	a->type = buf[0];
	a->slot = buf[5];
	a->seq = buf[6];
	a->status = buf[7];
	a->error = buf[8];
	a->data = buf + ACR_CCID_HEADER;
	a->len = dlen;
	return 0;
}

int acr_apdu_split(const uint8_t *data, size_t len, const uint8_t **body, size_t *body_len,
		   uint16_t *sw)
{
	if (len < 2)
		return -EBADMSG;
	*body = data;
	*body_len = len - 2;
	*sw = (uint16_t)(data[len - 2] << 8 | data[len - 1]);
	return 0;
}

int acr_pn532_answer(const uint8_t *body, size_t len, uint8_t cmd, const uint8_t **out,
		     size_t *out_len)
{
	if (len < 2 || body[0] != 0xD5)
		return -EBADMSG;
	if (body[1] != (uint8_t)(cmd + 1))
		return -EPROTO;
	*out = body + 2;
	*out_len = len - 2;
	return 0;
}

int acr_parse_targets_106a(const uint8_t *data, size_t len, struct acr_target_a *targets,
			   size_t max, size_t *count)
{
	size_t pos = 1, nb;

	*count = 0;
	if (len < 1 || data[0] > ACR_MAX_TARGETS)
		return -EBADMSG;
	nb = data[0];
	for (size_t i = 0; i < nb; i++) {
		struct acr_target_a t = { 0 };
		/* Tg SENS_RES(2) SEL_RES NFCIDLength */
		if (len - pos < 5)
			return -EBADMSG;
		t.tg = data[pos];
		t.sens_res = (uint16_t)(data[pos + 1] << 8 | data[pos + 2]);
		t.sel_res = data[pos + 3];
		t.uid_len = data[pos + 4];
		pos += 5;
		/* ISO 14443-3: single, double or triple size UID */
		if (t.uid_len != 4 && t.uid_len != 7 && t.uid_len != 10)
			return -EBADMSG;
		if (len - pos < t.uid_len)
			return -EBADMSG;
		memcpy(t.uid, data + pos, t.uid_len);
		pos += t.uid_len;
		/* SAK bit 6 (0x20): ISO 14443-4 compliant, the PN532 then
		 * appends the ATS, whose first byte TL counts the whole ATS */
		if ((t.sel_res & 0x20) && pos < len) {
			t.ats_len = data[pos];
			if (t.ats_len < 1 || len - pos < t.ats_len)
				return -EBADMSG;
			pos += t.ats_len;
		}
		if (i < max)
			targets[i] = t;
	}
	if (pos != len)
		return -EBADMSG;
	*count = nb;
	return 0;
}

int acr_parse_pn532_exchange(const uint8_t *buf, size_t len, uint8_t seq, uint8_t cmd,
			     const uint8_t **out, size_t *out_len)
{
	struct acr_ccid_answer a;
	const uint8_t *body;
	size_t body_len;
	uint16_t sw;
	int r;

	r = acr_ccid_parse(buf, len, &a);
	if (r < 0)
		return r;
	if (a.seq != seq)
		return -EPROTO;
	if (a.type != ACR_RDR_TO_PC_DATA_BLOCK)
		return -EBADMSG;
	if (acr_ccid_command_status(&a) == ACR_CCID_CMD_FAILED)
		return -EIO;
	if (acr_ccid_command_status(&a) != ACR_CCID_CMD_OK)
		return -EBADMSG;
	r = acr_apdu_split(a.data, a.len, &body, &body_len, &sw);
	if (r < 0)
		return r;
	if (sw != ACR_SW_OK)
		return -EIO;
	return acr_pn532_answer(body, body_len, cmd, out, out_len);
}

const char *acr_ccid_error_text(uint8_t error)
{
	switch (error) {
	case 0x00: return "command not supported";
	case 0xE0: return "slot busy";
	case 0xEF: return "cancelled by the host";
	case 0xF0: return "card present (unexpected)";
	case 0xF2: return "busy with an automatic sequence";
	case 0xF3: return "protocol deactivated";
	case 0xF4: return "procedure byte conflict";
	case 0xF5: return "card class not supported";
	case 0xF6: return "card protocol not supported";
	case 0xF7: return "bad ATR TCK";
	case 0xF8: return "bad ATR TS";
	case 0xFB: return "hardware error";
	case 0xFC: return "transfer overrun";
	case 0xFD: return "transfer parity error";
	case 0xFE: return "card mute (no card)";
	case 0xFF: return "command aborted";
	default: return "unknown error";
	}
}
