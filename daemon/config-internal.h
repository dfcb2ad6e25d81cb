/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the config module's files (config.c: the file and its top level;
 * config-items.c: devices, upstreams, stations; options.c: schemas).  Not
 * part of the module's interface.
 */
#ifndef CIRCD_CONFIG_INTERNAL_H
#define CIRCD_CONFIG_INTERNAL_H

#include <libconfig.h>
#include <stdarg.h>

#include "daemon/conf.h"

#define CONFIG_NAME_MAX_LEN 64

void config_errors_addv(struct config_errors *errs, const char *file, int line, const char *fmt,
			va_list ap) __attribute__((format(printf, 4, 0)));

/* One error found while loading; sorted by place before it is reported. */
struct load_error {
	char *file;
	int line;
	size_t seq;
	char *reason;
};

/* A name seen in one of the lists, valid entry or not. */
struct seen_name {
	char *name;
	int line;
};
struct seen_names {
	struct seen_name *v;
	size_t n;
};

/* State of one config_load() walk. */
struct loader {
	const char *path;	 /* the main file: used when libconfig knows no better */
	const char *include_dir; /* what libconfig prefixes to @include names, or NULL */
	struct load_error *errors;
	size_t n_errors;
	struct seen_names devices, upstreams, stations;
	/* The list itself was malformed: every reference to it would look
	 * unknown, so none is reported. */
	bool devices_broken, upstreams_broken;
};

char *setting_file(const struct loader *l, const config_setting_t *s);
int setting_line(const config_setting_t *s);
void load_error(struct loader *l, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void error_at(struct loader *l, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *setting_type_name(int type);
bool config_name_valid(const char *s);
int get_name(struct loader *l, const config_setting_t *s, const char *what, char **out);
bool expect_list_of_groups(struct loader *l, const config_setting_t *s, const char *what);

void strv_free(char **v, size_t n);
void config_options_free(struct config_options *opts);
void config_device_free(struct config_device *d);
void config_station_free(struct config_station *s);

/* config-items.c */
void parse_devices(struct loader *l, const config_setting_t *list, struct circd_config *cfg);
void parse_upstreams(struct loader *l, const config_setting_t *list, struct circd_config *cfg);
void parse_stations(struct loader *l, const config_setting_t *list, struct circd_config *cfg);
void check_references(struct loader *l, const struct circd_config *cfg);
void seen_names_free(struct seen_names *s);

#endif
