/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core: the main thread's sd-event loop, which owns every piece of
 * state.  Device workers post observations into core->inbox; the loop
 * drains it in batches, lets the stations decide, and commits the batch to
 * the journal in one transaction (group commit) before anything is
 * acknowledged.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "control.h"
#include "core.h"
#include "ctl_handlers.h"
#include "ctl_query.h"
#include "forwarder.h"
#include "instance.h"
#include "items.h"
#include "log.h"
#include "metrics.h"
#include "station.h"
#include "util/util.h"

/* How many inbox messages one dispatch handles before committing: bounds
 * the latency of the first event in a burst. */
#define INBOX_BATCH 4096


/* ---- schema source for config_check_options() ---- */

static const struct circd_option *schema_plugin(void *userdata, const char *name, uint32_t *kinds,
						const char **why)
{
	struct plugin_registry *reg = userdata;
	const struct loaded_plugin *p = plugin_registry_find(reg, name, why);
	if (!p)
		return NULL;
	*kinds = p->desc->kinds;
	static const struct circd_option none[] = { CIRCD_OPTION_END };
	return p->desc->options ? p->desc->options : none;
}

static const struct circd_option *schema_role(void *userdata, const char *role)
{
	static const struct circd_option none[] = { CIRCD_OPTION_END };
	const struct station_role *r = station_role_find(role);
	if (!r)
		return NULL;
	return r->options ? r->options : none;
}

void core_schema_source(struct plugin_registry *reg, struct config_schema_source *out)
{
	*out = (struct config_schema_source){ .plugin = schema_plugin, .role = schema_role,
					      .role_check = station_role_check, .userdata = reg };
}

/* ---- flushing: the one place that commits ---- */

static void journal_fatal(struct core *core, const char *what, int r)
{
	/* The journal could not make the batch durable (disk full, I/O
	 * error).  Nothing of it was acknowledged.  Stopping is the only
	 * honest answer: a daemon that keeps accepting returns it cannot
	 * record would lose them.  systemd restarts us; devices re-deliver
	 * what was not acknowledged. */
	log_err("journal %s: %s failed (%s): stopping so that nothing unrecorded is "
		"acknowledged", journal_path(core->journal), what, strerror(-r));
	core->journal_failed = true;
	sd_event_exit(core->event, 3);
}

void core_flush(struct core *core)
{
	/* After a failed commit nothing may be written, fed or acknowledged
	 * again: what was staged belongs to a batch that does not exist. */
	if (core->journal_failed)
		return;
	/* While stopping, nothing new is handed out: an upstream about to stop
	 * would never take it, and it would count as "maybe sent" next time. */
	for (size_t i = 0; i < core->n_upstreams; i++) {
		if (!core->upstreams[i]->fw)
			continue;
		forwarder_flush_answers(core->upstreams[i]->fw);
		if (!core->stopping)
			forwarder_feed_if_woken(core->upstreams[i]->fw);
	}
	bool wrote = journal_dirty(core->journal);
	uint64_t commit_start_usec = now_monotonic_usec();
	/* Written, not yet durable: the after-commit actions run when the
	 * durability thread says so (on_durable()).  While stopping there is
	 * no loop to wait in: drain here. */
	int r = journal_commit(core->journal);
	metrics_on_commit(core, commit_start_usec, wrote, r);
	if (r == 0 && core->stopping)
		r = journal_wait_durable(core->journal);
	if (r < 0)
		journal_fatal(core, "commit", r);
}

static void release_reply(void *userdata, uint64_t arg)
{
	control_release_reply(userdata, NULL);
}

static void drop_reply(void *userdata, uint64_t arg)
{
	control_release_reply(userdata, "the journal failed: the change is not confirmed durable");
}

void core_flush_reply(struct core *core)
{
	core_flush(core);
	if (core->journal_failed) {
		control_release_reply(control_hold_reply(core->control),
				      "the journal failed: the change is not confirmed durable");
		return;
	}
	if (!journal_durable_pending(core->journal))
		return;
	struct control_hold *h = control_hold_reply(core->control);
	if (h)
		journal_after_commit_full(core->journal, release_reply, drop_reply, h, 0);
}

