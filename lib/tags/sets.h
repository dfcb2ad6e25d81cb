/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Multi-part items (sets): a 3-disc audiobook returned with one disc
 * missing is an exception, not a return.  The core feeds every part it
 * sees; a station asks whether all parts of the set arrived within the
 * window.  Parts of one set share owner and primary item id and differ in
 * the ordinal part number (ISO 28560-1 set information).
 *
 * A pure data structure: no threads, no clock of its own (times are
 * passed in), no allocation; at most TAG_SET_TRACKER_MAX sets are open at
 * once, and when full the oldest is evicted (counted in ->evicted).
 */
#ifndef CIRCD_TAGS_SETS_H
#define CIRCD_TAGS_SETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tags/tag.h"

#define TAG_SET_TRACKER_MAX 64
#define TAG_SET_PARTS_MAX 255

enum tag_set_status {
	TAG_SET_UNKNOWN = 0, /* never seen (or forgotten) */
	TAG_SET_SINGLE,      /* not a multi-part item */
	TAG_SET_INCOMPLETE,  /* parts missing, window still open */
	TAG_SET_COMPLETE,    /* every part seen within the window */
	TAG_SET_EXPIRED,     /* window passed with parts missing */
};

struct tag_set_entry {
	bool used;
	uint8_t total;
	uint16_t seen_count;
	uint64_t seen[4];          /* bit n = ordinal n + 1 seen */
	uint64_t first_usec;
	uint64_t last_usec;
	char owner[TAG_ISIL_MAX + 1];
	char item_id[TAG_ID_MAX + 1];
};

struct tag_set_tracker {
	uint64_t window_usec;
	uint64_t evicted;
	struct tag_set_entry entries[TAG_SET_TRACKER_MAX];
};

void tag_set_tracker_init(struct tag_set_tracker *t, uint64_t window_usec);

/* A part was seen.  owner may be "" or NULL.  Returns the set's status
 * after this part, or -EINVAL (ordinal 0 or > total, total > 255, no id, or
 * a total that disagrees with earlier parts). */
int tag_set_feed(struct tag_set_tracker *t, const char *owner, const char *item_id,
		 unsigned ordinal, unsigned total, uint64_t now_usec);

/* Status now; seen/total (may be NULL) say how far it got. */
enum tag_set_status tag_set_query(const struct tag_set_tracker *t, const char *owner,
				  const char *item_id, uint64_t now_usec, unsigned *seen,
				  unsigned *total);

/* The station has dealt with the set: drop it.  -ENOENT if unknown. */
int tag_set_forget(struct tag_set_tracker *t, const char *owner, const char *item_id);

/* Move up to max expired, incomplete sets into out (and out of the
 * tracker) so the core can raise an exception for each.  Returns how many. */
size_t tag_set_take_expired(struct tag_set_tracker *t, uint64_t now_usec,
			    struct tag_set_entry *out, size_t max);

/* Is ordinal n (1-based) of an entry seen? */
bool tag_set_entry_has(const struct tag_set_entry *e, unsigned ordinal);

#endif
