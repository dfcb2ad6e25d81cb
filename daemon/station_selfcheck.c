/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The selfcheck station: a kiosk where a patron borrows and renews alone.
 * Driven over the control socket by the kiosk's UI (ops begin, status,
 * checkout, renew, end, receipt) and by its devices: a card reader
 * (CARD_SEEN begins a session) and the pad's reader (TAG_SEEN: an item).
 *
 *   idle --begin/card--> starting --63 answered--> active --end/timeout--> ended
 *                           |  (ILS offline: "accept" -> active, offline;
 *                           |   "refuse" -> refused)
 *                           +--unknown, blocked, wrong PIN--> refused
 *
 * Per item (SIP2 flow, reference sip2.md §2): decode the tag -> wait for
 * every part of a set -> checkout journaled (kind "checkout", patron_id) ->
 * the ILS's answer in on_txn_result -> on OK, AFI on loan / EAS off with
 * read-back (on_command_done) -> ok; any refusal -> failed with the ILS's
 * screen message.  Offline ("accept"): journaled and lent provisionally up
 * to offline_max_items unconfirmed loans per patron; the forwarder replays
 * them with no-block when the ILS is back.
 *
 * Patron information (63) and end of session (35) are requests, not
 * circulation: station_request(), never journaled.  The PIN lives only in
 * the session until the patron check is answered, and in that request;
 * it is never journaled, logged or shown.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "forwarder.h"
#include "instance.h"
#include "log.h"
#include "selfcheck.h"
#include "station.h"
#include "util/util.h"

static const struct circd_option selfcheck_options[] = {
	{ "ils", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "the upstream that answers for the kiosk (patron checks, loans); default: the station's first" },
	{ "offline", CIRCD_OPT_STRING, "refuse", 0, 0, 0,
	  "without the library system: refuse (no session) or accept (provisional loans)" },
	{ "offline_max_items", CIRCD_OPT_INT, "3", 0, 1, 1000,
	  "accept: at most this many unconfirmed loans per patron" },
	{ "session_timeout_s", CIRCD_OPT_INT, "120", 0, 1, 86400,
	  "a session with no activity this long ends by itself" },
	{ "request_timeout_s", CIRCD_OPT_INT, "15", 0, 1, 600,
	  "no answer to the patron check this long: the library system counts as offline" },
	{ "require_pin", CIRCD_OPT_BOOL, "false", 0, 0, 0,
	  "a card alone does not begin a session: the kiosk sends begin with the PIN" },
	{ "card_format", CIRCD_OPT_STRING, "hex", 0, 0, 0,
	  "patron id from a card UID: hex, hex-reversed or decimal" },
	CIRCD_OPTION_END,
};

static void pin_forget(struct sc_session *s)
{
	if (s->pin) {
		explicit_bzero(s->pin, strlen(s->pin));
		free(s->pin);
		s->pin = NULL;
	}
}

static void session_clear(struct sc_session *s)
{
	pin_forget(s);
	for (size_t i = 0; i < s->n_items; i++)
		free(s->items[i].detail);
	free(s->items);
	*s = (struct sc_session){ .state = SC_IDLE };
}

/* ---- the library system: which upstream, and is it there ---- */

static struct instance *ils_instance(struct station *st)
{
	struct selfcheck *sc = st->data;
	for (size_t i = 0; i < st->core->n_upstreams; i++)
		if (strcmp(st->core->upstreams[i]->name, sc->ils) == 0)
			return st->core->upstreams[i];
	return NULL;
}

/* Known to be away: its forwarder is backing off or its worker reports
 * itself offline.  (Otherwise we ask and learn from the answer.) */
static bool ils_down(struct station *st)
{
	struct instance *up = ils_instance(st);
	if (!up || !up->fw)
		return true;
	struct forwarder_stats fs;
	forwarder_stats(up->fw, &fs);
	return strcmp(fs.state, "down") == 0;
}

/* Loans of this patron the ILS has not confirmed yet (its delivery is
 * pending or inflight): the journal knows them across restarts. */