/* The durability thread made commits durable: release their actions. */
static int on_durable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct core *core = userdata;
	if (core->journal_failed)
		return 0;
	int r = journal_dispatch_durable(core->journal);
	if (r < 0) {
		journal_fatal(core, "sync", r);
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
		return 0;
	}
	/* The actions may have written (and queued more). */
	if (journal_dirty(core->journal))
		core_flush(core);
	return 0;
}

/* ---- inbox ---- */

static void handle_event(struct core *core, struct instance *dev, const struct circd_event *ev)
{
	static const char *const type_names[] = {
		[CIRCD_EV_TAG_SEEN] = "tag-seen", [CIRCD_EV_TAG_GONE] = "tag-gone",
		[CIRCD_EV_CARD_SEEN] = "card",    [CIRCD_EV_ITEM_DROP] = "drop",
		[CIRCD_EV_GATE_PASS] = "gate-pass", [CIRCD_EV_SENSOR] = "sensor",
		[CIRCD_EV_INPUT] = "input",       [CIRCD_EV_FAULT] = "fault",
	};
	dev->events++;
	core->events_total++;
	if (ev->type < CIRCD_EV_TAG_SEEN || ev->type > CIRCD_EV_FAULT) {
		log_fields(CIRCD_LOG_WARNING, (const char *const *)dev->fields,
			   "%s: unknown event type %u ignored", dev->name, ev->type);
		return;
	}
	/* Observations that are not tag traffic are worth keeping as such. */
	if (ev->type != CIRCD_EV_TAG_SEEN && ev->type != CIRCD_EV_TAG_GONE) {
		char detail[512];
		json_object *o = json_object_new_object();
		if (ev->name)
			json_object_object_add(o, "name", json_object_new_string(ev->name));
		if (ev->type == CIRCD_EV_SENSOR || ev->type == CIRCD_EV_INPUT)
			json_object_object_add(o, "value", json_object_new_double(ev->value));
		if (ev->direction)
			json_object_object_add(o, "direction", json_object_new_string(
				ev->direction == CIRCD_DIR_IN ? "in" : "out"));
		if (ev->text)
			json_object_object_add(o, "text", json_object_new_string(ev->text));
		if (ev->item_id)
			json_object_object_add(o, "item_id", json_object_new_string(ev->item_id));
		snprintf(detail, sizeof(detail), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		int r = journal_add_event(core->journal, dev->name, type_names[ev->type], ev->time_usec,
					  ev->device_event_id, detail);
		if (r == -EEXIST) {
			core->duplicates_total++;
			return;
		}
		if (ev->type == CIRCD_EV_FAULT)
			log_fields(CIRCD_LOG_WARNING, (const char *const *)dev->fields, "%s: fault: %s",
				   dev->name, ev->text ? ev->text : "(no detail)");
	}
	if (dev->station)
		dev->station->role->on_event(dev->station, dev, ev);
}

static void handle_health(struct core *core, struct instance *inst, enum circd_health h,
			  const char *reason)
{
	if (inst->health == h && streq_ptr(inst->health_reason, reason))
		return;
	const char *fields[] = { inst->fields[0], inst->fields[1], NULL, NULL };
	int level = CIRCD_LOG_INFO;
	if (h == CIRCD_HEALTH_OFFLINE || h == CIRCD_HEALTH_FAILED) {
		fields[2] = "MESSAGE_ID=" CIRCD_MSGID_DEVICE_OFFLINE;
		level = CIRCD_LOG_WARNING;
	} else if (h == CIRCD_HEALTH_DEGRADED) {
		level = CIRCD_LOG_NOTICE;
	}
	log_fields(level, fields, "%s: %s%s%s", inst->name, health_to_string(h),
		   reason && reason[0] ? ": " : "", reason ? reason : "");
	metrics_on_health(core, inst, h);
	if (inst->fw)
		forwarder_upstream_health(inst->fw, h);
	inst->health = h;
	free(inst->health_reason);
	inst->health_reason = reason && reason[0] ? xstrdup(reason) : NULL;
	core_update_status(core);
}

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void handle_worker_exit(struct core *core, struct instance *inst)
{
	if (atomic_load(&inst->stop_requested))
		return; /* instance_stop() joins it */
	/* The plugin's run() returned by itself: restart it with backoff. */
	instance_stop(inst);
	handle_health(core, inst, CIRCD_HEALTH_FAILED, "worker stopped; restarting");
	uint64_t delay = backoff_full_jitter_usec(USEC_PER_SEC, 60 * USEC_PER_SEC, inst->restarts++,
						  &core->rng) + 100 * USEC_PER_MSEC;
	sd_event_source_disable_unref(inst->restart_timer);
	inst->restart_timer = NULL;
	sd_event_add_time_relative(core->event, &inst->restart_timer, CLOCK_MONOTONIC, delay, 0,
				   on_restart_timer, inst);
}

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct instance *inst = userdata;
	int r = inst->plugin->desc->ops.create((struct circd_instance *)inst, &host_api, &inst->state);
	if (r >= 0) {
		atomic_store(&inst->stop_requested, false);
		uint64_t v;
		ssize_t n = read(inst->stop_efd, &v, sizeof(v));
		(void)n;
		r = instance_start(inst);
	}
	if (r < 0) {
		log_fields(CIRCD_LOG_ERR, (const char *const *)inst->fields, "%s: restart failed: %s",
			   inst->name, strerror(-r));
		if (inst->state) {
			inst->plugin->desc->ops.destroy(inst->state);
			inst->state = NULL;
		}
		handle_worker_exit(inst->core, inst);
	}
	return 0;
}

