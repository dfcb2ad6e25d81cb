/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One journal transaction -> one SIP2 exchange, and the answer -> OK,
 * RETRY or REJECTED.  REJECTED only ever means "the ILS said no" (ok=0);
 * anything the network did is RETRY (DESIGN.md "Forwarding semantics").
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "sip2-plugin.h"
#include "util/util.h"

static void date_field(struct sip2_plugin *p, struct sip2_msg *m, const char *name,
		       uint64_t realtime_usec)
{
	char d[SIP2_DATE_LEN + 1];
	sip2_date_format(realtime_usec, p->set.utc_dates, d);
	sip2_msg_set_fixed(m, name, d);
}

static void common_fields(struct sip2_plugin *p, struct sip2_msg *m)
{
	sip2_msg_add(m, "AO", p->set.client.institution ? p->set.client.institution : "");
}

static const char *str(const char *s) { return s ? s : ""; }

/* SIP2 2.00 "Checkin": no block = Y for a replay of what happened while
 * the ACS was away; the return date is when the patron let go of the book
 * (Koha honours it, FOLIO fsip2 ignores it: reference sip2.md). */
static struct sip2_msg *build_checkin(struct sip2_plugin *p, const struct circd_txn *t,
				      uint64_t now)
{
	struct sip2_msg *m = sip2_msg_new("09");
	sip2_msg_set_fixed(m, "no_block", t->replay ? "Y" : "N");
	date_field(p, m, "transaction_date", now);
	date_field(p, m, "return_date", t->event_time_usec ? t->event_time_usec : now);
	sip2_msg_add(m, "AP", str(p->set.client.location_code));
	common_fields(p, m);
	sip2_msg_add(m, "AB", t->item_id);
	sip2_msg_add(m, "AC", str(p->set.terminal_password));
	return m;
}

/* 11 and 29 share their layout up to the first fixed field's meaning. */
static struct sip2_msg *build_charge(struct sip2_plugin *p, const struct circd_txn *t,
				     uint64_t now, bool renew)
{
	struct sip2_msg *m = sip2_msg_new(renew ? "29" : "11");
	sip2_msg_set_fixed(m, renew ? "third_party_allowed" : "sc_renewal_policy", "N");
	sip2_msg_set_fixed(m, "no_block", t->replay ? "Y" : "N");
	/* transaction date = when it happened; the nb due date is ours to give
	 * only offline, and OpenNCIP ILSs ignore it anyway: leave it blank */
	date_field(p, m, "transaction_date", t->replay && t->event_time_usec ? t->event_time_usec
									       : now);
	common_fields(p, m);
	sip2_msg_add(m, "AA", str(t->patron_id));
	sip2_msg_add(m, "AB", t->item_id);
	sip2_msg_add(m, "AC", str(p->set.terminal_password));
	return m;
}

static struct sip2_msg *build_item_info(struct sip2_plugin *p, const char *item, uint64_t now)
{
	struct sip2_msg *m = sip2_msg_new("17");
	date_field(p, m, "transaction_date", now);
	common_fields(p, m);
	sip2_msg_add(m, "AB", item);
	sip2_msg_add(m, "AC", str(p->set.terminal_password));
	return m;
}

/*
 * After a restart the transaction may already have reached the ILS (the
 * answer was lost).  SIP2 has no idempotency key, so ask the item's state
 * (17) and decide (SIP2 2.00 "Item Information Response", circulation
 * status):
 *  - checkin: 03 available, 08 waiting on hold shelf, 09 waiting to be
 *    reshelved, 10 in transit -> the return is in; anything else (04/05
 *    charged, 01 other, 12 lost, 13 missing ...) -> post it.  A checkin of an
 *    item that is not out is harmless on every ILS we know (Koha answers
 *    ok=1 or "not checked out"), so on doubt we post.
 *  - checkout: 04/05 charged -> the loan is in.  18 does not say to whom;
 *    the only client that charges this item is us, so we accept that.
 *  - renew: there is no state to tell a renewal by; renewing twice moves
 *    the due date once more, which is the lesser harm: post.
 */
