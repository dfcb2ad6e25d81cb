/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the FEIG ISO-Host frame decoder and answer parsers with whatever a
 * reader (or a noisy RS-485 line) might send: the input is cut into frames
 * the way the plugin does it, each is decoded, and the data of a frame
 * that decodes is handed to every parser.  A frame that decodes must
 * re-encode to the same bytes (standard frames).
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "feig_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void parse_all(const struct feig_answer *a)
{
	struct feig_inventory_tag tags[16];
	struct feig_sysinfo info;
	uint8_t mem[256];
	size_t n = 0, bs = 0;

	if (feig_parse_inventory(a->data, a->data_len, tags, 16, &n) == 0)
		sink += n;
	if (feig_parse_read_blocks(a->data, a->data_len, mem, sizeof(mem), &n, &bs) == 0) {
		assert(n * bs <= sizeof(mem));
		sink += n * bs;
	}
	if (feig_parse_sysinfo(a->data, a->data_len, &info) == 0)
		sink += info.afi;
	uint8_t rec[FEIG_CFG_LEN];
	if (feig_parse_config(a->data, a->data_len, rec) == 0)
		sink += rec[FEIG_CFG4_ISO15693_AFI];
	/* the block write request from what came: never past its buffer,
	 * and each block goes out reversed */
	if (a->data_len >= 2 + FEIG_UID_LEN) {
		uint8_t req[5 + FEIG_UID_LEN + FEIG_WRITE_MAX];
		unsigned first = a->data[0], block_size = a->data[1] & 0x3F;
		const uint8_t *blocks = a->data + 2 + FEIG_UID_LEN;
		size_t have = a->data_len - 2 - FEIG_UID_LEN;
		unsigned count = block_size ? (unsigned)(have / block_size) : 0;
		int len = feig_build_write_blocks(a->data + 2, first, count, block_size, blocks,
						  req, sizeof(req));
		if (len > 0) {
			assert((size_t)len == 13 + (size_t)count * block_size);
			assert(req[13] == blocks[block_size - 1]);
			sink += (size_t)len;
		}
	}
	sink += strlen(feig_status_text(a->status));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		size_t len = 0;
		int r = feig_frame_length(data + pos, size - pos, &len);
		if (r < 0 || len > size - pos) {
			pos++; /* resync: drop a byte */
			continue;
		}
		struct feig_answer a;
		if (feig_answer_decode(data + pos, len, &a) == 0) {
			assert(a.data + a.data_len <= data + pos + len);
			parse_all(&a);
			if (data[pos] != 0x02) {
				/* request and answer share the layout: STATUS+DATA
				 * as the request data re-encodes the same frame */
				uint8_t out[300], body[256];
				body[0] = a.status;
				memcpy(body + 1, a.data, a.data_len);
				int n = feig_frame_encode(a.addr, a.cmd, body, a.data_len + 1, out,
							  sizeof(out));
				assert(n == (int)len && !memcmp(out, data + pos, len));
			}
		}
		pos += len;
	}
	return 0;
}
