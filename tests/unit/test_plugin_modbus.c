/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The modbus plugin (plugins/.libs/modbus.so through the fake host) against
 * tests/emulators/modbus_sim on 127.0.0.1: a door opens and a book drops,
 * a bin fills up past its threshold and wobbles there without chatter, a
 * sensor reads 150 %, commands reach the coils and registers, the device
 * answers with exceptions, stops answering, hangs up, and comes back.
 * And map files with mistakes are refused with file:line.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakehost.h"
#include "util/util.h"

struct fixture {
	char dir[64];
	char map[128], log[128];
	pid_t sim;
	FILE *to_sim, *from_sim;
	int port;
	struct fakehost *fh;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Start the simulator: TCP, or RTU on a pty pair (its slave side's name in
 * pty_name). */
static void sim_start(struct fixture *fx, char *pty_name, size_t pty_size)
{
	int in[2], out[2];
	const char *top = getenv("top_builddir");
	_cleanup_free_ char *bin = xasprintf("%s/tests/emulators/modbus_sim", top ? top : ".");

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	fx->sim = fork();
	assert_true(fx->sim >= 0);
	if (fx->sim == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(bin, bin, "--log", fx->log, pty_name ? "--rtu" : NULL, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fx->to_sim = fdopen(in[1], "w");
	fx->from_sim = fdopen(out[0], "r");
	assert_non_null(fx->to_sim);
	assert_non_null(fx->from_sim);
	char line[64];
	assert_non_null(fgets(line, sizeof(line), fx->from_sim));
	if (pty_name) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		assert_true(strncmp(line, "pty ", 4) == 0 && strlen(line + 4) < pty_size);
		strcpy(pty_name, line + 4);
	} else {
		assert_int_equal(sscanf(line, "port %d", &fx->port), 1);
	}
}

__attribute__((format(printf, 2, 3))) static void sim(struct fixture *fx, const char *fmt, ...)
{
	char answer[128];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(fx->to_sim, fmt, ap);
	va_end(ap);
	fputc('\n', fx->to_sim);
	fflush(fx->to_sim);
	assert_non_null(fgets(answer, sizeof(answer), fx->from_sim));
	assert_string_equal(answer, "ok\n");
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/test-modbus-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->map, sizeof(fx->map), "%s/device.map", fx->dir);
	snprintf(fx->log, sizeof(fx->log), "%s/writes.log", fx->dir);
	fx->sim = -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->fh)
		fakehost_free(fx->fh);
	if (fx->sim > 0) {
		kill(fx->sim, SIGKILL);
		waitpid(fx->sim, NULL, 0);
	}
	if (fx->to_sim)
		fclose(fx->to_sim);
	if (fx->from_sim)
		fclose(fx->from_sim);
	unlink(fx->map);
	unlink(fx->log);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* The plugin on the simulator with this map and extra options. */
static void start_plugin(struct fixture *fx, const char *map, const char *const *extra)
{
	const char *opts[16];
	size_t n = 0;
	_cleanup_free_ char *map_opt = xasprintf("map=%s", fx->map);
	_cleanup_free_ char *port_opt = NULL;

	char pty_name[128];
	bool rtu = extra && *extra && strcmp(*extra, "mode=rtu") == 0;

	write_file(fx->map, map);
	sim_start(fx, rtu ? pty_name : NULL, sizeof(pty_name));
	port_opt = rtu ? xasprintf("device=%s", pty_name) : xasprintf("port=%d", fx->port);
	opts[n++] = map_opt;
	opts[n++] = port_opt;
	opts[n++] = "poll_ms=10";
	opts[n++] = "timeout_ms=100";
	opts[n++] = "reconnect_min_ms=10";
	opts[n++] = "reconnect_max_ms=100";
	for (; extra && *extra; extra++)
		opts[n++] = *extra;
	opts[n] = NULL;

	fx->fh = fakehost_new();
	if (fakehost_load_plugin(fx->fh, "modbus") < 0 || fakehost_set_options(fx->fh, opts) < 0)
		fail_msg("%s", fakehost_error(fx->fh));
	assert_int_equal(fakehost_create(fx->fh), 0);
	assert_int_equal(fakehost_start(fx->fh), 0);
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_OK, 2000), 0);
}