static int64_t unconfirmed_loans(struct station *st, const char *patron)
{
	struct selfcheck *sc = st->data;
	sqlite3 *db = journal_db(st->core->journal);
	sqlite3_stmt *q;
	int64_t n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM deliveries d JOIN transactions t ON t.id = d.txn_id"
			       " WHERE d.upstream = ?1 AND d.state IN ('pending','inflight')"
			       " AND t.kind = 'checkout' AND t.patron_id = ?2",
			       -1, &q, NULL) != SQLITE_OK)
		return INT64_MAX; /* cannot tell: no more offline loans */
	sqlite3_bind_text(q, 1, sc->ils, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, patron, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* ---- items ---- */

static void item_fail(struct station *st, struct sc_item *it, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void item_fail(struct station *st, struct sc_item *it, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
	va_end(ap);
	it->state = SC_ITEM_FAILED;
	log_info("%s: session %llu: %s of item '%s' failed: %s", st->name,
		 (unsigned long long)((struct selfcheck *)st->data)->s.number,
		 it->renew ? "renewal" : "checkout", it->item_id[0] ? it->item_id : "(unreadable)",
		 it->reason);
}

static struct sc_item *item_add(struct sc_session *s, const char *item_id, bool renew)
{
	if (s->n_items == s->cap_items) {
		s->cap_items = s->cap_items ? 2 * s->cap_items : 8;
		s->items = xrealloc(s->items, s->cap_items * sizeof(*s->items));
	}
	struct sc_item *it = &s->items[s->n_items++];
	*it = (struct sc_item){ .renew = renew, .state = SC_ITEM_PENDING };
	snprintf(it->item_id, sizeof(it->item_id), "%s", item_id);
	return it;
}

static struct sc_item *item_by_txn(struct sc_session *s, int64_t txn_id)
{
	for (size_t i = 0; i < s->n_items; i++)
		if (s->items[i].txn_id == txn_id)
			return &s->items[i];
	return NULL;
}

/* Un-secure every tag of an item the ILS lent: AFI on loan, EAS off
 * (when the site uses EAS); each command is verified by the reader's
 * read-back and answered in on_command_done(). */
static void item_unsecure(struct station *st, struct sc_item *it)
{
	const struct config_security *sec = &st->core->cfg->security;
	it->step = SC_STEP_SECURE;
	snprintf(it->security, sizeof(it->security), "pending");
	bool sent = false;
	for (size_t i = 0; i < it->n_tags; i++) {
		struct sc_tag *t = &it->tags[i];
		struct instance *dev = station_device(st, t->device);
		if (!dev)
			continue;
		struct circd_command cmd = { .struct_size = sizeof(cmd), .type = CIRCD_CMD_WRITE_AFI,
					     .uid_len = t->uid_len, .value = sec->afi_on_loan };
		memcpy(cmd.uid, t->uid, t->uid_len);
		if (!t->cmd_afi)
			t->cmd_afi = station_command(st, dev, &cmd);
		if (sec->eas && !t->cmd_eas) {
			cmd.type = CIRCD_CMD_SET_EAS;
			cmd.value = 0;
			t->cmd_eas = station_command(st, dev, &cmd);
		}
		sent = true;
	}
	if (!sent) {
		/* a barcode given at the kiosk: no tag here to change */
		snprintf(it->security, sizeof(it->security), "none");
		it->state = SC_ITEM_OK;
	}
}

/* The ILS lent (or renewed) it: title and due date for the receipt, then
 * the tag. */
static void item_lent(struct station *st, struct sc_item *it, const char *fields_json)
{
	json_object *f = fields_json ? json_tokener_parse(fields_json) : NULL, *v;
	if (f && json_object_object_get_ex(f, "title", &v) && json_object_get_string_len(v))
		snprintf(it->title, sizeof(it->title), "%s", json_object_get_string(v));
	if (f && json_object_object_get_ex(f, "due_date", &v) && json_object_get_string_len(v))
		snprintf(it->due_date, sizeof(it->due_date), "%s", json_object_get_string(v));
	json_object_put(f);
	it->confirmed = true;
	if (it->renew) {
		it->state = SC_ITEM_OK;
		return;
	}
	char why[200];
	if (!selfcheck_may_unsecure(fields_json, why, sizeof(why))) {
		snprintf(it->security, sizeof(it->security), "not-changed");
		snprintf(it->reason, sizeof(it->reason), "%s", why);
		it->state = SC_ITEM_OK;
		return;
	}
	item_unsecure(st, it);
}

static int item_journal(struct station *st, struct sc_item *it, bool offline)
{
	struct selfcheck *sc = st->data;
	json_object *detail = it->detail ? json_tokener_parse(it->detail) : NULL;
	if (!detail)
		detail = json_object_new_object();
	json_object_object_add(detail, "session", json_object_new_int64((int64_t)sc->s.number));
	if (offline)
		json_object_object_add(detail, "offline", json_object_new_boolean(true));
	struct journal_txn_in t = {
		.kind = it->renew ? "renew" : "checkout",
		.station = st->name,
		.device = it->n_tags ? it->tags[0].device : st->name,
		.item_id = it->item_id,
		.uid = it->n_tags ? it->tags[0].uid_hex : "",
		.patron_id = sc->s.patron,
		.event_time_usec = it->event_time_usec ? it->event_time_usec : now_realtime_usec(),
		.detail_json = json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN),
	};
	int r = station_journal_txn(st, &t, &it->txn_id);
	json_object_put(detail);
	if (r < 0)
		item_fail(st, it, "could not record the loan: %s", strerror(-r));
	return r;
}

/* Journal a checkout or renewal now, online or (offline policy) not. */
static void item_submit(struct station *st, struct sc_item *it)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	if (!it->renew && s->renew_only) {
		item_fail(st, it, "patron blocked: %s", s->reason);
		return;
	}
	if (s->offline || ils_down(st)) {
		if (it->renew) {
			item_fail(st, it, "renewals need the library system, which is offline");
			return;
		}
		if (!sc->offline_accept) {
			item_fail(st, it, "the library system is offline");
			return;
		}
		int64_t open = unconfirmed_loans(st, s->patron);
		if (open >= sc->offline_max_items) {
			item_fail(st, it, "offline limit reached (%lld unconfirmed loans)", (long long)open);
			return;
		}
		s->offline = true;
		if (item_journal(st, it, true) < 0)
			return;
		/* lent on our word: the ILS hears of it when it is back */
		it->provisional = true;
		snprintf(it->reason, sizeof(it->reason),
			 "provisional: the library system is offline and will be told when it is back");
		item_unsecure(st, it);
		return;
	}
	if (item_journal(st, it, false) < 0)
		return;
	it->step = SC_STEP_ILS;
}

