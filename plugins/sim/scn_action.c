/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scenario language's vocabulary: which actions exist, which keys each
 * takes, how values are parsed, and %d expansion in repeat steps.  The line
 * structure (times, tokens, repeat) is scenario.c's.
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

/* Every scenario error is -EINVAL with a message. */
#define fail(error, ...) error_set(error, -EINVAL, __VA_ARGS__)

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

int scn_parse_u64(const char *s, uint64_t max, uint64_t *out)
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
		if (scn_parse_u64(v, 65535, &u) < 0)
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
		if (scn_parse_u64(v, 256, &u) < 0 || u == 0)
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
		if (scn_parse_u64(v, SCN_TIME_MAX, &u) < 0)
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

int scn_build_action(const char *action, const struct scn_arg *args, size_t n_args,
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