static bool already_applied(uint32_t kind, const char *circ_status)
{
	if (!circ_status)
		return false;
	if (kind == CIRCD_TXN_CHECKIN)
		return !strcmp(circ_status, "03") || !strcmp(circ_status, "08") ||
		       !strcmp(circ_status, "09") || !strcmp(circ_status, "10");
	if (kind == CIRCD_TXN_CHECKOUT)
		return !strcmp(circ_status, "04") || !strcmp(circ_status, "05");
	return false;
}

static enum circd_txn_status exchange(struct sip2_plugin *p, const struct sip2_msg *req,
				      struct sip2_msg **resp, bool *transport_failed,
				      char **message)
{
	int r = sip2_client_request(p->client, req, resp);
	if (r == 0)
		return CIRCD_TXN_OK;
	if (r == -EINVAL) {
		/* our message cannot be encoded: a '|' in an item id.  That
		 * will not get better by retrying. */
		*message = xasprintf("cannot encode SIP2 %s: %s", req->id,
				     sip2_client_error_text(p->client));
		return CIRCD_TXN_REJECTED;
	}
	*transport_failed = true;
	*message = xasprintf("%s: %s", sip2_client_error_name(sip2_client_error(p->client)),
			     sip2_client_error_text(p->client));
	return CIRCD_TXN_RETRY;
}

/* BX position 11 (SIP2 2.00 "ACS Status"): item information.  Before a
 * 98 has said otherwise (no BX), assume the ACS has it. */
static bool acs_has_17(const struct sip2_plugin *p)
{
	return strlen(p->status.supported) < 11 || p->status.supported[10] == 'Y';
}

/*
 * CIRCD_TXN_ITEM_INFO: a lookup for the items table (`circctl item
 * --refresh`, gates enriching an alarm).  Only 17 is sent: a lookup never
 * posts anything.  OK carries the 18 as fields_json (circulation_status,
 * security_marker, title, call_number, permanent_location, due_date,
 * hold_queue_length ...).
 *
 * An item the ILS does not know is REJECTED, so no row is made of it.
 * SIP2 has no "not found" flag; Koha and the OpenNCIP servers answer an
 * unknown barcode with circulation status 01 (other) and an empty AJ
 * (title, a required field that every real item fills).
 */
static enum circd_txn_status item_info(struct sip2_plugin *p, const char *item, uint64_t now,
				       char **message, char **fields_json,
				       bool *transport_failed)
{
	if (!*item) {
		*message = xstrdup("no item id to look up");
		return CIRCD_TXN_REJECTED;
	}
	if (!acs_has_17(p)) {
		*message = xstrdup("the ACS does not offer item information (17): its 98 BX says N");
		return CIRCD_TXN_REJECTED;
	}
	_cleanup_(sip2_msg_freep) struct sip2_msg *q = build_item_info(p, item, now);
	_cleanup_(sip2_msg_freep) struct sip2_msg *resp = NULL;
	enum circd_txn_status st = exchange(p, q, &resp, transport_failed, message);
	if (st != CIRCD_TXN_OK)
		return st;
	*fields_json = sip2_fields_json(resp, sip2_client_last_raw(p->client), NULL, false);
	const char *cs = sip2_msg_fixed(resp, "circulation_status");
	const char *title = sip2_msg_get(resp, "AJ");
	if (cs && strcmp(cs, "01") == 0 && !(title && *title)) {
		const char *af = sip2_msg_get(resp, "AF");
		*message = af && *af ? xasprintf("the ILS does not know item %s: %s", item, af)
				     : xasprintf("the ILS does not know item %s", item);
		return CIRCD_TXN_REJECTED;
	}
	return CIRCD_TXN_OK;
}

/* BX (SIP2 2.00 "ACS Status"), 0-based: 7 patron information, 8 end
 * patron session.  No BX yet: assume the ACS has them. */
