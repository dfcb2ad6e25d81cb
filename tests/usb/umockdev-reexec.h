/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For test programs that need umockdev's preload library: the first run
 * execs itself again under `umockdev-wrapper`, so `make check` needs no
 * special LOG_COMPILER and the program can be started by hand as well.
 * Exits 77 (skip) when umockdev-wrapper is not installed.
 */
#ifndef CIRCD_UMOCKDEV_REEXEC_H
#define CIRCD_UMOCKDEV_REEXEC_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void umockdev_reexec(int argc, char **argv)
{
	char exe[PATH_MAX], asan[1024];
	ssize_t n;

	if (getenv("CIRCD_UNDER_UMOCKDEV"))
		return;
	setenv("CIRCD_UNDER_UMOCKDEV", "1", 1);
	/* The preload library comes before ASan's runtime in the library
	 * list, which ASan refuses unless told it is fine. */
	snprintf(asan, sizeof(asan), "verify_asan_link_order=0%s%s",
		 getenv("ASAN_OPTIONS") ? ":" : "", getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "");
	setenv("ASAN_OPTIONS", asan, 1);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		perror("readlink /proc/self/exe");
		exit(99);
	}
	exe[n] = '\0';
	char **args = calloc((size_t)argc + 2, sizeof(char *));
	if (!args)
		exit(99);
	args[0] = (char *)"umockdev-wrapper";
	args[1] = exe;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	execvp(args[0], args);
	printf("SKIP: umockdev-wrapper not found: cannot fake USB devices here\n");
	exit(77);
}

#endif
