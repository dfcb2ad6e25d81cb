/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket server against real clients: a real sd-event loop, a
 * socket in a temporary directory, and non-blocking client sockets driven
 * from the same thread (every wait below runs the loop while it waits, so
 * the tests are deterministic and need no threads).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/control.h"
#include "util/util.h"

#define WAIT_LIMIT_USEC (5 * USEC_PER_SEC)

struct fixture {
	char dir[64];
	char path[128];
	sd_event *event;
	struct control *ctl;
	unsigned count;
	struct control_hold *held; /* what "hold" asked for */
	bool gone;                 /* its client went away */
};

struct client {
	int fd;
	char *buf;
	size_t len, cap;
	bool eof;
};

/* ---- handlers ---------------------------------------------------------- */

static int handle_echo(void *userdata, struct json_object *request,
		       struct json_object **reply, char **error)
{
	struct json_object *arg;
	*reply = json_object_new_object();
	if (json_object_object_get_ex(request, "arg", &arg))
		json_object_object_add(*reply, "arg", json_object_get(arg));
	return 0;
}

static int handle_count(void *userdata, struct json_object *request,
			struct json_object **reply, char **error)
{
	struct fixture *f = userdata;
	*reply = json_object_new_object();
	json_object_object_add(*reply, "n", json_object_new_int((int)++f->count));
	return 0;
}

static int handle_fail(void *userdata, struct json_object *request,
		       struct json_object **reply, char **error)
{
	*error = xstrdup("the journal is busy");
	return -EBUSY;
}

static int handle_fail_errno(void *userdata, struct json_object *request,
			     struct json_object **reply, char **error)
{
	return -ENOENT;
}

static int handle_bad_reply(void *userdata, struct json_object *request,
			    struct json_object **reply, char **error)
{
	*reply = json_object_new_array();
	return 0;
}

static int handle_nothing(void *userdata, struct json_object *request,
			  struct json_object **reply, char **error)
{
	return 0;
}

/* {"cmd":"big","size":N} -> {"data":"xxxx...", "ok":true} with N bytes of
 * a repeating pattern, so a torn or reordered stream is detected. */
static int handle_big(void *userdata, struct json_object *request,
		      struct json_object **reply, char **error)
{
	struct json_object *size;
	if (!json_object_object_get_ex(request, "size", &size))
		return -EINVAL;
	size_t n = (size_t)json_object_get_int(size);
	char *data = xcalloc(1, n + 1);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	*reply = json_object_new_object();
	json_object_object_add(*reply, "data", json_object_new_string_len(data, (int)n));
	free(data);
	return 0;
}

static void on_gone(void *userdata)
{
	struct fixture *f = userdata;
	f->gone = true;
}

/* Holds its answer for the test to release later, as the query thread's
 * callers do; what it returns itself is never sent. */
static int handle_hold(void *userdata, struct json_object *request,
		       struct json_object **reply, char **error)
{
	struct fixture *f = userdata;
	f->held = control_hold_reply(f->ctl);
	assert_non_null(f->held);
	control_hold_on_gone(f->held, on_gone, f);
	*reply = json_object_new_object();
	json_object_object_add(*reply, "placeholder", json_object_new_boolean(1));
	return 0;
}

/* Holds and releases with a text before returning. */
static int handle_hold_now(void *userdata, struct json_object *request,
			   struct json_object **reply, char **error)
{
	struct fixture *f = userdata;
	struct json_object *later = json_object_new_object();
	json_object_object_add(later, "now", json_object_new_boolean(1));
	control_release_reply_text(control_hold_reply(f->ctl), control_reply_text(0, later, NULL));
	*reply = json_object_new_object();
	json_object_object_add(*reply, "placeholder", json_object_new_boolean(1));
	return 0;
}

/* ---- fixture ----------------------------------------------------------- */

static const char *tmp_base(void)
{
	const char *t = getenv("TMPDIR");
	/* sun_path is short: fall back to /tmp for deep TMPDIRs. */
	return t && *t && strlen(t) < 40 ? t : "/tmp";
}

