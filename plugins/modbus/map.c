/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map.c — the register map file parser (grammar in map.h).  Strict: any
 * word it does not understand is an error with file:line, so that a typo
 * in a threshold never silently turns into "no threshold".
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <circd/event.h>

#include "map.h"

#define MAP_LINE_MAX 512
#define MAP_POINTS_MAX 1024
#define MAP_WORDS_MAX 16

static const char *const table_names[MB_TABLES] = {
	[MB_DISCRETE] = "discrete",
	[MB_COIL] = "coil",
	[MB_INPUT_REG] = "input_reg",
	[MB_HOLDING] = "holding",
};

const char *mb_table_name(enum mb_table t)
{
	return (unsigned)t < MB_TABLES ? table_names[t] : "?";
}

struct parser {
	const char *path;
	unsigned line;
	char *err;
	size_t err_size;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = p->line ? snprintf(p->err, p->err_size, "%s:%u: ", p->path, p->line)
			: snprintf(p->err, p->err_size, "%s: ", p->path);

	if (n < 0 || (size_t)n >= p->err_size)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_double(struct parser *p, const char *key, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*out))
		return fail(p, "%s: '%s' is not a number", key, s);
	return 0;
}

static int parse_table(struct parser *p, const char *s, enum mb_table *t)
{
	for (int i = 0; i < MB_TABLES; i++)
		if (strcmp(s, table_names[i]) == 0) {
			*t = (enum mb_table)i;
			return 0;
		}
	return fail(p, "unknown table '%s' (discrete, coil, input_reg, holding)", s);
}

static bool is_bit_table(enum mb_table t)
{
	return t == MB_DISCRETE || t == MB_COIL;
}

/* The options after KIND NAME TABLE ADDR. */
static int parse_options(struct parser *p, struct mb_point *pt, char **w, int n)
{
	bool have_high = false, have_low = false, have_target = false;
	int r;

	for (int i = 0; i < n; i++) {
		char *eq = strchr(w[i], '=');
		const char *val = eq ? eq + 1 : NULL;

		if (eq)
			*eq = '\0';
		if (pt->kind == MB_EVENT && strcmp(w[i], "->") == 0) {
			if (i + 1 >= n)
				return fail(p, "'->' needs an event: item-drop or gate-pass");
			i++;
			if (strcmp(w[i], "item-drop") == 0)
				pt->event_type = CIRCD_EV_ITEM_DROP;
			else if (strcmp(w[i], "gate-pass") == 0)
				pt->event_type = CIRCD_EV_GATE_PASS;
			else
				return fail(p, "unknown event '%s' (item-drop, gate-pass)", w[i]);
			have_target = true;
		} else if (pt->kind == MB_EVENT && !val &&
			   (strcmp(w[i], "rising") == 0 || strcmp(w[i], "falling") == 0 ||
			    strcmp(w[i], "edge") == 0)) {
			pt->edge = w[i][0] == 'r' ? MB_EDGE_RISING :
				   w[i][0] == 'f' ? MB_EDGE_FALLING : MB_EDGE_BOTH;
		} else if (pt->kind == MB_EVENT && val && strcmp(w[i], "dir") == 0) {
			if (strcmp(val, "in") == 0)
				pt->direction = CIRCD_DIR_IN;
			else if (strcmp(val, "out") == 0)
				pt->direction = CIRCD_DIR_OUT;
			else
				return fail(p, "dir: '%s' is not in or out", val);
		} else if ((pt->kind == MB_EVENT || pt->kind == MB_INPUT) && !val &&
			   strcmp(w[i], "invert") == 0) {
			pt->invert = true;
		} else if (pt->kind == MB_INPUT && !val && strcmp(w[i], "edge") == 0) {
			/* the default for inputs; accepted for readability */
		} else if (pt->kind == MB_SENSOR && !val && strcmp(w[i], "signed") == 0) {
			pt->is_signed = true;
		} else if (pt->kind == MB_SENSOR && val) {
			double d;
			r = parse_double(p, w[i], val, &d);
			if (r < 0)
				return r;
			if (strcmp(w[i], "scale") == 0) {
				pt->scale = d;
			} else if (strcmp(w[i], "offset") == 0) {
				pt->offset = d;
			} else if (strcmp(w[i], "high") == 0) {
				pt->high = d;
				have_high = true;
			} else if (strcmp(w[i], "low") == 0) {
				pt->low = d;
				have_low = true;
			} else if (strcmp(w[i], "min") == 0) {
				pt->min = d;
				pt->has_min = true;
			} else if (strcmp(w[i], "max") == 0) {
				pt->max = d;
				pt->has_max = true;
			} else if (strcmp(w[i], "delta") == 0) {
				if (d < 0)
					return fail(p, "delta must not be negative");
				pt->delta = d;
			} else {
				return fail(p, "unknown sensor option '%s'", w[i]);
			}
		} else if (pt->kind == MB_OUTPUT && !val && strcmp(w[i], "verify") == 0) {
			pt->verify = true;
		} else {
			return fail(p, "unexpected '%s'", w[i]);
		}
	}
	if (pt->kind == MB_EVENT && !have_target)
		return fail(p, "event %s: missing '-> item-drop' or '-> gate-pass'", pt->name);
	if (have_high != have_low)
		return fail(p, "sensor %s: high= and low= go together (hysteresis)", pt->name);
	if (have_high && pt->low > pt->high)
		return fail(p, "sensor %s: low=%g is above high=%g", pt->name, pt->low, pt->high);
	pt->has_thresholds = have_high;
	if (pt->has_min && pt->has_max && pt->min > pt->max)
		return fail(p, "sensor %s: min is above max", pt->name);
	return 0;
}

