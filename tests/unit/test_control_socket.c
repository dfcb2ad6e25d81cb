/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's file (daemon/control-socket.c, through
 * control_new()): its directory, stale and live predecessors, mode, group,
 * and errors that name the path.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/control.h"
#include "util/util.h"

struct setup_env {
	char dir[64];
	char path[160];
	sd_event *event;
};

static void env_init(struct setup_env *env, const char *name)
{
	const char *t = getenv("TMPDIR");
	/* sun_path is short: fall back to /tmp for deep TMPDIRs. */
	snprintf(env->dir, sizeof(env->dir), "%s/circd-ctl-XXXXXX",
		 t && *t && strlen(t) < 40 ? t : "/tmp");
	assert_non_null(mkdtemp(env->dir));
	snprintf(env->path, sizeof(env->path), "%s/%s", env->dir, name);
	assert_int_equal(sd_event_new(&env->event), 0);
}

static void env_done(struct setup_env *env)
{
	sd_event_unref(env->event);
	/* Tests leave at most a file, or nested directories, behind. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env->dir);
	assert_int_equal(system(cmd), 0);
}

static void expect_new_fails(struct setup_env *env, const char *group, int expected_r,
			     const char *needle)
{
	struct control *ctl = NULL;
	_cleanup_free_ char *error = NULL;
	int r = control_new(&ctl, env->event, env->path, group, &error);
	assert_int_equal(r, expected_r);
	assert_null(ctl);
	assert_non_null(error);
	if (!strstr(error, needle))
		fail_msg("error '%s' does not contain '%s'", error, needle);
}

static void test_stale_socket_replaced(void **state)
{
	struct setup_env env;
	env_init(&env, "control.sock");

	/* A socket file whose owner is gone (bound, never listening). */
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, env.path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);

	struct control *ctl = NULL;
	_cleanup_free_ char *error = NULL;
	assert_int_equal(control_new(&ctl, env.event, env.path, NULL, &error), 0);

	/* A second server on the same path must not steal a live socket. */
	expect_new_fails(&env, NULL, -EADDRINUSE, env.path);
	control_free(ctl);
	env_done(&env);
}

static void test_refuses_to_replace_a_file(void **state)
{
	struct setup_env env;
	env_init(&env, "control.sock");
	FILE *file = fopen(env.path, "w");
	assert_non_null(file);
	fclose(file);
	expect_new_fails(&env, NULL, -EEXIST, env.path);
	struct stat st;
	assert_int_equal(stat(env.path, &st), 0);
	env_done(&env);
}

static void test_creates_missing_directory(void **state)
{
	struct setup_env env;
	env_init(&env, "run/circd/control.sock");

	struct control *ctl = NULL;
	_cleanup_free_ char *error = NULL;
	assert_int_equal(control_new(&ctl, env.event, env.path, NULL, &error), 0);
	struct stat st;
	assert_int_equal(stat(env.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	control_free(ctl);
	env_done(&env);
}

static void test_directory_error_names_path(void **state)
{
	struct setup_env env;
	env_init(&env, "file/control.sock");

	char file_path[128];
	snprintf(file_path, sizeof(file_path), "%s/file", env.dir);
	FILE *file = fopen(file_path, "w");
	assert_non_null(file);
	fclose(file);
	expect_new_fails(&env, NULL, -ENOTDIR, file_path);
	env_done(&env);
}

static void test_path_too_long(void **state)
{
	struct setup_env env;
	env_init(&env, "control.sock");
	char longpath[160];
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';

	struct control *ctl = NULL;
	_cleanup_free_ char *error = NULL;
	assert_int_equal(control_new(&ctl, env.event, longpath, NULL, &error), -ENAMETOOLONG);
	assert_non_null(strstr(error, "too long"));
	env_done(&env);
}

static void test_group(void **state)
{
	struct setup_env env;
	env_init(&env, "control.sock");

	expect_new_fails(&env, "no-such-group-circd-test", -ENOENT, "no-such-group-circd-test");

	/* Our own group is always allowed for chown. */
	struct group *gr = getgrgid(getegid());
	if (!gr) {
		env_done(&env);
		skip();
	}
	_cleanup_free_ char *name = xstrdup(gr->gr_name);
	struct control *ctl = NULL;
	_cleanup_free_ char *error = NULL;
	assert_int_equal(control_new(&ctl, env.event, env.path, name, &error), 0);
	struct stat st;
	assert_int_equal(stat(env.path, &st), 0);
	assert_int_equal(st.st_gid, getegid());
	assert_int_equal(st.st_mode & 07777, 0660);
	control_free(ctl);
	env_done(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_socket_replaced),
		cmocka_unit_test(test_refuses_to_replace_a_file),
		cmocka_unit_test(test_creates_missing_directory),
		cmocka_unit_test(test_directory_error_names_path),
		cmocka_unit_test(test_path_too_long),
		cmocka_unit_test(test_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