/* ---- sessions ---- */

static void session_touch(struct selfcheck *sc)
{
	sc->s.last_activity_mono = now_monotonic_usec();
}

static void session_go_active(struct station *st)
{
	struct selfcheck *sc = st->data;
	sc->s.state = SC_ACTIVE;
	session_touch(sc);
	log_info("%s: session %llu begun%s%s", st->name, (unsigned long long)sc->s.number,
		 sc->s.offline ? " offline (provisional loans)" : "",
		 sc->s.renew_only ? " (renewals only: patron blocked)" : "");
	/* items put on the pad while the patron was being checked */
	for (size_t i = 0; i < sc->s.n_items; i++) {
		struct sc_item *it = &sc->s.items[i];
		if (it->state == SC_ITEM_PENDING && it->step == SC_STEP_PATRON)
			item_submit(st, it);
	}
}

static void session_refuse(struct station *st, const char *reason)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	pin_forget(s);
	s->state = SC_REFUSED;
	s->ended_usec = now_realtime_usec();
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	for (size_t i = 0; i < s->n_items; i++)
		if (s->items[i].state == SC_ITEM_PENDING)
			item_fail(st, &s->items[i], "no session: %s", reason);
	log_info("%s: session refused: %s", st->name, reason);
	json_object *d = json_object_new_object();
	json_object_object_add(d, "session", json_object_new_int64((int64_t)s->number));
	json_object_object_add(d, "patron", json_object_new_string(s->patron));
	json_object_object_add(d, "reason", json_object_new_string(reason));
	station_note(st, NULL, "selfcheck-refused", d);
}

/* The ILS did not answer the patron check: the offline policy decides. */
static void session_offline(struct station *st, const char *why)
{
	struct selfcheck *sc = st->data;
	pin_forget(&sc->s);
	sc->s.request_id = 0;
	if (!sc->offline_accept) {
		char reason[300];
		snprintf(reason, sizeof(reason), "the library system is offline (%s)", why);
		session_refuse(st, reason);
		return;
	}
	sc->s.offline = true;
	session_go_active(st);
}

