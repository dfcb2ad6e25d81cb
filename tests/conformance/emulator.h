/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A reader emulator process for the conformance kit.  Every emulator takes
 * the same command line and control lines (tests/emulators/feig_emulator.py
 * is the model):
 *
 *   EMULATOR --pty-fd N | --tcp 0 (prints "TCP <port>")  --control F --state F
 *   control lines: add UID [dsfid=HH] [afi=HH] [eas=0|1] [bs=N] [mem=HEX],
 *                  remove UID, fault KIND [N], unplug MS (TCP)
 *   state file:    "UID afi=HH dsfid=HH eas=N" per tag, then counters
 *                  ("... faults_taken=N ...")
 *
 * Over a pty the plugin is given a stable path, a symlink to the slave (as
 * udev's /dev/serial/by-id/ links are), so the kit can pull the plug and put
 * it back: emulator_unplug() closes the master and removes the link,
 * emulator_replug() makes a new pty behind the same link and starts a new
 * emulator process holding the same field.
 */
#ifndef CIRCD_CONFORMANCE_EMULATOR_H
#define CIRCD_CONFORMANCE_EMULATOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "driver.h"

struct emulator {
	const struct driver *driver;
	enum transport_kind kind;
	pid_t pid;
	int master, slave;    /* pty: the kit keeps one slave open (see .c) */
	unsigned port;        /* tcp */
	char dir[64];         /* private temp dir */
	char link[96];        /* pty: what the plugin opens */
	char control[96], state[96];
	char error[256];
};

int emulator_start(struct emulator *e, const struct driver *d, enum transport_kind kind);
/* Kill the process, close the pty, remove the temp dir.  Safe twice. */
void emulator_stop(struct emulator *e);
/* Append one control line (printf-style). */
int emulator_say(struct emulator *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* pty only: the device disappears (emulator gone, master closed, link
 * removed) ... and comes back behind the same link with `field`, a list
 * of "add ..." control lines, in its new emulator's control file. */
int emulator_unplug(struct emulator *e);
int emulator_replug(struct emulator *e, const char *const *field, size_t n);

/* The tag's line in the state file: 1 with afi/eas filled (-1 when not
 * there), 0 when the tag is not in the field, -errno when unreadable. */
int emulator_tag_state(struct emulator *e, const char *uid, int *afi, int *eas);
/* A counter from the state file ("faults_taken"), or -1. */
long emulator_counter(struct emulator *e, const char *name);

#endif
