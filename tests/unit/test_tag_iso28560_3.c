/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO 28560-3 / Danish data model: the published vector, both forms, both
 * byte orders, vendor quirks, extension blocks, every validation reason,
 * and encode -> decode over random items.
 */
#include "config.h"

#include "test_tag_util.h"
#include "tags/crc.h"
#include "tags/tag.h"

/* rfid.md §1.2 vector 2: 35 bytes, "foobar" owned by DE526, CRC 0xAF88 */
static size_t vector2(uint8_t *m)
{
	memset(m, 0, 36);
	m[0] = 0x11;
	m[1] = 0x01;
	m[2] = 0x01;
	memcpy(m + 3, "foobar", 6);
	m[19] = 0x88;
	m[20] = 0xAF;
	memcpy(m + 21, "DE526", 5);
	return 35;
}

static void fix_crc(uint8_t *m, size_t basic)
{
	uint16_t c = tag_crc_28560_3(m, basic);
	m[19] = (uint8_t)c;
	m[20] = (uint8_t)(c >> 8);
}

static const struct tag_decode_options only3 = { .only_model = true, .model = TAG_MODEL_ISO28560_3 };

static void test_vector2(void **state)
{
	(void)state;
	uint8_t m[36];
	struct tag_item it;
	size_t n = vector2(m);

	assert_int_equal(tag_decode(m, n, 0x3E, NULL, &it), 0);
	assert_int_equal(it.model, TAG_MODEL_ISO28560_3);
	assert_int_equal(it.byte_order, TAG_ORDER_AS_READ);
	assert_int_equal(it.basic_len, 34);
	assert_int_equal(it.crc_stored, 0xAF88);
	assert_int_equal(it.crc_computed, 0xAF88);
	assert_string_equal(it.primary_id, "foobar");
	assert_string_equal(it.owner_isil, "DE526");
	assert_string_equal(it.isil_country, "DE");
	assert_string_equal(it.isil_library, "526");
	assert_true(it.set_present);
	assert_int_equal(it.parts_total, 1);
	assert_int_equal(it.part_ordinal, 1);
	assert_int_equal(it.usage, 0x10);
	assert_int_equal(it.version, 1);
	assert_int_equal(it.n_findings, 0);

	/* our encoder writes the same 35 bytes */
	struct tag_item in;
	uint8_t out[64];
	size_t len;
	tag_item_init(&in);
	strcpy(in.primary_id, "foobar");
	strcpy(in.owner_isil, "DE526");
	assert_int_equal(tag_encode_28560_3(&in, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(len, 35);
	assert_memory_equal(out, m, 35);
}

static void test_reversed_blocks(void **state)
{
	(void)state;
	uint8_t m[36];
	struct tag_item it;

	vector2(m);
	tag_reverse_blocks(m, 36, 4);
	assert_int_equal(m[0], 0x66); /* 'f' now leads block 0 */
	assert_int_equal(tag_decode(m, 36, -1, NULL, &it), 0);
	assert_int_equal(it.byte_order, TAG_ORDER_BLOCKS_REVERSED);
	assert_true(tag_item_has_finding(&it, TAG_R_BLOCKS_REVERSED));
	assert_string_equal(it.primary_id, "foobar");

	/* a FEIG reader: reversed is what we expect, tried first */
	struct tag_decode_options o = { .reader_reverses = true };
	assert_int_equal(tag_decode(m, 36, -1, &o, &it), 0);
	assert_int_equal(it.byte_order, TAG_ORDER_BLOCKS_REVERSED);

	/* the encoder can write reversed blocks too */
	struct tag_item in;
	uint8_t out[64];
	size_t len;
	tag_item_init(&in);
	strcpy(in.primary_id, "foobar");
	strcpy(in.owner_isil, "DE526");
	struct tag_encode_options eo = { .reverse_blocks = true };
	assert_int_equal(tag_encode_28560_3(&in, &eo, out, sizeof(out), &len), 0);
	assert_int_equal(len, 36);
	assert_memory_equal(out, m, 36);
}

static void test_short_form(void **state)
{
	(void)state;
	struct tag_item in, it;
	uint8_t out[64];
	size_t len;
	struct tag_encode_options eo = { .basic_len = 32 };

	tag_item_init(&in);
	strcpy(in.primary_id, "1234567890123456");
	strcpy(in.owner_isil, "DK761500XYZ"); /* 11 bytes: the most 21..31 hold */
	assert_int_equal(tag_encode_28560_3(&in, &eo, out, sizeof(out), &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(tag_decode(out, len, -1, NULL, &it), 0);
	assert_int_equal(it.basic_len, 32);
	assert_string_equal(it.primary_id, "1234567890123456");
	assert_string_equal(it.owner_isil, "DK761500XYZ");

	/* the same 32 bytes on a larger tag whose 32-33 are not zero: the
	 * 34-byte CRC fails, the 32-byte one holds */
	uint8_t big[40];
	memcpy(big, out, 32);
	memset(big + 32, 0xAB, 8);
	assert_int_equal(tag_decode(big, sizeof(big), -1, NULL, &it), 0);
	assert_int_equal(it.basic_len, 32);

	/* a 32-byte block cannot carry a long id or a 12+ character ISIL */
	strcpy(in.owner_isil, "DK761500XYZW");
	assert_int_equal(tag_encode_28560_3(&in, &eo, out, sizeof(out), &len), -ENOSPC);
	strcpy(in.owner_isil, "DK761500");
	strcpy(in.primary_id, "12345678901234567");
	assert_int_equal(tag_encode_28560_3(&in, &eo, out, sizeof(out), &len), -ENOSPC);
}

static void test_crc_mismatch(void **state)
{
	(void)state;
	uint8_t m[36];
	struct tag_item it;

	vector2(m);
	m[5] ^= 0x01;
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_CRC);
	assert_int_equal(it.error_offset, 19);
	assert_int_equal(it.crc_stored, 0xAF88);
	assert_int_not_equal(it.crc_computed, 0xAF88);
}

static void test_truncated(void **state)
{
	(void)state;
	uint8_t m[36];
	struct tag_item it;

	vector2(m);
	assert_int_equal(tag_decode(m, 31, -1, &only3, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_TRUNCATED);
}

static void test_bibliotheca_nibbles(void **state)
{
	(void)state;
	uint8_t m[36];
	struct tag_item it;

	vector2(m);
	m[0] = 0x21; /* reference only, nibbles swapped */
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_int_equal(it.usage, 0x20);
	assert_int_equal(it.version, 1);
	assert_true(tag_item_has_finding(&it, TAG_R_SWAPPED_NIBBLES));

	m[0] = 0x71; /* discarded */
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_int_equal(it.usage, 0x70);
	assert_string_equal(tag_usage_text(it.usage), "discarded");

	/* usage outside 0..9 is decoded but flagged */
	m[0] = 0x1C;
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_USAGE));
}

static void test_set_information(void **state)
{
	(void)state;
	uint8_t m[36];
	struct tag_item it;

	vector2(m);
	m[1] = 3;
	m[2] = 2;
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_int_equal(it.parts_total, 3);
	assert_int_equal(it.part_ordinal, 2);
	assert_false(tag_item_has_finding(&it, TAG_R_SET_ORDINAL));

	m[1] = 0; /* 0 parts */
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_ZERO));

	m[1] = 2;
	m[2] = 3; /* part 3 of 2 */
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_ORDINAL));

	m[2] = 0; /* part 0 */
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_ORDINAL));
}

