/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/transport against real peers: a pty pair (the test holds the master,
 * the transport opens the slave by path) and a TCP listener on 127.0.0.1.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "transport/transport.h"

static void test_spec_errors(void **state)
{
	struct transport *t = (struct transport *)1;
	char why[TRANSPORT_REASON_MAX];

	assert_int_equal(transport_open("usb:1234", 100, &t, why, sizeof(why)), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(why, "expected"));
	assert_int_equal(transport_open("serial:/dev/null:38400:7E1", 100, &t, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "8N1"));
	assert_int_equal(transport_open("serial:/dev/null:fast", 100, &t, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(transport_open("serial:relative", 100, &t, why, sizeof(why)), -EINVAL);
	assert_int_equal(transport_open("tcp:127.0.0.1", 100, &t, why, sizeof(why)), -EINVAL);
	assert_int_equal(transport_open("tcp:127.0.0.1:0", 100, &t, why, sizeof(why)), -EINVAL);
	assert_int_equal(transport_open("serial:/nonexistent/tty:9600:8N1", 100, &t, why,
					sizeof(why)),
			 -ENOENT);
	assert_non_null(strstr(why, "/nonexistent/tty"));
	/* /dev/null opens, but it is no tty */
	assert_int_equal(transport_open("serial:/dev/null", 100, &t, why, sizeof(why)), -ENOTTY);
}

static void test_serial_pty(void **state)
{
	struct termios raw, tio;
	int master, slave;
	char name[128], spec[200], why[TRANSPORT_REASON_MAX];
	struct transport *t = NULL;
	uint8_t buf[16];

	memset(&raw, 0, sizeof(raw));
	cfmakeraw(&raw);
	assert_int_equal(openpty(&master, &slave, name, &raw, NULL), 0);
	snprintf(spec, sizeof(spec), "serial:%s:38400:8E1", name);
	assert_int_equal(transport_open(spec, 100, &t, why, sizeof(why)), 0);
	assert_string_equal(transport_spec(t), spec);

	/* the termios we asked for (a pty keeps the speed and raw mode but
	 * does not store parity bits, so those are not checked here) */
	assert_int_equal(tcgetattr(transport_fd(t), &tio), 0);
	assert_false(tio.c_lflag & (ICANON | ECHO));
	assert_int_equal(tio.c_cflag & CSIZE, CS8);
	assert_int_equal(cfgetospeed(&tio), B38400);

	/* exclusive: a second open of the slave is refused (root may
	 * override TIOCEXCL, so only check it as a normal user) */
	struct transport *t2 = NULL;
	int r2 = transport_open(spec, 100, &t2, why, sizeof(why));
	if (geteuid() != 0)
		assert_int_equal(r2, -EBUSY);
	else
		fprintf(stderr, "second open as root: %d %s\n", r2, why);
	transport_close(t2);

	/* both ways, every byte value survives raw mode */
	uint8_t frame[] = { 0x07, 0xFF, 0xB0, 0x01, 0x00, 0x1C, 0x56, 0x0D, 0x11, 0x13 };
	assert_int_equal(transport_write_all(t, frame, sizeof(frame), 100), 0);
	uint8_t got[sizeof(frame)];
	size_t have = 0;
	while (have < sizeof(got)) {
		ssize_t n = read(master, got + have, sizeof(got) - have);
		assert_true(n > 0);
		have += (size_t)n;
	}
	assert_memory_equal(got, frame, sizeof(frame));

	assert_int_equal(transport_read(t, buf, sizeof(buf), 20), 0); /* timeout */
	assert_int_equal(write(master, "\x00\xff\x03", 3), 3);
	ssize_t n = transport_read(t, buf, sizeof(buf), 500);
	assert_true(n >= 1);
	assert_int_equal(buf[0], 0x00);

	/* drain: stray bytes gone */
	assert_int_equal(write(master, "junkjunk", 8), 8);
	usleep(20000);
	assert_true(transport_drain(t) >= 0);
	assert_int_equal(transport_read(t, buf, sizeof(buf), 0), 0);

	/* the other side hangs up: an error, not a hang */
	close(master);
	n = transport_read(t, buf, sizeof(buf), 500);
	assert_true(n < 0);
	assert_true(transport_reason(t)[0] != '\0');
	transport_close(t);
	close(slave);
}

static int listen_loopback(unsigned *port)
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
	unsigned port;
	int lfd = listen_loopback(&port);
	char spec[64], why[TRANSPORT_REASON_MAX];
	struct transport *t = NULL;
	uint8_t buf[16];

	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", port);
	assert_int_equal(transport_open(spec, 500, &t, why, sizeof(why)), 0);
	int peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);

	assert_int_equal(transport_write_all(t, "\x05\xff\x69\x89\x01", 5, 100), 0);
	assert_int_equal(read(peer, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "\x05\xff\x69\x89\x01", 5);
	assert_int_equal(transport_read(t, buf, sizeof(buf), 10), 0);
	assert_int_equal(write(peer, "ab", 2), 2);
	assert_int_equal(transport_read(t, buf, sizeof(buf), 500), 2);

	/* the peer goes away: EOF, then reopen works once it listens again */
	close(peer);
	assert_int_equal(transport_read(t, buf, sizeof(buf), 500), -EPIPE);
	assert_int_equal(transport_reopen(t, 500), 0);
	peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);
	close(peer);
	close(lfd);
	/* nobody listening: refused, with a reason */
	assert_int_equal(transport_reopen(t, 500), -ECONNREFUSED);
	assert_non_null(strstr(transport_reason(t), "127.0.0.1"));
	assert_int_equal(transport_fd(t), -1);
	transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_serial_pty),
		cmocka_unit_test(test_tcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
