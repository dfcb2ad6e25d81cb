/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gate station: theft detection at the exit.  Every tag its readers
 * report is decided at once (gate_decide.h: by AFI, EAS, the site's item
 * cache, or AFI confirmed by the cache); an alarm goes to the alarm device
 * (a Modbus coil, the reader's own output) straight away, is debounced per
 * tag, and is journaled as a transaction of kind "alarm".  The optional
 * verification (SIP2 answers an alarm with a 17 item information) comes
 * back in on_txn_result() and becomes an "alarm-verdict" event.  People
 * passing the beams (CIRCD_EV_GATE_PASS, journaled by the core as
 * "gate-pass") are counted per direction; an alarm takes the direction of
 * the last pass within `direction_window_ms`.
 *
 * Latency budget (issue 6): from the tag event entering the core to the
 * alarm command leaving it, p99 <= 1 ms at 2,000 reads/s.  So the alarm is
 * NOT sent through station_command() (which waits for the journal commit):
 * an alarm is not an acknowledgement of circulation data, nothing is lost
 * if the daemon dies before the commit, and a patron at the door cannot
 * wait for an fsync.  It is journaled in the same dispatch, right after it
 * is sent (an INSERT into the open batch; committed with it).  A device
 * re-delivering an old event (a restarted reader) must not sound the alarm
 * again: one indexed read of the journal before sending tells.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_debounce.h"
#include "gate_decide.h"
#include "gate_latency.h"
#include "gate_store.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "station.h"
#include "tags/tag.h"
#include "util/util.h"

static const struct circd_option gate_options[] = {
	{ "mode", CIRCD_OPT_STRING, "afi", 0, 0, 0,
	  "alarm decision: afi, eas, cache or afi-then-cache" },
	{ "alarm_device", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "device (of this station) that sounds the alarm; empty = the reader that saw the tag" },
	{ "alarm_ms", CIRCD_OPT_INT, "3000", 0, 1, 600000, "how long the alarm sounds" },
	{ "alarm_debounce_ms", CIRCD_OPT_INT, "10000", 0, 0, 86400000,
	  "a tag that alarmed stays quiet this long, however often it is read" },
	{ "undecodable", CIRCD_OPT_STRING, "afi", 0, 0, 0,
	  "tag memory that cannot be decoded: afi (alarm when the AFI says in stock), alarm or silent" },
	{ "cache_unknown", CIRCD_OPT_STRING, "afi", 0, 0, 0,
	  "cache modes, an item the site does not know: afi, alarm or silent" },
	{ "verify_alarms", CIRCD_OPT_BOOL, "true", 0, 0, 0,
	  "let SIP2 upstreams check each alarm with an item information lookup (true/false alarm)" },
	{ "direction_window_ms", CIRCD_OPT_INT, "3000", 0, 0, 600000,
	  "an alarm takes the direction of a beam pass this recent, else 'unknown'" },
	CIRCD_OPTION_END,
};

/* Alarm commands in flight, to tell their acknowledgements from those of
 * other commands (`circctl sim` injections) sent to the same devices. */
#define ALARMS_IN_FLIGHT 64

struct gate {
	struct gate_policy policy;
	bool verify;
	int64_t alarm_ms;
	uint64_t direction_window_usec;
	char *alarm_device; /* NULL: the reader that saw the tag */
	struct gate_debounce debounce;
	struct tag_item *scratch; /* decoding, main thread only */

	uint64_t since_realtime_usec;
	uint64_t passes_in, passes_out, passes_unknown;
	uint8_t last_direction;
	uint64_t last_pass_usec;

	uint64_t reads, debounced, alarms, silent, undecodable;
	uint64_t verdict_true, verdict_false, verdict_unknown;
	uint64_t alarm_output_failures, journal_errors;

	/* Samples of the time from an event's arrival in the core to: */
	struct gate_latency dispatch; /* the gate seeing it (the core's share) */
	struct gate_latency decision; /* the decision (every read decided) */
	struct gate_latency alarm;    /* the alarm command posted */

	struct { const void *dev; uint64_t cmd_id; int64_t txn_id; } in_flight[ALARMS_IN_FLIGHT];
	size_t in_flight_next;

	struct gate_store store;
};

/* ---- the cache, for gate_decide() ---- */

struct cache_ask {
	struct gate_store *store;
	const char *item_id;
	const char *source; /* what decided: "items", "transaction" or NULL */
	char status[8];     /* the circulation status the items table had */
};

static enum gate_cache_state cache_lookup(void *userdata)
{
	struct cache_ask *a = userdata;
	return gate_store_item_state(a->store, a->item_id, a->status, sizeof(a->status), &a->source);
}

/* ---- options ---- */

static const char *opt_s(const struct resolved_options *o, const char *key)
{
	const struct resolved_option *r = options_get(o, key);
	return r && r->s ? r->s : "";
}

static int gate_check(const struct config_station *cfg, const struct resolved_options *opts,
		      const char *file, struct config_errors *errs)
{
	int n = 0;
	enum gate_mode m;
	enum gate_fallback f;
	const struct resolved_option *o;
#define WHERE(o) ((o)->file ? (o)->file : file), ((o)->line ? (o)->line : cfg->line)
	if ((o = options_get(opts, "mode")) && gate_mode_from_name(o->s, &m) < 0) {
		config_errors_add(errs, WHERE(o), "station '%s': mode '%s' is none of afi, eas, "
				  "cache, afi-then-cache", cfg->name, o->s);
		n++;
	}
	static const char *const fallbacks[] = { "undecodable", "cache_unknown" };
	for (size_t i = 0; i < ARRAY_SIZE(fallbacks); i++)
		if ((o = options_get(opts, fallbacks[i])) && gate_fallback_from_name(o->s, &f) < 0) {
			config_errors_add(errs, WHERE(o), "station '%s': %s '%s' is none of afi, alarm, "
					  "silent", cfg->name, fallbacks[i], o->s);
			n++;
		}
	if ((o = options_get(opts, "alarm_device")) && o->s && o->s[0]) {
		bool found = false;
		for (size_t i = 0; i < cfg->n_devices && !found; i++)
			found = strcmp(cfg->devices[i], o->s) == 0;
		if (!found) {
			config_errors_add(errs, WHERE(o), "station '%s': alarm_device '%s' is not one of "
					  "the station's devices", cfg->name, o->s);
			n++;
		}
	}
#undef WHERE
	return n;
}

/* ---- lifecycle ---- */

static int gate_create(struct station *st)
{
	struct gate *g = xcalloc(1, sizeof(*g));
	const struct config_security *sec = &st->core->cfg->security;
	g->policy.afi_in_stock = sec->afi_in_stock;
	g->policy.afi_on_loan = sec->afi_on_loan;
	if (gate_mode_from_name(opt_s(&st->opts, "mode"), &g->policy.mode) < 0 ||
	    gate_fallback_from_name(opt_s(&st->opts, "undecodable"), &g->policy.undecodable) < 0 ||
	    gate_fallback_from_name(opt_s(&st->opts, "cache_unknown"), &g->policy.cache_unknown) < 0) {
		log_err("%s: invalid mode, undecodable or cache_unknown (circd -t says which)", st->name);
		free(g);
		return -EINVAL;
	}
	g->verify = options_get(&st->opts, "verify_alarms")->b;
	g->alarm_ms = options_get(&st->opts, "alarm_ms")->i;
	g->direction_window_usec =
		(uint64_t)options_get(&st->opts, "direction_window_ms")->i * USEC_PER_MSEC;
	const char *dev = opt_s(&st->opts, "alarm_device");
	g->alarm_device = dev[0] ? xstrdup(dev) : NULL;
	gate_debounce_init(&g->debounce,
			   (uint64_t)options_get(&st->opts, "alarm_debounce_ms")->i * USEC_PER_MSEC);
	g->scratch = xcalloc(1, sizeof(*g->scratch));
	gate_store_init(&g->store, st->core->journal, st->name, st->cfg->devices, st->cfg->n_devices);
	g->since_realtime_usec = now_realtime_usec();
	st->data = g;
	log_info("%s: gate, mode %s, undecodable tags: %s, unknown items: %s, alarm on %s for "
		 "%lld ms, verification %s", st->name, gate_mode_name(g->policy.mode),
		 gate_fallback_name(g->policy.undecodable), gate_fallback_name(g->policy.cache_unknown),
		 g->alarm_device ? g->alarm_device : "the reader", (long long)g->alarm_ms,
		 g->verify ? "on" : "off");
	return 0;
}

static void gate_destroy(struct station *st)
{
	struct gate *g = st->data;
	gate_store_free(&g->store);
	gate_debounce_free(&g->debounce);
	gate_latency_free(&g->dispatch);
	gate_latency_free(&g->decision);
	gate_latency_free(&g->alarm);
	free(g->scratch);
	free(g->alarm_device);
	free(g);
	st->data = NULL;
}

/* ---- passes ---- */

static const char *direction_name(uint8_t d)
{
	return d == CIRCD_DIR_IN ? "in" : d == CIRCD_DIR_OUT ? "out" : "unknown";
}

static void gate_pass(struct station *st, const struct circd_event *ev, uint64_t now)
{
	struct gate *g = st->data;
	switch (ev->direction) {
	case CIRCD_DIR_IN: g->passes_in++; break;
	case CIRCD_DIR_OUT: g->passes_out++; break;
	default: g->passes_unknown++; break;
	}
	g->last_direction = ev->direction;
	g->last_pass_usec = now;
	metrics_count(st->core->metrics, "circd_gate_passes_total", st->name,
		      direction_name(ev->direction), NULL);
}

/* ---- alarms ---- */

/* The upstreams an alarm goes to.  SIP2 answers an alarm with a 17 lookup
 * (the verification), so without verification, or without an item id to
 * look up, the sip2 upstreams are left out; the others (jsonl, mqtt) still
 * get every alarm for the record.  Returns the count; names borrowed. */
static size_t alarm_upstreams(struct station *st, bool verify, char **out)
{
	size_t n = 0;
	for (size_t i = 0; i < st->n_upstreams; i++) {
		if (!verify) {
			bool sip2 = false;
			for (size_t k = 0; k < st->core->n_upstreams; k++) {
				struct instance *up = st->core->upstreams[k];
				if (strcmp(up->name, st->upstreams[i]) == 0)
					sip2 = strcmp(up->plugin->desc->name, "sip2") == 0;
			}
			if (sip2)
				continue;
		}
		out[n++] = st->upstreams[i];
	}
	return n;
}

static int journal_alarm(struct station *st, struct instance *dev, const struct circd_event *ev,
			 const char *item, const char *uid, json_object *detail, int64_t *id)
{
	struct gate *g = st->data;
	struct journal_txn_in t = {
		.kind = "alarm",
		.station = st->name,
		.device = dev->name,
		.item_id = item,
		.uid = uid,
		.event_time_usec = ev->time_usec,
		.device_event_id = ev->device_event_id,
		.detail_json = json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN),
	};
	/* station_journal_txn() delivers to st->upstreams: lend it the
	 * alarm's own list for this one call. */
	char **all = st->upstreams;
	size_t n_all = st->n_upstreams;
	char **some = xcalloc(n_all ? n_all : 1, sizeof(*some));
	st->n_upstreams = alarm_upstreams(st, g->verify && item[0], some);
	st->upstreams = some;
	int r = station_journal_txn(st, &t, id);
	st->upstreams = all;
	st->n_upstreams = n_all;
	free(some);
	return r;
}

