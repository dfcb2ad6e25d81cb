/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to the control module: creating and removing the socket file.
 */
#ifndef CIRCD_CONTROL_SOCKET_H
#define CIRCD_CONTROL_SOCKET_H

#include <sys/types.h>

/* Which file we bound, so that we remove only our own. */
struct control_socket_id {
	dev_t dev;
	ino_t ino;
};

/* Creates the directory when missing, replaces a stale socket (never a live
 * one, never another kind of file), binds, sets mode 0660 and the group,
 * listens.  Returns 0 with a non-blocking listening *fd_out, or a negative errno
 * with *error naming the path. */
int control_socket_open(const char *path, const char *group, int *fd_out,
			struct control_socket_id *id, char **error);

/* Unlinks path if it is still the socket we bound: a circd started while
 * we shut down may already have replaced it. */
void control_socket_remove(const char *path, const struct control_socket_id *id);

#endif
