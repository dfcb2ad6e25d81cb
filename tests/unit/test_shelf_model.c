/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shelf station's model: call numbers in filing order (Dewey, LC,
 * fiction labels), ranges as shelf labels mean them, and the shelf list's
 * syntax with every error a reason. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shelf_model.h"

static int sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

/* Each list is in filing order: every earlier one sorts before every later one. */
static void assert_filing_order(const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = i < j ? -1 : i > j;
			int got = sign(callno_compare(v[i], v[j]));
			if (got != want)
				fail_msg("compare(\"%s\", \"%s\") = %d, want %d", v[i], v[j], got, want);
		}
}

static void dewey_order(void **state)
{
	(void)state;
	static const char *const v[] = {
		"005.133 KER", "020", "199.99", "200", "200 ABC", "200.1", "200.15",
		"200.2", "398.2 GRI", "398.209 ASB", "823", "823 SMI", "823.9 ADA",
		"823.914 AMI", "823.92 ZAD", "1000",
	};
	assert_filing_order(v, sizeof(v) / sizeof(v[0]));
}

static void lc_order(void **state)
{
	(void)state;
	static const char *const v[] = {
		"P 1", "PA 9", "PA 76", "PN 6", "QA 9 .A1", "QA 70", "QA76 .C15", "QA76.C2", "QA76.73 .C15",
		"QA76.73 .C15 2001", "QA76.73 .J38", "QB 1",
	};
	assert_filing_order(v, sizeof(v) / sizeof(v[0]));
}

static void normalising(void **state)
{
	(void)state;
	/* case, spacing, punctuation and padding do not change the order */
	assert_int_equal(callno_compare("823.9 ada", "823.9 ADA"), 0);
	assert_int_equal(callno_compare("  823.9   ADA ", "823.9 ADA"), 0);
	assert_int_equal(callno_compare("QA76.C15", "QA76 .C15"), 0);
	assert_int_equal(callno_compare("020", "20"), 0);
	assert_int_equal(callno_compare("200.10", "200.1"), 0);
	assert_int_equal(callno_compare("FIC/SMI", "FIC SMI"), 0);
	assert_int_equal(callno_compare("", ""), 0);
	assert_true(callno_compare("", "000") < 0);
	/* numbers longer than any machine word */
	assert_true(callno_compare("123456789012345678901234567890", "99999999999999999999999999999") > 0);
	/* UTF-8 files as letters, without crashing */
	assert_true(callno_compare("FIC \xc3\x85SE", "FIC ZZ") > 0);
}

static void prefixes(void **state)
{
	(void)state;
	assert_true(callno_has_prefix("399.7 SMI", "399"));
	assert_true(callno_has_prefix("399", "399"));
	assert_false(callno_has_prefix("3990", "399")); /* a whole number is not shortened */
	assert_true(callno_has_prefix("FIC MORRISON", "FIC M"));
	assert_true(callno_has_prefix("fic morrison", "FIC M"));
	assert_false(callno_has_prefix("FIC", "FIC M"));
	assert_true(callno_has_prefix("199.995", "199.99"));
	assert_false(callno_has_prefix("199.9", "199.99"));
	assert_false(callno_has_prefix("anything", ""));
}

static void ranges(void **state)
{
	(void)state;
	struct callno_range low = { (char *)"000", (char *)"199.99" };
	struct callno_range mid = { (char *)"200", (char *)"399" };
	struct callno_range fic = { (char *)"FIC A", (char *)"FIC M" };
	assert_true(callno_in_range("000", &low));
	assert_true(callno_in_range("100.5 ABC", &low));
	assert_true(callno_in_range("199.99", &low));
	assert_true(callno_in_range("199.99 XYZ", &low)); /* filed under the upper bound */
	assert_false(callno_in_range("200", &low));
	assert_true(callno_in_range("200", &mid));
	assert_true(callno_in_range("399.7 SMI", &mid));
	assert_false(callno_in_range("400", &mid));
	assert_false(callno_in_range("199.5", &mid));
	assert_true(callno_in_range("FIC ADAMS", &fic));
	assert_true(callno_in_range("FIC MORRISON", &fic));
	assert_false(callno_in_range("FIC NABOKOV", &fic));
	assert_false(callno_in_range("823 SMI", &fic));
}

