/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO 28560-2: the worked example of ISO/TS 28560-4:2014 p.52 (same element
 * encoding), a vector per compaction scheme constructed from the rules in
 * rfid.md §1.3, block alignment, every validation reason, and
 * encode -> decode over random items.
 */
#include "config.h"

#include "test_tag_util.h"
#include "tags/compaction.h"
#include "tags/tag.h"

static const char annex[] =
	"91 00 05 1c be 99 1a 14 02 01 d0 14 02 04 b3 46 07 44 1c b6"
	" e2 e3 35 d6 83 02 07 ac c0 9e ba a0 6f 6b 00 00";

static const struct tag_decode_options only2 = { .only_model = true, .model = TAG_MODEL_ISO28560_2 };

static void test_annex_decode(void **state)
{
	(void)state;
	uint8_t m[64];
	struct tag_item it;
	size_t n = unhex(annex, m, sizeof(m));

	assert_int_equal(tag_decode(m, n, 0x06, NULL, &it), 0);
	assert_int_equal(it.model, TAG_MODEL_ISO28560_2);
	assert_string_equal(it.primary_id, "123456789012");
	assert_int_equal(it.parts_total, 12);
	assert_int_equal(it.part_ordinal, 3);
	assert_string_equal(it.shelf_location, "QA268.L55");
	assert_string_equal(it.owner_isil, "US-InU-Mu");
	assert_string_equal(it.isil_country, "US");
	assert_string_equal(it.isil_library, "InU-Mu");
	assert_int_equal(it.content_parameter, (1u << 3) | (1u << 4) | (1u << 6));
	assert_int_equal(it.n_elements, 5);
	assert_int_equal(it.elements[0].compaction, TAG_CMP_INTEGER);
	assert_int_equal(it.elements[3].compaction, TAG_CMP_6BIT);
	assert_int_equal(it.elements[4].compaction, TAG_CMP_ISIL);
	/* the memory ends without a terminator: that is allowed */
	assert_true(tag_item_has_finding(&it, TAG_R_NO_TERMINATOR));
	assert_false(tag_item_has_finding(&it, TAG_R_CONTENT_PARAMETER));
	assert_false(tag_item_has_finding(&it, TAG_R_DSFID_MISMATCH));

	/* the DSFID is a hint: without it the content still decides */
	assert_int_equal(tag_decode(m, n, -1, NULL, &it), 0);
	assert_int_equal(it.model, TAG_MODEL_ISO28560_2);
	/* and a wrong one is only noted */
	assert_int_equal(tag_decode(m, n, 0x3E, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_DSFID_MISMATCH));
}

