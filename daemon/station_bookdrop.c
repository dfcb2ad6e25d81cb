/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookdrop station: a return slot with a reader, optionally a light
 * curtain, a sorter and bin fill-level sensors.
 *
 *   item detected (the light curtain's ITEM_DROP and/or the reader's
 *   TAG_SEEN, paired within read_window_ms; a drop with no tag is "no-tag")
 *   -> decoded (item id, set parts) -> checkin journaled; only after the
 *   commit is the intake told to take the item (INTAKE 1)
 *   -> the sort upstream (SIP2) answers, or does not within sort_timeout_ms
 *   -> sort decision (bookdrop_sort.c): rule chain, exception bin, offline
 *   -> SELECT_BIN to the sorter, WRITE_AFI / SET_EAS with read-back to the
 *   reader -> their results; every failure a station exception.
 *
 * A lingering or flickering tag is one return (presence.c, debounce_ms).
 * The forwarder keeps replaying a checkin the ILS did not take; the item's
 * physical sort cannot wait for that, so it goes to the default bin (or
 * the exception bin: offline_bin) and the late answer changes nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookdrop.h"
#include "forwarder.h"
#include "instance.h"
#include "log.h"
#include "util/util.h"

static const struct circd_option bookdrop_options[] = {
	{ "debounce_ms", CIRCD_OPT_INT, "3000", 0, 0, 3600000,
	  "a tag seen again this soon after it left is not a second return" },
	{ "sort", CIRCD_OPT_LIST, "hold -> 2\ntransit -> 3\nsort-bin\ndefault -> 1", 0, 0, 0,
	  "sort rules, first match wins: hold|transit|sort-bin|collection|call-number|media|"
	  "location|default [PATTERNS] -> BIN" },
	{ "bins", CIRCD_OPT_LIST, "", 0, 0, 0,
	  "sorter positions of named bins: \"NAME = NUMBER\" (a numeric bin name is its position)" },
	{ "exception_bin", CIRCD_OPT_STRING, "0", 0, 0, 0,
	  "no tag, unreadable, unknown format, incomplete set, rejected, no rule matched" },
	{ "overflow_bin", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "where items for a full bin go (\"\" = the exception bin)" },
	{ "offline_bin", CIRCD_OPT_STRING, "default", 0, 0, 0,
	  "ILS offline: \"default\" (the default rule's bin) or \"exception\"" },
	{ "sort_upstream", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "the upstream whose answer sorts (\"\" = the station's first)" },
	{ "sort_timeout_ms", CIRCD_OPT_INT, "3000", 0, 10, 600000,
	  "no answer from the ILS within this: sort as offline" },
	{ "command_timeout_ms", CIRCD_OPT_INT, "2000", 0, 10, 600000,
	  "sorter acknowledgement and re-secure read-back must come within this" },
	{ "read_window_ms", CIRCD_OPT_INT, "1000", 0, 1, 60000,
	  "a light-curtain drop and the tag read belong together within this" },
	{ "set_window_ms", CIRCD_OPT_INT, "3000", 0, 0, 600000,
	  "the other parts of a set must be read within this, else exception bin" },
	{ "sorter", CIRCD_OPT_STRING, "", 0, 0, 0, "device that gets SELECT_BIN (\"\" = none)" },
	{ "intake", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "device that gets INTAKE open/lock (\"\" = the sorter, if any)" },
	{ "resecure", CIRCD_OPT_BOOL, "true", 0, 0, 0,
	  "write AFI in stock / EAS on (security = { ... }) after the sort, verified" },
	{ "fill_sensor_prefix", CIRCD_OPT_STRING, "fill_bin", 0, 0, 0,
	  "sensor PREFIX<bin name or number> reports that bin's fill level in %" },
	{ "bin_full_percent", CIRCD_OPT_INT, "90", 0, 1, 1000,
	  "a bin this full locks the intake" },
	{ "bin_resume_percent", CIRCD_OPT_INT, "70", 0, 0, 1000,
	  "the intake opens again when every full bin is below this" },
	CIRCD_OPTION_END,
};