static void session_end(struct station *st, bool timed_out)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	int ok = 0, failed = 0, pending = 0, provisional = 0;
	for (size_t i = 0; i < s->n_items; i++) {
		struct sc_item *it = &s->items[i];
		if (it->state == SC_ITEM_OK) {
			ok++;
			provisional += it->provisional;
		} else if (it->state == SC_ITEM_FAILED) {
			failed++;
		} else if (it->txn_id > 0) {
			/* journaled, the ILS has not answered: it will, and staff
			 * must know the patron may not have taken it */
			pending++;
			station_exception(st, it->txn_id, it->item_id,
					  "self-check session ended before the library system answered; "
					  "the tag was left secured", NULL);
		} else {
			failed++;
			snprintf(it->reason, sizeof(it->reason), "session ended before it could be lent");
			it->state = SC_ITEM_FAILED;
		}
	}
	pin_forget(s);
	s->state = SC_ENDED;
	s->timed_out = timed_out;
	s->ended_usec = now_realtime_usec();
	json_object *d = json_object_new_object();
	json_object_object_add(d, "session", json_object_new_int64((int64_t)s->number));
	json_object_object_add(d, "patron", json_object_new_string(s->patron));
	json_object_object_add(d, "items_ok", json_object_new_int(ok));
	json_object_object_add(d, "items_failed", json_object_new_int(failed));
	json_object_object_add(d, "items_pending", json_object_new_int(pending));
	json_object_object_add(d, "items_provisional", json_object_new_int(provisional));
	json_object_object_add(d, "offline", json_object_new_boolean(s->offline));
	json_object_object_add(d, "timed_out", json_object_new_boolean(timed_out));
	json_object_object_add(d, "duration_s",
			       json_object_new_int64((int64_t)((s->ended_usec - s->begun_usec) / USEC_PER_SEC)));
	station_note(st, NULL, "selfcheck-session", d);
	log_info("%s: session %llu ended%s: %d ok, %d failed, %d pending%s", st->name,
		 (unsigned long long)s->number, timed_out ? " (timed out)" : "", ok, failed, pending,
		 s->offline ? ", offline" : "");
	/* SIP2 35: the ILS may close its own session state; nothing waits on it */
	int64_t id;
	if (!s->offline && s->have_info)
		station_request(st, sc->ils, CIRCD_TXN_END_SESSION, "end-session", s->patron, NULL, &id);
}

static int session_begin(struct station *st, const char *patron, const char *pin, bool by_card,
			 char **error)
{
	struct selfcheck *sc = st->data;
	if (sc->s.state == SC_STARTING || sc->s.state == SC_ACTIVE) {
		*error = xasprintf("a session is already open; end it first");
		return -EBUSY;
	}
	if (!selfcheck_patron_id_valid(patron)) {
		*error = xasprintf("not a patron id: 1..63 printable characters, no '|'");
		return -EINVAL;
	}
	if (pin && (strlen(pin) > 63 || strchr(pin, '|') || strpbrk(pin, "\r\n"))) {
		*error = xasprintf("not a PIN: at most 63 characters, no '|'");
		return -EINVAL;
	}
	session_clear(&sc->s);
	struct sc_session *s = &sc->s;
	s->number = ++sc->sessions;
	s->state = SC_STARTING;
	s->by_card = by_card;
	snprintf(s->patron, sizeof(s->patron), "%s", patron);
	s->begun_usec = now_realtime_usec();
	s->request_sent_mono = now_monotonic_usec();
	session_touch(sc);
	sc->card_patron[0] = '\0';
	if (ils_down(st)) {
		session_offline(st, "not connected");
		return 0;
	}
	json_object *extra = NULL;
	if (pin && *pin) {
		s->pin = xstrdup(pin);
		extra = json_object_new_object();
		json_object_object_add(extra, "patron_pin", json_object_new_string(pin));
	}
	if (station_request(st, sc->ils, CIRCD_TXN_PATRON_INFO, "patron-info", patron, extra,
			    &s->request_id) < 0)
		session_offline(st, "no such upstream");
	return 0;
}

static void patron_answer(struct station *st, const struct txn_msg *t)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	if (s->state != SC_STARTING || t->txn.id != s->request_id)
		return; /* late: the session timed out waiting, or another began */
	if (t->status == CIRCD_TXN_RETRY || t->status == CIRCD_TXN_NOT_SENT) {
		session_offline(st, t->message ? t->message : "no answer");
		return;
	}
	bool pin_given = s->pin != NULL;
	pin_forget(s);
	s->request_id = 0;
	char reason[256];
	if (t->status != CIRCD_TXN_OK) {
		snprintf(reason, sizeof(reason), "the library system cannot check patrons: %s",
			 t->message ? t->message : "refused");
		session_refuse(st, reason);
		return;
	}
	if (selfcheck_patron_parse(t->fields_json, &s->info) < 0) {
		session_refuse(st, "the library system's answer about the patron cannot be read");
		return;
	}
	s->have_info = true;
	switch (selfcheck_patron_verdict(&s->info, pin_given, reason, sizeof(reason))) {
	case SC_PATRON_REFUSED:
		session_refuse(st, reason);
		return;
	case SC_PATRON_RENEW_ONLY:
		s->renew_only = true;
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
		break;
	case SC_PATRON_OK:
		break;
	}
	session_go_active(st);
}

