/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tag data model: what an item tag says, whichever of the on-tag formats
 * (ISO 28560-3 / Danish, ISO 28560-2, 3M RFID501) wrote it.
 *
 * One entry point, tag_decode(), is called by the core for every tag read.
 * It allocates nothing: the result is a fixed-size struct tag_item the caller
 * owns (about 6 KiB; fine on the stack).  Errors come back as a negative
 * errno plus a structured reason in item->error; everything the decoder
 * noticed but could live with is in item->findings[].
 *
 * Reference: /work/shared/reference/rfid.md §1 (layouts), §2 (security).
 */
#ifndef CIRCD_TAGS_TAG_H
#define CIRCD_TAGS_TAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAG_ID_MAX 64        /* primary item id (long ids live in an extension block) */
#define TAG_ISIL_MAX 16      /* ISO 15511: an ISIL has at most 16 characters */
#define TAG_TEXT_MAX 128     /* any other decoded value; longer ones are cut, with a finding */
#define TAG_ELEMENTS_MAX 32  /* ISO 28560-1 defines 26 elements; room for duplicates */
#define TAG_RAW_MAX 8
#define TAG_RAW_DATA_MAX 64
#define TAG_FINDINGS_MAX 12
#define TAG_MEM_MAX 1024     /* ICODE SLIX2 has 316 bytes; UHF user banks can be larger */

enum tag_model {
	TAG_MODEL_UNKNOWN = 0,
	TAG_MODEL_BLANK,       /* factory-fresh or erased: nothing to decode */
	TAG_MODEL_ISO28560_3,  /* fixed basic block with CRC (Danish data model) */
	TAG_MODEL_ISO28560_2,  /* ISO/IEC 15962 no-directory objects, DSFID 0x06 */
	TAG_MODEL_RFID501,     /* 3M legacy, decode only */
};

enum tag_byte_order {
	TAG_ORDER_AS_READ = 0,       /* memory as the reader returned it */
	TAG_ORDER_BLOCKS_REVERSED,   /* each block's bytes reversed (FEIG ISO-Host, some vendors) */
};

/* Why a tag could not be decoded, or what was odd about it. */
enum tag_reason {
	TAG_R_NONE = 0,
	TAG_R_CRC,               /* 28560-3 CRC mismatch (both byte orders, both forms) */
	TAG_R_TRUNCATED,         /* memory shorter than the layout needs */
	TAG_R_COMPACTION,        /* 28560-2: data not valid for its compaction scheme */
	TAG_R_OVERRUN,           /* an element or extension block runs past the memory */
	TAG_R_SET_ZERO,          /* set information says 0 parts */
	TAG_R_SET_ORDINAL,       /* ordinal part 0 or greater than the number of parts */
	TAG_R_SET_FORMAT,        /* 28560-2 set information is not 2n digits */
	TAG_R_BLANK,             /* all 0x00, all 0xFF, or a 3M blank (0x55) */
	TAG_R_UNKNOWN_FORMAT,    /* no model recognised the content */
	TAG_R_OID_ORDER,         /* 28560-2: OID 1 not first / OID 2 not second */
	TAG_R_OID_INVALID,       /* 28560-2: OID 0, or a duplicate element */
	TAG_R_EXT_CHECKSUM,      /* 28560-3 extension block XOR check failed */
	TAG_R_EXT_MALFORMED,     /* extension block shorter than its header */
	TAG_R_NO_PRIMARY_ID,     /* empty, or "long id" marker without the extension block */
	TAG_R_VALUE_TOO_LONG,    /* value cut to fit struct tag_item */
	TAG_R_TABLE_FULL,        /* more elements / raw blocks than struct tag_item holds */
	TAG_R_ISIL,              /* owner ISIL implausible */
	TAG_R_ISIL_COUNTRY_REPEATED, /* DDM library field repeats the country */
	TAG_R_CONTENT_PARAMETER, /* 28560-2 content parameter disagrees with the elements */
	TAG_R_SWAPPED_NIBBLES,   /* Bibliotheca: usage and version nibbles swapped */
	TAG_R_VERSION,           /* unexpected 28560-3 version */
	TAG_R_USAGE,             /* type of usage outside the defined values */
	TAG_R_DSFID_MISMATCH,    /* the DSFID named another model than the content */
	TAG_R_BLOCKS_REVERSED,   /* decoded after reversing each block */
	TAG_R_NO_TERMINATOR,     /* 28560-2: memory full without a 0x00 precursor */
	TAG_R_ILLEGAL_CHAR,      /* a text value contains control characters */
	TAG_R__MAX
};

