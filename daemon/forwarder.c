/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "forwarder.h"
#include "instance.h"
#include "items.h"
#include "log.h"
#include "station.h"
#include "util/util.h"

struct forwarder {
	struct core *core;
	struct instance *up;
	int64_t cursor;       /* highest txn id handed out in this round */
	size_t window;        /* handed out, not yet answered */
	bool woken;
	bool paused;          /* after a RETRY, until retry_at */
	bool draining;        /* after a RETRY, until every handed-out one is answered */
	uint64_t retry_at;    /* monotonic */
	unsigned consecutive_failures;
	uint64_t live_since_usec; /* realtime: the upstream answered again after trouble */
	bool down;                /* its health says offline or failed */
	sd_event_source *timer;
	char *last_error;
	/* A run of plain OK answers (no message, no fields): answers come in the
	 * order handed out, so the run is exactly the inflight rows between
	 * run_first and run_last, marked done with one statement. */
	int64_t run_first, run_last;
	size_t run_len;
	struct txn_msg **staged; /* marked inflight, handed over after commit */
	size_t n_staged, cap_staged;
	/* Counted since the start: staged[0] is number handed_total.  Each
	 * hand-over hands what was staged up to its own commit only. */
	uint64_t staged_total, handed_total;
};

struct forwarder *forwarder_new(struct core *core, struct instance *upstream)
{
	struct forwarder *fw = xcalloc(1, sizeof(*fw));
	fw->core = core;
	fw->up = upstream;
	fw->woken = true;
	fw->live_since_usec = now_realtime_usec(); /* a backlog from before the start is a replay */
	return fw;
}

void forwarder_free(struct forwarder *fw)
{
	if (!fw)
		return;
	sd_event_source_disable_unref(fw->timer);
	for (size_t i = 0; i < fw->n_staged; i++)
		txn_msg_free(fw->staged[i]);
	free(fw->staged);
	free(fw->last_error);
	free(fw);
}

void forwarder_wake(struct forwarder *fw)
{
	fw->woken = true;
}

static const char *kind_name_to_json(const char *k) { return k ? k : ""; }

static enum circd_txn_kind kind_from_name(const char *k)
{
	static const struct { const char *name; enum circd_txn_kind kind; } map[] = {
		{ "checkin", CIRCD_TXN_CHECKIN }, { "checkout", CIRCD_TXN_CHECKOUT },
		{ "renew", CIRCD_TXN_RENEW },     { "alarm", CIRCD_TXN_ALARM },
		{ "count", CIRCD_TXN_COUNT },     { "location", CIRCD_TXN_LOCATION },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(map[i].name, k) == 0)
			return map[i].kind;
	return 0;
}

