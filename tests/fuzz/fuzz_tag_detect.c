/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: tag_decode() as the daemon calls it, format detection and
 * all.  The first byte is the DSFID (0xFF = not read), the second the
 * option bits; the rest is tag memory.
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
	struct tag_decode_options o = { 0 };

	if (size < 2)
		return 0;
	int dsfid = data[0] == 0xFF ? -1 : data[0];
	o.reader_reverses = data[1] & 1;
	o.block_size = (data[1] & 2) ? 8 : (data[1] & 4) ? 3 : 4;
	int r = tag_decode(data + 2, size - 2, dsfid, &o, &item);
	sink += (unsigned)r + item.model + item.n_elements + (unsigned)strlen(item.title);
	return 0;
}