static void make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "%s/circd-ctl-XXXXXX", tmp_base());
	assert_non_null(mkdtemp(dir));
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	_cleanup_free_ char *error = NULL;

	make_tmpdir(f->dir, sizeof(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
	assert_int_equal(sd_event_new(&f->event), 0);
	assert_int_equal(control_new(&f->ctl, f->event, f->path, NULL, &error), 0);
	assert_null(error);
	assert_int_equal(control_add_command(f->ctl, "echo", handle_echo, f), 0);
	assert_int_equal(control_add_command(f->ctl, "count", handle_count, f), 0);
	assert_int_equal(control_add_command(f->ctl, "fail", handle_fail, f), 0);
	assert_int_equal(control_add_command(f->ctl, "fail-errno", handle_fail_errno, f), 0);
	assert_int_equal(control_add_command(f->ctl, "bad-reply", handle_bad_reply, f), 0);
	assert_int_equal(control_add_command(f->ctl, "nothing", handle_nothing, f), 0);
	assert_int_equal(control_add_command(f->ctl, "big", handle_big, f), 0);
	assert_int_equal(control_add_command(f->ctl, "hold", handle_hold, f), 0);
	assert_int_equal(control_add_command(f->ctl, "hold-now", handle_hold_now, f), 0);
	assert_int_equal(control_add_command(f->ctl, "echo", handle_echo, f), -EEXIST);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	control_free(f->ctl);
	sd_event_unref(f->event);
	/* control_free removed the socket; anything left is a test's own. */
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void pump(struct fixture *f)
{
	assert_true(sd_event_run(f->event, 1000) >= 0);
}

/* ---- client side ------------------------------------------------------- */

static struct client *client_connect(struct fixture *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct client *c = xcalloc(1, sizeof(*c));

	strcpy(addr.sun_path, f->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return c;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

/* Sends everything, running the loop while the socket is full.  Returns 0
 * or -errno when the server closed the connection first. */
static int client_send(struct fixture *f, struct client *c, const char *data, size_t len)
{
	uint64_t deadline = now_monotonic_usec() + WAIT_LIMIT_USEC;
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				return -errno;
			assert_true(now_monotonic_usec() < deadline);
			pump(f);
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void client_send_str(struct fixture *f, struct client *c, const char *s)
{
	assert_int_equal(client_send(f, c, s, strlen(s)), 0);
}

/* Reads at most max bytes that are available now. */
static void client_fill(struct client *c, size_t max)
{
	if (c->cap - c->len < max) {
		while (c->cap - c->len < max)
			c->cap = c->cap ? 2 * c->cap : 4096;
		c->buf = xrealloc(c->buf, c->cap);
	}
	ssize_t n = recv(c->fd, c->buf + c->len, max, MSG_DONTWAIT);
	if (n == 0)
		c->eof = true;
	else if (n < 0 && errno != EAGAIN)
		c->eof = true; /* ECONNRESET counts as the end, too */
	else if (n > 0)
		c->len += (size_t)n;
}

/* Returns the next answer line (malloc'd, without '\n'), or NULL on EOF.
 * Gives up when nothing arrives for WAIT_LIMIT_USEC. */
static char *client_read_line_chunked(struct fixture *f, struct client *c, size_t chunk)
{
	uint64_t deadline = now_monotonic_usec() + WAIT_LIMIT_USEC;
	for (;;) {
		char *nl = c->buf ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			char *line = xcalloc(1, n + 1);
			memcpy(line, c->buf, n);
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (c->eof)
			return NULL;
		assert_true(now_monotonic_usec() < deadline);
		size_t before = c->len;
		assert_true(sd_event_run(f->event, 0) >= 0);
		client_fill(c, chunk);
		if (c->len != before)
			deadline = now_monotonic_usec() + WAIT_LIMIT_USEC;
		else
			pump(f);
	}
}

static char *client_read_line(struct fixture *f, struct client *c)
{
	return client_read_line_chunked(f, c, 65536);
}

static struct json_object *client_read_json(struct fixture *f, struct client *c)
{
	_cleanup_free_ char *line = client_read_line(f, c);
	assert_non_null(line);
	struct json_object *obj = json_tokener_parse(line);
	assert_non_null(obj);
	return obj;
}

static void client_expect_eof(struct fixture *f, struct client *c)
{
	_cleanup_free_ char *line = client_read_line(f, c);
	assert_null(line);
	assert_int_equal(c->len, 0);
}

static const char *get_str(struct json_object *obj, const char *key)
{
	struct json_object *v;
	assert_true(json_object_object_get_ex(obj, key, &v));
	return json_object_get_string(v);
}

static bool get_ok(struct json_object *obj)
{
	struct json_object *v;
	assert_true(json_object_object_get_ex(obj, "ok", &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static void expect_answer(struct fixture *f, struct client *c, const char *expected)
{
	_cleanup_free_ char *line = client_read_line(f, c);
	assert_non_null(line);
	assert_string_equal(line, expected);
}

/* Expects an error answer containing needle, then the connection to close. */
static void expect_error_and_close(struct fixture *f, struct client *c, const char *needle)
{
	struct json_object *obj = client_read_json(f, c);
	assert_false(get_ok(obj));
	const char *error = get_str(obj, "error");
	if (!strstr(error, needle))
		fail_msg("error '%s' does not contain '%s'", error, needle);
	json_object_put(obj);
	client_expect_eof(f, c);
}

/* ---- requests and answers ---------------------------------------------- */

static void test_answer_gets_ok(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c, "{\"cmd\":\"echo\",\"arg\":\"a/b \\\"q\\\"\"}\n");
	expect_answer(f, c, "{\"arg\":\"a/b \\\"q\\\"\",\"ok\":true}");
	/* A handler may leave *reply NULL: the answer is just ok. */
	client_send_str(f, c, "{\"cmd\":\"nothing\"}\n");
	expect_answer(f, c, "{\"ok\":true}");
	client_close(c);
}

static void test_unknown_command_keeps_connection(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c, "{\"cmd\":\"frobnicate\"}\n");
	expect_answer(f, c, "{\"ok\":false,\"error\":\"unknown command 'frobnicate'\"}");
	client_send_str(f, c, "{\"cmd\":\"echo\",\"arg\":1}\n");
	expect_answer(f, c, "{\"arg\":1,\"ok\":true}");
	client_close(c);
}

static void test_handler_errors(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c, "{\"cmd\":\"fail\"}\n");
	expect_answer(f, c, "{\"ok\":false,\"error\":\"the journal is busy\"}");
	/* Without a message, the errno's text stands in. */
	client_send_str(f, c, "{\"cmd\":\"fail-errno\"}\n");
	expect_answer(f, c, "{\"ok\":false,\"error\":\"No such file or directory\"}");
	client_send_str(f, c, "{\"cmd\":\"bad-reply\"}\n");
	struct json_object *obj = client_read_json(f, c);
	assert_false(get_ok(obj));
	assert_non_null(strstr(get_str(obj, "error"), "not an object"));
	json_object_put(obj);
	/* The connection survives handler errors. */
	client_send_str(f, c, "{\"cmd\":\"count\"}\n");
	expect_answer(f, c, "{\"n\":1,\"ok\":true}");
	client_close(c);
}

static void test_pipelined_requests_answered_in_order(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c,
			"{\"cmd\":\"count\"}\n\n  \r\n{\"cmd\":\"count\"}\r\n"
			"{\"cmd\":\"nope\"}\n{\"cmd\":\"count\"}\n");
	expect_answer(f, c, "{\"n\":1,\"ok\":true}");
	expect_answer(f, c, "{\"n\":2,\"ok\":true}");
	expect_answer(f, c, "{\"ok\":false,\"error\":\"unknown command 'nope'\"}");
	expect_answer(f, c, "{\"n\":3,\"ok\":true}");
	client_close(c);
}

static void test_request_split_across_reads(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);
	const char *req = "{\"cmd\":\"echo\",\"arg\":\"slowly\"}\n{\"cmd\":\"count\"}\n";

	for (const char *p = req; *p; p++) {
		assert_int_equal(client_send(f, c, p, 1), 0);
		pump(f);
	}
	expect_answer(f, c, "{\"arg\":\"slowly\",\"ok\":true}");
	expect_answer(f, c, "{\"n\":1,\"ok\":true}");
	client_close(c);
}

static void test_many_clients(void **state)
{
	struct fixture *f = *state;
	struct client *c[12];
	char buf[128];

	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		c[i] = client_connect(f);
	/* Interleave: requests go out in reverse, half of them in two pieces. */
	for (size_t i = ARRAY_SIZE(c); i-- > 0;) {
		snprintf(buf, sizeof(buf), "{\"cmd\":\"echo\",\"arg\":%zu}\n", i);
		if (i % 2) {
			assert_int_equal(client_send(f, c[i], buf, 5), 0);
			pump(f);
			client_send_str(f, c[i], buf + 5);
		} else {
			client_send_str(f, c[i], buf);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		snprintf(buf, sizeof(buf), "{\"arg\":%zu,\"ok\":true}", i);
		expect_answer(f, c[i], buf);
	}
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		client_close(c[i]);
}

static void test_last_request_before_eof(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	/* `printf '...' | socat - UNIX:...` style: no final newline, then EOF. */
	client_send_str(f, c, "{\"cmd\":\"count\"}\n{\"cmd\":\"echo\",\"arg\":true}");
	assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
	expect_answer(f, c, "{\"n\":1,\"ok\":true}");
	expect_answer(f, c, "{\"arg\":true,\"ok\":true}");
	client_expect_eof(f, c);
	client_close(c);
}

/* ---- protocol errors --------------------------------------------------- */

static void test_oversized_request(void **state)
{
	struct fixture *f = *state;
	size_t n = 70 * 1024;
	char *big = xcalloc(1, n + 1);

	/* Without a newline: refused once 64 KiB have arrived.  The send
	 * may fail with EPIPE when the server closes first; that is fine. */
	memset(big, 'a', n);
	struct client *c = client_connect(f);
	(void)client_send(f, c, big, n);
	expect_error_and_close(f, c, "request too large");
	client_close(c);

	/* A complete line just over the limit, too. */
	memcpy(big, "{\"cmd\":\"echo\",\"arg\":\"", 21);
	memcpy(big + 65538 - 3, "\"}\n", 3);
	c = client_connect(f);
	(void)client_send(f, c, big, 65538);
	expect_error_and_close(f, c, "request too large");
	client_close(c);

	/* Exactly 64 KiB is accepted. */
	memcpy(big + 65537 - 3, "\"}\n", 3);
	c = client_connect(f);
	assert_int_equal(client_send(f, c, big, 65537), 0);
	_cleanup_free_ char *line = client_read_line(f, c);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"ok\":true"));
	client_close(c);
	free(big);

	/* The server is still fine. */
	c = client_connect(f);
	client_send_str(f, c, "{\"cmd\":\"count\"}\n");
	expect_answer(f, c, "{\"n\":1,\"ok\":true}");
	client_close(c);
}

static void test_garbage(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *data;
		size_t len;
		const char *error;
	} cases[] = {
		{ "hello\n", 6, "invalid JSON" },
		{ "{\"cmd\":\n", 8, "invalid JSON" },
		{ "{\"cmd\":\"echo\"} x\n", 17, "trailing data" },
		{ "[1,2]\n", 6, "not a JSON object" },
		{ "\"status\"\n", 9, "not a JSON object" },
		{ "{\"command\":\"status\"}\n", 21, "no string \"cmd\"" },
		{ "{\"cmd\":5}\n", 10, "no string \"cmd\"" },
		{ "{\"cmd\":\"echo\"}\0junk\n", 20, "NUL" },
		{ "\xff\xfe\x01\n", 4, "invalid JSON" },
	};

	/* A good client alongside is not disturbed. */
	struct client *good = client_connect(f);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct client *c = client_connect(f);
		assert_int_equal(client_send(f, c, cases[i].data, cases[i].len), 0);
		expect_error_and_close(f, c, cases[i].error);
		client_close(c);

		client_send_str(f, good, "{\"cmd\":\"count\"}\n");
		char expected[64];
		snprintf(expected, sizeof(expected), "{\"n\":%zu,\"ok\":true}", i + 1);
		expect_answer(f, good, expected);
	}
	client_close(good);
}

