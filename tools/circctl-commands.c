/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The small commands: exceptions (list, retry, dismiss), sim, reload,
 * metrics.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

enum {
	OPT_NOTE = 1000,
};

static struct json_object *new_request(const char *cmd)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

/* Parses only the common options; r >= 0 on return means "return r now". */
static int parse_common_only(struct circctl *ctx, int argc, char **argv, const char *shortopts)
{
	static const struct option options[] = { CIRCCTL_COMMON_LONG, {} };
	int opt, r = -1;

	while (r < 0 && (opt = getopt_long(argc, argv, shortopts, options, NULL)) != -1)
		if (!circctl_common_option(ctx, argv[0], opt, &r))
			r = circctl_usage_error(argv[0], "unexpected option");
	return r;
}

/* Sends a request whose answer is just "ok"; --json prints it. */
static int simple_call(struct circctl *ctx, struct json_object *req, const char *done_message)
{
	struct json_object *answer = NULL;
	int r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json) {
		json_print_pretty(stdout, answer);
	} else if (done_message) {
		const char *message = json_str(answer, "message");
		puts(*message ? message : done_message);
	}
	json_object_put(answer);
	return EXIT_OK;
}

/* ---- exceptions ---------------------------------------------------------- */

static void print_exceptions(struct json_object *rows)
{
	static const char *const headers[] = { "ID",	   "TIME",   "STATION", "ITEM",
					       "UPSTREAM", "REASON", "MESSAGE" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);

	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *cells[] = { json_str(row, "id"),	   json_str(row, "time"),
					json_str(row, "station"),  json_str(row, "item_id"),
					json_str(row, "upstream"), json_str(row, "reason"),
					json_str(row, "message") };
		table_add_row(t, cells);
	}
	if (table_rows(t) > 0)
		table_print(t, stdout, "");
	table_free(t);
}

/* What the stations raised (bookdrop exception bin, sorter failures, bin
 * full ...), newest first; IDs S<n> (dismiss S<n>). */
static void print_station_exceptions(struct json_object *rows)
{
	static const char *const headers[] = { "ID", "TIME", "STATION", "ITEM", "TXN", "REASON" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);

	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		char id[32], txn[32] = "";
		snprintf(id, sizeof(id), "S%" PRId64, json_int(row, "id"));
		if (json_int(row, "txn") > 0)
			snprintf(txn, sizeof(txn), "%" PRId64, json_int(row, "txn"));
		const char *cells[] = { id, json_str(row, "time"), json_str(row, "station"),
					json_str(row, "item_id"), txn, json_str(row, "reason") };
		table_add_row(t, cells);
	}
	if (table_rows(t) > 0) {
		printf("Station exceptions (newest first):\n");
		table_print(t, stdout, "");
	}
	table_free(t);
}

static int parse_id(const char *command, const char *arg, int64_t *id)
{
	char *end;
	errno = 0;
	long long n = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || n <= 0)
		return circctl_usage_error(command, "invalid exception id '%s'", arg);
	*id = n;
	return EXIT_OK;
}

static int exceptions_list(struct circctl *ctx)
{
	struct json_object *answer = NULL;
	int r = circctl_call(ctx, new_request("exceptions"), &answer);
	if (r != EXIT_OK)
		return r;
	struct json_object *rows = json_array(answer, "exceptions");
	struct json_object *station_rows = json_array(answer, "station_exceptions");
	if (ctx->json) {
		json_print_pretty(stdout, answer);
	} else if ((!rows || json_object_array_length(rows) == 0) &&
		   (!station_rows || json_object_array_length(station_rows) == 0)) {
		printf("No open exceptions.\n");
	} else {
		print_exceptions(rows);
		if (rows && json_object_array_length(rows) && station_rows &&
		    json_object_array_length(station_rows))
			printf("\n");
		print_station_exceptions(station_rows);
	}
	json_object_put(answer);
	return EXIT_OK;
}