/* Returns the in-flight slot of the command, or -1 when none was sent. */
static int send_alarm(struct station *st, struct instance *reader, const struct circd_event *ev,
		      uint64_t arrival)
{
	struct gate *g = st->data;
	struct instance *dev = g->alarm_device ? station_device(st, g->alarm_device) : reader;
	if (!dev) {
		g->alarm_output_failures++;
		log_warning("%s: alarm device '%s' is not running: the alarm is journaled only",
			    st->name, g->alarm_device);
		return -1;
	}
	struct circd_command cmd = { .struct_size = sizeof(cmd), .type = CIRCD_CMD_ALARM,
				     .value = g->alarm_ms, .uid_len = ev->uid_len };
	memcpy(cmd.uid, ev->uid, ev->uid_len <= CIRCD_UID_MAX ? ev->uid_len : 0);
	/* Directly, not station_command(): see the top of this file. */
	uint64_t id = instance_send_command(dev, &cmd);
	uint64_t sent = now_monotonic_usec();
	gate_latency_add(&g->alarm, sent - arrival);
	size_t slot = g->in_flight_next++ % ALARMS_IN_FLIGHT;
	g->in_flight[slot].dev = dev;
	g->in_flight[slot].cmd_id = id;
	g->in_flight[slot].txn_id = 0;
	return (int)slot;
}