static const char *opt_s(const struct resolved_options *o, const char *key)
{
	const struct resolved_option *ro = options_get(o, key);
	return ro && ro->s ? ro->s : "";
}

/* ---- `circd -t`: what the schema cannot say ---- */

static void add_err(struct config_errors *errs, const char *file, const struct config_station *cfg,
		    const struct resolved_options *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void add_err(struct config_errors *errs, const char *file, const struct config_station *cfg,
		    const struct resolved_options *o, const char *key, const char *fmt, ...)
{
	const struct resolved_option *ro = options_get(o, key);
	int line = ro && ro->line ? ro->line : cfg->line;
	const char *f = ro && ro->line && ro->file ? ro->file : cfg->file ? cfg->file : file;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_errors_add(errs, f, line, "station '%s': %s: %s", cfg->name, key, msg);
}

static bool has_device(const struct config_station *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_devices; i++)
		if (strcmp(cfg->devices[i], name) == 0)
			return true;
	return false;
}

static int bookdrop_check(const struct config_station *cfg, const struct resolved_options *o,
			  const char *file, struct config_errors *errs)
{
	size_t before = errs->n;
	char err[300];
	struct sort_chain chain = { 0 };
	struct sort_bins bins = { 0 };
	bool bins_ok = sort_bins_parse(opt_s(o, "bins"), &bins, err, sizeof(err)) == 0;
	if (!bins_ok)
		add_err(errs, file, cfg, o, "bins", "%s", err);
	if (sort_chain_parse(opt_s(o, "sort"), &chain, err, sizeof(err)) < 0)
		add_err(errs, file, cfg, o, "sort", "%s", err);
	else if (bins_ok && sort_chain_check_bins(&chain, &bins, err, sizeof(err)) < 0)
		add_err(errs, file, cfg, o, "sort", "%s", err);
	unsigned n;
	const char *bin_keys[] = { "exception_bin", "overflow_bin" };
	for (size_t i = 0; i < ARRAY_SIZE(bin_keys); i++) {
		const char *v = opt_s(o, bin_keys[i]);
		if (!v[0] && i == 1)
			continue;
		if (!sort_bin_name_valid(v))
			add_err(errs, file, cfg, o, bin_keys[i], "'%s' is not a bin name", v);
		else if (bins_ok && sort_bins_number(&bins, v, &n) < 0)
			add_err(errs, file, cfg, o, bin_keys[i],
				"bin '%s' has no sorter position (add \"%s = N\" to bins)", v, v);
	}
	const char *off = opt_s(o, "offline_bin");
	if (strcmp(off, "default") != 0 && strcmp(off, "exception") != 0)
		add_err(errs, file, cfg, o, "offline_bin", "'%s' is not \"default\" or \"exception\"", off);
	const char *dev_keys[] = { "sorter", "intake" };
	for (size_t i = 0; i < ARRAY_SIZE(dev_keys); i++) {
		const char *v = opt_s(o, dev_keys[i]);
		if (v[0] && !has_device(cfg, v))
			add_err(errs, file, cfg, o, dev_keys[i], "'%s' is not one of the station's devices", v);
	}
	const char *up = opt_s(o, "sort_upstream");
	if (up[0] && cfg->upstreams_given) {
		bool found = false;
		for (size_t i = 0; i < cfg->n_upstreams; i++)
			found |= strcmp(cfg->upstreams[i], up) == 0;
		if (!found)
			add_err(errs, file, cfg, o, "sort_upstream",
				"'%s' is not one of the station's upstreams", up);
	}
	if (options_get(o, "bin_resume_percent")->i >= options_get(o, "bin_full_percent")->i)
		add_err(errs, file, cfg, o, "bin_resume_percent",
			"must be below bin_full_percent (%lld), or the intake would chatter",
			(long long)options_get(o, "bin_full_percent")->i);
	sort_chain_free(&chain);
	sort_bins_free(&bins);
	return (int)(errs->n - before);
}

