/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 3M reader frames: BCC, encode, scan (resynchronise), decode, answer parsers. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "m3m_frame.h"

/* App. C: shift in each byte MSB first against the MSB of the CRC, poly
 * 0x1021, preset 0xFFFF; the result is XORed with the preset. */
uint16_t m3m_crc16(const uint8_t *data, size_t len)
{
	uint16_t crc = 0xFFFF;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(data[i] << 8);
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc ^ 0xFFFF;
}

const char *m3m_error_text(uint8_t code)
{
	switch (code) {
	case M3M_OK: return "ok";
	case M3M_NOT_IMPLEMENTED: return "command not implemented";
	case M3M_NO_TRANSPONDER: return "no transponder";
	case M3M_UNKNOWN_ERROR: return "unknown error";
	case M3M_MEM_NOT_AVAILABLE: return "memory not available";
	case M3M_MEM_LOCKED: return "memory locked";
	case M3M_MEM_NOT_READ: return "memory not read";
	case M3M_MEM_NOT_PUT: return "memory not written";
	case M3M_TAG_CMD_NOT_SUPPORTED: return "tag: command not supported";
	case M3M_TAG_CMD_UNKNOWN: return "tag: command unknown";
	case M3M_TAG_OPTION_NOT_SUPPORTED: return "tag: option not supported";
	case M3M_NOT_SUPPORTED: return "not supported by the tag";
	case M3M_OPTION_NOT_SUPPORTED: return "option not supported";
	case M3M_PARAM_ERROR: return "parameter error";
	case M3M_USER_CANCEL: return "cancelled";
	case M3M_NOT_ENOUGH_MEMORY: return "reader out of memory";
	default: return "unknown error code";
	}
}

int m3m_frame_encode(uint8_t cmd, const uint8_t *data, size_t data_len, uint8_t *out,
		     size_t out_size)
{
	size_t total = 1 + 2 + 1 + data_len + 2;
	size_t n = total - 3; /* bytes after the length field */

	if (total > out_size || total > M3M_FRAME_MAX)
		return -EMSGSIZE;
	out[0] = M3M_START;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)n;
	out[3] = cmd;
	if (data_len)
		memcpy(out + 4, data, data_len);
	uint16_t crc = m3m_crc16(out + 1, total - 3);
	out[total - 2] = (uint8_t)(crc >> 8);
	out[total - 1] = (uint8_t)crc;
	return (int)total;
}

int m3m_frame_scan(const uint8_t *buf, size_t len, struct m3m_scan *scan)
{
	size_t pending = len;            /* first incomplete candidate */
	unsigned rejected = 0, incomplete = 0, rejected_at_pending = 0;
	bool bad_crc = false, bad_crc_at_pending = false;

	*scan = (struct m3m_scan){ 0 };
	for (size_t p = 0; p < len; p++) {
		if (buf[p] != M3M_START)
			continue;
		if (len - p < 3) {
			if (pending == len) {
				pending = p;
				rejected_at_pending = rejected;
				bad_crc_at_pending = bad_crc;
			}
			break; /* nothing complete can start later */
		}
		size_t n = (size_t)buf[p + 1] << 8 | buf[p + 2];
		size_t total = 3 + n;
		/* at least CMD and the BCC; never longer than we can hold */
		if (n < 3 || total > M3M_FRAME_MAX) {
			rejected++;
			continue;
		}
		if (len - p < total) {
			incomplete++;
			if (pending == len) {
				pending = p;
				rejected_at_pending = rejected;
				bad_crc_at_pending = bad_crc;
			}
			continue;
		}
		uint16_t crc = (uint16_t)(buf[p + total - 2] << 8 | buf[p + total - 1]);
		if (m3m_crc16(buf + p + 1, total - 3) != crc) {
			rejected++;
			bad_crc = true;
			continue;
		}
		/* a frame: every candidate before it was noise (incomplete
		 * ones included, they would have to overlap this frame) */
		scan->skip = p;
		scan->frame_len = total;
		scan->rejected = rejected + incomplete;
		scan->bad_crc = bad_crc;
		return 1;
	}
	scan->skip = pending;
	scan->rejected = pending == len ? rejected : rejected_at_pending;
	scan->bad_crc = pending == len ? bad_crc : bad_crc_at_pending;
	return 0;
}

int m3m_answer_decode(const uint8_t *frame, size_t len, struct m3m_answer *a)
{
	/* D6 LEN(2) CMD ERROR BCC(2) at least */
	if (len < 7 || frame[0] != M3M_START)
		return -EBADMSG;
	if (((size_t)frame[1] << 8 | frame[2]) != len - 3)
		return -EBADMSG;
	uint16_t crc = (uint16_t)(frame[len - 2] << 8 | frame[len - 1]);
	if (m3m_crc16(frame + 1, len - 3) != crc)
		return -EILSEQ;
	a->cmd = frame[3];
	a->error = frame[4];
	a->data = frame + 5;
	a->data_len = len - 7;
	return 0;
}