static void test_annex_encode_aligned(void **state)
{
	(void)state;
	struct tag_item in, it;
	uint8_t out[64], want[64];
	size_t len;
	struct tag_encode_options eo = { .lock_oids = 1u << 1 | 1u << 3 };

	tag_item_init(&in);
	strcpy(in.primary_id, "123456789012");
	in.set_present = true;
	in.parts_total = 12;
	in.part_ordinal = 3;
	strcpy(in.shelf_location, "QA268.L55");
	strcpy(in.owner_isil, "US-InU-Mu");
	assert_int_equal(tag_encode_28560_2(&in, &eo, out, sizeof(out), &len), 0);
	/* OID 1 and OID 3 lockable: each starts and ends on a 4-byte block;
	 * the content parameter before OID 3 takes an offset byte to get there */
	size_t n = unhex("91 00 05 1c be 99 1a 14  82 00 01 d0  83 02 07 ac c0 9e ba a0 6f 6b 00 00"
			 "  14 02 04 b3  46 07 44 1c b6 e2 e3 35 d6  00", want, sizeof(want));
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
	assert_int_equal(tag_decode(out, len, 6, NULL, &it), 0);
	assert_string_equal(it.owner_isil, "US-InU-Mu");

	/* without locks: no padding at all */
	eo.lock_oids = 0;
	assert_int_equal(tag_encode_28560_2(&in, &eo, out, sizeof(out), &len), 0);
	n = unhex("11 05 1c be 99 1a 14  02 01 d0  03 07 ac c0 9e ba a0 6f 6b"
		  "  14 02 04 b3  46 07 44 1c b6 e2 e3 35 d6  00", want, sizeof(want));
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);

	/* an element can ask for alignment itself (OID 22, beyond the mask) */
	struct tag_item in2 = in;
	assert_int_equal(tag_item_add_element(&in2, 22, "ALT", TAG_COMPACTION_AUTO), 0);
	in2.elements[in2.n_elements - 1].locked = 1;
	assert_int_equal(tag_encode_28560_2(&in2, &eo, out, sizeof(out), &len), 0);
	/* the OID 22 element is last: it starts and ends on a block */
	assert_int_equal(len % 4, 1); /* + terminator */
	assert_int_equal(out[len - 1], 0);
	assert_int_equal((len - 1) % 4, 0);
	size_t at = 0;
	while (at + 1 < len && !((out[at] & 0x8F) == 0x8F && out[at + 1] == 22 - 15))
		at++;
	assert_true(at + 1 < len);
	assert_int_equal(at % 4, 0);
	assert_int_equal(tag_decode(out, len, 6, NULL, &it), 0);
	assert_string_equal(tag_item_find_element(&it, 22)->value, "ALT");

	/* 8-byte blocks */
	eo.lock_oids = 1u << 1;
	eo.block_size = 8;
	assert_int_equal(tag_encode_28560_2(&in, &eo, out, sizeof(out), &len), 0);
	assert_int_equal(out[0], 0x91);
	assert_int_equal(out[1], 0);   /* 3 + 5 = 8: no padding needed */
	assert_int_equal(tag_decode(out, len, 6, &(struct tag_decode_options){ .block_size = 8 }, &it), 0);
}

struct scheme_vector {
	unsigned scheme;
	const char *text;
	const char *hex;
};

/* constructed from the packing rules (rfid.md §1.3) */
static const struct scheme_vector vectors[] = {
	{ TAG_CMP_INTEGER, "123456789012", "1cbe991a14" },
	{ TAG_CMP_INTEGER, "1203", "04b3" },
	{ TAG_CMP_NUMERIC, "0123", "0123" },
	{ TAG_CMP_NUMERIC, "012", "012f" },
	{ TAG_CMP_5BIT, "ABC", "0886" },
	{ TAG_CMP_6BIT, "QA268.L55", "441cb6e2e335d6" },
	{ TAG_CMP_6BIT, "A1B", "0710a0" },   /* 18 bits + pad "100000": a whole pad character */
	{ TAG_CMP_7BIT, "ab", "c38b" },
	{ TAG_CMP_7BIT, "abcdefg", "c38b1e4cb9b3ff" }, /* 49 bits: pad of 7 ones = DEL, dropped */
	{ TAG_CMP_OCTET, "Hello", "48656c6c6f" },
	{ TAG_CMP_UTF8, "\xc3\x86" "ble", "c386626c65" },
	{ TAG_CMP_ISIL, "US-InU-Mu", "acc09ebaa06f6b" },
	{ TAG_CMP_ISIL, "DK-761500", "22c1e761500f" },
	{ TAG_CMP_ISIL, "Ab1", "0f45f1" },
};

static void test_scheme_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct scheme_vector *v = &vectors[i];
		uint8_t want[32], got[32];
		size_t n = unhex(v->hex, want, sizeof(want));
		char text[TAG_TEXT_MAX + 1];
		bool is_hex, cut;

		int l = tag_compaction_encode(v->scheme, v->text, false, got, sizeof(got));
		if (l != (int)n || memcmp(got, want, n) != 0)
			fail_msg("encode %u '%s': got %d bytes", v->scheme, v->text, l);
		assert_int_equal(tag_compaction_decode(v->scheme, want, n, text, sizeof(text), &is_hex, &cut), 0);
		assert_string_equal(text, v->text);
		assert_false(is_hex);
		assert_false(cut);
	}
}

