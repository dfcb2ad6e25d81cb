/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sets: a 3-disc audiobook returned with one disc missing is an exception,
 * not a return.
 */
#include "config.h"

#include "test_tag_util.h"
#include "tags/sets.h"

#define SEC 1000000ULL

static void test_complete_within_window(void **state)
{
	(void)state;
	struct tag_set_tracker t;
	unsigned seen, total;

	tag_set_tracker_init(&t, 10 * SEC);
	assert_int_equal(tag_set_feed(&t, "DK-761500", "4711", 1, 3, 100 * SEC), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_feed(&t, "DK-761500", "4711", 3, 3, 102 * SEC), TAG_SET_INCOMPLETE);
	/* the same disc twice counts once */
	assert_int_equal(tag_set_feed(&t, "DK-761500", "4711", 3, 3, 103 * SEC), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_query(&t, "DK-761500", "4711", 103 * SEC, &seen, &total),
			 TAG_SET_INCOMPLETE);
	assert_int_equal(seen, 2);
	assert_int_equal(total, 3);
	assert_int_equal(tag_set_feed(&t, "DK-761500", "4711", 2, 3, 105 * SEC), TAG_SET_COMPLETE);
	assert_int_equal(tag_set_query(&t, "DK-761500", "4711", 200 * SEC, NULL, NULL), TAG_SET_COMPLETE);
	assert_int_equal(tag_set_forget(&t, "DK-761500", "4711"), 0);
	assert_int_equal(tag_set_query(&t, "DK-761500", "4711", 200 * SEC, NULL, NULL), TAG_SET_UNKNOWN);
	assert_int_equal(tag_set_forget(&t, "DK-761500", "4711"), -ENOENT);
}

static void test_missing_disc_expires(void **state)
{
	(void)state;
	struct tag_set_tracker t;
	struct tag_set_entry out[4];

	tag_set_tracker_init(&t, 10 * SEC);
	assert_int_equal(tag_set_feed(&t, NULL, "audiobook", 1, 3, 0), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_feed(&t, NULL, "audiobook", 2, 3, 5 * SEC), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_query(&t, NULL, "audiobook", 9 * SEC, NULL, NULL), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_query(&t, "", "audiobook", 11 * SEC, NULL, NULL), TAG_SET_EXPIRED);
	assert_int_equal(tag_set_take_expired(&t, 11 * SEC, out, 4), 1);
	assert_string_equal(out[0].item_id, "audiobook");
	assert_true(tag_set_entry_has(&out[0], 1));
	assert_true(tag_set_entry_has(&out[0], 2));
	assert_false(tag_set_entry_has(&out[0], 3));
	assert_int_equal(tag_set_query(&t, NULL, "audiobook", 11 * SEC, NULL, NULL), TAG_SET_UNKNOWN);

	/* the missing disc arriving after the window is a new attempt */
	assert_int_equal(tag_set_feed(&t, NULL, "cd", 1, 2, 0), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_feed(&t, NULL, "cd", 2, 2, 30 * SEC), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_feed(&t, NULL, "cd", 1, 2, 31 * SEC), TAG_SET_COMPLETE);
}

static void test_single_and_invalid(void **state)
{
	(void)state;
	struct tag_set_tracker t;

	tag_set_tracker_init(&t, SEC);
	assert_int_equal(tag_set_feed(&t, NULL, "book", 1, 1, 0), TAG_SET_SINGLE);
	assert_int_equal(tag_set_feed(&t, NULL, "book", 0, 3, 0), -EINVAL);
	assert_int_equal(tag_set_feed(&t, NULL, "book", 4, 3, 0), -EINVAL);
	assert_int_equal(tag_set_feed(&t, NULL, "book", 1, 256, 0), -EINVAL);
	assert_int_equal(tag_set_feed(&t, NULL, "", 1, 2, 0), -EINVAL);
	/* a total that disagrees with the earlier parts */
	assert_int_equal(tag_set_feed(&t, NULL, "box", 1, 2, 0), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_feed(&t, NULL, "box", 2, 3, 0), -EINVAL);
	/* owner is part of the key */
	assert_int_equal(tag_set_feed(&t, "DE-1", "box", 2, 2, 0), TAG_SET_INCOMPLETE);
	/* 255 parts */
	for (unsigned i = 1; i < 255; i++)
		assert_int_equal(tag_set_feed(&t, NULL, "encyclopedia", i, 255, 0), TAG_SET_INCOMPLETE);
	assert_int_equal(tag_set_feed(&t, NULL, "encyclopedia", 255, 255, 0), TAG_SET_COMPLETE);
}

static void test_bounded(void **state)
{
	(void)state;
	struct tag_set_tracker t;
	char id[16];

	tag_set_tracker_init(&t, 1000 * SEC);
	for (unsigned i = 0; i < TAG_SET_TRACKER_MAX + 10; i++) {
		snprintf(id, sizeof(id), "set%u", i);
		assert_int_equal(tag_set_feed(&t, NULL, id, 1, 2, i * SEC), TAG_SET_INCOMPLETE);
	}
	assert_int_equal(t.evicted, 10);
	/* the oldest went first */
	assert_int_equal(tag_set_query(&t, NULL, "set0", 100 * SEC, NULL, NULL), TAG_SET_UNKNOWN);
	assert_int_equal(tag_set_query(&t, NULL, "set73", 100 * SEC, NULL, NULL), TAG_SET_INCOMPLETE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_within_window),
		cmocka_unit_test(test_missing_disc_expires),
		cmocka_unit_test(test_single_and_invalid),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