static void stop_plugin(struct fixture *fx)
{
	assert_int_equal(fakehost_stop(fx->fh), 0);
	assert_int_equal(fakehost_option_misuse(fx->fh), 0);
	fakehost_free(fx->fh);
	fx->fh = NULL;
}

/* Wait for event number n (0-based) and return it. */
static const struct circd_event *event_n(struct fixture *fx, size_t n)
{
	if (fakehost_wait_events(fx->fh, n + 1, 2000) < 0)
		fail_msg("no event #%zu (have %zu)", n, fakehost_event_count(fx->fh));
	return fakehost_event(fx->fh, n);
}

static void assert_event(const struct circd_event *ev, uint32_t type, const char *name,
			 double value)
{
	assert_int_equal(ev->type, type);
	assert_non_null(ev->name);
	assert_string_equal(ev->name, name);
	assert_true(ev->value > value - 1e-9 && ev->value < value + 1e-9);
}

/* A few poll cycles (poll_ms=10). */
static void polls(void)
{
	usleep(80 * 1000);
}

static void test_map_errors(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "input a discrete 0\n\nbogus b coil 1\n", "device.map:3: unknown kind 'bogus'" },
		{ "input a discrete 0\ninput a discrete 1\n", "device.map:2: 'a' already defined at line 1" },
		{ "# c\nsensor s input_reg 1 high=90\n", "device.map:2: sensor s: high= and low= go together" },
		{ "sensor s input_reg 1 high=80 low=90\n", "device.map:1: sensor s: low=90 is above high=80" },
		{ "sensor s input_reg 1 scale=x\n", "device.map:1: scale: 'x' is not a number" },
		{ "sensor s discrete 1\n", "device.map:1: sensor s: needs a register table" },
		{ "output o discrete 1\n", "device.map:1: output o: only coil and holding" },
		{ "input i coil 70000\n", "device.map:1: address '70000' is not 0..65535" },
		{ "event e discrete 1 rising\n", "device.map:1: event e: missing '-> item-drop'" },
		{ "event e discrete 1 rising -> boom\n", "device.map:1: unknown event 'boom'" },
		{ "input i coil 1 colour=red\n", "device.map:1: unexpected 'colour'" },
		{ "# nothing\n", "device.map: no points" },
	};
	_cleanup_free_ char *map_opt = xasprintf("map=%s", fx->map);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fakehost *fh = fakehost_new();
		write_file(fx->map, cases[i].text);
		assert_int_equal(fakehost_load_plugin(fh, "modbus"), 0);
		assert_int_equal(fakehost_set_options(fh, (const char *[]){ map_opt, NULL }), 0);
		assert_int_equal(fakehost_create(fh), -EINVAL);
		if (!fakehost_log_contains(fh, cases[i].error))
			fail_msg("case %zu: no '%s' in '%s'", i, cases[i].error,
				 fakehost_log_count(fh) ? fakehost_log(fh, 0) : "");
		fakehost_free(fh);
	}

	/* no map at all, a map that is not there, a bad mode */
	struct fakehost *fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "modbus"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ NULL }), -EINVAL);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "map=/nonexistent/x.map", NULL }), 0);
	assert_int_equal(fakehost_create(fh), -ENOENT);
	assert_true(fakehost_log_contains(fh, "/nonexistent/x.map: No such file"));
	fakehost_free(fh);
	fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "modbus"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ map_opt, "mode=udp", NULL }), 0);
	assert_int_equal(fakehost_create(fh), -EINVAL);
	fakehost_free(fh);
}

