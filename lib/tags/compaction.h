/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO/IEC 15962 compaction schemes as used by ISO 28560-2 (rfid.md §1.3):
 * 0 application-defined (ISIL compaction for ISIL elements), 1 integer,
 * 2 numeric, 3 5-bit, 4 6-bit, 5 7-bit, 6 octet string, 7 UTF-8.
 */
#ifndef CIRCD_TAGS_COMPACTION_H
#define CIRCD_TAGS_COMPACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tag_compaction {
	TAG_CMP_APPLICATION = 0,
	TAG_CMP_INTEGER = 1,
	TAG_CMP_NUMERIC = 2,
	TAG_CMP_5BIT = 3,
	TAG_CMP_6BIT = 4,
	TAG_CMP_7BIT = 5,
	TAG_CMP_OCTET = 6,
	TAG_CMP_UTF8 = 7,
	TAG_CMP_ISIL = 8, /* stored as 0 */
};

/*
 * Decode `len` compacted bytes into NUL-terminated text (out_size >= 1).
 * Octet strings that are not printable ASCII, and application-defined data,
 * come out as lower-case hex with *is_hex set.  *cut is set when out was too
 * small.  Returns 0 or -EBADMSG (data illegal for the scheme).
 */
int tag_compaction_decode(unsigned scheme, const uint8_t *in, size_t len, char *out, size_t out_size,
			  bool *is_hex, bool *cut);

/* Encode text; is_hex says text is hex of the octets (schemes 0 and 6).
 * Returns the number of bytes written, -EINVAL (not representable) or
 * -ENOSPC. */
int tag_compaction_encode(unsigned scheme, const char *text, bool is_hex, uint8_t *out, size_t out_size);

/* Can text be represented in scheme (round-trip exact)? */
bool tag_compaction_fits(unsigned scheme, const char *text);

/* The scheme giving the fewest bytes (ties: the lower code); isil allows
 * ISIL compaction.  Always succeeds: UTF-8 takes anything. */
unsigned tag_compaction_choose(const char *text, bool isil);

#endif
