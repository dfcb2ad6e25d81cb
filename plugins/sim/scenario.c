/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scenario parser for the sim plugin (grammar in scenario.h).
 *
 * Everything that can be wrong with a scenario is found here, at load, and
 * reported as "file:line: reason": the player never meets a bad step.  The
 * parser is fuzzed (tests/fuzz/fuzz_scenario.c), so it must survive any
 * bytes: lengths are checked, never assumed.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "util/util.h"

#define SCN_MEM_MAX 8192  /* ISO 15693: 256 blocks x 32 bytes */
#define SCN_TEXT_MAX 1024

static int fail(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **error, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (error) {
		free(*error);
		*error = s;
	} else {
		free(s);
	}
	return -EINVAL;
}

/* ---- Keys ---- */

enum scn_key {
	K_UID = 1u << 0,
	K_ANTENNA = 1u << 1,
	K_AFI = 1u << 2,
	K_DSFID = 1u << 3,
	K_EAS = 1u << 4,
	K_MEM = 1u << 5,
	K_BLOCK_SIZE = 1u << 6,
	K_ITEM = 1u << 7,
	K_DWELL = 1u << 8,
	K_BARCODE = 1u << 9,
	K_DIR = 1u << 10,
	K_NAME = 1u << 11,
	K_VALUE = 1u << 12,
	K_TEXT = 1u << 13,
	K_DURATION = 1u << 14,
};

static const struct {
	const char *name;
	enum scn_key key;
} key_names[] = {
	{ "uid", K_UID },     { "antenna", K_ANTENNA },	  { "afi", K_AFI },
	{ "dsfid", K_DSFID }, { "eas", K_EAS },		  { "mem", K_MEM },
	{ "block_size", K_BLOCK_SIZE },			  { "item", K_ITEM },
	{ "dwell", K_DWELL }, { "barcode", K_BARCODE },	  { "dir", K_DIR },
	{ "name", K_NAME },   { "value", K_VALUE },	  { "text", K_TEXT },
	{ "duration", K_DURATION },
};

#define TAG_KEYS (K_UID | K_ANTENNA | K_AFI | K_DSFID | K_EAS | K_MEM | K_BLOCK_SIZE | K_ITEM)

static const struct {
	const char *name;
	enum scn_action_type type;
	uint32_t allowed, required;
} actions[] = {
	{ "tag-seen", SCN_TAG_SEEN, TAG_KEYS, K_UID },
	{ "tag-gone", SCN_TAG_GONE, K_UID | K_ANTENNA, K_UID },
	{ "tag", SCN_TAG, TAG_KEYS | K_DWELL, K_UID },
	{ "card", SCN_CARD, K_UID | K_BARCODE | K_ANTENNA, 0 },
	{ "drop", SCN_DROP, K_ANTENNA, 0 },
	{ "gate-pass", SCN_GATE_PASS, K_DIR | K_ANTENNA, K_DIR },
	{ "sensor", SCN_SENSOR, K_NAME | K_VALUE, K_NAME | K_VALUE },
	{ "input", SCN_INPUT, K_NAME | K_VALUE, K_NAME | K_VALUE },
	{ "fault", SCN_FAULT, K_TEXT | K_DURATION, K_TEXT },
	{ "offline", SCN_OFFLINE, K_DURATION, K_DURATION },
};

