/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Format detection: blank tags, unknown content, 3M RFID501, the DSFID as a
 * hint only, both byte orders for every model, and garbage that must come
 * back as a structured error, never a crash.
 */
#include "config.h"

#include "test_tag_util.h"
#include "tags/tag.h"

static void test_blank(void **state)
{
	(void)state;
	uint8_t m[112];
	struct tag_item it;

	memset(m, 0x55, sizeof(m)); /* 3M blank */
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), -ENODATA);
	assert_int_equal(it.model, TAG_MODEL_BLANK);
	assert_int_equal(it.error, TAG_R_BLANK);
	memset(m + 24, 0, sizeof(m) - 24); /* 0x55 in the 6 data blocks only */
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), -ENODATA);
	memset(m, 0, sizeof(m));
	assert_int_equal(tag_decode(m, sizeof(m), 0, NULL, &it), -ENODATA);
	memset(m, 0xff, sizeof(m));
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), -ENODATA);
	assert_int_equal(tag_decode(m, 0, -1, NULL, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_TRUNCATED);
	assert_int_equal(tag_decode(NULL, 4, -1, NULL, &it), -EINVAL);
}

static void test_unknown(void **state)
{
	(void)state;
	uint8_t m[32];
	struct tag_item it;

	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)(0x80 + i);
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), -ENOMSG);
	assert_int_equal(it.error, TAG_R_UNKNOWN_FORMAT);
	assert_int_equal(it.model, TAG_MODEL_UNKNOWN);
}

/* Biblio::RFID t/05-RFID501.t style image: set 1 of 1, a book, barcode */
static size_t rfid501(uint8_t *m)
{
	memset(m, 0, 32);
	m[0] = 0x04;
	m[1] = 0x12; /* part 1 of 2 */
	m[3] = 0x01; /* book */
	memcpy(m + 4, "1301234567", 10);
	/* branch 0x123, library 0x4567A */
	m[20] = 0x12;
	m[21] = 0x34;
	m[22] = 0x56;
	m[23] = 0x7A;
	m[27] = 0x2A;
	return 32;
}

