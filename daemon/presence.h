/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which tags are in which reader's field, and when they left: "dedupe at
 * the door".  A tag lingering at a reader is one observation, not fifty,
 * and a tag flickering at the edge of the field (gone, seen again within
 * the debounce time) is not a second return.  Bounded: entries of tags that
 * left longer ago than the debounce time are swept.
 */
#ifndef CIRCD_PRESENCE_H
#define CIRCD_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/event.h>

struct presence_entry {
	const void *device;
	uint8_t uid[CIRCD_UID_MAX];
	uint8_t uid_len;
	bool present;
	bool used;
	uint64_t gone_usec; /* monotonic, when it left */
};

struct presence {
	struct presence_entry *v;
	size_t cap, count;
	uint64_t debounce_usec;
};

enum presence_verdict {
	PRESENCE_NEW,      /* arrived: worth acting on */
	PRESENCE_LINGER,   /* already in the field */
	PRESENCE_FLICKER,  /* came back within the debounce time */
};

void presence_init(struct presence *p, uint64_t debounce_usec);
void presence_free(struct presence *p);
enum presence_verdict presence_seen(struct presence *p, const void *device, const uint8_t *uid,
				    uint8_t uid_len, uint64_t now_usec);
void presence_gone(struct presence *p, const void *device, const uint8_t *uid, uint8_t uid_len,
		   uint64_t now_usec);
size_t presence_count(const struct presence *p);

#endif