static void test_isil(void **state)
{
	(void)state;
	uint8_t m[36];
	struct tag_item it;

	vector2(m);
	memset(m + 21, 0, 13);
	memcpy(m + 21, "DKDK761500", 10); /* country repeated in the library field */
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_string_equal(it.isil_country, "DK");
	assert_string_equal(it.isil_library, "DK761500");
	assert_true(tag_item_has_finding(&it, TAG_R_ISIL_COUNTRY_REPEATED));

	memset(m + 21, 0, 13);
	memcpy(m + 21, "12$45", 5);
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_ISIL));
	assert_string_equal(it.isil_country, "");

	assert_true(tag_isil_plausible("DE-526", true));
	assert_true(tag_isil_plausible("DE526", false));
	assert_false(tag_isil_plausible("DE526", true));
	assert_false(tag_isil_plausible("D", false));
	assert_false(tag_isil_plausible("DE-12345678901234", false));
}

/* append an extension block with a correct XOR */
static size_t ext_block(uint8_t *p, unsigned id, const void *payload, size_t n)
{
	p[0] = (uint8_t)(n + 4);
	p[1] = (uint8_t)id;
	p[2] = (uint8_t)(id >> 8);
	p[3] = 0;
	memcpy(p + 4, payload, n);
	uint8_t x = 0;
	for (size_t i = 0; i < n + 4; i++)
		x ^= p[i];
	p[3] = x;
	return n + 4;
}