/* ---- returns: their list and their timer ---- */

static int on_return_timer(sd_event_source *s, uint64_t usec, void *userdata);

void bd_arm(struct bd_return *r, uint64_t deadline_usec)
{
	r->deadline_usec = deadline_usec;
	if (!r->timer) {
		int k = sd_event_add_time(r->st->core->event, &r->timer, CLOCK_MONOTONIC, deadline_usec,
					  USEC_PER_MSEC, on_return_timer, r);
		if (k < 0)
			log_err("%s: cannot arm a timer: %s", r->st->name, strerror(-k));
		return;
	}
	sd_event_source_set_time(r->timer, deadline_usec);
	sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
}

static struct bd_return *return_new(struct bookdrop *b)
{
	struct bd_return *r = xcalloc(1, sizeof(*r));
	r->st = b->st;
	r->afi_read = -1;
	r->eas_read = -1;
	r->afi_status = r->eas_status = 1;
	r->prev = b->tail;
	if (b->tail)
		b->tail->next = r;
	else
		b->head = r;
	b->tail = r;
	b->n_returns++;
	return r;
}

void bd_return_free(struct bookdrop *b, struct bd_return *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		b->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		b->tail = r->prev;
	b->n_returns--;
	if (r->phase == BD_WAIT_TAG)
		b->n_wait_tag--;
	sd_event_source_disable_unref(r->timer);
	free(r->fields_json);
	free(r);
}

static struct bd_return *find_txn(struct bookdrop *b, int64_t txn_id)
{
	/* The list is in journal order (a drop waiting for its tag takes the
	 * next one), and answers come in journal order: the match is near
	 * the head, and past a later id there is none (a return sorted as
	 * offline and gone, whose replay answers now). */
	for (struct bd_return *r = b->head; r; r = r->next) {
		if (r->txn_id == txn_id)
			return r;
		if (r->txn_id > txn_id)
			break;
	}
	return NULL;
}

/* A drop whose tag never came: decided now as "no-tag". */
static int on_return_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct bd_return *r = userdata;
	struct bookdrop *b = r->st->data;
	(void)s;
	(void)usec;
	if (r->phase == BD_SORTING) {
		bd_commands_timed_out(b, r);
	} else {
		bd_try_decide(b, r, true);
	}
	core_flush(b->st->core);
	return 0;
}

/* ---- detection ---- */

static void expire_recent_tags(struct bookdrop *b, uint64_t now)
{
	size_t k = 0;
	for (size_t i = 0; i < b->n_recent_tags; i++)
		if (now - b->recent_tags[i] <= b->read_window_usec)
			b->recent_tags[k++] = b->recent_tags[i];
	b->n_recent_tags = k;
}

static void on_drop(struct bookdrop *b)
{
	uint64_t now = now_monotonic_usec();
	expire_recent_tags(b, now);
	if (b->n_recent_tags) {
		/* The reader was first (it sits before the curtain): that tag
		 * was this drop. */
		memmove(b->recent_tags, b->recent_tags + 1, --b->n_recent_tags * sizeof(uint64_t));
		return;
	}
	struct bd_return *r = return_new(b);
	r->phase = BD_WAIT_TAG;
	b->n_wait_tag++;
	r->event_time_usec = now_realtime_usec();
	bd_arm(r, now + b->read_window_usec);
}

/* The parts of a set seen before the last one: decided together now. */
static void set_completed(struct bookdrop *b, const char *item_id, const char *owner)
{
	struct bd_return *r = b->head;
	while (r) {
		struct bd_return *next = r->next;
		if (r->set_waiting && strcmp(r->item_id, item_id) == 0 && strcmp(r->set_owner, owner) == 0) {
			r->set_waiting = false;
			bd_try_decide(b, r, false);
		}
		r = next;
	}
}

