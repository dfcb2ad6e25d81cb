/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the 3M RFID501 decoder (both byte orders).
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
	struct tag_item item;
	struct tag_decode_options o = { .only_model = true, .model = TAG_MODEL_RFID501 };

	if (size < 1)
		return 0;
	o.block_size = (data[0] & 1) ? 8 : 4;
	o.reader_reverses = data[0] & 2;
	int r = tag_decode(data + 1, size - 1, -1, &o, &item);
	sink += (unsigned)r + item.n_findings + (unsigned)strlen(item.primary_id);
	return 0;
}