static void test_profiles_parse(void **state)
{
	const char *top = getenv("top_srcdir");
	static const char *const profiles[] = { "bookdrop-sorter", "gate", "bin-levels" };
	(void)state;

	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *opt = xasprintf("map=%s/etc/modbus/%s.map", top ? top : "..",
						     profiles[i]);
		struct fakehost *fh = fakehost_new();
		assert_int_equal(fakehost_load_plugin(fh, "modbus"), 0);
		assert_int_equal(fakehost_set_options(fh, (const char *[]){ opt, NULL }), 0);
		if (fakehost_create(fh) != 0)
			fail_msg("%s: %s", profiles[i], fakehost_log(fh, 0));
		fakehost_free(fh);
	}
}

static void test_edges(void **state)
{
	struct fixture *fx = *state;

	start_plugin(fx,
		     "input  door_open discrete 3 edge\n"
		     "event  drop      discrete 1 rising -> item-drop\n"
		     "event  pass_out  discrete 5 rising -> gate-pass dir=out\n",
		     NULL);
	/* the input's level at start; events only on edges */
	assert_event(event_n(fx, 0), CIRCD_EV_INPUT, "door_open", 0);
	sim(fx, "set discrete 3 1");
	assert_event(event_n(fx, 1), CIRCD_EV_INPUT, "door_open", 1);
	sim(fx, "set discrete 1 1");
	const struct circd_event *ev = event_n(fx, 2);
	assert_int_equal(ev->type, CIRCD_EV_ITEM_DROP);
	assert_string_equal(ev->name, "drop");
	polls();
	sim(fx, "set discrete 1 0"); /* falling: nothing */
	sim(fx, "set discrete 5 1");
	ev = event_n(fx, 3);
	assert_int_equal(ev->type, CIRCD_EV_GATE_PASS);
	assert_int_equal(ev->direction, CIRCD_DIR_OUT);
	sim(fx, "set discrete 3 0");
	assert_event(event_n(fx, 4), CIRCD_EV_INPUT, "door_open", 0);
	polls();
	assert_int_equal(fakehost_event_count(fx->fh), 5);
	stop_plugin(fx);
}

static void test_thresholds(void **state)
{
	struct fixture *fx = *state;

	start_plugin(fx, "sensor fill_bin1 input_reg 10 scale=0.1 high=90 low=80 min=0 max=100\n",
		     NULL);
	assert_event(event_n(fx, 0), CIRCD_EV_SENSOR, "fill_bin1", 0);
	sim(fx, "set input_reg 10 500");
	polls();
	assert_int_equal(fakehost_event_count(fx->fh), 1); /* below high: nothing */
	sim(fx, "set input_reg 10 905");
	assert_event(event_n(fx, 1), CIRCD_EV_SENSOR, "fill_bin1", 90.5);
	/* wobbling around the threshold: no chatter */
	static const int wobble[] = { 895, 901, 880, 899, 900, 850, 910 };
	for (size_t i = 0; i < sizeof(wobble) / sizeof(wobble[0]); i++) {
		sim(fx, "set input_reg 10 %d", wobble[i]);
		usleep(30 * 1000);
	}
	assert_int_equal(fakehost_event_count(fx->fh), 2);
	sim(fx, "set input_reg 10 795");
	assert_event(event_n(fx, 2), CIRCD_EV_SENSOR, "fill_bin1", 79.5);
	sim(fx, "set input_reg 10 820");
	polls();
	assert_int_equal(fakehost_event_count(fx->fh), 3);
	assert_false(fakehost_log_contains(fx->fh, "implausible"));
	/* 150 %: reported as read, logged as implausible */
	sim(fx, "set input_reg 10 1500");
	assert_event(event_n(fx, 3), CIRCD_EV_SENSOR, "fill_bin1", 150);
	assert_true(fakehost_log_contains(fx->fh, "fill_bin1 = 150 is implausible"));
	stop_plugin(fx);
}

static bool log_has(struct fixture *fx, const char *line)
{
	for (int tries = 0; tries < 100; tries++) {
		char buf[256];
		FILE *f = fopen(fx->log, "r");
		while (f && fgets(buf, sizeof(buf), f))
			if (strncmp(buf, line, strlen(line)) == 0 && buf[strlen(line)] == '\n') {
				fclose(f);
				return true;
			}
		if (f)
			fclose(f);
		usleep(10000);
	}
	return false;
}