/* ---- hooks ---- */

static void selfcheck_on_txn_result(struct station *st, struct instance *upstream,
				    const struct txn_msg *t)
{
	struct selfcheck *sc = st->data;
	if (strcmp(upstream->name, sc->ils) != 0)
		return; /* other upstreams (a file, a broker) do not lend */
	if (t->txn.id <= 0) {
		if (t->txn.kind == CIRCD_TXN_PATRON_INFO)
			patron_answer(st, t);
		else if (t->status != CIRCD_TXN_OK)
			log_debug("%s: end of session not told to %s: %s", st->name, upstream->name,
				  t->message ? t->message : "");
		return;
	}
	struct sc_item *it = item_by_txn(&sc->s, t->txn.id);
	if (!it)
		return; /* an older session's: the journal has the answer */
	bool live = sc->s.state == SC_ACTIVE;
	switch (t->status) {
	case CIRCD_TXN_OK:
		if (it->provisional) {
			it->confirmed = true; /* the replay went through */
			break;
		}
		if (it->state != SC_ITEM_PENDING || it->step != SC_STEP_ILS)
			break;
		if (live)
			item_lent(st, it, t->fields_json);
		else
			it->state = SC_ITEM_OK; /* after the session: the patron has gone */
		break;
	case CIRCD_TXN_REJECTED:
		if (it->provisional) {
			/* the forwarder made it an exception for staff */
			snprintf(it->reason, sizeof(it->reason), "the library system refused the offline loan: %s",
				 t->message ? t->message : "refused");
			break;
		}
		if (it->state == SC_ITEM_PENDING)
			item_fail(st, it, "%s", t->message ? t->message : "refused by the library system");
		break;
	default:
		/* The ILS went away after the loan was journaled.  It will be
		 * delivered when it is back: under "accept" that is a
		 * provisional loan now; otherwise the patron waits. */
		if (it->provisional || it->state != SC_ITEM_PENDING || it->step != SC_STEP_ILS)
			break;
		if (live && !it->renew && sc->offline_accept &&
		    unconfirmed_loans(st, sc->s.patron) <= sc->offline_max_items) {
			sc->s.offline = true;
			it->provisional = true;
			snprintf(it->reason, sizeof(it->reason),
				 "provisional: the library system is offline and will be told when it is back");
			item_unsecure(st, it);
		} else {
			snprintf(it->reason, sizeof(it->reason), "waiting for the library system (%s)",
				 t->message ? t->message : "no answer");
		}
		break;
	}
}

static void selfcheck_on_command_done(struct station *st, struct instance *dev, uint64_t cmd_id,
				      int status, const char *detail)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	for (size_t i = 0; i < s->n_items; i++) {
		struct sc_item *it = &s->items[i];
		bool mine = false, outstanding = false;
		for (size_t k = 0; k < it->n_tags; k++) {
			struct sc_tag *t = &it->tags[k];
			if (strcmp(t->device, dev->name) == 0 && (t->cmd_afi == cmd_id || t->cmd_eas == cmd_id)) {
				mine = true;
				/* the reader verified the write by reading it back;
				 * t->afi / t->eas stay what the pad last read */
				if (t->cmd_afi == cmd_id)
					t->cmd_afi = 0;
				else
					t->cmd_eas = 0;
			}
			outstanding |= t->cmd_afi || t->cmd_eas;
		}
		if (!mine)
			continue;
		if (status < 0 && strcmp(it->security, "failed") != 0) {
			snprintf(it->security, sizeof(it->security), "failed");
			item_fail(st, it, "could not un-secure the tag: %s", *detail ? detail : strerror(-status));
			station_exception(st, it->txn_id, it->item_id,
					  "lent by the library system, but the tag could not be un-secured", NULL);
		} else if (!outstanding && strcmp(it->security, "failed") != 0) {
			snprintf(it->security, sizeof(it->security), "on-loan");
			it->state = SC_ITEM_OK;
		}
		return;
	}
}

