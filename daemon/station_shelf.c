/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shelf station: a multiplexed reader inventories the stacks antenna
 * by antenna, and its plugin reports each tag's arrival (TAG_SEEN) and
 * departure (TAG_GONE) per antenna.  Each antenna reads one shelf of the
 * model (shelf_model.h); the station keeps, per shelf, which tags are on it
 * and journals what staff should know as "shelf" events (detail: station,
 * shelf, item_id, anomaly, ...):
 *
 *   misplaced        on a shelf whose call-number range or home location
 *                    it does not fit (not while it is also read on a shelf
 *                    it fits: a cross-read at the edge of two antennas)
 *   on-shelf-loaned  sits on the shelf while the ILS says it is charged
 *   missing          belongs here, left, and has not been back for
 *                    `missing_after` without being checked out
 *   in-library-use   left and came back without a checkout in between
 *
 * Cycles.  The plugins report edges, not every inventory, so the station
 * counts cycles by time: `cycle_ms` is one inventory round over all
 * antennas (the reader's poll interval times its antennas).  A tag gone for
 * fewer than `cycles` cycles has not left (a flicker); the departure is
 * dated to its TAG_GONE.  A timer ticks once per cycle: it confirms
 * departures, times out missing items and judges the tags that have been on
 * a shelf for a whole cycle (by then every antenna has been read once, so a
 * cross-read is known).
 *
 * Each anomaly is noted once per item per episode: misplaced and
 * on-shelf-loaned once per stay on the shelf, missing once per absence,
 * in-library use once per return.
 *
 * What the station knows about an item: its call number from the tag
 * (ISO 28560 shelf location) or else the items table, its home location
 * and loan status from the items table; when that is not enough (or a loan
 * needs confirming: the table is not updated by a checkin) it asks the ILS
 * with station_lookup() and judges in on_item_info.  State is in memory: a
 * restart or reload starts a new inventory.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "instance.h"
#include "log.h"
#include "shelf_model.h"
#include "station.h"
#include "util/util.h"

#define LOOKUP_GIVE_UP_USEC (30 * USEC_PER_SEC)
#define SHELF_TAGS_MAX 500000 /* beyond this, new tags are ignored (and said so) */

static const struct circd_option shelf_options[] = {
	{ "shelves", CIRCD_OPT_LIST, NULL, CIRCD_OPT_REQUIRED, 0, 0,
	  "one string per shelf: \"ID [device=NAME] antenna=N [call=FROM..TO] [location=CODE]\"" },
	{ "cycle_ms", CIRCD_OPT_INT, "1000", 0, 10, 3600000,
	  "one inventory round over every antenna (the reader's poll interval x antennas)" },
	{ "cycles", CIRCD_OPT_INT, "3", 0, 1, 1000,
	  "a tag not seen for this many cycles has left the shelf" },
	{ "missing_after", CIRCD_OPT_STRING, "24h", 0, 0, 0,
	  "an item that belongs here and has been away this long, not checked out, is missing" },
	{ "lookup", CIRCD_OPT_STRING, "unknown", 0, 0, 0,
	  "ask the ILS about items: never, unknown (call number or location unknown, loan to confirm), always" },
	CIRCD_OPTION_END,
};

enum lookup_policy { LOOKUP_NEVER, LOOKUP_UNKNOWN, LOOKUP_ALWAYS };

struct shelf_tag {
	struct shelf_tag *next; /* hash chain */
	char *key;              /* "<shelf index>/<tag>" */
	const char *tag;        /* in key: the UID in hex, or "id:ITEM" */
	size_t shelf;
	char *device;
	int32_t antenna;
	char item_id[128];
	char uid[2 * CIRCD_UID_MAX + 1];
	char *call_number, *home_location;
	bool call_from_tag;
	enum shelf_fit fit;
	bool charged;           /* on loan, says the items table or the ILS */
	bool present;
	bool departed;          /* gone for `cycles` cycles */
	bool belonged;          /* was found to fit this shelf */
	bool lookup_pending;
	bool loaned_away;       /* checked out while away: not missing */
	bool noted_misplaced, noted_loaned, noted_missing;
	uint64_t since_mono;    /* on the shelf since */
	uint64_t gone_mono, gone_real;
	uint64_t lookup_mono;
};

struct shelf_stats {
	uint64_t in_library_use, misplaced, missing, loaned;
};

struct shelf_station {
	struct station *st;
	struct shelf_model model;
	struct shelf_stats *stats; /* per shelf, since start */
	uint64_t cycle_usec, leave_usec, missing_usec;
	enum lookup_policy lookup;
	struct shelf_tag **buckets;
	size_t n_buckets, n_tags;
	uint64_t unmapped_reads;
	bool full_warned;
	sd_event_source *timer;
};

/* ---- the tags table: chained hash on the key ---- */

static size_t key_hash(const char *key, size_t n_buckets)
{
	uint64_t h = 14695981039346656037ULL;
	for (const char *c = key; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ULL;
	return (size_t)(h & (n_buckets - 1));
}

static struct shelf_tag *tag_find(struct shelf_station *s, size_t shelf, const char *tag)
{
	char key[300];
	snprintf(key, sizeof(key), "%zu/%s", shelf, tag);
	for (struct shelf_tag *e = s->buckets[key_hash(key, s->n_buckets)]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void tag_free(struct shelf_tag *e)
{
	free(e->key);
	free(e->device);
	free(e->call_number);
	free(e->home_location);
	free(e);
}

static void table_grow(struct shelf_station *s)
{
	size_t n = s->n_buckets * 2;
	struct shelf_tag **b = xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < s->n_buckets; i++)
		for (struct shelf_tag *e = s->buckets[i], *next; e; e = next) {
			next = e->next;
			size_t h = key_hash(e->key, n);
			e->next = b[h];
			b[h] = e;
		}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = n;
}

static struct shelf_tag *tag_add(struct shelf_station *s, size_t shelf, const char *tag)
{
	if (s->n_tags >= s->n_buckets)
		table_grow(s);
	struct shelf_tag *e = xcalloc(1, sizeof(*e));
	e->key = xasprintf("%zu/%s", shelf, tag);
	e->tag = strchr(e->key, '/') + 1;
	e->shelf = shelf;
	size_t h = key_hash(e->key, s->n_buckets);
	e->next = s->buckets[h];
	s->buckets[h] = e;
	s->n_tags++;
	return e;
}

static void tag_remove(struct shelf_station *s, struct shelf_tag *e)
{
	for (struct shelf_tag **pp = &s->buckets[key_hash(e->key, s->n_buckets)]; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			s->n_tags--;
			tag_free(e);
			return;
		}
}

/* ---- what the journal knows ---- */

static sqlite3_stmt *prepare(struct station *st, const char *sql)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(journal_db(st->core->journal), sql, -1, &q, NULL) != SQLITE_OK) {
		log_err("%s: %s", st->name, sqlite3_errmsg(journal_db(st->core->journal)));
		return NULL;
	}
	return q;
}

static char *column_dup(sqlite3_stmt *q, int i)
{
	const char *t = (const char *)sqlite3_column_text(q, i);
	return t && *t ? xstrdup(t) : NULL;
}

/* SIP2 circulation status 04 charged, 05 charged (no recall), 07 recalled. */
static bool status_charged(const char *status)
{
	return status && (strcmp(status, "04") == 0 || strcmp(status, "05") == 0 ||
			  strcmp(status, "07") == 0);
}

/* Checked out or renewed (journaled here) since realtime since_usec. */
static bool checked_out_since(struct station *st, const char *item_id, uint64_t since_usec)
{
	sqlite3_stmt *q = prepare(st, "SELECT 1 FROM transactions WHERE item_id = ?1 AND kind IN"
				      " ('checkout','renew') AND event_time_usec >= ?2 LIMIT 1");
	if (!q)
		return false;
	sqlite3_bind_text(q, 1, item_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)since_usec);
	bool found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return found;
}

