/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The byte streams of host API 1.4, called through the daemon's own host
 * table (host_api, daemon/instance.c) on an instance that has just what a
 * worker's host calls use (stop eventfd, mailboxes): a pty pair whose slave
 * the stream opens by path (through a symlink, so that reopen can find a
 * new pty), and a TCP listener on 127.0.0.1.  Open, read and write with
 * timeouts, wait() on the stream's fd, hang-up and end of file, reopen, a
 * stop request ending a read, bad specs refused with a reason.  And the
 * error counters of host API 1.5 (set_counters), stored on the instance.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "host_stream.h"
#include "instance.h"
#include "util/util.h"

static const struct circd_host_api *H = &host_api;

/* The parts of an instance the host calls of a worker touch. */
static struct instance *fake_instance(void)
{
	struct instance *inst = xcalloc(1, sizeof(*inst));

	inst->name = xstrdup("stream0");
	inst->fields[0] = xstrdup("CIRCD_DEVICE=stream0");
	inst->fields[1] = xstrdup("CIRCD_PLUGIN=test");
	atomic_init(&inst->stop_requested, false);
	atomic_init(&inst->in_wait, false);
	atomic_init(&inst->heartbeat_usec, 0);
	assert_int_equal(mailbox_init(&inst->commands, 0), 0);
	assert_int_equal(mailbox_init(&inst->txns, 0), 0);
	inst->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(inst->stop_efd >= 0);
	return inst;
}

static void free_instance(struct instance *inst)
{
	assert_null(inst->streams); /* every test closes what it opened */
	mailbox_destroy(&inst->commands);
	mailbox_destroy(&inst->txns);
	close(inst->stop_efd);
	free(inst->fields[0]);
	free(inst->fields[1]);
	free(inst->name);
	free(inst);
}

static struct circd_instance *CI(struct instance *inst)
{
	return (struct circd_instance *)inst;
}

static void test_table(void **state)
{
	assert_int_equal(H->abi_minor, 5);
	assert_int_equal(H->struct_size, sizeof(struct circd_host_api));
	assert_true(H->struct_size >= offsetof(struct circd_host_api, stream_close) +
					 sizeof(H->stream_close));
	assert_non_null(H->stream_open);
	assert_non_null(H->stream_read);
	assert_non_null(H->stream_write_all);
	assert_non_null(H->stream_drain);
	assert_non_null(H->stream_reopen);
	assert_non_null(H->stream_fd);
	assert_non_null(H->stream_reason);
	assert_non_null(H->stream_close);
	assert_int_equal(H->stream_fd(NULL), -1);
	H->stream_close(NULL);
}

static void test_bad_specs(void **state)
{
	struct instance *inst = fake_instance();
	struct circd_stream *s = (struct circd_stream *)1;
	char why[CIRCD_STREAM_REASON_MAX];

	/* USB is not a stream: refused like any unknown scheme */
	assert_int_equal(H->stream_open(CI(inst), "usb:0403:6001", 100, &s, why, sizeof(why)),
			 -EINVAL);
	assert_null(s);
	assert_non_null(strstr(why, "expected serial:PATH:SPEED:FRAMING or tcp:HOST:PORT"));
	assert_int_equal(H->stream_open(CI(inst), "serial:/dev/null:38400:7E1", 100, &s, why,
					sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "8N1"));
	assert_int_equal(H->stream_open(CI(inst), "tcp:127.0.0.1", 100, &s, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "HOST:PORT"));
	assert_int_equal(H->stream_open(CI(inst), "serial:/nonexistent/tty", 100, &s, why,
					sizeof(why)),
			 -ENOENT);
	assert_non_null(strstr(why, "/nonexistent/tty: No such file or directory"));
	/* the reason is optional */
	assert_int_equal(H->stream_open(CI(inst), "bogus", 100, &s, NULL, 0), -EINVAL);
	assert_null(s);
	free_instance(inst);
}

/* ---- serial: a pty whose slave is reached through a symlink ---- */

static char tmpdir[] = "/tmp/circd-test-host-stream-XXXXXX";

static int remove_tmpdir(void **state)
{
	_cleanup_free_ char *link = xasprintf("%s/reader", tmpdir);
	unlink(link);
	rmdir(tmpdir);
	return 0;
}

/* A new pty; the link points at its slave.  Returns the master. */
static int new_pty(const char *link)
{
	struct termios raw;
	int master, slave;
	char name[128];

	memset(&raw, 0, sizeof(raw));
	cfmakeraw(&raw);
	assert_int_equal(openpty(&master, &slave, name, &raw, NULL), 0);
	close(slave); /* the stream opens it by name */
	unlink(link);
	assert_int_equal(symlink(name, link), 0);
	return master;
}