static void on_tag(struct station *st, struct instance *dev, const struct circd_event *ev)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	if (s->state != SC_STARTING && s->state != SC_ACTIVE)
		return; /* nobody is borrowing: a tag on the pad means nothing */
	session_touch(sc);
	char uid[2 * CIRCD_UID_MAX + 1];
	hex_encode(ev->uid, ev->uid_len <= CIRCD_UID_MAX ? ev->uid_len : 0, uid);
	/* seen before: what the tag says now is the read-back */
	for (size_t i = 0; ev->uid_len && i < s->n_items; i++)
		for (size_t k = 0; k < s->items[i].n_tags; k++)
			if (strcmp(s->items[i].tags[k].uid_hex, uid) == 0) {
				s->items[i].tags[k].afi = ev->afi;
				s->items[i].tags[k].eas = ev->eas;
				return;
			}
	char item_id[128];
	json_object *detail = json_object_new_object();
	station_decode(st->core, ev, item_id, sizeof(item_id), detail);
	json_object *tag = NULL, *v;
	json_object_object_get_ex(detail, "tag", &tag);
	const char *set = tag && json_object_object_get_ex(tag, "set", &v) ? json_object_get_string(v) : NULL;
	int parts = tag && json_object_object_get_ex(tag, "parts_total", &v) ? json_object_get_int(v) : 1;

	struct sc_item *it = NULL;
	for (size_t i = 0; item_id[0] && i < s->n_items && !it; i++)
		if (!s->items[i].renew && strcmp(s->items[i].item_id, item_id) == 0)
			it = &s->items[i];
	bool new_item = !it;
	if (new_item) {
		it = item_add(s, item_id, false);
		it->detail = xstrdup(json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN));
		it->event_time_usec = ev->time_usec;
	}
	json_object_put(detail);
	if (it->n_tags < SC_PARTS_MAX && ev->uid_len) {
		struct sc_tag *t = &it->tags[it->n_tags++];
		*t = (struct sc_tag){ .uid_len = ev->uid_len, .afi = ev->afi, .eas = ev->eas };
		memcpy(t->uid, ev->uid, ev->uid_len);
		snprintf(t->uid_hex, sizeof(t->uid_hex), "%s", uid);
		snprintf(t->device, sizeof(t->device), "%s", dev->name);
	}
	if (!item_id[0]) {
		item_fail(st, it, "the tag cannot be read: ask staff");
		return;
	}
	if (!new_item) {
		/* another part of a set already on the pad */
		if (it->state == SC_ITEM_PENDING && it->step == SC_STEP_PARTS && set &&
		    strcmp(set, "complete") == 0) {
			it->reason[0] = '\0';
			if (s->state == SC_ACTIVE)
				item_submit(st, it);
			else
				it->step = SC_STEP_PATRON;
		} else if (it->state == SC_ITEM_OK || it->step == SC_STEP_SECURE) {
			item_unsecure(st, it); /* the new part too */
		}
		return;
	}
	if (parts > 1 && set && strcmp(set, "complete") != 0) {
		it->step = SC_STEP_PARTS;
		snprintf(it->reason, sizeof(it->reason), "place all %d parts on the pad", parts);
		return;
	}
	if (s->state == SC_ACTIVE)
		item_submit(st, it);
	else
		it->step = SC_STEP_PATRON;
}

static void on_card(struct station *st, const struct circd_event *ev)
{
	struct selfcheck *sc = st->data;
	char patron[64];
	if (ev->item_id && *ev->item_id) {
		snprintf(patron, sizeof(patron), "%s", ev->item_id); /* a scanned barcode */
	} else if (selfcheck_card_patron_id(ev->uid, ev->uid_len, sc->card_format, patron,
					    sizeof(patron)) < 0) {
		log_warning("%s: a card with an unusable UID (%u bytes) ignored", st->name, ev->uid_len);
		return;
	}
	if (sc->s.state == SC_STARTING || sc->s.state == SC_ACTIVE) {
		if (strcmp(sc->s.patron, patron) == 0)
			session_touch(sc);
		else
			log_info("%s: a card read during another patron's session ignored", st->name);
		return;
	}
	if (sc->require_pin) {
		snprintf(sc->card_patron, sizeof(sc->card_patron), "%s", patron);
		sc->card_mono = now_monotonic_usec();
		return;
	}
	char *error = NULL;
	if (session_begin(st, patron, NULL, true, &error) < 0) {
		log_warning("%s: card: %s", st->name, error);
		free(error);
	}
}

