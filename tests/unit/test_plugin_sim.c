/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim plugin, loaded from plugins/.libs/sim.so through the fake host:
 * scenario playback and its order, timing, repeat, injections, commands,
 * malformed scenarios, backpressure, loop and generated load.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakehost.h"
#include "util/util.h"

static char tmpdir[] = "/tmp/circd-test-sim-XXXXXX";
static char scn_path[256];

static int group_setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(scn_path, sizeof(scn_path), "%s/test.scn", tmpdir);
	return 0;
}

static int group_teardown(void **state)
{
	unlink(scn_path);
	rmdir(tmpdir);
	return 0;
}

static void write_scenario(const char *text)
{
	FILE *f = fopen(scn_path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load sim with a scenario (or none) and options; create and start. */
static struct fakehost *start_sim(const char *scenario, const char *const *opts)
{
	struct fakehost *fh = fakehost_new();
	const char *kv[16];
	size_t n = 0;
	_cleanup_free_ char *scn_opt = NULL;

	if (fakehost_load_plugin(fh, "sim") < 0)
		fail_msg("%s", fakehost_error(fh));
	if (scenario) {
		write_scenario(scenario);
		scn_opt = xasprintf("scenario=%s", scn_path);
		kv[n++] = scn_opt;
	}
	for (size_t i = 0; opts && opts[i] && n < 15; i++)
		kv[n++] = opts[i];
	kv[n] = NULL;
	if (fakehost_set_options(fh, kv) < 0)
		fail_msg("%s", fakehost_error(fh));
	if (fakehost_create(fh) < 0)
		fail_msg("%s", fakehost_error(fh));
	assert_int_equal(fakehost_start(fh), 0);
	return fh;
}

static void stop_sim(struct fakehost *fh)
{
	assert_int_equal(fakehost_stop(fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
}

static const char *hex(const struct circd_event *ev)
{
	static char buf[2 * CIRCD_UID_MAX + 1];
	hex_encode(ev->uid, ev->uid_len, buf);
	return buf;
}

static void test_descriptor_and_options(void **state)
{
	struct fakehost *fh = fakehost_new();

	assert_int_equal(fakehost_load_plugin(fh, "sim"), 0);
	const struct circd_plugin *p = fakehost_plugin(fh);
	assert_string_equal(p->name, "sim");
	assert_true(p->kinds & CIRCD_KIND_READER);
	assert_true(p->kinds & CIRCD_KIND_SORTER);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "bogus=1", NULL }), -EINVAL);
	assert_non_null(strstr(fakehost_error(fh), "unknown option 'bogus'"));
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "speed=fast", NULL }), -EINVAL);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "generate_count=-1", NULL }),
			 -EINVAL);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "speed=-1", NULL }), 0);
	assert_int_equal(fakehost_create(fh), -EINVAL); /* checked by the plugin */
	fakehost_free(fh);
}

/* Virtual time decides the order, whatever the speed: a tag's gone comes
 * between later steps, ids count 1, 2, 3 ... in that order. */
