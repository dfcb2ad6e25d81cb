/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shelf_model.h"
#include "util/util.h"

#define SHELF_SPEC_MAX 4096

/* ---- call numbers ---- */

/* Element kinds in filing order: "nothing before something", a break
 * (space, punctuation) before a decimal continuation, numbers before
 * letters. */
enum elem_kind {
	ELEM_END = 0,
	ELEM_BREAK,
	ELEM_FRACTION, /* digits after a decimal point, or a cutter's digits */
	ELEM_NUMBER,   /* a whole number */
	ELEM_LETTERS,
};

struct elem {
	enum elem_kind kind;
	const char *s; /* NUMBER: leading zeros skipped; FRACTION: trailing zeros cut */
	size_t len;
};

struct elem_iter {
	const char *p;
	size_t n_elems;       /* produced so far, breaks included */
	enum elem_kind prev;  /* kind of the previous element */
	bool prev_is_class;   /* the previous letters were the first element (LC class) */
	bool pending_break;
};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ASCII letters and every byte of a UTF-8 sequence file as letters. */
static bool is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static struct elem next_elem(struct elem_iter *it)
{
	struct elem e = { ELEM_END, NULL, 0 };
	const unsigned char *p = (const unsigned char *)it->p;
	bool fraction = false;

	/* separators: anything but letters, digits and a point before a digit */
	while (*p && !is_digit(*p) && !is_letter(*p)) {
		if (*p == '.' && is_digit(p[1])) {
			fraction = true;
			p++;
			break;
		}
		if (it->n_elems)
			it->pending_break = true;
		p++;
	}
	if (!*p) {
		it->p = (const char *)p;
		return e; /* trailing separators make no break */
	}
	/* LC: "QA 76" is "QA76": no break between the class letters and
	 * their number */
	if (it->pending_break && it->prev_is_class && !fraction && is_digit(*p))
		it->pending_break = false;
	if (it->pending_break) {
		it->pending_break = false;
		it->prev = ELEM_BREAK;
		it->prev_is_class = false;
		it->n_elems++;
		it->p = (const char *)(fraction ? p - 1 : p);
		return (struct elem){ ELEM_BREAK, NULL, 0 };
	}
	const unsigned char *start = p;
	if (is_digit(*p)) {
		while (is_digit(*p))
			p++;
		/* digits right after letters that are not the class (a cutter
		 * such as "C15") are a decimal fraction too */
		if (!fraction && it->prev == ELEM_LETTERS && !it->prev_is_class)
			fraction = true;
		e.kind = fraction ? ELEM_FRACTION : ELEM_NUMBER;
		e.s = (const char *)start;
		e.len = (size_t)(p - start);
		if (e.kind == ELEM_NUMBER)
			while (e.len > 1 && e.s[0] == '0')
				e.s++, e.len--;
		else
			while (e.len > 0 && e.s[e.len - 1] == '0')
				e.len--;
		it->prev_is_class = false;
	} else {
		while (is_letter(*p))
			p++;
		e.kind = ELEM_LETTERS;
		e.s = (const char *)start;
		e.len = (size_t)(p - start);
		it->prev_is_class = it->n_elems == 0;
	}
	it->prev = e.kind;
	it->n_elems++;
	it->p = (const char *)p;
	return e;
}

static int cmp_len(size_t a, size_t b)
{
	return a < b ? -1 : a > b;
}

static int letters_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = lower((unsigned char)a[i]), y = lower((unsigned char)b[i]);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return cmp_len(alen, blen);
}

static int elem_cmp(const struct elem *a, const struct elem *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	switch (a->kind) {
	case ELEM_END:
	case ELEM_BREAK:
		return 0;
	case ELEM_NUMBER:
		/* no leading zeros: the longer is the bigger */
		if (a->len != b->len)
			return cmp_len(a->len, b->len);
		return letters_cmp(a->s, a->len, b->s, b->len);
	case ELEM_FRACTION:
	case ELEM_LETTERS:
		/* digit strings of a fraction compare as text: .15 < .2 */
		return letters_cmp(a->s, a->len, b->s, b->len);
	}
	return 0;
}

int callno_compare(const char *a, const char *b)
{
	struct elem_iter ia = { .p = a ? a : "" }, ib = { .p = b ? b : "" };
	for (;;) {
		struct elem x = next_elem(&ia), y = next_elem(&ib);
		int r = elem_cmp(&x, &y);
		if (r || x.kind == ELEM_END)
			return r;
	}
}

