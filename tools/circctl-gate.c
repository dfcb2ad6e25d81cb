/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl gate NAME [counts|latency [--reset]]`: a gate station's people
 * counts and alarms since it started, or its decision latency (exact
 * percentiles over the last 65,536 tag reads).  One request,
 * {"cmd":"station","station":NAME,"op":"counts"|"latency"}, answered by
 * the gate role's control hook (daemon/station_gate.c).
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

static void print_counts(json_object *a)
{
	json_object *p = NULL, *v = NULL;
	json_object_object_get_ex(a, "passes", &p);
	json_object_object_get_ex(a, "verdicts", &v);
	char passes_in[24], passes_out[24], passes_unknown[24], reads[64], alarms[96], failures[24];
	snprintf(passes_in, sizeof(passes_in), "%" PRId64, json_int(p, "in"));
	snprintf(passes_out, sizeof(passes_out), "%" PRId64, json_int(p, "out"));
	snprintf(passes_unknown, sizeof(passes_unknown), "%" PRId64, json_int(p, "unknown"));
	snprintf(reads, sizeof(reads), "%" PRId64 " (%" PRId64 " silent, %" PRId64 " debounced, %"
		 PRId64 " undecodable)", json_int(a, "reads"), json_int(a, "silent"),
		 json_int(a, "debounced"), json_int(a, "undecodable"));
	snprintf(alarms, sizeof(alarms), "%" PRId64 " (verified: %" PRId64 " true, %" PRId64
		 " false, %" PRId64 " unknown)", json_int(a, "alarms"), json_int(v, "true"),
		 json_int(v, "false"), json_int(v, "unknown"));
	snprintf(failures, sizeof(failures), "%" PRId64, json_int(a, "alarm_output_failures"));
	const char *const rows[][2] = {
		{ "gate", json_str(a, "station") },
		{ "mode", json_str(a, "mode") },
		{ "since", json_str(a, "since") },
		{ "people in", passes_in },
		{ "people out", passes_out },
		{ "direction unknown", passes_unknown },
		{ "tag reads", reads },
		{ "alarms", alarms },
		{ "alarms not sounded", failures },
	};
	kv_print(stdout, "", rows, ARRAY_SIZE(rows));
}

static void print_latency(json_object *a)
{
	static const char *const headers[] = { "span", "count", "p50_us", "p90_us", "p99_us",
						"p999_us", "max_us" };
	static const char *const spans[][2] = {
		{ "dispatch", "arrival -> gate" },
		{ "decision", "arrival -> decided" },
		{ "alarm", "arrival -> alarm sent" },
	};
	struct table *t = table_new(ARRAY_SIZE(headers), headers);
	for (size_t i = 0; i < ARRAY_SIZE(spans); i++) {
		json_object *s = NULL;
		json_object_object_get_ex(a, spans[i][0], &s);
		char cells[6][24];
		const char *row[7] = { spans[i][1] };
		snprintf(cells[0], sizeof(cells[0]), "%" PRId64, json_int(s, "count"));
		static const char *const keys[] = { "p50_us", "p90_us", "p99_us", "p999_us", "max_us" };
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			json_object *x = NULL;
			if (s && json_object_object_get_ex(s, keys[k], &x))
				snprintf(cells[k + 1], sizeof(cells[k + 1]), "%" PRId64, json_int(s, keys[k]));
			else
				snprintf(cells[k + 1], sizeof(cells[k + 1]), "-");
		}
		for (size_t k = 0; k < 6; k++)
			row[k + 1] = cells[k];
		table_add_row(t, row);
	}
	table_print(t, stdout, "");
	table_free(t);
}

int cmd_gate(struct circctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CIRCCTL_COMMON_LONG,
		{ "reset", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	bool reset = false;
	int opt, code;
	optind = 1;
	while ((opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT "r", longopts, NULL)) != -1) {
		if (opt == 'r') {
			reset = true;
			continue;
		}
		code = -1;
		if (circctl_common_option(ctx, argv[0], opt, &code)) {
			if (code >= 0)
				return code;
			continue;
		}
		return circctl_usage_error(argv[0], "unexpected option");
	}
	if (optind >= argc)
		return circctl_usage_error(argv[0], "which gate? (a station name)");
	const char *name = argv[optind++];
	const char *op = optind < argc ? argv[optind++] : "counts";
	if (optind < argc)
		return circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (strcmp(op, "counts") != 0 && strcmp(op, "latency") != 0)
		return circctl_usage_error(argv[0], "unknown operation '%s' (counts or latency)", op);
	if (reset && strcmp(op, "latency") != 0)
		return circctl_usage_error(argv[0], "--reset goes with latency");

	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("station"));
	json_object_object_add(req, "station", json_object_new_string(name));
	json_object_object_add(req, "op", json_object_new_string(op));
	if (reset)
		json_object_object_add(req, "reset", json_object_new_boolean(true));
	json_object *answer = NULL;
	int r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		json_print_pretty(stdout, answer);
	else if (!strcmp(op, "counts"))
		print_counts(answer);
	else
		print_latency(answer);
	json_object_put(answer);
	return EXIT_OK;
}