static void selfcheck_on_event(struct station *st, struct instance *dev, const struct circd_event *ev)
{
	if (ev->type == CIRCD_EV_TAG_SEEN)
		on_tag(st, dev, ev);
	else if (ev->type == CIRCD_EV_CARD_SEEN)
		on_card(st, ev);
}

/* Once a second: a patron check nobody answered, a forgotten session. */
static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct station *st = userdata;
	struct selfcheck *sc = st->data;
	uint64_t now = now_monotonic_usec();
	if (sc->s.state == SC_STARTING && now - sc->s.request_sent_mono >= sc->request_timeout_usec)
		session_offline(st, "no answer in time");
	else if (sc->s.state == SC_ACTIVE && now - sc->s.last_activity_mono >= sc->session_timeout_usec)
		session_end(st, true);
	if (sc->card_patron[0] && now - sc->card_mono >= sc->request_timeout_usec)
		sc->card_patron[0] = '\0';
	sd_event_source_set_time(src, now + USEC_PER_SEC);
	core_flush(st->core);
	return 0;
}

/* ---- control: the kiosk ---- */

static int need_session(struct selfcheck *sc, char **error)
{
	if (sc->s.state == SC_ACTIVE)
		return 0;
	*error = xasprintf(sc->s.state == SC_STARTING ? "the patron is still being checked"
						     : "no session: begin one first");
	return sc->s.state == SC_STARTING ? -EAGAIN : -ENOENT;
}

static int control_item(struct station *st, json_object *req, bool renew, json_object **reply,
			char **error)
{
	struct selfcheck *sc = st->data;
	int r = need_session(sc, error);
	if (r < 0)
		return r;
	json_object *v;
	const char *item = json_object_object_get_ex(req, "item", &v) ? json_object_get_string(v) : NULL;
	if (!item || !*item || strlen(item) > 127 || strchr(item, '|')) {
		*error = xasprintf("%s needs \"item\": an item id (no '|')", renew ? "renew" : "checkout");
		return -EINVAL;
	}
	session_touch(sc);
	struct sc_item *it = NULL;
	for (size_t i = 0; i < sc->s.n_items && !it; i++)
		if (sc->s.items[i].renew == renew && strcmp(sc->s.items[i].item_id, item) == 0 &&
		    sc->s.items[i].state != SC_ITEM_FAILED)
			it = &sc->s.items[i];
	if (!it) {
		it = item_add(&sc->s, item, renew);
		item_submit(st, it);
		core_flush_reply(st->core); /* answer once it is durable */
	}
	*reply = sc_item_json(it);
	return 0;
}

static int selfcheck_control(struct station *st, const char *op, json_object *req,
			     json_object **reply, char **error)
{
	struct selfcheck *sc = st->data;
	json_object *v;
	if (strcmp(op, "status") == 0) {
		*reply = sc_status_json(st);
		return 0;
	}
	if (strcmp(op, "begin") == 0) {
		const char *patron = json_object_object_get_ex(req, "patron", &v) ? json_object_get_string(v) : NULL;
		const char *pin = json_object_object_get_ex(req, "pin", &v) ? json_object_get_string(v) : NULL;
		bool card = json_object_object_get_ex(req, "card", &v) && json_object_get_boolean(v);
		char card_patron[64];
		if (card) {
			if (!sc->card_patron[0]) {
				*error = xasprintf("no card has been read");
				return -ENOENT;
			}
			snprintf(card_patron, sizeof(card_patron), "%s", sc->card_patron);
			patron = card_patron;
		}
		if (!patron) {
			*error = xasprintf("begin needs \"patron\" (a barcode) or \"card\": true");
			return -EINVAL;
		}
		if (sc->require_pin && !(pin && *pin)) {
			*error = xasprintf("this kiosk needs the patron's PIN");
			return -EINVAL;
		}
		int r = session_begin(st, patron, pin, card, error);
		if (r < 0)
			return r;
		core_flush(st->core);
		*reply = sc_status_json(st);
		return 0;
	}
	if (strcmp(op, "checkout") == 0 || strcmp(op, "renew") == 0)
		return control_item(st, req, strcmp(op, "renew") == 0, reply, error);
	if (strcmp(op, "end") == 0) {
		if (sc->s.state == SC_STARTING) {
			session_refuse(st, "ended by the patron before the check");
		} else {
			int r = need_session(sc, error);
			if (r < 0)
				return r;
			session_end(st, false);
		}
		core_flush(st->core);
		*reply = sc_receipt_json(st);
		return 0;
	}
	if (strcmp(op, "receipt") == 0) {
		if (sc->s.state == SC_IDLE) {
			*error = xasprintf("no session yet");
			return -ENOENT;
		}
		*reply = sc_receipt_json(st);
		return 0;
	}
	*error = xasprintf("unknown op '%s' (begin, status, checkout, renew, end, receipt)", op);
	return -EINVAL;
}