static int find_action(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (strcmp(actions[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *key_name(enum scn_key k)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_names); i++)
		if (key_names[i].key == k)
			return key_names[i].name;
	return "?";
}

/* ---- Value parsers ---- */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_hex_byte(const char *s, int16_t *out)
{
	unsigned v = 0;
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, n++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | (unsigned)d;
		if (n >= 2)
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	*out = (int16_t)v;
	return 0;
}

static int set_key(struct scn_action *a, enum scn_key k, const char *v, char **error)
{
	uint64_t u;
	int r;

	switch (k) {
	case K_UID:
		r = hex_decode(v, a->uid, sizeof(a->uid));
		if (r <= 0)
			return fail(error, "uid: '%s' is not 1..%d hex bytes", v, CIRCD_UID_MAX);
		a->uid_len = (uint8_t)r;
		return 0;
	case K_ANTENNA:
		if (parse_u64(v, 65535, &u) < 0)
			return fail(error, "antenna: '%s' is not a number 0..65535", v);
		a->antenna = (int32_t)u;
		return 0;
	case K_AFI:
	case K_DSFID:
		if (parse_hex_byte(v, k == K_AFI ? &a->afi : &a->dsfid) < 0)
			return fail(error, "%s: '%s' is not a hex byte (00..ff)", key_name(k), v);
		return 0;
	case K_EAS:
		if (strcmp(v, "0") && strcmp(v, "1"))
			return fail(error, "eas: '%s' is not 0 or 1", v);
		a->eas = (int8_t)(v[0] - '0');
		return 0;
	case K_MEM: {
		uint8_t *buf = xcalloc(SCN_MEM_MAX, 1);
		r = hex_decode(v, buf, SCN_MEM_MAX);
		if (r < 0) {
			free(buf);
			return fail(error, "mem: not hex, or longer than %d bytes", SCN_MEM_MAX);
		}
		a->mem = buf;
		a->mem_len = (uint32_t)r;
		return 0;
	}
	case K_BLOCK_SIZE:
		if (parse_u64(v, 256, &u) < 0 || u == 0)
			return fail(error, "block_size: '%s' is not a number 1..256", v);
		a->block_size = (uint32_t)u;
		return 0;
	case K_ITEM:
	case K_BARCODE:
	case K_NAME:
		if (!*v || strlen(v) > 256)
			return fail(error, "%s: must be 1..256 characters", key_name(k));
		if (k == K_NAME)
			a->name = xstrdup(v);
		else
			a->item = xstrdup(v);
		return 0;
	case K_TEXT:
		if (strlen(v) > SCN_TEXT_MAX)
			return fail(error, "text: longer than %d characters", SCN_TEXT_MAX);
		a->text = xstrdup(v);
		return 0;
	case K_DWELL:
	case K_DURATION:
		if (parse_u64(v, SCN_TIME_MAX, &u) < 0)
			return fail(error, "%s: '%s' is not a number of milliseconds", key_name(k), v);
		if (k == K_DWELL)
			a->dwell_ms = u;
		else
			a->duration_ms = u;
		return 0;
	case K_DIR:
		if (strcmp(v, "in") == 0)
			a->direction = CIRCD_DIR_IN;
		else if (strcmp(v, "out") == 0)
			a->direction = CIRCD_DIR_OUT;
		else
			return fail(error, "dir: '%s' is not in or out", v);
		return 0;
	case K_VALUE: {
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (errno || end == v || *end || !isfinite(d))
			return fail(error, "value: '%s' is not a number", v);
		if (a->type == SCN_INPUT && d != 0 && d != 1)
			return fail(error, "value: an input is 0 or 1, not '%s'", v);
		a->value = d;
		return 0;
	}
	}
	return fail(error, "internal: unhandled key");
}

/* ---- %d expansion (repeat steps) ---- */

static int expand(const char *tmpl, uint64_t index, char **out, char **error)
{
	size_t cap = strlen(tmpl) + 64, len = 0;
	_cleanup_free_ char *buf = xcalloc(cap, 1);

	for (const char *p = tmpl; *p; p++) {
		if (len + 32 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		if (*p != '%') {
			buf[len++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			buf[len++] = '%';
			continue;
		}
		bool zero = *p == '0';
		if (zero)
			p++;
		unsigned width = 0;
		while (*p >= '0' && *p <= '9' && width <= 20)
			width = width * 10 + (unsigned)(*p++ - '0');
		if (*p != 'd' || width > 20)
			return fail(error, "'%s': only %%d, %%Nd, %%0Nd and %%%% may follow '%%'", tmpl);
		int n = snprintf(buf + len, cap - len, zero ? "%0*llu" : "%*llu", (int)width,
				 (unsigned long long)index);
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = TAKE_PTR(buf);
	return 0;
}

/* ---- Actions ---- */

void scn_action_clear(struct scn_action *a)
{
	free(a->mem);
	free(a->item);
	free(a->name);
	free(a->text);
	*a = (struct scn_action){ 0 };
}

static int build_action(const char *action, const struct scn_arg *args, size_t n_args,
			bool templated, uint64_t index, struct scn_action *out, char **error)
{
	int ai = find_action(action);
	uint32_t seen = 0;
	int r;

	if (ai < 0)
		return fail(error, "unknown action '%s'", action);
	*out = (struct scn_action){ .type = actions[ai].type, .afi = -1, .dsfid = -1, .eas = -1,
				    .dwell_ms = 500 };
	for (size_t i = 0; i < n_args; i++) {
		enum scn_key k = 0;
		for (size_t j = 0; j < ARRAY_SIZE(key_names); j++)
			if (strcmp(key_names[j].name, args[i].key) == 0)
				k = key_names[j].key;
		if (!k || !(actions[ai].allowed & k)) {
			r = fail(error, "%s: unknown key '%s'", action, args[i].key);
			goto err;
		}
		if (seen & k) {
			r = fail(error, "%s: key '%s' given twice", action, args[i].key);
			goto err;
		}
		seen |= k;
		_cleanup_free_ char *v = NULL;
		if (templated) {
			r = expand(args[i].value, index, &v, error);
			if (r < 0)
				goto err;
		}
		r = set_key(out, k, v ? v : args[i].value, error);
		if (r < 0)
			goto err;
	}
	uint32_t missing = actions[ai].required & ~seen;
	if (missing) {
		r = fail(error, "%s: missing %s=", action, key_name(missing & -missing));
		goto err;
	}
	if (out->type == SCN_CARD && !!(seen & K_UID) == !!(seen & K_BARCODE)) {
		r = fail(error, "card: give either uid= or barcode=");
		goto err;
	}
	return 0;
err:
	scn_action_clear(out);
	return r;
}

int scn_step_action(const struct scn_step *step, uint64_t index, struct scn_action *out,
		    char **error)
{
	return build_action(step->action, step->args, step->n_args, step->repeat, index, out,
			    error);
}

/* ---- Tokens ---- */

struct token {
	char *word;  /* bare word, or the key of key=value */
	char *value; /* NULL for a bare word */
};

static void tokens_free(struct token *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].word);
		free(t[i].value);
	}
	free(t);
}

/* Split a line into bare words and key=value pairs; stops at a token
 * starting with '#'. */
static int tokenize(const char *line, struct token **out, size_t *n_out, char **error)
{
	struct token *t = NULL;
	size_t n = 0;
	const char *p = line;
	int r;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			break;
		const char *start = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '=')
			p++;
		t = xrealloc(t, (n + 1) * sizeof(*t));
		t[n] = (struct token){ .word = strndup(start, (size_t)(p - start)) };
		n++;
		if (!t[n - 1].word)
			abort();
		if (*p != '=')
			continue;
		if (p == start) {
			r = fail(error, "'=' without a key");
			goto err;
		}
		p++;
		size_t cap = strlen(p) + 1, len = 0;
		char *v = xcalloc(cap, 1);
		t[n - 1].value = v;
		if (*p != '"') {
			while (*p && *p != ' ' && *p != '\t')
				v[len++] = *p++;
			continue;
		}
		for (p++;; p++) {
			if (!*p) {
				r = fail(error, "unterminated quote in %s=", t[n - 1].word);
				goto err;
			}
			if (*p == '"')
				break;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			v[len++] = *p;
		}
		p++;
		if (*p && *p != ' ' && *p != '\t') {
			r = fail(error, "text after the closing quote of %s=", t[n - 1].word);
			goto err;
		}
	}
	*out = t;
	*n_out = n;
	return 0;