/* Whether the items table says charged and no checkin journaled here came
 * after the loan (a checkin answer carries no circulation status, so the
 * table keeps "charged" until the next lookup).  Also takes the row's call
 * number and home location. */
static bool items_row(struct station *st, struct shelf_tag *e)
{
	sqlite3_stmt *q = prepare(st,
		"SELECT i.call_number, i.home_location, i.circulation_status,"
		" (SELECT kind FROM transactions t WHERE t.item_id = i.item_id AND t.kind IN"
		"   ('checkin','checkout','renew') ORDER BY t.id DESC LIMIT 1)"
		" FROM items i WHERE i.item_id = ?1");
	if (!q)
		return false;
	sqlite3_bind_text(q, 1, e->item_id, -1, SQLITE_STATIC);
	bool charged = false;
	if (sqlite3_step(q) == SQLITE_ROW) {
		char *call = column_dup(q, 0), *home = column_dup(q, 1);
		if (call && !e->call_from_tag) {
			free(e->call_number);
			e->call_number = TAKE_PTR(call);
		}
		if (home) {
			free(e->home_location);
			e->home_location = TAKE_PTR(home);
		}
		free(call);
		free(home);
		const char *last = (const char *)sqlite3_column_text(q, 3);
		charged = status_charged((const char *)sqlite3_column_text(q, 2)) &&
			  !(last && strcmp(last, "checkin") == 0);
	}
	sqlite3_finalize(q);
	return charged;
}

