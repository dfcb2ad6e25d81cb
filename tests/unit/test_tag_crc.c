/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRC-16/CCITT-FALSE check values from rfid.md §1.2. */
#include "config.h"

#include "test_tag_util.h"
#include "tags/crc.h"

static void test_check_value(void **state)
{
	(void)state;
	/* the catalogue check value of CRC-16/CCITT-FALSE */
	assert_int_equal(tag_crc16((const uint8_t *)"123456789", 9), 0x29B1);
	/* libdanrfid's self-test string */
	assert_int_equal(tag_crc16((const uint8_t *)"RFID tag data model", 19), 0x1AEE);
	/* empty input leaves the init value */
	assert_int_equal(tag_crc16(NULL, 0), 0xFFFF);
}

static void test_incremental(void **state)
{
	(void)state;
	uint16_t c = tag_crc16_update(TAG_CRC16_INIT, (const uint8_t *)"RFID tag", 8);
	c = tag_crc16_update(c, (const uint8_t *)" data model", 11);
	assert_int_equal(c, 0x1AEE);
}

static void test_basic_block_vector(void **state)
{
	(void)state;
	/* rfid.md vector 2: "foobar" for DE526, CRC 0xAF88 over 0..18 + 21..33 */
	uint8_t m[35] = { 0x11, 0x01, 0x01, 'f', 'o', 'o', 'b', 'a', 'r' };
	memcpy(m + 21, "DE526", 5);
	assert_int_equal(tag_crc_28560_3(m, 34), 0xAF88);
	/* bytes 19-20 are outside the CRC: their content does not matter */
	m[19] = 0x88;
	m[20] = 0xAF;
	assert_int_equal(tag_crc_28560_3(m, 34), 0xAF88);
	/* with 32-33 zero, the 32-byte form pads with the same two zeros */
	assert_int_equal(tag_crc_28560_3(m, 32), 0xAF88);
	m[33] = 'X';
	assert_int_not_equal(tag_crc_28560_3(m, 34), 0xAF88);
	assert_int_equal(tag_crc_28560_3(m, 32), 0xAF88);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_basic_block_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
