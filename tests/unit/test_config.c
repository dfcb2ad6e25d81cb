/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circd.conf: every kind of mistake an administrator can make is reported
 * at its line, all of them at once; a valid file comes back with its
 * defaults; options resolve against schemas; reload sees what changed.
 *
 * Each test writes its config into a fresh file of a temporary directory
 * and loads it as the daemon would.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/conf.h"

/* libconfig 1.5 leaks a read-ahead string token on some syntax errors (see
 * tests/fuzz/fuzz_config.c): not ours, suppressed under LeakSanitizer. */
/* default visibility: a shared sanitizer runtime (gcc's) looks it up
 * dynamically, and the project builds with -fvisibility=hidden. */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static char tmpdir[256];
static char conf_path[512];

/* ---- vocabulary ---- */

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(const char *text, struct circd_config **cfg, struct config_errors *errs)
{
	write_file("circd.conf", text);
	return config_load(conf_path, cfg, errs);
}

static void print_errors(const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		print_message("  %s\n", errs->msgs[i]);
}

/* An error in file (a name in tmpdir, NULL = circd.conf) at line whose text
 * contains what. */
static bool has_error_in(const struct config_errors *errs, const char *file, int line,
			 const char *what)
{
	char prefix[600];
	snprintf(prefix, sizeof(prefix), "%s/%s:%d: ", tmpdir, file ? file : "circd.conf", line);
	for (size_t i = 0; i < errs->n; i++)
		if (strncmp(errs->msgs[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->msgs[i] + strlen(prefix), what))
			return true;
	print_message("no error \"%s\" with \"%s\" among:\n", prefix, what);
	print_errors(errs);
	return false;
}

static bool has_error(const struct config_errors *errs, int line, const char *what)
{
	return has_error_in(errs, NULL, line, what);
}

/* The file must be refused, with exactly n_expected errors. */
static struct config_errors refused(const char *text, size_t n_expected)
{
	struct config_errors errs = { 0 };
	struct circd_config *cfg = (void *)1;
	int r = load(text, &cfg, &errs);
	assert_int_equal(r, -EINVAL);
	assert_null(cfg);
	if (errs.n != n_expected)
		print_errors(&errs);
	assert_int_equal(errs.n, n_expected);
	return errs;
}

static struct circd_config *accepted(const char *text)
{
	struct config_errors errs = { 0 };
	struct circd_config *cfg = NULL;
	int r = load(text, &cfg, &errs);
	if (r < 0)
		print_errors(&errs);
	assert_int_equal(r, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(cfg);
	return cfg;
}

/* ---- a small world of plugins and roles ---- */

static const struct circd_option reader_options[] = {
	{ "port", CIRCD_OPT_STRING, "/dev/ttyUSB0", 0, 0, 0, "serial port" },
	{ "baud", CIRCD_OPT_INT, "38400", 0, 1200, 115200, "bit rate" },
	{ "antenna", CIRCD_OPT_INT, NULL, CIRCD_OPT_REQUIRED, 1, 4, "antenna" },
	{ "mask", CIRCD_OPT_INT, "0x7f", 0, 0, 0, "hex default" },
	{ "gain", CIRCD_OPT_FLOAT, "1.5", 0, 0, 0, "gain" },
	{ "verify", CIRCD_OPT_BOOL, "yes", 0, 0, 0, "read back" },
	{ "label", CIRCD_OPT_STRING, NULL, 0, 0, 0, "no default" },
	CIRCD_OPTION_END,
};

static const struct circd_option sip2_options[] = {
	{ "host", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0, "ACS host" },
	{ "port", CIRCD_OPT_INT, "6001", 0, 1, 65535, "ACS port" },
	{ "tls", CIRCD_OPT_BOOL, "false", 0, 0, 0, "TLS" },
	CIRCD_OPTION_END,
};

static const struct circd_option bookdrop_options[] = {
	{ "default_bin", CIRCD_OPT_INT, "1", 0, 1, 16, "" },
	{ "offline_checkin", CIRCD_OPT_BOOL, "true", 0, 0, 0, "" },
	CIRCD_OPTION_END,
};

static const struct circd_option gate_options[] = { CIRCD_OPTION_END };

/* A plugin bug: a default that does not parse as its type. */
static const struct circd_option bad_default_options[] = {
	{ "retries", CIRCD_OPT_INT, "three", 0, 0, 0, "" },
	CIRCD_OPTION_END,
};

static const struct circd_option *fake_plugin(void *userdata, const char *name, uint32_t *kinds,
					      const char **why)
{
	if (strcmp(name, "reader") == 0) {
		*kinds = CIRCD_KIND_READER;
		return reader_options;
	}
	if (strcmp(name, "sim") == 0) { /* declares no options: NULL with kinds */
		*kinds = CIRCD_KIND_READER | CIRCD_KIND_SORTER;
		return NULL;
	}
	if (strcmp(name, "sip2") == 0) {
		*kinds = CIRCD_KIND_UPSTREAM;
		return sip2_options;
	}
	if (strcmp(name, "baddefault") == 0) {
		*kinds = CIRCD_KIND_SENSOR;
		return bad_default_options;
	}
	*why = "/usr/lib/circd/plugins/nosuch.so: cannot open shared object file";
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

static const struct config_schema_source world = { .plugin = fake_plugin, .role = fake_role };

/* Loads fine; config_check_options() must refuse it with n_expected errors. */
static struct config_errors options_refused(const char *text, size_t n_expected)
{
	struct circd_config *cfg = accepted(text);
	struct config_errors errs = { 0 };
	assert_int_equal(config_check_options(cfg, &world, &errs), -EINVAL);
	if (errs.n != n_expected)
		print_errors(&errs);
	assert_int_equal(errs.n, n_expected);
	config_free(cfg);
	return errs;
}

/* ---- structure ---- */

static void syntax_error_has_its_line(void **state)
{
	struct config_errors errs = refused("site = \"x\";\n\nfoo = ;\n", 1);
	assert_true(has_error(&errs, 3, "syntax error"));
	config_errors_free(&errs);
}

static void unknown_keys_are_named_with_the_known_ones(void **state)
{
	struct config_errors errs = refused("site = \"x\";\n"
					    "colour = \"red\";\n"
					    "security = { afi = 7; };\n"
					    "journal = { keep = 1; };\n"
					    "control = { user = \"circd\"; };\n",
					    4);
	assert_true(has_error(&errs, 2, "unknown setting 'colour' (known: site, isil,"));
	assert_true(has_error(&errs, 3, "'security.afi' (known: afi_in_stock, afi_on_loan, eas)"));
	assert_true(has_error(&errs, 4, "'journal.keep' (known: retention, backlog_soft_limit)"));
	assert_true(has_error(&errs, 5, "'control.user' (known: group)"));
	config_errors_free(&errs);
}

static void wrong_types_say_what_was_expected(void **state)
{
	struct config_errors errs = refused("site = 12;\n"
					    "isil = [ \"DK\" ];\n"
					    "security = { afi_in_stock = \"7\"; eas = 1; };\n"
					    "journal = { backlog_soft_limit = 1.5; retention = true; };\n"
					    "control = \"circd\";\n"
					    "devices = [ \"a\" ];\n"
					    "stations = { name = \"s\"; };\n"
					    "upstreams = ( \"u\" );\n",
					    10);
	assert_true(has_error(&errs, 1, "site: expected a string, got an integer"));
	assert_true(has_error(&errs, 2, "isil: expected a string, got an array"));
	assert_true(has_error(&errs, 3, "security.afi_in_stock: expected an integer, got a string"));
	assert_true(has_error(&errs, 3, "security.eas: expected a boolean"));
	assert_true(has_error(&errs, 4, "backlog_soft_limit: expected an integer"));
	assert_true(has_error(&errs, 4, "retention: expected a duration string"));
	assert_true(has_error(&errs, 5, "control: expected a group"));
	assert_true(has_error(&errs, 6, "devices: expected a list of groups"));
	assert_true(has_error(&errs, 7, "stations: expected a list of groups"));
	assert_true(has_error(&errs, 8, "upstream #1: expected a group"));
	config_errors_free(&errs);
}

static void site_is_required(void **state)
{
	struct config_errors errs = refused("isil = \"DK-710100\";\n", 1);
	assert_true(has_error(&errs, 1, "missing required setting 'site'"));
	config_errors_free(&errs);
	errs = refused("site = \"\";\n", 1);
	assert_true(has_error(&errs, 1, "site: must not be empty"));
	config_errors_free(&errs);
}

static void names_are_checked(void **state)
{
	struct config_errors errs = refused(
		"site = \"x\";\n"
		"devices = (\n"
		"  { plugin = \"sim\"; },\n"
		"  { name = \"two words\"; plugin = \"sim\"; },\n"
		"  { name = \"a\"; },\n"
		"  { name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; plugin = \"sim\"; }\n"
		");\n"
		"stations = ( { name = \"s\"; } );\n",
		5);
	assert_true(has_error(&errs, 3, "device #1: missing required setting 'name'"));
	assert_true(has_error(&errs, 4, "'two words' is not a valid name"));
	assert_true(has_error(&errs, 5, "device 'a': missing required setting 'plugin'"));
	assert_true(has_error(&errs, 6, "is not a valid name"));
	assert_true(has_error(&errs, 8, "station 's': missing required setting 'role'"));
	config_errors_free(&errs);
}

static void duplicate_names_in_each_list(void **state)
{
	struct config_errors errs = refused("site = \"x\";\n"
					    "devices = (\n"
					    "  { name = \"d\"; plugin = \"sim\"; },\n"
					    "  { name = \"d\"; plugin = \"sim\"; }\n"
					    ");\n"
					    "stations = (\n"
					    "  { name = \"s\"; role = \"gate\"; },\n"
					    "  { name = \"s\"; role = \"gate\"; }\n"
					    ");\n"
					    "upstreams = (\n"
					    "  { name = \"u\"; plugin = \"sip2\"; },\n"
					    "  { name = \"u\"; plugin = \"sip2\"; }\n"
					    ");\n",
					    3);
	assert_true(has_error(&errs, 4, "duplicate device name 'd' (first defined at line 3)"));
	assert_true(has_error(&errs, 8, "duplicate station name 's' (first defined at line 7)"));
	assert_true(has_error(&errs, 12, "duplicate upstream name 'u' (first defined at line 11)"));
	config_errors_free(&errs);
}

static void duplicate_of_a_broken_entry_is_still_a_duplicate(void **state)
{
	struct config_errors errs = refused("site = \"x\";\n"
					    "devices = (\n"
					    "  { name = \"d\"; plugin = \"sim\"; x = [ 1 ]; },\n"
					    "  { name = \"d\"; plugin = \"sim\"; }\n"
					    ");\n"
					    "stations = ( { name = \"s\"; role = \"gate\"; devices = [ \"d\" ]; } );\n",
					    2);
	assert_true(has_error(&errs, 3, "option 'x' must be a single value"));
	assert_true(has_error(&errs, 4, "duplicate device name 'd'"));
	/* and no "unknown device 'd'" at line 6: d exists, it is broken */
	config_errors_free(&errs);
}

static void unknown_references_are_reported_at_the_station(void **state)
{
	struct config_errors errs = refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"sim\"; } );\n"
		"upstreams = ( { name = \"u\"; plugin = \"sip2\"; } );\n"
		"stations = (\n"
		"  { name = \"s\"; role = \"gate\";\n"
		"    devices = [ \"d\", \"nodev\" ];\n"
		"    upstreams = [ \"u\", \"noup\" ]; }\n"
		");\n",
		2);
	assert_true(has_error(&errs, 5, "station 's': unknown device 'nodev'"));
	assert_true(has_error(&errs, 5, "station 's': unknown upstream 'noup'"));
	config_errors_free(&errs);
}

static void a_device_serves_one_station(void **state)
{
	struct config_errors errs = refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"sim\"; }, { name = \"e\"; plugin = \"sim\"; } );\n"
		"stations = (\n"
		"  { name = \"s1\"; role = \"gate\"; devices = [ \"d\" ]; },\n"
		"  { name = \"s2\"; role = \"gate\"; devices = [ \"e\", \"d\" ]; },\n"
		"  { name = \"s3\"; role = \"gate\"; devices = [ \"e\", \"e\" ]; }\n"
		");\n",
		3);
	assert_true(has_error(&errs, 5, "device 'd' is already used by station 's1' (line 4)"));
	assert_true(has_error(&errs, 6, "device 'e' is already used by station 's2'"));
	assert_true(has_error(&errs, 6, "device 'e' listed twice"));
	config_errors_free(&errs);
}

static void afi_must_be_a_byte(void **state)
{
	struct config_errors errs = refused("site = \"x\";\n"
					    "security = { afi_in_stock = 0x100;\n"
					    "             afi_on_loan = -1; };\n",
					    2);
	assert_true(has_error(&errs, 2, "afi_in_stock: 256 is out of range [0, 255]"));
	assert_true(has_error(&errs, 3, "afi_on_loan: -1 is out of range [0, 255]"));
	config_errors_free(&errs);
}

static void log_level_must_be_known(void **state)
{
	struct config_errors errs = refused("site = \"x\";\nlog_level = \"verbose\";\n", 1);
	assert_true(has_error(&errs, 2, "unknown level 'verbose' (known: err, warning, notice"));
	config_errors_free(&errs);
}

static void retention_is_a_duration(void **state)
{
	static const char *const bad[] = { "forever", "10x", "-1d", "1e300d", "", "inf", "0x10d" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "site = \"x\";\njournal = { retention = \"%s\"; };\n",
			 bad[i]);
		struct config_errors errs = refused(text, 1);
		assert_true(has_error(&errs, 2, "is not a duration"));
		config_errors_free(&errs);
	}
	struct config_errors errs = refused("site = \"x\";\njournal = { retention = -5; };\n", 1);
	assert_true(has_error(&errs, 2, "out of range"));
	config_errors_free(&errs);
	errs = refused("site = \"x\";\njournal = { backlog_soft_limit = -1; };\n", 1);
	assert_true(has_error(&errs, 2, "backlog_soft_limit: -1 must not be below 0"));
	config_errors_free(&errs);

	struct circd_config *cfg = accepted("site = \"x\";\njournal = { retention = \"12h\"; };\n");
	assert_true(cfg->retention_usec == 12ULL * 3600 * 1000000);
	config_free(cfg);
	cfg = accepted("site = \"x\";\njournal = { retention = \"0\"; };\n");
	assert_true(cfg->retention_usec == 0);
	config_free(cfg);
	cfg = accepted("site = \"x\";\njournal = { retention = 3600; };\n");
	assert_true(cfg->retention_usec == 3600ULL * 1000000);
	config_free(cfg);
}

