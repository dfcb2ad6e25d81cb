/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics registry and its text exposition (format 0.0.4): what a
 * Prometheus server reads must be exactly the documented lines — HELP and
 * TYPE once per family, label values escaped, histogram buckets cumulative
 * with +Inf equal to _count — and the hooks count what the core reports. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"
#include "instance.h"
#include "metrics.h"
#include "util/util.h"

static char *render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(metrics_write(m, f), 0);
	fclose(f);
	return text;
}

static void test_counter_with_labels(void **state)
{
	struct metrics *m = metrics_new_empty();
	assert_int_equal(metrics_declare(m, "x_total", METRICS_COUNTER, "Things.",
					 (const char *const[]){ "device", "type", NULL }, NULL, 0),
			 0);
	assert_int_equal(metrics_count(m, "x_total", "drop1", "tag-seen", NULL), 0);
	assert_int_equal(metrics_count(m, "x_total", "drop1", "tag-seen", NULL), 0);
	assert_int_equal(metrics_add(m, "x_total", 3, "drop2", "card", NULL), 0);
	char *t = render(m);
	assert_string_equal(t, "# HELP x_total Things.\n"
			       "# TYPE x_total counter\n"
			       "x_total{device=\"drop1\",type=\"tag-seen\"} 2\n"
			       "x_total{device=\"drop2\",type=\"card\"} 3\n");
	free(t);
	assert_true(metrics_value(m, "x_total", "drop1", "tag-seen", NULL) == 2);
	assert_true(metrics_value(m, "x_total", "nope", "card", NULL) == -1);
	/* Asking did not create the series. */
	t = render(m);
	assert_null(strstr(t, "nope"));
	free(t);
	metrics_free(m);
}

static void test_label_escaping(void **state)
{
	struct metrics *m = metrics_new_empty();
	assert_int_equal(metrics_declare(m, "g", METRICS_GAUGE, "Back\\slash and\nnewline.",
					 (const char *const[]){ "name", NULL }, NULL, 0),
			 0);
	assert_int_equal(metrics_set(m, "g", 1.5, "a \"quoted\" \\ name\nwith newline", NULL), 0);
	char *t = render(m);
	assert_string_equal(t, "# HELP g Back\\\\slash and\\nnewline.\n"
			       "# TYPE g gauge\n"
			       "g{name=\"a \\\"quoted\\\" \\\\ name\\nwith newline\"} 1.5\n");
	free(t);
	metrics_free(m);
}

static void test_histogram_cumulative(void **state)
{
	struct metrics *m = metrics_new_empty();
	const double b[] = { 0.125, 0.5, 1 };
	assert_int_equal(metrics_declare(m, "lat_seconds", METRICS_HISTOGRAM, "Latency.",
					 (const char *const[]){ "station", NULL }, b, 3),
			 0);
	/* le is "less than or equal": 0.125 falls in the first bucket.  (Values
	 * exact in binary, so that the sum is too.) */
	const double obs[] = { 0.0625, 0.125, 0.25, 0.75, 2, 3 };
	for (size_t i = 0; i < ARRAY_SIZE(obs); i++)
		assert_int_equal(metrics_observe(m, "lat_seconds", obs[i], "gate1", NULL), 0);
	char *t = render(m);
	assert_string_equal(t, "# HELP lat_seconds Latency.\n"
			       "# TYPE lat_seconds histogram\n"
			       "lat_seconds_bucket{station=\"gate1\",le=\"0.125\"} 2\n"
			       "lat_seconds_bucket{station=\"gate1\",le=\"0.5\"} 3\n"
			       "lat_seconds_bucket{station=\"gate1\",le=\"1\"} 4\n"
			       "lat_seconds_bucket{station=\"gate1\",le=\"+Inf\"} 6\n"
			       "lat_seconds_sum{station=\"gate1\"} 6.1875\n"
			       "lat_seconds_count{station=\"gate1\"} 6\n");
	free(t);
	metrics_free(m);
}

