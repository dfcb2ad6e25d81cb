/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal seen from outside: `circctl journal` (a table for staff),
 * `circctl export` (CSV / JSON lines for spreadsheets and scripts) and
 * `circctl stats` (counts per period).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

enum {
	OPT_STATION = 1000,
	OPT_KIND,
	OPT_STATE,
	OPT_ITEM,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_BY,
	OPT_LOCAL,
};

static struct json_object *new_request(const char *cmd)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

static bool one_of(const char *s, const char *const *allowed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, allowed[i]) == 0)
			return true;
	return false;
}

/* ---- journal ----------------------------------------------------------- */

/* A row's state, or with several upstreams each one's ("ils:done mqtt:pending"). */
static char *row_state(struct json_object *row)
{
	struct json_object *ups;
	if (!json_object_object_get_ex(row, "upstreams", &ups) ||
	    !json_object_is_type(ups, json_type_object) || json_object_object_length(ups) < 2)
		return xstrdup(json_str(row, "state"));

	char *s = xstrdup("");
	json_object_object_foreach(ups, name, up) {
		char *joined = xasprintf("%s%s%s:%s", s, *s ? " " : "", name, json_str(up, "state"));
		free(s);
		s = joined;
	}
	return s;
}

static void print_transactions(struct json_object *rows)
{
	static const char *const headers[] = { "ID", "TIME", "KIND", "STATION", "ITEM", "STATE" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);

	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		_cleanup_free_ char *state = row_state(row);
		const char *cells[] = { json_str(row, "id"),	  json_str(row, "time"),
					json_str(row, "kind"),	  json_str(row, "station"),
					json_str(row, "item_id"), state };
		table_add_row(t, cells);
	}
	if (table_rows(t) == 0)
		printf("No transactions.\n");
	else
		table_print(t, stdout, "");
	table_free(t);
}

static int parse_limit(const char *command, const char *arg, struct json_object *req)
{
	char *end;
	errno = 0;
	long n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n <= 0 || n > 1000000)
		return circctl_usage_error(command, "invalid --limit '%s' (a number from 1)", arg);
	json_object_object_add(req, "limit", json_object_new_int64(n));
	return EXIT_OK;
}

int cmd_journal(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "limit", required_argument, NULL, 'n' },
		{ "station", required_argument, NULL, OPT_STATION },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "item", required_argument, NULL, OPT_ITEM },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{}
	};
	static const char *const states[] = { "pending", "inflight", "done", "rejected", "dead" };
	struct json_object *req = new_request("journal");
	int opt, r = -1;

	while (r < 0 &&
	       (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT "n:", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			r = circctl_continue(parse_limit(argv[0], optarg, req));
			break;
		case OPT_STATION:
			json_object_object_add(req, "station", json_object_new_string(optarg));
			break;
		case OPT_KIND:
			json_object_object_add(req, "kind", json_object_new_string(optarg));
			break;
		case OPT_STATE:
			if (!one_of(optarg, states, ARRAY_SIZE(states)))
				r = circctl_usage_error(argv[0],
							"invalid --state '%s' (pending, inflight, "
							"done, rejected or dead)",
							optarg);
			else
				json_object_object_add(req, "state", json_object_new_string(optarg));
			break;
		case OPT_ITEM:
			json_object_object_add(req, "item", json_object_new_string(optarg));
			break;
		case OPT_SINCE:
			r = circctl_continue(circctl_add_time(req, argv[0], "since", optarg));
			break;
		case OPT_UNTIL:
			r = circctl_continue(circctl_add_time(req, argv[0], "until", optarg));
			break;
		default:
			if (!circctl_common_option(ctx, argv[0], opt, &r))
				r = circctl_usage_error(argv[0], "unexpected option");
		}
	}
	if (r < 0 && optind < argc)
		r = circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (r >= 0) {
		json_object_put(req);
		return r;
	}

	struct json_object *answer = NULL;
	r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		json_print_pretty(stdout, answer);
	else
		print_transactions(json_array(answer, "transactions"));
	json_object_put(answer);
	return EXIT_OK;
}

/* ---- export ------------------------------------------------------------ */

static const char *const csv_columns[] = { "id",      "time",	 "kind", "station",
					   "device", "item_id", "uid",	 "state" };

static void write_csv(FILE *out, struct json_object *rows)
{
	/* RFC 4180: CRLF line ends, header row first. */
	for (size_t c = 0; c < ARRAY_SIZE(csv_columns); c++)
		fprintf(out, "%s%s", c ? "," : "", csv_columns[c]);
	fputs("\r\n", out);
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		for (size_t c = 0; c < ARRAY_SIZE(csv_columns); c++) {
			if (c)
				fputc(',', out);
			csv_write_field(out, json_str(row, csv_columns[c]));
		}
		fputs("\r\n", out);
	}
}

static const char *const event_csv_columns[] = { "id",      "time",    "type", "device",
						 "station", "item_id", "detail" };