static void parse_one_good(void **state)
{
	(void)state;
	struct shelf_def s;
	char *err = NULL;
	assert_int_equal(shelf_parse("A1 antenna=1 call=000-199.99", &s, &err), 0);
	assert_string_equal(s.id, "A1");
	assert_null(s.device);
	assert_int_equal(s.n_antennas, 1);
	assert_int_equal(s.antennas[0], 1);
	assert_int_equal(s.n_ranges, 1);
	assert_string_equal(s.ranges[0].from, "000");
	assert_string_equal(s.ranges[0].to, "199.99");
	assert_string_equal(s.rule_text, "call 000..199.99");
	shelf_def_clear(&s);

	assert_int_equal(shelf_parse("  F.2  device=r2 antennas=3,4 call=\"FIC A..FIC M\",\"FIC X..FIC Z\" "
				     "location=main location=ANNEX ", &s, &err), 0);
	assert_string_equal(s.id, "F.2");
	assert_string_equal(s.device, "r2");
	assert_int_equal(s.n_antennas, 2);
	assert_int_equal(s.antennas[1], 4);
	assert_int_equal(s.n_ranges, 2);
	assert_string_equal(s.ranges[1].from, "FIC X");
	assert_int_equal(s.n_locations, 2);
	assert_string_equal(s.locations[1], "ANNEX");
	assert_string_equal(s.rule_text, "call FIC A..FIC M, FIC X..FIC Z; location main, ANNEX");
	shelf_def_clear(&s);

	assert_int_equal(shelf_parse("H antenna=0", &s, &err), 0);
	assert_string_equal(s.rule_text, "any item");
	shelf_def_clear(&s);

	assert_int_equal(shelf_parse("B antenna=2 call=\"QA76\"", &s, &err), 0);
	assert_string_equal(s.ranges[0].from, "QA76");
	assert_string_equal(s.ranges[0].to, "QA76");
	shelf_def_clear(&s);
	assert_null(err);
}

static void expect_bad(const char *spec, const char *reason_part)
{
	struct shelf_def s;
	char *err = NULL;
	int r = shelf_parse(spec, &s, &err);
	if (r != -EINVAL)
		fail_msg("\"%s\" parsed (%d)", spec, r);
	assert_non_null(err);
	if (!strstr(err, reason_part))
		fail_msg("\"%s\": error \"%s\" does not say \"%s\"", spec, err, reason_part);
	free(err);
}

static void parse_one_bad(void **state)
{
	(void)state;
	expect_bad("", "empty");
	expect_bad("A1", "no antenna");
	expect_bad("A1 call=000-100", "no antenna");
	expect_bad("A/1 antenna=1", "shelf id");
	expect_bad("ABCDEFGHIJABCDEFGHIJABCDEFGHIJABC antenna=1", "shelf id");
	expect_bad("A1 antenna=x", "not a number");
	expect_bad("A1 antenna=256", "not a number");
	expect_bad("A1 antenna=-1", "not a number");
	expect_bad("A1 antenna=1,1", "twice");
	expect_bad("A1 antenna=1,", "empty item");
	expect_bad("A1 antenna=", "needs a value");
	expect_bad("A1 antenna=1 call=100-200-300", "more than one '-'");
	expect_bad("A1 antenna=1 call=300-100", "files after");
	expect_bad("A1 antenna=1 call=..100", "both ends");
	expect_bad("A1 antenna=1 call=*", "not a call number");
	expect_bad("A1 antenna=1 call=\"...\"", "both ends");
	expect_bad("A1 antenna=1 call=\"FIC A", "quote");
	expect_bad("A1 antenna=1 colour=red", "unknown key");
	expect_bad("A1 antenna=1 nonsense", "key=value");
	expect_bad("A1 antenna=1 device=a device=b", "twice");
	expect_bad("A1 antenna=1 location=", "needs a value");
}

