/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "presence.h"
#include "util/util.h"

void presence_init(struct presence *p, uint64_t debounce_usec)
{
	*p = (struct presence){ .debounce_usec = debounce_usec };
	p->cap = 256;
	p->v = xcalloc(p->cap, sizeof(*p->v));
}

void presence_free(struct presence *p)
{
	free(p->v);
	*p = (struct presence){ 0 };
}

static uint64_t hash(const void *device, const uint8_t *uid, uint8_t len)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)device;
	for (uint8_t i = 0; i < len; i++) {
		h ^= uid[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct presence_entry *lookup(struct presence *p, const void *device, const uint8_t *uid,
				     uint8_t len, bool *found)
{
	size_t i = hash(device, uid, len) & (p->cap - 1);
	for (;; i = (i + 1) & (p->cap - 1)) {
		struct presence_entry *e = &p->v[i];
		if (!e->used) {
			*found = false;
			return e;
		}
		if (e->device == device && e->uid_len == len && memcmp(e->uid, uid, len) == 0) {
			*found = true;
			return e;
		}
	}
}

/* Rebuild without the entries nobody needs any more; grow if still full. */
static void sweep(struct presence *p, uint64_t now)
{
	struct presence_entry *old = p->v;
	size_t old_cap = p->cap, live = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used && (old[i].present || now - old[i].gone_usec < p->debounce_usec))
			live++;
	while (live * 2 >= p->cap)
		p->cap *= 2;
	p->v = xcalloc(p->cap, sizeof(*p->v));
	p->count = 0;
	for (size_t i = 0; i < old_cap; i++) {
		struct presence_entry *e = &old[i];
		if (!e->used || (!e->present && now - e->gone_usec >= p->debounce_usec))
			continue;
		bool found;
		struct presence_entry *n = lookup(p, e->device, e->uid, e->uid_len, &found);
		*n = *e;
		p->count++;
	}
	free(old);
}

enum presence_verdict presence_seen(struct presence *p, const void *device, const uint8_t *uid,
				    uint8_t uid_len, uint64_t now)
{
	if (uid_len > CIRCD_UID_MAX)
		uid_len = CIRCD_UID_MAX;
	if ((p->count + 1) * 4 >= p->cap * 3)
		sweep(p, now);
	bool found;
	struct presence_entry *e = lookup(p, device, uid, uid_len, &found);
	if (found) {
		if (e->present)
			return PRESENCE_LINGER;
		e->present = true;
		return now - e->gone_usec < p->debounce_usec ? PRESENCE_FLICKER : PRESENCE_NEW;
	}
	*e = (struct presence_entry){ .device = device, .uid_len = uid_len, .present = true, .used = true };
	memcpy(e->uid, uid, uid_len);
	p->count++;
	return PRESENCE_NEW;
}

void presence_gone(struct presence *p, const void *device, const uint8_t *uid, uint8_t uid_len,
		   uint64_t now)
{
	if (uid_len > CIRCD_UID_MAX)
		uid_len = CIRCD_UID_MAX;
	bool found;
	struct presence_entry *e = lookup(p, device, uid, uid_len, &found);
	if (found && e->present) {
		e->present = false;
		e->gone_usec = now;
	}
}

size_t presence_count(const struct presence *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->cap; i++)
		n += p->v[i].used && p->v[i].present;
	return n;
}