static void say(int fd, const char *text)
{
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
}

/* Read n bytes from a blocking fd. */
static void expect(int fd, const char *text)
{
	size_t n = strlen(text), got = 0;
	char buf[64];

	assert_true(n < sizeof(buf));
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_memory_equal(buf, text, n);
}

static void test_serial(void **state)
{
	struct instance *inst = fake_instance();
	struct circd_stream *s = NULL;
	char why[CIRCD_STREAM_REASON_MAX], buf[64];

	assert_non_null(mkdtemp(tmpdir));
	_cleanup_free_ char *link = xasprintf("%s/reader", tmpdir);
	_cleanup_free_ char *spec = xasprintf("serial:%s:9600:8N1", link);
	int master = new_pty(link);

	assert_int_equal(H->stream_open(CI(inst), spec, 100, &s, why, sizeof(why)), 0);
	assert_non_null(s);
	assert_ptr_equal(inst->streams, s);
	assert_true(H->stream_fd(s) >= 0);

	/* nothing there: timeout 0 and a short timeout both say 0 */
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 0), 0);
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 20), 0);

	/* wait() on the stream's fd wakes with CIRCD_WAKE_FD */
	say(master, "E0040150\n");
	int w = H->wait(CI(inst), H->stream_fd(s), POLLIN, 5000);
	assert_int_equal(w, CIRCD_WAKE_FD);
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 0), 9);
	assert_memory_equal(buf, "E0040150\n", 9);

	/* a read with a timeout gets what arrives */
	say(master, "=ok\n");
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 5000), 4);
	assert_memory_equal(buf, "=ok\n", 4);

	/* write_all: the reader gets every byte */
	assert_int_equal(H->stream_write_all(s, "read E0040150\n", 14, 1000), 0);
	expect(master, "read E0040150\n");

	/* drain drops what waits */
	say(master, "junk junk\n");
	assert_int_equal(H->wait(CI(inst), H->stream_fd(s), POLLIN, 5000), CIRCD_WAKE_FD);
	assert_int_equal(H->stream_drain(s), 10);
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 0), 0);

	/* the other side hangs up: end of file, as from a socket (below) */
	close(master);
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 5000), -EPIPE);
	assert_string_equal(H->stream_reason(s), "end of file");

	/* plugged in again (a new pty behind the same name): reopen */
	master = new_pty(link);
	assert_int_equal(H->stream_reopen(s, 100), 0);
	assert_true(H->stream_fd(s) >= 0); /* ask again after a reopen: it may differ */
	say(master, "-E0040150\n");
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 5000), 10);
	assert_memory_equal(buf, "-E0040150\n", 10);

	/* gone for good: reopen fails with a reason and the fd is -1 */
	close(master);
	unlink(link);
	assert_int_equal(H->stream_reopen(s, 100), -ENOENT);
	assert_int_equal(H->stream_fd(s), -1);
	assert_non_null(strstr(H->stream_reason(s), "No such file or directory"));
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 0), -EBADF);

	H->stream_close(s);
	assert_null(inst->streams);
	free_instance(inst);
}

/* ---- TCP on 127.0.0.1 ---- */

static int listen_any(unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_tcp(void **state)
{
	struct instance *inst = fake_instance();
	struct circd_stream *s = NULL;
	char why[CIRCD_STREAM_REASON_MAX], buf[64];
	unsigned port;
	int lfd = listen_any(&port);
	_cleanup_free_ char *spec = xasprintf("tcp:127.0.0.1:%u", port);

	assert_int_equal(H->stream_open(CI(inst), spec, 2000, &s, why, sizeof(why)), 0);
	int peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);

	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 10), 0);
	say(peer, "hello\n");
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 5000), 6);
	assert_memory_equal(buf, "hello\n", 6);
	assert_int_equal(H->stream_write_all(s, "afi 01 C2\n", 10, 1000), 0);
	expect(peer, "afi 01 C2\n");

	/* the peer closes: end of file is -EPIPE, and says so */
	close(peer);
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 5000), -EPIPE);
	assert_string_equal(H->stream_reason(s), "end of file");

	/* reopen connects again */
	assert_int_equal(H->stream_reopen(s, 2000), 0);
	peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);
	say(peer, "again\n");
	assert_int_equal(H->stream_read(s, buf, sizeof(buf), 5000), 6);
	assert_memory_equal(buf, "again\n", 6);
	close(peer);
	H->stream_close(s);

	/* nobody listens: refused, with a reason */
	close(lfd);
	s = (struct circd_stream *)1;
	assert_int_equal(H->stream_open(CI(inst), spec, 2000, &s, why, sizeof(why)), -ECONNREFUSED);
	assert_null(s);
	assert_non_null(strstr(why, "Connection refused"));
	free_instance(inst);
}

