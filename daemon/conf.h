/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circd.conf: parsing (libconfig) and validation.
 *
 * The file is read once into a plain struct; every problem is collected as
 * "FILE:LINE: reason" so `circd -t` can print them all at once.  Plugin and
 * station-role options are kept raw (with their line) until
 * config_check_options() checks them against the schemas the plugins and
 * roles declare; options_resolve() then produces the typed table, defaults
 * applied, that the host API's opt_*() functions read.
 *
 * Layout of the file (see etc/circd.conf for the commented example):
 *
 *   site = "Central Library";            # required
 *   isil = "DK-710100";                  # optional
 *   state_directory = "/var/lib/circd";  # journal.db lives here
 *   runtime_directory = "/run/circd";    # control.sock lives here
 *   plugin_directory = "/usr/lib/x86_64-linux-gnu/circd/plugins";
 *   log_level = "info";                  # err|warning|notice|info|debug
 *   security = { afi_in_stock = 0x07; afi_on_loan = 0xC2; eas = true; };
 *   journal = { retention = "30d"; backlog_soft_limit = 5000; };
 *   control = { group = "circd"; };
 *   metrics = { listen = "127.0.0.1:9465"; };  # optional HTTP /metrics
 *   devices = ( { name = "drop1"; plugin = "sim"; <plugin options> }, ... );
 *   stations = ( { name = "returns"; role = "bookdrop"; devices = [ "drop1" ];
 *                  upstreams = [ "ils" ]; <role options> }, ... );
 *   upstreams = ( { name = "ils"; plugin = "sip2"; <plugin options> }, ... );
 */
#ifndef CIRCD_CONFIG_H
#define CIRCD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <circd/plugin.h>

/* Errors and warnings, each one line "FILE:LINE: reason". */
struct config_errors {
	char **msgs;
	size_t n;
};
void config_errors_add(struct config_errors *errs, const char *file, int line,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void config_errors_free(struct config_errors *errs);

/* One option as written in the file, before schema checking. */
struct config_value {
	char *key;
	enum circd_option_type type; /* what the file gave: STRING, INT, BOOL or FLOAT */
	char *s;
	int64_t i;
	double f;
	bool b;
	int line;
	char *file; /* file it was written in (an @include'd one); NULL = the main file */
};

struct config_options {
	struct config_value *v;
	size_t n;
};

struct config_device { /* also used for upstreams */
	char *name;
	char *plugin;
	struct config_options options; /* every key but name/plugin */
	int line;
	char *file; /* as config_value.file; NULL = circd_config.file */
};

struct config_station {
	char *name;
	char *role;
	char **devices;
	size_t n_devices;
	char **upstreams; /* NULL/0 = every configured upstream */
	size_t n_upstreams;
	bool upstreams_given;
	struct config_options options; /* every key but name/role/devices/upstreams */
	int line;
	char *file; /* as config_value.file; NULL = circd_config.file */
};

struct config_security {
	uint8_t afi_in_stock; /* default 0x07 */
	uint8_t afi_on_loan;  /* default 0xC2 */
	bool eas;             /* default true: set EAS as well as AFI */
};

struct circd_config {
	char *file;
	char *site;
	char *isil;              /* NULL when not given */
	char *state_directory;   /* default LOCALSTATEDIR "/lib/circd" */
	char *runtime_directory; /* default RUNSTATEDIR "/circd" */
	char *plugin_directory;  /* default PLUGINDIR */
	int log_level;           /* enum circd_log_level, default INFO */
	struct config_security security;
	uint64_t retention_usec;     /* journal.retention, default 30 days; 0 = keep forever */
	int64_t backlog_soft_limit;  /* journal.backlog_soft_limit, default 5000 */
	char *control_group;         /* control.group, NULL = don't chown */
	char *metrics_listen;        /* metrics.listen, NULL = no HTTP listener */

	struct config_device *devices;
	size_t n_devices;
	struct config_station *stations;
	size_t n_stations;
	struct config_device *upstreams;
	size_t n_upstreams;
};

/* Parse and validate the structure: syntax, unknown keys, wrong types,
 * missing required keys, duplicate names (across devices, stations and
 * upstreams separately), station references to unknown devices/upstreams, a
 * device used by two stations.  Returns 0 and *out, or -EINVAL with every
 * problem in errs (and *out NULL), or -errno when the file can't be read
 * (also reported in errs). */
int config_load(const char *path, struct circd_config **out, struct config_errors *errs);
void config_free(struct circd_config *cfg);

/* Schemas come from the plugin loader and the station roles. */
struct config_schema_source {
	/* Schema of a plugin by name; NULL when no such plugin could be loaded
	 * (the loader's reason is then passed in *why). kinds receives the
	 * plugin's kinds bits. */
	const struct circd_option *(*plugin)(void *userdata, const char *name, uint32_t *kinds,
					     const char **why);
	/* Schema of a station role; NULL = unknown role. */
	const struct circd_option *(*role)(void *userdata, const char *role);
	/* The role's checks beyond types (rule syntax, which device is the
	 * sorter); adds "FILE:LINE: reason" errors and returns their count.
	 * NULL = none.  Called only when the station's options type-check. */
	int (*role_check)(void *userdata, const struct config_station *st, const char *file,
			  struct config_errors *errs);
	void *userdata;
};

/* Check every device's and upstream's options against its plugin's schema
 * (and that devices use device plugins and upstreams use upstream plugins),
 * and every station's options against its role's.  Adds errors with the
 * option's own line; returns 0 or -EINVAL. */
int config_check_options(const struct circd_config *cfg, const struct config_schema_source *src,
			 struct config_errors *errs);

/* Typed options, defaults applied: what host->opt_*() reads. */
struct resolved_option {
	const struct circd_option *decl;
	bool given;
	int line;         /* where it was given (0 = the default) */
	const char *file; /* the @include'd file it was given in, NULL = the main file */
	char *s; /* STRING (default or given), also the text form of any type;
		  * LIST: the strings joined by '\n' */
	int64_t i;
	double f;
	bool b;
};
struct resolved_options {
	struct resolved_option *v;
	size_t n;
};
/* Never fails on a config that passed config_check_options(); returns
 * -EINVAL (with errs) otherwise. */
int options_resolve(const struct circd_option *schema, const struct config_options *given,
		    const char *file, struct resolved_options *out, struct config_errors *errs);
const struct resolved_option *options_get(const struct resolved_options *opts, const char *key);
void options_free(struct resolved_options *opts);

/* Equality for SIGHUP reload: same name, plugin/role, options (and devices
 * and upstreams for stations) means "leave it running". */
bool config_device_equal(const struct config_device *a, const struct config_device *b);
bool config_station_equal(const struct config_station *a, const struct config_station *b);

/* metrics.listen: "127.0.0.1:9465" or "[::1]:9465" (numeric addresses
 * only, port 1-65535).  Returns 0 with the socket address and whether it
 * is a loopback one, or -EINVAL. */
int listen_address_parse(const char *text, struct sockaddr_storage *addr, socklen_t *addr_len,
			 bool *loopback);

/* "info" -> CIRCD_LOG_INFO; -EINVAL when unknown. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

#endif
