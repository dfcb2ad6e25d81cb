/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the 3M reader frame scanner, decoder and answer parsers with
 * whatever a reader (or a noisy USB-serial line) might send: the input is
 * scanned for frames the way the plugin does it (hunting for 0xD6,
 * checking length and BCC), each frame found is decoded, and its data is
 * handed to every parser.  A frame that decodes must re-encode to the same
 * bytes (answers and requests share the layout: ERROR + DATA as request
 * data).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "m3m_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void parse_all(const struct m3m_answer *a)
{
	struct m3m_inventory_tag tags[16];
	struct m3m_tag_info info;
	uint8_t mem[256], version[4], block_error = 0;
	size_t n = 0, bs = 0;
	int value = -1;
	static const uint8_t some_uid[M3M_UID_LEN] = { 0xE0, 0x04, 0x01, 0, 0, 0, 0, 1 };
	/* the parsers check the UID echo: try the one in the answer */
	const uint8_t *uid = a->data_len >= M3M_UID_LEN ? a->data : some_uid;

	if (m3m_parse_inventory(a->data, a->data_len, tags, 16, &n) == 0) {
		assert(n <= 16);
		sink += n;
	}
	for (unsigned first = 0; first < 2; first++) {
		int r = m3m_parse_read_blocks(a->data, a->data_len, uid, first, mem, sizeof(mem),
					      &n, &bs, &block_error);
		if (r == 0) {
			assert(n * bs <= sizeof(mem));
			assert(n == 0 || (bs >= 1 && bs <= M3M_BLOCK_MAX));
			sink += n * bs;
		} else if (r == -EIO) {
			assert(block_error > 3);
		}
	}
	if (m3m_parse_uid_byte(a->data, a->data_len, uid, &value) == 0)
		assert(value >= -1 && value <= 255);
	if (m3m_parse_tag_info(a->data, a->data_len, uid, &info) == 0)
		sink += info.afi + info.blocks;
	if (m3m_parse_version(a->data, a->data_len, version) == 0)
		sink += version[0];
	sink += strlen(m3m_error_text(a->error));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct m3m_scan scan;
		int found = m3m_frame_scan(data + pos, size - pos, &scan);
		assert(scan.skip <= size - pos);
		if (!found)
			break; /* the rest would wait for more input */
		assert(data[pos + scan.skip] == M3M_START);
		assert(scan.frame_len >= 6 && scan.frame_len <= size - pos - scan.skip);
		const uint8_t *frame = data + pos + scan.skip;
		struct m3m_answer a;
		if (m3m_answer_decode(frame, scan.frame_len, &a) == 0) {
			assert(a.data + a.data_len + 2 == frame + scan.frame_len);
			parse_all(&a);
			uint8_t out[M3M_FRAME_MAX], body[M3M_FRAME_MAX];
			body[0] = a.error;
			memcpy(body + 1, a.data, a.data_len);
			int n = m3m_frame_encode(a.cmd, body, a.data_len + 1, out, sizeof(out));
			assert(n == (int)scan.frame_len && !memcmp(out, frame, scan.frame_len));
		}
		pos += scan.skip + scan.frame_len;
	}
	return 0;
}
