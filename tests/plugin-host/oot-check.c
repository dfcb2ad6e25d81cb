/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oot-check PLUGIN.so — load a reader plugin built out of tree (by
 * test-oot-build.sh) with the fake host: descriptor valid, options resolve,
 * create/run/stop/destroy work, a missing device reports OFFLINE.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fakehost.h"

int main(int argc, char **argv)
{
	struct fakehost *fh;
	int r = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
		return 2;
	}
	fh = fakehost_new();
	if (fakehost_load(fh, argv[1]) < 0 ||
	    fakehost_set_options(fh, (const char *[]){ "device=/nonexistent/reader", NULL }) < 0 ||
	    fakehost_create(fh) < 0 || fakehost_start(fh) < 0) {
		fprintf(stderr, "%s\n", fakehost_error(fh));
		goto out;
	}
	if (strcmp(fakehost_plugin(fh)->name, "example") != 0) {
		fprintf(stderr, "unexpected plugin name %s\n", fakehost_plugin(fh)->name);
		goto out;
	}
	if (fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 3000) < 0) {
		fprintf(stderr, "no OFFLINE for a missing device\n");
		goto out;
	}
	if (fakehost_stop(fh) != 0) {
		fprintf(stderr, "stop: %s\n", fakehost_error(fh));
		goto out;
	}
	printf("%s: loaded, created, ran and stopped\n", argv[1]);
	r = 0;
out:
	fakehost_free(fh);
	return r;
}