/* ---- a stop request ends a read that waits without limit ---- */

struct reader_arg {
	struct circd_stream *s;
	ssize_t result;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	char buf[16];

	a->result = H->stream_read(a->s, buf, sizeof(buf), -1);
	return NULL;
}

static void test_stop_ends_read(void **state)
{
	struct instance *inst = fake_instance();
	struct reader_arg a = { .result = 1 };
	char why[CIRCD_STREAM_REASON_MAX];
	unsigned port;
	int lfd = listen_any(&port);
	_cleanup_free_ char *spec = xasprintf("tcp:127.0.0.1:%u", port);

	assert_int_equal(H->stream_open(CI(inst), spec, 2000, &a.s, why, sizeof(why)), 0);
	int peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);

	/* The peer never sends: only the stop can end this read. */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader, &a), 0);
	uint64_t one = 1;
	atomic_store(&inst->stop_requested, true);
	assert_int_equal(write(inst->stop_efd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(a.result, -ECANCELED);
	assert_true(atomic_load(&inst->heartbeat_usec) > 0); /* it checked in */
	assert_false(atomic_load(&inst->in_wait));

	/* a stream the plugin forgot is closed by the host after destroy() */
	close(peer);
	close(lfd);
	host_streams_close_leftovers(inst);
	assert_null(inst->streams);
	free_instance(inst);
}

/* ABI 1.5: set_counters() stores the totals; only the fields the caller's
 * struct has are read; a restart (instance_stop(), then a new plugin state
 * counting from 0) does not make the instance's totals go down. */
static void test_counters(void **state)
{
	struct instance *inst = fake_instance();
	uint64_t c[INSTANCE_COUNTERS];

	assert_true(H->struct_size >= offsetof(struct circd_host_api, set_counters) +
					 sizeof(H->set_counters));
	instance_counters(inst, c);
	for (size_t i = 0; i < INSTANCE_COUNTERS; i++)
		assert_int_equal(c[i], 0);

	struct circd_device_counters dc = { .struct_size = sizeof(dc), .bad_frames = 7,
					    .timeouts = 3, .device_errors = 2, .reconnects = 1 };
	H->set_counters(CI(inst), &dc);
	instance_counters(inst, c);
	assert_int_equal(c[INSTANCE_COUNTER_BAD_FRAMES], 7);
	assert_int_equal(c[INSTANCE_COUNTER_TIMEOUTS], 3);
	assert_int_equal(c[INSTANCE_COUNTER_DEVICE_ERRORS], 2);
	assert_int_equal(c[INSTANCE_COUNTER_RECONNECTS], 1);

	/* a caller whose struct ends after timeouts: the rest is untouched */
	struct circd_device_counters shorter = { .bad_frames = 9, .timeouts = 4,
						 .device_errors = 99, .reconnects = 99 };
	shorter.struct_size = offsetof(struct circd_device_counters, timeouts) + sizeof(uint64_t);
	H->set_counters(CI(inst), &shorter);
	H->set_counters(CI(inst), NULL); /* ignored */
	instance_counters(inst, c);
	assert_int_equal(c[INSTANCE_COUNTER_BAD_FRAMES], 9);
	assert_int_equal(c[INSTANCE_COUNTER_TIMEOUTS], 4);
	assert_int_equal(c[INSTANCE_COUNTER_DEVICE_ERRORS], 2);
	assert_int_equal(c[INSTANCE_COUNTER_RECONNECTS], 1);

	/* the worker stops (no thread here), the next plugin state starts at 0 */
	instance_stop(inst);
	instance_counters(inst, c);
	assert_int_equal(c[INSTANCE_COUNTER_BAD_FRAMES], 9);
	struct circd_device_counters again = { .struct_size = sizeof(again), .bad_frames = 1 };
	H->set_counters(CI(inst), &again);
	instance_counters(inst, c);
	assert_int_equal(c[INSTANCE_COUNTER_BAD_FRAMES], 10);
	assert_int_equal(c[INSTANCE_COUNTER_TIMEOUTS], 4);
	assert_int_equal(c[INSTANCE_COUNTER_DEVICE_ERRORS], 2);
	assert_int_equal(c[INSTANCE_COUNTER_RECONNECTS], 1);
	free_instance(inst);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test_teardown(test_serial, remove_tmpdir),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_stop_ends_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
