/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target for circd.conf: whatever the bytes, config_load() and
 * everything after it (schema checks, resolving, reload equality) must end in
 * a result or a list of errors, never a crash or a leak.
 *
 * The input goes through a real file (a memfd) because config_load() takes a
 * path, as the daemon does.  Inputs with '@' are skipped: @include would let
 * the fuzzer open arbitrary files of the machine, which tests libconfig and
 * the file system, not us.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libconfig 1.5's parser does not free a string token it has read ahead
 * when a syntax error follows (`b "x";` leaks the 64-byte buffer of "x"):
 * its leak, not ours, and it cannot be reached from here.  Suppressed for
 * LeakSanitizer builds only; everything allocated by circd is still checked. */
/* default visibility: a shared sanitizer runtime (gcc's) looks it up
 * dynamically, and the project builds with -fvisibility=hidden. */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* A small world of plugins and roles, covering every option type, flags,
 * ranges and odd defaults. */
static const struct circd_option reader_options[] = {
	{ "port", CIRCD_OPT_STRING, "/dev/ttyUSB0", 0, 0, 0, "serial port" },
	{ "baud", CIRCD_OPT_INT, "38400", 0, 1200, 115200, "bit rate" },
	{ "antenna", CIRCD_OPT_INT, NULL, CIRCD_OPT_REQUIRED, 1, 4, "antenna number" },
	{ "mask", CIRCD_OPT_INT, "0x7f", 0, 0, 0, "hex default" },
	{ "gain", CIRCD_OPT_FLOAT, "1.5", 0, 0, 0, "gain" },
	{ "verify", CIRCD_OPT_BOOL, "yes", 0, 0, 0, "read back" },
	{ "label", CIRCD_OPT_STRING, NULL, 0, 0, 0, "no default" },
	CIRCD_OPTION_END,
};

static const struct circd_option sip2_options[] = {
	{ "host", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0, "ACS host" },
	{ "port", CIRCD_OPT_INT, "6001", 0, 1, 65535, "ACS port" },
	{ "tls", CIRCD_OPT_BOOL, "false", 0, 0, 0, "use TLS" },
	{ "password", CIRCD_OPT_STRING, NULL, CIRCD_OPT_SECRET, 0, 0, "login password" },
	{ "timeout", CIRCD_OPT_FLOAT, "2", 0, 0, 0, "seconds" },
	CIRCD_OPTION_END,
};

/* A plugin bug the host must survive: defaults that do not parse. */
static const struct circd_option broken_options[] = {
	{ "n", CIRCD_OPT_INT, "twelve", 0, 0, 0, "" },
	{ "b", CIRCD_OPT_BOOL, "maybe", 0, 0, 0, "" },
	{ "f", CIRCD_OPT_FLOAT, "1e999", 0, 0, 0, "" },
	{ "r", CIRCD_OPT_INT, "99", 0, 1, 10, "" },
	CIRCD_OPTION_END,
};

static const struct circd_option bookdrop_options[] = {
	{ "default_bin", CIRCD_OPT_INT, "1", 0, 1, 16, "" },
	{ "hold_bin", CIRCD_OPT_INT, NULL, 0, 1, 16, "" },
	{ "offline_checkin", CIRCD_OPT_BOOL, "true", 0, 0, 0, "" },
	CIRCD_OPTION_END,
};

static const struct circd_option gate_options[] = {
	{ "decision", CIRCD_OPT_STRING, "afi", 0, 0, 0, "" },
	{ "debounce", CIRCD_OPT_FLOAT, "0.5", 0, 0, 0, "" },
	CIRCD_OPTION_END,
};

static const struct circd_option *fake_plugin(void *userdata, const char *name, uint32_t *kinds,
					      const char **why)
{
	if (strcmp(name, "reader") == 0) {
		*kinds = CIRCD_KIND_READER;
		return reader_options;
	}
	if (strcmp(name, "sim") == 0) { /* no options at all */
		*kinds = CIRCD_KIND_READER | CIRCD_KIND_SENSOR | CIRCD_KIND_SORTER;
		return NULL;
	}
	if (strcmp(name, "sip2") == 0) {
		*kinds = CIRCD_KIND_UPSTREAM;
		return sip2_options;
	}
	if (strcmp(name, "broken") == 0) {
		*kinds = CIRCD_KIND_GATE_IO | CIRCD_KIND_UPSTREAM;
		return broken_options;
	}
	*why = "no such file";
	return NULL;
}

static const struct circd_option *fake_role(void *userdata, const char *role)
{
	if (strcmp(role, "bookdrop") == 0)
		return bookdrop_options;
	if (strcmp(role, "gate") == 0)
		return gate_options;
	return NULL;
}

static void resolve(const struct circd_option *schema, const struct config_options *given,
		    const char *file)
{
	struct config_errors errs = { 0 };
	struct resolved_options res;
	if (options_resolve(schema, given, file, &res, &errs) == 0) {
		for (size_t i = 0; i < res.n; i++)
			(void)options_get(&res, res.v[i].decl->key);
		(void)options_get(&res, "nonexistent");
		options_free(&res);
	}
	config_errors_free(&errs);
}

static void exercise(const struct circd_config *cfg)
{
	struct config_schema_source src = { .plugin = fake_plugin, .role = fake_role };
	struct config_errors errs = { 0 };
	(void)config_check_options(cfg, &src, &errs);
	config_errors_free(&errs);

	/* options_resolve() must be safe on anything, checked or not. */
	for (size_t i = 0; i < cfg->n_devices + cfg->n_upstreams; i++) {
		const struct config_device *d =
			i < cfg->n_devices ? &cfg->devices[i] : &cfg->upstreams[i - cfg->n_devices];
		uint32_t kinds = 0;
		const char *why = NULL;
		resolve(fake_plugin(NULL, d->plugin, &kinds, &why), &d->options, cfg->file);
		(void)config_device_equal(d, d);
		if (i > 0)
			(void)config_device_equal(d, &cfg->devices[0]);
	}
	for (size_t i = 0; i < cfg->n_stations; i++) {
		const struct config_station *st = &cfg->stations[i];
		resolve(fake_role(NULL, st->role), &st->options, cfg->file);
		(void)config_station_equal(st, st);
		(void)config_station_equal(st, &cfg->stations[0]);
	}
	(void)log_level_to_string(cfg->log_level);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memchr(data, '@', size))
		return 0;
	int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0) {
			close(fd);
			return 0;
		}
		off += (size_t)n;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	struct config_errors errs = { 0 };
	struct circd_config *cfg = NULL;
	if (config_load(path, &cfg, &errs) == 0)
		exercise(cfg);
	config_free(cfg);
	config_errors_free(&errs);
	close(fd);
	return 0;
}