static void handle_command_done(struct core *core, struct command_msg *m)
{
	struct instance *inst = m->m.inst;
	if (m->status < 0)
		log_fields(CIRCD_LOG_WARNING, (const char *const *)inst->fields,
			   "%s: command %llu failed: %s%s%s", inst->name,
			   (unsigned long long)m->cmd.id, strerror(-m->status),
			   m->detail[0] ? ": " : "", m->detail);
	stations_command_done(core, inst, m->cmd.id, m->status, m->detail);
	free(m->name);
	free(m->text);
	free(m);
}

static void process_inbox(struct core *core, size_t max)
{
	size_t handled = 0;
	if (core->journal_failed)
		return; /* devices re-deliver what was never acknowledged */
	struct mailbox_node *n;
	while (handled < max && (n = mailbox_take_one(&core->inbox))) {
		struct inbox_msg *m = (struct inbox_msg *)n;
		handled++;
		switch (m->type) {
		case INBOX_EVENT:
			metrics_on_event(core, m->inst, ((struct event_msg *)m)->ev.type,
					 ((struct event_msg *)m)->arrival_usec);
			core->event_arrival_usec = ((struct event_msg *)m)->arrival_usec;
			handle_event(core, m->inst, &((struct event_msg *)m)->ev);
			core->event_arrival_usec = 0;
			free(m);
			break;
		case INBOX_HEALTH: {
			struct health_msg *h = (struct health_msg *)m;
			handle_health(core, m->inst, h->health, h->reason);
			free(m);
			break;
		}
		case INBOX_COMMAND_DONE:
			handle_command_done(core, (struct command_msg *)m);
			break;
		case INBOX_TXN_REPORT:
			if (((struct txn_msg *)m)->txn.id > 0 && m->inst->fw)
				metrics_on_answer(core, m->inst, ((struct txn_msg *)m)->status);
			if (((struct txn_msg *)m)->txn.id <= 0)
				core_item_lookup_done(core, (struct txn_msg *)m);
			else if (m->inst->fw)
				forwarder_handle_report(m->inst->fw, (struct txn_msg *)m);
			else
				txn_msg_free((struct txn_msg *)m);
			break;
		case INBOX_EXIT:
			handle_worker_exit(core, m->inst);
			free(m);
			break;
		}
	}
}

static int on_inbox(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct core *core = userdata;
	process_inbox(core, INBOX_BATCH);
	core_flush(core);
	/* More than one batch waiting: the eventfd was drained, so come back
	 * through a defer rather than starving timers and the control socket. */
	if (mailbox_count(&core->inbox) > 0) {
		uint64_t one = 1;
		ssize_t w = write(core->inbox.efd, &one, sizeof(one));
		(void)w;
	}
	return 0;
}

/* ---- status, watchdog, retention ---- */

