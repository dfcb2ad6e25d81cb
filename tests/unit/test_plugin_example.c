/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The template reader plugin (plugins/example), loaded through the fake host
 * and fed through a pty pair: tag lines, partial lines, garbage, the device
 * missing and appearing, the other side hanging up, commands refused; on a
 * host older than ABI 1.4 (no streams) and with a spec that cannot work.
 * (Writes with read-back: tests/conformance/example.conf.)
 */
#include "config.h"

#include <errno.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakehost.h"
#include "util/util.h"

struct pty {
	int master, slave;
	char name[128];
};

static void pty_open(struct pty *p)
{
	struct termios raw;

	memset(&raw, 0, sizeof(raw));
	cfmakeraw(&raw);
	assert_int_equal(openpty(&p->master, &p->slave, p->name, &raw, NULL), 0);
}

static void pty_close(struct pty *p)
{
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	p->slave = p->master = -1;
}

static void pty_say(struct pty *p, const char *text)
{
	size_t n = strlen(text);
	assert_int_equal(write(p->master, text, n), (ssize_t)n);
}

static struct fakehost *start_example(const char *device, const char *antenna)
{
	struct fakehost *fh = fakehost_new();
	_cleanup_free_ char *dev = xasprintf("device=%s", device);

	if (fakehost_load_plugin(fh, "example") < 0)
		fail_msg("%s", fakehost_error(fh));
	if (fakehost_set_options(fh, (const char *[]){ dev, antenna, NULL }) < 0)
		fail_msg("%s", fakehost_error(fh));
	assert_int_equal(fakehost_create(fh), 0);
	assert_int_equal(fakehost_start(fh), 0);
	return fh;
}

static void stop_example(struct fakehost *fh)
{
	assert_int_equal(fakehost_stop(fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
}

static void test_options(void **state)
{
	struct fakehost *fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "example"), 0);
	assert_int_equal(fakehost_plugin(fh)->kinds, CIRCD_KIND_READER);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ NULL }), -EINVAL);
	assert_string_equal(fakehost_error(fh), "missing required option 'device'");
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "device=/x", "antenna=300",
								    NULL }), -EINVAL);
	fakehost_free(fh);
}

static void test_lines(void **state)
{
	struct pty p;
	pty_open(&p);
	struct fakehost *fh = start_example(p.name, "antenna=3");

	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 2000), 0);
	pty_say(&p, "E004015012345678\n"
		    "XYZ\n"
		    "E004015012345679 0011AABB afi=C2 eas=1\r\n"
		    "\n"
		    "E00401501234"); /* a line split over two writes */
	usleep(20000);
	pty_say(&p, "56\n-E004015012345678\n0123 12345\n");
	assert_int_equal(fakehost_wait_events(fh, 4, 2000), 0);

	const struct circd_event *ev = fakehost_event(fh, 0);
	assert_int_equal(ev->type, CIRCD_EV_TAG_SEEN);
	assert_int_equal(ev->uid_len, 8);
	assert_memory_equal(ev->uid, "\xe0\x04\x01\x50\x12\x34\x56\x78", 8);
	assert_int_equal(ev->antenna, 3);
	assert_int_equal(ev->afi, -1);
	assert_null(ev->memory);
	ev = fakehost_event(fh, 1);
	assert_int_equal(ev->memory_len, 4);
	assert_memory_equal(ev->memory, "\x00\x11\xaa\xbb", 4);
	assert_int_equal(ev->afi, 0xC2);
	assert_int_equal(ev->eas, 1);
	assert_int_equal(fakehost_event(fh, 2)->uid_len, 7);
	ev = fakehost_event(fh, 3);
	assert_int_equal(ev->type, CIRCD_EV_TAG_GONE);
	assert_int_equal(ev->device_event_id, 0);
	usleep(20000);
	assert_int_equal(fakehost_event_count(fh), 4);
	assert_true(fakehost_log_contains(fh, "ignoring line 'XYZ': bad uid"));
	assert_true(fakehost_log_contains(fh, "ignoring tag 0123: bad field '12345'"));

	/* commands: one without a UID is refused; what a reader cannot do
	 * is refused as such (tests/conformance/ covers the writes) */
	uint64_t id = fakehost_command(fh, CIRCD_CMD_WRITE_AFI, NULL, 0, 7, NULL, NULL);
	int status;
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, NULL), 0);
	assert_int_equal(status, -EINVAL);
	id = fakehost_command(fh, CIRCD_CMD_ALARM, NULL, 0, 100, NULL, NULL);
	assert_int_equal(fakehost_wait_command(fh, id, 2000, &status, NULL), 0);
	assert_int_equal(status, -EOPNOTSUPP);

	/* the other side hangs up: offline */
	pty_close(&p);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 2000), 0);
	stop_example(fh);
}