/* ---- judging ---- */

static void resolve(struct shelf_station *s, struct shelf_tag *e)
{
	const struct shelf_def *def = &s->model.v[e->shelf];
	if (!e->item_id[0]) {
		e->fit = shelf_fit(def, e->call_number, NULL);
		return;
	}
	e->charged = items_row(s->st, e);
	e->fit = shelf_fit(def, e->call_number, e->home_location);
	bool ask = s->lookup == LOOKUP_ALWAYS ||
		   (s->lookup == LOOKUP_UNKNOWN && (e->fit == SHELF_FIT_UNKNOWN || e->charged));
	if (ask && station_lookup(s->st, e->item_id) == 0) {
		e->lookup_pending = true;
		e->lookup_mono = now_monotonic_usec();
	}
	if (e->fit == SHELF_FIT_BELONGS)
		e->belonged = true;
}

static void note(struct shelf_station *s, struct shelf_tag *e, const char *anomaly,
		 json_object *detail)
{
	const struct shelf_def *def = &s->model.v[e->shelf];
	if (!detail)
		detail = json_object_new_object();
	json_object_object_add(detail, "shelf", json_object_new_string(def->id));
	json_object_object_add(detail, "item_id", json_object_new_string(e->item_id));
	json_object_object_add(detail, "anomaly", json_object_new_string(anomaly));
	json_object_object_add(detail, "uid", json_object_new_string(e->uid));
	json_object_object_add(detail, "antenna", json_object_new_int(e->antenna));
	if (e->call_number)
		json_object_object_add(detail, "call_number", json_object_new_string(e->call_number));
	if (e->home_location)
		json_object_object_add(detail, "home_location", json_object_new_string(e->home_location));
	json_object_object_add(detail, "shelf_rule", json_object_new_string(def->rule_text));
	log_info("%s: shelf %s: item %s: %s", s->st->name, def->id,
		 e->item_id[0] ? e->item_id : e->uid, anomaly);
	station_note(s->st, e->device, "shelf", detail);
}