void core_update_status(struct core *core)
{
	size_t ok = 0;
	for (size_t i = 0; i < core->n_devices; i++)
		ok += core->devices[i]->health == CIRCD_HEALTH_OK;
	int64_t backlog = 0;
	uint64_t oldest = 0;
	size_t up = 0;
	for (size_t i = 0; i < core->n_upstreams; i++) {
		struct journal_backlog b;
		journal_backlog(core->journal, core->upstreams[i]->name, &b);
		backlog += b.pending;
		if (b.oldest_usec && (!oldest || b.oldest_usec < oldest))
			oldest = b.oldest_usec;
		struct forwarder_stats fs;
		forwarder_stats(core->upstreams[i]->fw, &fs);
		up += strcmp(fs.state, "up") == 0;
	}
	uint64_t age = oldest ? (now_realtime_usec() - oldest) / USEC_PER_SEC : 0;
	char *text = xasprintf("%s: %zu/%zu devices ok, %zu/%zu upstreams up, backlog %lld (oldest %llus), %llu transactions",
			       core->state, ok, core->n_devices, up, core->n_upstreams,
			       (long long)backlog, (unsigned long long)age,
			       (unsigned long long)core->txns_total);
	if (!streq_ptr(text, core->status_text)) {
		sd_notifyf(0, "STATUS=%s", text);
		free(core->status_text);
		core->status_text = text;
	} else {
		free(text);
	}
	int64_t limit = core->cfg->backlog_soft_limit;
	if (limit > 0 && backlog > limit && !core->backlog_alerted) {
		const char *fields[] = { "MESSAGE_ID=" CIRCD_MSGID_BACKLOG, NULL };
		log_fields(CIRCD_LOG_WARNING, fields,
			   "backlog of %lld transactions is over the soft limit of %lld (oldest %llus): "
			   "check the upstreams (circctl status)",
			   (long long)backlog, (long long)limit, (unsigned long long)age);
		core->backlog_alerted = true;
	} else if (backlog <= limit / 2) {
		core->backlog_alerted = false;
	}
}

/* Sets whose window passed with parts missing: a 3-disc audiobook returned
 * with one disc is something for staff, journaled and alerted. */
static void report_expired_sets(struct core *core)
{
	struct tag_set_entry expired[8];
	size_t n;
	while ((n = tag_set_take_expired(&core->sets, now_monotonic_usec(), expired, ARRAY_SIZE(expired))) > 0) {
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "item_id", json_object_new_string(expired[i].item_id));
			json_object_object_add(o, "owner", json_object_new_string(expired[i].owner));
			json_object_object_add(o, "parts_seen", json_object_new_int(expired[i].seen_count));
			json_object_object_add(o, "parts_total", json_object_new_int(expired[i].total));
			journal_add_event(core->journal, "core", "set-incomplete", 0, 0,
					  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
			const char *fields[] = { "MESSAGE_ID=" CIRCD_MSGID_EXCEPTION, NULL };
			log_fields(CIRCD_LOG_WARNING, fields,
				   "item %s: only %u of %u parts of the set arrived within %llu s",
				   expired[i].item_id, expired[i].seen_count, expired[i].total,
				   (unsigned long long)(CORE_SET_WINDOW_USEC / USEC_PER_SEC));
		}
		if (n < ARRAY_SIZE(expired))
			break;
	}
	core_flush(core);
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *core = userdata;
	report_expired_sets(core);
	core_update_status(core);
	sd_event_source_set_time_relative(s, 2 * USEC_PER_SEC);
	return 0;
}

/* WATCHDOG=1 only while every worker has checked in: a plugin stuck in a
 * blocking call outside host->wait() stops the pings, and systemd restarts
 * us.  sd_event_set_watchdog() would only prove the main loop turns. */
static int on_watchdog_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *core = userdata;
	bool all = true;
	struct instance **lists[] = { core->devices, core->upstreams };
	size_t counts[] = { core->n_devices, core->n_upstreams };
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < counts[l]; i++)
			if (!instance_alive(lists[l][i], core->watchdog_usec)) {
				if (all)
					log_fields(CIRCD_LOG_ERR, (const char *const *)lists[l][i]->fields,
						   "%s: worker has not checked in for %llu ms; withholding the watchdog",
						   lists[l][i]->name,
						   (unsigned long long)(core->watchdog_usec / USEC_PER_MSEC));
				all = false;
			}
	if (all)
		sd_notify(0, "WATCHDOG=1");
	sd_event_source_set_time_relative(s, core->watchdog_usec / 2);
	return 0;
}

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *core = userdata;
	if (core->cfg->retention_usec) {
		int n = journal_prune(core->journal, now_realtime_usec() - core->cfg->retention_usec);
		if (n > 0)
			log_info("journal: pruned %d finished rows older than the retention time", n);
		core_flush(core);
	}
	sd_event_source_set_time_relative(s, 3600 * USEC_PER_SEC);
	return 0;
}

