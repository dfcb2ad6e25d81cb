/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The self-check station's pure decisions: what a 64 says about a patron,
 * whether a 12 lets the kiosk un-secure a tag, card UIDs as patron ids. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "selfcheck_patron.h"

/* A 64 as the sip2 plugin's fields_json writes it. */
#define P64(status, extra)                                                               \
	"{\"message\":\"64\",\"patron_status\":\"" status "\",\"language\":\"001\","      \
	"\"hold_items_count\":\"0002\",\"overdue_items_count\":\"0000\","                 \
	"\"charged_items_count\":\"0003\",\"fine_items_count\":\"0001\","                 \
	"\"recall_items_count\":\"0000\",\"unavailable_holds_count\":\"0000\","           \
	"\"patron_id\":\"p1\",\"patron_name\":\"Ada Reader\"" extra "}"

static enum selfcheck_verdict verdict(const char *json, bool pin_given, char *reason)
{
	struct selfcheck_patron p;
	assert_int_equal(selfcheck_patron_parse(json, &p), 0);
	return selfcheck_patron_verdict(&p, pin_given, reason, 256);
}

static void test_good_patron(void **state)
{
	struct selfcheck_patron p;
	char reason[256];
	const char *j = P64("              ", ",\"valid_patron\":\"Y\",\"valid_password\":\"Y\","
					      "\"fee_amount\":\"2.50\",\"currency\":\"USD\"");
	assert_int_equal(selfcheck_patron_parse(j, &p), 0);
	assert_string_equal(p.name, "Ada Reader");
	assert_int_equal(p.charged, 3);
	assert_int_equal(p.holds, 2);
	assert_int_equal(p.fines, 1);
	assert_string_equal(p.fee_amount, "2.50");
	assert_int_equal(p.pin_ok, 1);
	assert_int_equal(selfcheck_patron_verdict(&p, true, reason, sizeof(reason)), SC_PATRON_OK);
	json_object *o = selfcheck_patron_json(&p, "p1");
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"id\":\"p1\",\"name\":\"Ada Reader\",\"valid\":true,\"holds\":2,"
			    "\"overdue\":0,\"charged\":3,\"fines\":1,\"recalls\":0,"
			    "\"unavailable_holds\":0,\"fee_amount\":\"2.50\",\"currency\":\"USD\","
			    "\"blocks\":[]}");
	json_object_put(o);
}

static void test_refusals(void **state)
{
	char reason[256];
	/* unknown: BL N (the ACS's 24/64 for an unknown patron is all Y) */
	assert_int_equal(verdict(P64("YYYYYYYYYYYYYY", ",\"valid_patron\":\"N\""), false, reason),
			 SC_PATRON_REFUSED);
	assert_string_equal(reason, "the library does not know this patron");
	/* wrong PIN counts only when one was given */
	assert_int_equal(verdict(P64("              ", ",\"valid_patron\":\"Y\",\"valid_password\":\"N\""),
				 true, reason), SC_PATRON_REFUSED);
	assert_string_equal(reason, "the PIN is not correct");
	assert_int_equal(verdict(P64("              ", ",\"valid_password\":\"N\""), false, reason),
			 SC_PATRON_OK);
	/* lost card */
	assert_int_equal(verdict(P64("    Y         ", ""), false, reason), SC_PATRON_REFUSED);
	assert_string_equal(reason, "this card is reported lost");
	/* blocked: the screen message wins; without one, the flags in words */
	assert_int_equal(verdict(P64("YYYYYYYYYYYYYY", ",\"screen_message\":[\"Blocked:\",\"see staff\"]"),
				 false, reason), SC_PATRON_REFUSED);
	assert_string_equal(reason, "Blocked: see staff");
	assert_int_equal(verdict(P64("YY        Y   ", ""), false, reason), SC_PATRON_REFUSED);
	assert_string_equal(reason, "charge privileges denied; renewal privileges denied; "
				    "excessive outstanding fines");
}

