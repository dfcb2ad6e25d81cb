/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the sim remembers about tags it was told to write: AFI and EAS per
 * UID, so that a later tag-seen reports the written values (the station's
 * read-back verification sees the sim behave like a tag).
 */
#ifndef CIRCD_SIM_TAG_STATE_H
#define CIRCD_SIM_TAG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/event.h>

struct tag_entry {
	uint8_t uid[CIRCD_UID_MAX];
	uint8_t uid_len; /* 0 = free slot */
	int16_t afi;     /* -1 = never written */
	int8_t eas;      /* -1 = never written */
};

/* Open-addressing hash table; grows at 50 % load.  Not thread-safe: the
 * sim's worker thread is its only user. */
struct tag_state {
	struct tag_entry *v;
	size_t n, cap;
};

void tag_state_set_afi(struct tag_state *t, const uint8_t *uid, uint8_t uid_len, uint8_t afi);
void tag_state_set_eas(struct tag_state *t, const uint8_t *uid, uint8_t uid_len, bool on);
/* Overwrite *afi / *eas with what was written to this uid, if anything. */
void tag_state_apply(const struct tag_state *t, const uint8_t *uid, uint8_t uid_len,
		     int16_t *afi, int8_t *eas);
void tag_state_free(struct tag_state *t);

#endif