static int parse_line(struct parser *p, char *line, struct mb_point *pt)
{
	char *w[MAP_WORDS_MAX], *save = NULL;
	int n = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAP_WORDS_MAX)
			return fail(p, "too many words");
		w[n++] = t;
	}
	if (n < 4)
		return fail(p, "expected KIND NAME TABLE ADDRESS ...");

	*pt = (struct mb_point){ .line = p->line, .scale = 1.0 };
	if (strcmp(w[0], "input") == 0)
		pt->kind = MB_INPUT;
	else if (strcmp(w[0], "event") == 0)
		pt->kind = MB_EVENT;
	else if (strcmp(w[0], "sensor") == 0)
		pt->kind = MB_SENSOR;
	else if (strcmp(w[0], "output") == 0)
		pt->kind = MB_OUTPUT;
	else
		return fail(p, "unknown kind '%s' (input, event, sensor, output)", w[0]);

	if (strlen(w[1]) >= MB_NAME_MAX)
		return fail(p, "name too long");
	strcpy(pt->name, w[1]);

	int r = parse_table(p, w[2], &pt->table);
	if (r < 0)
		return r;
	if ((pt->kind == MB_INPUT || pt->kind == MB_EVENT) && !is_bit_table(pt->table))
		return fail(p, "%s %s: needs a bit table (discrete, coil)", w[0], pt->name);
	if (pt->kind == MB_SENSOR && is_bit_table(pt->table))
		return fail(p, "sensor %s: needs a register table (input_reg, holding)", pt->name);
	if (pt->kind == MB_OUTPUT && pt->table != MB_COIL && pt->table != MB_HOLDING)
		return fail(p, "output %s: only coil and holding are writable", pt->name);

	char *end;
	errno = 0;
	unsigned long addr = strtoul(w[3], &end, 0);
	if (errno || end == w[3] || *end || addr > 0xffff || w[3][0] == '-')
		return fail(p, "address '%s' is not 0..65535", w[3]);
	pt->addr = (uint16_t)addr;

	return parse_options(p, pt, w + 4, n - 4);
}

int mb_map_load(const char *path, struct mb_map *map, char *err, size_t err_size)
{
	struct parser p = { .path = path, .err = err, .err_size = err_size };
	char line[MAP_LINE_MAX];
	FILE *f;
	int r = 0;

	*map = (struct mb_map){ 0 };
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		fail(&p, "%s", strerror(errno));
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		p.line++;
		if (!strchr(line, '\n') && !feof(f)) {
			r = fail(&p, "line too long");
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (map->count == MAP_POINTS_MAX) {
			r = fail(&p, "more than %d points", MAP_POINTS_MAX);
			break;
		}
		struct mb_point pt;
		r = parse_line(&p, line, &pt);
		if (r < 0)
			break;
		for (size_t i = 0; i < map->count; i++)
			if (strcmp(map->points[i].name, pt.name) == 0) {
				r = fail(&p, "'%s' already defined at line %u", pt.name,
					 map->points[i].line);
				break;
			}
		if (r < 0)
			break;
		struct mb_point *np = realloc(map->points, (map->count + 1) * sizeof(*np));
		if (!np) {
			r = -ENOMEM;
			fail(&p, "out of memory");
			break;
		}
		map->points = np;
		map->points[map->count++] = pt;
	}
	if (r == 0 && ferror(f)) {
		r = -EIO;
		fail(&p, "read error");
	}
	fclose(f);
	if (r == 0 && map->count == 0) {
		p.line = 0;
		r = fail(&p, "no points");
	}
	if (r < 0)
		mb_map_free(map);
	return r;
}

void mb_map_free(struct mb_map *map)
{
	free(map->points);
	*map = (struct mb_map){ 0 };
}

struct mb_point *mb_map_output(const struct mb_map *map, const char *name)
{
	for (size_t i = 0; i < map->count; i++)
		if (map->points[i].kind == MB_OUTPUT && strcmp(map->points[i].name, name) == 0)
			return &map->points[i];
	return NULL;
}