/* ---- instances and stations from the config ---- */

struct instance *core_find_device(struct core *core, const char *name)
{
	for (size_t i = 0; i < core->n_devices; i++)
		if (strcmp(core->devices[i]->name, name) == 0)
			return core->devices[i];
	return NULL;
}

int core_start_instance(struct core *core, enum instance_role role, struct config_device *cfg,
			struct instance **out)
{
	const char *why = NULL;
	const struct loaded_plugin *p = plugin_registry_find(&core->plugins, cfg->plugin, &why);
	if (!p) {
		log_err("%s:%d: %s: plugin '%s' could not be loaded: %s", core->cfg->file, cfg->line,
			cfg->name, cfg->plugin, why);
		return -ENOENT;
	}
	struct instance *inst;
	int r = instance_new(core, role, cfg, p, &inst);
	if (r < 0)
		return r;
	if (role == INSTANCE_UPSTREAM)
		inst->fw = forwarder_new(core, inst);
	r = instance_start(inst);
	if (r < 0) {
		log_err("%s: cannot start worker thread: %s", cfg->name, strerror(-r));
		forwarder_free(inst->fw);
		instance_free(inst);
		return r;
	}
	*out = inst;
	return 0;
}

void core_stop_instance(struct core *core, struct instance *inst)
{
	/* What is committed for it is handed over while it still runs. */
	if (!core->journal_failed) {
		int r = journal_wait_durable(core->journal);
		if (r < 0)
			journal_fatal(core, "sync", r);
	}
	instance_stop(inst);
	/* Handed over but never taken: back to pending, as they were (they
	 * certainly did not leave, so they are not "maybe sent"). */
	if (inst->fw && !core->journal_failed) {
		for (struct mailbox_node *n = mailbox_take_all(&inst->txns); n;) {
			struct txn_msg *t = (struct txn_msg *)n;
			n = n->next;
			if (t->txn.id > 0)
				journal_set_delivery(core->journal, t->txn.id, inst->name, "pending",
						     t->txn.attempts, t->txn.maybe_sent, NULL, NULL);
			txn_msg_free(t);
		}
	}
	/* What it posted before stopping still belongs to the journal. */
	process_inbox(core, SIZE_MAX);
	core_flush(core);
	/* Pending actions may point at it (a forwarder's hand-over): run them
	 * now, before the caller frees it. */
	if (!core->journal_failed) {
		int r = journal_wait_durable(core->journal);
		if (r < 0)
			journal_fatal(core, "sync", r);
	}
}

void core_link_stations(struct core *core)
{
	for (size_t i = 0; i < core->n_devices; i++)
		core->devices[i]->station = NULL;
	for (size_t s = 0; s < core->n_stations; s++) {
		struct station *st = core->stations[s];
		for (size_t d = 0; d < st->cfg->n_devices; d++) {
			struct instance *dev = core_find_device(core, st->cfg->devices[d]);
			if (dev)
				dev->station = st;
		}
	}
}