static void test_requests_after_error_are_dropped(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c, "{\"cmd\":\"count\"}\nnot json\n{\"cmd\":\"count\"}\n");
	expect_answer(f, c, "{\"n\":1,\"ok\":true}");
	expect_error_and_close(f, c, "invalid JSON");
	assert_int_equal(f->count, 1);
	client_close(c);
}

/* ---- slow and vanishing readers ---------------------------------------- */

static void check_big_answer(const char *line, size_t size)
{
	struct json_object *obj = json_tokener_parse(line);
	assert_non_null(obj);
	assert_true(get_ok(obj));
	const char *data = get_str(obj, "data");
	assert_int_equal(strlen(data), size);
	for (size_t i = 0; i < size; i++)
		if (data[i] != (char)('a' + i % 26))
			fail_msg("answer torn at byte %zu", i);
	json_object_put(obj);
}

static void test_slow_reader_gets_whole_answer(void **state)
{
	struct fixture *f = *state;
	const size_t size = 2 * 1024 * 1024; /* far beyond any socket buffer */
	int rcvbuf = 4096;
	struct client *slow = client_connect(f);

	assert_int_equal(setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	char req[64];
	snprintf(req, sizeof(req), "{\"cmd\":\"big\",\"size\":%zu}\n{\"cmd\":\"count\"}\n", size);
	client_send_str(f, slow, req);
	for (int i = 0; i < 20; i++)
		pump(f);

	/* While the slow client's answer waits, others are served. */
	struct client *other = client_connect(f);
	client_send_str(f, other, "{\"cmd\":\"echo\",\"arg\":\"meanwhile\"}\n");
	expect_answer(f, other, "{\"arg\":\"meanwhile\",\"ok\":true}");
	client_close(other);

	_cleanup_free_ char *line = client_read_line_chunked(f, slow, 1000);
	assert_non_null(line);
	check_big_answer(line, size);
	/* The pipelined request after it still comes, in order. */
	expect_answer(f, slow, "{\"n\":1,\"ok\":true}");
	client_close(slow);
}

static void test_pipelined_big_answers_without_reading(void **state)
{
	struct fixture *f = *state;
	const size_t size = 100 * 1024;
	const int n = 30; /* 3 MB of answers while the client only writes */
	struct client *c = client_connect(f);
	char req[64];

	snprintf(req, sizeof(req), "{\"cmd\":\"big\",\"size\":%zu}\n", size);
	for (int i = 0; i < n; i++)
		client_send_str(f, c, req);
	client_send_str(f, c, "{\"cmd\":\"count\"}\n");
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *line = client_read_line(f, c);
		assert_non_null(line);
		check_big_answer(line, size);
	}
	expect_answer(f, c, "{\"n\":1,\"ok\":true}");
	client_close(c);
}

