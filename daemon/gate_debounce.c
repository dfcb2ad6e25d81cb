/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gate_debounce.h"
#include "util/util.h"

#define INITIAL_CAP 64

void gate_debounce_init(struct gate_debounce *d, uint64_t window_usec)
{
	*d = (struct gate_debounce){ .window_usec = window_usec };
}

void gate_debounce_free(struct gate_debounce *d)
{
	free(d->v);
	d->v = NULL;
	d->cap = d->used = 0;
}

/* FNV-1a, 64 bit */
static uint64_t hash_key(const uint8_t *key, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return h;
}

static struct gate_debounce_entry *find(const struct gate_debounce *d, const uint8_t *key,
					size_t len)
{
	if (!d->cap)
		return NULL;
	size_t mask = d->cap - 1;
	/* Never full (rebuilt at half), so an empty slot ends every probe. */
	for (size_t i = (size_t)hash_key(key, len) & mask;; i = (i + 1) & mask) {
		struct gate_debounce_entry *e = &d->v[i];
		if (!e->until_usec)
			return e;
		if (e->key_len == len && memcmp(e->key, key, len) == 0)
			return e;
	}
}

bool gate_debounce_quiet(const struct gate_debounce *d, const uint8_t *key, size_t key_len,
			 uint64_t now_usec)
{
	if (!key_len || key_len > CIRCD_UID_MAX)
		return false;
	const struct gate_debounce_entry *e = find(d, key, key_len);
	return e && e->until_usec && now_usec < e->until_usec;
}

static void rebuild(struct gate_debounce *d, uint64_t now_usec)
{
	size_t live = gate_debounce_count(d, now_usec);
	size_t cap = d->cap ? d->cap : INITIAL_CAP;
	while (live + 1 > cap / 4)
		cap *= 2;
	struct gate_debounce old = *d;
	d->v = xcalloc(cap, sizeof(*d->v));
	d->cap = cap;
	d->used = 0;
	for (size_t i = 0; i < old.cap; i++) {
		const struct gate_debounce_entry *e = &old.v[i];
		if (e->until_usec && now_usec < e->until_usec) {
			*find(d, e->key, e->key_len) = *e;
			d->used++;
		}
	}
	free(old.v);
}

void gate_debounce_arm(struct gate_debounce *d, const uint8_t *key, size_t key_len,
		       uint64_t now_usec)
{
	if (!key_len || key_len > CIRCD_UID_MAX)
		return;
	if (!d->cap || d->used + 1 > d->cap / 2)
		rebuild(d, now_usec);
	struct gate_debounce_entry *e = find(d, key, key_len);
	if (!e->until_usec) {
		memcpy(e->key, key, key_len);
		e->key_len = (uint8_t)key_len;
		d->used++;
	}
	/* A window of 0 still needs a non-zero "taken" mark. */
	e->until_usec = now_usec + d->window_usec ? now_usec + d->window_usec : 1;
}

size_t gate_debounce_count(const struct gate_debounce *d, uint64_t now_usec)
{
	size_t n = 0;
	for (size_t i = 0; i < d->cap; i++)
		n += d->v[i].until_usec && now_usec < d->v[i].until_usec;
	return n;
}
