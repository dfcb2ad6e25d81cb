/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests: run tests/emulators/acs.py on a free loopback port as a child
 * that dies with the test (PR_SET_PDEATHSIG), even when an assertion
 * fails half-way. */
#ifndef CIRCD_TEST_ACS_CHILD_H
#define CIRCD_TEST_ACS_CHILD_H

#include <stdint.h>
#include <sys/types.h>

struct acs_child {
	pid_t pid;
	uint16_t port;
	char dir[64];      /* temp dir: port file, log, control */
	char log[128];
	char control[128];
};

/* extra: NULL-terminated extra arguments for acs.py.  0 or -errno. */
int acs_start(struct acs_child *a, const char *const *extra);
void acs_stop(struct acs_child *a);
/* Write the faults JSON (atomically) for the emulator to pick up. */
void acs_faults(struct acs_child *a, const char *json);
/* How many logged messages have id `mid` and (if item) "AB": ["item"]. */
int acs_count(struct acs_child *a, const char *mid, const char *item);
/* The n-th logged message of id mid (raw text), malloc'd, or NULL. */
char *acs_raw(struct acs_child *a, const char *mid, int n);
/* A path in the source tree (top_srcdir), malloc'd. */
char *srcdir_path(const char *rel);

#endif