/* ---- life ---- */

static int selfcheck_check(const struct config_station *cfg, const struct resolved_options *opts,
			   const char *file, struct config_errors *errs)
{
	int n = 0;
	const struct resolved_option *o = options_get(opts, "offline");
	if (strcmp(o->s, "refuse") != 0 && strcmp(o->s, "accept") != 0) {
		config_errors_add(errs, o->file ? o->file : file, o->line ? o->line : cfg->line,
				  "station '%s': offline must be \"refuse\" or \"accept\", not \"%s\"",
				  cfg->name, o->s);
		n++;
	}
	o = options_get(opts, "card_format");
	if (!selfcheck_card_format_valid(o->s)) {
		config_errors_add(errs, o->file ? o->file : file, o->line ? o->line : cfg->line,
				  "station '%s': card_format must be hex, hex-reversed or decimal, not \"%s\"",
				  cfg->name, o->s);
		n++;
	}
	o = options_get(opts, "ils");
	if (o->s[0] && cfg->upstreams_given) {
		bool found = false;
		for (size_t i = 0; i < cfg->n_upstreams; i++)
			found |= strcmp(cfg->upstreams[i], o->s) == 0;
		if (!found) {
			config_errors_add(errs, o->file ? o->file : file, o->line,
					  "station '%s': ils \"%s\" is not one of its upstreams", cfg->name, o->s);
			n++;
		}
	}
	return n;
}

static int selfcheck_create(struct station *st)
{
	struct selfcheck *sc = xcalloc(1, sizeof(*sc));
	const char *ils = options_get(&st->opts, "ils")->s;
	if (!*ils && st->n_upstreams)
		ils = st->upstreams[0];
	sc->ils = xstrdup(ils);
	sc->offline_accept = strcmp(options_get(&st->opts, "offline")->s, "accept") == 0;
	sc->offline_max_items = options_get(&st->opts, "offline_max_items")->i;
	sc->session_timeout_usec = (uint64_t)options_get(&st->opts, "session_timeout_s")->i * USEC_PER_SEC;
	sc->request_timeout_usec = (uint64_t)options_get(&st->opts, "request_timeout_s")->i * USEC_PER_SEC;
	sc->require_pin = options_get(&st->opts, "require_pin")->b;
	sc->card_format = options_get(&st->opts, "card_format")->s;
	st->data = sc;
	if (!*sc->ils)
		log_warning("%s: no upstream: every session is offline", st->name);
	int r = sd_event_add_time(st->core->event, &sc->timer, CLOCK_MONOTONIC,
				  now_monotonic_usec() + USEC_PER_SEC, 0, on_timer, st);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(sc->timer, SD_EVENT_ON);
}

static void selfcheck_destroy(struct station *st)
{
	struct selfcheck *sc = st->data;
	if (sc->s.state == SC_STARTING || sc->s.state == SC_ACTIVE)
		log_notice("%s: session %llu dropped (the station is being replaced)", st->name,
			   (unsigned long long)sc->s.number);
	sd_event_source_disable_unref(sc->timer);
	session_clear(&sc->s);
	free(sc->ils);
	free(sc);
	st->data = NULL;
}

const struct station_role station_role_selfcheck = {
	.name = "selfcheck",
	.description = "self-service kiosk: a patron borrows and renews, driven by the kiosk UI",
	.options = selfcheck_options,
	.check = selfcheck_check,
	.create = selfcheck_create,
	.on_event = selfcheck_on_event,
	.on_txn_result = selfcheck_on_txn_result,
	.on_command_done = selfcheck_on_command_done,
	.control = selfcheck_control,
	.destroy = selfcheck_destroy,
};