static const char *json_get_str(json_object *o, const char *key)
{
	json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static bool upstream_down(struct station *st, const char *name)
{
	for (size_t i = 0; i < st->core->n_upstreams; i++) {
		struct instance *u = st->core->upstreams[i];
		if (strcmp(u->name, name) == 0 && u->fw) {
			struct forwarder_stats fs;
			forwarder_stats(u->fw, &fs);
			return strcmp(fs.state, "down") == 0;
		}
	}
	return false;
}

static const char *sort_upstream_name(struct bookdrop *b)
{
	if (b->sort_upstream)
		return b->sort_upstream;
	return b->st->n_upstreams ? b->st->upstreams[0] : "";
}

static void bookdrop_checkin(struct bookdrop *b, struct instance *dev, const struct circd_event *ev)
{
	struct station *st = b->st;
	char item[BD_ITEM_MAX], uid[2 * CIRCD_UID_MAX + 1];
	json_object *detail = json_object_new_object();
	station_decode(st->core, ev, item, sizeof(item), detail);
	hex_encode(ev->uid, ev->uid_len, uid);
	json_object_object_add(detail, "antenna", json_object_new_int(ev->antenna));
	if (ev->afi >= 0)
		json_object_object_add(detail, "afi", json_object_new_int(ev->afi));

	struct journal_txn_in t = {
		.kind = "checkin",
		.station = st->name,
		.device = dev->name,
		.item_id = item,
		.uid = uid,
		.event_time_usec = ev->time_usec,
		.device_event_id = ev->device_event_id,
		.detail_json = json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN),
	};
	int64_t id;
	int k = station_journal_txn(st, &t, &id);
	if (k == -EEXIST) {
		log_debug("%s: event %llu of %s already journaled", st->name,
			  (unsigned long long)ev->device_event_id, dev->name);
		json_object_put(detail);
		return;
	}
	if (k < 0) {
		log_err("%s: could not journal the return of %s: %s", st->name, item[0] ? item : uid,
			strerror(-k));
		json_object_put(detail);
		return;
	}
	log_debug("%s: checkin %lld item %s", st->name, (long long)id, item[0] ? item : "(unknown)");
	b->returns_total++;
	/* The item is durable once this commits: only then may the intake
	 * take it (station_command waits for the commit). */
	if (!b->intake_locked)
		bd_send_intake(b, true);

	/* The drop it belongs to, if the curtain saw it first. */
	struct bd_return *r = NULL;
	for (struct bd_return *x = b->n_wait_tag ? b->head : NULL; x; x = x->next)
		if (x->phase == BD_WAIT_TAG) {
			r = x;
			b->n_wait_tag--;
			break;
		}
	if (!r) {
		r = return_new(b);
		if (b->n_recent_tags == BD_RECENT_TAGS)
			memmove(b->recent_tags, b->recent_tags + 1, --b->n_recent_tags * sizeof(uint64_t));
		b->recent_tags[b->n_recent_tags++] = now_monotonic_usec();
	}
	r->phase = BD_WAIT_ANSWER;
	r->txn_id = id;
	snprintf(r->item_id, sizeof(r->item_id), "%s", item);
	snprintf(r->reader, sizeof(r->reader), "%s", dev->name);
	memcpy(r->uid, ev->uid, ev->uid_len);
	r->uid_len = ev->uid_len;
	r->afi_read = ev->afi;
	r->eas_read = ev->eas;
	r->event_time_usec = ev->time_usec ? ev->time_usec : now_realtime_usec();

	json_object *tag = NULL;
	json_object_object_get_ex(detail, "tag", &tag);
	const char *title = json_get_str(tag, "title");
	if (title)
		snprintf(r->tag_title, sizeof(r->tag_title), "%s", title);
	if (!item[0]) {
		const char *why = json_get_str(tag, "error");
		r->exception = why && strcmp(why, "unknown-format") == 0 ? "unknown-format" : "unreadable";
	}
	uint64_t now = now_monotonic_usec();
	const char *set = json_get_str(tag, "set");
	const char *owner = json_get_str(tag, "owner");
	snprintf(r->set_owner, sizeof(r->set_owner), "%s", owner ? owner : "");
	if (set && strcmp(set, "complete") == 0) {
		set_completed(b, r->item_id, r->set_owner);
	} else if (set) { /* incomplete, or the core's window expired */
		r->set_waiting = true;
		r->set_incomplete = false;
	}
	json_object_put(detail);

	/* Known to be away: no point waiting sort_timeout_ms for it. */
	if (upstream_down(st, sort_upstream_name(b))) {
		r->answered = true;
		r->status = CIRCD_TXN_NOT_SENT;
	}
	r->answer_deadline_usec = now + b->sort_timeout_usec;
	r->set_deadline_usec = now + b->set_window_usec;
	bd_arm(r, r->set_waiting && r->set_deadline_usec < r->answer_deadline_usec
			  ? r->set_deadline_usec : r->answer_deadline_usec);
	bd_try_decide(b, r, false);
}