static bool acs_supports(const struct sip2_plugin *p, size_t pos)
{
	return strlen(p->status.supported) <= pos || p->status.supported[pos] == 'Y';
}

/* The PIN a kiosk's request carries in its JSON ("patron_pin"), or NULL.
 * malloc'd; the caller wipes it.  It goes into AD and nowhere else. */
static char *request_pin(const struct circd_txn *t)
{
	if (!t->json)
		return NULL;
	json_object *o = json_tokener_parse(t->json);
	json_object *v;
	char *pin = NULL;
	if (o && json_object_object_get_ex(o, "patron_pin", &v) && json_object_is_type(v, json_type_string))
	{
		pin = xstrdup(json_object_get_string(v));
		explicit_bzero((char *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
	}
	json_object_put(o); /* json-c frees the copy it parsed; t->json is the host's */
	return pin;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * CIRCD_TXN_PATRON_INFO: 63 -> 64 for a self-check kiosk.  OK carries the
 * 64 as fields_json (patron_status, valid_patron BL, valid_password CQ,
 * fee_amount, the counts and item lists); the station decides what a block
 * means.  Only "the ACS cannot do this" is REJECTED.
 */
static enum circd_txn_status patron_info(struct sip2_plugin *p, const struct circd_txn *t,
					 uint64_t now, char **message, char **fields_json,
					 bool *transport_failed)
{
	if (!(t->patron_id && *t->patron_id)) {
		*message = xstrdup("no patron id");
		return CIRCD_TXN_REJECTED;
	}
	if (!acs_supports(p, 7)) {
		*message = xstrdup("the ACS does not offer patron information (63): its 98 BX says N");
		return CIRCD_TXN_REJECTED;
	}
	_cleanup_(sip2_msg_freep) struct sip2_msg *q = sip2_msg_new("63");
	date_field(p, q, "transaction_date", now);
	common_fields(p, q);
	sip2_msg_add(q, "AA", t->patron_id);
	sip2_msg_add(q, "AC", str(p->set.terminal_password));
	char *pin = request_pin(t);
	if (pin)
		sip2_msg_add(q, "AD", pin);
	wipe_free(pin);
	_cleanup_(sip2_msg_freep) struct sip2_msg *resp = NULL;
	enum circd_txn_status st = exchange(p, q, &resp, transport_failed, message);
	/* the request held the PIN: wipe what the codec kept of it */
	for (size_t i = 0; i < q->n_fields; i++)
		if (strcmp(q->fields[i].id, "AD") == 0)
			explicit_bzero(q->fields[i].value, strlen(q->fields[i].value));
	if (st != CIRCD_TXN_OK)
		return st;
	*fields_json = sip2_fields_json(resp, sip2_client_last_raw(p->client), NULL, false);
	return CIRCD_TXN_OK;
}

/* CIRCD_TXN_END_SESSION: 35 -> 36.  An ACS without 35 has nothing to end:
 * OK with {"skipped":true}, as for counts. */
static enum circd_txn_status end_session(struct sip2_plugin *p, const struct circd_txn *t,
					 uint64_t now, char **message, char **fields_json,
					 bool *transport_failed)
{
	if (!(t->patron_id && *t->patron_id)) {
		*message = xstrdup("no patron id");
		return CIRCD_TXN_REJECTED;
	}
	if (!acs_supports(p, 8)) {
		*fields_json = xstrdup("{\"skipped\":true}");
		return CIRCD_TXN_OK;
	}
	_cleanup_(sip2_msg_freep) struct sip2_msg *q = sip2_msg_new("35");
	date_field(p, q, "transaction_date", now);
	common_fields(p, q);
	sip2_msg_add(q, "AA", t->patron_id);
	sip2_msg_add(q, "AC", str(p->set.terminal_password));
	_cleanup_(sip2_msg_freep) struct sip2_msg *resp = NULL;
	enum circd_txn_status st = exchange(p, q, &resp, transport_failed, message);
	if (st != CIRCD_TXN_OK)
		return st;
	*fields_json = sip2_fields_json(resp, sip2_client_last_raw(p->client), NULL, false);
	return CIRCD_TXN_OK;
}

enum circd_txn_status sip2_txn_handle(struct sip2_plugin *p, const struct circd_txn *t,
				      char **message, char **fields_json, bool *transport_failed)
{
	uint64_t now = p->host->now_realtime_usec();
	*message = *fields_json = NULL;
	*transport_failed = false;
	const char *item = str(t->item_id);

	switch (t->kind) {
	case CIRCD_TXN_CHECKIN:
	case CIRCD_TXN_CHECKOUT:
	case CIRCD_TXN_RENEW:
	case CIRCD_TXN_ALARM:
		break;
	case CIRCD_TXN_ITEM_INFO:
		return item_info(p, item, now, message, fields_json, transport_failed);
	case CIRCD_TXN_PATRON_INFO:
		return patron_info(p, t, now, message, fields_json, transport_failed);
	case CIRCD_TXN_END_SESSION:
		return end_session(p, t, now, message, fields_json, transport_failed);
	default:
		/* counts and locations are not circulation: nothing to post */
		*fields_json = xstrdup("{\"skipped\":true}");
		return CIRCD_TXN_OK;
	}
	if (!*item) {
		*message = xstrdup("no item id (unreadable tag?)");
		return CIRCD_TXN_REJECTED;
	}
	if ((t->kind == CIRCD_TXN_CHECKOUT || t->kind == CIRCD_TXN_RENEW) &&
	    !(t->patron_id && *t->patron_id)) {
		*message = xstrdup("no patron id");
		return CIRCD_TXN_REJECTED;
	}

	_cleanup_(sip2_msg_freep) struct sip2_msg *resp = NULL;
	enum circd_txn_status st;

	/* A gate alarm is not circulation; 17 tells a true alarm (03, 08 ...)
	 * from a tag that was not flipped (04/05 charged): sip2.md "gates". */
	/* An ACS that says it has no 17 gets the transaction posted as it is. */
	bool has_17 = acs_has_17(p);
	if (t->kind == CIRCD_TXN_ALARM && !has_17) {
		*fields_json = xstrdup("{\"skipped\":true}");
		return CIRCD_TXN_OK;
	}
	if (t->kind == CIRCD_TXN_ALARM || (t->maybe_sent && has_17)) {
		_cleanup_(sip2_msg_freep) struct sip2_msg *q = build_item_info(p, item, now);
		st = exchange(p, q, &resp, transport_failed, message);
		if (st != CIRCD_TXN_OK)
			return st;
		const char *cs = sip2_msg_fixed(resp, "circulation_status");
		if (t->kind == CIRCD_TXN_ALARM) {
			bool false_alarm = cs && (!strcmp(cs, "04") || !strcmp(cs, "05"));
			*fields_json = sip2_fields_json(resp, sip2_client_last_raw(p->client),
							"false_alarm", false_alarm);
			return CIRCD_TXN_OK;
		}
		if (already_applied(t->kind, cs)) {
			*fields_json = sip2_fields_json(resp, sip2_client_last_raw(p->client),
							"already_applied", true);
			return CIRCD_TXN_OK;
		}
		sip2_msg_free(resp);
		resp = NULL;
	}

	_cleanup_(sip2_msg_freep) struct sip2_msg *req =
		t->kind == CIRCD_TXN_CHECKIN ? build_checkin(p, t, now)
					     : build_charge(p, t, now, t->kind == CIRCD_TXN_RENEW);
	st = exchange(p, req, &resp, transport_failed, message);
	if (st != CIRCD_TXN_OK)
		return st;
	*fields_json = sip2_fields_json(resp, sip2_client_last_raw(p->client), NULL, false);
	const char *ok = sip2_msg_fixed(resp, "ok");
	if (ok && ok[0] == '1')
		return CIRCD_TXN_OK;
	const char *af = sip2_msg_get(resp, "AF");
	*message = xstrdup(af && *af ? af : "refused by the ILS (ok=0)");
	return CIRCD_TXN_REJECTED;
}
