/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl status`: one screen that says whether circulation works here,
 * and an exit code a monitoring system can use (0 ok, 1 degraded, 2 down,
 * 3 unreachable: the monitoring-plugin convention).
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

enum {
	STATUS_HEALTHY = 0,
	STATUS_DEGRADED = 1,
	STATUS_DOWN = 2,
};

/* Degraded: something needs a look, circulation still goes on (the
 * stations work offline while an upstream is down).  Down: circd is going
 * away, a device has failed for good, or no device works at all. */
static int status_health(struct json_object *answer)
{
	int health = STATUS_HEALTHY;
	const char *state = json_str(answer, "state");

	if (strcmp(state, "stopping") == 0)
		return STATUS_DOWN;
	if (strcmp(state, "running") != 0)
		health = STATUS_DEGRADED;

	struct json_object *devices = json_array(answer, "devices");
	size_t n_devices = devices ? json_object_array_length(devices) : 0;
	size_t n_working = 0;
	for (size_t i = 0; i < n_devices; i++) {
		const char *h = json_str(json_object_array_get_idx(devices, i), "health");
		if (strcmp(h, "failed") == 0)
			return STATUS_DOWN;
		if (strcmp(h, "ok") == 0 || strcmp(h, "degraded") == 0)
			n_working++;
		if (strcmp(h, "ok") != 0)
			health = STATUS_DEGRADED;
	}
	if (n_devices > 0 && n_working == 0)
		return STATUS_DOWN;

	struct json_object *upstreams = json_array(answer, "upstreams");
	size_t n_upstreams = upstreams ? json_object_array_length(upstreams) : 0;
	for (size_t i = 0; i < n_upstreams; i++)
		if (strcmp(json_str(json_object_array_get_idx(upstreams, i), "state"), "up") != 0)
			health = STATUS_DEGRADED;
	return health;
}

static void print_header(struct json_object *answer)
{
	char uptime[32];

	format_duration_sec(json_int(answer, "uptime_sec"), uptime, sizeof(uptime));
	const char *site = json_str(answer, "site");
	printf("%s: circd %s, %s, up %s\n", *site ? site : "(unnamed site)",
	       json_str(answer, "version"), json_str(answer, "state"), uptime);
}

/* The device's error counters, only those above 0 ("bad_frame=3
 * timeout=1"), "-" when all are 0, "" from a daemon that has none. */
static char *format_errors(struct json_object *device)
{
	static const char *const kinds[] = { "bad_frame", "timeout", "device_error", "reconnects" };
	struct json_object *errors;
	if (!json_object_object_get_ex(device, "errors", &errors) ||
	    !json_object_is_type(errors, json_type_object))
		return xstrdup("");
	char *s = xstrdup("");
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		int64_t n = json_int(errors, kinds[k]);
		if (n <= 0)
			continue;
		char *joined = xasprintf("%s%s%s=%" PRId64, s, *s ? " " : "", kinds[k], n);
		free(s);
		s = joined;
	}
	if (!*s) {
		free(s);
		s = xstrdup("-");
	}
	return s;
}

static void print_devices(struct json_object *devices)
{
	static const char *const headers[] = { "NAME", "PLUGIN", "HEALTH", "EVENTS", "ERRORS",
					       "REASON" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);

	for (size_t i = 0; devices && i < json_object_array_length(devices); i++) {
		struct json_object *d = json_object_array_get_idx(devices, i);
		_cleanup_free_ char *errors = format_errors(d);
		const char *row[] = { json_str(d, "name"),   json_str(d, "plugin"),
				      json_str(d, "health"), json_str(d, "events"),
				      errors,		     json_str(d, "reason") };
		table_add_row(t, row);
	}
	if (table_rows(t) == 0) {
		printf("\nDevices: none\n");
	} else {
		printf("\nDevices:\n");
		table_print(t, stdout, "  ");
	}
	table_free(t);
}

/* "drop1,gate1" from ["drop1","gate1"] */
static char *join_names(struct json_object *names)
{
	size_t n = names ? json_object_array_length(names) : 0;
	char *s = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(names, i));
		char *joined = xasprintf("%s%s%s", s, i ? "," : "", name ? name : "");
		free(s);
		s = joined;
	}
	return s;
}

static void print_stations(struct json_object *stations)
{
	static const char *const headers[] = { "NAME", "ROLE", "DEVICES", "TRANSACTIONS" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);

	for (size_t i = 0; stations && i < json_object_array_length(stations); i++) {
		struct json_object *st = json_object_array_get_idx(stations, i);
		_cleanup_free_ char *devices = join_names(json_array(st, "devices"));
		const char *row[] = { json_str(st, "name"), json_str(st, "role"), devices,
				      json_str(st, "transactions") };
		table_add_row(t, row);
	}
	if (table_rows(t) == 0) {
		printf("\nStations: none\n");
	} else {
		printf("\nStations:\n");
		table_print(t, stdout, "  ");
	}
	table_free(t);
}

static void print_upstreams(struct json_object *upstreams)
{
	static const char *const headers[] = { "NAME", "PLUGIN", "STATE", "BACKLOG", "OLDEST",
					       "DONE", "REJECTED", "DEAD", "LAST ERROR" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);

	for (size_t i = 0; upstreams && i < json_object_array_length(upstreams); i++) {
		struct json_object *u = json_object_array_get_idx(upstreams, i);
		char oldest[32] = "";
		if (json_int(u, "backlog") > 0)
			format_duration_sec(json_int(u, "oldest_age_sec"), oldest, sizeof(oldest));
		const char *row[] = { json_str(u, "name"),    json_str(u, "plugin"),
				      json_str(u, "state"),   json_str(u, "backlog"),
				      oldest,		      json_str(u, "done"),
				      json_str(u, "rejected"), json_str(u, "dead"),
				      json_str(u, "last_error") };
		table_add_row(t, row);
	}
	if (table_rows(t) == 0) {
		printf("\nUpstreams: none\n");
	} else {
		printf("\nUpstreams:\n");
		table_print(t, stdout, "  ");
	}
	table_free(t);
}

static void print_backlog(struct json_object *answer)
{
	struct json_object *backlog;
	if (!json_object_object_get_ex(answer, "backlog", &backlog))
		return;

	int64_t pending = json_int(backlog, "pending");
	if (pending == 0) {
		printf("\nBacklog: empty\n");
		return;
	}
	char oldest[32];
	format_duration_sec(json_int(backlog, "oldest_age_sec"), oldest, sizeof(oldest));
	printf("\nBacklog: %" PRId64 " pending, oldest %s ago\n", pending, oldest);
}

int cmd_status(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = { CIRCCTL_COMMON_LONG, {} };
	int opt, r = -1;

	while ((opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT, options, NULL)) != -1) {
		if (!circctl_common_option(ctx, argv[0], opt, &r))
			return circctl_usage_error(argv[0], "unexpected option");
		if (r >= 0)
			return r;
	}
	if (optind < argc)
		return circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);

	struct json_object *request = json_object_new_object();
	json_object_object_add(request, "cmd", json_object_new_string("status"));
	struct json_object *answer = NULL;
	r = circctl_call(ctx, request, &answer);
	/* 1 means "degraded" here; a status we did not get is unknown. */
	if (r == EXIT_DAEMON_ERROR)
		return EXIT_UNREACHABLE;
	if (r != EXIT_OK)
		return r;

	if (ctx->json) {
		json_print_pretty(stdout, answer);
	} else {
		print_header(answer);
		print_devices(json_array(answer, "devices"));
		print_stations(json_array(answer, "stations"));
		print_upstreams(json_array(answer, "upstreams"));
		print_backlog(answer);
	}
	r = status_health(answer);
	json_object_put(answer);
	return r;
}
