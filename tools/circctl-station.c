/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circctl station NAME OP [--KEY VALUE | --FLAG]...: a station role's own
 * operations ({"cmd":"station","station":NAME,"op":OP,...}).  The options
 * after OP become the request's keys: "--txn 42" -> "txn": 42 (numbers as
 * numbers), "--last" -> "last": true, "--note=text" -> "note": "text".
 * A bookdrop's receipt and status are shown as text; anything else (and
 * --json) as circd's JSON.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

static bool all_digits(const char *s)
{
	if (!*s || strlen(s) > 18)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static struct json_object *value_of(const char *s)
{
	return all_digits(s) ? json_object_new_int64(strtoll(s, NULL, 10)) : json_object_new_string(s);
}

static void print_receipt(struct json_object *answer)
{
	struct json_object *r = NULL;
	json_object_object_get_ex(answer, "receipt", &r);
	char txn[32] = "";
	if (json_int(r, "txn") > 0)
		snprintf(txn, sizeof(txn), "%" PRId64, json_int(r, "txn"));
	const char *const rows[][2] = {
		{ "Item", json_str(r, "item_id") }, { "Title", json_str(r, "title") },
		{ "Returned", json_str(r, "time") }, { "Bin", json_str(r, "bin") },
		{ "Reason", json_str(answer, "reason") }, { "Transaction", txn },
	};
	kv_print(stdout, "", rows, ARRAY_SIZE(rows));
	struct json_object *lines = json_array(r, "print_lines");
	for (size_t i = 0; lines && i < json_object_array_length(lines); i++)
		printf("  | %s\n", json_object_get_string(json_object_array_get_idx(lines, i)));
}

static void print_bookdrop_status(struct json_object *a)
{
	char n[5][32];
	snprintf(n[0], sizeof(n[0]), "%" PRId64, json_int(a, "returns"));
	snprintf(n[1], sizeof(n[1]), "%" PRId64, json_int(a, "in_flight"));
	snprintf(n[2], sizeof(n[2]), "%" PRId64, json_int(a, "exceptions"));
	snprintf(n[3], sizeof(n[3]), "%" PRId64, json_int(a, "sorter_failures"));
	snprintf(n[4], sizeof(n[4]), "%" PRId64, json_int(a, "resecure_failures"));
	struct json_object *locked = NULL;
	json_object_object_get_ex(a, "intake_locked", &locked);
	const char *const rows[][2] = {
		{ "Intake", json_object_get_boolean(locked) ? "locked (a bin is full)" : "open" },
		{ "Returns", n[0] }, { "In flight", n[1] }, { "Exception bin", n[2] },
		{ "Sorter failures", n[3] }, { "Re-secure failures", n[4] },
	};
	kv_print(stdout, "", rows, ARRAY_SIZE(rows));
	struct json_object *bins = json_array(a, "bins");
	for (size_t i = 0; bins && i < json_object_array_length(bins); i++) {
		struct json_object *b = json_object_array_get_idx(bins, i), *v = NULL, *full = NULL;
		json_object_object_get_ex(b, "percent", &v);
		json_object_object_get_ex(b, "full", &full);
		printf("  bin %-8s %5.1f %%%s\n", json_str(b, "bin"), json_object_get_double(v),
		       json_object_get_boolean(full) ? "  FULL" : "");
	}
}

int cmd_station(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = { CIRCCTL_COMMON_LONG, {} };
	int opt, r = -1;

	/* Only the common options before NAME; the rest belong to the op. */
	while (r < 0 && (opt = getopt_long(argc, argv, "+" CIRCCTL_COMMON_SHORT, options, NULL)) != -1)
		if (!circctl_common_option(ctx, argv[0], opt, &r))
			r = circctl_usage_error(argv[0], "unexpected option");
	if (r >= 0)
		return r;
	if (argc - optind < 2)
		return circctl_usage_error(argv[0], "usage: circctl station NAME OP [--KEY VALUE]...");
	const char *name = argv[optind++], *op = argv[optind++];
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("station"));
	json_object_object_add(req, "station", json_object_new_string(name));
	json_object_object_add(req, "op", json_object_new_string(op));
	for (; optind < argc; optind++) {
		const char *a = argv[optind];
		if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0) {
			ctx->json = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || !a[2]) {
			json_object_put(req);
			return circctl_usage_error(argv[0], "unexpected argument '%s' (options are --KEY VALUE)", a);
		}
		const char *eq = strchr(a + 2, '=');
		_cleanup_free_ char *key = eq ? strndup(a + 2, (size_t)(eq - a - 2)) : xstrdup(a + 2);
		for (char *c = key; c && *c; c++)
			if (*c == '-')
				*c = '_';
		if (eq)
			json_object_object_add(req, key, value_of(eq + 1));
		else if (optind + 1 < argc && strncmp(argv[optind + 1], "--", 2) != 0)
			json_object_object_add(req, key, value_of(argv[++optind]));
		else
			json_object_object_add(req, key, json_object_new_boolean(true));
	}
	struct json_object *answer = NULL;
	r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		json_print_pretty(stdout, answer);
	else if (strcmp(op, "receipt") == 0 && json_object_object_get_ex(answer, "receipt", NULL))
		print_receipt(answer);
	else if (strcmp(op, "status") == 0 && json_object_object_get_ex(answer, "intake_locked", NULL))
		print_bookdrop_status(answer);
	else
		json_print_pretty(stdout, answer);
	json_object_put(answer);
	return EXIT_OK;
}
