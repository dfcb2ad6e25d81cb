/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gate's pure parts: the alarm decision in every mode and fallback,
 * and the per-tag alarm debounce (with its own clock). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gate_debounce.h"
#include "gate_decide.h"
#include "gate_latency.h"

#define IN_STOCK 0x07
#define ON_LOAN 0xC2

struct fake_cache {
	enum gate_cache_state state;
	int asked;
};

static enum gate_cache_state fake_cache(void *userdata)
{
	struct fake_cache *c = userdata;
	c->asked++;
	return c->state;
}

static struct gate_policy policy(enum gate_mode m)
{
	return (struct gate_policy){ .mode = m, .undecodable = GATE_FALLBACK_AFI,
				     .cache_unknown = GATE_FALLBACK_AFI,
				     .afi_in_stock = IN_STOCK, .afi_on_loan = ON_LOAN };
}

static struct gate_read tag(int afi, int eas)
{
	return (struct gate_read){ .afi = afi, .eas = eas, .has_item_id = true };
}

static struct gate_decision decide(const struct gate_policy *p, struct gate_read r,
				   struct fake_cache *c)
{
	struct gate_decision d;
	gate_decide(p, &r, fake_cache, c, &d);
	return d;
}

static void test_afi_mode(void **state)
{
	(void)state;
	struct gate_policy p = policy(GATE_MODE_AFI);
	struct fake_cache c = { .state = GATE_CACHE_ON_LOAN };
	struct gate_decision d = decide(&p, tag(IN_STOCK, 0), &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_AFI_SECURED);
	d = decide(&p, tag(ON_LOAN, 1), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_AFI_ON_LOAN);
	d = decide(&p, tag(-1, 1), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_AFI_UNKNOWN);
	d = decide(&p, tag(0x99, 1), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_AFI_UNKNOWN);
	assert_int_equal(c.asked, 0); /* AFI mode never reads the cache */

	/* A 3M legacy site: the values come from the site's config. */
	p.afi_in_stock = 0xDA;
	p.afi_on_loan = 0xD7;
	assert_true(decide(&p, tag(0xDA, -1), &c).alarm);
	assert_false(decide(&p, tag(IN_STOCK, -1), &c).alarm);
}

static void test_eas_mode(void **state)
{
	(void)state;
	struct gate_policy p = policy(GATE_MODE_EAS);
	struct fake_cache c = { 0 };
	struct gate_decision d = decide(&p, tag(ON_LOAN, 1), &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_EAS_ON);
	d = decide(&p, tag(IN_STOCK, 0), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_EAS_OFF);
	d = decide(&p, tag(IN_STOCK, -1), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_EAS_NOT_READ);
	assert_int_equal(c.asked, 0);
}

static void test_cache_mode(void **state)
{
	(void)state;
	struct gate_policy p = policy(GATE_MODE_CACHE);
	struct fake_cache c = { .state = GATE_CACHE_NOT_ON_LOAN };
	/* The tag's AFI says "on loan", the cache knows better. */
	struct gate_decision d = decide(&p, tag(ON_LOAN, 0), &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_CACHE_NOT_ON_LOAN);
	assert_true(d.cache_asked);
	c.state = GATE_CACHE_ON_LOAN;
	d = decide(&p, tag(IN_STOCK, 1), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_CACHE_ON_LOAN);

	/* Unknown items: the cache_unknown fallback. */
	c.state = GATE_CACHE_UNKNOWN;
	d = decide(&p, tag(IN_STOCK, -1), &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_CACHE_UNKNOWN);
	assert_false(decide(&p, tag(ON_LOAN, -1), &c).alarm);
	assert_false(decide(&p, tag(-1, -1), &c).alarm);
	p.cache_unknown = GATE_FALLBACK_ALARM;
	assert_true(decide(&p, tag(ON_LOAN, -1), &c).alarm);
	p.cache_unknown = GATE_FALLBACK_SILENT;
	assert_false(decide(&p, tag(IN_STOCK, -1), &c).alarm);

	/* No item id: the cache is not asked; the undecodable policy says. */
	int asked = c.asked;
	struct gate_read r = tag(IN_STOCK, -1);
	r.has_item_id = false;
	d = decide(&p, r, &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_NO_ITEM_ID);
	assert_false(d.cache_asked);
	assert_int_equal(c.asked, asked);
}