static void gate_tag_seen(struct station *st, struct instance *dev, const struct circd_event *ev,
			  uint64_t arrival, uint64_t entry)
{
	struct gate *g = st->data;
	g->reads++;
	gate_latency_add(&g->dispatch, entry - arrival);

	/* The debounce key: the UID, or (a reader that only knows the item
	 * id) a 64-bit FNV-1a hash of the id. */
	const uint8_t *key = ev->uid;
	size_t key_len = ev->uid_len <= CIRCD_UID_MAX ? ev->uid_len : 0;
	uint8_t id_key[8];
	if (!key_len && ev->item_id && ev->item_id[0]) {
		uint64_t h = 14695981039346656037ULL;
		for (const char *c = ev->item_id; *c; c++)
			h = (h ^ (uint8_t)*c) * 1099511628211ULL;
		for (int i = 0; i < 8; i++)
			id_key[i] = (uint8_t)(h >> (8 * i));
		key = id_key;
		key_len = sizeof(id_key);
	}
	if (gate_debounce_quiet(&g->debounce, key, key_len, arrival)) {
		g->debounced++;
		return;
	}

	/* The item id: what the reader said, else the tag memory.  The
	 * decoder alone, not station_decode(): a gate must not feed the set
	 * tracker (one disc of three walking out is no incomplete return). */
	char item[TAG_ID_MAX + 1] = "";
	bool undecodable = false;
	int decode_error = -1;
	if (ev->item_id && ev->item_id[0])
		snprintf(item, sizeof(item), "%s", ev->item_id);
	if (!item[0] && ev->memory_len) {
		struct tag_decode_options o = { .block_size = ev->block_size };
		if (tag_decode(ev->memory, ev->memory_len, ev->dsfid, &o, g->scratch) < 0 ||
		    !g->scratch->primary_id[0]) {
			undecodable = true;
			decode_error = (int)g->scratch->error;
			g->undecodable++;
		} else {
			snprintf(item, sizeof(item), "%s", g->scratch->primary_id);
		}
	}

	struct gate_read r = { .afi = ev->afi, .eas = ev->eas, .has_item_id = item[0] != 0,
			       .undecodable = undecodable };
	struct cache_ask ask = { .store = &g->store, .item_id = item };
	struct gate_decision d;
	gate_decide(&g->policy, &r, cache_lookup, &ask, &d);
	uint64_t decided = now_monotonic_usec();
	gate_latency_add(&g->decision, decided - arrival);
	metrics_observe(st->core->metrics, "circd_gate_decision_seconds",
			(double)(decided - arrival) / 1e6, st->name, NULL);
	if (!d.alarm) {
		g->silent++;
		return;
	}

	/* An alarm.  Debounce first: whatever happens below, this tag has
	 * had its alarm. */
	gate_debounce_arm(&g->debounce, key, key_len, arrival);
	if (gate_store_journaled(&g->store, dev->name, ev->device_event_id)) {
		log_debug("%s: event %llu of %s already journaled: no second alarm", st->name,
			  (unsigned long long)ev->device_event_id, dev->name);
		return;
	}
	/* The door first, the record right after. */
	int slot = send_alarm(st, dev, ev, arrival);
	const char *direction = "unknown";
	if (g->last_pass_usec && arrival >= g->last_pass_usec &&
	    arrival - g->last_pass_usec <= g->direction_window_usec)
		direction = direction_name(g->last_direction);
	char uid[2 * CIRCD_UID_MAX + 1];
	hex_encode(ev->uid, key == ev->uid ? key_len : 0, uid);

	json_object *detail = json_object_new_object();
	json_object_object_add(detail, "gate", json_object_new_string(st->name));
	json_object_object_add(detail, "direction", json_object_new_string(direction));
	json_object_object_add(detail, "mode", json_object_new_string(gate_mode_name(g->policy.mode)));
	json_object_object_add(detail, "reason", json_object_new_string(gate_reason_name(d.reason)));
	json_object_object_add(detail, "afi", ev->afi >= 0 ? json_object_new_int(ev->afi) : NULL);
	json_object_object_add(detail, "eas", ev->eas >= 0 ? json_object_new_boolean(ev->eas) : NULL);
	if (d.cache_asked)
		json_object_object_add(detail, "cache",
				       json_object_new_string(gate_cache_state_name(d.cache)));
	if (ask.source) {
		json_object_object_add(detail, "cache_source", json_object_new_string(ask.source));
		if (ask.status[0] && strcmp(ask.source, "items") == 0)
			json_object_object_add(detail, "circulation_status",
					       json_object_new_string(ask.status));
	}
	if (undecodable)
		json_object_object_add(detail, "tag_error",
				       json_object_new_string(tag_reason_name((unsigned)decode_error)));
	json_object_object_add(detail, "antenna", json_object_new_int(ev->antenna));
	json_object_object_add(detail, "alarm_ms", json_object_new_int64(g->alarm_ms));
	json_object_object_add(detail, "verify", json_object_new_boolean(g->verify && item[0]));

	int64_t txn_id = 0;
	int j = journal_alarm(st, dev, ev, item, uid, detail, &txn_id);
	json_object_put(detail);
	if (j < 0) {
		/* The alarm sounded all the same: the door matters more than
		 * the record. */
		g->journal_errors++;
		log_err("%s: could not journal the alarm for %s: %s", st->name,
			item[0] ? item : uid, strerror(-j));
	}
	if (slot >= 0)
		g->in_flight[slot].txn_id = txn_id;
	if (j == 0)
		gate_store_note_journaled(&g->store, dev->name, ev->device_event_id);
	g->alarms++;
	metrics_count(st->core->metrics, "circd_alarms_total", st->name, NULL);
	log_info("%s: ALARM item %s uid %s (%s, mode %s, direction %s), transaction %lld", st->name,
		 item[0] ? item : "(unknown)", uid[0] ? uid : "-", gate_reason_name(d.reason),
		 gate_mode_name(g->policy.mode), direction, (long long)txn_id);
}

