/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket server (see control.h for the protocol).
 *
 * Every client has an input buffer (at most one request line, 64 KiB) and
 * an output buffer of answers not yet taken by the kernel.  Reads and
 * writes are non-blocking; a client whose answers pile up (it pipelines but
 * does not read) is not read from until its output drains below
 * OUTPUT_HIGH_WATER, so one slow client costs bounded memory and never
 * stalls the loop.  A protocol error (oversized request, not JSON, no
 * "cmd") gets one error answer and the connection closes once that answer
 * is written.
 */
/* <config.h>, not "config.h": the quoted form would find daemon/conf.h
 * (the config module's header) next to this file before autoconf's. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/control-socket.h"
#include "util/util.h"

#define REQUEST_MAX_BYTES (64 * 1024)
#define REQUEST_TOO_LARGE "request too large (limit 65536 bytes)"
#define OUTPUT_HIGH_WATER (256 * 1024)
#define READ_CHUNK 4096
/* Accept at most this many connections per wakeup, so a flood of
 * connections cannot starve the rest of the loop. */
#define ACCEPT_BURST 32
#define ACCEPT_RETRY_USEC (1 * USEC_PER_SEC)

struct control_command {
	char *name;
	control_handler_fn fn;
	void *userdata;
};

struct control_client {
	struct control *ctl;
	struct control_client *prev, *next;
	int fd;
	sd_event_source *source;

	char *in;
	size_t in_len, in_cap;

	char *out;
	size_t out_len, out_off, out_cap;

	bool eof;	/* the peer will send nothing more */
	bool closing;	/* close once the output is written */
	struct control_hold *held; /* an answer held back: read nothing more */
};

/* An answer that must wait (control_hold_reply()).  Freed by
 * control_release_reply(); the client only points to it. */
struct control_hold {
	struct control_client *client; /* NULL once the client is gone */
	char *reply;                   /* the serialized answer, once known */
	char *error;                   /* set when released with an error first */
	char *text;                    /* set when released with a text first */
	bool released;                 /* released while its handler still ran */
	void (*on_gone)(void *userdata); /* control_hold_on_gone() */
	void *on_gone_userdata;
};

struct control {
	sd_event *event;
	int listen_fd;
	sd_event_source *listen_source;
	sd_event_source *accept_retry_source;
	char *socket_path;
	struct control_socket_id socket_id;

	struct control_command *commands;
	size_t n_commands;

	struct control_client *clients;
	json_tokener *tokener;

	struct control_client *dispatching; /* whose handler runs now */
	struct control_hold *new_hold;      /* what that handler asked for */
};

static void client_free(struct control_client *c)
{
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->held) {
		struct control_hold *h = c->held;
		c->held = NULL;
		h->client = NULL;
		if (h->on_gone)
			h->on_gone(h->on_gone_userdata);
	}
	if (c->ctl->dispatching == c)
		c->ctl->dispatching = NULL;
	/* Unreferencing the source from inside its own callback is fine:
	 * sd-event keeps a dispatching source alive until it returns. */
	sd_event_source_disable_unref(c->source);
	if (c->fd >= 0)
		close(c->fd);
	/* That fd may be what a paused accept() was waiting for. */
	if (c->ctl->listen_source)
		sd_event_source_set_enabled(c->ctl->listen_source, SD_EVENT_ON);
	free(c->in);
	free(c->out);
	free(c);
}

/* ---- output ---------------------------------------------------------- */

static size_t client_pending_output(const struct control_client *c)
{
	return c->out_len - c->out_off;
}