static int command(struct fixture *fx, uint32_t type, int64_t value, const char *name,
		   const char **detail)
{
	int status;
	uint64_t id = fakehost_command(fx->fh, type, NULL, 0, value, name, NULL);
	assert_int_equal(fakehost_wait_command(fx->fh, id, 2000, &status, detail), 0);
	return status;
}

static void test_commands(void **state)
{
	struct fixture *fx = *state;
	const char *detail;

	start_plugin(fx,
		     "output alarm       coil 0\n"
		     "output accept_lamp coil 1\n"
		     "output intake      coil 3 verify\n"
		     "output sorter_bin  holding 20 verify\n"
		     "input  door        discrete 0\n",
		     NULL);
	assert_int_equal(command(fx, CIRCD_CMD_OUTPUT, 1, "accept_lamp", NULL), 0);
	assert_true(log_has(fx, "coil 1 1"));
	assert_int_equal(command(fx, CIRCD_CMD_SELECT_BIN, 7, "returns", NULL), 0);
	assert_true(log_has(fx, "holding 20 7"));
	assert_int_equal(command(fx, CIRCD_CMD_INTAKE, 1, NULL, NULL), 0);
	assert_true(log_has(fx, "coil 3 1"));
	assert_int_equal(command(fx, CIRCD_CMD_ALARM, 150, NULL, NULL), 0);
	assert_true(log_has(fx, "coil 0 1"));
	usleep(300 * 1000);
	assert_true(log_has(fx, "coil 0 0"));

	assert_int_equal(command(fx, CIRCD_CMD_OUTPUT, 1, "nosuch", &detail), -ENOENT);
	assert_string_equal(detail, "the map has no output 'nosuch'");
	assert_int_equal(command(fx, CIRCD_CMD_SELECT_BIN, 70000, NULL, NULL), -ERANGE);
	assert_int_equal(command(fx, CIRCD_CMD_WRITE_AFI, 7, NULL, NULL), -EOPNOTSUPP);
	/* the device refuses: the command fails, the device degrades */
	sim(fx, "fault exception 4 on");
	assert_int_equal(command(fx, CIRCD_CMD_OUTPUT, 0, "accept_lamp", &detail), -EREMOTEIO);
	sim(fx, "fault exception 4 off");
	stop_plugin(fx);
}

/* The health went through h at some point after index `from`. */
static bool health_seen(struct fixture *fx, enum circd_health h, size_t from, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 5) {
		for (size_t i = from; i < fakehost_health_count(fx->fh); i++)
			if (fakehost_health_at(fx->fh, i) == h)
				return true;
		usleep(5000);
	}
	return false;
}