static void test_scheme_decode_special(void **state)
{
	(void)state;
	char text[TAG_TEXT_MAX + 1];
	bool is_hex, cut;

	/* octet strings that are not text come out as hex */
	assert_int_equal(tag_compaction_decode(TAG_CMP_OCTET, (const uint8_t *)"\x01\xff", 2, text,
					       sizeof(text), &is_hex, &cut), 0);
	assert_true(is_hex);
	assert_string_equal(text, "01ff");
	/* application-defined (not ISIL) is always hex */
	assert_int_equal(tag_compaction_decode(TAG_CMP_APPLICATION, (const uint8_t *)"AB", 2, text,
					       sizeof(text), &is_hex, &cut), 0);
	assert_string_equal(text, "4142");
	/* a small output buffer cuts, never overruns */
	char tiny[4];
	assert_int_equal(tag_compaction_decode(TAG_CMP_UTF8, (const uint8_t *)"abcdef", 6, tiny,
					       sizeof(tiny), &is_hex, &cut), 0);
	assert_true(cut);
	assert_string_equal(tiny, "abc");
	/* hex in, octets out */
	uint8_t out[4];
	assert_int_equal(tag_compaction_encode(TAG_CMP_OCTET, "01ff", true, out, sizeof(out)), 2);
	assert_int_equal(tag_compaction_encode(TAG_CMP_OCTET, "01f", true, out, sizeof(out)), -EINVAL);
	/* what a scheme cannot hold */
	assert_false(tag_compaction_fits(TAG_CMP_INTEGER, "0123"));
	assert_false(tag_compaction_fits(TAG_CMP_INTEGER, "12345678901234567890"));
	assert_false(tag_compaction_fits(TAG_CMP_5BIT, "AB1"));
	assert_false(tag_compaction_fits(TAG_CMP_6BIT, "ab"));
	assert_false(tag_compaction_fits(TAG_CMP_6BIT, "AB "));
	assert_false(tag_compaction_fits(TAG_CMP_ISIL, "DE 1"));
	assert_int_equal(tag_compaction_encode(TAG_CMP_5BIT, "ab", false, out, sizeof(out)), -EINVAL);
	assert_int_equal(tag_compaction_encode(TAG_CMP_7BIT, "abcdefghij", false, out, sizeof(out)), -ENOSPC);
	/* choice: fewest bytes */
	assert_int_equal(tag_compaction_choose("123456789012", false), TAG_CMP_INTEGER);
	assert_int_equal(tag_compaction_choose("0123", false), TAG_CMP_NUMERIC);
	assert_int_equal(tag_compaction_choose("ABCDEF", false), TAG_CMP_5BIT);
	assert_int_equal(tag_compaction_choose("QA268.L55", false), TAG_CMP_6BIT);
	assert_int_equal(tag_compaction_choose("Hello", false), TAG_CMP_7BIT);
	assert_int_equal(tag_compaction_choose("\xc3\x86" "ble", false), TAG_CMP_UTF8);
	assert_int_equal(tag_compaction_choose("US-InU-Mu", true), TAG_CMP_ISIL);
}

/* decode one element (after a valid PII) and return the result code */
static int decode_with(const char *hex_tail, struct tag_item *it)
{
	uint8_t m[128];
	size_t n = unhex("11 01 07", m, sizeof(m));
	n += unhex(hex_tail, m + n, sizeof(m) - n);
	return tag_decode(m, n, 6, &only2, it);
}