static void test_client_vanishes_mid_answer(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	/* No SIGPIPE may kill the daemon (it would kill this test). */
	client_send_str(f, c, "{\"cmd\":\"big\",\"size\":3000000}\n{\"cmd\":\"count\"}\n");
	for (int i = 0; i < 5; i++)
		pump(f);
	client_fill(c, 100);
	client_close(c);
	for (int i = 0; i < 20; i++)
		pump(f);

	/* Pipelined requests whose sender is gone before the answers. */
	c = client_connect(f);
	client_send_str(f, c, "{\"cmd\":\"big\",\"size\":500000}\n{\"cmd\":\"big\",\"size\":500000}\n");
	client_close(c);
	for (int i = 0; i < 20; i++)
		pump(f);

	c = client_connect(f);
	client_send_str(f, c, "{\"cmd\":\"echo\",\"arg\":\"still here\"}\n");
	expect_answer(f, c, "{\"arg\":\"still here\",\"ok\":true}");
	client_close(c);
}

/* Out of file descriptors, accept() fails; the server must neither spin
 * nor lose the waiting clients, and serve them once fds are free again. */
/* ---- answers held and made later (the query thread's way) -------------- */

/* Runs the loop until the "hold" handler ran. */
static void wait_held(struct fixture *f)
{
	uint64_t deadline = now_monotonic_usec() + WAIT_LIMIT_USEC;
	while (!f->held) {
		assert_true(now_monotonic_usec() < deadline);
		pump(f);
	}
}