static void model(void **state)
{
	(void)state;
	struct shelf_model m;
	char **errors;
	size_t n = shelf_model_parse("A1 antenna=1 call=000-199.99\n"
				     "A2 antenna=2 call=200-399\n"
				     "L1 device=r2 antenna=1 location=ANNEX\n"
				     "a1 antenna=5\n"
				     "X antenna=2\n"
				     "Y antenna=9 call=zzz-aaa",
				     &m, &errors);
	assert_int_equal(n, 4);
	/* L1 on r2 antenna 1 overlaps A1, which reads antenna 1 of any device */
	assert_non_null(strstr(errors[0], "shelf 3 (\"L1 device=r2"));
	assert_non_null(strstr(errors[0], "antenna 1 of r2 is already read by shelf 'A1'"));
	assert_non_null(strstr(errors[1], "shelf 4 (\"a1 antenna=5\"): shelf id 'a1' is used twice"));
	assert_non_null(strstr(errors[2], "shelf 5"));
	assert_non_null(strstr(errors[2], "antenna 2 is already read by shelf 'A2'"));
	assert_non_null(strstr(errors[3], "shelf 6"));
	assert_non_null(strstr(errors[3], "files after"));
	assert_int_equal(m.n, 2);
	shelf_errors_free(errors, n);
	shelf_model_free(&m);

	n = shelf_model_parse("A1 device=r1 antenna=1 call=000-199.99\n"
			      "L1 device=r2 antenna=1 location=ANNEX\n"
			      "A2 antenna=2 call=200-399", &m, &errors);
	assert_int_equal(n, 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(shelf_model_find(&m, "r1", 1)->id, "A1");
	assert_string_equal(shelf_model_find(&m, "r2", 1)->id, "L1");
	assert_string_equal(shelf_model_find(&m, "r9", 2)->id, "A2");
	assert_null(shelf_model_find(&m, "r9", 1));
	assert_null(shelf_model_find(&m, "r1", 7));

	const struct shelf_def *a1 = &m.v[0], *l1 = &m.v[1];
	assert_int_equal(shelf_fit(a1, "100.5 ABC", NULL), SHELF_FIT_BELONGS);
	assert_int_equal(shelf_fit(a1, "250 DEF", "main"), SHELF_FIT_MISPLACED);
	assert_int_equal(shelf_fit(a1, NULL, "main"), SHELF_FIT_UNKNOWN);
	assert_int_equal(shelf_fit(a1, "", NULL), SHELF_FIT_UNKNOWN);
	assert_int_equal(shelf_fit(l1, NULL, "annex"), SHELF_FIT_BELONGS);
	assert_int_equal(shelf_fit(l1, "100", "main"), SHELF_FIT_MISPLACED);
	assert_string_equal(shelf_fit_name(SHELF_FIT_MISPLACED), "misplaced");
	shelf_model_free(&m);

	/* one that overlaps across devices: first A (any device) then B on r1 */
	n = shelf_model_parse("A antenna=3\nB device=r1 antenna=3", &m, &errors);
	assert_int_equal(n, 1);
	assert_non_null(strstr(errors[0], "antenna 3 of r1 is already read by shelf 'A'"));
	assert_int_equal(m.n, 1);
	shelf_errors_free(errors, n);
	shelf_model_free(&m);

	assert_int_equal(shelf_model_parse("", &m, &errors), 0);
	assert_int_equal(m.n, 0);
	shelf_model_free(&m);
}

static void shelf_with_both_rules(void **state)
{
	(void)state;
	struct shelf_def s;
	char *err = NULL;
	assert_int_equal(shelf_parse("R antenna=1 call=800-899 location=main", &s, &err), 0);
	assert_int_equal(shelf_fit(&s, "823 SMI", "MAIN"), SHELF_FIT_BELONGS);
	assert_int_equal(shelf_fit(&s, "823 SMI", "annex"), SHELF_FIT_MISPLACED);
	assert_int_equal(shelf_fit(&s, "100", NULL), SHELF_FIT_MISPLACED); /* one known rule fails */
	assert_int_equal(shelf_fit(&s, "823 SMI", NULL), SHELF_FIT_UNKNOWN);
	shelf_def_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dewey_order),
		cmocka_unit_test(lc_order),
		cmocka_unit_test(normalising),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(ranges),
		cmocka_unit_test(parse_one_good),
		cmocka_unit_test(parse_one_bad),
		cmocka_unit_test(model),
		cmocka_unit_test(shelf_with_both_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
