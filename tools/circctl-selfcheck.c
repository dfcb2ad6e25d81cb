/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl selfcheck NAME OP ...`: a self-check kiosk from the command line
 * (staff testing a kiosk, the tests, the demo).  Each OP is one request
 * {"cmd":"station","station":NAME,"op":OP,...} -- the same a kiosk UI sends
 * (tools/control-commands.md).  The answers that depend on the library
 * system come later: `status` shows where each item is.
 *
 * The PIN is read from standard input (--pin-stdin), never from the
 * command line, where `ps` and shell histories would keep it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

static struct json_object *station_request(const char *station, const char *op)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("station"));
	json_object_object_add(req, "station", json_object_new_string(station));
	json_object_object_add(req, "op", json_object_new_string(op));
	return req;
}

/* One line from stdin without its newline; NULL on EOF or a too long one. */
static char *read_pin(void)
{
	char buf[128];
	if (!fgets(buf, sizeof(buf), stdin))
		return NULL;
	size_t n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == sizeof(buf) - 1)
		return NULL;
	buf[n] = '\0';
	char *pin = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return pin;
}

static void print_items(struct json_object *items, bool failures_only)
{
	const char *const headers[] = { "ITEM", "KIND", "STATE", "TITLE / REASON", "DUE" };
	struct table *t = table_new(5, headers);
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		struct json_object *x = json_object_array_get_idx(items, i);
		const char *state = json_str(x, "state");
		if (failures_only && strcmp(state, "failed") != 0)
			continue;
		const char *reason = json_str(x, "reason"), *title = json_str(x, "title");
		_cleanup_free_ char *st = xasprintf("%s%s%s", state, *json_str(x, "step") ? ": " : "",
						    json_str(x, "step"));
		const char *text = strcmp(state, "ok") == 0 && *title ? title : reason;
		_cleanup_free_ char *what = xasprintf("%s%s", text,
						      json_object_object_get_ex(x, "provisional", NULL)
						      ? " (provisional: offline)" : "");
		const char *cells[] = { json_str(x, "item_id"), json_str(x, "kind"), st, what,
					json_str(x, "due_date") };
		table_add_row(t, cells);
	}
	if (table_rows(t))
		table_print(t, stdout, "  ");
	table_free(t);
}

static void print_status(struct json_object *a)
{
	struct json_object *patron = NULL, *blocks;
	json_object_object_get_ex(a, "patron", &patron);
	const char *state = json_str(a, "state");
	_cleanup_free_ char *who = xasprintf("%s%s%s%s", json_str(patron, "id"),
					     *json_str(patron, "name") ? " (" : "", json_str(patron, "name"),
					     *json_str(patron, "name") ? ")" : "");
	_cleanup_free_ char *fines = xasprintf("%s%s%s", json_str(patron, "fee_amount"),
					       *json_str(patron, "currency") ? " " : "",
					       json_str(patron, "currency"));
	_cleanup_free_ char *out = patron && json_object_object_get_ex(patron, "charged", NULL)
		? xasprintf("%lld", (long long)json_int(patron, "charged")) : xstrdup("");
	_cleanup_free_ char *block = xstrdup("");
	if (patron && json_object_object_get_ex(patron, "blocks", &blocks) &&
	    json_object_array_length(blocks)) {
		free(block);
		block = xstrdup(json_object_get_string(json_object_array_get_idx(blocks, 0)));
	}
	bool offline = json_object_object_get_ex(a, "offline", NULL) &&
		       json_object_get_boolean(json_object_object_get(a, "offline"));
	const char *const rows[][2] = {
		{ "station", json_str(a, "station") },
		{ "state", state },
		{ "patron", who },
		{ "items out", out },
		{ "fines", fines },
		{ "blocked", block },
		{ "reason", json_str(a, "reason") },
		{ "offline", offline ? "yes: loans are provisional" : "no" },
	};
	kv_print(stdout, "", rows, strcmp(state, "idle") == 0 ? 2 : ARRAY_SIZE(rows));
	print_items(json_array(a, "items"), false);
}

static void print_receipt(struct json_object *a)
{
	printf("%s, %s\n", json_str(a, "site"), json_str(a, "time"));
	printf("Patron %s%s%s%s\n", json_str(a, "patron"), *json_str(a, "patron_name") ? " (" : "",
	       json_str(a, "patron_name"), *json_str(a, "patron_name") ? ")" : "");
	struct json_object *items = json_array(a, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		struct json_object *x = json_object_array_get_idx(items, i);
		printf("  %-14s %-40s due %s%s%s\n", json_str(x, "item_id"), json_str(x, "title"),
		       *json_str(x, "due_date") ? json_str(x, "due_date") : "-",
		       strcmp(json_str(x, "kind"), "renew") == 0 ? " (renewed)" : "",
		       json_object_object_get_ex(x, "provisional", NULL) ? " (provisional)" : "");
	}
	struct json_object *failed = json_array(a, "failed");
	for (size_t i = 0; failed && i < json_object_array_length(failed); i++) {
		struct json_object *x = json_object_array_get_idx(failed, i);
		printf("  not lent: %s: %s\n", json_str(x, "item_id"), json_str(x, "reason"));
	}
	struct json_object *pending = json_array(a, "pending");
	for (size_t i = 0; pending && i < json_object_array_length(pending); i++) {
		struct json_object *x = json_object_array_get_idx(pending, i);
		printf("  not confirmed: %s: %s\n", json_str(x, "item_id"), json_str(x, "reason"));
	}
}

int cmd_selfcheck(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "patron", required_argument, NULL, 'p' },
		{ "card", no_argument, NULL, 'C' },
		{ "pin-stdin", no_argument, NULL, 'P' },
		{},
	};
	const char *patron = NULL;
	bool card = false, pin_stdin = false;
	int opt, r = -1;
	while (r < 0 && (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT "p:", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			patron = optarg;
			break;
		case 'C':
			card = true;
			break;
		case 'P':
			pin_stdin = true;
			break;
		default:
			if (!circctl_common_option(ctx, argv[0], opt, &r))
				r = circctl_usage_error(argv[0], "unexpected option");
			break;
		}
	}
	if (r >= 0)
		return r;
	if (argc - optind < 2)
		return circctl_usage_error(argv[0], "usage: circctl selfcheck NAME OP [ITEM]");
	const char *station = argv[optind], *op = argv[optind + 1];
	const char *arg = argc - optind > 2 ? argv[optind + 2] : NULL;
	bool takes_item = strcmp(op, "checkout") == 0 || strcmp(op, "renew") == 0;
	if (argc - optind > (takes_item ? 3 : 2))
		return circctl_usage_error(argv[0], "unexpected argument '%s'",
					   argv[optind + (takes_item ? 3 : 2)]);
	if (takes_item && !arg)
		return circctl_usage_error(argv[0], "%s needs an ITEM", op);
	if (strcmp(op, "begin") != 0 && (patron || card || pin_stdin))
		return circctl_usage_error(argv[0], "--patron, --card and --pin-stdin go with begin");
	if (strcmp(op, "begin") == 0 && !!patron == card)
		return circctl_usage_error(argv[0], "begin needs --patron ID or --card");

	struct json_object *req = station_request(station, op);
	if (takes_item)
		json_object_object_add(req, "item", json_object_new_string(arg));
	if (patron)
		json_object_object_add(req, "patron", json_object_new_string(patron));
	if (card)
		json_object_object_add(req, "card", json_object_new_boolean(true));
	if (pin_stdin) {
		char *pin = read_pin();
		if (!pin) {
			json_object_put(req);
			return circctl_usage_error(argv[0], "--pin-stdin: no PIN on standard input");
		}
		json_object_object_add(req, "pin", json_object_new_string(pin));
		explicit_bzero(pin, strlen(pin));
		free(pin);
	}
	struct json_object *answer = NULL;
	r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json) {
		json_print_pretty(stdout, answer);
	} else if (strcmp(op, "end") == 0 || strcmp(op, "receipt") == 0) {
		print_receipt(answer);
	} else if (takes_item) {
		struct json_object *one = json_object_new_array();
		json_object_array_add(one, json_object_get(answer));
		print_items(one, false);
		json_object_put(one);
	} else {
		print_status(answer);
	}
	json_object_put(answer);
	return EXIT_OK;
}