static void test_held_answer_made_later(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	/* Pipelined: the echo waits behind the held answer. */
	client_send_str(f, c, "{\"cmd\":\"hold\"}\n{\"cmd\":\"echo\",\"arg\":\"after\"}\n");
	wait_held(f);
	for (int i = 0; i < 5; i++) {
		assert_true(sd_event_run(f->event, 0) >= 0);
		client_fill(c, 65536);
	}
	assert_int_equal(c->len, 0);
	assert_false(c->eof);

	struct json_object *later = json_object_new_object();
	json_object_object_add(later, "n", json_object_new_int(7));
	control_release_reply_text(f->held, control_reply_text(0, later, NULL));
	f->held = NULL;
	expect_answer(f, c, "{\"n\":7,\"ok\":true}");
	expect_answer(f, c, "{\"arg\":\"after\",\"ok\":true}");
	assert_false(f->gone);
	client_close(c);
}

static void test_held_error_made_later_keeps_connection(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c, "{\"cmd\":\"hold\"}\n{\"cmd\":\"echo\",\"arg\":\"after\"}\n");
	wait_held(f);
	control_release_reply_text(f->held, control_reply_text(-ENOENT, NULL, NULL));
	f->held = NULL;
	expect_answer(f, c, "{\"ok\":false,\"error\":\"No such file or directory\"}");
	expect_answer(f, c, "{\"arg\":\"after\",\"ok\":true}");

	client_send_str(f, c, "{\"cmd\":\"hold\"}\n");
	wait_held(f);
	control_release_reply_text(f->held, control_reply_text(-EIO, NULL, "journal query failed"));
	f->held = NULL;
	expect_answer(f, c, "{\"ok\":false,\"error\":\"journal query failed\"}");
	client_send_str(f, c, "{\"cmd\":\"echo\",\"arg\":\"open\"}\n");
	expect_answer(f, c, "{\"arg\":\"open\",\"ok\":true}");
	client_close(c);
}

