/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-tag alarm debounce for a gate: a tag that alarmed is quiet for the
 * debounce window, however often the readers report it (a patron standing
 * in the gate, a book left on a chair next to it).  Keyed by the tag's
 * UID (or a hash of its item id); shared by all readers of one gate, so
 * two antenna panels seeing the same tag make one alarm.
 *
 * Open addressing with linear probing; expired entries are dropped when
 * the table is rebuilt (at half full), so memory stays bounded by the tags
 * that alarmed within one window.  Times are monotonic microseconds given
 * by the caller (the unit test drives its own clock).
 */
#ifndef CIRCD_GATE_DEBOUNCE_H
#define CIRCD_GATE_DEBOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/event.h>

struct gate_debounce_entry {
	uint64_t until_usec; /* quiet until then; 0 = free slot */
	uint8_t key[CIRCD_UID_MAX];
	uint8_t key_len;
};

struct gate_debounce {
	struct gate_debounce_entry *v;
	size_t cap;   /* a power of two, or 0 before the first arm */
	size_t used;  /* slots taken, expired ones included */
	uint64_t window_usec;
};

void gate_debounce_init(struct gate_debounce *d, uint64_t window_usec);
void gate_debounce_free(struct gate_debounce *d);
/* True while key alarmed less than the window ago.  A key of length 0 is
 * never quiet (a read with neither UID nor item id). */
bool gate_debounce_quiet(const struct gate_debounce *d, const uint8_t *key, size_t key_len,
			 uint64_t now_usec);
/* key alarmed now: quiet until now + window. */
void gate_debounce_arm(struct gate_debounce *d, const uint8_t *key, size_t key_len,
		       uint64_t now_usec);
/* Entries still quiet at now_usec (for tests and status). */
size_t gate_debounce_count(const struct gate_debounce *d, uint64_t now_usec);

#endif