static void test_renew_only(void **state)
{
	char reason[256];
	assert_int_equal(verdict(P64("Y     Y       ", ""), false, reason), SC_PATRON_RENEW_ONLY);
	assert_string_equal(reason, "charge privileges denied; too many items overdue");
}

static void test_bad_input(void **state)
{
	struct selfcheck_patron p;
	assert_int_equal(selfcheck_patron_parse(NULL, &p), -EINVAL);
	assert_int_equal(selfcheck_patron_parse("not json", &p), -EINVAL);
	assert_int_equal(selfcheck_patron_parse("[1,2]", &p), -EINVAL);
	assert_int_equal(selfcheck_patron_parse("{\"message\":\"12\",\"ok\":true}", &p), -EINVAL);
	/* garbage counts and a short status: read what can be read */
	assert_int_equal(selfcheck_patron_parse("{\"message\":\"64\",\"patron_status\":\"Y\","
						"\"charged_items_count\":\"abcd\",\"patron_name\":7}", &p), 0);
	assert_int_equal(p.charged, -1);
	assert_true(p.flags[SC_FLAG_CHARGE_DENIED]);
	assert_false(p.flags[SC_FLAG_RENEWAL_DENIED]);
	assert_string_equal(p.name, "");
}

static void test_unsecure(void **state)
{
	char why[200];
	assert_true(selfcheck_may_unsecure("{\"message\":\"12\",\"ok\":true,\"desensitize\":\"Y\","
					   "\"magnetic\":\"N\"}", why, sizeof(why)));
	assert_true(selfcheck_may_unsecure("{\"message\":\"12\",\"ok\":true,\"desensitize\":\"U\"}",
					   why, sizeof(why)));
	assert_true(selfcheck_may_unsecure(NULL, why, sizeof(why)));
	assert_false(selfcheck_may_unsecure("{\"desensitize\":\"Y\",\"magnetic\":\"Y\"}", why, sizeof(why)));
	assert_string_equal(why, "magnetic media: the tag is left as it is");
	assert_false(selfcheck_may_unsecure("{\"desensitize\":\"Y\",\"security_inhibit\":\"Y\"}", why,
					    sizeof(why)));
	assert_false(selfcheck_may_unsecure("{\"desensitize\":\"N\"}", why, sizeof(why)));
	assert_string_equal(why, "the library system said not to desensitize this item");
}

static void test_card_ids(void **state)
{
	const uint8_t uid[] = { 0x04, 0xA2, 0x24, 0x1B };
	char out[32];
	assert_int_equal(selfcheck_card_patron_id(uid, 4, "hex", out, sizeof(out)), 0);
	assert_string_equal(out, "04A2241B");
	assert_int_equal(selfcheck_card_patron_id(uid, 4, "hex-reversed", out, sizeof(out)), 0);
	assert_string_equal(out, "1B24A204");
	assert_int_equal(selfcheck_card_patron_id(uid, 4, "decimal", out, sizeof(out)), 0);
	assert_string_equal(out, "77734939");
	const uint8_t ten[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	assert_int_equal(selfcheck_card_patron_id(ten, 10, "decimal", out, sizeof(out)), -ERANGE);
	assert_int_equal(selfcheck_card_patron_id(uid, 0, "hex", out, sizeof(out)), -EINVAL);
	assert_int_equal(selfcheck_card_patron_id(uid, 4, "octal", out, sizeof(out)), -EINVAL);
	assert_int_equal(selfcheck_card_patron_id(ten, 10, "hex", out, 8), -EINVAL);
}

static void test_patron_ids(void **state)
{
	assert_true(selfcheck_patron_id_valid("p1"));
	assert_true(selfcheck_patron_id_valid("23456000123456"));
	assert_false(selfcheck_patron_id_valid(""));
	assert_false(selfcheck_patron_id_valid(NULL));
	assert_false(selfcheck_patron_id_valid("a|b"));
	assert_false(selfcheck_patron_id_valid("a\rb"));
	char long_id[80];
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_false(selfcheck_patron_id_valid(long_id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_patron), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_renew_only),  cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_unsecure),    cmocka_unit_test(test_card_ids),
		cmocka_unit_test(test_patron_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
