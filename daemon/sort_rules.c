/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sort rule chains and bin tables (grammar in sort_rules.h).  Everything
 * here runs on text from the config file: bounded, allocation-checked by
 * xcalloc, and every refusal says which rule and why.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sort_rules.h"
#include "util/util.h"

#define RULE_TEXT_MAX 512 /* longer rules are refused, not cut */

static const char *const cond_names[] = {
	[SORT_HOLD] = "hold",
	[SORT_TRANSIT] = "transit",
	[SORT_SORT_BIN] = "sort-bin",
	[SORT_COLLECTION] = "collection",
	[SORT_CALL_NUMBER] = "call-number",
	[SORT_MEDIA] = "media",
	[SORT_LOCATION] = "location",
	[SORT_DEFAULT] = "default",
};

const char *sort_cond_name(enum sort_cond c)
{
	return (unsigned)c < ARRAY_SIZE(cond_names) ? cond_names[c] : "?";
}

static int fail(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && err_size)
		vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trim [*b, *e) in place (pointers move). */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

bool sort_bin_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= SORT_BIN_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool sort_glob_match(const char *p, const char *s)
{
	/* Iterative with one backtrack point: linear in practice, never
	 * exponential however many '*' a pattern has. */
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p && (*p == '?' || lower(*p) == lower(*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static void rule_clear(struct sort_rule *r)
{
	for (size_t i = 0; i < r->n_patterns; i++)
		free(r->patterns[i]);
	free(r->patterns);
	r->patterns = NULL;
	r->n_patterns = 0;
}

void sort_chain_free(struct sort_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		rule_clear(&c->rules[i]);
	free(c->rules);
	c->rules = NULL;
	c->n = 0;
}

/* Patterns: comma-separated, each trimmed, none empty. */
static int parse_patterns(const char *b, const char *e, struct sort_rule *r, char *why,
			  size_t why_size)
{
	while (b <= e) {
		const char *comma = memchr(b, ',', (size_t)(e - b));
		const char *pe = comma ? comma : e;
		const char *pb = b;
		trim(&pb, &pe);
		if (pb == pe)
			return fail(why, why_size, "an empty pattern");
		for (const char *q = pb; q < pe; q++)
			if ((unsigned char)*q < 0x20)
				return fail(why, why_size, "a control character in a pattern");
		r->patterns = xrealloc(r->patterns, (r->n_patterns + 1) * sizeof(char *));
		r->patterns[r->n_patterns++] = strndup(pb, (size_t)(pe - pb));
		if (!r->patterns[r->n_patterns - 1])
			abort();
		if (!comma)
			break;
		b = comma + 1;
	}
	return 0;
}

static int parse_rule(const char *b, const char *e, struct sort_rule *r, char *why, size_t why_size)
{
	*r = (struct sort_rule){ 0 };
	const char *arrow = NULL;
	for (const char *q = b; q + 1 < e; q++)
		if (q[0] == '-' && q[1] == '>') {
			arrow = q;
			break;
		}
	const char *lb = b, *le = arrow ? arrow : e;
	trim(&lb, &le);
	const char *kw_end = lb;
	while (kw_end < le && !is_space(*kw_end))
		kw_end++;
	size_t kw_len = (size_t)(kw_end - lb);
	if (kw_len == 0)
		return fail(why, why_size, "no condition (hold, transit, sort-bin, collection, "
					   "call-number, media, location or default)");
	bool found = false;
	for (size_t i = 0; i < ARRAY_SIZE(cond_names); i++)
		if (strlen(cond_names[i]) == kw_len && strncmp(cond_names[i], lb, kw_len) == 0) {
			r->cond = (enum sort_cond)i;
			found = true;
		}
	if (!found)
		return fail(why, why_size, "unknown condition '%.*s' (hold, transit, sort-bin, "
					   "collection, call-number, media, location or default)",
			    (int)(kw_len > 40 ? 40 : kw_len), lb);
	const char *pb = kw_end, *pe = le;
	trim(&pb, &pe);
	bool has_patterns = pb < pe;
	bool field_rule = r->cond >= SORT_COLLECTION && r->cond <= SORT_LOCATION;

	if (has_patterns && !field_rule && r->cond != SORT_SORT_BIN)
		return fail(why, why_size, "'%s' takes no pattern", cond_names[r->cond]);
	if (!has_patterns && field_rule)
		return fail(why, why_size, "'%s' needs a pattern (e.g. \"%s CHILD* -> 3\")",
			    cond_names[r->cond], cond_names[r->cond]);
	if (has_patterns) {
		int k = parse_patterns(pb, pe, r, why, why_size);
		if (k < 0) {
			rule_clear(r);
			return k;
		}
	}
	if (!arrow) {
		if (r->cond == SORT_SORT_BIN && !has_patterns)
			return 0; /* the ILS's own bin */
		rule_clear(r);
		return fail(why, why_size, "no '-> BIN'");
	}
	if (r->cond == SORT_SORT_BIN && !has_patterns) {
		rule_clear(r);
		return fail(why, why_size, "a bare 'sort-bin' uses the ILS's bin: no '-> BIN' "
					   "(or give patterns: \"sort-bin B1,B2 -> 1\")");
	}
	const char *bb = arrow + 2, *be = e;
	trim(&bb, &be);
	size_t bl = (size_t)(be - bb);
	char bin[SORT_BIN_NAME_MAX + 1];
	snprintf(bin, sizeof(bin), "%.*s", (int)(bl > SORT_BIN_NAME_MAX ? SORT_BIN_NAME_MAX : bl), bb);
	if (bl == 0 || bl >= SORT_BIN_NAME_MAX || !sort_bin_name_valid(bin)) {
		rule_clear(r);
		return fail(why, why_size, "'%.*s' is not a bin name (letters, digits, _ . -; up to %d)",
			    (int)(bl > 40 ? 40 : bl), bb, SORT_BIN_NAME_MAX - 1);
	}
	memcpy(r->bin, bin, bl + 1);
	return 0;
}

int sort_chain_parse(const char *text, struct sort_chain *out, char *err, size_t err_size)
{
	struct sort_chain c = { 0 };
	char why[200];
	size_t index = 0;
	bool after_default = false;
	const char *p = text ? text : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *e = nl ? nl : p + strlen(p);
		index++;
		size_t len = (size_t)(e - p);
		const char *b = p, *te = e;
		trim(&b, &te);
		if (b == te) {
			sort_chain_free(&c);
			return fail(err, err_size, "rule %zu is empty", index);
		}
		if (len > RULE_TEXT_MAX) {
			sort_chain_free(&c);
			return fail(err, err_size, "rule %zu is longer than %d characters", index,
				    RULE_TEXT_MAX);
		}
		struct sort_rule r;
		if (parse_rule(p, e, &r, why, sizeof(why)) < 0) {
			sort_chain_free(&c);
			return fail(err, err_size, "rule %zu \"%.*s\": %s", index,
				    (int)(len > 60 ? 60 : len), p, why);
		}
		if (after_default) {
			rule_clear(&r);
			sort_chain_free(&c);
			return fail(err, err_size, "rule %zu \"%.*s\" comes after 'default' and can never "
						   "match", index, (int)(len > 60 ? 60 : len), p);
		}
		after_default = r.cond == SORT_DEFAULT;
		c.rules = xrealloc(c.rules, (c.n + 1) * sizeof(*c.rules));
		c.rules[c.n++] = r;
		if (!nl)
			break;
		p = nl + 1;
		if (!*p) /* a trailing newline is not an empty last rule */
			break;
	}
	if (c.n == 0)
		return fail(err, err_size, "no rules: give at least \"default -> BIN\"");
	*out = c;
	return 0;
}

static bool field_matches(const struct sort_rule *r, const char *v)
{
	if (!v || !v[0])
		return false;
	for (size_t i = 0; i < r->n_patterns; i++)
		if (sort_glob_match(r->patterns[i], v))
			return true;
	return false;
}

static bool is(const char *v, const char *want)
{
	return v && strcmp(v, want) == 0;
}

int sort_chain_decide(const struct sort_chain *c, const struct sort_bins *bins,
		      const struct sort_facts *f, const char **bin)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct sort_rule *r = &c->rules[i];
		bool m = false;
		switch (r->cond) {
		case SORT_HOLD:
			/* SIP2 2.00 p.20: CV 01 hold for this library, 02 for another */
			m = is(f->alert_type, "01") || is(f->alert_type, "02");
			break;
		case SORT_TRANSIT:
			m = is(f->alert_type, "04") || (f->destination && f->destination[0]);
			break;
		case SORT_SORT_BIN:
			if (r->n_patterns) {
				m = field_matches(r, f->sort_bin);
			} else if (f->sort_bin && f->sort_bin[0] && sort_bin_name_valid(f->sort_bin)) {
				unsigned n;
				if (sort_bins_number(bins, f->sort_bin, &n) == 0) {
					*bin = f->sort_bin;
					return (int)i;
				}
			}
			break;
		case SORT_COLLECTION:
			m = field_matches(r, f->collection);
			break;
		case SORT_CALL_NUMBER:
			m = field_matches(r, f->call_number);
			break;
		case SORT_MEDIA:
			m = field_matches(r, f->media);
			break;
		case SORT_LOCATION:
			m = field_matches(r, f->location);
			break;
		case SORT_DEFAULT:
			m = true;
			break;
		}
		if (m) {
			*bin = r->bin;
			return (int)i;
		}
	}
	return -1;
}