static void test_play_order(void **state)
{
	struct fakehost *fh = start_sim(
		"# order\n"
		"0 tag uid=E004015000000001 dwell=100 item=BOOK1 afi=07 dsfid=06 eas=1 antenna=2\n"
		"\n"
		"50 tag-seen uid=E004015000000002 mem=\"01 02 03 04\" block_size=4\n"
		"+100 drop   # at 150\n"
		"150 gate-pass dir=out\n"
		"+0 card barcode=\"P 42\"\n"
		"+1 card uid=04A1B2C3\n"
		"+1 sensor name=fill_bin1 value=75.5\n"
		"+1 input name=door value=1\n"
		"+1 tag-gone uid=E004015000000002 antenna=3\n",
		(const char *[]){ "speed=0", NULL });

	assert_int_equal(fakehost_wait_events(fh, 10, 3000), 0);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(fakehost_event(fh, i)->device_event_id, i + 1);

	const struct circd_event *ev = fakehost_event(fh, 0);
	assert_int_equal(ev->type, CIRCD_EV_TAG_SEEN);
	assert_string_equal(hex(ev), "e004015000000001");
	assert_string_equal(ev->item_id, "BOOK1");
	assert_int_equal(ev->afi, 7);
	assert_int_equal(ev->dsfid, 6);
	assert_int_equal(ev->eas, 1);
	assert_int_equal(ev->antenna, 2);

	ev = fakehost_event(fh, 1);
	assert_int_equal(ev->type, CIRCD_EV_TAG_SEEN);
	assert_int_equal(ev->afi, -1);
	assert_int_equal(ev->memory_len, 4);
	assert_memory_equal(ev->memory, "\x01\x02\x03\x04", 4);
	assert_int_equal(ev->block_size, 4);

	ev = fakehost_event(fh, 2); /* gone of the first tag at 100 */
	assert_int_equal(ev->type, CIRCD_EV_TAG_GONE);
	assert_string_equal(hex(ev), "e004015000000001");
	assert_int_equal(ev->antenna, 2);

	assert_int_equal(fakehost_event(fh, 3)->type, CIRCD_EV_ITEM_DROP);
	assert_int_equal(fakehost_event(fh, 4)->type, CIRCD_EV_GATE_PASS);
	assert_int_equal(fakehost_event(fh, 4)->direction, CIRCD_DIR_OUT);
	ev = fakehost_event(fh, 5);
	assert_int_equal(ev->type, CIRCD_EV_CARD_SEEN);
	assert_string_equal(ev->item_id, "P 42");
	ev = fakehost_event(fh, 6);
	assert_int_equal(ev->uid_len, 4);
	ev = fakehost_event(fh, 7);
	assert_int_equal(ev->type, CIRCD_EV_SENSOR);
	assert_string_equal(ev->name, "fill_bin1");
	assert_true(ev->value > 75.4 && ev->value < 75.6);
	ev = fakehost_event(fh, 8);
	assert_int_equal(ev->type, CIRCD_EV_INPUT);
	assert_true(ev->value == 1);
	assert_int_equal(fakehost_event(fh, 9)->antenna, 3);
	assert_int_equal(fakehost_health(fh), CIRCD_HEALTH_OK);
	stop_sim(fh);
}

/* Events are never early: each comes at least its scenario time after the
 * start (scaled by speed, plus start_delay_ms).  The upper bounds are loose:
 * timing precision is for benchmarks, not unit tests. */
static void expect_not_early(struct fakehost *fh, uint64_t t_start, size_t i, uint64_t at_ms)
{
	uint64_t d = fakehost_event_time(fh, i) - t_start;
	if (d < at_ms * 1000 || d > at_ms * 1000 + 1000000)
		fail_msg("event %zu came %llu us after the start, expected %llu ms", i,
			 (unsigned long long)d, (unsigned long long)at_ms);
}

static void test_timing(void **state)
{
	static const char *scn = "0 drop\n100 drop\n+150 drop\n";
	uint64_t t = now_monotonic_usec();
	struct fakehost *fh = start_sim(scn, NULL);

	assert_int_equal(fakehost_wait_events(fh, 3, 3000), 0);
	expect_not_early(fh, t, 0, 0);
	expect_not_early(fh, t, 1, 100);
	expect_not_early(fh, t, 2, 250);
	stop_sim(fh);

	t = now_monotonic_usec();
	fh = start_sim(scn, (const char *[]){ "speed=2.5", "start_delay_ms=50", NULL });
	assert_int_equal(fakehost_wait_events(fh, 3, 3000), 0);
	expect_not_early(fh, t, 0, 50);
	expect_not_early(fh, t, 1, 50 + 40);
	expect_not_early(fh, t, 2, 50 + 100);
	stop_sim(fh);
}