static void write_events_csv(FILE *out, struct json_object *rows)
{
	for (size_t c = 0; c < ARRAY_SIZE(event_csv_columns); c++)
		fprintf(out, "%s%s", c ? "," : "", event_csv_columns[c]);
	fputs("\r\n", out);
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i), *detail;
		for (size_t c = 0; c + 1 < ARRAY_SIZE(event_csv_columns); c++) {
			if (c)
				fputc(',', out);
			csv_write_field(out, json_str(row, event_csv_columns[c]));
		}
		fputc(',', out);
		/* The detail as compact JSON; a detail that was not JSON as it was. */
		if (json_object_object_get_ex(row, "detail", &detail) && detail)
			csv_write_field(out, json_object_to_json_string_ext(
						     detail, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			csv_write_field(out, json_str(row, "detail_text"));
		fputs("\r\n", out);
	}
}

static void write_jsonl(FILE *out, struct json_object *rows)
{
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		fputs(json_object_to_json_string_ext(json_object_array_get_idx(rows, i),
						     JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE),
		      out);
		fputc('\n', out);
	}
}

/* The file is written only once circd has answered, and renamed into
 * place when complete: a failed export leaves no empty or half file
 * behind, and an existing one untouched. */
static int write_export(const char *path, bool csv, bool events, struct json_object *rows)
{
	struct output o;
	FILE *out = output_open(&o, path);
	if (!out)
		return EXIT_DAEMON_ERROR;
	if (csv && events)
		write_events_csv(out, rows);
	else if (csv)
		write_csv(out, rows);
	else
		write_jsonl(out, rows);
	return output_close(&o);
}

int cmd_export(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "what", required_argument, NULL, 'w' },
		{ "type", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{}
	};
	struct json_object *req = new_request("export");
	const char *format = "csv", *output = NULL, *what = "transactions", *type = NULL;
	int opt, r = -1;

	while (r < 0 &&
	       (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT "f:o:w:t:", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			format = optarg;
			break;
		case 'w':
			what = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_SINCE:
			r = circctl_continue(circctl_add_time(req, argv[0], "since", optarg));
			break;
		case OPT_UNTIL:
			r = circctl_continue(circctl_add_time(req, argv[0], "until", optarg));
			break;
		default:
			if (!circctl_common_option(ctx, argv[0], opt, &r))
				r = circctl_usage_error(argv[0], "unexpected option");
		}
	}
	if (r < 0 && optind < argc)
		r = circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (r < 0 && strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0)
		r = circctl_usage_error(argv[0], "invalid --format '%s' (csv or jsonl)", format);
	bool events = strcmp(what, "events") == 0;
	if (r < 0 && !events && strcmp(what, "transactions") != 0)
		r = circctl_usage_error(argv[0], "invalid --what '%s' (transactions or events)", what);
	if (r < 0 && type && !events)
		r = circctl_usage_error(argv[0], "--type needs --what events");
	if (r >= 0) {
		json_object_put(req);
		return r;
	}
	if (events) {
		/* The events table has its own command; the filters are the same. */
		json_object_object_add(req, "cmd", json_object_new_string("events"));
		if (type)
			json_object_object_add(req, "type", json_object_new_string(type));
	}

	struct json_object *answer = NULL;
	r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	/* --json does not apply: the format is what --format says. */
	r = write_export(output, strcmp(format, "csv") == 0, events,
			 json_array(answer, events ? "events" : "transactions"));
	json_object_put(answer);
	return r;
}

/* ---- stats ------------------------------------------------------------- */

static void print_stats(struct json_object *rows)
{
	static const char *const headers[] = { "PERIOD", "STATION", "KIND", "COUNT" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);
	int64_t total = 0;

	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *cells[] = { json_str(row, "period"), json_str(row, "station"),
					json_str(row, "kind"), json_str(row, "count") };
		table_add_row(t, cells);
		total += json_int(row, "count");
	}
	if (table_rows(t) == 0) {
		printf("No transactions in this period.\n");
	} else {
		table_print(t, stdout, "");
		printf("\nTotal: %" PRId64 "\n", total);
	}
	table_free(t);
}

static struct json_object *sub(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static int64_t at(struct json_object *a, size_t i)
{
	struct json_object *v = a ? json_object_array_get_idx(a, i) : NULL;
	return v ? json_object_get_int64(v) : 0;
}

static void print_counts(const char *heading, struct json_object *rows, const char *key,
			 const char *column)
{
	if (!rows || json_object_array_length(rows) == 0)
		return;
	const char *const headers[] = { column, "COUNT" };
	struct table *t = table_new(2, headers);
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *name = json_str(row, key);
		const char *cells[] = { *name ? name : "(none)", json_str(row, "count") };
		table_add_row(t, cells);
	}
	printf("\n%s:\n", heading);
	table_print(t, stdout, "  ");
	table_free(t);
}

/* The stations' series (daemon/ctl_report.c): per period where anything
 * happened, then the breakdowns and the self-check and exception figures. */