bool callno_has_prefix(const char *c, const char *prefix)
{
	struct elem_iter ic = { .p = c ? c : "" }, ip = { .p = prefix ? prefix : "" };
	struct elem p = next_elem(&ip);
	if (p.kind == ELEM_END)
		return false;
	for (;;) {
		struct elem x = next_elem(&ic);
		struct elem following = next_elem(&ip);
		if (following.kind != ELEM_END) {
			if (elem_cmp(&x, &p) != 0)
				return false;
			p = following;
			continue;
		}
		/* the prefix's last element */
		if (x.kind != p.kind)
			return false;
		if (p.kind == ELEM_NUMBER || x.len < p.len)
			return elem_cmp(&x, &p) == 0;
		return letters_cmp(x.s, p.len, p.s, p.len) == 0;
	}
}

bool callno_in_range(const char *c, const struct callno_range *r)
{
	if (callno_compare(c, r->from) < 0)
		return false;
	return callno_compare(c, r->to) <= 0 || callno_has_prefix(c, r->to);
}

/* ---- one shelf ---- */

static bool has_elements(const char *s)
{
	struct elem_iter it = { .p = s };
	return next_elem(&it).kind != ELEM_END;
}

/* The next word: runs of non-blanks, with "..." quoting (\" and \\ escape
 * inside).  1 with *out (malloc'd), 0 at the end, -EINVAL on an open quote. */
static int next_word(const char **pp, char **out, char **error)
{
	const char *p = *pp;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p) {
		*pp = p;
		return 0;
	}
	size_t cap = strlen(p) + 1, n = 0;
	char *w = xcalloc(cap, 1);
	while (*p && *p != ' ' && *p != '\t') {
		if (*p != '"') {
			w[n++] = *p++;
			continue;
		}
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			w[n++] = *p++;
		}
		if (*p != '"') {
			free(w);
			return error_set(error, -EINVAL, "a quote is not closed");
		}
		p++;
	}
	w[n] = '\0';
	*pp = p;
	*out = w;
	return 1;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SHELF_ID_MAX)
		return false;
	for (const char *c = s; *c; c++)
		if (!(is_digit((unsigned char)*c) || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      *c == '.' || *c == '_' || *c == '-'))
			return false;
	return true;
}

static int parse_antenna(struct shelf_def *s, char *v, char **error)
{
	char *end;
	errno = 0;
	long a = strtol(v, &end, 10);
	if (!is_digit((unsigned char)v[0]) || *end || errno || a < 0 || a > 255)
		return error_set(error, -EINVAL, "antenna '%s' is not a number 0-255", v);
	for (size_t i = 0; i < s->n_antennas; i++)
		if (s->antennas[i] == a)
			return error_set(error, -EINVAL, "antenna %ld is listed twice", a);
	if (s->n_antennas == SHELF_ANTENNAS_MAX)
		return error_set(error, -EINVAL, "more than %d antennas", SHELF_ANTENNAS_MAX);
	s->antennas[s->n_antennas++] = (int32_t)a;
	return 0;
}

static int parse_range(struct shelf_def *s, char *v, char **error)
{
	char *from = v, *to = NULL, *sep = strstr(v, "..");
	if (sep) {
		*sep = '\0';
		to = sep + 2;
	} else if ((sep = strchr(v, '-'))) {
		if (strchr(sep + 1, '-'))
			return error_set(error, -EINVAL,
					 "call range '%s' has more than one '-': write FROM..TO", v);
		*sep = '\0';
		to = sep + 1;
	}
	from = trim(from);
	to = to ? trim(to) : from;
	if (!*from || !*to)
		return error_set(error, -EINVAL, "call range '%s%s%s' needs both ends", from,
				 sep ? ".." : "", sep ? to : "");
	if (!has_elements(from) || !has_elements(to))
		return error_set(error, -EINVAL, "'%s' is not a call number", has_elements(from) ? to : from);
	if (callno_compare(from, to) > 0 && !callno_has_prefix(from, to))
		return error_set(error, -EINVAL, "call range %s..%s: '%s' files after '%s'", from, to,
				 from, to);
	if (s->n_ranges == SHELF_RULES_MAX)
		return error_set(error, -EINVAL, "more than %d call ranges", SHELF_RULES_MAX);
	s->ranges[s->n_ranges++] = (struct callno_range){ xstrdup(from), xstrdup(to) };
	return 0;
}