static void add_time(json_object *o, const char *key, uint64_t usec)
{
	char buf[40];
	format_iso8601(usec, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

static struct txn_msg *txn_from_delivery(struct forwarder *fw, struct journal_delivery *d)
{
	struct core *core = fw->core;
	struct txn_msg *t = xcalloc(1, sizeof(*t));
	uint64_t now = now_realtime_usec();
	/* Not sent live: tried before, maybe sent before a restart, journaled
	 * before the upstream was last back (during an outage, or before this
	 * daemon started), or simply old. */
	bool replay = d->attempts > 0 || d->maybe_sent || fw->consecutive_failures > 0 || fw->down ||
		      d->created_usec < fw->live_since_usec ||
		      now - d->created_usec > FORWARDER_REPLAY_AFTER_USEC;

	t->kind = TAKE_PTR(d->kind);
	t->station = TAKE_PTR(d->station);
	t->device = TAKE_PTR(d->device);
	t->item_id = d->item_id ? TAKE_PTR(d->item_id) : xstrdup("");
	t->uid = d->uid ? TAKE_PTR(d->uid) : xstrdup("");
	t->patron_id = TAKE_PTR(d->patron_id);

	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(d->txn_id));
	json_object_object_add(o, "kind", json_object_new_string(kind_name_to_json(t->kind)));
	json_object_object_add(o, "site", json_object_new_string(core->cfg->site));
	if (core->cfg->isil)
		json_object_object_add(o, "isil", json_object_new_string(core->cfg->isil));
	json_object_object_add(o, "station", json_object_new_string(t->station));
	json_object_object_add(o, "device", json_object_new_string(t->device));
	json_object_object_add(o, "item_id", json_object_new_string(t->item_id));
	json_object_object_add(o, "uid", json_object_new_string(t->uid));
	if (t->patron_id)
		json_object_object_add(o, "patron_id", json_object_new_string(t->patron_id));
	add_time(o, "event_time", d->event_time_usec);
	add_time(o, "created", d->created_usec);
	json_object_object_add(o, "replay", json_object_new_boolean(replay));
	if (d->detail_json) {
		json_object *detail = json_tokener_parse(d->detail_json);
		if (detail)
			json_object_object_add(o, "detail", detail);
	}
	t->json = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);

	t->txn = (struct circd_txn){
		.struct_size = sizeof(struct circd_txn),
		.kind = kind_from_name(t->kind),
		.id = d->txn_id,
		.event_time_usec = d->event_time_usec,
		.created_usec = d->created_usec,
		.attempts = d->attempts,
		.replay = replay,
		.maybe_sent = d->maybe_sent,
		.site = core->cfg->site,
		.station = t->station,
		.device = t->device,
		.item_id = t->item_id,
		.patron_id = t->patron_id,
		.uid = t->uid,
		.json = t->json,
	};
	return t;
}

struct hand_over_batch {
	struct forwarder *fw;
	uint64_t upto; /* staged_total when queued */
	uint64_t commit; /* the commit that marked them inflight */
};

/* Staged ones that will not be handed over (the upstream paused or is
 * stopping before their commit was durable): back to pending, as they
 * were.  Order is kept: they are the newest of the window. */
static void take_back_staged(struct forwarder *fw)
{
	for (size_t i = 0; i < fw->n_staged; i++) {
		struct txn_msg *t = fw->staged[i];
		journal_set_delivery(fw->core->journal, t->txn.id, fw->up->name, "pending",
				     t->txn.attempts, t->txn.maybe_sent, NULL, NULL);
		if (fw->window)
			fw->window--;
		txn_msg_free(t);
	}
	fw->handed_total += fw->n_staged;
	fw->n_staged = 0;
}

static void hand_over(void *userdata, uint64_t arg)
{
	struct hand_over_batch *b = userdata;
	struct forwarder *fw = b->fw;
	size_t n = (size_t)(b->upto - fw->handed_total);
	if (n > fw->n_staged)
		n = fw->n_staged;
	if (n && atomic_load(&fw->up->stop_requested)) {
		take_back_staged(fw);
		n = 0;
	}
	if (n && journal_trace)
		log_debug("%s: handing over %zu transaction(s), %lld..%lld, of commit %llu (durable)",
			  fw->up->name, n, (long long)fw->staged[0]->txn.id,
			  (long long)fw->staged[n - 1]->txn.id, (unsigned long long)b->commit);
	for (size_t i = 0; i < n; i++)
		instance_submit_txn(fw->up, fw->staged[i]);
	memmove(fw->staged, fw->staged + n, (fw->n_staged - n) * sizeof(*fw->staged));
	fw->n_staged -= n;
	fw->handed_total += n;
	free(b);
}

static void drop_hand_over(void *userdata, uint64_t arg)
{
	free(userdata); /* the staged ones stay for forwarder_free() */
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct forwarder *fw = userdata;
	fw->paused = false;
	fw->woken = true;
	core_flush(fw->core);
	return 0;
}

static void flush_done_run(struct forwarder *fw);

void forwarder_flush_answers(struct forwarder *fw)
{
	flush_done_run(fw);
}

static void flush_done_run(struct forwarder *fw)
{
	if (!fw->run_len)
		return;
	journal_mark_done_range(fw->core->journal, fw->up->name, fw->run_first, fw->run_last);
	fw->run_len = 0;
}

