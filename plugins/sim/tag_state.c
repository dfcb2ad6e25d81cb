/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "tag_state.h"
#include "util/util.h"

/* FNV-1a over the UID bytes. */
static size_t uid_hash(const uint8_t *uid, uint8_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (uint8_t i = 0; i < len; i++)
		h = (h ^ uid[i]) * 0x100000001b3ULL;
	return (size_t)h;
}

static struct tag_entry *slot(const struct tag_state *t, const uint8_t *uid, uint8_t len)
{
	size_t i = uid_hash(uid, len) & (t->cap - 1);

	while (t->v[i].uid_len && (t->v[i].uid_len != len || memcmp(t->v[i].uid, uid, len)))
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

static struct tag_entry *get(struct tag_state *t, const uint8_t *uid, uint8_t len)
{
	if (len == 0 || len > CIRCD_UID_MAX)
		return NULL;
	if (2 * (t->n + 1) > t->cap) {
		struct tag_state bigger = { .cap = t->cap ? 2 * t->cap : 64, .n = t->n };
		bigger.v = xcalloc(bigger.cap, sizeof(*bigger.v));
		for (size_t i = 0; i < t->cap; i++)
			if (t->v[i].uid_len)
				*slot(&bigger, t->v[i].uid, t->v[i].uid_len) = t->v[i];
		free(t->v);
		*t = bigger;
	}
	struct tag_entry *e = slot(t, uid, len);
	if (!e->uid_len) {
		*e = (struct tag_entry){ .uid_len = len, .afi = -1, .eas = -1 };
		memcpy(e->uid, uid, len);
		t->n++;
	}
	return e;
}

void tag_state_set_afi(struct tag_state *t, const uint8_t *uid, uint8_t uid_len, uint8_t afi)
{
	struct tag_entry *e = get(t, uid, uid_len);
	if (e)
		e->afi = afi;
}

void tag_state_set_eas(struct tag_state *t, const uint8_t *uid, uint8_t uid_len, bool on)
{
	struct tag_entry *e = get(t, uid, uid_len);
	if (e)
		e->eas = on;
}

void tag_state_apply(const struct tag_state *t, const uint8_t *uid, uint8_t uid_len,
		     int16_t *afi, int8_t *eas)
{
	if (!t->cap || uid_len == 0 || uid_len > CIRCD_UID_MAX)
		return;
	const struct tag_entry *e = slot(t, uid, uid_len);
	if (!e->uid_len)
		return;
	if (e->afi >= 0)
		*afi = e->afi;
	if (e->eas >= 0)
		*eas = e->eas;
}

void tag_state_free(struct tag_state *t)
{
	free(t->v);
	*t = (struct tag_state){ 0 };
}