static void add_time(json_object *o, const char *key, uint64_t realtime_usec)
{
	char buf[40];
	format_iso8601(realtime_usec, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

/* Also read, right now, on a shelf it fits (two antennas overlap). */
static bool fits_elsewhere(struct shelf_station *s, const struct shelf_tag *e)
{
	for (size_t i = 0; i < s->model.n; i++) {
		if (i == e->shelf)
			continue;
		struct shelf_tag *o = tag_find(s, i, e->tag);
		if (o && o->present && o->fit == SHELF_FIT_BELONGS)
			return true;
	}
	return false;
}

static void judge_present(struct shelf_station *s, struct shelf_tag *e, uint64_t now)
{
	if (now - e->since_mono < s->cycle_usec)
		return; /* not yet a whole cycle: the other antennas may still read it */
	if (e->lookup_pending) {
		if (now - e->lookup_mono < LOOKUP_GIVE_UP_USEC)
			return;
		e->lookup_pending = false; /* no answer: judge on what is known */
	}
	if (e->fit == SHELF_FIT_MISPLACED && !e->noted_misplaced && !fits_elsewhere(s, e)) {
		e->noted_misplaced = true;
		s->stats[e->shelf].misplaced++;
		note(s, e, "misplaced", NULL);
	}
	if (e->charged && !e->noted_loaned) {
		e->noted_loaned = true;
		s->stats[e->shelf].loaned++;
		note(s, e, "on-shelf-loaned", NULL);
	}
}

/* Returns false when the entry was dropped. */
static bool judge_away(struct shelf_station *s, struct shelf_tag *e, uint64_t now)
{
	uint64_t now_real = now_realtime_usec();
	if (!e->departed) {
		if (now - e->gone_mono < s->leave_usec)
			return true; /* a flicker so far */
		e->departed = true;
		log_debug("%s: shelf %s: item %s left", s->st->name, s->model.v[e->shelf].id,
			  e->item_id[0] ? e->item_id : e->uid);
		if (e->fit == SHELF_FIT_MISPLACED && !e->belonged) {
			tag_remove(s, e); /* a visitor: nothing more to follow */
			return false;
		}
	}
	if (now_real - e->gone_real < s->missing_usec || e->noted_missing || e->loaned_away)
		return true;
	if (!e->belonged || !e->item_id[0]) {
		tag_remove(s, e); /* never known to belong here: forget it */
		return false;
	}
	if (checked_out_since(s->st, e->item_id, e->gone_real) || items_row(s->st, e)) {
		e->loaned_away = true;
		return true;
	}
	e->noted_missing = true;
	s->stats[e->shelf].missing++;
	json_object *d = json_object_new_object();
	add_time(d, "left", e->gone_real);
	json_object_object_add(d, "away_s", json_object_new_int64((int64_t)((now_real - e->gone_real) / USEC_PER_SEC)));
	note(s, e, "missing", d);
	return true;
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct station *st = userdata;
	struct shelf_station *s = st->data;
	(void)usec;
	uint64_t now = now_monotonic_usec();
	for (size_t b = 0; b < s->n_buckets; b++)
		for (struct shelf_tag *e = s->buckets[b], *next; e; e = next) {
			next = e->next;
			if (e->present)
				judge_present(s, e, now);
			else
				judge_away(s, e, now);
		}
	core_flush(st->core);
	sd_event_source_set_time_relative(src, s->cycle_usec);
	return 0;
}

/* ---- events ---- */

static void tag_seen(struct shelf_station *s, struct instance *dev, const struct circd_event *ev,
		     size_t shelf, const char *tag)
{
	uint64_t now = now_monotonic_usec();
	struct shelf_tag *e = tag_find(s, shelf, tag);
	if (e && e->present)
		return; /* lingering */
	if (e && !e->departed) {
		e->present = true; /* back within `cycles` cycles: it never left */
		return;
	}
	if (e) {
		/* Back after a departure: a new stay on the shelf. */
		uint64_t now_real = now_realtime_usec();
		if (e->item_id[0] && !checked_out_since(s->st, e->item_id, e->gone_real)) {
			json_object *d = json_object_new_object();
			add_time(d, "left", e->gone_real);
			json_object_object_add(d, "away_s", json_object_new_int64(
				(int64_t)((now_real - e->gone_real) / USEC_PER_SEC)));
			if (e->noted_missing)
				json_object_object_add(d, "was_missing", json_object_new_boolean(true));
			s->stats[shelf].in_library_use++;
			note(s, e, "in-library-use", d);
		} else if (e->noted_missing) {
			log_info("%s: shelf %s: item %s is back", s->st->name, s->model.v[shelf].id,
				 e->item_id);
		}
		e->present = true;
		e->departed = e->loaned_away = false;
		e->noted_misplaced = e->noted_loaned = e->noted_missing = false;
		e->since_mono = now;
		resolve(s, e);
		return;
	}
	if (s->n_tags >= SHELF_TAGS_MAX) {
		if (!s->full_warned)
			log_warning("%s: %d tags followed: ignoring new ones", s->st->name, SHELF_TAGS_MAX);
		s->full_warned = true;
		return;
	}
	e = tag_add(s, shelf, tag);
	json_object *detail = json_object_new_object();
	station_decode(s->st->core, ev, e->item_id, sizeof(e->item_id), detail);
	json_object *t, *loc;
	if (json_object_object_get_ex(detail, "tag", &t) &&
	    json_object_object_get_ex(t, "shelf_location", &loc)) {
		e->call_number = xstrdup(json_object_get_string(loc));
		e->call_from_tag = true;
	}
	json_object_put(detail);
	hex_encode(ev->uid, ev->uid_len, e->uid);
	e->device = xstrdup(dev->name);
	e->antenna = ev->antenna;
	e->present = true;
	e->since_mono = now;
	resolve(s, e);
}

static void shelf_on_event(struct station *st, struct instance *dev, const struct circd_event *ev)
{
	struct shelf_station *s = st->data;
	if (ev->type != CIRCD_EV_TAG_SEEN && ev->type != CIRCD_EV_TAG_GONE)
		return;
	const struct shelf_def *def = shelf_model_find(&s->model, dev->name, ev->antenna);
	if (!def) {
		if (s->unmapped_reads++ == 0)
			log_info("%s: %s antenna %d reads no shelf of the model (counted in the report)",
				 st->name, dev->name, ev->antenna);
		return;
	}
	size_t shelf = (size_t)(def - s->model.v);
	char tag[2 * CIRCD_UID_MAX + 140];
	if (ev->uid_len) {
		hex_encode(ev->uid, ev->uid_len, tag);
	} else if (ev->item_id && ev->item_id[0] && strlen(ev->item_id) < 128) {
		snprintf(tag, sizeof(tag), "id:%s", ev->item_id);
	} else {
		return;
	}
	if (ev->type == CIRCD_EV_TAG_SEEN) {
		tag_seen(s, dev, ev, shelf, tag);
		return;
	}
	struct shelf_tag *e = tag_find(s, shelf, tag);
	if (!e || !e->present)
		return;
	e->present = false;
	e->gone_mono = now_monotonic_usec();
	e->gone_real = ev->time_usec ? ev->time_usec : now_realtime_usec();
}

static const char *json_field(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *t = json_object_get_string(v);
	return t && *t ? t : NULL;
}

static void shelf_on_item_info(struct station *st, const char *item_id, uint32_t status,
			       const char *fields_json)
{
	struct shelf_station *s = st->data;
	json_object *f = status == CIRCD_TXN_OK && fields_json ? json_tokener_parse(fields_json) : NULL;
	for (size_t b = 0; b < s->n_buckets; b++)
		for (struct shelf_tag *e = s->buckets[b]; e; e = e->next) {
			if (strcmp(e->item_id, item_id) != 0)
				continue;
			e->lookup_pending = false;
			if (!f)
				continue; /* failed: judge on what is known */
			const char *call = json_field(f, "call_number");
			const char *home = json_field(f, "permanent_location");
			if (call && !e->call_from_tag) {
				free(e->call_number);
				e->call_number = xstrdup(call);
			}
			if (home) {
				free(e->home_location);
				e->home_location = xstrdup(home);
			}
			/* The ILS's word on the loan is the latest there is. */
			e->charged = status_charged(json_field(f, "circulation_status"));
			e->fit = shelf_fit(&s->model.v[e->shelf], e->call_number, e->home_location);
			if (e->fit == SHELF_FIT_BELONGS)
				e->belonged = true;
		}
	json_object_put(f);
}

/* ---- report ---- */

static json_object *item_json(const struct shelf_tag *e)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "item_id", json_object_new_string(e->item_id));
	json_object_object_add(o, "uid", json_object_new_string(e->uid));
	json_object_object_add(o, "call_number", json_object_new_string(e->call_number ? e->call_number : ""));
	json_object_object_add(o, "home_location",
			       json_object_new_string(e->home_location ? e->home_location : ""));
	return o;
}