static void test_rfid501(void **state)
{
	(void)state;
	uint8_t m[32];
	struct tag_item it;

	size_t n = rfid501(m);
	assert_int_equal(tag_decode(m, n, -1, NULL, &it), 0);
	assert_int_equal(it.model, TAG_MODEL_RFID501);
	assert_string_equal(it.primary_id, "1301234567");
	assert_int_equal(it.part_ordinal, 1);
	assert_int_equal(it.parts_total, 2);
	assert_int_equal(it.rfid501_item_type, 1);
	assert_string_equal(it.media_format, "book");
	assert_int_equal(it.rfid501_branch, 0x123);
	assert_int_equal(it.rfid501_library, 0x4567A);
	assert_int_equal(it.rfid501_custom, 42);

	tag_reverse_blocks(m, n, 4);
	assert_int_equal(tag_decode(m, n, -1, NULL, &it), 0);
	assert_int_equal(it.byte_order, TAG_ORDER_BLOCKS_REVERSED);
	assert_string_equal(it.primary_id, "1301234567");

	/* impossible set: part 3 of 2, and 0 parts */
	rfid501(m);
	m[1] = 0x32;
	assert_int_equal(tag_decode(m, n, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_ORDINAL));
	m[1] = 0x10;
	assert_int_equal(tag_decode(m, n, -1, NULL, &it), 0);
	assert_true(tag_item_has_finding(&it, TAG_R_SET_ZERO));

	/* truncated */
	rfid501(m);
	struct tag_decode_options o = { .only_model = true, .model = TAG_MODEL_RFID501 };
	assert_int_equal(tag_decode(m, 20, -1, &o, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_TRUNCATED);
}

static void test_dsfid_is_a_hint(void **state)
{
	(void)state;
	uint8_t m[36] = { 0x11, 0x01, 0x01, 'f', 'o', 'o', 'b', 'a', 'r' };
	struct tag_item it;

	m[19] = 0x88;
	m[20] = 0xAF;
	memcpy(m + 21, "DE526", 5);
	/* DSFID says 28560-2, the CRC says 28560-3: the content wins */
	assert_int_equal(tag_decode(m, 35, 0x06, NULL, &it), 0);
	assert_int_equal(it.model, TAG_MODEL_ISO28560_3);
	assert_true(tag_item_has_finding(&it, TAG_R_DSFID_MISMATCH));
}

static void test_dsfid_names_the_reason(void **state)
{
	(void)state;
	uint8_t m[36] = { 0x11, 0x7f, 0x01, 0x02 };
	struct tag_item it;

	/* fails as 28560-3 (CRC) and as 28560-2 (length past the end) */
	assert_int_equal(tag_decode(m, sizeof(m), -1, NULL, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_CRC);
	assert_int_equal(it.model, TAG_MODEL_ISO28560_3);
	assert_int_equal(tag_decode(m, sizeof(m), 0x06, NULL, &it), -EBADMSG);
	assert_int_equal(it.error, TAG_R_OVERRUN);
	assert_int_equal(it.model, TAG_MODEL_ISO28560_2);
}

static void test_reversed_2_without_hint(void **state)
{
	(void)state;
	uint8_t m[64];
	struct tag_item it;
	size_t n = unhex("91 00 05 1c be 99 1a 14 02 01 d0 14 02 04 b3 46 07 44 1c b6"
			 " e2 e3 35 d6 83 02 07 ac c0 9e ba a0 6f 6b 00 00", m, sizeof(m));
	tag_reverse_blocks(m, n, 4);
	assert_int_equal(tag_decode(m, n, 6, NULL, &it), 0);
	assert_int_equal(it.model, TAG_MODEL_ISO28560_2);
	assert_int_equal(it.byte_order, TAG_ORDER_BLOCKS_REVERSED);
	assert_string_equal(it.primary_id, "123456789012");
}

static void test_garbage(void **state)
{
	(void)state;
	uint64_t seed = 42;
	uint8_t m[300];
	struct tag_item it;
	unsigned decoded = 0;

	/* random memory, and random mutations of valid images: never a crash,
	 * always either 0 or an error with a reason */
	for (int i = 0; i < 20000; i++) {
		size_t n = test_rand(&seed) % sizeof(m);
		for (size_t k = 0; k < n; k++)
			m[k] = (uint8_t)test_rand(&seed);
		if (i % 2 && n > 4)
			m[0] = (uint8_t)(test_rand(&seed) % 2 ? 0x11 : 0x91);
		int dsfid = (int)(test_rand(&seed) % 300) - 1;
		int r = tag_decode(m, n, dsfid, NULL, &it);
		if (r == 0)
			decoded++;
		else
			assert_int_not_equal(it.error, TAG_R_NONE);
		assert_true(it.n_findings <= TAG_FINDINGS_MAX);
		assert_true(strlen(it.primary_id) <= TAG_ID_MAX);
	}
	(void)decoded;
}

static void test_names(void **state)
{
	(void)state;
	for (unsigned r = 0; r < TAG_R__MAX; r++) {
		assert_string_not_equal(tag_reason_name(r), "unknown");
		assert_string_not_equal(tag_reason_text(r), "unknown reason");
	}
	assert_string_equal(tag_reason_name(999), "unknown");
	assert_string_equal(tag_model_name(TAG_MODEL_ISO28560_2), "iso28560-2");
	assert_string_equal(tag_oid_name(3), "owner-institution");
	assert_string_equal(tag_oid_name(26), "local-data-c");
	assert_string_equal(tag_oid_name(27), "undefined");
	assert_string_equal(tag_usage_text(0x10), "for circulation");
	assert_string_equal(tag_usage_text(-1), "absent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blank),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_rfid501),
		cmocka_unit_test(test_dsfid_is_a_hint),
		cmocka_unit_test(test_dsfid_names_the_reason),
		cmocka_unit_test(test_reversed_2_without_hint),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