static void test_element_schemes_in_memory(void **state)
{
	(void)state;
	struct tag_item it;

	/* 5-bit shelf, 7-bit title via relative OID 17 (0x?F, 17 - 15 = 2) */
	assert_int_equal(decode_with("36 02 08 86  5f 02 02 c3 8b  00", &it), 0);
	assert_string_equal(it.primary_id, "7");
	assert_string_equal(it.shelf_location, "ABC");
	assert_string_equal(it.title, "ab");
	/* numeric local data A (OID 15 = escape + 0) */
	assert_int_equal(decode_with("2f 00 02 01 2f  00", &it), 0);
	assert_string_equal(it.local_data[0], "012");
	/* UTF-8 local data C (OID 26), octet media format other (OID 19) */
	assert_int_equal(decode_with("7f 0b 05 c3 86 62 6c 65  6f 04 01 31  00", &it), 0);
	assert_string_equal(it.local_data[2], "\xc3\x86" "ble");
	assert_int_equal(it.media_format_oid, 19);
	assert_string_equal(it.media_format, "1");
	/* type of usage "10" (integer 0x0a) */
	assert_int_equal(decode_with("15 01 0a  00", &it), 0);
	assert_int_equal(it.usage, 0x10);
	/* an undefined OID (27) is kept raw */
	assert_int_equal(decode_with("6f 0c 02 aa bb  00", &it), 0);
	assert_int_equal(it.n_raw, 1);
	assert_int_equal(it.raw[0].id, 27);
	assert_int_equal(it.raw[0].len, 2);
	/* ISIL compaction on the ILL borrowing institution too (OID 11) */
	assert_int_equal(decode_with("0b 06 22 c1 e7 61 50 0f  00", &it), 0);
	assert_string_equal(tag_item_find_element(&it, 11)->value, "DK-761500");
}

