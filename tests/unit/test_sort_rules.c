/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookdrop's sort rules: what the administrator writes in `sort` and
 * `bins`, what is refused and why, and which bin a return goes to.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/sort_rules.h"

#define CHAIN "hold -> H\ntransit -> T\nsort-bin\ncollection CHILD*, ya -> 3\n" \
	      "call-number 8* -> 4\nmedia 005 -> 5\nlocation ANNEX -> T\ndefault -> 1"

struct fx {
	struct sort_chain c;
	struct sort_bins b;
};

static int setup(void **state)
{
	static struct fx f;
	char err[256] = "";
	memset(&f, 0, sizeof(f));
	assert_int_equal(sort_bins_parse("H = 6\nT=7\n B1 = 1 \nX = 0", &f.b, err, sizeof(err)), 0);
	assert_int_equal(sort_chain_parse(CHAIN, &f.c, err, sizeof(err)), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sort_chain_free(&f->c);
	sort_bins_free(&f->b);
	return 0;
}

static const char *decide(struct fx *f, struct sort_facts facts, int *rule)
{
	const char *bin = NULL;
	*rule = sort_chain_decide(&f->c, &f->b, &facts, &bin);
	return *rule >= 0 ? bin : NULL;
}

static void test_parse_chain(void **state)
{
	struct fx *f = *state;
	assert_int_equal(f->c.n, 8);
	assert_int_equal(f->c.rules[0].cond, SORT_HOLD);
	assert_string_equal(f->c.rules[0].bin, "H");
	assert_int_equal(f->c.rules[2].cond, SORT_SORT_BIN);
	assert_string_equal(f->c.rules[2].bin, "");
	assert_int_equal(f->c.rules[3].n_patterns, 2);
	assert_string_equal(f->c.rules[3].patterns[0], "CHILD*");
	assert_string_equal(f->c.rules[3].patterns[1], "ya");
	assert_string_equal(sort_chain_default_bin(&f->c), "1");
	assert_int_equal(sort_chain_check_bins(&f->c, &f->b, NULL, 0), 0);
}

static void test_decisions(void **state)
{
	struct fx *f = *state;
	int rule;
	/* SIP2 CV 01 and 02 are holds, 04 transit; CT alone is transit too */
	assert_string_equal(decide(f, (struct sort_facts){ .alert_type = "01" }, &rule), "H");
	assert_string_equal(decide(f, (struct sort_facts){ .alert_type = "02", .destination = "B2" }, &rule), "H");
	assert_string_equal(decide(f, (struct sort_facts){ .alert_type = "04" }, &rule), "T");
	assert_string_equal(decide(f, (struct sort_facts){ .destination = "BRANCH" }, &rule), "T");
	assert_int_equal(rule, 1);
	/* the ILS's bin when the sorter knows it, else on down the chain */
	assert_string_equal(decide(f, (struct sort_facts){ .sort_bin = "B1", .collection = "YA" }, &rule), "B1");
	assert_int_equal(rule, 2);
	assert_string_equal(decide(f, (struct sort_facts){ .sort_bin = "Q9", .collection = "YA" }, &rule), "3");
	assert_string_equal(decide(f, (struct sort_facts){ .sort_bin = "2" }, &rule), "2");
	assert_string_equal(decide(f, (struct sort_facts){ .collection = "children" }, &rule), "3");
	assert_string_equal(decide(f, (struct sort_facts){ .call_number = "823.914 ROW" }, &rule), "4");
	assert_string_equal(decide(f, (struct sort_facts){ .call_number = "923" }, &rule), "1");
	assert_string_equal(decide(f, (struct sort_facts){ .media = "005" }, &rule), "5");
	assert_string_equal(decide(f, (struct sort_facts){ .location = "annex" }, &rule), "T");
	assert_int_equal(rule, 6);
	/* absent and empty fields never match a pattern, not even '*' */
	assert_string_equal(decide(f, (struct sort_facts){ .alert_type = "", .collection = "" }, &rule), "1");
	assert_int_equal(rule, 7);
}

static void test_no_default(void **state)
{
	(void)state;
	struct sort_chain c;
	const char *bin = NULL;
	assert_int_equal(sort_chain_parse("media * -> 5", &c, NULL, 0), 0);
	struct sort_facts none = { 0 };
	assert_int_equal(sort_chain_decide(&c, NULL, &none, &bin), -1);
	assert_null(sort_chain_default_bin(&c));
	sort_chain_free(&c);
}

static void refused(const char *text, const char *want)
{
	struct sort_chain c = { 0 };
	char err[256] = "";
	assert_int_equal(sort_chain_parse(text, &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("'%s': error '%s' lacks '%s'", text, err, want);
	assert_int_equal(c.n, 0);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", "no rules");
	refused("hold -> H\n\ndefault -> 1", "rule 2 is empty");
	refused("colour red -> 3", "unknown condition 'colour'");
	refused("collection -> 3", "needs a pattern");
	refused("hold", "no '-> BIN'");
	refused("hold ONE -> H", "takes no pattern");
	refused("default -> 1\nhold -> H", "rule 2 \"hold -> H\" comes after 'default'");
	refused("sort-bin -> 3", "uses the ILS's bin");
	refused("media 005, -> 5", "an empty pattern");
	refused("media 005 -> five bins", "not a bin name");
	refused("media 005 -> ", "not a bin name");
	refused("media 005 -> abcdefghijabcdefghijabcdefghijabc", "not a bin name");
	refused("location A\tB -> 3\nlocation \x01 -> 3", "control character");
}

static void test_bins(void **state)
{
	struct fx *f = *state;
	unsigned n = 99;
	assert_int_equal(sort_bins_number(&f->b, "H", &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(sort_bins_number(&f->b, "12", &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(sort_bins_number(&f->b, "Z", &n), -ENOENT);
	assert_int_equal(sort_bins_number(&f->b, "65536", &n), -ENOENT);
	assert_string_equal(sort_bins_name(&f->b, 7), "T");
	assert_null(sort_bins_name(&f->b, 3));

	struct sort_bins b;
	char err[256];
	assert_int_equal(sort_bins_parse("H", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NAME = NUMBER"));
	assert_int_equal(sort_bins_parse("H = 6\nH = 7", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(sort_bins_parse("H = -1", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(sort_bins_parse("H = 70000", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(sort_bins_parse("a b = 1", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(sort_bins_parse("", &b, err, sizeof(err)), 0);
	assert_int_equal(b.n, 0);

	struct sort_chain c;
	assert_int_equal(sort_chain_parse("hold -> HOLDS\ndefault -> 1", &c, NULL, 0), 0);
	assert_int_equal(sort_chain_check_bins(&c, &f->b, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "rule 1 (hold): bin 'HOLDS' has no sorter position"));
	sort_chain_free(&c);
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(sort_glob_match("8*", "823.914 ROW"));
	assert_true(sort_glob_match("*row", "823.914 ROW"));
	assert_true(sort_glob_match("8?3*", "823"));
	assert_false(sort_glob_match("8?3*", "83"));
	assert_true(sort_glob_match("*", ""));
	assert_true(sort_glob_match("a*b*c", "aXbYbZc"));
	assert_false(sort_glob_match("a*b*c", "aXbYbZ"));
	/* many stars stay linear */
	assert_false(sort_glob_match("*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions, setup, teardown),
		cmocka_unit_test(test_no_default),
		cmocka_unit_test(test_refused),
		cmocka_unit_test_setup_teardown(test_bins, setup, teardown),
		cmocka_unit_test(test_glob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
