/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket: how circctl (and a self-check kiosk UI) talk to circd.
 *
 * Transport: AF_UNIX stream socket at <runtime_directory>/control.sock, mode
 * 0660, group = control.group from the config (when given).  Protocol: one
 * JSON object per line each way.  A request is {"cmd": "<name>", ...args};
 * the answer is {"ok": true, ...} or {"ok": false, "error": "<reason>"}.  A
 * client may send several requests on one connection; answers come in order.
 * Requests over 64 KiB, or that are not a JSON object with a string "cmd",
 * get an error answer and the connection is closed.
 *
 * The server runs on the core's sd-event loop, never blocks, and serves many
 * clients at once.  Handlers run on the main thread and answer synchronously,
 * or hold their answer back (control_hold_reply()) until something is done
 * (the journal's durability; a query on its own thread, which hands back
 * the answer line made by control_reply_text()).
 */
#ifndef CIRCD_CONTROL_H
#define CIRCD_CONTROL_H

#include <json-c/json.h>
#include <systemd/sd-event.h>
#include <sys/types.h>

struct control;

/* Fill *reply (a JSON object; "ok": true is added when missing) and return
 * 0, or return a negative errno and optionally set *error to a malloc'd
 * message that becomes the "error" field. */
typedef int (*control_handler_fn)(void *userdata, struct json_object *request,
				  struct json_object **reply, char **error);

/* Bind (replacing a stale socket file), chmod 0660, chgrp to group when
 * group_name is non-NULL (a missing group is an error), listen, attach to e.
 * Returns 0 or a negative errno with *error set to a message naming the path. */
int control_new(struct control **out, sd_event *e, const char *socket_path,
		const char *group_name, char **error);
int control_add_command(struct control *ctl, const char *cmd, control_handler_fn fn,
			void *userdata);
/* For a handler whose answer must wait (the journal's durability): called
 * during the handler, it keeps the answer the handler returns, and the
 * connection reads no further request, until control_release_reply(h,
 * NULL) sends it; with an error message instead, that error is sent and
 * the connection closes.  Call release exactly once (it frees h; if the
 * client is gone by then, it only frees).  NULL outside a handler. */
struct control_hold;
struct control_hold *control_hold_reply(struct control *ctl);
void control_release_reply(struct control_hold *h, const char *error);
/* For an answer made later, elsewhere (a query thread): release h with
 * text, a line from control_reply_text(), sent instead of what the handler
 * returned; an error answer made so keeps the connection open, as a
 * handler's would.  Takes text; main thread, exactly once, like
 * control_release_reply(). */
void control_release_reply_text(struct control_hold *h, char *text);
/* The answer line the server sends for a handler's result (r, reply,
 * error: as a handler returns them; "ok": true added when missing).  Takes
 * reply.  Touches nothing but its arguments: safe on any thread, so the
 * cost of serializing a big answer stays off the main loop.  malloc'd. */
char *control_reply_text(int r, struct json_object *reply, const char *error);
/* fn(userdata) runs (on the main thread) if the client of h goes away
 * before h is released: nobody waits for the answer any more, so its work
 * may stop.  h must still be released. */
void control_hold_on_gone(struct control_hold *h, void (*fn)(void *userdata), void *userdata);
/* Closes every client, removes the socket file. */
void control_free(struct control *ctl);

#endif
