/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIP2 codec: the spec's vectors, round trips for every message, and the
 * edge cases listed in reference/sip2.md section 4. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sip2/sip2.h"

static struct sip2_msg *decode_ok(const char *s)
{
	struct sip2_msg *m = NULL;
	assert_int_equal(sip2_decode(s, strlen(s), NULL, &m), 0);
	return m;
}

static char *encode_ok(const struct sip2_msg *m, bool ed, int seq, struct sip2_charset *cs)
{
	char *out = NULL;
	size_t len = 0;
	struct sip2_encode_opts o = { .charset = cs, .error_detection = ed, .seq = seq };
	assert_int_equal(sip2_encode(m, &o, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

/* SIP2 2.00 p.29 example; the printed spec says EC78, the sum says EC7B */
static void test_login_vector(void **state)
{
	struct sip2_msg *m = sip2_msg_new("93");
	assert_int_equal(sip2_msg_set_fixed(m, "uid_algorithm", "0"), 0);
	assert_int_equal(sip2_msg_set_fixed(m, "pwd_algorithm", "0"), 0);
	sip2_msg_add(m, "CN", "LoginUserID");
	sip2_msg_add(m, "CO", "LoginPassword");
	sip2_msg_add(m, "CP", "LocationCode");
	char *s = encode_ok(m, true, 5, NULL);
	assert_string_equal(s, "9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC7B\r");
	free(s);
	sip2_msg_free(m);

	m = decode_ok("9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC7B\r");
	assert_int_equal(m->checksum, SIP2_CKSUM_OK);
	assert_int_equal(m->seq, 5);
	assert_string_equal(sip2_msg_get(m, "CP"), "LocationCode");
	assert_int_equal(m->n_fields, 3);
	sip2_msg_free(m);

	m = decode_ok("9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC78\r");
	assert_int_equal(m->checksum, SIP2_CKSUM_BAD);
	sip2_msg_free(m);
}

static void test_fixed_vectors(void **state)
{
	static const struct { const char *wire; const char *id; int seq; } v[] = {
		{ "941AY0AZFDFD", "94", 0 },
		{ "96AZFEF6", "96", -1 },
		{ "97AZFEF5", "97", -1 },
		{ "990 402.00AY1AZFCB4", "99", 1 },
		{ "941AY0AZfdfd", "94", 0 }, /* lower-case hex accepted */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sip2_msg *m = decode_ok(v[i].wire);
		assert_string_equal(m->id, v[i].id);
		assert_int_equal(m->checksum, SIP2_CKSUM_OK);
		assert_int_equal(m->seq, v[i].seq);
		sip2_msg_free(m);
	}
	uint16_t c = sip2_checksum("941AY0AZ", 8);
	char hex[5];
	sip2_checksum_format(c, hex);
	assert_string_equal(hex, "FDFD");

	struct sip2_msg *m = sip2_msg_new("96");
	char *s = encode_ok(m, true, 0, NULL);
	/* 96/97 carry AY too when we send them; the ACS's own have none */
	assert_string_equal(s, "96AY0AZFE2C\r");
	free(s);
	sip2_msg_free(m);
	m = decode_ok("941AY0AZFDFD");
	assert_string_equal(sip2_msg_fixed(m, "ok"), "1");
	sip2_msg_free(m);
	/* some servers close AY with a '|' before AZ */
	char w[32] = "941AY7|AZ";
	sip2_checksum_format(sip2_checksum(w, strlen(w)), hex);
	strcat(w, hex);
	m = decode_ok(w);
	assert_int_equal(m->checksum, SIP2_CKSUM_OK);
	assert_int_equal(m->seq, 7);
	assert_int_equal(m->n_fields, 0);
	sip2_msg_free(m);
}

static void test_no_error_detection(void **state)
{
	struct sip2_msg *m = decode_ok("941\r");
	assert_int_equal(m->checksum, SIP2_CKSUM_NONE);
	assert_int_equal(m->seq, -1);
	char *s = encode_ok(m, false, 0, NULL);
	assert_string_equal(s, "941\r");
	free(s);
	sip2_msg_free(m);
}

static void test_terminators_and_frames(void **state)
{
	const char *t[] = { "941AY0AZFDFD\r", "941AY0AZFDFD\r\n", "941AY0AZFDFD\n" };
	for (size_t i = 0; i < 3; i++) {
		struct sip2_msg *m = decode_ok(t[i]);
		assert_int_equal(m->checksum, SIP2_CKSUM_OK);
		sip2_msg_free(m);
	}
	const char buf[] = "941\r\n96AZFEF6\n97";
	size_t fl, used;
	assert_int_equal(sip2_frame_find(buf, strlen(buf), &fl, &used), 1);
	assert_int_equal(fl, 3);
	assert_int_equal(used, 5);
	assert_int_equal(sip2_frame_find(buf + 5, strlen(buf) - 5, &fl, &used), 1);
	assert_int_equal(fl, 8);
	assert_int_equal(used, 9);
	assert_int_equal(sip2_frame_find(buf + 14, 2, &fl, &used), 0);
}

static void test_fields_order_repeat_unknown(void **state)
{
	struct sip2_msg *m = decode_ok("101YNY20261128    181500AQmain|AOinst|ABitem1|AFone|"
				       "ZZkeep me|AFtwo|AC|CV01|AY2AZ0000");
	assert_int_equal(m->checksum, SIP2_CKSUM_BAD);
	assert_string_equal(sip2_msg_fixed(m, "ok"), "1");
	assert_string_equal(sip2_msg_fixed(m, "magnetic_media"), "N");
	assert_string_equal(sip2_msg_fixed(m, "transaction_date"), "20261128    181500");
	assert_string_equal(sip2_msg_get(m, "AF"), "one");
	assert_string_equal(sip2_msg_get_nth(m, "AF", 1), "two");
	assert_null(sip2_msg_get_nth(m, "AF", 2));
	assert_string_equal(sip2_msg_get(m, "ZZ"), "keep me");
	assert_string_equal(sip2_msg_get(m, "AC"), "");
	assert_string_equal(m->fields[0].id, "AQ");
	assert_true(sip2_field_repeatable("AF"));
	assert_true(sip2_field_repeatable("CD"));
	assert_false(sip2_field_repeatable("AB"));
	/* re-encode keeps order and unknown fields */
	char *s = encode_ok(m, false, 0, NULL);
	assert_string_equal(s, "101YNY20261128    181500AQmain|AOinst|ABitem1|AFone|"
			       "ZZkeep me|AFtwo|AC|CV01|\r");
	free(s);
	sip2_msg_free(m);
}

static void test_refuse_bar(void **state)
{
	struct sip2_msg *m = sip2_msg_new("17");
	sip2_msg_add(m, "AB", "a|b");
	char *s = NULL;
	size_t len;
	struct sip2_encode_opts o = { 0 };
	assert_int_equal(sip2_encode(m, &o, &s, &len), -EINVAL);
	sip2_msg_free(m);
	m = sip2_msg_new("09");
	assert_int_equal(sip2_msg_set_fixed(m, "no_block", "YY"), -EINVAL);
	assert_int_equal(sip2_msg_set_fixed(m, "nope", "Y"), -ENOENT);
	sip2_msg_free(m);
	m = sip2_msg_new("10"); /* ok has no default: must be set */
	assert_int_equal(sip2_encode(m, &o, &s, &len), -EINVAL);
	sip2_msg_free(m);
	assert_null(sip2_msg_new("A1"));
	assert_null(sip2_msg_new("123"));
}

static void test_malformed(void **state)
{
	struct sip2_msg *m = NULL;
	assert_int_equal(sip2_decode("", 0, NULL, &m), -EBADMSG);
	assert_int_equal(sip2_decode("X1abc", 5, NULL, &m), -EBADMSG);
	assert_int_equal(sip2_decode("10YY", 4, NULL, &m), -EBADMSG); /* short fixed part */
	assert_int_equal(sip2_decode("98Y", 3, NULL, &m), -EBADMSG);
	/* unknown message ids are tolerated: body kept whole */
	m = decode_ok("42hello|ABx|AY4AZ0000");
	assert_null(m->spec);
	assert_string_equal(m->body, "hello|ABx|");
	assert_int_equal(m->seq, 4);
	sip2_msg_free(m);
}

static void test_dates(void **state)
{
	char d[SIP2_DATE_LEN + 1];
	bool given;
	uint64_t t;
	sip2_date_format(1795885200ull * 1000000, true, d); /* 2026-11-28 17:00:00 UTC */
	assert_string_equal(d, "20261128   Z170000");
	assert_int_equal(sip2_date_parse(d, &given, &t), 0);
	assert_true(given);
	assert_int_equal(t, 1795885200ull * 1000000);
	sip2_date_format(1795885200ull * 1000000, false, d);
	assert_memory_equal(d + 8, "    ", 4);
	assert_int_equal(sip2_date_parse(d, &given, &t), 0);
	assert_int_equal(t, 1795885200ull * 1000000);
	assert_int_equal(sip2_date_parse("                  ", &given, &t), 0);
	assert_false(given);
	assert_int_equal(sip2_date_parse("2026112X    170000", &given, &t), -EINVAL);
	assert_int_equal(sip2_date_parse("20261128XXXX170000", &given, &t), -EINVAL);
	assert_int_equal(sip2_date_parse("short", &given, &t), -EINVAL);
}

/* The checksum covers the encoded bytes, not the UTF-8 text. */
static void test_charsets(void **state)
{
	const char *names[] = { "UTF-8", "ISO-8859-1", "CP850" };
	const size_t title_bytes[] = { 6, 5, 5 }; /* "cáliz" */
	for (size_t i = 0; i < 3; i++) {
		struct sip2_charset *cs = NULL;
		assert_int_equal(sip2_charset_new(names[i], &cs), 0);
		struct sip2_msg *m = sip2_msg_new("18");
		sip2_msg_set_fixed(m, "circulation_status", "03");
		sip2_msg_add(m, "AB", "item1");
		sip2_msg_add(m, "AJ", "c\xc3\xa1liz");
		char *wire = encode_ok(m, true, 7, cs);
		const char *aj = strstr(wire, "AJ");
		assert_int_equal(strchr(aj, '|') - aj - 2, title_bytes[i]);
		if (i == 2)
			assert_int_equal((unsigned char)aj[3], 0xa0); /* CP850 á */
		struct sip2_msg *back = NULL;
		assert_int_equal(sip2_decode(wire, strlen(wire), cs, &back), 0);
		assert_int_equal(back->checksum, SIP2_CKSUM_OK);
		assert_string_equal(sip2_msg_get(back, "AJ"), "c\xc3\xa1liz");
		sip2_msg_free(back);
		/* decoding the wrong charset still checks the checksum right */
		if (i > 0) {
			assert_int_equal(sip2_decode(wire, strlen(wire), NULL, &back), 0);
			assert_int_equal(back->checksum, SIP2_CKSUM_OK);
			sip2_msg_free(back);
		}
		free(wire);
		sip2_msg_free(m);
		sip2_charset_free(cs);
	}
	struct sip2_charset *cs = NULL;
	assert_int_equal(sip2_charset_new("NO-SUCH-CHARSET", &cs), -EINVAL);

	/* an ACS that says UTF-8 and sends Latin-1: the checksum is still
	 * over its bytes, the text that leaves the codec is valid UTF-8 */
	const char latin1[] = "1803000120261128    120000AB1|AJc\xe1liz \xc3\xa9|AY0AZ";
	char wire[128], hex[5];
	snprintf(wire, sizeof(wire), "%s", latin1);
	sip2_checksum_format(sip2_checksum(wire, strlen(wire)), hex);
	strcat(wire, hex);
	struct sip2_msg *m = NULL;
	assert_int_equal(sip2_decode(wire, strlen(wire), NULL, &m), 0);
	assert_int_equal(m->checksum, SIP2_CKSUM_OK);
	assert_string_equal(sip2_msg_get(m, "AJ"), "c?liz \xc3\xa9");
	sip2_msg_free(m);
}

/* Every message of the table: set nothing but defaults (and "ok" where it
 * has none), add two fields, encode with and without AY/AZ, decode, compare. */
static void test_round_trip_all(void **state)
{
	static const char *ids[] = { "01", "09", "10", "11", "12", "15", "16", "17", "18",
				     "19", "20", "23", "24", "25", "26", "29", "30", "35",
				     "36", "37", "38", "63", "64", "65", "66", "93", "94",
				     "96", "97", "98", "99" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct sip2_msg *m = sip2_msg_new(ids[i]);
		assert_non_null(m->spec);
		for (unsigned k = 0; k < m->spec->n_fixed; k++)
			if (!m->spec->fixed[k].dflt) {
				char v[32];
				memset(v, '1', m->spec->fixed[k].len);
				v[m->spec->fixed[k].len] = 0;
				assert_int_equal(sip2_msg_set_fixed(m, m->spec->fixed[k].name, v), 0);
			}
		if (m->spec->n_fixed && m->spec->fixed[m->spec->n_fixed - 1].len == 18)
			sip2_msg_set_fixed(m, m->spec->fixed[m->spec->n_fixed - 1].name,
					   "20261128    120000");
		if (strcmp(ids[i], "96") && strcmp(ids[i], "97")) {
			sip2_msg_add(m, "AO", "Inst");
			sip2_msg_add(m, "AF", "\xc3\xa9t\xc3\xa9");
			sip2_msg_add(m, "AF", "second");
		}
		for (int ed = 0; ed < 2; ed++) {
			char *wire = encode_ok(m, ed, (int)i, NULL);
			struct sip2_msg *b = NULL;
			assert_int_equal(sip2_decode(wire, strlen(wire), NULL, &b), 0);
			assert_string_equal(b->id, ids[i]);
			assert_int_equal(b->checksum, ed ? SIP2_CKSUM_OK : SIP2_CKSUM_NONE);
			assert_int_equal(b->seq, ed ? (int)(i % 10) : -1);
			assert_int_equal(b->n_fields, m->n_fields);
			for (size_t k = 0; k < m->n_fields; k++) {
				assert_string_equal(b->fields[k].id, m->fields[k].id);
				assert_string_equal(b->fields[k].value, m->fields[k].value);
			}
			for (unsigned k = 0; k < m->spec->n_fixed; k++) {
				const char *name = m->spec->fixed[k].name;
				const char *want = sip2_msg_fixed(m, name);
				assert_string_equal(sip2_msg_fixed(b, name),
						    want ? want : m->spec->fixed[k].dflt);
			}
			char *again = encode_ok(b, ed, (int)i, NULL);
			assert_string_equal(again, wire);
			free(again);
			free(wire);
			sip2_msg_free(b);
		}
		sip2_msg_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_vector),
		cmocka_unit_test(test_fixed_vectors),
		cmocka_unit_test(test_no_error_detection),
		cmocka_unit_test(test_terminators_and_frames),
		cmocka_unit_test(test_fields_order_repeat_unknown),
		cmocka_unit_test(test_refuse_bar),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_round_trip_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