/* Times are those of the event's arrival in the core (emit()), not of its
 * handling: a main loop busy with a commit must not squeeze the debounce
 * or the direction window. */
static void gate_on_event(struct station *st, struct instance *dev, const struct circd_event *ev)
{
	uint64_t now = now_monotonic_usec();
	uint64_t arrival = st->core->event_arrival_usec;
	if (!arrival || arrival > now)
		arrival = now; /* not from the inbox: no queueing to count */
	switch (ev->type) {
	case CIRCD_EV_TAG_SEEN:
		gate_tag_seen(st, dev, ev, arrival, now);
		break;
	case CIRCD_EV_GATE_PASS:
		gate_pass(st, ev, arrival);
		break;
	default:
		break; /* tag-gone: the debounce is by time alone */
	}
}

/* ---- answers ---- */

static void note_verdict(struct station *st, struct instance *upstream, const struct txn_msg *t,
			 const char *verdict,
			 const char *status, const char *why)
{
	struct gate *g = st->data;
	if (!strcmp(verdict, "true"))
		g->verdict_true++;
	else if (!strcmp(verdict, "false"))
		g->verdict_false++;
	else
		g->verdict_unknown++;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "txn", json_object_new_int64(t->txn.id));
	json_object_object_add(o, "item_id", json_object_new_string(t->item_id ? t->item_id : ""));
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	json_object_object_add(o, "upstream", json_object_new_string(upstream ? upstream->name : ""));
	if (status)
		json_object_object_add(o, "circulation_status", json_object_new_string(status));
	if (why)
		json_object_object_add(o, "reason", json_object_new_string(why));
	log_info("%s: alarm %lld (item %s) was %s%s%s", st->name, (long long)t->txn.id,
		 t->item_id && t->item_id[0] ? t->item_id : "(unknown)",
		 !strcmp(verdict, "true") ? "a true alarm" : !strcmp(verdict, "false")
			 ? "a false alarm (the item is on loan)" : "not verified",
		 why ? ": " : "", why ? why : "");
	station_note(st, NULL, "alarm-verdict", o);
}