static void client_queue(struct control_client *c, const char *data, size_t len)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		/* Reclaim the already-written prefix before growing. */
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		if (cap != c->out_cap) {
			c->out = xrealloc(c->out, cap);
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static void client_queue_json(struct control_client *c, struct json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	client_queue(c, s, len);
	client_queue(c, "\n", 1);
}

static void client_queue_error(struct control_client *c, const char *message)
{
	struct json_object *obj = json_object_new_object();
	json_object_object_add(obj, "ok", json_object_new_boolean(0));
	json_object_object_add(obj, "error", json_object_new_string(message));
	client_queue_json(c, obj);
	json_object_put(obj);
}

/* Returns 0 (all written or the socket is full) or a negative errno when
 * the peer is gone. */
static int client_flush(struct control_client *c)
{
	while (client_pending_output(c) > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, client_pending_output(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* ---- requests -------------------------------------------------------- */

static const struct control_command *control_find(const struct control *ctl, const char *name)
{
	for (size_t i = 0; i < ctl->n_commands; i++)
		if (strcmp(ctl->commands[i].name, name) == 0)
			return &ctl->commands[i];
	return NULL;
}

static char *error_json(const char *message);

char *control_reply_text(int r, struct json_object *reply, const char *error)
{
	if (r < 0) {
		json_object_put(reply);
		char buf[128];
		return error_json(error ? error : strerror_r(-r, buf, sizeof(buf)));
	}
	if (!reply)
		reply = json_object_new_object();
	if (!json_object_object_get_ex(reply, "ok", NULL))
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
	char *text = xasprintf("%s\n", json_object_to_json_string_ext(
		reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(reply);
	return text;
}

static char *error_json(const char *message)
{
	struct json_object *obj = json_object_new_object();
	json_object_object_add(obj, "ok", json_object_new_boolean(0));
	json_object_object_add(obj, "error", json_object_new_string(message));
	char *s = xasprintf("%s\n", json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return s;
}

static void client_dispatch(struct control_client *c, struct json_object *request,
			    const char *cmd)
{
	const struct control_command *command = control_find(c->ctl, cmd);
	if (!command) {
		_cleanup_free_ char *msg = xasprintf("unknown command '%s'", cmd);
		client_queue_error(c, msg);
		return;
	}

	struct json_object *reply = NULL;
	_cleanup_free_ char *error = NULL;
	c->ctl->dispatching = c;
	c->ctl->new_hold = NULL;
	int r = command->fn(command->userdata, request, &reply, &error);
	struct control_hold *hold = c->ctl->new_hold;
	c->ctl->dispatching = NULL;
	c->ctl->new_hold = NULL;
	if (r >= 0 && reply && !json_object_is_type(reply, json_type_object)) {
		r = -EINVAL;
		free(error);
		error = xasprintf("internal error: reply to '%s' is not an object", cmd);
	}
	char *text = control_reply_text(r, reply, error);
	if (hold && hold->released) {
		/* Released before the handler returned (with an error, or with
		 * an answer made elsewhere). */
		if (hold->error) {
			free(text);
			text = error_json(hold->error);
		} else if (hold->text) {
			free(text);
			text = hold->text;
		}
		free(hold->error);
		free(hold);
		hold = NULL;
	}
	if (hold) {
		hold->reply = text;
		c->held = hold;
		return;
	}
	client_queue(c, text, strlen(text));
	free(text);
}

struct control_hold *control_hold_reply(struct control *ctl)
{
	if (!ctl || !ctl->dispatching || ctl->new_hold)
		return ctl ? ctl->new_hold : NULL;
	struct control_hold *h = xcalloc(1, sizeof(*h));
	h->client = ctl->dispatching;
	ctl->new_hold = h;
	return h;
}

void control_hold_on_gone(struct control_hold *h, void (*fn)(void *userdata), void *userdata)
{
	if (!h)
		return;
	h->on_gone = fn;
	h->on_gone_userdata = userdata;
}

static bool client_update(struct control_client *c);
static void client_process_input(struct control_client *c);
static int client_flush(struct control_client *c);

void control_release_reply_text(struct control_hold *h, char *text)
{
	if (!h) {
		free(text);
		return;
	}
	if (!h->reply) {
		/* Its handler still runs: client_dispatch() sends text. */
		h->released = true;
		h->text = text;
		return;
	}
	free(h->reply);
	h->reply = text;
	control_release_reply(h, NULL);
}

void control_release_reply(struct control_hold *h, const char *error)
{
	if (!h)
		return;
	struct control_client *c = h->client;
	if (!h->reply) {
		/* Its handler still runs: client_dispatch() finishes the job. */
		h->released = true;
		h->error = error ? xstrdup(error) : NULL;
		return;
	}
	if (c) {
		c->held = NULL;
		if (error) {
			_cleanup_free_ char *e = error_json(error);
			client_queue(c, e, strlen(e));
			c->closing = true;
		} else {
			client_queue(c, h->reply, strlen(h->reply));
		}
	}
	free(h->reply);
	free(h);
	if (!c)
		return;
	/* Answer what the client sent meanwhile, as on_client_io() would. */
	client_process_input(c);
	if (client_flush(c) < 0) {
		client_free(c);
		return;
	}
	client_update(c);
}

/* Parses one request line (without its newline).  Returns false when the
 * line was a protocol error and the connection must close. */
static bool client_handle_line(struct control_client *c, const char *line, size_t len)
{
	struct control *ctl = c->ctl;

	if (memchr(line, '\0', len)) {
		client_queue_error(c, "invalid request: contains a NUL byte");
		return false;
	}

	json_tokener_reset(ctl->tokener);
	struct json_object *request = json_tokener_parse_ex(ctl->tokener, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(ctl->tokener);
	if (!request || jerr != json_tokener_success) {
		json_object_put(request);
		_cleanup_free_ char *msg = xasprintf(
			"invalid JSON: %s",
			jerr == json_tokener_continue ? "incomplete object"
						      : json_tokener_error_desc(jerr));
		client_queue_error(c, msg);
		return false;
	}
	for (size_t i = json_tokener_get_parse_end(ctl->tokener); i < len; i++) {
		if (!strchr(" \t\r", line[i])) {
			json_object_put(request);
			client_queue_error(c, "invalid JSON: trailing data after the object");
			return false;
		}
	}

	struct json_object *cmd;
	if (!json_object_is_type(request, json_type_object)) {
		client_queue_error(c, "invalid request: not a JSON object");
		json_object_put(request);
		return false;
	}
	if (!json_object_object_get_ex(request, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		client_queue_error(c, "invalid request: no string \"cmd\"");
		json_object_put(request);
		return false;
	}

	client_dispatch(c, request, json_object_get_string(cmd));
	json_object_put(request);
	return true;
}

static bool line_is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r", s[i]))
			return false;
	return true;
}

/* Answers the complete lines in the input buffer, in order, while the
 * client's unread output stays under the high-water mark. */
static void client_process_input(struct control_client *c)
{
	size_t start = 0;

	if (!c->in)
		return; /* nothing read yet */
	while (!c->closing && !c->held && client_pending_output(c) < OUTPUT_HIGH_WATER) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		size_t len;
		if (nl)
			len = (size_t)(nl - (c->in + start));
		else if (c->eof && c->in_len > start)
			len = c->in_len - start; /* last request without newline */
		else
			break;

		if (len > REQUEST_MAX_BYTES) {
			client_queue_error(c, REQUEST_TOO_LARGE);
			c->closing = true;
		} else if (!line_is_blank(c->in + start, len)) {
			if (!client_handle_line(c, c->in + start, len))
				c->closing = true;
		}
		start += len + (nl ? 1 : 0);
	}

	if (c->closing) {
		c->in_len = 0;
	} else if (start > 0) {
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
	}

	/* A line that cannot end within the limit is refused now rather than
	 * after the client has sent all of it. */
	if (!c->closing && c->in_len > REQUEST_MAX_BYTES &&
	    !memchr(c->in, '\n', c->in_len)) {
		client_queue_error(c, REQUEST_TOO_LARGE);
		c->closing = true;
		c->in_len = 0;
	}
}

/* Returns 0, or a negative errno when the connection failed. */
static int client_read(struct control_client *c)
{
	/* One byte over the limit is enough to know a request is too big. */
	const size_t limit = REQUEST_MAX_BYTES + 1;

	for (unsigned i = 0; i < 16 && !c->eof && c->in_len < limit; i++) {
		if (c->in_cap - c->in_len < READ_CHUNK && c->in_cap < limit) {
			size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK;
			if (cap > limit)
				cap = limit;
			c->in = xrealloc(c->in, cap);
			c->in_cap = cap;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len,
				 MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		if (n == 0)
			c->eof = true;
		c->in_len += (size_t)n;
	}
	return 0;
}

/* Sets the epoll mask from the client's state, or frees the client when it
 * has nothing left to do.  Returns false when the client was freed. */
static bool client_update(struct control_client *c)
{
	bool output = client_pending_output(c) > 0;

	if (!output && !c->held && (c->closing || c->eof)) {
		client_free(c);
		return false;
	}

	uint32_t events = 0;
	if (!c->closing && !c->eof && !c->held && client_pending_output(c) < OUTPUT_HIGH_WATER)
		events |= EPOLLIN;
	if (output)
		events |= EPOLLOUT;
	if (sd_event_source_set_io_events(c->source, events) < 0) {
		client_free(c);
		return false;
	}
	return true;
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control_client *c = userdata;

	if (revents & (EPOLLERR | EPOLLHUP)) {
		/* The peer is gone: nobody can take an answer any more. */
		client_free(c);
		return 0;
	}

	if (revents & EPOLLIN) {
		if (client_read(c) < 0) {
			client_free(c);
			return 0;
		}
	}

	/* Alternate answering and writing until the client is blocked on
	 * the socket or has no complete request left. */
	for (;;) {
		size_t before = c->in_len;
		client_process_input(c);
		if (client_flush(c) < 0) {
			client_free(c);
			return 0;
		}
		if (c->in_len == before || c->closing ||
		    client_pending_output(c) > 0)
			break;
	}

	client_update(c);
	return 0;
}

/* ---- listening socket ------------------------------------------------ */

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct control *ctl = userdata;

	sd_event_source_set_enabled(ctl->listen_source, SD_EVENT_ON);
	return 0;
}

/* Out of file descriptors: the listening socket stays readable, so stop
 * polling it for a while instead of spinning on accept().  The retry timer
 * exists from the start: arming it needs no new fd (adding one would, and
 * fail right now). */
static void control_pause_accept(struct control *ctl)
{
	uint64_t now;

	if (sd_event_now(ctl->event, CLOCK_MONOTONIC, &now) < 0)
		now = now_monotonic_usec();
	sd_event_source_set_enabled(ctl->listen_source, SD_EVENT_OFF);
	if (sd_event_source_set_time(ctl->accept_retry_source, now + ACCEPT_RETRY_USEC) < 0 ||
	    sd_event_source_set_enabled(ctl->accept_retry_source, SD_EVENT_ONESHOT) < 0)
		sd_event_source_set_enabled(ctl->listen_source, SD_EVENT_ON);
}

static int control_add_client(struct control *ctl, int fd)
{
	struct control_client *c = xcalloc(1, sizeof(*c));

	c->ctl = ctl;
	c->fd = fd;
	int r = sd_event_add_io(ctl->event, &c->source, fd, EPOLLIN, on_client_io, c);
	if (r < 0) {
		c->fd = -1;
		free(c);
		return r;
	}
	c->next = ctl->clients;
	if (c->next)
		c->next->prev = c;
	ctl->clients = c;
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control *ctl = userdata;

	for (unsigned i = 0; i < ACCEPT_BURST; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				control_pause_accept(ctl);
			return 0;
		}
		if (control_add_client(ctl, cfd) < 0)
			close(cfd);
	}
	return 0;
}

int control_new(struct control **out, sd_event *e, const char *socket_path,
		const char *group_name, char **error)
{
	char *unused = NULL;
	if (!error)
		error = &unused;
	*error = NULL;
	if (!out || !e || !socket_path || !*socket_path) {
		*error = xstrdup("control_new: invalid arguments");
		free(unused);
		return -EINVAL;
	}

	struct control *ctl = xcalloc(1, sizeof(*ctl));
	ctl->listen_fd = -1;
	ctl->event = sd_event_ref(e);
	ctl->socket_path = xstrdup(socket_path);
	ctl->tokener = json_tokener_new();
	if (!ctl->tokener) {
		control_free(ctl);
		*error = xstrdup("out of memory");
		free(unused);
		return -ENOMEM;
	}

	int r = control_socket_open(socket_path, group_name, &ctl->listen_fd, &ctl->socket_id,
				    error);
	if (r >= 0) {
		r = sd_event_add_io(e, &ctl->listen_source, ctl->listen_fd, EPOLLIN,
				    on_accept, ctl);
		if (r >= 0)
			r = sd_event_add_time(e, &ctl->accept_retry_source, CLOCK_MONOTONIC,
					      UINT64_MAX, 0, on_accept_retry, ctl);
		if (r >= 0)
			r = sd_event_source_set_enabled(ctl->accept_retry_source, SD_EVENT_OFF);
		if (r < 0)
			*error = xasprintf("cannot watch %s: %s", socket_path, strerror(-r));
	}
	if (r < 0) {
		control_free(ctl);
		free(unused);
		return r;
	}

	free(unused);
	*out = ctl;
	return 0;
}

int control_add_command(struct control *ctl, const char *cmd, control_handler_fn fn,
			void *userdata)
{
	if (!ctl || !cmd || !fn)
		return -EINVAL;
	if (control_find(ctl, cmd))
		return -EEXIST;
	ctl->commands = xrealloc(ctl->commands, (ctl->n_commands + 1) * sizeof(*ctl->commands));
	ctl->commands[ctl->n_commands++] = (struct control_command){
		.name = xstrdup(cmd),
		.fn = fn,
		.userdata = userdata,
	};
	return 0;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	sd_event_source_disable_unref(ctl->listen_source);
	sd_event_source_disable_unref(ctl->accept_retry_source);
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		/* Remove the file only while it is still ours: a new circd
		 * started during our shutdown may have replaced it. */
		control_socket_remove(ctl->socket_path, &ctl->socket_id);
	}
	for (size_t i = 0; i < ctl->n_commands; i++)
		free(ctl->commands[i].name);
	free(ctl->commands);
	if (ctl->tokener)
		json_tokener_free(ctl->tokener);
	sd_event_unref(ctl->event);
	free(ctl->socket_path);
	free(ctl);
}