static int parse_location(struct shelf_def *s, char *v, char **error)
{
	v = trim(v);
	if (!*v)
		return error_set(error, -EINVAL, "an empty location code");
	if (s->n_locations == SHELF_RULES_MAX)
		return error_set(error, -EINVAL, "more than %d locations", SHELF_RULES_MAX);
	s->locations[s->n_locations++] = xstrdup(v);
	return 0;
}

/* Each comma-separated piece of v through fn. */
static int parse_list(struct shelf_def *s, const char *key, char *v,
		      int (*fn)(struct shelf_def *, char *, char **), char **error)
{
	if (!*v)
		return error_set(error, -EINVAL, "%s= needs a value", key);
	for (char *piece = v;;) {
		char *comma = strchr(piece, ',');
		if (comma)
			*comma = '\0';
		char *item = trim(piece);
		if (!*item)
			return error_set(error, -EINVAL, "an empty item in %s=", key);
		int r = fn(s, item, error);
		if (r < 0)
			return r;
		if (!comma)
			return 0;
		piece = comma + 1;
	}
}

static void append_rule_text(struct shelf_def *s)
{
	char *t = xstrdup("");
	for (size_t i = 0; i < s->n_ranges; i++) {
		char *n;
		if (strcmp(s->ranges[i].from, s->ranges[i].to) == 0)
			n = xasprintf("%s%s%s", t, i ? ", " : "call ", s->ranges[i].from);
		else
			n = xasprintf("%s%s%s..%s", t, i ? ", " : "call ", s->ranges[i].from, s->ranges[i].to);
		free(t);
		t = n;
	}
	for (size_t i = 0; i < s->n_locations; i++) {
		char *n = xasprintf("%s%s%s", t, i ? ", " : *t ? "; location " : "location ",
				    s->locations[i]);
		free(t);
		t = n;
	}
	if (!*t) {
		free(t);
		t = xstrdup("any item");
	}
	s->rule_text = t;
}

int shelf_parse(const char *spec, struct shelf_def *out, char **error)
{
	*out = (struct shelf_def){ 0 };
	if (strlen(spec) > SHELF_SPEC_MAX)
		return error_set(error, -EINVAL, "longer than %d characters", SHELF_SPEC_MAX);
	const char *p = spec;
	char *word = NULL;
	int r = next_word(&p, &word, error);
	if (r == 0)
		return error_set(error, -EINVAL, "empty: want \"ID antenna=N call=FROM..TO\"");
	if (r < 0)
		return r;
	if (!valid_id(word)) {
		r = error_set(error, -EINVAL,
			      "the shelf id must be 1-%d of A-Z a-z 0-9 . _ - (got '%.40s')",
			      SHELF_ID_MAX, word);
		free(word);
		return r;
	}
	out->id = word;
	while ((r = next_word(&p, &word, error)) > 0) {
		char *eq = strchr(word, '=');
		if (!eq) {
			r = error_set(error, -EINVAL, "'%.40s' is not key=value", word);
			free(word);
			break;
		}
		*eq = '\0';
		char *key = word, *v = eq + 1;
		if (strcmp(key, "device") == 0) {
			if (out->device)
				r = error_set(error, -EINVAL, "device= given twice");
			else if (!*v)
				r = error_set(error, -EINVAL, "device= needs a name");
			else
				out->device = xstrdup(v);
		} else if (strcmp(key, "antenna") == 0 || strcmp(key, "antennas") == 0) {
			r = parse_list(out, key, v, parse_antenna, error);
		} else if (strcmp(key, "call") == 0) {
			r = parse_list(out, key, v, parse_range, error);
		} else if (strcmp(key, "location") == 0 || strcmp(key, "locations") == 0) {
			r = parse_list(out, key, v, parse_location, error);
		} else {
			r = error_set(error, -EINVAL,
				      "unknown key '%.40s' (known: device, antenna, call, location)", key);
		}
		free(word);
		if (r < 0)
			break;
	}
	if (r == 0 && out->n_antennas == 0)
		r = error_set(error, -EINVAL, "no antenna= given");
	if (r < 0) {
		shelf_def_clear(out);
		return r;
	}
	append_rule_text(out);
	return 0;
}

void shelf_def_clear(struct shelf_def *s)
{
	free(s->id);
	free(s->device);
	for (size_t i = 0; i < s->n_ranges; i++) {
		free(s->ranges[i].from);
		free(s->ranges[i].to);
	}
	for (size_t i = 0; i < s->n_locations; i++)
		free(s->locations[i]);
	free(s->rule_text);
	*s = (struct shelf_def){ 0 };
}