const char *sort_chain_default_bin(const struct sort_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->rules[i].cond == SORT_DEFAULT)
			return c->rules[i].bin;
	return NULL;
}

/* ---- bins ---- */

void sort_bins_free(struct sort_bins *b)
{
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

/* A decimal position 0..65535 with no sign, spaces or leading junk. */
static bool parse_position(const char *b, const char *e, unsigned *out)
{
	if (b == e || e - b > 5)
		return false;
	unsigned v = 0;
	for (const char *q = b; q < e; q++) {
		if (*q < '0' || *q > '9')
			return false;
		v = v * 10 + (unsigned)(*q - '0');
	}
	if (v > 65535)
		return false;
	*out = v;
	return true;
}

int sort_bins_parse(const char *text, struct sort_bins *out, char *err, size_t err_size)
{
	struct sort_bins bins = { 0 };
	size_t index = 0;
	const char *p = text ? text : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *e = nl ? nl : p + strlen(p);
		index++;
		int len = (int)((size_t)(e - p) > 60 ? 60 : (size_t)(e - p));
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (!eq) {
			sort_bins_free(&bins);
			return fail(err, err_size, "bin %zu \"%.*s\": not NAME = NUMBER", index, len, p);
		}
		const char *nb = p, *ne = eq, *vb = eq + 1, *ve = e;
		trim(&nb, &ne);
		trim(&vb, &ve);
		struct sort_bin bin = { 0 };
		if (ne - nb <= 0 || ne - nb >= SORT_BIN_NAME_MAX) {
			sort_bins_free(&bins);
			return fail(err, err_size, "bin %zu \"%.*s\": no valid name", index, len, p);
		}
		memcpy(bin.name, nb, (size_t)(ne - nb));
		if (!sort_bin_name_valid(bin.name)) {
			sort_bins_free(&bins);
			return fail(err, err_size, "bin %zu \"%.*s\": '%s' is not a bin name (letters, "
						   "digits, _ . -)", index, len, p, bin.name);
		}
		if (!parse_position(vb, ve, &bin.number)) {
			sort_bins_free(&bins);
			return fail(err, err_size, "bin %zu \"%.*s\": the position is not a number "
						   "0..65535", index, len, p);
		}
		for (size_t i = 0; i < bins.n; i++)
			if (strcmp(bins.v[i].name, bin.name) == 0) {
				sort_bins_free(&bins);
				return fail(err, err_size, "bin %zu: '%s' is given twice", index, bin.name);
			}
		bins.v = xrealloc(bins.v, (bins.n + 1) * sizeof(*bins.v));
		bins.v[bins.n++] = bin;
		if (!nl)
			break;
		p = nl + 1;
	}
	*out = bins;
	return 0;
}

int sort_bins_number(const struct sort_bins *b, const char *name, unsigned *number)
{
	for (size_t i = 0; b && i < b->n; i++)
		if (strcmp(b->v[i].name, name) == 0) {
			*number = b->v[i].number;
			return 0;
		}
	if (parse_position(name, name + strlen(name), number))
		return 0;
	return -ENOENT;
}

const char *sort_bins_name(const struct sort_bins *b, unsigned number)
{
	for (size_t i = 0; b && i < b->n; i++)
		if (b->v[i].number == number)
			return b->v[i].name;
	return NULL;
}

int sort_chain_check_bins(const struct sort_chain *c, const struct sort_bins *bins, char *err,
			  size_t err_size)
{
	for (size_t i = 0; i < c->n; i++) {
		unsigned n;
		if (c->rules[i].bin[0] && sort_bins_number(bins, c->rules[i].bin, &n) < 0) {
			fail(err, err_size, "rule %zu (%s): bin '%s' has no sorter position: name it "
					    "by its number or add \"%s = N\" to bins", i + 1,
			     sort_cond_name(c->rules[i].cond), c->rules[i].bin, c->rules[i].bin);
			return -ENOENT;
		}
	}
	return 0;
}
