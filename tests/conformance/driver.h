/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A conformance driver file: how to run one reader plugin against its
 * emulator.  Plain "key = value" lines, '#' starts a comment:
 *
 *   plugin     = feig                     plugins/.libs/<plugin>.so
 *   emulator   = feig_emulator.py         in tests/emulators/ (or a path)
 *   emulator_args = --max-sets 3          optional, appended
 *   transport  = pty port=serial:{device}:38400:8E1
 *   transport  = tcp port=tcp:127.0.0.1:{port}
 *                                         one line per transport to test:
 *                                         "pty" or "tcp", then the options
 *                                         that point the plugin at it
 *   option     = poll_ms=20               for every transport (repeatable)
 *   bad_option = poll_ms=1                must be refused (repeatable)
 *   bench_option = poll_ms=10             replaces the option of the same
 *                                         key for `make bench` (its fastest)
 *   commands   = write_afi set_eas        what it can do; the others must
 *                                         be refused with -EOPNOTSUPP
 *   memory     = blocks-reversed          as-stored | blocks-reversed | none
 *   block_size = 4                        bytes per block the emulator uses
 */
#ifndef CIRCD_CONFORMANCE_DRIVER_H
#define CIRCD_CONFORMANCE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#define DRIVER_MAX_LIST 16

enum driver_memory { MEMORY_AS_STORED, MEMORY_BLOCKS_REVERSED, MEMORY_NONE };
enum transport_kind { TRANSPORT_PTY, TRANSPORT_TCP };

struct driver_transport {
	enum transport_kind kind;
	char *options[DRIVER_MAX_LIST]; /* with {device} / {port} placeholders */
	size_t n_options;
};

struct driver {
	char *path;
	char *plugin;
	char *emulator;      /* absolute */
	char *emulator_args[DRIVER_MAX_LIST];
	size_t n_emulator_args;
	struct driver_transport transports[4];
	size_t n_transports;
	char *options[DRIVER_MAX_LIST];
	size_t n_options;
	char *bad_options[DRIVER_MAX_LIST];
	size_t n_bad_options;
	char *bench_options[DRIVER_MAX_LIST];
	size_t n_bench_options;
	bool write_afi, set_eas;
	enum driver_memory memory;
	unsigned block_size;
};

/* Parse `path`; emulators named without a '/' are looked up in
 * emulator_dir.  0, or -EINVAL with a "FILE:LINE: reason" in *error. */
int driver_load(struct driver *d, const char *path, const char *emulator_dir, char **error);
void driver_free(struct driver *d);
const char *transport_name(enum transport_kind k);

/* "key=value" with {device} and {port} replaced; malloc'ed. */
char *driver_expand(const char *option, const char *device, unsigned port);

#endif