static void print_series(struct json_object *s)
{
	if (!s)
		return;
	struct json_object *ret = sub(s, "returns"), *al = sub(s, "alarms"), *gp = sub(s, "gate_passes"),
			   *sc = sub(s, "selfcheck"), *ex = sub(s, "exceptions");
	struct json_object *periods = json_array(s, "periods");
	struct json_object *cols[] = {
		json_array(ret, "per_period"),
		json_array(sub(al, "per_period"), "true"),
		json_array(sub(al, "per_period"), "false"),
		json_array(sub(al, "per_period"), "unknown"),
		json_array(sub(gp, "per_period"), "in"),
		json_array(sub(gp, "per_period"), "out"),
	};
	static const char *const headers[] = { "PERIOD", "RETURNS", "ALARMS TRUE", "FALSE",
					       "UNKNOWN", "PASSES IN", "OUT" };
	struct table *t = table_new(ARRAY_SIZE(headers), headers);
	for (size_t i = 0; periods && i < json_object_array_length(periods); i++) {
		char v[ARRAY_SIZE(cols)][24];
		int64_t any = 0;
		for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
			snprintf(v[c], sizeof(v[c]), "%" PRId64, at(cols[c], i));
			any |= at(cols[c], i);
		}
		if (!any)
			continue;
		const char *cells[] = { json_object_get_string(json_object_array_get_idx(periods, i)),
					v[0], v[1], v[2], v[3], v[4], v[5] };
		table_add_row(t, cells);
	}
	printf("\nStations (%s):\n", json_str(s, "timezone"));
	printf("  returns %" PRId64 ", sorted %" PRId64 "; alarms %" PRId64 " (true %" PRId64
	       ", false %" PRId64 ", unknown %" PRId64 "); gate passes in %" PRId64 ", out %" PRId64 "\n",
	       json_int(ret, "total"), json_int(ret, "sorted"), json_int(al, "total"),
	       json_int(al, "true"), json_int(al, "false"), json_int(al, "unknown"), json_int(gp, "in"),
	       json_int(gp, "out"));
	if (table_rows(t) > 0)
		table_print(t, stdout, "  ");
	table_free(t);
	print_counts("Returns per bin", json_array(ret, "by_bin"), "bin", "BIN");
	print_counts("Shelf anomalies", json_array(sub(s, "shelf"), "by_anomaly"), "anomaly", "ANOMALY");
	struct json_object *rate;
	char rate_text[32] = "-";
	if (sc && json_object_object_get_ex(sc, "success_rate", &rate) && rate)
		snprintf(rate_text, sizeof(rate_text), "%.0f%%", json_object_get_double(rate) * 100.0);
	printf("\nSelf-check: success %s (%" PRId64 " succeeded, %" PRId64 " refused, %" PRId64
	       " not answered); %" PRId64 " sessions, %" PRId64 " items ok, %" PRId64 " refused\n",
	       rate_text, json_int(sc, "succeeded"), json_int(sc, "failed"), json_int(sc, "pending"),
	       json_int(sc, "sessions"), json_int(sc, "items_ok"), json_int(sc, "items_failed"));
	printf("Exceptions: %" PRId64 " open, %" PRId64 " station exceptions in the period\n",
	       json_int(ex, "open"), json_int(ex, "station"));
	print_counts("Station exceptions", json_array(ex, "station_by_reason"), "reason", "REASON");
}

int cmd_stats(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "by", required_argument, NULL, OPT_BY },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "local", no_argument, NULL, OPT_LOCAL },
		{}
	};
	struct json_object *req = new_request("stats");
	const char *by = "day";
	int opt, r = -1;

	while (r < 0 &&
	       (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT, options, NULL)) != -1) {
		switch (opt) {
		case OPT_BY:
			by = optarg;
			break;
		case OPT_LOCAL:
			json_object_object_add(req, "utc", json_object_new_boolean(false));
			break;
		case OPT_SINCE:
			r = circctl_continue(circctl_add_time(req, argv[0], "since", optarg));
			break;
		case OPT_UNTIL:
			r = circctl_continue(circctl_add_time(req, argv[0], "until", optarg));
			break;
		default:
			if (!circctl_common_option(ctx, argv[0], opt, &r))
				r = circctl_usage_error(argv[0], "unexpected option");
		}
	}
	if (r < 0 && optind < argc)
		r = circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (r < 0 && strcmp(by, "hour") != 0 && strcmp(by, "day") != 0)
		r = circctl_usage_error(argv[0], "invalid --by '%s' (hour or day)", by);
	if (r >= 0) {
		json_object_put(req);
		return r;
	}
	json_object_object_add(req, "by", json_object_new_string(by));

	struct json_object *answer = NULL;
	r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		json_print_pretty(stdout, answer);
	else {
		print_stats(json_array(answer, "rows"));
		struct json_object *series;
		if (json_object_object_get_ex(answer, "series", &series))
			print_series(series);
	}
	json_object_put(answer);
	return EXIT_OK;
}