static void test_repeat(void **state)
{
	struct fakehost *fh = start_sim(
		"0 repeat count=200 interval=5 tag uid=E00401%010d item=BOOK%04d dwell=2\n"
		"+5 repeat count=3 tag-seen uid=E0040200000000%02d item=\"X %d%%\"\n",
		(const char *[]){ "speed=0", NULL });

	assert_int_equal(fakehost_wait_events(fh, 403, 5000), 0);
	for (size_t i = 0; i < 200; i++) {
		const struct circd_event *seen = fakehost_event(fh, 2 * i);
		const struct circd_event *gone = fakehost_event(fh, 2 * i + 1);
		char uid[32], item[16];
		snprintf(uid, sizeof(uid), "e00401%010zu", i);
		snprintf(item, sizeof(item), "BOOK%04zu", i);
		assert_int_equal(seen->type, CIRCD_EV_TAG_SEEN);
		assert_string_equal(hex(seen), uid);
		assert_string_equal(seen->item_id, item);
		assert_int_equal(gone->type, CIRCD_EV_TAG_GONE);
		assert_string_equal(hex(gone), uid);
		assert_int_equal(gone->device_event_id, 2 * i + 2);
	}
	assert_string_equal(fakehost_event(fh, 402)->item_id, "X 2%");
	assert_string_equal(hex(fakehost_event(fh, 402)), "e004020000000002");
	stop_sim(fh);
}

static void test_malformed_scenario(void **state)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "0 drop\n\n100 tag-seen\n", ":3: tag-seen: missing uid=" },
		{ "0 drop\n# c\n+5 tag uid=E0 bogus=1\n", ":3: tag: unknown key 'bogus'" },
		{ "100 drop\n50 drop\n", ":2: time goes backwards" },
		{ "0 dance\n", ":1: unknown action 'dance'" },
		{ "0 tag-seen uid=XYZ\n", ":1: uid: 'XYZ' is not 1..10 hex bytes" },
		{ "0 fault text=\"jam\n", ":1: unterminated quote" },
		{ "0 gate-pass dir=up\n", ":1: dir: 'up' is not in or out" },
		{ "x drop\n", ":1: bad time 'x'" },
		{ "0 repeat count=101 interval=1 tag-seen uid=E00401%d\n", ":1: repetition 0: uid" },
		{ "0 repeat count=20 interval=1 tag-seen uid=E0040%d\n", ":1: repetition 10: uid" },
		{ "0 card uid=01 barcode=X\n", ":1: card: give either uid= or barcode=" },
		{ "0 offline\n", ":1: offline: missing duration=" },
		{ "0 input name=door value=2\n", ":1: value: an input is 0 or 1" },
		{ "0 tag-seen uid=E0 afi=123\n", ":1: afi: '123' is not a hex byte" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fakehost *fh = fakehost_new();
		_cleanup_free_ char *opt = xasprintf("scenario=%s", scn_path);
		_cleanup_free_ char *want = xasprintf("%s%s", scn_path, cases[i].error);

		write_scenario(cases[i].text);
		assert_int_equal(fakehost_load_plugin(fh, "sim"), 0);
		assert_int_equal(fakehost_set_options(fh, (const char *[]){ opt, NULL }), 0);
		assert_int_equal(fakehost_create(fh), -EINVAL);
		if (!fakehost_log_contains(fh, want))
			fail_msg("case %zu: no log line containing '%s' (first: %s)", i, want,
				 fakehost_log(fh, 0) ? fakehost_log(fh, 0) : "none");
		fakehost_free(fh);
	}
}

static void test_missing_scenario_file(void **state)
{
	struct fakehost *fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "sim"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){
				"scenario=/nonexistent/x.scn", NULL }), 0);
	assert_true(fakehost_create(fh) < 0);
	assert_true(fakehost_log_contains(fh, "/nonexistent/x.scn: No such file"));
	fakehost_free(fh);
}