/* ---- the model ---- */

/* A shelf string for an error message: at most 40 bytes, printable. */
static void quote_spec(const char *s, char *out, size_t size)
{
	size_t n = 0;
	for (; *s && n + 1 < size && n < 40; s++)
		out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[n] = '\0';
}

static void add_error(char ***errors, size_t *n, size_t index, const char *spec, const char *why)
{
	char q[48];
	quote_spec(spec, q, sizeof(q));
	*errors = xrealloc(*errors, (*n + 1) * sizeof(char *));
	(*errors)[(*n)++] = xasprintf("shelf %zu (\"%s%s\"): %s", index, q, strlen(spec) > 40 ? "..." : "",
				      why);
}

static bool devices_overlap(const char *a, const char *b)
{
	return !a || !b || strcmp(a, b) == 0;
}

size_t shelf_model_parse(const char *text, struct shelf_model *out, char ***errors)
{
	size_t n_errors = 0, index = 0;
	*out = (struct shelf_model){ 0 };
	*errors = NULL;
	if (!text || !*text)
		return 0;
	char *copy = xstrdup(text);
	for (char *line = copy; line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		index++;
		struct shelf_def s;
		char *why = NULL;
		if (shelf_parse(line, &s, &why) < 0) {
			add_error(errors, &n_errors, index, line, why ? why : "invalid");
			free(why);
		} else {
			bool ok = true;
			for (size_t i = 0; i < out->n && ok; i++) {
				const struct shelf_def *o = &out->v[i];
				if (strcasecmp(o->id, s.id) == 0) {
					char *m = xasprintf("shelf id '%s' is used twice", s.id);
					add_error(errors, &n_errors, index, line, m);
					free(m);
					ok = false;
					break;
				}
				if (!devices_overlap(o->device, s.device))
					continue;
				for (size_t a = 0; a < s.n_antennas && ok; a++)
					for (size_t b = 0; b < o->n_antennas && ok; b++)
						if (s.antennas[a] == o->antennas[b]) {
							char *m = xasprintf("antenna %d%s%s is already read by shelf '%s'",
									    s.antennas[a], s.device ? " of " : "",
									    s.device ? s.device : "", o->id);
							add_error(errors, &n_errors, index, line, m);
							free(m);
							ok = false;
						}
			}
			if (ok) {
				out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
				out->v[out->n++] = s;
			} else {
				shelf_def_clear(&s);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	free(copy);
	return n_errors;
}

void shelf_model_free(struct shelf_model *m)
{
	for (size_t i = 0; i < m->n; i++)
		shelf_def_clear(&m->v[i]);
	free(m->v);
	*m = (struct shelf_model){ 0 };
}

void shelf_errors_free(char **errors, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(errors[i]);
	free(errors);
}

const struct shelf_def *shelf_model_find(const struct shelf_model *m, const char *device,
					 int32_t antenna)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct shelf_def *s = &m->v[i];
		if (s->device && (!device || strcmp(s->device, device) != 0))
			continue;
		for (size_t a = 0; a < s->n_antennas; a++)
			if (s->antennas[a] == antenna)
				return s;
	}
	return NULL;
}

enum shelf_fit shelf_fit(const struct shelf_def *s, const char *call_number,
			 const char *home_location)
{
	bool unknown = false;
	if (s->n_ranges) {
		if (!call_number || !has_elements(call_number)) {
			unknown = true;
		} else {
			bool in = false;
			for (size_t i = 0; i < s->n_ranges && !in; i++)
				in = callno_in_range(call_number, &s->ranges[i]);
			if (!in)
				return SHELF_FIT_MISPLACED;
		}
	}
	if (s->n_locations) {
		if (!home_location || !*home_location) {
			unknown = true;
		} else {
			bool in = false;
			for (size_t i = 0; i < s->n_locations && !in; i++)
				in = strcasecmp(s->locations[i], home_location) == 0;
			if (!in)
				return SHELF_FIT_MISPLACED;
		}
	}
	return unknown ? SHELF_FIT_UNKNOWN : SHELF_FIT_BELONGS;
}

const char *shelf_fit_name(enum shelf_fit f)
{
	switch (f) {
	case SHELF_FIT_BELONGS:
		return "belongs";
	case SHELF_FIT_MISPLACED:
		return "misplaced";
	case SHELF_FIT_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}