static void test_held_released_inside_handler(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c, "{\"cmd\":\"hold-now\"}\n{\"cmd\":\"echo\",\"arg\":\"after\"}\n");
	expect_answer(f, c, "{\"now\":true,\"ok\":true}");
	expect_answer(f, c, "{\"arg\":\"after\",\"ok\":true}");
	client_close(c);
}

static void test_held_client_gone(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_connect(f);

	client_send_str(f, c, "{\"cmd\":\"hold\"}\n");
	wait_held(f);
	assert_false(f->gone);
	close(c->fd);
	c->fd = -1;
	uint64_t deadline = now_monotonic_usec() + WAIT_LIMIT_USEC;
	while (!f->gone) {
		assert_true(now_monotonic_usec() < deadline);
		pump(f);
	}
	/* Still released exactly once: it only frees now (ASan: no leak). */
	control_release_reply_text(f->held, control_reply_text(0, NULL, NULL));
	f->held = NULL;
	/* The server goes on serving others. */
	struct client *d = client_connect(f);
	client_send_str(f, d, "{\"cmd\":\"echo\",\"arg\":\"next\"}\n");
	expect_answer(f, d, "{\"arg\":\"next\",\"ok\":true}");
	client_close(d);
	client_close(c);
}

static void test_accept_recovers_from_emfile(void **state)
{
	struct fixture *f = *state;
	struct client *c[4];
	struct rlimit saved, tight;
	int probe;

	/* valgrind emulates RLIMIT_NOFILE by closing what accept() returned
	 * over the limit: the kernel has accepted, the client sees EOF. */
	const char *preload = getenv("LD_PRELOAD");
	if (preload && strstr(preload, "vgpreload"))
		skip();

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		c[i] = xcalloc(1, sizeof(*c[i]));
		c[i]->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(c[i]->fd >= 0);
	}
	/* The lowest free fd tells how many are in use. */
	probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	tight = saved;
	tight.rlim_cur = (rlim_t)probe;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);

	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, f->path);
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		assert_int_equal(connect(c[i]->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
		assert_int_equal(send(c[i]->fd, "{\"cmd\":\"count\"}\n", 16, MSG_NOSIGNAL), 16);
	}
	/* A paused listener lets each loop iteration sleep its 1 ms; a
	 * spinning one returns at once, thousands of times in 100 ms. */
	unsigned iterations = 0;
	uint64_t until = now_monotonic_usec() + 100 * USEC_PER_MSEC;
	while (now_monotonic_usec() < until) {
		pump(f);
		iterations++;
	}
	assert_in_range(iterations, 1, 300);
	assert_int_equal(f->count, 0); /* nobody could be accepted */

	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		_cleanup_free_ char *line = client_read_line(f, c[i]);
		assert_non_null(line);
		assert_non_null(strstr(line, "\"ok\":true"));
	}
	assert_int_equal(f->count, ARRAY_SIZE(c));
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		client_close(c[i]);
}

/* ---- socket setup ------------------------------------------------------ */

static void test_socket_mode_and_removal(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	control_free(f->ctl);
	f->ctl = NULL;
	assert_int_equal(stat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer_gets_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command_keeps_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handler_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_requests_answered_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_split_across_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_request_before_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_after_error_are_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_gets_whole_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_big_answers_without_reading, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_vanishes_mid_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_answer_made_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_error_made_later_keeps_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_held_released_inside_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_client_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_recovers_from_emfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_mode_and_removal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
