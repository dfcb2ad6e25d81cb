/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's side of the metrics: the hooks that count what happens
 * (events, answers, health changes, commits) and the scrape, which reads
 * the rest from the core's state when asked (journal backlog, upstream
 * state, device health) so that nothing is computed for nobody.
 *
 * The journal queries a scrape makes walk only the partial indexes of open
 * (pending, inflight) and exception (rejected, dead) deliveries; 'done'
 * would need a scan of the whole table, so it is counted in memory since
 * the start instead (circd_deliveries_done_total).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "forwarder.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "util/util.h"

/* ---- hooks ---- */

static const char *event_type_name(unsigned type)
{
	/* The names the journal's events table uses (core.c). */
	static const char *const names[] = {
		[CIRCD_EV_TAG_SEEN] = "tag-seen", [CIRCD_EV_TAG_GONE] = "tag-gone",
		[CIRCD_EV_CARD_SEEN] = "card",    [CIRCD_EV_ITEM_DROP] = "drop",
		[CIRCD_EV_GATE_PASS] = "gate-pass", [CIRCD_EV_SENSOR] = "sensor",
		[CIRCD_EV_INPUT] = "input",       [CIRCD_EV_FAULT] = "fault",
	};
	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}

void metrics_on_event(struct core *core, struct instance *dev, unsigned type,
		      uint64_t arrival_usec)
{
	metrics_count(core->metrics, "circd_events_total", dev->name, event_type_name(type), NULL);
	if (arrival_usec)
		metrics_pending_add(core->metrics, "circd_event_to_commit_seconds", arrival_usec);
}

void metrics_on_answer(struct core *core, struct instance *up, uint32_t status)
{
	if (status == CIRCD_TXN_OK)
		metrics_count(core->metrics, "circd_deliveries_done_total", up->name, NULL);
	else if (status == CIRCD_TXN_RETRY || status == CIRCD_TXN_NOT_SENT)
		metrics_count(core->metrics, "circd_upstream_retries_total", up->name, NULL);
}

void metrics_on_health(struct core *core, struct instance *inst, int h)
{
	if (inst->role != INSTANCE_UPSTREAM)
		return;
	/* Offline (or failed and restarted) ... possibly through starting or
	 * degraded ... and ok again: one reconnect. */
	if (h == CIRCD_HEALTH_OFFLINE || h == CIRCD_HEALTH_FAILED) {
		inst->metrics_was_down = true;
	} else if (h == CIRCD_HEALTH_OK && inst->metrics_was_down) {
		inst->metrics_was_down = false;
		metrics_count(core->metrics, "circd_upstream_reconnects_total", inst->name, NULL);
	}
}

void metrics_on_commit(struct core *core, uint64_t start_usec, bool wrote, int r)
{
	if (r < 0) {
		metrics_pending_drop(core->metrics, "circd_event_to_commit_seconds");
		return;
	}
	uint64_t end = now_monotonic_usec();
	if (wrote)
		metrics_observe(core->metrics, "circd_journal_commit_seconds",
				(double)(end - start_usec) / 1e6, NULL);
	metrics_pending_observe(core->metrics, "circd_event_to_commit_seconds", end);
}

/* ---- the scrape ---- */

/* Open deliveries by state, through the partial index deliveries_open
 * (the redundant IN (...) lets SQLite use it, as in journal.c). */
static void count_open(struct core *core, const char *upstream, int64_t *pending,
		       int64_t *inflight)
{
	sqlite3 *db = journal_db(core->journal);
	sqlite3_stmt *st;
	*pending = *inflight = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT sum(state = 'pending'), sum(state = 'inflight') FROM deliveries"
			       " WHERE upstream = ? AND state IN ('pending','inflight')",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, upstream, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*pending = sqlite3_column_int64(st, 0);
		*inflight = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
}

static void gather_upstreams(struct core *core, struct metrics *m)
{
	static const char *const gauges[] = { "circd_deliveries", "circd_backlog",
					      "circd_backlog_oldest_seconds", "circd_upstream_up" };
	for (size_t i = 0; i < ARRAY_SIZE(gauges); i++)
		metrics_reset(m, gauges[i]);
	uint64_t now = now_realtime_usec();
	for (size_t i = 0; i < core->n_upstreams; i++) {
		struct instance *u = core->upstreams[i];
		struct journal_backlog b;
		int64_t pending, inflight;
		journal_backlog(core->journal, u->name, &b);
		count_open(core, u->name, &pending, &inflight);
		metrics_set(m, "circd_deliveries", (double)pending, u->name, "pending", NULL);
		metrics_set(m, "circd_deliveries", (double)inflight, u->name, "inflight", NULL);
		metrics_set(m, "circd_deliveries", (double)b.rejected, u->name, "rejected", NULL);
		metrics_set(m, "circd_deliveries", (double)b.dead, u->name, "dead", NULL);
		metrics_set(m, "circd_backlog", (double)b.pending, u->name, NULL);
		metrics_set(m, "circd_backlog_oldest_seconds",
			    b.oldest_usec && now > b.oldest_usec ? (double)(now - b.oldest_usec) / 1e6 : 0.0,
			    u->name, NULL);
		struct forwarder_stats fs = { .state = "down" };
		if (u->fw)
			forwarder_stats(u->fw, &fs);
		/* Between two retries the forwarder is not paused, but an
		 * upstream whose last answer was a failure is not "up". */
		bool up = strcmp(fs.state, "up") == 0 && fs.consecutive_failures == 0;
		metrics_set(m, "circd_upstream_up", up ? 1.0 : 0.0, u->name, NULL);
		/* Counters start at 0 for every upstream, so rate() works from
		 * the first scrape. */
		metrics_touch(m, "circd_deliveries_done_total", u->name, NULL);
		metrics_touch(m, "circd_upstream_retries_total", u->name, NULL);
		metrics_touch(m, "circd_upstream_reconnects_total", u->name, NULL);
	}
}