void forwarder_feed_if_woken(struct forwarder *fw)
{
	flush_done_run(fw);
	if (!fw->woken || fw->paused || !fw->up->thread_started)
		return;
	if (fw->draining && fw->window > 0)
		return; /* the rest of the failed round must come back first: order */
	fw->draining = false;
	/* Keep the upstream busy without holding the whole backlog in memory. */
	if (fw->window >= FORWARDER_WINDOW / 2)
		return;
	fw->woken = false;
	if (fw->window == 0)
		fw->cursor = 0; /* rows sent back to pending (retries, staff) come first again */
	struct journal_delivery *d = NULL;
	int n = journal_fetch_pending(fw->core->journal, fw->up->name, fw->cursor,
				      FORWARDER_WINDOW - fw->window, &d);
	/* The fetched rows are all the pending ones in their id range. */
	if (n > 0 && journal_mark_inflight_range(fw->core->journal, fw->up->name, d[0].txn_id,
						 d[n - 1].txn_id) < 0) {
		/* The commit will fail too and stop the daemon; hand nothing over. */
		for (int k = 0; k < n; k++)
			journal_delivery_clear(&d[k]);
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		if (fw->n_staged == fw->cap_staged) {
			fw->cap_staged = fw->cap_staged ? fw->cap_staged * 2 : FORWARDER_WINDOW;
			fw->staged = xrealloc(fw->staged, fw->cap_staged * sizeof(*fw->staged));
		}
		fw->staged[fw->n_staged++] = txn_from_delivery(fw, &d[i]);
		fw->staged_total++;
		fw->cursor = d[i].txn_id;
		fw->window++;
		journal_delivery_clear(&d[i]);
	}
	free(d);
	if (n > 0) {
		struct hand_over_batch *b = xcalloc(1, sizeof(*b));
		b->fw = fw;
		b->upto = fw->staged_total;
		b->commit = journal_commit_count(fw->core->journal) + journal_dirty(fw->core->journal);
		journal_after_commit_full(fw->core->journal, hand_over, drop_hand_over, b, 0);
	}
	/* A full window may leave more pending: look again when answers come. */
	if (n == FORWARDER_WINDOW)
		fw->woken = true;
}

static void set_last_error(struct forwarder *fw, const char *msg)
{
	free(fw->last_error);
	fw->last_error = msg ? xstrdup(msg) : NULL;
}

static void pause_upstream(struct forwarder *fw)
{
	struct core *core = fw->core;
	uint64_t delay = backoff_full_jitter_usec(FORWARDER_BACKOFF_BASE_USEC, FORWARDER_BACKOFF_CAP_USEC,
						  fw->consecutive_failures, &core->rng);
	fw->consecutive_failures++;
	fw->paused = true;
	fw->retry_at = now_monotonic_usec() + delay;
	/* Take back what the worker has not taken yet: order is kept because
	 * everything from the failed one on goes back to pending.  That
	 * includes what is staged for a hand-over still waiting for its
	 * commit to be durable. */
	take_back_staged(fw);
	for (struct mailbox_node *n = mailbox_take_all(&fw->up->txns); n;) {
		struct txn_msg *t = (struct txn_msg *)n;
		n = n->next;
		if (t->txn.id > 0) {
			journal_set_delivery(core->journal, t->txn.id, fw->up->name, "pending",
					     t->txn.attempts, t->txn.maybe_sent, NULL, NULL);
			fw->window--;
		} else if (t->txn.kind != CIRCD_TXN_ITEM_INFO) {
			/* a station's request: it hears that it was not sent */
			t->status = CIRCD_TXN_NOT_SENT;
			t->message = xstrdup("the upstream failed before it was asked");
			core_item_lookup_done(core, t);
			continue;
		} else { /* a lookup: dropped, the station asks again when it needs to */
			items_note_lookup(core, t->item_id, fw->up->name, "dropped",
					  "the upstream failed before it was asked");
		}
		txn_msg_free(t);
	}
	if (!fw->timer)
		sd_event_add_time(core->event, &fw->timer, CLOCK_MONOTONIC, fw->retry_at, 0,
				  on_retry_timer, fw);
	else {
		sd_event_source_set_time(fw->timer, fw->retry_at);
		sd_event_source_set_enabled(fw->timer, SD_EVENT_ONESHOT);
	}
	log_fields(CIRCD_LOG_NOTICE, (const char *const *)fw->up->fields,
		   "%s: upstream unavailable (%s); retrying in %.1f s", fw->up->name,
		   fw->last_error ? fw->last_error : "no reason given", (double)delay / 1e6);
}