static void test_afi_then_cache_mode(void **state)
{
	(void)state;
	struct gate_policy p = policy(GATE_MODE_AFI_THEN_CACHE);
	struct fake_cache c = { .state = GATE_CACHE_NOT_ON_LOAN };

	/* On-loan AFI: silent without asking (the tag is trusted). */
	struct gate_decision d = decide(&p, tag(ON_LOAN, -1), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_AFI_ON_LOAN);
	assert_int_equal(c.asked, 0);

	/* In-stock AFI, cache agrees or does not know: alarm. */
	d = decide(&p, tag(IN_STOCK, -1), &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_AFI_SECURED);
	c.state = GATE_CACHE_UNKNOWN;
	assert_true(decide(&p, tag(IN_STOCK, -1), &c).alarm);

	/* In-stock AFI but on loan (the AFI write at checkout failed): silent. */
	c.state = GATE_CACHE_ON_LOAN;
	d = decide(&p, tag(IN_STOCK, -1), &c);
	assert_false(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_CACHE_ON_LOAN);
	assert_true(d.cache_asked);

	/* In-stock AFI without an item id: nothing to confirm with. */
	struct gate_read r = tag(IN_STOCK, -1);
	r.has_item_id = false;
	d = decide(&p, r, &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_AFI_SECURED);

	/* No AFI read: decided by the cache. */
	c.state = GATE_CACHE_NOT_ON_LOAN;
	d = decide(&p, tag(-1, -1), &c);
	assert_true(d.alarm);
	assert_int_equal(d.reason, GATE_REASON_CACHE_NOT_ON_LOAN);
	c.state = GATE_CACHE_ON_LOAN;
	assert_false(decide(&p, tag(-1, -1), &c).alarm);
}

static void test_undecodable(void **state)
{
	(void)state;
	static const enum gate_mode modes[] = { GATE_MODE_AFI, GATE_MODE_EAS, GATE_MODE_CACHE,
						GATE_MODE_AFI_THEN_CACHE };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct gate_policy p = policy(modes[i]);
		struct fake_cache c = { .state = GATE_CACHE_ON_LOAN };
		struct gate_read r = { .afi = IN_STOCK, .eas = 0, .undecodable = true };
		struct gate_decision d = decide(&p, r, &c);
		assert_true(d.alarm); /* default: the AFI says in stock */
		assert_int_equal(d.reason, GATE_REASON_UNDECODABLE);
		r.afi = ON_LOAN;
		r.eas = 1;
		assert_false(decide(&p, r, &c).alarm);
		p.undecodable = GATE_FALLBACK_ALARM;
		assert_true(decide(&p, r, &c).alarm);
		p.undecodable = GATE_FALLBACK_SILENT;
		r.afi = IN_STOCK;
		assert_false(decide(&p, r, &c).alarm);
		assert_int_equal(c.asked, 0);
	}
}

static void test_names_and_status(void **state)
{
	(void)state;
	enum gate_mode m;
	enum gate_fallback f;
	assert_int_equal(gate_mode_from_name("afi-then-cache", &m), 0);
	assert_int_equal(m, GATE_MODE_AFI_THEN_CACHE);
	assert_string_equal(gate_mode_name(m), "afi-then-cache");
	assert_int_equal(gate_mode_from_name("AFI", &m), -EINVAL);
	assert_int_equal(gate_mode_from_name(NULL, &m), -EINVAL);
	assert_int_equal(gate_fallback_from_name("silent", &f), 0);
	assert_int_equal(f, GATE_FALLBACK_SILENT);
	assert_int_equal(gate_fallback_from_name("loud", &f), -EINVAL);
	for (int r = 0; r < GATE_REASON_COUNT_; r++)
		assert_string_not_equal(gate_reason_name((enum gate_reason)r), "?");
	assert_int_equal(gate_cache_state_of_status("04"), GATE_CACHE_ON_LOAN);
	assert_int_equal(gate_cache_state_of_status("05"), GATE_CACHE_ON_LOAN);
	assert_int_equal(gate_cache_state_of_status("07"), GATE_CACHE_ON_LOAN);
	assert_int_equal(gate_cache_state_of_status("03"), GATE_CACHE_NOT_ON_LOAN);
	assert_int_equal(gate_cache_state_of_status("09"), GATE_CACHE_NOT_ON_LOAN);
	assert_int_equal(gate_cache_state_of_status("13"), GATE_CACHE_NOT_ON_LOAN);
	assert_int_equal(gate_cache_state_of_status(""), GATE_CACHE_UNKNOWN);
	assert_int_equal(gate_cache_state_of_status(NULL), GATE_CACHE_UNKNOWN);
}

