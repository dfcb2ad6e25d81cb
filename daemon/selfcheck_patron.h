/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The self-check station's pure decisions, apart from its state so that
 * unit tests can read like the spec:
 *  - what a patron-information answer (SIP2 64, as the sip2 plugin's
 *    fields_json) says about the patron, and whether a session may begin;
 *  - whether a checkout's answer (12) lets the kiosk un-secure the tag;
 *  - how a patron card's UID becomes a patron id.
 */
#ifndef CIRCD_SELFCHECK_PATRON_H
#define CIRCD_SELFCHECK_PATRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* SIP2 2.00 "Patron Information Response": the 14 patron status flags. */
enum selfcheck_patron_flag {
	SC_FLAG_CHARGE_DENIED = 0,
	SC_FLAG_RENEWAL_DENIED,
	SC_FLAG_RECALL_DENIED,
	SC_FLAG_HOLD_DENIED,
	SC_FLAG_CARD_LOST,
	SC_FLAG_TOO_MANY_CHARGED,
	SC_FLAG_TOO_MANY_OVERDUE,
	SC_FLAG_TOO_MANY_RENEWALS,
	SC_FLAG_TOO_MANY_CLAIMS,
	SC_FLAG_TOO_MANY_LOST,
	SC_FLAG_EXCESSIVE_FINES,
	SC_FLAG_EXCESSIVE_FEES,
	SC_FLAG_RECALL_OVERDUE,
	SC_FLAG_TOO_MANY_BILLED,
	SC_FLAG_COUNT
};

const char *selfcheck_flag_name(enum selfcheck_patron_flag f);

struct selfcheck_patron {
	char name[128];
	bool valid;           /* BL = Y */
	int pin_ok;           /* CQ: 1 Y, 0 N, -1 not said */
	bool flags[SC_FLAG_COUNT];
	int holds, overdue, charged, fines, recalls, unavailable_holds; /* -1 = not said */
	char fee_amount[32];  /* BV, as the ILS wrote it */
	char currency[8];     /* BH */
	char fee_limit[32];   /* CC */
	char screen_message[256]; /* AF lines joined by " " */
};

/* Read a patron-information answer.  -EINVAL when it is not a JSON object
 * or not a 64 (or 24). */
int selfcheck_patron_parse(const char *fields_json, struct selfcheck_patron *out);

enum selfcheck_verdict {
	SC_PATRON_OK,         /* may borrow and renew */
	SC_PATRON_RENEW_ONLY, /* charge privileges denied, renewals allowed */
	SC_PATRON_REFUSED,    /* no session */
};

/* May this patron begin a session?  pin_given: the kiosk sent a PIN, so
 * the ILS's CQ counts.  reason (for REFUSED and RENEW_ONLY) is what the
 * kiosk shows: the ILS's screen message when it gave one, else the
 * status flags in words. */
enum selfcheck_verdict selfcheck_patron_verdict(const struct selfcheck_patron *p, bool pin_given,
						char *reason, size_t size);

/* The patron as the kiosk shows it (counts, fines, blocks); no PIN. */
json_object *selfcheck_patron_json(const struct selfcheck_patron *p, const char *patron_id);

/* After a checkout's OK: un-secure the tag (AFI on loan, EAS off)?  SIP2
 * 2.00 "Checkout Response" and reference sip2.md §2: only with ok = 1;
 * magnetic media Y or security inhibit (CI) Y leave the tag as it is, and
 * so does desensitize N.  false with *why when the tag is to be left. */
bool selfcheck_may_unsecure(const char *fields_json, char *why, size_t size);

/* Patron id from a card: "hex" (the UID as read, upper case),
 * "hex-reversed" (byte order reversed: readers that report LSB first),
 * "decimal" (the UID as an unsigned big-endian number; at most 8 bytes).
 * 0, -EINVAL (unknown format, no UID), -ERANGE (too long for decimal). */
int selfcheck_card_patron_id(const uint8_t *uid, size_t uid_len, const char *format, char *out,
			     size_t size);
bool selfcheck_card_format_valid(const char *format);

/* A patron id a kiosk may send: 1..63 printable characters, no '|' (SIP2
 * cannot carry it). */
bool selfcheck_patron_id_valid(const char *id);

#endif
