/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl item BARCODE [--refresh] [--upstream NAME] [--wait SECONDS]`:
 * what circd's items table knows about one item, in words staff read
 * (SIP2 circulation status and security marker codes spelled out).
 *
 * --refresh: {"cmd":"item","refresh":true} makes circd queue an item
 * information lookup (SIP2 17) at the upstream; the answer arrives
 * asynchronously, so we poll {"cmd":"item"} on the same connection until
 * the row's "updated" changes, or the wait is over.  A lookup that fails
 * (the ILS is down or does not know the item) changes nothing in the row,
 * which is why running out of time is reported as "no answer in time", not
 * as "unknown item" -- unless circd says so in "last_lookup" (optional:
 * {"time", "status", "message"}; see tools/control-commands.md).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "tools/circctl.h"
#include "util/util.h"

#define DEFAULT_WAIT_SEC 10.0
#define MAX_WAIT_SEC 600.0
#define POLL_INTERVAL_MSEC 200

/* SIP2 2.00 "Item Information Response": circulation status. */
static const char *const circulation_status_words[] = {
	[1] = "other",
	[2] = "on order",
	[3] = "available",
	[4] = "charged",
	[5] = "charged, not to be recalled until the earliest recall date",
	[6] = "in process",
	[7] = "recalled",
	[8] = "waiting on hold shelf",
	[9] = "waiting to be reshelved",
	[10] = "in transit",
	[11] = "claimed returned",
	[12] = "lost",
	[13] = "missing",
};

/* Same message: security marker. */
static const char *const security_marker_words[] = {
	[0] = "other",
	[1] = "none",
	[2] = "3M Tattle-Tape",
	[3] = "3M Whisper Tape",
};

/* "04" -> "charged (04)"; an unknown code is shown as it came. */
static char *code_in_words(const char *code, const char *const *words, size_t n_words)
{
	if (!*code)
		return xstrdup("");
	char *end;
	errno = 0;
	long v = strtol(code, &end, 10);
	if (errno || *end || end == code || v < 0 || (size_t)v >= n_words || !words[v])
		return xstrdup(code);
	return xasprintf("%s (%s)", words[v], code);
}

/* A SIP2 date "YYYYMMDDZZZZHHMMSS" as "YYYY-MM-DD HH:MM" (+ " UTC" for a
 * "   Z" zone); AH is free text on some ILSs (Koha): anything else as is. */
static char *sip2_date_words(const char *s)
{
	if (strlen(s) != 18)
		return xstrdup(s);
	for (int i = 0; i < 18; i++) {
		bool digit = s[i] >= '0' && s[i] <= '9';
		if ((i < 8 || i >= 12) ? !digit : !(s[i] == ' ' || (i == 11 && s[i] == 'Z')))
			return xstrdup(s);
	}
	return xasprintf("%.4s-%.2s-%.2s %.2s:%.2s%s", s, s + 4, s + 6, s + 12, s + 14,
			 s[11] == 'Z' ? " UTC" : "");
}

static void print_item(const char *barcode, struct json_object *item)
{
	if (!item) {
		printf("Item %s is not known here.\n", barcode);
		return;
	}
	_cleanup_free_ char *status = code_in_words(json_str(item, "circulation_status"),
						    circulation_status_words,
						    ARRAY_SIZE(circulation_status_words));
	_cleanup_free_ char *security = code_in_words(json_str(item, "security"),
						      security_marker_words,
						      ARRAY_SIZE(security_marker_words));
	_cleanup_free_ char *due = sip2_date_words(json_str(item, "due_date"));
	const char *where = json_str(item, "last_seen_where"), *when = json_str(item, "last_seen");
	_cleanup_free_ char *seen = xasprintf("%s%s%s", where, *where && *when ? ", " : "", when);
	const char *const rows[][2] = {
		{ "item", json_str(item, "item_id") },
		{ "status", status },
		{ "security", security },
		{ "title", json_str(item, "title") },
		{ "call number", json_str(item, "call_number") },
		{ "home location", json_str(item, "home_location") },
		{ "due date", due },
		{ "last seen", seen },
		{ "updated", json_str(item, "updated") },
	};
	kv_print(stdout, "", rows, ARRAY_SIZE(rows));
}

static struct json_object *item_request(const char *barcode)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("item"));
	json_object_object_add(req, "item", json_object_new_string(barcode));
	return req;
}

static struct json_object *item_of(struct json_object *answer)
{
	struct json_object *v;
	if (!json_object_object_get_ex(answer, "item", &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* What identifies one state of the row: its "updated" ("" = no row). */
static char *row_version(struct json_object *answer)
{
	return xstrdup(json_str(item_of(answer), "updated"));
}

static char *lookup_version(struct json_object *answer)
{
	struct json_object *l;
	if (!json_object_object_get_ex(answer, "last_lookup", &l) || !l)
		return xstrdup("");
	return xasprintf("%s/%s", json_str(l, "time"), json_str(l, "status"));
}

enum refresh_outcome {
	REFRESHED,
	LOOKUP_FAILED, /* circd says the lookup came back without the item */
	TIMED_OUT,
};

/* Polls until the row or circd's last_lookup changes; *answer is the last
 * answer.  Returns EXIT_* for a failed exchange, else sets *outcome. */
static int wait_for_answer(struct circctl *ctx, const char *barcode, double wait_sec,
			   struct json_object **answer, enum refresh_outcome *outcome)
{
	_cleanup_free_ char *row0 = row_version(*answer);
	_cleanup_free_ char *lookup0 = lookup_version(*answer);
	uint64_t deadline = now_monotonic_usec() + (uint64_t)(wait_sec * (double)USEC_PER_SEC);

	for (;;) {
		uint64_t now = now_monotonic_usec();
		if (now >= deadline) {
			*outcome = TIMED_OUT;
			return EXIT_OK;
		}
		uint64_t nap = deadline - now;
		if (nap > POLL_INTERVAL_MSEC * USEC_PER_MSEC)
			nap = POLL_INTERVAL_MSEC * USEC_PER_MSEC;
		struct timespec ts = { .tv_sec = (time_t)(nap / USEC_PER_SEC),
				       .tv_nsec = (long)(nap % USEC_PER_SEC * 1000) };
		nanosleep(&ts, NULL);

		struct json_object *next = NULL;
		int r = circctl_call(ctx, item_request(barcode), &next);
		if (r != EXIT_OK)
			return r;
		json_object_put(*answer);
		*answer = next;
		_cleanup_free_ char *row = row_version(next);
		if (strcmp(row, row0) != 0) {
			*outcome = REFRESHED;
			return EXIT_OK;
		}
		_cleanup_free_ char *lookup = lookup_version(next);
		if (strcmp(lookup, lookup0) != 0) {
			struct json_object *l = NULL;
			json_object_object_get_ex(next, "last_lookup", &l);
			*outcome = strcmp(json_str(l, "status"), "ok") == 0 ? REFRESHED : LOOKUP_FAILED;
			return EXIT_OK;
		}
	}
}

static int parse_wait(const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > MAX_WAIT_SEC)
		return circctl_usage_error("item", "invalid --wait '%s' (seconds, 0 to %.0f)", arg,
					   MAX_WAIT_SEC);
	*out = v;
	return EXIT_OK;
}

int cmd_item(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "refresh", no_argument, NULL, 'r' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "wait", required_argument, NULL, 'w' },
		{}
	};
	const char *upstream = NULL;
	bool refresh = false;
	double wait_sec = DEFAULT_WAIT_SEC;
	int opt, r = -1;

	while (r < 0 && (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT "ru:w:", options,
					   NULL)) != -1) {
		switch (opt) {
		case 'r':
			refresh = true;
			break;
		case 'u':
			if (!*optarg)
				return circctl_usage_error(argv[0], "empty --upstream name");
			upstream = optarg;
			refresh = true;
			break;
		case 'w':
			r = circctl_continue(parse_wait(optarg, &wait_sec));
			refresh = true;
			break;
		default:
			if (!circctl_common_option(ctx, argv[0], opt, &r))
				r = circctl_usage_error(argv[0], "unexpected option");
		}
	}
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return circctl_usage_error(argv[0], "item needs exactly one barcode");
	const char *barcode = argv[optind];
	if (!*barcode)
		return circctl_usage_error(argv[0], "empty barcode");

	struct json_object *req = item_request(barcode);
	if (refresh) {
		json_object_object_add(req, "refresh", json_object_new_boolean(true));
		if (upstream)
			json_object_object_add(req, "upstream", json_object_new_string(upstream));
	}
	struct json_object *answer = NULL;
	r = circctl_call(ctx, req, &answer);
	if (r != EXIT_OK)
		return r;

	enum refresh_outcome outcome = REFRESHED;
	if (refresh) {
		const char *queued = json_str(answer, "refresh");
		if (strcmp(queued, "queued") != 0) {
			if (strcmp(queued, "no such upstream") == 0 && upstream)
				fprintf(stderr, "circctl: circd has no upstream named '%s'\n", upstream);
			else if (strcmp(queued, "no such upstream") == 0)
				fprintf(stderr, "circctl: circd has no upstream to ask\n");
			else
				fprintf(stderr, "circctl: circd did not queue the lookup%s%s\n",
					*queued ? ": " : " (does it know --refresh?)", queued);
			json_object_put(answer);
			return EXIT_DAEMON_ERROR;
		}
		if (wait_sec > 0) {
			r = wait_for_answer(ctx, barcode, wait_sec, &answer, &outcome);
			if (r != EXIT_OK) {
				json_object_put(answer);
				return r;
			}
		}
	}

	if (ctx->json)
		json_print_pretty(stdout, answer);
	else
		print_item(barcode, item_of(answer));

	r = EXIT_OK;
	if (refresh && wait_sec <= 0) {
		if (!ctx->json)
			printf("Lookup queued; run `circctl item %s` again for the answer.\n", barcode);
	} else if (refresh && outcome == TIMED_OUT) {
		fprintf(stderr,
			"circctl: the library system did not answer about %s within %g s "
			"(it may be down or slow, or not know the item: see `circctl status` "
			"and circd's log); shown is what was known here before\n",
			barcode, wait_sec);
		r = EXIT_DAEMON_ERROR;
	} else if (refresh && outcome == LOOKUP_FAILED) {
		struct json_object *l = NULL;
		json_object_object_get_ex(answer, "last_lookup", &l);
		const char *message = json_str(l, "message");
		fprintf(stderr, "circctl: the lookup of %s failed: %s\n", barcode,
			*message ? message : json_str(l, "status"));
		r = EXIT_DAEMON_ERROR;
	}
	json_object_put(answer);
	return r;
}