static void test_extension_blocks(void **state)
{
	(void)state;
	uint8_t m[128] = { 0 };
	struct tag_item it;
	size_t pos;

	vector2(m);
	pos = 34;
	m[pos++] = 1; /* filler */
	pos += ext_block(m + pos, 2, "SUP1\0PID\0ORD9\0INV7\0004012345678901\0007", 35);
	pos += ext_block(m + pos, 3, "DE-1\0T42\0DE-2", 13);
	pos += ext_block(m + pos, 0x1234, "\x01\x02\x03", 3);
	m[pos++] = 0;
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), 0);
	assert_non_null(tag_item_find_element(&it, 9));
	assert_string_equal(tag_item_find_element(&it, 9)->value, "SUP1");
	assert_string_equal(tag_item_find_element(&it, 18)->value, "PID");
	assert_string_equal(tag_item_find_element(&it, 10)->value, "ORD9");
	assert_string_equal(tag_item_find_element(&it, 21)->value, "INV7");
	assert_string_equal(tag_item_find_element(&it, 13)->value, "4012345678901");
	assert_string_equal(tag_item_find_element(&it, 20)->value, "7");
	assert_string_equal(tag_item_find_element(&it, 11)->value, "DE-1");
	assert_string_equal(tag_item_find_element(&it, 12)->value, "T42");
	assert_string_equal(tag_item_find_element(&it, 25)->value, "DE-2");
	assert_int_equal(it.n_raw, 1);
	assert_int_equal(it.raw[0].id, 0x1234);
	assert_int_equal(it.raw[0].len, 3);
	assert_int_equal(it.n_findings, 0);

	/* 24-bit id escape: high byte 0xFF */
	memset(m + 34, 0, sizeof(m) - 34);
	uint8_t b[8] = { 8, 0x01, 0xFF, 0x07, 0, 'a', 'b', 'c' };
	uint8_t x = 0;
	for (int i = 0; i < 8; i++)
		x ^= b[i];
	b[4] = x;
	memcpy(m + 34, b, 8);
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), 0);
	assert_int_equal(it.n_raw, 1);
	assert_int_equal(it.raw[0].id, 0x07FF01);
	assert_memory_equal(it.raw[0].data, "abc", 3);

	/* broken XOR: flagged, kept raw, not trusted */
	memset(m + 34, 0, sizeof(m) - 34);
	pos = 34 + ext_block(m + 34, 2, "SUP1", 4);
	m[38] ^= 0x20;
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_EXT_CHECKSUM));
	assert_null(tag_item_find_element(&it, 9));
	assert_int_equal(it.n_raw, 1);

	/* a block that runs past the memory */
	memset(m + 34, 0, sizeof(m) - 34);
	ext_block(m + 34, 2, "SUPPLIER", 8);
	assert_int_equal(tag_decode(m, 40, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_OVERRUN));
	assert_string_equal(it.primary_id, "foobar");

	/* a block shorter than its header */
	memset(m + 34, 0, sizeof(m) - 34);
	m[34] = 3;
	assert_int_equal(tag_decode(m, 48, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_EXT_MALFORMED));
}