static void metrics_listen_is_an_address_and_port(void **state)
{
	struct circd_config *cfg = accepted("site = \"x\";\n");
	assert_null(cfg->metrics_listen); /* off unless asked for */
	config_free(cfg);
	cfg = accepted("site = \"x\";\nmetrics = { listen = \"127.0.0.1:9465\"; };\n");
	assert_string_equal(cfg->metrics_listen, "127.0.0.1:9465");
	config_free(cfg);
	cfg = accepted("site = \"x\";\nmetrics = { listen = \"[::1]:9465\"; };\n");
	assert_string_equal(cfg->metrics_listen, "[::1]:9465");
	config_free(cfg);
	/* Not loopback: accepted (circd warns when it starts). */
	cfg = accepted("site = \"x\";\nmetrics = { listen = \"0.0.0.0:9465\"; };\n");
	config_free(cfg);
	cfg = accepted("site = \"x\";\nmetrics = { };\n");
	assert_null(cfg->metrics_listen);
	config_free(cfg);

	static const char *const bad[] = {
		"localhost:9465", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:94a5", "::1:9465", "[::1]9465", "[::1:9465", "[127.0.0.1]:9465",
		"300.0.0.1:9465", ":9465", "127.0.0.1:123456",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[160];
		snprintf(text, sizeof(text), "site = \"x\";\nmetrics = {\n listen = \"%s\"; };\n",
			 bad[i]);
		struct config_errors errs = refused(text, 1);
		assert_true(has_error(&errs, 3, "metrics.listen: '"));
		assert_true(has_error(&errs, 3, "is not a numeric address and port"));
		config_errors_free(&errs);
	}
	struct config_errors errs = refused("site = \"x\";\nmetrics = { listen = 9465; };\n", 1);
	assert_true(has_error(&errs, 2, "metrics.listen: expected a string, got an integer"));
	config_errors_free(&errs);
	errs = refused("site = \"x\";\nmetrics = { listen = \"\"; };\n", 1);
	assert_true(has_error(&errs, 2, "metrics.listen: must not be empty"));
	config_errors_free(&errs);
	errs = refused("site = \"x\";\nmetrics = {\n  port = 9465;\n};\n", 1);
	assert_true(has_error(&errs, 3, "unknown setting 'metrics.port' (known: listen)"));
	config_errors_free(&errs);
	errs = refused("site = \"x\";\nmetrics = \"127.0.0.1:9465\";\n", 1);
	assert_true(has_error(&errs, 2, "metrics: expected a group { ... }, got a string"));
	config_errors_free(&errs);
}

static void listen_addresses_parse(void **state)
{
	struct sockaddr_storage a;
	socklen_t len;
	bool lo;
	assert_int_equal(listen_address_parse("127.0.0.1:9465", &a, &len, &lo), 0);
	assert_int_equal(a.ss_family, AF_INET);
	assert_true(lo);
	assert_int_equal(listen_address_parse("127.8.9.10:1", &a, &len, &lo), 0);
	assert_true(lo);
	assert_int_equal(listen_address_parse("192.168.1.5:65535", &a, &len, &lo), 0);
	assert_false(lo);
	assert_int_equal(listen_address_parse("[::1]:9465", &a, &len, &lo), 0);
	assert_int_equal(a.ss_family, AF_INET6);
	assert_true(lo);
	assert_int_equal(listen_address_parse("[::]:9465", &a, &len, &lo), 0);
	assert_false(lo);
	assert_int_equal(listen_address_parse("[::ffff:127.0.0.1]:9465", &a, &len, &lo), 0);
	assert_true(lo);
	assert_int_equal(listen_address_parse(NULL, &a, &len, &lo), -EINVAL);
}

static void options_must_be_scalars(void **state)
{
	struct config_errors errs = refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"sim\"; ports = [ 1, 2 ]; } );\n"
		"upstreams = ( { name = \"u\"; plugin = \"sip2\"; tls = { on = true; }; } );\n"
		"stations = ( { name = \"s\"; role = \"gate\"; bins = ( 1 ); } );\n",
		3);
	assert_true(has_error(&errs, 2, "device 'd': option 'ports' must be a single value"));
	assert_true(has_error(&errs, 3, "upstream 'u': option 'tls' must be a single value"));
	assert_true(has_error(&errs, 4, "station 's': option 'bins' must be a single value"));
	config_errors_free(&errs);
}

