/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real control server (daemon/control.c) with canned handlers, so that
 * tests/unit/test_circctl.py can run circctl against the server code it
 * will meet in circd, not only against its Python fake.
 *
 *   control_canned_server SOCKET ANSWERS.json
 *
 * ANSWERS.json maps a command name to its reply object; a reply with
 * "ok": false becomes a handler error with that "error".  Prints "ready"
 * once listening, then each request as one JSON line; exits when its
 * standard input closes (so it never outlives the test that started it).
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "daemon/control.h"
#include "util/util.h"

static int handle_canned(void *userdata, struct json_object *request,
			 struct json_object **reply, char **error)
{
	struct json_object *canned = userdata, *ok, *message;

	puts(json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	if (json_object_object_get_ex(canned, "ok", &ok) && !json_object_get_boolean(ok)) {
		if (json_object_object_get_ex(canned, "error", &message))
			*error = xstrdup(json_object_get_string(message));
		return -EIO;
	}
	/* A deep copy: the server adds "ok" and frees what it is given. */
	return json_object_deep_copy(canned, reply, NULL) < 0 ? -ENOMEM : 0;
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return sd_event_exit(sd_event_source_get_event(s), 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOCKET ANSWERS.json\n", argv[0]);
		return 2;
	}
	struct json_object *answers = json_object_from_file(argv[2]);
	if (!answers || !json_object_is_type(answers, json_type_object)) {
		fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[2]);
		return 2;
	}

	sd_event *e = NULL;
	struct control *ctl = NULL;
	sd_event_source *input = NULL;
	_cleanup_free_ char *error = NULL;
	int r = sd_event_default(&e);
	if (r >= 0)
		r = control_new(&ctl, e, argv[1], NULL, &error);
	json_object_object_foreach(answers, cmd, reply)
		if (r >= 0)
			r = control_add_command(ctl, cmd, handle_canned, reply);
	if (r >= 0)
		r = sd_event_add_io(e, &input, STDIN_FILENO, EPOLLIN, on_stdin, NULL);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], error ? error : strerror(-r));
	} else {
		puts("ready");
		fflush(stdout);
		r = sd_event_loop(e);
	}

	sd_event_source_unref(input);
	control_free(ctl);
	sd_event_unref(e);
	json_object_put(answers);
	return r < 0 ? 1 : 0;
}