static void test_injection_and_commands(void **state)
{
	static const uint8_t uid[] = { 0xe0, 0x04, 0x01, 0x50, 0xaa, 0xbb, 0xcc, 0xdd };
	struct fakehost *fh = start_sim(NULL, NULL);
	int status;
	const char *detail;

	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 2000), 0);
	uint64_t id = fakehost_command(fh, CIRCD_CMD_SIM_INJECT, NULL, 0, 0, NULL,
				       "tag-seen uid=E0040150AABBCCDD afi=07 eas=1 item=X1");
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, &detail), 0);
	assert_int_equal(status, 0);
	assert_int_equal(fakehost_event_count(fh), 1); /* emitted before the ack */
	assert_int_equal(fakehost_event(fh, 0)->device_event_id, 0);
	assert_int_equal(fakehost_event(fh, 0)->afi, 7);

	id = fakehost_command(fh, CIRCD_CMD_SIM_INJECT, NULL, 0, 0, NULL, "tag-seen afi=07");
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, &detail), 0);
	assert_int_equal(status, -EINVAL);
	assert_string_equal(detail, "tag-seen: missing uid=");
	id = fakehost_command(fh, CIRCD_CMD_SIM_INJECT, NULL, 0, 0, NULL, "500 drop");
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, &detail), 0);
	assert_int_equal(status, -EINVAL);

	/* the sim stands in for the gate and the reader: ack and remember */
	id = fakehost_command(fh, CIRCD_CMD_WRITE_AFI, uid, sizeof(uid), 0xc2, NULL, NULL);
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, NULL), 0);
	assert_int_equal(status, 0);
	id = fakehost_command(fh, CIRCD_CMD_SET_EAS, uid, sizeof(uid), 0, NULL, NULL);
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, NULL), 0);
	id = fakehost_command(fh, CIRCD_CMD_ALARM, NULL, 0, 2000, NULL, NULL);
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, NULL), 0);
	assert_int_equal(status, 0);
	id = fakehost_command(fh, CIRCD_CMD_SELECT_BIN, NULL, 0, 3, "holds", NULL);
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, NULL), 0);
	assert_int_equal(status, 0);
	assert_true(fakehost_log_contains(fh, "select-bin uid= value=3 name=holds"));

	id = fakehost_command(fh, CIRCD_CMD_SIM_INJECT, NULL, 0, 0, NULL,
			      "tag uid=E0040150AABBCCDD afi=07 eas=1 dwell=20");
	assert_int_equal(fakehost_wait_events(fh, 3, 2000), 0);
	const struct circd_event *ev = fakehost_event(fh, 1);
	assert_int_equal(ev->type, CIRCD_EV_TAG_SEEN);
	assert_int_equal(ev->afi, 0xc2); /* as written, not as injected */
	assert_int_equal(ev->eas, 0);
	assert_int_equal(fakehost_event(fh, 2)->type, CIRCD_EV_TAG_GONE);
	stop_sim(fh);
}

/* -ENOBUFS: the same event again, later; nothing lost, order kept. */
static void test_backpressure(void **state)
{
	struct fakehost *fh = fakehost_new();
	_cleanup_free_ char *opt = xasprintf("scenario=%s", scn_path);

	write_scenario("0 repeat count=10 drop\n");
	assert_int_equal(fakehost_load_plugin(fh, "sim"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ opt, "speed=0", NULL }), 0);
	assert_int_equal(fakehost_create(fh), 0);
	fakehost_refuse_emits(fh, 7);
	assert_int_equal(fakehost_start(fh), 0);
	assert_int_equal(fakehost_wait_events(fh, 10, 3000), 0);
	assert_int_equal(fakehost_refused_emits(fh), 7);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(fakehost_event(fh, i)->device_event_id, i + 1);
	usleep(20000);
	assert_int_equal(fakehost_event_count(fh), 10);
	stop_sim(fh);
}

static void test_offline_and_fault(void **state)
{
	struct fakehost *fh = start_sim("0 offline duration=200\n+50 drop\n+10 fault text=\"jam\" "
					"duration=50\n",
					NULL);

	assert_int_equal(fakehost_wait_events(fh, 2, 3000), 0);
	assert_int_equal(fakehost_event(fh, 0)->type, CIRCD_EV_ITEM_DROP);
	assert_int_equal(fakehost_event(fh, 0)->device_event_id, 1);
	assert_int_equal(fakehost_event(fh, 1)->type, CIRCD_EV_FAULT);
	assert_string_equal(fakehost_event(fh, 1)->text, "jam");
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 2000), 0);
	/* OK (playing), OFFLINE, OK (back), DEGRADED (fault), OK (cleared) */
	assert_int_equal(fakehost_health_count(fh), 5);
	assert_int_equal(fakehost_health_at(fh, 1), CIRCD_HEALTH_OFFLINE);
	assert_int_equal(fakehost_health_at(fh, 2), CIRCD_HEALTH_OK);
	assert_int_equal(fakehost_health_at(fh, 3), CIRCD_HEALTH_DEGRADED);
	stop_sim(fh);
}

