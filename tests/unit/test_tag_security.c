/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Item security: per-site AFI/EAS policy, commands, read-back verdicts. */
#include "config.h"

#include "test_tag_util.h"
#include "tags/security.h"

static const uint8_t uid[8] = { 0xE0, 0x04, 0x01, 0x50, 0x12, 0x34, 0x56, 0x78 };

static void test_defaults_and_presets(void **state)
{
	(void)state;
	struct tag_security_policy p;

	tag_security_policy_default(&p);
	assert_true(p.use_afi);
	assert_false(p.use_eas);
	assert_int_equal(p.afi_secured, 0x07);
	assert_int_equal(p.afi_on_loan, 0xC2);
	assert_int_equal(tag_security_policy_preset(&p, "3m-legacy"), 0);
	assert_int_equal(p.afi_secured, 0xDA);
	assert_int_equal(p.afi_on_loan, 0xD7);
	assert_true(p.use_eas);
	assert_int_equal(tag_security_policy_preset(&p, "eas"), 0);
	assert_false(p.use_afi);
	assert_true(p.use_eas);
	assert_int_equal(tag_security_policy_preset(&p, "bogus"), -EINVAL);

	tag_security_policy_default(&p);
	p.afi_on_loan = p.afi_secured;
	assert_int_equal(tag_security_policy_validate(&p), -EINVAL);
	p.use_afi = false;
	assert_int_equal(tag_security_policy_validate(&p), -EINVAL);
}

static void test_commands(void **state)
{
	(void)state;
	struct tag_security_policy p;
	struct circd_command c[2];

	tag_security_policy_default(&p);
	assert_int_equal(tag_security_commands(&p, TAG_UNSECURED, uid, 8, c, 2), 1);
	assert_int_equal(c[0].type, CIRCD_CMD_WRITE_AFI);
	assert_int_equal(c[0].value, 0xC2);
	assert_int_equal(c[0].uid_len, 8);
	assert_memory_equal(c[0].uid, uid, 8);
	assert_int_equal(c[0].struct_size, sizeof(struct circd_command));
	assert_int_equal(tag_security_commands(&p, TAG_SECURED, uid, 8, c, 2), 1);
	assert_int_equal(c[0].value, 0x07);

	/* a site with EAS as well: AFI first, then EAS */
	p.use_eas = true;
	assert_int_equal(tag_security_commands(&p, TAG_SECURED, uid, 8, c, 2), 2);
	assert_int_equal(c[1].type, CIRCD_CMD_SET_EAS);
	assert_int_equal(c[1].value, 1);
	assert_int_equal(tag_security_commands(&p, TAG_UNSECURED, uid, 8, c, 2), 2);
	assert_int_equal(c[1].value, 0);
	assert_int_equal(tag_security_commands(&p, TAG_UNSECURED, uid, 8, c, 1), -ENOBUFS);
	assert_int_equal(tag_security_commands(&p, TAG_UNSECURED, uid, 0, c, 2), -EINVAL);
	assert_int_equal(tag_security_commands(&p, TAG_UNSECURED, uid, 11, c, 2), -EINVAL);

	/* an older 3M site */
	tag_security_policy_preset(&p, "3m-legacy");
	assert_int_equal(tag_security_commands(&p, TAG_SECURED, uid, 8, c, 2), 2);
	assert_int_equal(c[0].value, 0xDA);
}

static void test_verify(void **state)
{
	(void)state;
	struct tag_security_policy p;

	tag_security_policy_default(&p);
	assert_int_equal(tag_security_verify(&p, TAG_SECURED, 0x07, -1), TAG_VERIFY_OK);
	assert_int_equal(tag_security_verify(&p, TAG_SECURED, 0xC2, -1), TAG_VERIFY_NOT_TAKEN);
	assert_int_equal(tag_security_verify(&p, TAG_UNSECURED, 0xC2, -1), TAG_VERIFY_OK);
	assert_int_equal(tag_security_verify(&p, TAG_UNSECURED, 0x00, -1), TAG_VERIFY_UNKNOWN_AFI);
	assert_int_equal(tag_security_verify(&p, TAG_UNSECURED, -1, -1), TAG_VERIFY_NOT_READ);

	p.use_eas = true;
	assert_int_equal(tag_security_verify(&p, TAG_SECURED, 0x07, 1), TAG_VERIFY_OK);
	assert_int_equal(tag_security_verify(&p, TAG_SECURED, 0x07, 0), TAG_VERIFY_NOT_TAKEN);
	assert_int_equal(tag_security_verify(&p, TAG_SECURED, 0x07, -1), TAG_VERIFY_NOT_READ);
	assert_int_equal(tag_security_verify(&p, TAG_UNSECURED, 0xC2, 0), TAG_VERIFY_OK);
	assert_int_equal(tag_security_verify(&p, 7, 0xC2, 0), -EINVAL);

	assert_int_equal(tag_security_state_of(&p, 0x07, -1), TAG_SECURED);
	assert_int_equal(tag_security_state_of(&p, 0xC2, -1), TAG_UNSECURED);
	assert_int_equal(tag_security_state_of(&p, 0x99, 1), TAG_SECURED);
	p.use_eas = false;
	assert_int_equal(tag_security_state_of(&p, 0x99, 1), -1);
	assert_string_equal(tag_security_verdict_name(TAG_VERIFY_NOT_TAKEN), "not-taken");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_presets),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