static void test_long_id(void **state)
{
	(void)state;
	struct tag_item in, it;
	uint8_t out[128];
	size_t len;

	tag_item_init(&in);
	strcpy(in.primary_id, "9788702012345-0001-XY");
	strcpy(in.owner_isil, "DE-Hil2-EXTENDED"); /* 16 > 13: extended ISIL */
	in.media_format_oid = 19;
	strcpy(in.media_format, "2");
	assert_int_equal(tag_item_add_element(&in, 22, "ALT-77", TAG_COMPACTION_AUTO), 0);
	assert_int_equal(tag_encode_28560_3(&in, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(out[3], 0x01); /* long id marker */
	assert_int_equal(tag_decode(out, len, -1, NULL, &it), 0);
	assert_string_equal(it.primary_id, "9788702012345-0001-XY");
	assert_string_equal(it.owner_isil, "DE-Hil2-EXTENDED");
	assert_int_equal(it.media_format_oid, 19);
	assert_string_equal(it.media_format, "2");
	assert_string_equal(tag_item_find_element(&it, 22)->value, "ALT-77");

	/* marker without the library block: no primary id */
	uint8_t m[36];
	vector2(m);
	m[3] = 0x01;
	fix_crc(m, 34);
	assert_int_equal(tag_decode(m, 35, -1, NULL, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_NO_PRIMARY_ID);
}

static void test_encode_errors(void **state)
{
	(void)state;
	struct tag_item in;
	uint8_t out[128];
	size_t len;

	tag_item_init(&in);
	assert_int_equal(tag_encode_28560_3(&in, NULL, out, sizeof(out), &len), -EINVAL);
	strcpy(in.primary_id, "x");
	assert_int_equal(tag_encode_28560_3(&in, NULL, out, 20, &len), -ENOSPC);
	struct tag_encode_options bad = { .basic_len = 33 };
	assert_int_equal(tag_encode_28560_3(&in, &bad, out, sizeof(out), &len), -EINVAL);
	in.set_present = true;
	in.parts_total = 300;
	in.part_ordinal = 1;
	assert_int_equal(tag_encode_28560_3(&in, NULL, out, sizeof(out), &len), -EINVAL);
}

static void rand_text(uint64_t *s, char *out, size_t min, size_t max, const char *alphabet)
{
	size_t n = min + test_rand(s) % (max - min + 1), a = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[test_rand(s) % a];
	out[n] = '\0';
}

static void test_roundtrip_random(void **state)
{
	(void)state;
	static const char id_chars[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-./ ";
	static const char isil_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint64_t seed = 0x28560003;

	for (int i = 0; i < 2000; i++) {
		struct tag_item in, it;
		uint8_t out[256];
		size_t len;
		bool short_form = test_rand(&seed) % 4 == 0;
		struct tag_encode_options eo = {
			.basic_len = short_form ? 32 : 34,
			.reverse_blocks = test_rand(&seed) % 2,
		};

		tag_item_init(&in);
		rand_text(&seed, in.primary_id, 1, short_form ? 16 : 40, id_chars);
		in.primary_id[0] = 'A' + (char)(test_rand(&seed) % 26); /* not 0x01, not blank */
		rand_text(&seed, in.owner_isil, 2, short_form ? 11 : 16, isil_chars);
		in.owner_isil[0] = 'D';
		in.owner_isil[1] = 'K';
		in.set_present = true;
		in.parts_total = (uint16_t)(1 + test_rand(&seed) % 9);
		in.part_ordinal = (uint16_t)(1 + test_rand(&seed) % in.parts_total);
		in.usage = (int16_t)((test_rand(&seed) % 10) << 4);

		assert_int_equal(tag_encode_28560_3(&in, &eo, out, sizeof(out), &len), 0);
		assert_int_equal(tag_decode(out, len, -1, NULL, &it), 0);
		assert_int_equal(it.model, TAG_MODEL_ISO28560_3);
		assert_int_equal(it.byte_order, eo.reverse_blocks ? TAG_ORDER_BLOCKS_REVERSED
								  : TAG_ORDER_AS_READ);
		assert_string_equal(it.primary_id, in.primary_id);
		assert_string_equal(it.owner_isil, in.owner_isil);
		assert_int_equal(it.parts_total, in.parts_total);
		assert_int_equal(it.part_ordinal, in.part_ordinal);
		assert_int_equal(it.usage, in.usage);
		assert_false(tag_item_has_finding(&it, TAG_R_SET_ORDINAL));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector2),
		cmocka_unit_test(test_reversed_blocks),
		cmocka_unit_test(test_short_form),
		cmocka_unit_test(test_crc_mismatch),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bibliotheca_nibbles),
		cmocka_unit_test(test_set_information),
		cmocka_unit_test(test_isil),
		cmocka_unit_test(test_extension_blocks),
		cmocka_unit_test(test_long_id),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_roundtrip_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
