/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the ISO 28560-2 decoder (both byte orders), and re-encoding what decodes.
 * The first byte picks the block size hint; the rest is tag memory.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tags/tag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tag_item item, again;
	struct tag_decode_options o = { .only_model = true, .model = TAG_MODEL_ISO28560_2 };
	uint8_t out[TAG_MEM_MAX];
	size_t len;

	if (size < 1)
		return 0;
	o.block_size = (data[0] & 1) ? 8 : 4;
	o.reader_reverses = data[0] & 2;
	int r = tag_decode(data + 1, size - 1, -1, &o, &item);
	sink += (unsigned)r + item.n_findings + (unsigned)strlen(item.primary_id);
	if (r == 0) {
		/* what decodes must re-encode and decode to the same id */
		struct tag_decode_options plain = { .only_model = true, .order_known = true, .model = TAG_MODEL_ISO28560_2 };
		int e = tag_encode_28560_2(&item, NULL, out, sizeof(out), &len);
		if (e == 0 && tag_decode(out, len, -1, &plain, &again) == 0 &&
		    strcmp(again.primary_id, item.primary_id) != 0)
			__builtin_trap();
		sink += (unsigned)e;
	}
	return 0;
}