static int shelf_control(struct station *st, const char *op, json_object *req, json_object **reply,
			 char **error)
{
	struct shelf_station *s = st->data;
	(void)req;
	if (strcmp(op, "report") != 0)
		return error_set(error, -EOPNOTSUPP, "station '%s' (shelf) knows the op \"report\"", st->name);
	uint64_t now_real = now_realtime_usec(), now = now_monotonic_usec();
	json_object *shelves = json_object_new_array();
	for (size_t i = 0; i < s->model.n; i++) {
		const struct shelf_def *def = &s->model.v[i];
		json_object *o = json_object_new_object(), *ants = json_object_new_array();
		json_object *misplaced = json_object_new_array(), *loaned = json_object_new_array(),
			    *missing = json_object_new_array();
		int64_t present = 0, belonging = 0, unverified = 0, away = 0;
		for (size_t b = 0; b < s->n_buckets; b++)
			for (struct shelf_tag *e = s->buckets[b]; e; e = e->next) {
				if (e->shelf != i)
					continue;
				if (!e->present) {
					if (e->noted_missing) {
						json_object *x = item_json(e);
						add_time(x, "left", e->gone_real);
						json_object_array_add(missing, x);
					} else if (e->departed) {
						away++;
					}
					continue;
				}
				present++;
				belonging += e->fit == SHELF_FIT_BELONGS;
				unverified += e->fit == SHELF_FIT_UNKNOWN;
				if (e->noted_misplaced) {
					json_object *x = item_json(e);
					add_time(x, "since", now_real - (now - e->since_mono));
					json_object_array_add(misplaced, x);
				}
				if (e->noted_loaned) {
					json_object *x = item_json(e);
					add_time(x, "since", now_real - (now - e->since_mono));
					json_object_array_add(loaned, x);
				}
			}
		json_object_object_add(o, "shelf", json_object_new_string(def->id));
		json_object_object_add(o, "device", json_object_new_string(def->device ? def->device : ""));
		for (size_t a = 0; a < def->n_antennas; a++)
			json_object_array_add(ants, json_object_new_int(def->antennas[a]));
		json_object_object_add(o, "antennas", ants);
		json_object_object_add(o, "rule", json_object_new_string(def->rule_text));
		json_object_object_add(o, "present", json_object_new_int64(present));
		json_object_object_add(o, "belonging", json_object_new_int64(belonging));
		json_object_object_add(o, "unverified", json_object_new_int64(unverified));
		json_object_object_add(o, "away", json_object_new_int64(away));
		json_object_object_add(o, "misplaced", misplaced);
		json_object_object_add(o, "on_shelf_loaned", loaned);
		json_object_object_add(o, "missing", missing);
		json_object *totals = json_object_new_object();
		json_object_object_add(totals, "misplaced", json_object_new_int64((int64_t)s->stats[i].misplaced));
		json_object_object_add(totals, "on-shelf-loaned", json_object_new_int64((int64_t)s->stats[i].loaned));
		json_object_object_add(totals, "missing", json_object_new_int64((int64_t)s->stats[i].missing));
		json_object_object_add(totals, "in-library-use",
				       json_object_new_int64((int64_t)s->stats[i].in_library_use));
		json_object_object_add(o, "noted", totals);
		json_object_array_add(shelves, o);
	}
	json_object *r = json_object_new_object();
	json_object_object_add(r, "station", json_object_new_string(st->name));
	json_object_object_add(r, "cycle_ms", json_object_new_int64((int64_t)(s->cycle_usec / USEC_PER_MSEC)));
	json_object_object_add(r, "cycles", json_object_new_int64((int64_t)(s->leave_usec / s->cycle_usec)));
	json_object_object_add(r, "missing_after_s", json_object_new_int64((int64_t)(s->missing_usec / USEC_PER_SEC)));
	json_object_object_add(r, "unmapped_reads", json_object_new_int64((int64_t)s->unmapped_reads));
	json_object_object_add(r, "shelves", shelves);
	*reply = r;
	return 0;
}