static void test_validation(void **state)
{
	(void)state;
	struct tag_item it;
	uint8_t m[64];
	size_t n;

	/* illegal compaction: a numeric nibble of 0xA, a 9-byte integer, NUL in 7-bit */
	assert_int_equal(decode_with("26 02 1a 23", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_COMPACTION);
	assert_int_equal(it.error_offset, 3);
	assert_int_equal(decode_with("16 09 01 02 03 04 05 06 07 08 09", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_COMPACTION);
	assert_int_equal(decode_with("56 02 00 01", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_COMPACTION);
	assert_int_equal(decode_with("26 02 f1 23", &it), -EBADMSG); /* pad nibble not last */

	/* overrun: the length, the padding, a relative OID, all past the end */
	assert_int_equal(decode_with("16 05 01 02", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OVERRUN);
	assert_int_equal(decode_with("96 09 01 05", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OVERRUN);
	assert_int_equal(decode_with("5f", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OVERRUN);
	assert_int_equal(decode_with("56 ff", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OVERRUN);

	/* OID 1 not first */
	n = unhex("13 01 07 11 01 07 00", m, sizeof(m));
	assert_int_equal(tag_decode(m, n, 6, &only2, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OID_ORDER);
	/* OID 1 twice */
	assert_int_equal(decode_with("11 01 08 00", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OID_INVALID);
	/* OID 0 */
	assert_int_equal(decode_with("10 01 08 00", &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OID_INVALID);
	/* OID 2 not second: decoded, flagged */
	assert_int_equal(decode_with("16 01 41  02 01 08  00", &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_OID_ORDER));
	/* a duplicate element */
	assert_int_equal(decode_with("16 01 41  16 01 42  00", &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_OID_INVALID));
	/* content parameter announces OID 6, memory holds OID 3 */
	assert_int_equal(decode_with("02 01 10  03 07 ac c0 9e ba a0 6f 6b  00", &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_CONTENT_PARAMETER));
	/* an ISIL without the ISO 15511 prefix hyphen */
	assert_int_equal(decode_with("53 05 89 15 ab 26 df  00", &it), 0); /* 7-bit "DE526" */
	assert_string_equal(it.owner_isil, "DE526");
	assert_true(tag_item_has_finding(&it, TAG_R_ISIL));

	/* set information: "0102" is part 2 of 1; "01" is part 1 of 0; odd length */
	assert_int_equal(decode_with("24 02 01 02  00", &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_ORDINAL));
	assert_int_equal(decode_with("24 01 01  00", &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_ZERO));
	assert_int_equal(decode_with("24 02 12 3f  00", &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_FORMAT));

	/* empty primary id */
	n = unhex("71 00 00", m, sizeof(m));
	assert_int_equal(tag_decode(m, n, 6, &only2, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_NO_PRIMARY_ID);
}

static void test_long_element(void **state)
{
	(void)state;
	struct tag_item in, it;
	uint8_t out[512];
	size_t len;

	/* 128 bytes of UTF-8: the length takes two EBV-8 bytes (0x81 0x00) */
	tag_item_init(&in);
	strcpy(in.primary_id, "1");
	memset(in.title, 'x', 126);
	memcpy(in.title + 126, "\xc3\xa9", 3);
	assert_int_equal(tag_encode_28560_2(&in, NULL, out, sizeof(out), &len), 0);
	/* 11 01 01 | 02 02 00 01 (OID 17 -> bit 14) | 7f 02 81 00 ... */
	assert_int_equal(out[7], 0x7f);
	assert_int_equal(out[8], 0x02);
	assert_int_equal(out[9], 0x81);
	assert_int_equal(out[10], 0x00);
	assert_int_equal(tag_decode(out, len, 6, NULL, &it), 0);
	assert_string_equal(it.title, in.title);

	/* does not fit */
	assert_int_equal(tag_encode_28560_2(&in, NULL, out, 64, &len), -ENOSPC);
}

static void rand_text(uint64_t *s, char *out, size_t min, size_t max, const char *alphabet)
{
	size_t n = min + test_rand(s) % (max - min + 1), a = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[test_rand(s) % a];
	out[n] = '\0';
}

/* Walk the elements independently of the decoder and check that every
 * element whose OID is in lock_oids starts and ends (padding included) on a
 * block boundary.  Lengths here stay below 128 bytes. */
static void check_alignment(const uint8_t *m, size_t len, uint32_t lock_oids, uint32_t bs)
{
	size_t pos = 0;
	while (pos < len && m[pos]) {
		size_t start = pos;
		unsigned oid = m[pos] & 0x0f, pad = 0;
		bool off = m[pos++] & 0x80;
		if (oid == 0x0f)
			oid = 15 + m[pos++];
		if (off)
			pad = m[pos++];
		size_t dlen = m[pos++];
		assert_true(dlen < 0x80);
		pos += dlen + pad;
		if (oid < 32 && (lock_oids & (1u << oid))) {
			if (start % bs || pos % bs)
				fail_msg("OID %u at %zu..%zu not aligned to %u", oid, start, pos, bs);
		}
	}
}

static void test_roundtrip_random(void **state)
{
	(void)state;
	static const char *const alphabets[] = {
		"0123456789",
		"123456789",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ_",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-/",
		"abcdefghijklmnopqrstuvwxyzABC 0123456789.,;:!?",
		"\xc3\xa6\xc3\xb8\xc3\xa5 abc", /* bytes of UTF-8 letters: random picks may split them; fine for UTF-8 scheme */
	};
	static const char isil_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:/";
	uint64_t seed = 0x28560002;

	for (int i = 0; i < 3000; i++) {
		struct tag_item in, it;
		uint8_t out[TAG_MEM_MAX];
		size_t len;
		struct tag_encode_options eo = {
			.block_size = test_rand(&seed) % 2 ? 4 : 8,
			.lock_oids = (uint32_t)test_rand(&seed) & 0x0401807e,
			.reverse_blocks = test_rand(&seed) % 3 == 0,
		};
#define PICK() alphabets[test_rand(&seed) % 5]
		tag_item_init(&in);
		do
			rand_text(&seed, in.primary_id, 1, 24, PICK());
		while (in.primary_id[strlen(in.primary_id) - 1] == ' ');
		if (test_rand(&seed) % 2) {
			rand_text(&seed, in.owner_isil, 4, 16, isil_chars);
			in.owner_isil[0] = 'D';
			in.owner_isil[1] = 'E';
			in.owner_isil[2] = '-';
		}
		if (test_rand(&seed) % 2) {
			in.set_present = true;
			in.parts_total = (uint16_t)(1 + test_rand(&seed) % 150);
			in.part_ordinal = (uint16_t)(1 + test_rand(&seed) % in.parts_total);
		}
		if (test_rand(&seed) % 2)
			in.usage = (int16_t)(test_rand(&seed) % 0xa0);
		if (test_rand(&seed) % 2)
			rand_text(&seed, in.shelf_location, 1, 20, PICK());
		if (test_rand(&seed) % 2)
			rand_text(&seed, in.title, 1, 60, alphabets[test_rand(&seed) % 6]);
		if (test_rand(&seed) % 2)
			rand_text(&seed, in.local_data[test_rand(&seed) % 3], 1, 10, PICK());
		if (test_rand(&seed) % 3 == 0) {
			in.media_format_oid = (uint8_t)(test_rand(&seed) % 2 ? 7 : 19);
			rand_text(&seed, in.media_format, 1, 4, PICK());
		}
		if (test_rand(&seed) % 3 == 0) {
			char v[20];
			rand_text(&seed, v, 1, 12, PICK());
			assert_int_equal(tag_item_add_element(&in, 9 + (unsigned)(test_rand(&seed) % 6), v,
							      TAG_COMPACTION_AUTO), 0);
		}
		/* trailing spaces are not kept by every scheme: trim them */
		for (char *s = in.shelf_location; *s && s[strlen(s) - 1] == ' ';)
			s[strlen(s) - 1] = '\0';

		int r = tag_encode_28560_2(&in, &eo, out, sizeof(out), &len);
		assert_int_equal(r, 0);
		{
			uint8_t plain[TAG_MEM_MAX];
			memcpy(plain, out, len);
			if (eo.reverse_blocks)
				tag_reverse_blocks(plain, len, eo.block_size);
			check_alignment(plain, len, eo.lock_oids, eo.block_size);
		}
		/* a site knows whether its reader reverses blocks; without a
		 * checksum, 28560-2 cannot always tell by itself */
		struct tag_decode_options o = { .block_size = eo.block_size,
						.reader_reverses = eo.reverse_blocks };
		r = tag_decode(out, len, 6, &o, &it);
		if (r != 0)
			fail_msg("iteration %d: decode failed: %s", i, tag_reason_name(it.error));
		assert_int_equal(it.model, TAG_MODEL_ISO28560_2);
		assert_string_equal(it.primary_id, in.primary_id);
		assert_string_equal(it.owner_isil, in.owner_isil);
		assert_int_equal(it.set_present, in.set_present);
		if (in.set_present) {
			assert_int_equal(it.parts_total, in.parts_total);
			assert_int_equal(it.part_ordinal, in.part_ordinal);
		}
		assert_int_equal(it.usage, in.usage);
		assert_string_equal(it.shelf_location, in.shelf_location);
		assert_string_equal(it.title, in.title);
		for (int k = 0; k < 3; k++)
			assert_string_equal(it.local_data[k], in.local_data[k]);
		assert_int_equal(it.media_format_oid, in.media_format_oid);
		assert_string_equal(it.media_format, in.media_format);
		for (unsigned k = 0; k < in.n_elements; k++) {
			const struct tag_element *e = tag_item_find_element(&it, in.elements[k].oid);
			assert_non_null(e);
			assert_string_equal(e->value, in.elements[k].value);
		}
		assert_false(tag_item_has_finding(&it, TAG_R_CONTENT_PARAMETER));
		assert_false(tag_item_has_finding(&it, TAG_R_OID_ORDER));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_annex_decode),
		cmocka_unit_test(test_annex_encode_aligned),
		cmocka_unit_test(test_scheme_vectors),
		cmocka_unit_test(test_scheme_decode_special),
		cmocka_unit_test(test_element_schemes_in_memory),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_long_element),
		cmocka_unit_test(test_roundtrip_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
