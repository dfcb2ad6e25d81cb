/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How circctl shows things: aligned tables for people, RFC 4180 CSV and
 * JSON for programs, and the time arguments people type.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/circctl.h"
#include "util/util.h"

struct table {
	unsigned n_columns;
	char **cells; /* row-major, the header row first */
	size_t n_rows; /* including the header */
};

struct table *table_new(unsigned n_columns, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));
	t->n_columns = n_columns;
	table_add_row(t, headers);
	return t;
}

void table_add_row(struct table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->n_rows + 1) * t->n_columns * sizeof(char *));
	for (unsigned i = 0; i < t->n_columns; i++) {
		const char *s = cells[i] && *cells[i] ? cells[i] : "-";
		t->cells[t->n_rows * t->n_columns + i] = xstrdup(s);
	}
	t->n_rows++;
}

size_t table_rows(const struct table *t)
{
	return t->n_rows - 1;
}

/* Columns line up by characters, not bytes: station names and titles are
 * often not ASCII ("Ørestad").  Counting UTF-8 lead bytes is enough here;
 * wide (CJK) characters would still be off by their extra cell. */
static size_t display_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* Control characters from the daemon (a reader's raw data in a reason)
 * must not reach the terminal. */
static void print_cell(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(iscntrl((unsigned char)*s) ? '?' : *s, out);
}

void table_print(const struct table *t, FILE *out, const char *indent)
{
	_cleanup_free_ size_t *width = xcalloc(t->n_columns, sizeof(size_t));

	for (size_t r = 0; r < t->n_rows; r++)
		for (unsigned c = 0; c < t->n_columns; c++) {
			size_t w = display_width(t->cells[r * t->n_columns + c]);
			if (w > width[c])
				width[c] = w;
		}

	for (size_t r = 0; r < t->n_rows; r++) {
		fputs(indent, out);
		for (unsigned c = 0; c < t->n_columns; c++) {
			const char *s = t->cells[r * t->n_columns + c];
			print_cell(out, s);
			if (c + 1 < t->n_columns)
				fprintf(out, "%*s", (int)(width[c] - display_width(s) + 2), "");
		}
		fputc('\n', out);
	}
}

void kv_print(FILE *out, const char *indent, const char *const (*rows)[2], size_t n)
{
	size_t width = 0;
	for (size_t i = 0; i < n; i++)
		if (display_width(rows[i][0]) > width)
			width = display_width(rows[i][0]);
	for (size_t i = 0; i < n; i++) {
		const char *v = rows[i][1] && *rows[i][1] ? rows[i][1] : "-";
		fputs(indent, out);
		print_cell(out, rows[i][0]);
		fprintf(out, "%*s", (int)(width - display_width(rows[i][0]) + 2), "");
		print_cell(out, v);
		fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void csv_write_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void json_print_pretty(FILE *out, struct json_object *obj)
{
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE),
	      out);
	fputc('\n', out);
}

void format_duration_sec(int64_t sec, char *out, size_t size)
{
	if (sec < 0)
		sec = 0;
	int64_t d = sec / 86400, h = sec / 3600 % 24, m = sec / 60 % 60, s = sec % 60;
	if (d > 0)
		snprintf(out, size, "%" PRId64 "d %" PRId64 "h", d, h);
	else if (h > 0)
		snprintf(out, size, "%" PRId64 "h %02" PRId64 "m", h, m);
	else if (m > 0)
		snprintf(out, size, "%" PRId64 "m %02" PRId64 "s", m, s);
	else
		snprintf(out, size, "%" PRId64 "s", s);
}

/* Reads exactly n digits into *v. */
static bool read_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

static bool expect_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]][Z|(+|-)HH:MM]] */
static bool is_iso8601(const char *s)
{
	int y, mo, d, h, mi, sec;

	if (!read_digits(&s, 4, &y) || !expect_char(&s, '-') || !read_digits(&s, 2, &mo) ||
	    !expect_char(&s, '-') || !read_digits(&s, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	if (*s == '\0')
		return true;
	if (*s != 'T' && *s != ' ')
		return false;
	s++;
	if (!read_digits(&s, 2, &h) || !expect_char(&s, ':') || !read_digits(&s, 2, &mi))
		return false;
	if (h > 23 || mi > 59)
		return false;
	if (*s == ':') {
		s++;
		if (!read_digits(&s, 2, &sec) || sec > 60)
			return false;
		if (*s == '.' || *s == ',') {
			s++;
			if (!isdigit((unsigned char)*s))
				return false;
			while (isdigit((unsigned char)*s))
				s++;
		}
	}
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-') {
		int oh, om;
		s++;
		if (!read_digits(&s, 2, &oh) || !expect_char(&s, ':') || !read_digits(&s, 2, &om))
			return false;
	}
	return *s == '\0';
}

/* "-2h" -> 7200 s back.  Units: s, m, h, d, w. */
static int parse_relative_sec(const char *s, uint64_t *out)
{
	if (*s++ != '-' || !isdigit((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	uint64_t mult;
	if (strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else if (strcmp(end, "w") == 0)
		mult = 7 * 86400;
	else
		return -EINVAL;
	/* Anything before 1970 is a typo, not a query. */
	if (n > UINT64_MAX / mult / USEC_PER_SEC)
		return -EINVAL;
	*out = n * mult;
	return 0;
}

int time_arg_normalize(const char *arg, uint64_t now_usec, char **out)
{
	uint64_t back_sec = 0;
	char buf[40];

	if (is_iso8601(arg)) {
		*out = xstrdup(arg);
		return 0;
	}
	if (strcmp(arg, "now") != 0 && parse_relative_sec(arg, &back_sec) < 0)
		return -EINVAL;
	if (back_sec * USEC_PER_SEC > now_usec)
		return -EINVAL;
	format_iso8601(now_usec - back_sec * USEC_PER_SEC, buf, sizeof(buf));
	*out = xstrdup(buf);
	return 0;
}

const char *json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;
	if (!obj || !json_object_object_get_ex(obj, key, &v) || !v)
		return "";
	const char *s = json_object_get_string(v);
	return s ? s : "";
}

int64_t json_int(struct json_object *obj, const char *key)
{
	struct json_object *v;
	if (!obj || !json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	return json_object_get_int64(v);
}

struct json_object *json_array(struct json_object *obj, const char *key)
{
	struct json_object *v;
	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* ---- output files ---- */

FILE *output_open(struct output *o, const char *path)
{
	*o = (struct output){ .f = stdout };
	if (!path || strcmp(path, "-") == 0)
		return o->f;
	o->path = path;
	o->tmp = xasprintf("%s.XXXXXX", path);
	int fd = mkstemp(o->tmp);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "circctl: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->tmp);
		o->tmp = NULL;
		return NULL;
	}
	(void)fchmod(fd, 0644);
	o->f = f;
	return f;
}

int output_close(struct output *o)
{
	if (!o->path)
		return fflush(o->f) == 0 ? EXIT_OK : EXIT_DAEMON_ERROR;
	int failed = ferror(o->f);
	int r = EXIT_OK;
	if (fclose(o->f) != 0 || failed || rename(o->tmp, o->path) < 0) {
		fprintf(stderr, "circctl: writing %s failed: %s\n", o->path, strerror(errno));
		unlink(o->tmp);
		r = EXIT_DAEMON_ERROR;
	}
	free(o->tmp);
	*o = (struct output){ 0 };
	return r;
}