/* Lists of strings (sorting rules, shelf models) are options too: joined
 * by newlines, with the line they were given at; a single string is a
 * one-element list. */
static void string_lists_are_options(void **state)
{
	static const struct circd_option schema[] = {
		{ "rules", CIRCD_OPT_LIST, "default -> 1", 0, 0, 0, "rules" },
		{ "shelves", CIRCD_OPT_LIST, NULL, 0, 0, 0, "shelves" },
		{ "more", CIRCD_OPT_LIST, NULL, 0, 0, 0, "a single string" },
		CIRCD_OPTION_END,
	};
	struct circd_config *cfg = accepted(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\"; } );\n"
		"stations = ( { name = \"s\"; role = \"bookdrop\"; devices = [ \"d\" ];\n"
		"   shelves = [ \"A1 000-199\", \"A2 200-399\" ]; more = \"one\"; } );\n");
	struct config_errors errs = { 0 };
	struct resolved_options o;
	assert_int_equal(options_resolve(schema, &cfg->stations[0].options, cfg->file, &o, &errs), 0);
	assert_string_equal(options_get(&o, "rules")->s, "default -> 1");
	assert_false(options_get(&o, "rules")->given);
	assert_string_equal(options_get(&o, "shelves")->s, "A1 000-199\nA2 200-399");
	assert_int_equal(options_get(&o, "shelves")->line, 4);
	assert_string_equal(options_get(&o, "more")->s, "one");
	options_free(&o);
	config_free(cfg);

	errs = refused("site = \"x\";\n"
		       "stations = ( { name = \"s\"; role = \"gate\"; bins = [ \"a\\nb\" ]; } );\n",
		       1);
	assert_true(has_error(&errs, 2, "element 1 is a string with a line break"));
	config_errors_free(&errs);
	(void)state;
}