enum tag_severity {
	TAG_SEV_INFO = 0,  /* worth knowing (reversed blocks, vendor quirk) */
	TAG_SEV_WARN,      /* decoded, but the tag should be rewritten */
	TAG_SEV_ERROR,     /* not decodable */
};

struct tag_finding {
	uint8_t reason;    /* enum tag_reason */
	uint8_t severity;  /* enum tag_severity */
	uint16_t offset;   /* byte offset in the (normalised) memory, 0xFFFF = none */
};

/* One ISO 28560-1 data element as found (28560-2) or mapped from an
 * extension block (28560-3).  value is text; for octet strings and
 * application-defined data other than ISIL it is lower-case hex. */
struct tag_element {
	uint8_t oid;        /* relative OID 1..127 */
	uint8_t compaction; /* 0..7 as stored, or TAG_COMPACTION_ISIL */
	uint8_t locked;     /* encode: align to blocks so it can be locked */
	uint8_t is_hex;     /* value is hex of the raw octets */
	uint16_t len;       /* strlen(value) */
	char value[TAG_TEXT_MAX + 1];
};

#define TAG_COMPACTION_ISIL 8 /* stored as code 0; ISO 28560-2 ISIL compaction */
#define TAG_COMPACTION_AUTO 0xFF /* encode: choose the shortest */

/* Data a decoder could not map: unknown OIDs, unknown extension blocks. */
struct tag_raw {
	uint32_t id;        /* 28560-2: OID; 28560-3: extension block id */
	uint8_t compaction; /* 28560-2 only */
	uint16_t offset;    /* where it starts in the normalised memory */
	uint16_t orig_len;  /* length on the tag */
	uint16_t len;       /* bytes kept in data (<= TAG_RAW_DATA_MAX) */
	uint8_t data[TAG_RAW_DATA_MAX];
};

struct tag_item {
	uint8_t model;          /* enum tag_model */
	uint8_t byte_order;     /* enum tag_byte_order */
	int16_t dsfid;          /* the hint given, -1 = none */
	uint8_t version;        /* 28560-3 version nibble; 0 otherwise */
	uint8_t basic_len;      /* 28560-3: 32 or 34 */
	uint16_t mem_len;       /* bytes decoded */
	uint16_t crc_stored;    /* 28560-3 */
	uint16_t crc_computed;

	char primary_id[TAG_ID_MAX + 1];
	char owner_isil[TAG_ISIL_MAX + 1];  /* as stored: "DE526" (-3), "US-InU-Mu" (-2) */
	char isil_country[3];               /* Danish split: ISO 3166 alpha-2, or "" */
	char isil_library[TAG_ISIL_MAX + 1];/* the rest of the ISIL */

	bool set_present;       /* false: single-part item */
	uint16_t parts_total;   /* number of parts in item */
	uint16_t part_ordinal;  /* ordinal part number */
	int16_t usage;          /* ISO 28560-1 type of usage, main << 4 | sub; -1 = absent */

	uint8_t media_format_oid; /* 7 ONIX, 8 MARC, 19 other; 0 = none */
	char media_format[TAG_TEXT_MAX + 1];
	char shelf_location[TAG_TEXT_MAX + 1];
	char title[TAG_TEXT_MAX + 1];
	char local_data[3][TAG_TEXT_MAX + 1]; /* A (OID 15), B (16), C (26) */

