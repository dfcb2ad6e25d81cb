/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circctl's side of the control socket: one connection per run, one JSON
 * object per line each way (daemon/control.h).  Failures to reach circd
 * are explained in terms an administrator can act on.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tools/circctl.h"
#include "util/util.h"

/* circd answers on its main loop, or (statistics, exports) on its query
 * thread; an export of a large journal is the slowest thing it does. */
#define ANSWER_TIMEOUT_MS (60 * 1000)
/* Exports are big but not unbounded; this only stops a runaway peer. */
#define ANSWER_MAX_BYTES (512u * 1024 * 1024)

struct circctl_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static int report_connect_error(const char *path, int err)
{
	switch (err) {
	case ENOENT:
		fprintf(stderr, "circctl: circd is not running (no socket at %s)\n", path);
		break;
	case ECONNREFUSED:
		fprintf(stderr,
			"circctl: circd is not running (no socket at %s: the file is stale, "
			"nothing listens on it)\n",
			path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "circctl: permission denied on %s: add your user to the circd group\n",
			path);
		break;
	default:
		fprintf(stderr, "circctl: cannot connect to circd at %s: %s\n", path, strerror(err));
	}
	return EXIT_UNREACHABLE;
}

static int conn_open(const char *path, struct circctl_conn **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "circctl: socket path too long: %s\n", path);
		return EXIT_UNREACHABLE;
	}
	strcpy(addr.sun_path, path);

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "circctl: socket: %s\n", strerror(errno));
		return EXIT_UNREACHABLE;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return report_connect_error(path, errno);

	struct circctl_conn *c = xcalloc(1, sizeof(*c));
	c->fd = TAKE_FD(fd);
	*out = c;
	return EXIT_OK;
}

void circctl_disconnect(struct circctl *ctx)
{
	if (!ctx->conn)
		return;
	close(ctx->conn->fd);
	free(ctx->conn->buf);
	free(ctx->conn);
	ctx->conn = NULL;
}

static int conn_send_line(struct circctl_conn *c, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, s, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to the next '\n'; returns the line's length (line is
 * NUL-terminated in c->buf) or a negative errno (-EPIPE: closed early). */
static ssize_t conn_read_line(struct circctl_conn *c)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = c->buf ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
		if (nl) {
			*nl = '\0';
			return nl - c->buf;
		}
		scanned = c->len;
		if (c->len >= ANSWER_MAX_BYTES)
			return -EMSGSIZE;
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = xrealloc(c->buf, c->cap);
		}

		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int r = poll(&pfd, 1, ANSWER_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;

		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		c->len += (size_t)n;
	}
}

static void conn_consume(struct circctl_conn *c, size_t line_len)
{
	size_t used = line_len + 1;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
}

int circctl_exchange(struct circctl *ctx, struct json_object *request,
		     struct json_object **answer)
{
	int r;

	if (!ctx->conn) {
		r = conn_open(ctx->socket_path, &ctx->conn);
		if (r != EXIT_OK)
			return r;
	}
	struct circctl_conn *c = ctx->conn;

	size_t len;
	const char *s = json_object_to_json_string_length(
		request, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	r = conn_send_line(c, s, len);
	if (r >= 0)
		r = conn_send_line(c, "\n", 1);
	if (r < 0) {
		fprintf(stderr, "circctl: lost the connection to circd: %s\n", strerror(-r));
		return EXIT_UNREACHABLE;
	}

	ssize_t n = conn_read_line(c);
	if (n < 0) {
		if (n == -EPIPE)
			fprintf(stderr, "circctl: circd closed the connection without an answer\n");
		else if (n == -ETIMEDOUT)
			fprintf(stderr, "circctl: circd did not answer within %d s\n",
				ANSWER_TIMEOUT_MS / 1000);
		else
			fprintf(stderr, "circctl: reading circd's answer: %s\n", strerror((int)-n));
		return EXIT_UNREACHABLE;
	}

	enum json_tokener_error jerr;
	struct json_object *obj = json_tokener_parse_verbose(c->buf, &jerr);
	conn_consume(c, (size_t)n);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		fprintf(stderr, "circctl: circd sent an answer that is not a JSON object\n");
		return EXIT_UNREACHABLE;
	}
	*answer = obj;
	return EXIT_OK;
}

int circctl_call(struct circctl *ctx, struct json_object *request, struct json_object **answer)
{
	struct json_object *obj = NULL;
	int r = circctl_exchange(ctx, request, &obj);
	json_object_put(request);
	if (r != EXIT_OK)
		return r;

	struct json_object *ok;
	if (json_object_object_get_ex(obj, "ok", &ok) && json_object_get_boolean(ok)) {
		*answer = obj;
		return EXIT_OK;
	}

	/* Scripts get the answer as it came; people get the reason. */
	if (ctx->json) {
		json_print_pretty(stdout, obj);
	} else {
		const char *error = json_str(obj, "error");
		fprintf(stderr, "circctl: %s\n", *error ? error : "circd reported an error");
	}
	json_object_put(obj);
	return EXIT_DAEMON_ERROR;
}
