/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The self-check station's state, shared by station_selfcheck.c (the
 * session: patron, checkouts, un-securing) and selfcheck_report.c (what
 * the kiosk reads: status and receipt).  One kiosk per station, so one
 * session at a time; the last ended (or refused) one stays readable until
 * the next begins, for its receipt.
 */
#ifndef CIRCD_SELFCHECK_H
#define CIRCD_SELFCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "selfcheck_patron.h"

struct station;

#define SC_PARTS_MAX 8 /* tags of one item (a multi-part set) */

enum sc_state { SC_IDLE, SC_STARTING, SC_ACTIVE, SC_REFUSED, SC_ENDED };
enum sc_item_state { SC_ITEM_PENDING, SC_ITEM_OK, SC_ITEM_FAILED };
/* What a pending item waits for. */
enum sc_step { SC_STEP_PARTS, SC_STEP_PATRON, SC_STEP_ILS, SC_STEP_SECURE };

struct sc_tag {
	uint8_t uid[10];
	uint8_t uid_len;
	char uid_hex[21];
	char device[64];
	uint64_t cmd_afi, cmd_eas; /* outstanding command ids, 0 = none */
	int afi, eas;              /* last read from the tag, -1 = not read */
};

struct sc_item {
	char item_id[128];
	bool renew;
	enum sc_item_state state;
	enum sc_step step;
	char reason[256];
	int64_t txn_id;
	bool provisional;          /* offline: journaled, the ILS has not seen it yet */
	bool confirmed;            /* the ILS's OK came (for a provisional one: later) */
	char title[200], due_date[40];
	char security[16];         /* "", "pending", "on-loan", "not-changed", "none", "failed" */
	struct sc_tag tags[SC_PARTS_MAX];
	size_t n_tags;
	char *detail;              /* the first tag's decode facts (JSON), for the journal */
	uint64_t event_time_usec;
};

struct sc_session {
	enum sc_state state;
	uint64_t number;
	char patron[64];
	char *pin;                 /* until the patron check is answered; wiped */
	bool by_card;
	bool offline;
	bool renew_only;
	char reason[256];          /* refused: why; renew_only: the block */
	struct selfcheck_patron info;
	bool have_info;
	int64_t request_id;        /* the patron check in flight (<= 0), 0 = none */
	uint64_t begun_usec;       /* realtime */
	uint64_t ended_usec;
	uint64_t request_sent_mono, last_activity_mono;
	bool timed_out;
	struct sc_item *items;
	size_t n_items, cap_items;
};

struct selfcheck {
	char *ils;                 /* the upstream that answers for the kiosk */
	bool offline_accept;
	int64_t offline_max_items;
	uint64_t session_timeout_usec, request_timeout_usec;
	bool require_pin;
	const char *card_format;
	struct sc_session s;
	uint64_t sessions;
	char card_patron[64];      /* a card read while no session (require_pin) */
	uint64_t card_mono;
	sd_event_source *timer;
};

/* selfcheck_report.c */
const char *sc_state_name(enum sc_state s);
json_object *sc_status_json(struct station *st);
json_object *sc_receipt_json(struct station *st);
json_object *sc_item_json(const struct sc_item *it);

#endif