static void bookdrop_on_event(struct station *st, struct instance *dev, const struct circd_event *ev)
{
	struct bookdrop *b = st->data;
	uint64_t now = now_monotonic_usec();
	/* Tags without a UID (a device that only knows the barcode) are keyed
	 * by a 64-bit FNV-1a hash of their item id: long ids that share a
	 * prefix must not look like the same tag. */
	const uint8_t *key = ev->uid;
	uint8_t key_len = ev->uid_len;
	uint8_t id_key[8];
	if (!key_len && ev->item_id) {
		uint64_t h = 14695981039346656037ULL;
		for (const char *c = ev->item_id; *c; c++)
			h = (h ^ (uint8_t)*c) * 1099511628211ULL;
		for (int i = 0; i < 8; i++)
			id_key[i] = (uint8_t)(h >> (8 * i));
		key = id_key;
		key_len = sizeof(id_key);
	}
	switch (ev->type) {
	case CIRCD_EV_TAG_SEEN:
		if (presence_seen(&b->presence, dev, key, key_len, now) == PRESENCE_NEW)
			bookdrop_checkin(b, dev, ev);
		break;
	case CIRCD_EV_TAG_GONE:
		presence_gone(&b->presence, dev, key, key_len, now);
		break;
	case CIRCD_EV_ITEM_DROP:
		on_drop(b);
		break;
	case CIRCD_EV_SENSOR:
		bd_on_sensor(b, dev, ev);
		break;
	default:
		break;
	}
}

/* ---- the ILS's answer ---- */

static void bookdrop_on_txn_result(struct station *st, struct instance *upstream,
				   const struct txn_msg *t)
{
	struct bookdrop *b = st->data;
	if (strcmp(upstream->name, sort_upstream_name(b)) != 0)
		return;
	struct bd_return *r = find_txn(b, t->txn.id);
	if (!r || r->phase != BD_WAIT_ANSWER || r->answered)
		return; /* sorted already (offline), or from before a restart: a replay */
	r->answered = true;
	r->status = t->status;
	if (t->fields_json)
		r->fields_json = xstrdup(t->fields_json);
	bd_try_decide(b, r, false);
}

static void bookdrop_on_command_done(struct station *st, struct instance *dev, uint64_t cmd_id,
				     int status, const char *detail)
{
	struct bookdrop *b = st->data;
	if (bd_command_done(b, dev, cmd_id, status, detail))
		return;
	/* Not a return's: the intake's (open / lock)? */
	bool intake = false;
	for (size_t i = 0; i < ARRAY_SIZE(b->intake_cmds); i++)
		intake |= b->intake_cmds[i] == cmd_id;
	if (status < 0 && intake && b->intake && strcmp(dev->name, b->intake) == 0) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "device", json_object_new_string(dev->name));
		json_object_object_add(d, "detail", json_object_new_string(detail));
		bd_exception(b, 0, "", "intake-failed", d);
	}
}