static char tmpdir[] = "/tmp/circd-test-example-XXXXXX";

/* Runs even when a test failed half-way. */
static int remove_tmpdir(void **state)
{
	_cleanup_free_ char *link = xasprintf("%s/reader", tmpdir);
	unlink(link);
	rmdir(tmpdir);
	return 0;
}

/* Not there at start: OFFLINE, then found on a later attempt. */
static void test_device_appears(void **state)
{
	assert_non_null(mkdtemp(tmpdir));
	_cleanup_free_ char *link = xasprintf("%s/reader", tmpdir);
	struct pty p;
	pty_open(&p);

	struct fakehost *fh = start_example(link, "antenna=1");
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 2000), 0);
	assert_true(fakehost_log_contains(fh, "No such file or directory"));
	assert_int_equal(symlink(p.name, link), 0);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 3000), 0);
	pty_say(&p, "E004015012345678\n");
	assert_int_equal(fakehost_wait_events(fh, 1, 2000), 0);
	stop_example(fh);
	pty_close(&p);
}

/* The core's queue is full: the same tag is offered again, not lost. */
static void test_backpressure(void **state)
{
	struct pty p;
	pty_open(&p);
	struct fakehost *fh = start_example(p.name, "antenna=1");

	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 2000), 0);
	fakehost_refuse_emits(fh, 3);
	pty_say(&p, "01\n02\n");
	assert_int_equal(fakehost_wait_events(fh, 2, 2000), 0);
	assert_int_equal(fakehost_refused_emits(fh), 3);
	assert_int_equal(fakehost_event(fh, 0)->uid[0], 1);
	assert_int_equal(fakehost_event(fh, 1)->uid[0], 2);
	stop_example(fh);
	pty_close(&p);
}

/* A circd older than ABI 1.4 has no streams: create() refuses, and says why. */
static void test_old_host(void **state)
{
	struct fakehost *fh = fakehost_new();

	assert_int_equal(fakehost_load_plugin(fh, "example"), 0);
	assert_int_equal(fakehost_set_host_abi_minor(fh, 3), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "device=/dev/ttyS0", NULL }),
			 0);
	assert_int_equal(fakehost_create(fh), -EPROTONOSUPPORT);
	assert_true(fakehost_log_contains(fh, "(plugin ABI 1.3) has no host->stream_open(); "
					      "the example plugin needs ABI 1.4"));
	fakehost_free(fh);
}

/* A spec that can never work is FAILED (not OFFLINE), with the host's reason. */
static void test_bad_spec(void **state)
{
	struct fakehost *fh = start_example("usb:0403:6001", "antenna=1");

	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_FAILED, 2000), 0);
	assert_true(fakehost_log_contains(fh, "expected serial:PATH:SPEED:FRAMING or tcp:HOST:PORT"));
	assert_int_equal(fakehost_open_streams(fh), 0);
	/* no retries: FAILED was the one health report */
	assert_int_equal(fakehost_health_count(fh), 1);
	stop_example(fh);
}

/* The stream is the plugin's own: open while the device is, closed when it hangs up. */
static void test_stream_closed(void **state)
{
	struct pty p;
	pty_open(&p);
	_cleanup_free_ char *spec = xasprintf("serial:%s:9600:8N1", p.name);
	struct fakehost *fh = start_example(spec, "antenna=1");

	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 2000), 0);
	assert_int_equal(fakehost_open_streams(fh), 1);
	pty_close(&p);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 2000), 0);
	/* A pty whose other side closed reads as end of file, or as EIO when
	 * the read comes while the line is being torn down. */
	assert_true(fakehost_log_contains(fh, "end of file") ||
		    fakehost_log_contains(fh, "Input/output error"));
	assert_int_equal(fakehost_open_streams(fh), 0);
	stop_example(fh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_lines),
		cmocka_unit_test_teardown(test_device_appears, remove_tmpdir),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_old_host),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_stream_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