static void test_histogram_unlabelled_and_pending(void **state)
{
	struct metrics *m = metrics_new_empty();
	const double b[] = { 0.001, 0.01 };
	assert_int_equal(metrics_declare(m, "h", METRICS_HISTOGRAM, "H.", NULL, b, 2), 0);
	assert_int_equal(metrics_touch(m, "h", NULL), 0);
	char *t = render(m);
	assert_string_equal(t, "# HELP h H.\n# TYPE h histogram\n"
			       "h_bucket{le=\"0.001\"} 0\nh_bucket{le=\"0.01\"} 0\n"
			       "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
	free(t);
	/* Three events arrive at 1000, 5000 and 9500 usec; their batch commits at 10000. */
	assert_int_equal(metrics_pending_add(m, "h", 1000), 0);
	assert_int_equal(metrics_pending_add(m, "h", 5000), 0);
	assert_int_equal(metrics_pending_add(m, "h", 9500), 0);
	assert_int_equal(metrics_pending_observe(m, "h", 10000), 0);
	assert_true(metrics_value(m, "h", NULL) == 3);
	/* Forgotten once observed. */
	assert_int_equal(metrics_pending_observe(m, "h", 20000), 0);
	assert_true(metrics_value(m, "h", NULL) == 3);
	metrics_pending_add(m, "h", 1);
	metrics_pending_drop(m, "h");
	metrics_pending_observe(m, "h", 2);
	assert_true(metrics_value(m, "h", NULL) == 3);
	t = render(m);
	assert_non_null(strstr(t, "h_bucket{le=\"0.001\"} 1\nh_bucket{le=\"0.01\"} 3\n"
				  "h_bucket{le=\"+Inf\"} 3\nh_sum "));
	const char *sum = strstr(t, "h_sum ") + strlen("h_sum ");
	assert_true(fabs(strtod(sum, NULL) - 0.0145) < 1e-12);
	assert_non_null(strstr(t, "\nh_count 3\n"));
	free(t);
	metrics_free(m);
}

static void test_misuse_is_refused(void **state)
{
	struct metrics *m = metrics_new_empty();
	const double bad[] = { 1, 0.5 };
	assert_int_equal(metrics_declare(m, "c", METRICS_COUNTER, "C.",
					 (const char *const[]){ "a", NULL }, NULL, 0),
			 0);
	assert_int_equal(metrics_declare(m, "c", METRICS_COUNTER, "C.", NULL, NULL, 0), -EEXIST);
	assert_int_equal(metrics_declare(m, "9bad", METRICS_GAUGE, "", NULL, NULL, 0), -EINVAL);
	assert_int_equal(metrics_declare(m, "h", METRICS_HISTOGRAM, "", NULL, bad, 2), -EINVAL);
	assert_int_equal(metrics_declare(m, "h", METRICS_HISTOGRAM, "",
					 (const char *const[]){ "le", NULL }, (double[]){ 1 }, 1),
			 -EINVAL);
	assert_int_equal(metrics_count(m, "nope", NULL), -ENOENT);
	assert_int_equal(metrics_count(m, "c", NULL), -EINVAL);           /* too few labels */
	assert_int_equal(metrics_count(m, "c", "x", "y", NULL), -EINVAL); /* too many */
	assert_int_equal(metrics_add(m, "c", -1, "x", NULL), -EINVAL);    /* counters only go up */
	assert_int_equal(metrics_set(m, "c", 1, "x", NULL), -EINVAL);
	assert_int_equal(metrics_observe(m, "c", 1, "x", NULL), -EINVAL);
	/* Families without series are not rendered. */
	char *t = render(m);
	assert_string_equal(t, "");
	free(t);
	metrics_free(m);
}

static void test_values(void **state)
{
	char buf[64];
	metrics_format_value(INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "+Inf");
	metrics_format_value(-INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "-Inf");
	metrics_format_value(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "NaN");
	metrics_format_value(0.0005, buf, sizeof(buf));
	assert_string_equal(buf, "0.0005");
	metrics_format_value(12345678901.0, buf, sizeof(buf));
	assert_string_equal(buf, "12345678901");
	metrics_format_value(0.1 + 0.2, buf, sizeof(buf));
	assert_true(strtod(buf, NULL) == 0.1 + 0.2);
}

/* circd's own families: declared, rendered only with data, and the gate's
 * histogram is one call away. */
static void test_circd_families(void **state)
{
	struct metrics *m = metrics_new();
	char *t = render(m);
	assert_string_equal(t, ""); /* nothing reported yet */
	free(t);
	assert_int_equal(metrics_observe(m, "circd_gate_decision_seconds", 0.004, "gate1", NULL), 0);
	assert_int_equal(metrics_count(m, "circd_alarms_total", "gate1", NULL), 0);
	assert_int_equal(metrics_count(m, "circd_returns_by_bin_total", "returns", "holds", NULL), 0);
	t = render(m);
	assert_non_null(strstr(t, "# TYPE circd_gate_decision_seconds histogram\n"));
	assert_non_null(strstr(t, "circd_gate_decision_seconds_bucket{station=\"gate1\",le=\"0.0025\"} 0\n"
				  "circd_gate_decision_seconds_bucket{station=\"gate1\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(t, "circd_gate_decision_seconds_count{station=\"gate1\"} 1\n"));
	assert_non_null(strstr(t, "circd_alarms_total{station=\"gate1\"} 1\n"));
	assert_non_null(strstr(t, "circd_returns_by_bin_total{station=\"returns\",bin=\"holds\"} 1\n"));
	free(t);
	metrics_free(m);
}

/* The hooks, against a core that has only what they read. */
static void test_hooks(void **state)
{
	struct core core = { .metrics = metrics_new() };
	struct instance up = { .core = &core, .role = INSTANCE_UPSTREAM, .name = "ils" };
	struct instance dev = { .core = &core, .role = INSTANCE_DEVICE, .name = "drop1" };

	metrics_on_event(&core, &dev, CIRCD_EV_TAG_SEEN, 100);
	metrics_on_event(&core, &dev, CIRCD_EV_TAG_SEEN, 200);
	metrics_on_event(&core, &dev, 999, 0);
	assert_true(metrics_value(core.metrics, "circd_events_total", "drop1", "tag-seen", NULL) == 2);
	assert_true(metrics_value(core.metrics, "circd_events_total", "drop1", "unknown", NULL) == 1);
	metrics_on_commit(&core, now_monotonic_usec(), true, 0);
	assert_true(metrics_value(core.metrics, "circd_event_to_commit_seconds", NULL) == 2);
	assert_true(metrics_value(core.metrics, "circd_journal_commit_seconds", NULL) == 1);
	metrics_on_commit(&core, now_monotonic_usec(), false, 0); /* nothing written: not a commit */
	assert_true(metrics_value(core.metrics, "circd_journal_commit_seconds", NULL) == 1);

	metrics_on_answer(&core, &up, CIRCD_TXN_OK);
	metrics_on_answer(&core, &up, CIRCD_TXN_RETRY);
	metrics_on_answer(&core, &up, CIRCD_TXN_NOT_SENT);
	metrics_on_answer(&core, &up, CIRCD_TXN_REJECTED);
	assert_true(metrics_value(core.metrics, "circd_deliveries_done_total", "ils", NULL) == 1);
	assert_true(metrics_value(core.metrics, "circd_upstream_retries_total", "ils", NULL) == 2);

	/* ok -> offline -> starting -> ok is one reconnect; degraded -> ok is none. */
	metrics_on_health(&core, &up, CIRCD_HEALTH_OK);
	metrics_on_health(&core, &up, CIRCD_HEALTH_OFFLINE);
	metrics_on_health(&core, &up, CIRCD_HEALTH_STARTING);
	metrics_on_health(&core, &up, CIRCD_HEALTH_OK);
	metrics_on_health(&core, &up, CIRCD_HEALTH_DEGRADED);
	metrics_on_health(&core, &up, CIRCD_HEALTH_OK);
	assert_true(metrics_value(core.metrics, "circd_upstream_reconnects_total", "ils", NULL) == 1);
	metrics_on_health(&core, &dev, CIRCD_HEALTH_OFFLINE);
	metrics_on_health(&core, &dev, CIRCD_HEALTH_OK);
	assert_true(metrics_value(core.metrics, "circd_upstream_reconnects_total", "drop1", NULL) == -1);
	metrics_free(core.metrics);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_with_labels),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_histogram_unlabelled_and_pending),
		cmocka_unit_test(test_misuse_is_refused),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_circd_families),
		cmocka_unit_test(test_hooks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