int cmd_exceptions(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "note", required_argument, NULL, OPT_NOTE },
		{}
	};
	const char *note = NULL;
	int opt, r = -1;

	/* Options may follow the action and id: "dismiss 42 --note ...". */
	while (r < 0 && (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT, options, NULL)) != -1) {
		if (opt == OPT_NOTE)
			note = optarg;
		else if (!circctl_common_option(ctx, argv[0], opt, &r))
			r = circctl_usage_error(argv[0], "unexpected option");
	}
	if (r >= 0)
		return r;

	const char *action = optind < argc ? argv[optind++] : "list";
	int n_args = argc - optind;

	if (strcmp(action, "list") == 0) {
		if (n_args > 0)
			return circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
		if (note)
			return circctl_usage_error(argv[0], "--note belongs to 'dismiss'");
		return exceptions_list(ctx);
	}

	bool retry = strcmp(action, "retry") == 0;
	if (!retry && strcmp(action, "dismiss") != 0)
		return circctl_usage_error(argv[0], "unknown action '%s' (list, retry or dismiss)",
					   action);
	if (n_args != 1)
		return circctl_usage_error(argv[0], "%s needs exactly one exception id", action);
	int64_t id = 0;
	/* S<n>: a station's exception (only dismissed: there is nothing to
	 * send again). */
	bool station = argv[optind][0] == 'S' || argv[optind][0] == 's';
	if (station && retry)
		return circctl_usage_error(argv[0], "station exceptions can only be dismissed");
	r = parse_id(argv[0], argv[optind] + station, &id);
	if (r != EXIT_OK)
		return r;
	if (retry && note)
		return circctl_usage_error(argv[0], "--note belongs to 'dismiss'");
	/* A dismissal is a decision someone must be able to read later. */
	if (!retry && (!note || !*note))
		return circctl_usage_error(argv[0], "dismiss needs --note TEXT saying why");

	struct json_object *req = new_request(retry ? "exceptions-retry" : "exceptions-dismiss");
	json_object_object_add(req, station ? "station_exception" : "id", json_object_new_int64(id));
	if (!retry)
		json_object_object_add(req, "note", json_object_new_string(note));

	_cleanup_free_ char *done = xasprintf("Exception %s%" PRId64 " %s.", station ? "S" : "", id,
					      retry ? "queued for retry" : "dismissed");
	return simple_call(ctx, req, done);
}

/* ---- sim ----------------------------------------------------------------- */

int cmd_sim(struct circctl *ctx, int argc, char **argv)
{
	/* '+': a LINE may look like an option; "--" also works. */
	int r = parse_common_only(ctx, argc, argv, "+" CIRCCTL_COMMON_SHORT);
	if (r >= 0)
		return r;
	if (argc - optind < 2)
		return circctl_usage_error(argv[0], "usage: circctl sim DEVICE LINE...");

	const char *device = argv[optind++];
	for (; optind < argc; optind++) {
		struct json_object *req = new_request("sim");
		json_object_object_add(req, "device", json_object_new_string(device));
		json_object_object_add(req, "line", json_object_new_string(argv[optind]));
		r = simple_call(ctx, req, NULL);
		if (r != EXIT_OK)
			return r;
	}
	return EXIT_OK;
}

/* ---- reload, metrics ------------------------------------------------------ */

int cmd_reload(struct circctl *ctx, int argc, char **argv)
{
	int r = parse_common_only(ctx, argc, argv, CIRCCTL_COMMON_SHORT);
	if (r >= 0)
		return r;
	if (optind < argc)
		return circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	return simple_call(ctx, new_request("reload"), "Reload requested.");
}

int cmd_metrics(struct circctl *ctx, int argc, char **argv)
{
	int r = parse_common_only(ctx, argc, argv, CIRCCTL_COMMON_SHORT);
	if (r >= 0)
		return r;
	if (optind < argc)
		return circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);

	struct json_object *answer = NULL;
	r = circctl_call(ctx, new_request("metrics"), &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json) {
		json_print_pretty(stdout, answer);
	} else {
		const char *text = json_str(answer, "text");
		size_t len = strlen(text);
		fwrite(text, 1, len, stdout);
		if (len > 0 && text[len - 1] != '\n')
			fputc('\n', stdout);
	}
	json_object_put(answer);
	return EXIT_OK;
}
