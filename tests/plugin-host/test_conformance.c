/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Conformance kit, first part: every plugin in $CIRCD_PLUGIN_DIR (or the
 * directories/files given as arguments) must
 *  - load with RTLD_NOW and pass the descriptor checks (magic, ABI, struct
 *    size, name, ops, a well-formed option schema);
 *  - refuse to be configured without its required options;
 *  - when it has no required options: create(), run() in a thread, stop on
 *    CIRCD_WAKE_STOP within the fake host's limit with result 0, destroy()
 *    (leaks show up under ASan), never misusing the option accessors.
 * A plugin that needs a device gets none here: it must still start and stop
 * cleanly (reporting OFFLINE or DEGRADED is fine, crashing is not).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakehost.h"
#include "util/util.h"

static bool has_required(const struct circd_plugin *p)
{
	for (const struct circd_option *o = p->options; o && o->key; o++)
		if (o->flags & CIRCD_OPT_REQUIRED)
			return true;
	return false;
}

static int check_plugin(const char *path)
{
	struct fakehost *fh = fakehost_new();
	int r = -1;

	if (fakehost_load(fh, path) < 0) {
		printf("FAIL %s: %s\n", path, fakehost_error(fh));
		goto out;
	}
	const struct circd_plugin *p = fakehost_plugin(fh);
	if (has_required(p)) {
		if (fakehost_set_options(fh, (const char *const[]){ NULL }) != -EINVAL) {
			printf("FAIL %s: accepted a config without its required options\n", path);
			goto out;
		}
		printf("ok   %s (%s): descriptor, schema; run not tried (required options)\n",
		       path, p->name);
		r = 0;
		goto out;
	}
	if (fakehost_create(fh) < 0) {
		/* defaults alone may legitimately not be enough (a device to
		 * name), but create() must then say why */
		if (fakehost_log_count(fh) == 0) {
			printf("FAIL %s: create() failed without logging why\n", path);
			goto out;
		}
		printf("ok   %s (%s): create() refused defaults: %s\n", path, p->name,
		       fakehost_log(fh, 0));
		r = 0;
		goto out;
	}
	if (fakehost_start(fh) < 0) {
		printf("FAIL %s: %s\n", path, fakehost_error(fh));
		goto out;
	}
	usleep(100000);
	int result;
	if (fakehost_run_returned(fh, &result)) {
		printf("FAIL %s: run() returned %d without being asked to stop\n", path, result);
		goto out;
	}
	result = fakehost_stop(fh);
	if (result != 0) {
		printf("FAIL %s: stop: %d %s\n", path, result, fakehost_error(fh));
		if (result == -ETIMEDOUT)
			exit(1); /* cannot free under a running thread */
		goto out;
	}
	if (fakehost_option_misuse(fh)) {
		printf("FAIL %s: asked for undeclared options or with the wrong type\n", path);
		goto out;
	}
	printf("ok   %s (%s): descriptor, schema, create/run/stop/destroy\n", path, p->name);
	r = 0;
out:
	fakehost_free(fh);
	return r;
}

static int check_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d) {
		printf("FAIL %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 4 || strcmp(de->d_name + n - 3, ".so") != 0)
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		(*count)++;
		if (check_plugin(path) < 0)
			r = -1;
	}
	closedir(d);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int r = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			size_t n = strlen(argv[i]);
			if (n > 3 && strcmp(argv[i] + n - 3, ".so") == 0) {
				count++;
				r |= check_plugin(argv[i]);
			} else {
				r |= check_dir(argv[i], &count);
			}
		}
	} else {
		const char *dir = getenv("CIRCD_PLUGIN_DIR");
		r = check_dir(dir ? dir : "plugins/.libs", &count);
	}
	printf("%u plugins checked\n", count);
	if (count == 0)
		return 77;
	return r < 0 ? 1 : 0;
}