err:
	tokens_free(t, n);
	return r;
}

/* Move tokens [from, n) into step->args; all must be key=value. */
static int take_args(struct scn_step *step, struct token *t, size_t from, size_t n, char **error)
{
	for (size_t i = from; i < n; i++)
		if (!t[i].value)
			return fail(error, "unexpected '%s' (expected key=value)", t[i].word);
	step->args = xcalloc(n - from, sizeof(*step->args));
	for (size_t i = from; i < n; i++) {
		step->args[step->n_args++] = (struct scn_arg){ t[i].word, t[i].value };
		t[i].word = t[i].value = NULL;
	}
	return 0;
}

static void step_clear(struct scn_step *s)
{
	for (size_t i = 0; i < s->n_args; i++) {
		free(s->args[i].key);
		free(s->args[i].value);
	}
	free(s->args);
	free(s->action);
	*s = (struct scn_step){ 0 };
}

/* Check the indices where an expanded value can change shape: digit counts
 * change at powers of ten, and numeric values are monotonic in between. */
static int validate_step(const struct scn_step *step, char **error)
{
	struct scn_action a;
	uint64_t idx[64];
	size_t n = 0;
	int r;

	idx[n++] = 0;
	for (uint64_t p = 10; p < step->count && n < 60; p *= 10) {
		idx[n++] = p - 1;
		idx[n++] = p;
	}
	idx[n++] = step->count - 1;
	for (size_t i = 0; i < n; i++) {
		r = scn_step_action(step, idx[i], &a, error);
		if (r < 0) {
			if (step->repeat) {
				_cleanup_free_ char *why = TAKE_PTR(*error);
				return fail(error, "repetition %llu: %s", (unsigned long long)idx[i],
					    why ? why : "invalid");
			}
			return r;
		}
		scn_action_clear(&a);
	}
	return 0;
}