static void unreadable_files(void **state)
{
	struct config_errors errs = { 0 };
	struct circd_config *cfg = NULL;
	char path[600];
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(config_load(path, &cfg, &errs), -ENOENT);
	assert_null(cfg);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], "missing.conf: cannot read"));
	config_errors_free(&errs);
	assert_int_equal(config_load(tmpdir, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], "not a regular file"));
	config_errors_free(&errs);
}

/* ---- options against schemas ---- */

static void unknown_plugin_shows_the_loaders_reason(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"nosuch\"; } );\n", 1);
	assert_true(has_error(&errs, 2, "device 'd': plugin 'nosuch' could not be loaded: "
					"/usr/lib/circd/plugins/nosuch.so: cannot open"));
	config_errors_free(&errs);
}

static void plugin_kind_must_fit(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"sip2\"; host = \"h\"; } );\n"
		"upstreams = ( { name = \"u\"; plugin = \"reader\"; antenna = 1; } );\n",
		2);
	assert_true(has_error(&errs, 2, "device 'd': plugin 'sip2' is not a device plugin"));
	assert_true(has_error(&errs, 3, "upstream 'u': plugin 'reader' is not an upstream plugin"));
	config_errors_free(&errs);
}

static void unknown_option_lists_the_known_ones(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 1;\n"
		"              speed = 9600; },\n"
		"            { name = \"e\"; plugin = \"sim\"; speed = 1; } );\n",
		2);
	assert_true(has_error(&errs, 3, "device 'd': unknown option 'speed' for plugin 'reader' "
					"(known: port, baud, antenna, mask, gain, verify, label)"));
	assert_true(has_error(&errs, 4, "unknown option 'speed' for plugin 'sim' (known: none)"));
	config_errors_free(&errs);
}

static void option_types_must_match(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\";\n"
		"  antenna = \"1\";\n"
		"  verify = 1;\n"
		"  port = 7;\n"
		"  gain = \"high\";\n"
		"} );\n"
		"stations = ( { name = \"s\"; role = \"bookdrop\"; offline_checkin = \"yes\"; } );\n",
		5);
	assert_true(has_error(&errs, 3, "option 'antenna' expects an integer, got a string"));
	assert_true(has_error(&errs, 4, "option 'verify' expects a boolean, got an integer"));
	assert_true(has_error(&errs, 5, "option 'port' expects a string, got an integer"));
	assert_true(has_error(&errs, 6, "option 'gain' expects a number, got a string"));
	assert_true(has_error(&errs, 8, "station 's': option 'offline_checkin' expects a boolean"));
	config_errors_free(&errs);

	/* FLOAT takes an integer; 64-bit integers are integers. */
	struct circd_config *cfg = accepted(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 1; gain = 3;\n"
		"              mask = 0x100000000L; } );\n");
	errs = (struct config_errors){ 0 };
	assert_int_equal(config_check_options(cfg, &world, &errs), 0);
	assert_int_equal(errs.n, 0);
	config_free(cfg);
}