void forwarder_handle_report(struct forwarder *fw, struct txn_msg *t)
{
	struct core *core = fw->core;
	uint32_t attempts = t->txn.attempts + 1;
	if (fw->window)
		fw->window--;
	if (t->status != CIRCD_TXN_RETRY && t->status != CIRCD_TXN_NOT_SENT && fw->consecutive_failures) {
		fw->consecutive_failures = 0;
		fw->live_since_usec = now_realtime_usec();
	}
	if (t->status == CIRCD_TXN_OK && !t->message && !t->fields_json) {
		if (!fw->run_len)
			fw->run_first = t->txn.id;
		fw->run_last = t->txn.id;
		fw->run_len++;
		stations_txn_result(core, fw->up, t);
		txn_msg_free(t);
		fw->woken = true;
		return;
	}
	flush_done_run(fw);
	switch (t->status) {
	case CIRCD_TXN_OK:
		journal_set_delivery(core->journal, t->txn.id, fw->up->name, "done", attempts,
				     t->txn.maybe_sent, t->message, t->fields_json);
		/* What the ILS said about the item feeds the local cache. */
		if (t->fields_json)
			items_update_from_txn(core->journal, t->kind, t->item_id, t->fields_json,
					      t->station, t->txn.event_time_usec);
		break;
	case CIRCD_TXN_REJECTED: {
		journal_set_delivery(core->journal, t->txn.id, fw->up->name, "rejected", attempts,
				     t->txn.maybe_sent, t->message ? t->message : "rejected", t->fields_json);
		const char *fields[] = { fw->up->fields[0], "MESSAGE_ID=" CIRCD_MSGID_EXCEPTION, NULL };
		log_fields(CIRCD_LOG_WARNING, fields,
			   "%s: %s of item '%s' (transaction %lld) rejected: %s; see circctl exceptions",
			   fw->up->name, t->kind, t->item_id, (long long)t->txn.id,
			   t->message ? t->message : "no reason given");
		break;
	}
	default:
		/* It was taken, so it may have reached the upstream -- unless the
		 * upstream says it certainly did not (not connected). */
		journal_set_delivery(core->journal, t->txn.id, fw->up->name, "pending", attempts,
				     t->status == CIRCD_TXN_NOT_SENT ? t->txn.maybe_sent : true,
				     t->message, NULL);
		set_last_error(fw, t->message);
		fw->draining = true;
		if (!fw->paused)
			pause_upstream(fw);
		break;
	}
	stations_txn_result(core, fw->up, t);
	txn_msg_free(t);
	fw->woken = true;
}

void forwarder_upstream_health(struct forwarder *fw, enum circd_health h)
{
	if (h == CIRCD_HEALTH_OFFLINE || h == CIRCD_HEALTH_FAILED) {
		fw->down = true;
	} else if (h == CIRCD_HEALTH_OK && fw->down) {
		/* Back: what was journaled until now waited out the outage. */
		fw->down = false;
		fw->live_since_usec = now_realtime_usec();
	}
}

void forwarder_stats(struct forwarder *fw, struct forwarder_stats *out)
{
	enum circd_health h = fw->up->health;
	out->state = fw->paused || h == CIRCD_HEALTH_OFFLINE || h == CIRCD_HEALTH_FAILED ? "down"
		     : h == CIRCD_HEALTH_STARTING ? "connecting"
		     : "up";
	out->window = fw->window;
	out->consecutive_failures = fw->consecutive_failures;
	out->last_error = fw->last_error;
}