/* Parse one line that is not blank; *prev_ms is the time of the previous
 * step's last repetition. */
static int parse_step(const char *line, uint64_t *prev_ms, struct scn_step *step, bool *empty,
		      char **error)
{
	struct token *t = NULL;
	size_t n = 0, i = 0;
	uint64_t ms;
	int r;

	r = tokenize(line, &t, &n, error);
	if (r < 0)
		return r;
	*empty = n == 0;
	if (n == 0)
		goto out;
	if (t[0].value) {
		r = fail(error, "a line starts with a time in ms ('1500' or '+200')");
		goto out;
	}
	bool rel = t[0].word[0] == '+';
	if (parse_u64(t[0].word + rel, SCN_TIME_MAX, &ms) < 0) {
		r = fail(error, "bad time '%s' (ms, like '1500' or '+200')", t[0].word);
		goto out;
	}
	if (rel)
		ms += *prev_ms;
	else if (ms < *prev_ms) {
		r = fail(error, "time goes backwards (%llu after %llu)", (unsigned long long)ms,
			 (unsigned long long)*prev_ms);
		goto out;
	}
	if (ms > SCN_TIME_MAX) {
		r = fail(error, "time is too far in the future");
		goto out;
	}
	*step = (struct scn_step){ .at_ms = ms, .count = 1 };
	i = 1;
	if (i < n && !t[i].value && strcmp(t[i].word, "repeat") == 0) {
		bool have_count = false;
		step->repeat = true;
		for (i++; i < n && t[i].value; i++) {
			uint64_t *dst;
			if (strcmp(t[i].word, "count") == 0) {
				dst = &step->count;
				have_count = true;
			} else if (strcmp(t[i].word, "interval") == 0) {
				dst = &step->interval_ms;
			} else {
				r = fail(error, "repeat: unknown key '%s' (count=, interval=)", t[i].word);
				goto out;
			}
			if (parse_u64(t[i].value, SCN_TIME_MAX, dst) < 0) {
				r = fail(error, "repeat: %s: '%s' is not a number", t[i].word, t[i].value);
				goto out;
			}
		}
		if (!have_count || step->count < 1 || step->count > SCN_REPEAT_MAX) {
			r = fail(error, "repeat: count= must be 1..%llu", SCN_REPEAT_MAX);
			goto out;
		}
		if (step->interval_ms &&
		    step->count - 1 > (SCN_TIME_MAX - step->at_ms) / step->interval_ms) {
			r = fail(error, "repeat: runs past the time limit");
			goto out;
		}
	}
	if (i >= n || t[i].value) {
		r = fail(error, "missing action after the time");
		goto out;
	}
	if (strcmp(t[i].word, "repeat") == 0) {
		r = fail(error, "repeat: count= and interval= come before the action");
		goto out;
	}
	step->action = TAKE_PTR(t[i].word);
	r = take_args(step, t, i + 1, n, error);
	if (r >= 0)
		r = validate_step(step, error);
	if (r < 0) {
		step_clear(step);
		goto out;
	}
	*prev_ms = step->at_ms + (step->count - 1) * step->interval_ms;
out:
	tokens_free(t, n);
	return r;
}