static void int_options_are_range_checked(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 5; baud = 300; } );\n"
		"upstreams = ( { name = \"u\"; plugin = \"sip2\"; host = \"h\";\n"
		"                port = 70000; } );\n",
		3);
	assert_true(has_error(&errs, 2, "option 'antenna' = 5 is out of range [1, 4]"));
	assert_true(has_error(&errs, 2, "option 'baud' = 300 is out of range [1200, 115200]"));
	assert_true(has_error(&errs, 4, "option 'port' = 70000 is out of range [1, 65535]"));
	config_errors_free(&errs);
}

static void required_options_must_be_given(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\"; } );\n"
		"upstreams = (\n"
		"  { name = \"u\"; plugin = \"sip2\"; port = 6001; }\n"
		");\n",
		2);
	assert_true(has_error(&errs, 2, "device 'd': required option 'antenna'"));
	assert_true(has_error(&errs, 4, "upstream 'u': required option 'host'"));
	config_errors_free(&errs);
}

static void unknown_role(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\nstations = ( { name = \"s\"; role = \"kiosk\"; } );\n", 1);
	assert_true(has_error(&errs, 2, "station 's': unknown role 'kiosk'"));
	config_errors_free(&errs);
	errs = options_refused(
		"site = \"x\";\nstations = ( { name = \"s\"; role = \"gate\"; decision = 1; } );\n", 1);
	assert_true(has_error(&errs, 2, "unknown option 'decision' for role 'gate' (known: none)"));
	config_errors_free(&errs);
}

static void plugin_defaults_are_checked(void **state)
{
	struct config_errors errs = options_refused(
		"site = \"x\";\ndevices = ( { name = \"d\"; plugin = \"baddefault\"; } );\n", 1);
	assert_true(has_error(&errs, 2, "plugin 'baddefault' declares an invalid default 'three' "
					"for option 'retries'"));
	config_errors_free(&errs);
}

/* ---- all at once ---- */

static void several_errors_each_at_its_line(void **state)
{
	struct config_errors errs = refused(
		"site = \"Central\";\n"				      /* 1 */
		"log_level = \"chatty\";\n"				      /* 2 */
		"devices = (\n"					      /* 3 */
		"  { name = \"drop1\"; plugin = \"sim\"; },\n"	      /* 4 */
		"  { name = \"drop1\"; plugin = \"sim\"; }\n"	      /* 5 */
		");\n"						      /* 6 */
		"stations = (\n"					      /* 7 */
		"  { name = \"returns\"; role = \"bookdrop\";\n"	      /* 8 */
		"    devices = [ \"drop1\", \"drop2\" ]; }\n"	      /* 9 */
		");\n"						      /* 10 */
		"security = { afi_on_loan = 999; };\n"		      /* 11 */
		"colour = \"red\";\n",				      /* 12 */
		5);
	assert_true(has_error(&errs, 2, "log_level"));
	assert_true(has_error(&errs, 5, "duplicate device name 'drop1' (first defined at line 4)"));
	assert_true(has_error(&errs, 8, "unknown device 'drop2'"));
	assert_true(has_error(&errs, 11, "afi_on_loan: 999"));
	assert_true(has_error(&errs, 12, "unknown setting 'colour'"));
	/* in the order of the file */
	assert_non_null(strstr(errs.msgs[0], ":2: "));
	assert_non_null(strstr(errs.msgs[4], ":12: "));
	config_errors_free(&errs);
}

/* ---- a valid file ---- */

static void minimal_file_gets_the_defaults(void **state)
{
	struct circd_config *cfg = accepted("site = \"Branch\";\n");
	assert_string_equal(cfg->file, conf_path);
	assert_string_equal(cfg->site, "Branch");
	assert_null(cfg->isil);
	assert_string_equal(cfg->state_directory, LOCALSTATEDIR "/lib/circd");
	assert_string_equal(cfg->runtime_directory, RUNSTATEDIR "/circd");
	assert_string_equal(cfg->plugin_directory, PLUGINDIR);
	assert_int_equal(cfg->log_level, CIRCD_LOG_INFO);
	assert_int_equal(cfg->security.afi_in_stock, 0x07);
	assert_int_equal(cfg->security.afi_on_loan, 0xC2);
	assert_true(cfg->security.eas);
	assert_true(cfg->retention_usec == 30ULL * 86400 * 1000000);
	assert_int_equal(cfg->backlog_soft_limit, 5000);
	assert_null(cfg->control_group);
	assert_null(cfg->metrics_listen);
	assert_int_equal(cfg->n_devices, 0);
	assert_int_equal(cfg->n_stations, 0);
	assert_int_equal(cfg->n_upstreams, 0);
	config_free(cfg);
}

static const char full_config[] =
	"site = \"Central Library\";\n"					/* 1 */
	"isil = \"DK-710100\";\n"						/* 2 */
	"state_directory = \"/srv/circd\";\n"				/* 3 */
	"runtime_directory = \"/run/circd-test\";\n"			/* 4 */
	"plugin_directory = \"/opt/circd/plugins\";\n"			/* 5 */
	"log_level = \"debug\";\n"						/* 6 */
	"security = { afi_in_stock = 0x9A; afi_on_loan = 0x9B; eas = false; };\n" /* 7 */
	"journal = { retention = \"7d\"; backlog_soft_limit = 100; };\n"	/* 8 */
	"control = { group = \"staff\"; };\n"					/* 9 */
	"devices = (\n"								/* 10 */
	"  { name = \"drop1\"; plugin = \"reader\"; antenna = 2; gain = 2.5;\n"	/* 11 */
	"    verify = false; port = \"/dev/ttyS0\"; },\n"			/* 12 */
	"  { name = \"sorter\"; plugin = \"sim\"; }\n"				/* 13 */
	");\n"									/* 14 */
	"stations = (\n"							/* 15 */
	"  { name = \"returns\"; role = \"bookdrop\"; devices = [ \"drop1\", \"sorter\" ];\n" /* 16 */
	"    upstreams = [ \"ils\" ]; default_bin = 3; },\n"		/* 17 */
	"  { name = \"exit\"; role = \"gate\"; }\n"				/* 18 */
	");\n"									/* 19 */
	"upstreams = ( { name = \"ils\"; plugin = \"sip2\"; host = \"koha\"; } );\n"; /* 20 */

static void full_file_round_trip(void **state)
{
	struct circd_config *cfg = accepted(full_config);
	assert_string_equal(cfg->site, "Central Library");
	assert_string_equal(cfg->isil, "DK-710100");
	assert_string_equal(cfg->state_directory, "/srv/circd");
	assert_string_equal(cfg->runtime_directory, "/run/circd-test");
	assert_string_equal(cfg->plugin_directory, "/opt/circd/plugins");
	assert_int_equal(cfg->log_level, CIRCD_LOG_DEBUG);
	assert_int_equal(cfg->security.afi_in_stock, 0x9A);
	assert_int_equal(cfg->security.afi_on_loan, 0x9B);
	assert_false(cfg->security.eas);
	assert_true(cfg->retention_usec == 7ULL * 86400 * 1000000);
	assert_int_equal(cfg->backlog_soft_limit, 100);
	assert_string_equal(cfg->control_group, "staff");

	assert_int_equal(cfg->n_devices, 2);
	const struct config_device *d = &cfg->devices[0];
	assert_string_equal(d->name, "drop1");
	assert_string_equal(d->plugin, "reader");
	assert_int_equal(d->line, 11);
	assert_string_equal(d->file, conf_path);
	assert_int_equal(d->options.n, 4);
	assert_string_equal(d->options.v[0].key, "antenna");
	assert_int_equal(d->options.v[0].type, CIRCD_OPT_INT);
	assert_int_equal(d->options.v[0].i, 2);
	assert_int_equal(d->options.v[0].line, 11);
	assert_int_equal(d->options.v[1].type, CIRCD_OPT_FLOAT);
	assert_true(d->options.v[1].f == 2.5);
	assert_int_equal(d->options.v[2].type, CIRCD_OPT_BOOL);
	assert_false(d->options.v[2].b);
	assert_int_equal(d->options.v[2].line, 12);
	assert_int_equal(d->options.v[3].type, CIRCD_OPT_STRING);
	assert_string_equal(d->options.v[3].s, "/dev/ttyS0");
	assert_int_equal(cfg->devices[1].options.n, 0);

	assert_int_equal(cfg->n_stations, 2);
	const struct config_station *st = &cfg->stations[0];
	assert_string_equal(st->name, "returns");
	assert_string_equal(st->role, "bookdrop");
	assert_int_equal(st->line, 16);
	assert_int_equal(st->n_devices, 2);
	assert_string_equal(st->devices[0], "drop1");
	assert_string_equal(st->devices[1], "sorter");
	assert_true(st->upstreams_given);
	assert_int_equal(st->n_upstreams, 1);
	assert_string_equal(st->upstreams[0], "ils");
	assert_int_equal(st->options.n, 1);
	assert_string_equal(st->options.v[0].key, "default_bin");
	assert_false(cfg->stations[1].upstreams_given);
	assert_int_equal(cfg->stations[1].n_devices, 0);

	assert_int_equal(cfg->n_upstreams, 1);
	assert_string_equal(cfg->upstreams[0].name, "ils");
	assert_int_equal(cfg->upstreams[0].line, 20);

	struct config_errors errs = { 0 };
	assert_int_equal(config_check_options(cfg, &world, &errs), 0);
	assert_int_equal(errs.n, 0);
	config_free(cfg);
}

static void included_files_are_named_in_messages(void **state)
{
	write_file("devices.conf", "devices = (\n"
				   "  { name = \"d\"; plugin = \"reader\"; antenna = 9;\n"
				   "    x = [ 1 ]; }\n"
				   ");\n");
	struct config_errors errs = refused("site = \"x\";\n"
					    "@include \"devices.conf\"\n"
					    "colour = 1;\n",
					    2);
	assert_true(has_error_in(&errs, "devices.conf", 3, "option 'x' must be a single value"));
	assert_true(has_error(&errs, 3, "unknown setting 'colour'"));
	config_errors_free(&errs);

	/* a syntax error inside the included file */
	write_file("broken.conf", "\n\ndevices = ( { name = \"d\" } ;\n");
	errs = refused("site = \"x\";\n@include \"broken.conf\"\n", 1);
	assert_true(has_error_in(&errs, "broken.conf", 3, "syntax error"));
	config_errors_free(&errs);

	errs = refused("site = \"x\";\n@include \"missing.conf\"\n", 1);
	assert_true(has_error(&errs, 2, "cannot open include file"));
	config_errors_free(&errs);

	/* options of an included device, checked later, still name its file */
	write_file("devices.conf", "devices = (\n"
				   "  { name = \"d\"; plugin = \"reader\";\n"
				   "    antenna = 9; }\n"
				   ");\n");
	errs = options_refused("site = \"x\";\n@include \"devices.conf\"\n", 1);
	assert_true(has_error_in(&errs, "devices.conf", 3, "option 'antenna' = 9 is out of range"));
	config_errors_free(&errs);
}

/* ---- resolving ---- */

static const struct resolved_option *get(const struct resolved_options *o, const char *key)
{
	const struct resolved_option *r = options_get(o, key);
	assert_non_null(r);
	return r;
}

static void resolve_applies_defaults_and_text_forms(void **state)
{
	struct circd_config *cfg = accepted(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 3; gain = 2;\n"
		"              verify = false; } );\n");
	struct config_errors errs = { 0 };
	struct resolved_options o;
	assert_int_equal(options_resolve(reader_options, &cfg->devices[0].options, cfg->file, &o,
					 &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(o.n, 7);

	const struct resolved_option *r = get(&o, "port");
	assert_false(r->given);
	assert_string_equal(r->s, "/dev/ttyUSB0");
	r = get(&o, "baud");
	assert_false(r->given);
	assert_int_equal(r->i, 38400);
	assert_string_equal(r->s, "38400");
	r = get(&o, "antenna");
	assert_true(r->given);
	assert_int_equal(r->i, 3);
	assert_string_equal(r->s, "3");
	r = get(&o, "mask"); /* "0x7f" */
	assert_int_equal(r->i, 127);
	assert_string_equal(r->s, "127");
	r = get(&o, "gain"); /* an integer given for a float */
	assert_true(r->given);
	assert_true(r->f == 2.0);
	assert_string_equal(r->s, "2");
	r = get(&o, "verify");
	assert_true(r->given);
	assert_false(r->b);
	assert_string_equal(r->s, "false");
	r = get(&o, "label"); /* no value, no default */
	assert_false(r->given);
	assert_null(r->s);
	assert_null(options_get(&o, "nosuch"));
	options_free(&o);
	config_free(cfg);

	/* defaults only, every type */
	static const struct circd_option defaults[] = {
		{ "yes", CIRCD_OPT_BOOL, "yes", 0, 0, 0, "" },
		{ "one", CIRCD_OPT_BOOL, "1", 0, 0, 0, "" },
		{ "no", CIRCD_OPT_BOOL, "no", 0, 0, 0, "" },
		{ "neg", CIRCD_OPT_INT, "-12", 0, 0, 0, "" },
		{ "hex", CIRCD_OPT_INT, "0XFF", 0, 0, 0, "" },
		{ "dec", CIRCD_OPT_INT, "010", 0, 0, 0, "" },
		{ "flt", CIRCD_OPT_FLOAT, "0.25", 0, 0, 0, "" },
		{ "str", CIRCD_OPT_STRING, "", 0, 0, 0, "" },
		CIRCD_OPTION_END,
	};
	assert_int_equal(options_resolve(defaults, NULL, "f", &o, &errs), 0);
	assert_true(get(&o, "yes")->b);
	assert_string_equal(get(&o, "yes")->s, "true");
	assert_true(get(&o, "one")->b);
	assert_false(get(&o, "no")->b);
	assert_int_equal(get(&o, "neg")->i, -12);
	assert_string_equal(get(&o, "neg")->s, "-12");
	assert_int_equal(get(&o, "hex")->i, 255);
	assert_int_equal(get(&o, "dec")->i, 10);
	assert_true(get(&o, "flt")->f == 0.25);
	assert_string_equal(get(&o, "flt")->s, "0.25");
	assert_string_equal(get(&o, "str")->s, "");
	options_free(&o);

	/* a schema-less plugin resolves to nothing */
	assert_int_equal(options_resolve(NULL, NULL, "f", &o, &errs), 0);
	assert_int_equal(o.n, 0);
	options_free(&o);
}

static void resolve_refuses_what_the_check_would(void **state)
{
	struct config_value given[] = {
		{ .key = (char *)"antenna", .type = CIRCD_OPT_STRING, .s = (char *)"1", .line = 4 },
		{ .key = (char *)"speed", .type = CIRCD_OPT_INT, .i = 1, .line = 5 },
	};
	struct config_options opts = { .v = given, .n = 2 };
	struct config_errors errs = { 0 };
	struct resolved_options o = { .n = 99 };
	assert_int_equal(options_resolve(reader_options, &opts, "x.conf", &o, &errs), -EINVAL);
	assert_int_equal(o.n, 0);
	assert_null(o.v);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msgs[0], "x.conf:5: unknown option 'speed' (known: port, baud, "
					  "antenna, mask, gain, verify, label)");
	assert_non_null(strstr(errs.msgs[1], "x.conf:4: "));
	assert_non_null(strstr(errs.msgs[1], "'antenna' expects an integer"));
	config_errors_free(&errs);

	/* required and missing; a plugin's broken defaults */
	static const struct circd_option broken[] = {
		{ "need", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0, "" },
		{ "n", CIRCD_OPT_INT, "twelve", 0, 0, 0, "" },
		{ "b", CIRCD_OPT_BOOL, "maybe", 0, 0, 0, "" },
		{ "f", CIRCD_OPT_FLOAT, "1e999", 0, 0, 0, "" },
		{ "r", CIRCD_OPT_INT, "99", 0, 1, 10, "" },
		{ "big", CIRCD_OPT_INT, "9223372036854775808", 0, 0, 0, "" },
		CIRCD_OPTION_END,
	};
	assert_int_equal(options_resolve(broken, NULL, "x.conf", &o, &errs), -EINVAL);
	assert_int_equal(errs.n, 6);
	assert_string_equal(errs.msgs[0], "x.conf: required option 'need' is missing");
	assert_non_null(strstr(errs.msgs[1], "default 'twelve' is not an integer"));
	config_errors_free(&errs);
}

/* ---- reload ---- */

static void equality_for_reload(void **state)
{
	struct circd_config *a = accepted(
		"site = \"x\";\n"
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 1; port = \"/dev/a\"; },\n"
		"            { name = \"e\"; plugin = \"sim\"; } );\n"
		"upstreams = ( { name = \"u\"; plugin = \"sip2\"; host = \"h\"; } );\n"
		"stations = ( { name = \"s\"; role = \"bookdrop\"; devices = [ \"d\", \"e\" ];\n"
		"               default_bin = 2; } );\n");
	/* reordered, moved to other lines: still the same */
	struct circd_config *b = accepted(
		"site = \"y\";\n\n"
		"stations = ( { role = \"bookdrop\"; default_bin = 2; name = \"s\";\n"
		"               devices = [ \"e\", \"d\" ]; } );\n"
		"devices = ( { name = \"e\"; plugin = \"sim\"; },\n"
		"            { port = \"/dev/a\"; antenna = 1; plugin = \"reader\"; name = \"d\"; } );\n"
		"upstreams = ( { host = \"h\"; name = \"u\"; plugin = \"sip2\"; } );\n");
	assert_true(config_device_equal(&a->devices[0], &b->devices[1]));
	assert_true(config_device_equal(&a->devices[1], &b->devices[0]));
	assert_false(config_device_equal(&a->devices[0], &b->devices[0]));
	assert_true(config_device_equal(&a->upstreams[0], &b->upstreams[0]));
	assert_true(config_station_equal(&a->stations[0], &b->stations[0]));
	config_free(b);

	/* each kind of change is a change */
	static const char *const changed[] = {
		/* option value */
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 2; port = \"/dev/a\"; },\n",
		/* option type: 1 vs 1.0 */
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 1.0; port = \"/dev/a\"; },\n",
		/* option removed */
		"devices = ( { name = \"d\"; plugin = \"reader\"; antenna = 1; },\n",
		/* plugin */
		"devices = ( { name = \"d\"; plugin = \"reader2\"; antenna = 1; port = \"/dev/a\"; },\n",
	};
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text),
			 "site = \"x\";\n%s"
			 "            { name = \"e\"; plugin = \"sim\"; } );\n",
			 changed[i]);
		b = accepted(text);
		assert_false(config_device_equal(&a->devices[0], &b->devices[0]));
		assert_true(config_device_equal(&a->devices[1], &b->devices[1]));
		config_free(b);
	}
	static const char *const changed_station[] = {
		"stations = ( { name = \"s\"; role = \"gate\"; devices = [ \"d\", \"e\" ];"
		" default_bin = 2; } );\n",
		"stations = ( { name = \"s\"; role = \"bookdrop\"; devices = [ \"d\" ];"
		" default_bin = 2; } );\n",
		"stations = ( { name = \"s\"; role = \"bookdrop\"; devices = [ \"d\", \"e\" ];"
		" default_bin = 3; } );\n",
		"stations = ( { name = \"s\"; role = \"bookdrop\"; devices = [ \"d\", \"e\" ];"
		" default_bin = 2; upstreams = [ \"u\" ]; } );\n",
		"stations = ( { name = \"s\"; role = \"bookdrop\"; devices = [ \"d\", \"e\" ];"
		" default_bin = 2; upstreams = [ ]; } );\n",
	};
	for (size_t i = 0; i < sizeof(changed_station) / sizeof(changed_station[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text),
			 "site = \"x\";\n"
			 "devices = ( { name = \"d\"; plugin = \"sim\"; }, { name = \"e\"; plugin = \"sim\"; } );\n"
			 "upstreams = ( { name = \"u\"; plugin = \"sip2\"; } );\n%s",
			 changed_station[i]);
		b = accepted(text);
		assert_false(config_station_equal(&a->stations[0], &b->stations[0]));
		config_free(b);
	}
	config_free(a);
}