/* ---- life ---- */

struct instance *bd_intake_device(struct bookdrop *b)
{
	return b->intake ? station_device(b->st, b->intake) : NULL;
}

static char *opt_dup_or_null(const struct resolved_options *o, const char *key)
{
	const char *v = opt_s(o, key);
	return v[0] ? xstrdup(v) : NULL;
}

static void bookdrop_destroy(struct station *st)
{
	struct bookdrop *b = st->data;
	while (b->head)
		bd_return_free(b, b->head);
	if (b->n_notes) {
		/* Stopping or reloading: what was verified is still journaled. */
		bd_flush_notes(b);
		if (st->core->journal && !st->core->journal_failed)
			core_flush(st->core);
	}
	free(b->notes);
	sd_event_source_disable_unref(b->notes_timer);
	presence_free(&b->presence);
	sort_chain_free(&b->chain);
	sort_bins_free(&b->bins);
	free(b->sort_upstream);
	free(b->sorter);
	free(b->intake);
	free(b->fill_prefix);
	free(b->levels);
	free(b);
	st->data = NULL;
}

static int bookdrop_create(struct station *st)
{
	struct bookdrop *b = xcalloc(1, sizeof(*b));
	const struct resolved_options *o = &st->opts;
	char err[300];
	b->st = st;
	st->data = b;
	presence_init(&b->presence, (uint64_t)options_get(o, "debounce_ms")->i * USEC_PER_MSEC);
	if (sort_bins_parse(opt_s(o, "bins"), &b->bins, err, sizeof(err)) < 0 ||
	    sort_chain_parse(opt_s(o, "sort"), &b->chain, err, sizeof(err)) < 0 ||
	    sort_chain_check_bins(&b->chain, &b->bins, err, sizeof(err)) < 0) {
		log_err("%s: %s", st->name, err);
		bookdrop_destroy(st);
		return -EINVAL;
	}
	snprintf(b->exception_bin, sizeof(b->exception_bin), "%s", opt_s(o, "exception_bin"));
	snprintf(b->overflow_bin, sizeof(b->overflow_bin), "%s", opt_s(o, "overflow_bin"));
	b->offline_to_exception = strcmp(opt_s(o, "offline_bin"), "exception") == 0;
	b->sort_upstream = opt_dup_or_null(o, "sort_upstream");
	b->sorter = opt_dup_or_null(o, "sorter");
	b->intake = opt_dup_or_null(o, "intake");
	if (!b->intake && b->sorter)
		b->intake = xstrdup(b->sorter);
	b->fill_prefix = xstrdup(opt_s(o, "fill_sensor_prefix"));
	b->resecure = options_get(o, "resecure")->b;
	b->sort_timeout_usec = (uint64_t)options_get(o, "sort_timeout_ms")->i * USEC_PER_MSEC;
	b->command_timeout_usec = (uint64_t)options_get(o, "command_timeout_ms")->i * USEC_PER_MSEC;
	b->read_window_usec = (uint64_t)options_get(o, "read_window_ms")->i * USEC_PER_MSEC;
	b->set_window_usec = (uint64_t)options_get(o, "set_window_ms")->i * USEC_PER_MSEC;
	b->full_percent = (double)options_get(o, "bin_full_percent")->i;
	b->resume_percent = (double)options_get(o, "bin_resume_percent")->i;
	return 0;
}

const struct station_role station_role_bookdrop = {
	.name = "bookdrop",
	.description = "return slot: checkin, sort by rules, re-secure; bins and intake",
	.options = bookdrop_options,
	.check = bookdrop_check,
	.create = bookdrop_create,
	.on_event = bookdrop_on_event,
	.on_txn_result = bookdrop_on_txn_result,
	.on_command_done = bookdrop_on_command_done,
	.control = bd_control,
	.destroy = bookdrop_destroy,
};
