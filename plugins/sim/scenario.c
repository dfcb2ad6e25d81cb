/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scenario parser for the sim plugin (grammar in scenario.h): lines, times,
 * tokens, quoting and repeat steps; the actions and their keys are in
 * scn_action.c.
 *
 * Everything that can be wrong with a scenario is found here, at load, and
 * reported as "file:line: reason": the player never meets a bad step.  The
 * parser is fuzzed (tests/fuzz/fuzz_scenario.c), so it must survive any
 * bytes: lengths are checked, never assumed.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "util/util.h"

/* Every scenario error is -EINVAL with a message. */
#define fail(error, ...) error_set(error, -EINVAL, __VA_ARGS__)

int scn_step_action(const struct scn_step *step, uint64_t index, struct scn_action *out,
		    char **error)
{
	return scn_build_action(step->action, step->args, step->n_args, step->repeat, index, out,
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
	if (scn_parse_u64(t[0].word + rel, SCN_TIME_MAX, &ms) < 0) {
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
			if (scn_parse_u64(t[i].value, SCN_TIME_MAX, dst) < 0) {
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
