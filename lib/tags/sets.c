/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Set tracker: a fixed table, linear search.  64 open sets is far more than
 * a book-drop or a self-check pad ever holds at once, and a linear scan of
 * 64 entries costs less than hashing would.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tags/sets.h"

void tag_set_tracker_init(struct tag_set_tracker *t, uint64_t window_usec)
{
	memset(t, 0, sizeof(*t));
	t->window_usec = window_usec;
}

static bool key_eq(const struct tag_set_entry *e, const char *owner, const char *item_id)
{
	return e->used && strcmp(e->item_id, item_id) == 0 && strcmp(e->owner, owner ? owner : "") == 0;
}

static struct tag_set_entry *find(const struct tag_set_tracker *t, const char *owner, const char *item_id)
{
	for (size_t i = 0; i < TAG_SET_TRACKER_MAX; i++)
		if (key_eq(&t->entries[i], owner, item_id))
			return (struct tag_set_entry *)&t->entries[i];
	return NULL;
}

bool tag_set_entry_has(const struct tag_set_entry *e, unsigned ordinal)
{
	if (ordinal == 0 || ordinal > TAG_SET_PARTS_MAX)
		return false;
	unsigned b = ordinal - 1;
	return (e->seen[b / 64] >> (b % 64)) & 1u;
}

static bool expired(const struct tag_set_tracker *t, const struct tag_set_entry *e, uint64_t now)
{
	return now > e->first_usec && now - e->first_usec > t->window_usec;
}

static enum tag_set_status status_of(const struct tag_set_tracker *t, const struct tag_set_entry *e,
				     uint64_t now)
{
	if (e->seen_count >= e->total)
		return e->last_usec - e->first_usec <= t->window_usec ? TAG_SET_COMPLETE : TAG_SET_EXPIRED;
	return expired(t, e, now) ? TAG_SET_EXPIRED : TAG_SET_INCOMPLETE;
}

static struct tag_set_entry *slot_for_new(struct tag_set_tracker *t)
{
	struct tag_set_entry *oldest = &t->entries[0];

	for (size_t i = 0; i < TAG_SET_TRACKER_MAX; i++) {
		if (!t->entries[i].used)
			return &t->entries[i];
		if (t->entries[i].last_usec < oldest->last_usec)
			oldest = &t->entries[i];
	}
	t->evicted++;
	return oldest;
}

int tag_set_feed(struct tag_set_tracker *t, const char *owner, const char *item_id,
		 unsigned ordinal, unsigned total, uint64_t now_usec)
{
	if (!item_id || !item_id[0] || strlen(item_id) > TAG_ID_MAX ||
	    (owner && strlen(owner) > TAG_ISIL_MAX))
		return -EINVAL;
	if (total > TAG_SET_PARTS_MAX || ordinal == 0 || ordinal > total)
		return -EINVAL;
	if (total <= 1)
		return TAG_SET_SINGLE;

	struct tag_set_entry *e = find(t, owner, item_id);
	if (e && e->total != total)
		return -EINVAL;
	/* a part seen again after the window closed starts a new attempt */
	if (e && status_of(t, e, now_usec) == TAG_SET_EXPIRED)
		memset(e, 0, sizeof(*e));
	if (!e || !e->used) {
		if (!e)
			e = slot_for_new(t);
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->total = (uint8_t)total;
		e->first_usec = now_usec;
		strcpy(e->item_id, item_id);
		strcpy(e->owner, owner ? owner : "");
	}
	unsigned b = ordinal - 1;
	if (!((e->seen[b / 64] >> (b % 64)) & 1u)) {
		e->seen[b / 64] |= 1ull << (b % 64);
		e->seen_count++;
	}
	e->last_usec = now_usec;
	return status_of(t, e, now_usec);
}

enum tag_set_status tag_set_query(const struct tag_set_tracker *t, const char *owner,
				  const char *item_id, uint64_t now_usec, unsigned *seen,
				  unsigned *total)
{
	const struct tag_set_entry *e = item_id ? find(t, owner, item_id) : NULL;

	if (seen)
		*seen = e ? e->seen_count : 0;
	if (total)
		*total = e ? e->total : 0;
	return e ? status_of(t, e, now_usec) : TAG_SET_UNKNOWN;
}

int tag_set_forget(struct tag_set_tracker *t, const char *owner, const char *item_id)
{
	struct tag_set_entry *e = find(t, owner, item_id);

	if (!e)
		return -ENOENT;
	memset(e, 0, sizeof(*e));
	return 0;
}

size_t tag_set_take_expired(struct tag_set_tracker *t, uint64_t now_usec,
			    struct tag_set_entry *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < TAG_SET_TRACKER_MAX && n < max; i++) {
		struct tag_set_entry *e = &t->entries[i];
		if (e->used && e->seen_count < e->total && expired(t, e, now_usec)) {
			out[n++] = *e;
			memset(e, 0, sizeof(*e));
		}
	}
	return n;
}
