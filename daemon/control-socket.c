/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's file: its directory, a stale predecessor, its mode
 * and group.  Kept apart from control.c, which serves the connections.
 */
/* <config.h>, not "config.h": the quoted form would find daemon/config.h
 * (the config module's header) next to this file before autoconf's. */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control-socket.h"
#include "util/util.h"

/* Creates the socket's directory (and its parents) when missing. */
static int ensure_directory(const char *socket_path, char **error)
{
	_cleanup_free_ char *dir = xstrdup(socket_path);
	char *slash = strrchr(dir, '/');

	if (!slash || slash == dir)
		return 0; /* relative name in the cwd, or a file in "/" */
	*slash = '\0';

	for (char *p = dir + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			int r = -errno;
			*error = xasprintf("cannot create directory %s for the control socket: %s",
					   dir, strerror(-r));
			return r;
		}
		if (last)
			break;
		*p = '/';
	}

	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*error = xasprintf("%s is not a directory (control socket %s)", dir,
				   socket_path);
		return -ENOTDIR;
	}
	return 0;
}

/* Removes a socket file left by a circd that is gone; refuses when another
 * one still listens there, or when the path is not a socket at all. */
static int remove_stale_socket(const char *path, const struct sockaddr_un *addr,
			       char **error)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		int r = -errno;
		*error = xasprintf("cannot stat %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*error = xasprintf("%s exists and is not a socket; not replacing it", path);
		return -EEXIST;
	}

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
		*error = xasprintf("another circd is listening on %s", path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		int r = -errno;
		*error = xasprintf("cannot remove stale socket %s: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

static int lookup_group(const char *name, gid_t *gid, char **error)
{
	struct group grp, *result = NULL;
	long size = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t bufsize = size > 0 ? (size_t)size : 16384;

	for (;;) {
		_cleanup_free_ char *buf = xcalloc(1, bufsize);
		int r = getgrnam_r(name, &grp, buf, bufsize, &result);
		if (r == ERANGE && bufsize < (1u << 20)) {
			bufsize *= 2;
			continue;
		}
		if (r != 0) {
			*error = xasprintf("cannot look up group '%s': %s", name, strerror(r));
			return -r;
		}
		if (!result) {
			*error = xasprintf("group '%s' does not exist", name);
			return -ENOENT;
		}
		*gid = grp.gr_gid;
		return 0;
	}
}

/* Binds, sets mode and group, listens.  The socket is set up completely
 * before listen(), so no client can connect while the permissions are
 * still the umask's. */
int control_socket_open(const char *path, const char *group, int *fd_out,
			struct control_socket_id *id, char **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int r;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		*error = xasprintf("control socket path too long (max %zu bytes): %s",
				   sizeof(addr.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);

	gid_t gid = (gid_t)-1;
	if (group) {
		r = lookup_group(group, &gid, error);
		if (r < 0)
			return r;
	}
	r = ensure_directory(path, error);
	if (r < 0)
		return r;
	r = remove_stale_socket(path, &addr, error);
	if (r < 0)
		return r;

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		*error = xasprintf("cannot create control socket: %s", strerror(-r));
		return r;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		*error = xasprintf("cannot bind %s: %s", path, strerror(-r));
		return r;
	}

	struct stat st;
	const char *what;
	if (chmod(path, 0660) < 0) {
		what = "chmod";
		goto fail;
	}
	if (group && chown(path, (uid_t)-1, gid) < 0) {
		what = "chown";
		goto fail;
	}
	if (stat(path, &st) < 0) {
		what = "stat";
		goto fail;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		what = "listen on";
		goto fail;
	}

	id->dev = st.st_dev;
	id->ino = st.st_ino;
	*fd_out = TAKE_FD(fd);
	return 0;

fail:
	r = -errno;
	*error = group && strcmp(what, "chown") == 0
			 ? xasprintf("cannot chown %s to group '%s': %s", path, group, strerror(-r))
			 : xasprintf("cannot %s %s: %s", what, path, strerror(-r));
	unlink(path);
	return r;
}

void control_socket_remove(const char *path, const struct control_socket_id *id)
{
	struct stat st;

	if (stat(path, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino)
		unlink(path);
}