static const char *json_str_field(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Verdicts from an upstream's answer to an alarm.  Only answers that say
 * something about the item count (SIP2: the 18's circulation status); a
 * sink that merely stored the alarm (jsonl) answers OK without fields and
 * gives none.  RETRY/NOT_SENT: the ILS is away; the forwarder asks again
 * later and the verdict comes then.
 */
static void gate_on_txn_result(struct station *st, struct instance *upstream,
			       const struct txn_msg *t)
{
	if (!t->kind || strcmp(t->kind, "alarm") != 0)
		return;
	if (t->status == CIRCD_TXN_REJECTED) {
		note_verdict(st, upstream, t, "unknown", NULL, t->message ? t->message : "rejected");
		return;
	}
	if (t->status != CIRCD_TXN_OK || !t->fields_json)
		return;
	json_object *f = json_tokener_parse(t->fields_json);
	if (!f || !json_object_is_type(f, json_type_object)) {
		json_object_put(f);
		return;
	}
	json_object *v;
	const char *cs = json_str_field(f, "circulation_status");
	const char *title = json_str_field(f, "title");
	if (json_object_object_get_ex(f, "skipped", &v) && json_object_get_boolean(v)) {
		note_verdict(st, upstream, t, "unknown", NULL, "the upstream cannot look items up");
	} else if (cs && !strcmp(cs, "01") && !(title && title[0])) {
		/* SIP2 has no "not found": status 01 and no title is how ILSs
		 * answer an unknown barcode (plugins/sip2/txn.c). */
		note_verdict(st, upstream, t, "unknown", cs, "the ILS does not know the item");
	} else if (gate_cache_state_of_status(cs) == GATE_CACHE_ON_LOAN ||
		   (json_object_object_get_ex(f, "false_alarm", &v) && json_object_get_boolean(v))) {
		note_verdict(st, upstream, t, "false", cs, NULL);
	} else if (cs) {
		note_verdict(st, upstream, t, "true", cs, NULL);
	}
	json_object_put(f);
}

static void gate_on_command_done(struct station *st, struct instance *dev, uint64_t cmd_id,
				 int status, const char *detail)
{
	struct gate *g = st->data;
	for (size_t i = 0; i < ALARMS_IN_FLIGHT; i++) {
		if (g->in_flight[i].dev != dev || g->in_flight[i].cmd_id != cmd_id)
			continue;
		g->in_flight[i].dev = NULL;
		if (status < 0) {
			/* The core logged the failure; the device's health tells
			 * staff more.  Count it for `circctl gate`. */
			g->alarm_output_failures++;
			log_warning("%s: the alarm for transaction %lld did not sound on %s: %s%s%s",
				    st->name, (long long)g->in_flight[i].txn_id, dev->name,
				    strerror(-status), detail[0] ? ": " : "", detail);
		}
		return;
	}
}

/* ---- control: `circctl gate NAME [counts|latency]` ---- */

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static int gate_control(struct station *st, const char *op, json_object *req, json_object **reply,
			char **error)
{
	struct gate *g = st->data;
	json_object *o = json_object_new_object();
	if (!strcmp(op, "counts")) {
		char since[40];
		format_iso8601(g->since_realtime_usec, since, sizeof(since));
		json_object_object_add(o, "station", json_object_new_string(st->name));
		json_object_object_add(o, "mode", json_object_new_string(gate_mode_name(g->policy.mode)));
		json_object_object_add(o, "since", json_object_new_string(since));
		json_object *p = json_object_new_object();
		add_u64(p, "in", g->passes_in);
		add_u64(p, "out", g->passes_out);
		add_u64(p, "unknown", g->passes_unknown);
		json_object_object_add(o, "passes", p);
		add_u64(o, "reads", g->reads);
		add_u64(o, "debounced", g->debounced);
		add_u64(o, "silent", g->silent);
		add_u64(o, "undecodable", g->undecodable);
		add_u64(o, "alarms", g->alarms);
		json_object *v = json_object_new_object();
		add_u64(v, "true", g->verdict_true);
		add_u64(v, "false", g->verdict_false);
		add_u64(v, "unknown", g->verdict_unknown);
		json_object_object_add(o, "verdicts", v);
		add_u64(o, "alarm_output_failures", g->alarm_output_failures);
		add_u64(o, "journal_errors", g->journal_errors);
		add_u64(o, "quiet_tags", gate_debounce_count(&g->debounce, now_monotonic_usec()));
	} else if (!strcmp(op, "latency")) {
		json_object_object_add(o, "station", json_object_new_string(st->name));
		json_object_object_add(o, "dispatch", gate_latency_json(&g->dispatch));
		json_object_object_add(o, "decision", gate_latency_json(&g->decision));
		json_object_object_add(o, "alarm", gate_latency_json(&g->alarm));
		json_object *r;
		if (json_object_object_get_ex(req, "reset", &r) && json_object_get_boolean(r)) {
			gate_latency_reset(&g->dispatch);
			gate_latency_reset(&g->decision);
			gate_latency_reset(&g->alarm);
		}
	} else {
		json_object_put(o);
		return error_set(error, -EINVAL, "gate '%s': no operation '%s' (counts, latency)",
				 st->name, op);
	}
	*reply = o;
	return 0;
}

const struct station_role station_role_gate = {
	.name = "gate",
	.description = "security gate: alarm on items leaving without a loan; people counts",
	.options = gate_options,
	.check = gate_check,
	.create = gate_create,
	.on_event = gate_on_event,
	.on_txn_result = gate_on_txn_result,
	.on_command_done = gate_on_command_done,
	.control = gate_control,
	.destroy = gate_destroy,
};
