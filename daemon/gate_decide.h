/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gate's alarm decision for one tag read, as a pure function: no
 * journal, no clock, no I/O.  The gate station (station_gate.c) gathers
 * what it knows about the tag and asks; the unit test asks the same.
 *
 * Modes (the station's option `mode`):
 *   afi             alarm when the tag's AFI is the site's in-stock value
 *                   (core->cfg->security.afi_in_stock); silent when it is the
 *                   on-loan value, when it was not read, or when it is some
 *                   other value (an AFI gate queries with the in-stock AFI:
 *                   other tags do not even answer).
 *   eas             alarm when the tag's EAS bit is on; silent when off or
 *                   not read.
 *   cache           the item's circulation state as this site knows it
 *                   (items table and this site's own transactions): alarm
 *                   when it is known and not on loan, silent when on loan;
 *                   an item the site does not know is decided by the
 *                   `cache_unknown` fallback.
 *   afi-then-cache  the AFI first.  On-loan AFI: silent.  In-stock AFI: an
 *                   alarm -- unless the cache knows the item is on loan (the
 *                   tag was not flipped at checkout), then silent.  No AFI
 *                   or an AFI that is neither value: decided as in `cache`.
 *
 * Fallbacks (options `undecodable` and `cache_unknown`):
 *   afi     alarm when the AFI is the in-stock value (the default);
 *   alarm   always;
 *   silent  never.
 * `undecodable` applies in every mode to a tag whose memory was read but
 * could not be decoded, and in the cache modes to a read without any item
 * id (the cache cannot be asked without one).
 */
#ifndef CIRCD_GATE_DECIDE_H
#define CIRCD_GATE_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "tags/security.h"

enum gate_mode {
	GATE_MODE_AFI = 0,
	GATE_MODE_EAS,
	GATE_MODE_CACHE,
	GATE_MODE_AFI_THEN_CACHE,
};

enum gate_fallback {
	GATE_FALLBACK_AFI = 0,
	GATE_FALLBACK_ALARM,
	GATE_FALLBACK_SILENT,
};

enum gate_cache_state {
	GATE_CACHE_UNKNOWN = 0,  /* the site knows nothing of the item */
	GATE_CACHE_ON_LOAN,      /* charged (SIP2 04, 05, 07) or checked out here */
	GATE_CACHE_NOT_ON_LOAN,  /* any other known state: may not leave */
};

/* Why: journaled as the alarm's "reason" (and kept for silent decisions). */
enum gate_reason {
	GATE_REASON_AFI_SECURED = 0, /* AFI is the in-stock value */
	GATE_REASON_AFI_ON_LOAN,
	GATE_REASON_AFI_UNKNOWN,     /* not read, or neither configured value */
	GATE_REASON_EAS_ON,
	GATE_REASON_EAS_OFF,
	GATE_REASON_EAS_NOT_READ,
	GATE_REASON_CACHE_NOT_ON_LOAN,
	GATE_REASON_CACHE_ON_LOAN,
	GATE_REASON_CACHE_UNKNOWN,   /* decided by cache_unknown */
	GATE_REASON_UNDECODABLE,     /* decided by undecodable */
	GATE_REASON_NO_ITEM_ID,      /* cache mode without an item id: undecodable */
	GATE_REASON_COUNT_,
};

struct gate_policy {
	enum gate_mode mode;
	enum gate_fallback undecodable;
	enum gate_fallback cache_unknown;
	uint8_t afi_in_stock;
	uint8_t afi_on_loan;
};

/* What the gate knows about one read. */
struct gate_read {
	int afi;          /* -1 = not read */
	int eas;          /* -1 = not read, 0 off, 1 on */
	bool has_item_id; /* from the device or the decoded memory */
	bool undecodable; /* memory was read and could not be decoded */
};

struct gate_decision {
	bool alarm;
	enum gate_reason reason;
	bool cache_asked; /* whether the cache callback was called */
	enum gate_cache_state cache;
};

/* The cache is asked only when the mode needs it (a database read). */
typedef enum gate_cache_state (*gate_cache_fn)(void *userdata);

void gate_decide(const struct gate_policy *p, const struct gate_read *r, gate_cache_fn cache,
		 void *userdata, struct gate_decision *out);

const char *gate_mode_name(enum gate_mode m);
const char *gate_fallback_name(enum gate_fallback f);
const char *gate_reason_name(enum gate_reason r);
const char *gate_cache_state_name(enum gate_cache_state c);
/* 0, or -EINVAL for a name that is none of them. */
int gate_mode_from_name(const char *s, enum gate_mode *out);
int gate_fallback_from_name(const char *s, enum gate_fallback *out);

/* A SIP2 circulation status ("04") as a cache state: 04, 05 and 07
 * (charged, charged not to be recalled, recalled: still with the patron)
 * are on loan; every other code is not; NULL or "" is unknown. */
enum gate_cache_state gate_cache_state_of_status(const char *circulation_status);

#endif
