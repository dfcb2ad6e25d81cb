/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl shelf report [--station NAME] [--json]`: what the shelf
 * stations see now.  Per shelf: which antennas read it, what belongs on it,
 * how many tags are on it, and the anomalies standing now (misplaced,
 * on-shelf-but-loaned, missing) with the totals noted since circd started
 * (in-library use included).  The history is in the journal's "shelf"
 * events.
 *
 * Without --station every station whose role is "shelf" (from status) is
 * asked {"cmd":"station","station":NAME,"op":"report"}; --json prints the
 * answers as one array.
 */
#include "config.h"

#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

enum { OPT_STATION = 0x100 };

static struct json_object *report_request(const char *station)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("station"));
	json_object_object_add(req, "station", json_object_new_string(station));
	json_object_object_add(req, "op", json_object_new_string("report"));
	return req;
}

static char *antennas_text(struct json_object *shelf)
{
	struct json_object *a = json_array(shelf, "antennas");
	const char *device = json_str(shelf, "device");
	char *t = xstrdup(*device ? device : "");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		char *n = xasprintf("%s%s%d", t, i ? "," : *t ? ":" : "",
				    json_object_get_int(json_object_array_get_idx(a, i)));
		free(t);
		t = n;
	}
	return t;
}

static size_t array_len(struct json_object *o, const char *key)
{
	struct json_object *a = json_array(o, key);
	return a ? json_object_array_length(a) : 0;
}

static void add_anomalies(struct table *t, const char *shelf, const char *anomaly,
			  struct json_object *list, const char *time_key)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *x = json_object_array_get_idx(list, i);
		const char *row[] = { shelf, anomaly, json_str(x, "item_id"), json_str(x, "call_number"),
				      json_str(x, "home_location"), json_str(x, time_key) };
		table_add_row(t, row);
	}
}

static void print_report(struct json_object *r)
{
	char missing_after[32];
	format_duration_sec(json_int(r, "missing_after_s"), missing_after, sizeof(missing_after));
	printf("Station %s: inventory every %s ms; a tag gone %s cycles has left; missing after %s\n",
	       json_str(r, "station"), json_str(r, "cycle_ms"), json_str(r, "cycles"), missing_after);

	static const char *const headers[] = { "SHELF", "ANTENNAS", "HOLDS", "PRESENT", "BELONG",
					       "MISPLACED", "LOANED", "MISSING", "IN-LIBRARY USE" };
	static const char *const aheaders[] = { "SHELF", "ANOMALY", "ITEM", "CALL NUMBER", "HOME",
						"SINCE" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);
	struct table *a = table_new(ARRAY_SIZE(aheaders), aheaders);
	struct json_object *shelves = json_array(r, "shelves");
	for (size_t i = 0; shelves && i < json_object_array_length(shelves); i++) {
		struct json_object *s = json_object_array_get_idx(shelves, i), *noted = NULL;
		json_object_object_get_ex(s, "noted", &noted);
		_cleanup_free_ char *ants = antennas_text(s);
		_cleanup_free_ char *misplaced = xasprintf("%zu", array_len(s, "misplaced"));
		_cleanup_free_ char *loaned = xasprintf("%zu", array_len(s, "on_shelf_loaned"));
		_cleanup_free_ char *missing = xasprintf("%zu", array_len(s, "missing"));
		const char *row[] = { json_str(s, "shelf"), ants, json_str(s, "rule"), json_str(s, "present"),
				      json_str(s, "belonging"), misplaced, loaned, missing,
				      json_str(noted, "in-library-use") };
		table_add_row(t, row);
		add_anomalies(a, json_str(s, "shelf"), "misplaced", json_array(s, "misplaced"), "since");
		add_anomalies(a, json_str(s, "shelf"), "on-shelf-loaned", json_array(s, "on_shelf_loaned"),
			      "since");
		add_anomalies(a, json_str(s, "shelf"), "missing", json_array(s, "missing"), "left");
	}
	printf("\n");
	table_print(t, stdout, "  ");
	if (table_rows(a)) {
		printf("\nAnomalies now:\n");
		table_print(a, stdout, "  ");
	} else {
		printf("\nAnomalies now: none\n");
	}
	if (json_int(r, "unmapped_reads"))
		printf("\n%s reads came from antennas that read no shelf of the model.\n",
		       json_str(r, "unmapped_reads"));
	table_free(t);
	table_free(a);
}

int cmd_shelf(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "station", required_argument, NULL, OPT_STATION },
		{}
	};
	const char *station = NULL;
	int opt, r = -1;

	while (r < 0 && (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT, options, NULL)) != -1) {
		if (opt == OPT_STATION)
			station = optarg;
		else if (!circctl_common_option(ctx, argv[0], opt, &r))
			r = circctl_usage_error(argv[0], "unexpected option");
	}
	if (r >= 0)
		return r;
	if (optind >= argc)
		return circctl_usage_error(argv[0], "missing the subcommand (report)");
	if (strcmp(argv[optind], "report") != 0)
		return circctl_usage_error(argv[0], "unknown subcommand '%s' (report)", argv[optind]);
	if (optind + 1 < argc)
		return circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind + 1]);

	/* Which stations: the one named, or every shelf station. */
	struct json_object *names = json_object_new_array();
	if (station) {
		json_object_array_add(names, json_object_new_string(station));
	} else {
		struct json_object *req = json_object_new_object(), *status = NULL;
		json_object_object_add(req, "cmd", json_object_new_string("status"));
		r = circctl_call(ctx, req, &status);
		if (r != EXIT_OK) {
			json_object_put(names);
			return r;
		}
		struct json_object *sts = json_array(status, "stations");
		for (size_t i = 0; sts && i < json_object_array_length(sts); i++) {
			struct json_object *s = json_object_array_get_idx(sts, i);
			if (strcmp(json_str(s, "role"), "shelf") == 0)
				json_object_array_add(names, json_object_new_string(json_str(s, "name")));
		}
		json_object_put(status);
	}
	size_t n = json_object_array_length(names);
	if (n == 0 && !ctx->json)
		printf("No shelf stations.\n");
	struct json_object *all = json_object_new_array();
	r = EXIT_OK;
	for (size_t i = 0; i < n && r == EXIT_OK; i++) {
		struct json_object *answer = NULL;
		r = circctl_call(ctx, report_request(json_object_get_string(json_object_array_get_idx(names, i))),
				 &answer);
		if (r != EXIT_OK)
			break;
		json_object_object_del(answer, "ok");
		if (!ctx->json) {
			if (i)
				printf("\n");
			print_report(answer);
		}
		json_object_array_add(all, answer);
	}
	if (r == EXIT_OK && ctx->json)
		json_print_pretty(stdout, all);
	json_object_put(all);
	json_object_put(names);
	return r;
}