static void log_level_names(void **state)
{
	assert_int_equal(log_level_from_string("err"), CIRCD_LOG_ERR);
	assert_int_equal(log_level_from_string("warning"), CIRCD_LOG_WARNING);
	assert_int_equal(log_level_from_string("notice"), CIRCD_LOG_NOTICE);
	assert_int_equal(log_level_from_string("info"), CIRCD_LOG_INFO);
	assert_int_equal(log_level_from_string("debug"), CIRCD_LOG_DEBUG);
	assert_int_equal(log_level_from_string("INFO"), -EINVAL);
	assert_int_equal(log_level_from_string(""), -EINVAL);
	assert_int_equal(log_level_from_string(NULL), -EINVAL);
	for (int l = CIRCD_LOG_ERR; l <= CIRCD_LOG_DEBUG; l++)
		assert_int_equal(log_level_from_string(log_level_to_string(l)), l);
	assert_null(log_level_to_string(42));
}

/* ---- fixture ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int make_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/circd.conf", tmpdir);
	return 0;
}

static int remove_tmpdir(void **state)
{
	return nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syntax_error_has_its_line),
		cmocka_unit_test(unknown_keys_are_named_with_the_known_ones),
		cmocka_unit_test(wrong_types_say_what_was_expected),
		cmocka_unit_test(site_is_required),
		cmocka_unit_test(names_are_checked),
		cmocka_unit_test(duplicate_names_in_each_list),
		cmocka_unit_test(duplicate_of_a_broken_entry_is_still_a_duplicate),
		cmocka_unit_test(unknown_references_are_reported_at_the_station),
		cmocka_unit_test(a_device_serves_one_station),
		cmocka_unit_test(afi_must_be_a_byte),
		cmocka_unit_test(log_level_must_be_known),
		cmocka_unit_test(retention_is_a_duration),
		cmocka_unit_test(metrics_listen_is_an_address_and_port),
		cmocka_unit_test(listen_addresses_parse),
		cmocka_unit_test(options_must_be_scalars),
		cmocka_unit_test(string_lists_are_options),
		cmocka_unit_test(unreadable_files),
		cmocka_unit_test(unknown_plugin_shows_the_loaders_reason),
		cmocka_unit_test(plugin_kind_must_fit),
		cmocka_unit_test(unknown_option_lists_the_known_ones),
		cmocka_unit_test(option_types_must_match),
		cmocka_unit_test(int_options_are_range_checked),
		cmocka_unit_test(required_options_must_be_given),
		cmocka_unit_test(unknown_role),
		cmocka_unit_test(plugin_defaults_are_checked),
		cmocka_unit_test(several_errors_each_at_its_line),
		cmocka_unit_test(minimal_file_gets_the_defaults),
		cmocka_unit_test(full_file_round_trip),
		cmocka_unit_test(included_files_are_named_in_messages),
		cmocka_unit_test(resolve_applies_defaults_and_text_forms),
		cmocka_unit_test(resolve_refuses_what_the_check_would),
		cmocka_unit_test(equality_for_reload),
		cmocka_unit_test(log_level_names),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