static void test_debounce(void **state)
{
	(void)state;
	struct gate_debounce d;
	const uint8_t a[8] = { 0xE0, 4, 1, 0, 0, 0, 0, 1 }, b[8] = { 0xE0, 4, 1, 0, 0, 0, 0, 2 };
	gate_debounce_init(&d, 1000);
	assert_false(gate_debounce_quiet(&d, a, 8, 0));
	gate_debounce_arm(&d, a, 8, 5000);
	assert_true(gate_debounce_quiet(&d, a, 8, 5000));
	assert_true(gate_debounce_quiet(&d, a, 8, 5999));
	assert_false(gate_debounce_quiet(&d, a, 8, 6000));
	assert_false(gate_debounce_quiet(&d, b, 8, 5500));
	assert_false(gate_debounce_quiet(&d, a, 7, 5500)); /* a prefix is another key */
	/* Re-armed after the window: quiet again. */
	gate_debounce_arm(&d, a, 8, 7000);
	assert_true(gate_debounce_quiet(&d, a, 8, 7500));
	/* Empty keys are never quiet. */
	gate_debounce_arm(&d, a, 0, 7000);
	assert_false(gate_debounce_quiet(&d, a, 0, 7000));
	gate_debounce_free(&d);
}

static void test_debounce_bounded(void **state)
{
	(void)state;
	struct gate_debounce d;
	gate_debounce_init(&d, 100);
	/* 100,000 tags, one every 10 us: at most ~10 are quiet at a time, so
	 * the table must not grow with the total. */
	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t k[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		uint64_t now = 1000 + (uint64_t)i * 10;
		assert_false(gate_debounce_quiet(&d, k, 4, now));
		gate_debounce_arm(&d, k, 4, now);
		assert_true(gate_debounce_quiet(&d, k, 4, now + 99));
	}
	assert_true(d.cap <= 256);
	assert_true(gate_debounce_count(&d, 1000 + 100000 * 10) <= 11);
	/* Many quiet at once: it grows and keeps them all. */
	gate_debounce_free(&d);
	gate_debounce_init(&d, 1000000);
	for (uint32_t i = 0; i < 5000; i++) {
		uint8_t k[4] = { 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		gate_debounce_arm(&d, k, 4, 10);
	}
	assert_int_equal(gate_debounce_count(&d, 11), 5000);
	for (uint32_t i = 0; i < 5000; i++) {
		uint8_t k[4] = { 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		assert_true(gate_debounce_quiet(&d, k, 4, 20));
	}
	gate_debounce_free(&d);
}

static int64_t key_int(json_object *o, const char *key)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

static void test_latency_percentiles(void **state)
{
	(void)state;
	struct gate_latency l = { 0 };
	json_object *o = gate_latency_json(&l);
	assert_int_equal(key_int(o, "samples"), 0);
	assert_false(json_object_object_get_ex(o, "p50_us", NULL));
	json_object_put(o);
	for (uint64_t v = 100; v >= 1; v--) /* 100 .. 1: order must not matter */
		gate_latency_add(&l, v);
	o = gate_latency_json(&l);
	assert_int_equal(key_int(o, "count"), 100);
	assert_int_equal(key_int(o, "p50_us"), 50);
	assert_int_equal(key_int(o, "p90_us"), 90);
	assert_int_equal(key_int(o, "p99_us"), 99);
	assert_int_equal(key_int(o, "p999_us"), 100);
	assert_int_equal(key_int(o, "max_us"), 100);
	json_object_put(o);
	/* The ring keeps the last GATE_LATENCY_SAMPLES: old slow ones fall out. */
	for (uint64_t i = 0; i < GATE_LATENCY_SAMPLES; i++)
		gate_latency_add(&l, 7);
	o = gate_latency_json(&l);
	assert_int_equal(key_int(o, "samples"), GATE_LATENCY_SAMPLES);
	assert_int_equal(key_int(o, "max_us"), 7);
	assert_int_equal(key_int(o, "p99_us"), 7);
	json_object_put(o);
	gate_latency_reset(&l);
	o = gate_latency_json(&l);
	assert_int_equal(key_int(o, "count"), 0);
	json_object_put(o);
	gate_latency_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_afi_mode),
		cmocka_unit_test(test_eas_mode),
		cmocka_unit_test(test_cache_mode),
		cmocka_unit_test(test_afi_then_cache_mode),
		cmocka_unit_test(test_undecodable),
		cmocka_unit_test(test_names_and_status),
		cmocka_unit_test(test_debounce),
		cmocka_unit_test(test_debounce_bounded),
		cmocka_unit_test(test_latency_percentiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