static int apply_config_initial(struct core *core)
{
	struct circd_config *cfg = core->cfg;
	int r;
	core->devices = xcalloc(cfg->n_devices, sizeof(*core->devices));
	core->upstreams = xcalloc(cfg->n_upstreams, sizeof(*core->upstreams));
	core->stations = xcalloc(cfg->n_stations, sizeof(*core->stations));
	/* Upstreams first, so the first return already has somewhere to go. */
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		r = core_start_instance(core, INSTANCE_UPSTREAM, &cfg->upstreams[i], &core->upstreams[core->n_upstreams]);
		if (r < 0)
			return r;
		core->n_upstreams++;
	}
	for (size_t i = 0; i < cfg->n_stations; i++) {
		r = station_new(core, &cfg->stations[i], &core->stations[core->n_stations]);
		if (r < 0)
			return r;
		core->n_stations++;
	}
	for (size_t i = 0; i < cfg->n_devices; i++) {
		struct instance *inst;
		const char *why;
		const struct loaded_plugin *p = plugin_registry_find(&core->plugins, cfg->devices[i].plugin, &why);
		if (!p) {
			log_err("%s:%d: %s: plugin '%s' could not be loaded: %s", cfg->file,
				cfg->devices[i].line, cfg->devices[i].name, cfg->devices[i].plugin, why);
			return -ENOENT;
		}
		r = instance_new(core, INSTANCE_DEVICE, &cfg->devices[i], p, &inst);
		if (r < 0)
			return r;
		core->devices[core->n_devices++] = inst;
	}
	core_link_stations(core);
	/* Devices start last: the stations they report to exist by now. */
	for (size_t i = 0; i < core->n_devices; i++) {
		r = instance_start(core->devices[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- signals ---- */

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct core *core = userdata;
	log_info("received %s: stopping", strsignal((int)si->ssi_signo));
	sd_event_exit(core->event, 0);
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	core_reload(userdata);
	return 0;
}

/* ---- run ---- */

static int make_runtime_dir(const char *dir)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int core_run(struct circd_config *cfg, struct plugin_registry *reg,
	     const struct core_overrides *overrides)
{
	struct core core_storage = { 0 }, *core = &core_storage;
	int exit_code = 0, r;
	char *error = NULL;

	core->cfg = cfg;
	core->overrides = *overrides;
	core->plugins = *reg;
	core->state = "starting";
	core->start_realtime_usec = now_realtime_usec();
	core->rng = now_monotonic_usec() ^ (uint64_t)getpid();
	tag_set_tracker_init(&core->sets, CORE_SET_WINDOW_USEC);
	core->metrics = metrics_new();

	r = journal_open(cfg->state_directory, &core->journal, &error);
	if (r < 0) {
		log_err("cannot open the journal: %s", error ? error : strerror(-r));
		free(error);
		exit_code = 3;
		goto out;
	}
	r = journal_requeue_inflight(core->journal);
	if (r > 0)
		log_notice("journal: %d transaction(s) were in flight at the last stop; they will be "
			   "checked with the upstream before being sent again", r);
	if (r < 0 || journal_commit(core->journal) < 0) {
		exit_code = 3;
		goto out;
	}

	sd_event_default(&core->event);
	if (mailbox_init(&core->inbox, INBOX_CAPACITY) < 0) {
		exit_code = 2;
		goto out;
	}
	sd_event_add_io(core->event, &core->inbox_source, core->inbox.efd, EPOLLIN, on_inbox, core);
	sd_event_add_io(core->event, &core->durable_source, journal_durable_fd(core->journal), EPOLLIN,
			on_durable, core);
	sd_event_add_signal(core->event, NULL, SIGTERM, on_sigterm, core);
	sd_event_add_signal(core->event, NULL, SIGINT, on_sigterm, core);
	sd_event_add_signal(core->event, NULL, SIGHUP, on_sighup, core);

	r = make_runtime_dir(cfg->runtime_directory);
	if (r < 0) {
		log_err("runtime directory %s: %s", cfg->runtime_directory, strerror(-r));
		exit_code = 2;
		goto out;
	}
	core->socket_path = xasprintf("%s/control.sock", cfg->runtime_directory);
	r = control_new(&core->control, core->event, core->socket_path, cfg->control_group, &error);
	if (r < 0) {
		log_err("control socket: %s", error ? error : strerror(-r));
		free(error);
		exit_code = 2;
		goto out;
	}
	/* Statistics and exports run on their own thread and connection; a
	 * journal that cannot be opened twice only costs the loop's latency. */
	r = ctl_query_new(&core->queries, core->event, journal_path(core->journal), &error);
	if (r < 0) {
		log_warning("query thread: %s; statistics will run on the main loop",
			    error ? error : strerror(-r));
		free(error);
		error = NULL;
	}
	ctl_handlers_register(core);
	metrics_apply_config(core);

	r = apply_config_initial(core);
	if (r < 0) {
		log_err("startup failed; see the messages above");
		exit_code = 2;
		goto out;
	}

	sd_event_add_time_relative(core->event, &core->status_timer, CLOCK_MONOTONIC, 0, 0,
				   on_status_timer, core);
	sd_event_source_set_enabled(core->status_timer, SD_EVENT_ON);
	sd_event_add_time_relative(core->event, &core->prune_timer, CLOCK_MONOTONIC,
				   60 * USEC_PER_SEC, 0, on_prune_timer, core);
	sd_event_source_set_enabled(core->prune_timer, SD_EVENT_ON);
	if (sd_watchdog_enabled(0, &core->watchdog_usec) > 0 && core->watchdog_usec) {
		sd_event_add_time_relative(core->event, &core->watchdog_timer, CLOCK_MONOTONIC,
					   core->watchdog_usec / 2, 0, on_watchdog_timer, core);
		sd_event_source_set_enabled(core->watchdog_timer, SD_EVENT_ON);
	}

	core->state = "running";
	core_flush(core);
	core_update_status(core);
	sd_notify(0, "READY=1");
	log_info("circd %s running: site '%s', %zu devices, %zu stations, %zu upstreams, journal %s",
		 PACKAGE_VERSION, cfg->site, core->n_devices, core->n_stations, core->n_upstreams,
		 journal_path(core->journal));

	exit_code = sd_event_loop(core->event);
	if (exit_code < 0)
		exit_code = 2;

	core->state = "stopping";
	core->stopping = true;
	sd_notify(0, "STOPPING=1");
	/* Drain: what is committed becomes durable and its actions run while
	 * the devices and upstreams they address still run. */
	if (!core->journal_failed) {
		r = journal_wait_durable(core->journal);
		if (r < 0) {
			journal_fatal(core, "sync", r);
			exit_code = 3;
		}
	}
out:
	/* Devices first (their last events are still journaled), then the
	 * upstreams (what they answered is committed). */
	for (size_t i = 0; i < core->n_devices; i++)
		if (core->journal && core->inbox.efd > 0)
			core_stop_instance(core, core->devices[i]);
	for (size_t i = 0; i < core->n_upstreams; i++)
		if (core->journal && core->inbox.efd > 0)
			core_stop_instance(core, core->upstreams[i]);
	for (size_t i = 0; i < core->n_stations; i++)
		station_free(core->stations[i]);
	for (size_t i = 0; i < core->n_devices; i++)
		instance_free(core->devices[i]);
	for (size_t i = 0; i < core->n_upstreams; i++) {
		forwarder_free(core->upstreams[i]->fw);
		instance_free(core->upstreams[i]);
	}
	free(core->stations);
	free(core->devices);
	free(core->upstreams);
	if (core->inbox.efd > 0) {
		/* Left over only after a failed commit (nothing may be processed
		 * then): discard, the devices re-deliver. */
		for (struct mailbox_node *n = mailbox_take_all(&core->inbox); n;) {
			struct inbox_msg *m = (struct inbox_msg *)n;
			n = n->next;
			if (m->type == INBOX_TXN_REPORT) {
				txn_msg_free((struct txn_msg *)m);
			} else if (m->type == INBOX_COMMAND_DONE) {
				free(((struct command_msg *)m)->name);
				free(((struct command_msg *)m)->text);
				free(m);
			} else {
				free(m);
			}
		}
	}
	/* Before the control socket: it answers what still waits. */
	ctl_query_free(core->queries);
	control_free(core->control);
	metrics_stop(core);
	free(core->socket_path);
	sd_event_source_disable_unref(core->inbox_source);
	sd_event_source_disable_unref(core->durable_source);
	sd_event_source_disable_unref(core->status_timer);
	sd_event_source_disable_unref(core->watchdog_timer);
	sd_event_source_disable_unref(core->prune_timer);
	if (core->inbox.efd > 0)
		mailbox_destroy(&core->inbox);
	sd_event_unref(core->event);
	journal_close(core->journal);
	json_object_put(core->lookup_outcomes);
	free(core->status_text);
	metrics_free(core->metrics);
	config_free(core->cfg);
	plugin_registry_free(&core->plugins);
	for (size_t i = 0; i < core->n_retired; i++)
		plugin_registry_free(&core->retired[i]);
	free(core->retired);
	if (exit_code == 0)
		log_info("stopped");
	return exit_code;
}
