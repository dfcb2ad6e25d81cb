/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* FEIG ISO-Host frames: CRC, encode, length, decode, answer parsers. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "feig_frame.h"

/* H20800 §3.3: CRC16 polynomial 0x8408, start value 0xFFFF, LSB first. */
uint16_t feig_crc16(const uint8_t *data, size_t len)
{
	uint16_t crc = 0xFFFF;

	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408) : (uint16_t)(crc >> 1);
	}
	return crc;
}

const char *feig_status_text(uint8_t status)
{
	switch (status) {
	case FEIG_OK: return "ok";
	case FEIG_NO_TRANSPONDER: return "no transponder";
	case FEIG_DATA_FALSE: return "data false";
	case FEIG_WRITE_ERROR: return "write error";
	case FEIG_UNKNOWN_COMMAND: return "unknown command";
	case FEIG_LENGTH_ERROR: return "length error";
	case FEIG_RF_ERROR: return "RF communication error";
	case FEIG_BUFFER_OVERFLOW: return "buffer overflow";
	case FEIG_MORE_DATA: return "more data";
	case FEIG_ISO_ERROR: return "ISO 15693 error";
	default: return "unknown status";
	}
}

int feig_frame_encode(uint8_t addr, uint8_t cmd, const uint8_t *data, size_t data_len,
		      uint8_t *out, size_t out_size)
{
	size_t len = 5 + data_len, pos;

	if (len <= 255) {
		if (out_size < len)
			return -EMSGSIZE;
		out[0] = (uint8_t)len;
		pos = 1;
	} else {
		len += 2; /* STX + two length bytes replace the one LEN byte */
		if (len > 0xFFFF || out_size < len)
			return -EMSGSIZE;
		out[0] = 0x02;
		out[1] = (uint8_t)(len >> 8);
		out[2] = (uint8_t)len;
		pos = 3;
	}
	out[pos++] = addr;
	out[pos++] = cmd;
	if (data_len)
		memcpy(out + pos, data, data_len);
	pos += data_len;
	uint16_t crc = feig_crc16(out, pos);
	out[pos++] = (uint8_t)crc;
	out[pos++] = (uint8_t)(crc >> 8);
	return (int)pos;
}

int feig_frame_length(const uint8_t *buf, size_t len, size_t *frame_len)
{
	size_t n;

	if (len < 1)
		return -EAGAIN;
	if (buf[0] == 0x02) {
		/* An advanced frame; a standard frame of LEN 2 cannot exist. */
		if (len < 3)
			return -EAGAIN;
		n = (size_t)buf[1] << 8 | buf[2];
		if (n < 8 || n > FEIG_FRAME_MAX)
			return -EBADMSG;
	} else {
		n = buf[0];
		if (n < 5)
			return -EBADMSG;
	}
	*frame_len = n;
	return 0;
}

int feig_answer_decode(const uint8_t *frame, size_t len, struct feig_answer *a)
{
	size_t want, head;
	int r = feig_frame_length(frame, len, &want);

	if (r < 0)
		return r == -EAGAIN ? -EBADMSG : r;
	head = frame[0] == 0x02 ? 3 : 1;
	/* an answer has ADR CMD STATUS after the length */
	if (want != len || len < head + 3 + 2)
		return -EBADMSG;
	uint16_t crc = (uint16_t)(frame[len - 2] | frame[len - 1] << 8);
	if (feig_crc16(frame, len - 2) != crc)
		return -EILSEQ;
	a->addr = frame[head];
	a->cmd = frame[head + 1];
	a->status = frame[head + 2];
	a->data = frame + head + 3;
	a->data_len = len - head - 3 - 2;
	return 0;
}

int feig_parse_inventory(const uint8_t *data, size_t len, struct feig_inventory_tag *tags,
			 size_t max, size_t *count)
{
	*count = 0;
	if (len < 1)
		return -EBADMSG;
	size_t sets = data[0];
	/* ISO 15693 data sets are 10 bytes; other TR-TYPEs are not expected
	 * on a library reader and make the answer unusable for us. */
	if (len != 1 + sets * 10)
		return -EBADMSG;
	for (size_t i = 0; i < sets && *count < max; i++) {
		const uint8_t *s = data + 1 + i * 10;
		tags[*count].tr_type = s[0];
		tags[*count].dsfid = s[1];
		memcpy(tags[*count].uid, s + 2, FEIG_UID_LEN);
		(*count)++;
	}
	return 0;
}

int feig_parse_read_blocks(const uint8_t *data, size_t len, uint8_t *mem, size_t mem_size,
			   size_t *blocks, size_t *block_size)
{
	if (len < 2)
		return -EBADMSG;
	size_t n = data[0], size = data[1];
	if (size == 0 || len != 2 + n * (1 + size))
		return -EBADMSG;
	if (n * size > mem_size)
		return -EMSGSIZE;
	for (size_t i = 0; i < n; i++)
		memcpy(mem + i * size, data + 2 + i * (1 + size) + 1, size);
	*blocks = n;
	*block_size = size;
	return 0;
}

int feig_parse_sysinfo(const uint8_t *data, size_t len, struct feig_sysinfo *info)
{
	if (len != 1 + FEIG_UID_LEN + 1 + 2 + 1)
		return -EBADMSG;
	info->dsfid = data[0];
	memcpy(info->uid, data + 1, FEIG_UID_LEN);
	info->afi = data[9];
	/* MEM-SIZE: high nibble reserved, low nibble block size - 1, then
	 * number of blocks - 1 (ISO 15693 system info); 0x0000 = unknown */
	if (data[10] || data[11]) {
		info->block_size = (unsigned)(data[10] & 0x1F) + 1;
		info->blocks = (unsigned)data[11] + 1;
	} else {
		info->block_size = info->blocks = 0;
	}
	info->ic_ref = data[12];
	return 0;
}

int feig_parse_config(const uint8_t *data, size_t len, uint8_t rec[FEIG_CFG_LEN])
{
	if (len != FEIG_CFG_LEN)
		return -EBADMSG;
	memcpy(rec, data, FEIG_CFG_LEN);
	return 0;
}

int feig_build_write_blocks(const uint8_t uid[FEIG_UID_LEN], unsigned first, unsigned count,
			    unsigned block_size, const uint8_t *mem, uint8_t *out,
			    size_t out_size)
{
	size_t bytes = (size_t)count * block_size, len = 5 + FEIG_UID_LEN + bytes;

	if (!count || !block_size || block_size > 32 || first + count > 256 ||
	    bytes > FEIG_WRITE_MAX)
		return -EINVAL;
	if (out_size < len)
		return -EMSGSIZE;
	out[0] = FEIG_ISO_WRITE_MULTIPLE;
	out[1] = FEIG_MODE_ADDRESSED;
	memcpy(out + 2, uid, FEIG_UID_LEN);
	out[10] = (uint8_t)first;
	out[11] = (uint8_t)count;
	out[12] = (uint8_t)block_size;
	for (size_t b = 0; b < count; b++)
		for (size_t i = 0; i < block_size; i++)
			out[13 + b * block_size + i] = mem[b * block_size + block_size - 1 - i];
	return (int)len;
}
