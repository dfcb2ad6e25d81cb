/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl report --html FILE`: asks circd for the stations' figures
 * ("report-data", daemon/ctl_report.c) and writes them as one
 * self-contained HTML page (drawn by report-html.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

enum {
	OPT_SINCE = 1000,
	OPT_UNTIL,
	OPT_BY,
	OPT_TITLE,
	OPT_UTC,
	OPT_HTML,
};

static int write_report(const char *path, struct json_object *data, const char *title)
{
	struct output o;
	FILE *f = output_open(&o, path);
	if (!f)
		return EXIT_DAEMON_ERROR;
	report_html_write(f, data, title);
	return output_close(&o);
}

int cmd_report(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "html", required_argument, NULL, OPT_HTML },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "by", required_argument, NULL, OPT_BY },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "utc", no_argument, NULL, OPT_UTC },
		{}
	};
	struct json_object *req = json_object_new_object();
	const char *html = NULL, *title = "Circulation report", *by = "auto";
	bool since_given = false, until_given = false;
	int opt, r = -1;

	json_object_object_add(req, "cmd", json_object_new_string("report-data"));
	while (r < 0 && (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT, options, NULL)) != -1) {
		switch (opt) {
		case OPT_HTML:
			html = optarg;
			break;
		case OPT_SINCE:
			since_given = true;
			r = circctl_continue(circctl_add_time(req, argv[0], "since", optarg));
			break;
		case OPT_UNTIL:
			until_given = true;
			r = circctl_continue(circctl_add_time(req, argv[0], "until", optarg));
			break;
		case OPT_BY:
			by = optarg;
			break;
		case OPT_TITLE:
			title = optarg;
			break;
		case OPT_UTC:
			json_object_object_add(req, "utc", json_object_new_boolean(true));
			break;
		default:
			if (!circctl_common_option(ctx, argv[0], opt, &r))
				r = circctl_usage_error(argv[0], "unexpected option");
		}
	}
	if (r < 0 && optind < argc)
		r = circctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (r < 0 && strcmp(by, "hour") != 0 && strcmp(by, "day") != 0 && strcmp(by, "auto") != 0)
		r = circctl_usage_error(argv[0], "invalid --by '%s' (hour, day or auto)", by);
	if (r < 0 && !html && !ctx->json)
		r = circctl_usage_error(argv[0], "--html FILE is required (or --json for the numbers)");
	if (r < 0 && html && !*html)
		r = circctl_usage_error(argv[0], "empty --html path");
	/* The default period: the last 24 hours. */
	if (r < 0 && !until_given)
		r = circctl_continue(circctl_add_time(req, argv[0], "until", "now"));
	if (r < 0 && !since_given)
		r = circctl_continue(circctl_add_time(req, argv[0], "since", "-24h"));
	if (r >= 0) {
		json_object_put(req);
		return r;
	}
	json_object_object_add(req, "by", json_object_new_string(by));

	struct json_object *answer = NULL;
	r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;
	if (ctx->json && !html) {
		json_print_pretty(stdout, answer);
		json_object_put(answer);
		return EXIT_OK;
	}
	r = write_report(html, answer, title);
	if (r == EXIT_OK && strcmp(html, "-") != 0 && !ctx->json)
		printf("Report written to %s\n", html);
	json_object_put(answer);
	return r;
}