int m3m_parse_inventory(const uint8_t *data, size_t len, struct m3m_inventory_tag *tags,
			size_t max, size_t *count)
{
	*count = 0;
	if (len < 3)
		return -EBADMSG;
	uint8_t options = data[1];
	size_t n = data[2];
	if (!(options & M3M_INV_UID))
		return -EBADMSG; /* nothing to tell the tags apart by */
	size_t per = M3M_UID_LEN + ((options & M3M_INV_DSFID) ? 1 : 0);
	if (len != 3 + n * per)
		return -EBADMSG;
	for (size_t i = 0; i < n && *count < max; i++) {
		const uint8_t *s = data + 3 + i * per;
		struct m3m_inventory_tag *t = &tags[*count];
		/* §7.1: the DSFID comes BEFORE the address */
		t->dsfid = (options & M3M_INV_DSFID) ? *s++ : -1;
		memcpy(t->uid, s, M3M_UID_LEN);
		(*count)++;
	}
	return 0;
}

int m3m_parse_read_blocks(const uint8_t *data, size_t len, const uint8_t uid[M3M_UID_LEN],
			  unsigned first, uint8_t *mem, size_t mem_size, size_t *blocks,
			  size_t *block_size, uint8_t *block_error)
{
	if (len < M3M_UID_LEN + 1 || memcmp(data, uid, M3M_UID_LEN))
		return -EBADMSG;
	size_t n = data[M3M_UID_LEN], rest = len - M3M_UID_LEN - 1;
	if (n == 0) {
		if (rest)
			return -EBADMSG;
		*blocks = 0;
		return 0;
	}
	/* each entry is BLOCK# LOCK/ERR DATA: the size follows from the length */
	if (rest % n)
		return -EBADMSG;
	size_t bs = rest / n;
	if (bs < 3 || bs - 2 > M3M_BLOCK_MAX)
		return -EBADMSG;
	bs -= 2;
	if (n * bs > mem_size)
		return -EMSGSIZE;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = data + M3M_UID_LEN + 1 + i * (2 + bs);
		if (e[0] != (uint8_t)(first + i))
			return -EBADMSG;
		/* 0 unlocked, 1 user locked, 2 factory locked, 3 both; more is an error */
		if (e[1] > 3) {
			*block_error = e[1];
			return -EIO;
		}
		memcpy(mem + i * bs, e + 2, bs);
	}
	*blocks = n;
	*block_size = bs;
	return 0;
}

int m3m_parse_uid_byte(const uint8_t *data, size_t len, const uint8_t uid[M3M_UID_LEN],
		       int *value)
{
	if ((len != M3M_UID_LEN && len != M3M_UID_LEN + 1) || memcmp(data, uid, M3M_UID_LEN))
		return -EBADMSG;
	*value = len > M3M_UID_LEN ? data[M3M_UID_LEN] : -1;
	return 0;
}

int m3m_parse_tag_info(const uint8_t *data, size_t len, const uint8_t uid[M3M_UID_LEN],
		       struct m3m_tag_info *info)
{
	size_t pos = M3M_UID_LEN + 1;

	*info = (struct m3m_tag_info){ 0 };
	if (len < pos || memcmp(data, uid, M3M_UID_LEN))
		return -EBADMSG;
	info->avail = data[M3M_UID_LEN];
	size_t want = pos + ((info->avail & M3M_INFO_DSFID) ? 1 : 0) +
		      ((info->avail & M3M_INFO_AFI) ? 1 : 0) +
		      ((info->avail & M3M_INFO_MEMSIZE) ? 2 : 0) +
		      ((info->avail & M3M_INFO_ICREF) ? 2 : 0);
	if (len != want)
		return -EBADMSG;
	if (info->avail & M3M_INFO_DSFID)
		info->dsfid = data[pos++];
	if (info->avail & M3M_INFO_AFI)
		info->afi = data[pos++];
	if (info->avail & M3M_INFO_MEMSIZE) {
		/* block size - 1, block count - 1 */
		info->block_size = (unsigned)data[pos] + 1;
		info->blocks = (unsigned)data[pos + 1] + 1;
		pos += 2;
	}
	if (info->avail & M3M_INFO_ICREF)
		info->ic_ref = (uint16_t)(data[pos] << 8 | data[pos + 1]);
	return 0;
}

int m3m_parse_version(const uint8_t *data, size_t len, uint8_t version[4])
{
	if (len != 4)
		return -EBADMSG;
	memcpy(version, data, 4);
	return 0;
}