/* ---- configuration and life cycle ---- */

static int parse_lookup(const char *v, enum lookup_policy *out)
{
	if (strcmp(v, "never") == 0)
		*out = LOOKUP_NEVER;
	else if (strcmp(v, "unknown") == 0)
		*out = LOOKUP_UNKNOWN;
	else if (strcmp(v, "always") == 0)
		*out = LOOKUP_ALWAYS;
	else
		return -EINVAL;
	return 0;
}

static int shelf_check(const struct config_station *cfg, const struct resolved_options *opts,
		       const char *file, struct config_errors *errs)
{
	int n = 0;
	const struct resolved_option *o = options_get(opts, "shelves");
	const char *where = o->file ? o->file : file;
	struct shelf_model m;
	char **errors;
	size_t n_errors = shelf_model_parse(o->s, &m, &errors);
	for (size_t i = 0; i < n_errors; i++, n++)
		config_errors_add(errs, where, o->line, "station '%s': shelves: %s", cfg->name, errors[i]);
	shelf_errors_free(errors, n_errors);
	if (!n_errors && m.n == 0) {
		config_errors_add(errs, where, o->line, "station '%s': shelves: no shelf given", cfg->name);
		n++;
	}
	for (size_t i = 0; i < m.n; i++) {
		if (!m.v[i].device)
			continue;
		bool known = false;
		for (size_t d = 0; d < cfg->n_devices && !known; d++)
			known = strcmp(cfg->devices[d], m.v[i].device) == 0;
		if (!known) {
			config_errors_add(errs, where, o->line,
					  "station '%s': shelves: shelf '%s' names device '%s', which is not one of the station's devices",
					  cfg->name, m.v[i].id, m.v[i].device);
			n++;
		}
	}
	shelf_model_free(&m);

	uint64_t usec;
	o = options_get(opts, "missing_after");
	if (parse_duration_usec(o->s, &usec) < 0 || usec == 0) {
		config_errors_add(errs, o->file ? o->file : file, o->line,
				  "station '%s': missing_after '%s' is not a duration (e.g. \"30m\", \"24h\", \"7d\")",
				  cfg->name, o->s);
		n++;
	}
	enum lookup_policy lp;
	o = options_get(opts, "lookup");
	if (parse_lookup(o->s, &lp) < 0) {
		config_errors_add(errs, o->file ? o->file : file, o->line,
				  "station '%s': lookup '%s' is none of never, unknown, always", cfg->name, o->s);
		n++;
	}
	return n;
}