static void test_offline_delays_events(void **state)
{
	uint64_t t = now_monotonic_usec();
	struct fakehost *fh = start_sim("0 drop\n10 offline duration=200\n+50 drop\n", NULL);

	assert_int_equal(fakehost_wait_events(fh, 2, 3000), 0);
	expect_not_early(fh, t, 1, 210); /* not at 60: offline until 210 */
	stop_sim(fh);
}

static void test_loop(void **state)
{
	struct fakehost *fh = start_sim("0 drop\n10 tag uid=E0 dwell=1\n",
					(const char *[]){ "speed=0", "loop=true", NULL });

	assert_int_equal(fakehost_wait_events(fh, 30, 3000), 0);
	static const uint32_t cycle[] = { CIRCD_EV_ITEM_DROP, CIRCD_EV_TAG_SEEN,
					  CIRCD_EV_TAG_GONE };
	for (size_t i = 0; i < 30; i++) {
		const struct circd_event *ev = fakehost_event(fh, i);
		assert_int_equal(ev->device_event_id, i + 1);
		assert_int_equal(ev->type, cycle[i % 3]);
	}
	stop_sim(fh);
}

static void test_generate(void **state)
{
	struct fakehost *fh = start_sim("0 drop\n", (const char *[]){ "speed=0",
				"generate_count=100", "generate_interval_us=0",
				"generate_prefix=GEN", NULL });

	assert_int_equal(fakehost_wait_events(fh, 201, 3000), 0);
	assert_int_equal(fakehost_event(fh, 0)->type, CIRCD_EV_ITEM_DROP);
	/* all seen at once (interval 0), then the gones after their dwell */
	for (size_t i = 0; i < 100; i++) {
		const struct circd_event *ev = fakehost_event(fh, 1 + i);
		char item[32], uid[32];
		snprintf(item, sizeof(item), "GEN%08zu", i);
		snprintf(uid, sizeof(uid), "e0040100%08zx", i);
		assert_int_equal(ev->type, CIRCD_EV_TAG_SEEN);
		assert_string_equal(ev->item_id, item);
		assert_string_equal(hex(ev), uid);
		assert_int_equal(ev->device_event_id, i + 2);
		assert_int_equal(fakehost_event(fh, 101 + i)->type, CIRCD_EV_TAG_GONE);
	}
	stop_sim(fh);
}

/* The scenarios shipped in etc/scenarios/ load, and play at speed 0. */
static void test_shipped_scenarios(void **state)
{
	static const struct {
		const char *name;
		size_t events;
	} files[] = { { "demo.scn", 16 }, { "set-2part.scn", 8 }, { "gate-alarm.scn", 17 } };
	const char *top = getenv("top_srcdir");

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *opt = xasprintf("scenario=%s/etc/scenarios/%s",
						     top ? top : "..", files[i].name);
		struct fakehost *fh = fakehost_new();
		assert_int_equal(fakehost_load_plugin(fh, "sim"), 0);
		assert_int_equal(fakehost_set_options(fh, (const char *[]){ opt, "speed=0", NULL }),
				 0);
		if (fakehost_create(fh) < 0)
			fail_msg("%s: %s", files[i].name, fakehost_log(fh, 0));
		assert_int_equal(fakehost_start(fh), 0);
		assert_int_equal(fakehost_wait_events(fh, files[i].events, 3000), 0);
		usleep(20000);
		assert_int_equal(fakehost_event_count(fh), files[i].events);
		stop_sim(fh);
	}
}

/* Stop while playing a long scenario: run() returns promptly with 0. */
static void test_stop_while_playing(void **state)
{
	struct fakehost *fh = start_sim("0 drop\n60000 drop\n", NULL);
	assert_int_equal(fakehost_wait_events(fh, 1, 2000), 0);
	uint64_t t = now_monotonic_usec();
	stop_sim(fh);
	assert_true(now_monotonic_usec() - t < 1500000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor_and_options),
		cmocka_unit_test(test_play_order),
		cmocka_unit_test(test_timing),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_malformed_scenario),
		cmocka_unit_test(test_missing_scenario_file),
		cmocka_unit_test(test_injection_and_commands),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_offline_and_fault),
		cmocka_unit_test(test_offline_delays_events),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_shipped_scenarios),
		cmocka_unit_test(test_stop_while_playing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