int scenario_parse(const char *text, size_t len, const char *origin, struct scenario *out,
		   char **error)
{
	struct scenario s = { 0 };
	uint64_t prev_ms = 0;
	unsigned lineno = 0;
	size_t pos = 0;

	if (error)
		*error = NULL;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - pos;
		lineno++;
		if (l > 0 && text[pos + l - 1] == '\r')
			l--;
		_cleanup_free_ char *line = strndup(text + pos, l);
		pos = end + 1;
		if (!line)
			abort();
		_cleanup_free_ char *why = NULL;
		struct scn_step step;
		bool empty;
		int r;
		if (strlen(line) != l)
			r = fail(&why, "NUL byte in line");
		else
			r = parse_step(line, &prev_ms, &step, &empty, &why);
		if (r < 0) {
			scenario_free(&s);
			fail(error, "%s:%u: %s", origin, lineno, why ? why : "invalid line");
			return -EINVAL;
		}
		if (empty)
			continue;
		step.line = lineno;
		s.steps = xrealloc(s.steps, (s.n_steps + 1) * sizeof(*s.steps));
		s.steps[s.n_steps++] = step;
	}
	*out = s;
	return 0;
}

int scenario_load(const char *path, struct scenario *out, char **error)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (error)
		*error = NULL;
	if (!f) {
		int e = errno;
		fail(error, "%s: %s", path, strerror(e));
		return -e;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				fail(error, "%s: larger than 64 MiB", path);
				return -EFBIG;
			}
			buf = xrealloc(buf, cap);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		fail(error, "%s: read error", path);
		return -EIO;
	}
	return scenario_parse(buf, len, path, out, error);
}

void scenario_free(struct scenario *s)
{
	for (size_t i = 0; i < s->n_steps; i++)
		step_clear(&s->steps[i]);
	free(s->steps);
	*s = (struct scenario){ 0 };
}

int scn_parse_action_line(const char *line, struct scn_action *out, char **error)
{
	struct token *t = NULL;
	size_t n = 0;
	int r;

	if (error)
		*error = NULL;
	r = tokenize(line, &t, &n, error);
	if (r < 0)
		return r;
	if (n == 0 || t[0].value) {
		r = fail(error, "expected an action (tag-seen, tag, card, ...)");
	} else if (strcmp(t[0].word, "repeat") == 0) {
		r = fail(error, "repeat cannot be injected");
	} else {
		struct scn_step step = { .count = 1 };
		r = take_args(&step, t, 1, n, error);
		if (r >= 0) {
			step.action = TAKE_PTR(t[0].word);
			r = scn_step_action(&step, 0, out, error);
		}
		step_clear(&step);
	}
	tokens_free(t, n);
	return r;
}