static int shelf_create(struct station *st)
{
	struct shelf_station *s = xcalloc(1, sizeof(*s));
	s->st = st;
	char **errors;
	size_t n_errors = shelf_model_parse(options_get(&st->opts, "shelves")->s, &s->model, &errors);
	for (size_t i = 0; i < n_errors; i++)
		log_err("%s: shelves: %s", st->name, errors[i]);
	shelf_errors_free(errors, n_errors);
	int r = 0;
	if (n_errors || parse_duration_usec(options_get(&st->opts, "missing_after")->s, &s->missing_usec) < 0 ||
	    parse_lookup(options_get(&st->opts, "lookup")->s, &s->lookup) < 0)
		r = -EINVAL; /* `circd -t` says why */
	s->cycle_usec = (uint64_t)options_get(&st->opts, "cycle_ms")->i * USEC_PER_MSEC;
	s->leave_usec = s->cycle_usec * (uint64_t)options_get(&st->opts, "cycles")->i;
	s->stats = xcalloc(s->model.n ? s->model.n : 1, sizeof(*s->stats));
	s->n_buckets = 64;
	s->buckets = xcalloc(s->n_buckets, sizeof(*s->buckets));
	st->data = s;
	if (r < 0)
		return r;
	if (st->core->event) {
		r = sd_event_add_time_relative(st->core->event, &s->timer, CLOCK_MONOTONIC, s->cycle_usec, 0,
					       on_tick, st);
		if (r < 0)
			return r;
		sd_event_source_set_enabled(s->timer, SD_EVENT_ON);
	}
	return 0;
}

static void shelf_destroy(struct station *st)
{
	struct shelf_station *s = st->data;
	sd_event_source_disable_unref(s->timer);
	for (size_t b = 0; b < s->n_buckets; b++)
		for (struct shelf_tag *e = s->buckets[b], *next; e; e = next) {
			next = e->next;
			tag_free(e);
		}
	free(s->buckets);
	free(s->stats);
	shelf_model_free(&s->model);
	free(s);
	st->data = NULL;
}

const struct station_role station_role_shelf = {
	.name = "shelf",
	.description = "shelf inventory: misplaced, missing, in-library use, on-shelf-but-loaned",
	.options = shelf_options,
	.check = shelf_check,
	.create = shelf_create,
	.on_event = shelf_on_event,
	.on_item_info = shelf_on_item_info,
	.control = shelf_control,
	.destroy = shelf_destroy,
};
