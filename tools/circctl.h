/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circctl's pieces: the connection to circd (circctl-conn.c), rendering
 * (circctl-format.c) and the subcommands (circctl-*.c), glued by circctl.c.
 */
#ifndef CIRCD_CIRCCTL_H
#define CIRCD_CIRCCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Exit codes, as documented in `circctl --help`.  `status` maps health
 * onto 0/1/2 instead (monitoring-plugin style), 3 stays "unreachable". */
enum {
	EXIT_OK = 0,
	EXIT_DAEMON_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

struct circctl_conn;

struct circctl {
	const char *socket_path;
	bool json;
	struct circctl_conn *conn;	/* opened by the first request */
};

/* ---- circctl-conn.c ---- */

/* Connects (first call only) and sends one request, reads one answer.
 * Returns EXIT_OK with *answer set (also when the answer has "ok": false),
 * or EXIT_UNREACHABLE after printing why to stderr. */
int circctl_exchange(struct circctl *ctx, struct json_object *request,
		     struct json_object **answer);
void circctl_disconnect(struct circctl *ctx);

/* circctl_exchange() plus the usual answer handling: an "ok": false answer
 * is reported (as JSON on stdout with --json, else on stderr) and gives
 * EXIT_DAEMON_ERROR.  Takes ownership of request. */
int circctl_call(struct circctl *ctx, struct json_object *request, struct json_object **answer);

/* ---- circctl-format.c ---- */

struct table;
struct table *table_new(unsigned n_columns, const char *const *headers);
/* Copies the n_columns strings; NULL prints as "-". */
void table_add_row(struct table *t, const char *const *cells);
size_t table_rows(const struct table *t);
void table_print(const struct table *t, FILE *out, const char *indent);
void table_free(struct table *t);

/* RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
void csv_write_field(FILE *out, const char *s);

void json_print_pretty(FILE *out, struct json_object *obj);

/* An output file written next to its target and renamed over it when
 * complete: a failed write leaves no half file and an existing one as it
 * was.  path NULL or "-" is standard output.  output_open() returns the
 * stream or NULL (with the reason printed); output_close() returns EXIT_OK
 * or EXIT_DAEMON_ERROR (with the reason printed). */
struct output {
	FILE *f;
	const char *path; /* NULL: standard output */
	char *tmp;
};
FILE *output_open(struct output *o, const char *path);
int output_close(struct output *o);

/* "  label    value" lines, labels padded to one width; an empty or NULL
 * value prints as "-", control characters as '?'. */
void kv_print(FILE *out, const char *indent, const char *const (*rows)[2], size_t n);

/* "3d 4h", "2h 05m", "4m 09s", "12s" */
void format_duration_sec(int64_t sec, char *out, size_t size);

/* Accepts ISO 8601 ("2026-11-28T18:00", optional seconds, fraction, "Z"
 * or "+01:00"), a date ("2026-11-28"), "now", or a relative time ("-2h",
 * "-30m", "-7d", "-45s", "-1w").  Relative ones and "now" become ISO 8601
 * UTC computed from now_usec; absolute ones are passed on as given (the
 * daemon decides their zone).  Returns 0 or -EINVAL. */
int time_arg_normalize(const char *arg, uint64_t now_usec, char **out);

/* String value of key for display: "" for missing or null. */
const char *json_str(struct json_object *obj, const char *key);
int64_t json_int(struct json_object *obj, const char *key);
struct json_object *json_array(struct json_object *obj, const char *key);

/* ---- report-html.c ---- */

/* The report page for circd's "report-data" answer d.  Any JSON is drawn
 * (missing or mistyped fields as zero or empty); every string in it is
 * escaped. */
void report_html_write(FILE *f, struct json_object *d, const char *title);

/* ---- subcommands: argv[0] is the command name ---- */

int cmd_status(struct circctl *ctx, int argc, char **argv);
int cmd_journal(struct circctl *ctx, int argc, char **argv);
int cmd_export(struct circctl *ctx, int argc, char **argv);
int cmd_stats(struct circctl *ctx, int argc, char **argv);
int cmd_sim(struct circctl *ctx, int argc, char **argv);
int cmd_exceptions(struct circctl *ctx, int argc, char **argv);
int cmd_reload(struct circctl *ctx, int argc, char **argv);
int cmd_metrics(struct circctl *ctx, int argc, char **argv);
int cmd_item(struct circctl *ctx, int argc, char **argv);
int cmd_upstream(struct circctl *ctx, int argc, char **argv);
int cmd_shelf(struct circctl *ctx, int argc, char **argv);
int cmd_selfcheck(struct circctl *ctx, int argc, char **argv);
int cmd_report(struct circctl *ctx, int argc, char **argv);
int cmd_gate(struct circctl *ctx, int argc, char **argv);
int cmd_station(struct circctl *ctx, int argc, char **argv);

/* ---- option parsing shared by the subcommands (circctl.c) ---- */

#define CIRCCTL_COMMON_SHORT "hjs:"
#define CIRCCTL_COMMON_LONG                                             \
	{ "help", no_argument, NULL, 'h' },                             \
	{ "json", no_argument, NULL, 'j' },                             \
	{ "socket", required_argument, NULL, 's' }

/* Handles -h/-j/-s and getopt's '?' for a subcommand.  Returns false when
 * opt is none of them.  Sets *exit_code when the caller must return now
 * (help printed: EXIT_OK; unknown option: EXIT_USAGE). */
bool circctl_common_option(struct circctl *ctx, const char *command, int opt, int *exit_code);
/* In option loops, r < 0 means "go on parsing": EXIT_OK from a helper
 * that checked one option becomes -1, a usage error stays. */
static inline int circctl_continue(int code)
{
	return code == EXIT_OK ? -1 : code;
}

/* Prints "circctl: <msg>" and the hint to --help; returns EXIT_USAGE. */
int circctl_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Parses a --since/--until value into a request key (usage error on bad input). */
int circctl_add_time(struct json_object *req, const char *command, const char *key,
		     const char *arg);

#endif