	uint32_t content_parameter; /* 28560-2: bit n set = OID n announced */

	/* 3M RFID501 extras */
	uint8_t rfid501_item_type;
	uint16_t rfid501_branch;
	uint32_t rfid501_library;
	uint32_t rfid501_custom;

	uint8_t n_elements;
	struct tag_element elements[TAG_ELEMENTS_MAX];
	uint8_t n_raw;
	struct tag_raw raw[TAG_RAW_MAX];

	uint8_t error;          /* enum tag_reason when tag_decode() failed */
	uint16_t error_offset;
	uint8_t n_findings;
	struct tag_finding findings[TAG_FINDINGS_MAX];
};

struct tag_decode_options {
	uint32_t block_size;       /* bytes per block; 0 = 4 (ICODE) */
	bool reader_reverses;      /* try reversed blocks first (FEIG ISO-Host) */
	bool order_known;          /* try only that order: the site knows its tags */
	bool only_model;           /* decode only as `model`, no detection */
	uint8_t model;             /* enum tag_model, with only_model */
};

/*
 * Decode tag memory.  dsfid is the tag's DSFID (-1 = not read); it is a hint,
 * the content decides.  Returns 0, or a negative errno with item->error set:
 *   -ENODATA  blank tag          -EBADMSG  recognised but damaged (CRC, overrun,
 *   -ENOMSG   unknown format               compaction, order, truncation)
 *   -EINVAL   bad arguments
 * Only the first TAG_MEM_MAX bytes are looked at.  Offsets in findings refer
 * to the memory in the byte order that decoded (item->byte_order).
 */
int tag_decode(const uint8_t *mem, size_t len, int dsfid, const struct tag_decode_options *opts,
	       struct tag_item *item);

/* Clear an item; usage = -1, dsfid = -1.  Use before filling one to encode. */
void tag_item_init(struct tag_item *item);

struct tag_encode_options {
	uint32_t block_size;  /* 0 = 4 */
	uint8_t basic_len;    /* 28560-3: 32 or 34 (0 = 34) */
	bool reverse_blocks;  /* write each block reversed (for FEIG-style writers) */
	uint32_t lock_oids;   /* 28560-2: bit n = OID n will be locked: align it to blocks */
	size_t pad_to;        /* fill with 0x00 up to this many bytes (0 = no fill) */
};

/* Encoders write into out (out_size bytes) and report the bytes used.
 * -ENOSPC: does not fit; -EINVAL: a value cannot be represented. */
int tag_encode_28560_3(const struct tag_item *item, const struct tag_encode_options *opts,
		       uint8_t *out, size_t out_size, size_t *out_len);
int tag_encode_28560_2(const struct tag_item *item, const struct tag_encode_options *opts,
		       uint8_t *out, size_t out_size, size_t *out_len);

/* Names and helpers for humans and JSON. */
const char *tag_model_name(unsigned model);
const char *tag_reason_name(unsigned reason);   /* "crc-mismatch" */
const char *tag_reason_text(unsigned reason);   /* one sentence */
const char *tag_severity_name(unsigned severity);
const char *tag_oid_name(unsigned oid);         /* "owner-institution" */
const char *tag_usage_text(int usage);          /* main category in words */

/* Append an element for encoding (or by decoders).  -ENOSPC when full,
 * -EMSGSIZE when the value is too long. */
int tag_item_add_element(struct tag_item *item, unsigned oid, const char *value, unsigned compaction);
const struct tag_element *tag_item_find_element(const struct tag_item *item, unsigned oid);
bool tag_item_has_finding(const struct tag_item *item, unsigned reason);

/* ISIL plausibility (ISO 15511): 1..16 of A-Z a-z 0-9 - / :, starting with a
 * letter; with_prefix requires "XX-..." (28560-2 form). */
bool tag_isil_plausible(const char *isil, bool with_prefix);

/* Reverse the bytes within each block of size block_size, in place. */
void tag_reverse_blocks(uint8_t *mem, size_t len, uint32_t block_size);

#endif
