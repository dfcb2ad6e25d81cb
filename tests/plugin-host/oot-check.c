/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oot-check PLUGIN.so — load the example plugin built out of tree (by
 * test-oot-build.sh) with the fake host: descriptor valid, options resolve,
 * create/run/stop/destroy work, a missing device reports OFFLINE, and over
 * a pty (through the host API 1.4 streams) a tag line becomes an event.
 */
#include "config.h"

#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fakehost.h"

/* The plugin reads "UID\n" from a pty it opens as serial:PATH. */
static int check_pty(const char *path)
{
	struct termios raw;
	int master, slave, r = 1;
	char name[128], dev[200];
	struct fakehost *fh = fakehost_new();

	memset(&raw, 0, sizeof(raw));
	cfmakeraw(&raw);
	if (openpty(&master, &slave, name, &raw, NULL) < 0) {
		perror("openpty");
		fakehost_free(fh);
		return 1;
	}
	snprintf(dev, sizeof(dev), "device=serial:%s:19200:8N1", name);
	if (fakehost_load(fh, path) < 0 ||
	    fakehost_set_options(fh, (const char *[]){ dev, "antenna=4", NULL }) < 0 ||
	    fakehost_create(fh) < 0 || fakehost_start(fh) < 0) {
		fprintf(stderr, "%s\n", fakehost_error(fh));
		goto out;
	}
	if (fakehost_wait_health(fh, CIRCD_HEALTH_OK, 3000) < 0) {
		fprintf(stderr, "the pty did not open\n");
		goto out;
	}
	if (write(master, "E004015012345678\n", 17) != 17 || fakehost_wait_events(fh, 1, 3000) < 0) {
		fprintf(stderr, "no event for a tag line on the pty\n");
		goto out;
	}
	const struct circd_event *ev = fakehost_event(fh, 0);
	if (ev->type != CIRCD_EV_TAG_SEEN || ev->uid_len != 8 || ev->antenna != 4) {
		fprintf(stderr, "wrong event: type %u, %u uid bytes, antenna %d\n",
			(unsigned)ev->type, (unsigned)ev->uid_len, ev->antenna);
		goto out;
	}
	if (fakehost_stop(fh) != 0) {
		fprintf(stderr, "stop: %s\n", fakehost_error(fh));
		goto out;
	}
	printf("%s: read a tag over a pty through host->stream_*\n", path);
	r = 0;
out:
	fakehost_free(fh);
	close(slave);
	close(master);
	return r;
}

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
	return r ? r : check_pty(argv[1]);
}