static void gather_devices(struct core *core, struct metrics *m)
{
	static const enum circd_health states[] = { CIRCD_HEALTH_STARTING, CIRCD_HEALTH_OK,
						    CIRCD_HEALTH_DEGRADED, CIRCD_HEALTH_OFFLINE,
						    CIRCD_HEALTH_FAILED };
	metrics_reset(m, "circd_device_health");
	metrics_reset(m, "circd_device_up");
	/* The plugins' own totals (host->set_counters()), mirrored at each
	 * scrape like the core's counters: every device has every series, at
	 * 0 when its plugin counts nothing (or predates ABI 1.5). */
	metrics_reset(m, "circd_device_errors_total");
	metrics_reset(m, "circd_device_reconnects_total");
	for (size_t i = 0; i < core->n_devices; i++) {
		struct instance *d = core->devices[i];
		uint64_t c[INSTANCE_COUNTERS];
		instance_counters(d, c);
		metrics_add(m, "circd_device_errors_total", (double)c[INSTANCE_COUNTER_BAD_FRAMES],
			    d->name, "bad_frame", NULL);
		metrics_add(m, "circd_device_errors_total", (double)c[INSTANCE_COUNTER_TIMEOUTS],
			    d->name, "timeout", NULL);
		metrics_add(m, "circd_device_errors_total",
			    (double)c[INSTANCE_COUNTER_DEVICE_ERRORS], d->name, "device_error", NULL);
		metrics_add(m, "circd_device_reconnects_total",
			    (double)c[INSTANCE_COUNTER_RECONNECTS], d->name, NULL);
		metrics_set(m, "circd_device_up", d->health == CIRCD_HEALTH_OK ? 1.0 : 0.0, d->name,
			    NULL);
		for (size_t k = 0; k < ARRAY_SIZE(states); k++)
			metrics_set(m, "circd_device_health", d->health == states[k] ? 1.0 : 0.0,
				    d->name, health_to_string(states[k]), NULL);
	}
}

static void gather_core(struct core *core, struct metrics *m)
{
	/* Kept by the core itself; the registry mirrors them at each scrape. */
	metrics_reset(m, "circd_duplicates_total");
	metrics_add(m, "circd_duplicates_total", (double)core->duplicates_total, NULL);
	metrics_reset(m, "circd_journal_commits_total");
	metrics_add(m, "circd_journal_commits_total",
		    (double)journal_commit_count(core->journal), NULL);
	metrics_set(m, "circd_start_time_seconds", (double)core->start_realtime_usec / 1e6, NULL);
	/* Histograms are shown from the start (empty), not from the first
	 * observation: an empty histogram says "measured, nothing yet". */
	metrics_touch(m, "circd_journal_commit_seconds", NULL);
	metrics_touch(m, "circd_event_to_commit_seconds", NULL);
}

int metrics_render(struct core *core, char **text, size_t *len)
{
	struct metrics *m = core->metrics;
	gather_upstreams(core, m);
	gather_devices(core, m);
	gather_core(core, m);
	*text = NULL;
	*len = 0;
	FILE *f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	int r = metrics_write(m, f);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0) {
		free(*text);
		*text = NULL;
	}
	return r;
}

/* ---- the HTTP listener ---- */

static int render_for_http(void *userdata, char **text, size_t *len)
{
	return metrics_render(userdata, text, len);
}

void metrics_apply_config(struct core *core)
{
	const char *want = core->cfg->metrics_listen;
	if (core->metrics_http && want && strcmp(metrics_http_listen(core->metrics_http), want) == 0)
		return;
	if (core->metrics_http) {
		log_info("metrics: no longer listening on %s", metrics_http_listen(core->metrics_http));
		metrics_stop(core);
	}
	if (!want)
		return;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool loopback = true;
	listen_address_parse(want, &addr, &addr_len, &loopback);
	char *error = NULL;
	int r = metrics_http_new(&core->metrics_http, core->event, want, render_for_http, core,
				 &error);
	if (r < 0) {
		log_err("metrics: %s; serving metrics through circctl only", error ? error : strerror(-r));
		free(error);
		return;
	}
	if (!loopback)
		log_warning("metrics: listening on %s, which is not a loopback address: anyone who "
			    "can reach it can read the metrics (site, device and upstream names)",
			    want);
	else
		log_info("metrics: listening on http://%s/metrics", want);
}

void metrics_stop(struct core *core)
{
	metrics_http_free(core->metrics_http);
	core->metrics_http = NULL;
}