static void test_faults(void **state)
{
	struct fixture *fx = *state;
	size_t mark;

	start_plugin(fx, "input door discrete 0\nsensor level input_reg 0\n",
		     (const char *[]){ "max_timeouts=3", NULL });

	/* exception responses: DEGRADED, counted, then OK again */
	sim(fx, "fault exception 2 on");
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_DEGRADED, 2000), 0);
	sim(fx, "fault exception 2 off");
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_OK, 2000), 0);
	assert_true(fakehost_log_contains(fx->fh, "exception response: Illegal data address (1 so far)"));
	assert_true(fakehost_log_contains(fx->fh, "recovered"));

	/* an occasional timeout: DEGRADED, not OFFLINE */
	mark = fakehost_health_count(fx->fh);
	sim(fx, "fault timeout on");
	usleep(150 * 1000); /* one request times out (timeout_ms=100) */
	sim(fx, "fault timeout off");
	assert_true(health_seen(fx, CIRCD_HEALTH_DEGRADED, mark, 1000));
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_OK, 2000), 0);
	assert_true(fakehost_log_contains(fx->fh, "timeout (1 so far, 1 in a row)"));
	for (size_t i = mark; i < fakehost_health_count(fx->fh); i++)
		assert_int_not_equal(fakehost_health_at(fx->fh, i), CIRCD_HEALTH_OFFLINE);

	/* no answer at all: OFFLINE after max_timeouts, back when it answers */
	mark = fakehost_health_count(fx->fh);
	sim(fx, "fault timeout on");
	assert_true(health_seen(fx, CIRCD_HEALTH_OFFLINE, mark, 2000));
	sim(fx, "fault timeout off");
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_OK, 2000), 0);
	/* polled on the new connection (so that `close` below closes it) */
	size_t n = fakehost_event_count(fx->fh);
	sim(fx, "set input_reg 0 5");
	assert_event(event_n(fx, n), CIRCD_EV_SENSOR, "level", 5);

	/* the device hangs up: OFFLINE, reconnect, OK; state re-read */
	mark = fakehost_health_count(fx->fh);
	sim(fx, "close");
	assert_true(health_seen(fx, CIRCD_HEALTH_OFFLINE, mark, 2000));
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_OK, 2000), 0);
	assert_true(fakehost_log_contains(fx->fh, "connection lost"));
	n = fakehost_event_count(fx->fh);
	sim(fx, "set discrete 0 1");
	assert_event(event_n(fx, n), CIRCD_EV_INPUT, "door", 1);
	stop_plugin(fx);
}

/* The same over RTU: the plugin on the slave side of a pty pair. */
static void test_rtu(void **state)
{
	struct fixture *fx = *state;

	start_plugin(fx,
		     "input  door  discrete 0\n"
		     "sensor fill  input_reg 3 high=90 low=80\n"
		     "output lamp  coil 1 verify\n"
		     "output sorter_bin holding 2 verify\n",
		     (const char *[]){ "mode=rtu", "baud=19200", "parity=E", "slave_id=1", NULL });
	assert_event(event_n(fx, 0), CIRCD_EV_INPUT, "door", 0);
	assert_event(event_n(fx, 1), CIRCD_EV_SENSOR, "fill", 0);
	sim(fx, "set discrete 0 1");
	assert_event(event_n(fx, 2), CIRCD_EV_INPUT, "door", 1);
	sim(fx, "set input_reg 3 95");
	assert_event(event_n(fx, 3), CIRCD_EV_SENSOR, "fill", 95);
	assert_int_equal(command(fx, CIRCD_CMD_OUTPUT, 1, "lamp", NULL), 0);
	assert_true(log_has(fx, "coil 1 1"));
	assert_int_equal(command(fx, CIRCD_CMD_SELECT_BIN, 12, NULL, NULL), 0);
	assert_true(log_has(fx, "holding 2 12"));
	sim(fx, "fault exception 1 on");
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_DEGRADED, 2000), 0);
	sim(fx, "fault exception 1 off");
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_OK, 2000), 0);
	stop_plugin(fx);
}

static void test_no_device(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *map_opt = xasprintf("map=%s", fx->map);

	/* nothing listens on port 1: OFFLINE, commands refused, clean stop */
	write_file(fx->map, "output alarm coil 0\n");
	fx->fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fx->fh, "modbus"), 0);
	assert_int_equal(fakehost_set_options(fx->fh, (const char *[]){ map_opt, "port=1",
		"reconnect_min_ms=10", "reconnect_max_ms=50", NULL }), 0);
	assert_int_equal(fakehost_create(fx->fh), 0);
	assert_int_equal(fakehost_start(fx->fh), 0);
	assert_int_equal(fakehost_wait_health(fx->fh, CIRCD_HEALTH_OFFLINE, 2000), 0);
	assert_int_equal(command(fx, CIRCD_CMD_ALARM, 100, NULL, NULL), -ENOTCONN);
	usleep(100 * 1000);
	stop_plugin(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_map_errors, setup, teardown),
		cmocka_unit_test(test_profiles_parse),
		cmocka_unit_test_setup_teardown(test_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_device, setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
