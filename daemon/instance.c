/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "host_stream.h"
#include "instance.h"
#include "log.h"
#include "util/util.h"

const char *health_to_string(enum circd_health h)
{
	switch (h) {
	case CIRCD_HEALTH_STARTING: return "starting";
	case CIRCD_HEALTH_OK: return "ok";
	case CIRCD_HEALTH_DEGRADED: return "degraded";
	case CIRCD_HEALTH_OFFLINE: return "offline";
	case CIRCD_HEALTH_FAILED: return "failed";
	}
	return "unknown";
}

/* ---- host API: runs on worker threads (and the main thread in create()) ---- */

__attribute__((format(printf, 3, 0)))
static void host_logv(struct circd_instance *ci, enum circd_log_level level, const char *fmt,
		      va_list ap)
{
	struct instance *inst = (struct instance *)ci;
	/* Every line names its device or upstream, also on stderr where the
	 * CIRCD_DEVICE= field is not seen: two readers of one kind must be
	 * told apart.  A plugin that names itself already is left alone. */
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(inst->name);
	if (strncmp(msg, inst->name, n) == 0 && msg[n] == ':')
		log_fields((int)level, (const char *const *)inst->fields, "%s", msg);
	else
		log_fields((int)level, (const char *const *)inst->fields, "%s: %s", inst->name, msg);
}

static void host_log(struct circd_instance *ci, enum circd_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_logv(ci, level, fmt, ap);
	va_end(ap);
}

static const struct resolved_option *opt(struct circd_instance *ci, const char *key,
					 enum circd_option_type type)
{
	struct instance *inst = (struct instance *)ci;
	const struct resolved_option *o = options_get(&inst->opts, key);
	if (!o) {
		host_log(ci, CIRCD_LOG_ERR, "plugin bug: option '%s' is not declared", key);
		return NULL;
	}
	if (type && o->decl->type != type) {
		host_log(ci, CIRCD_LOG_ERR, "plugin bug: option '%s' read with the wrong type", key);
		return NULL;
	}
	return o;
}

static const char *host_opt_string(struct circd_instance *ci, const char *key)
{
	const struct resolved_option *o = opt(ci, key, 0);
	return o ? o->s : NULL;
}

static int64_t host_opt_int(struct circd_instance *ci, const char *key)
{
	const struct resolved_option *o = opt(ci, key, CIRCD_OPT_INT);
	return o ? o->i : 0;
}

static bool host_opt_bool(struct circd_instance *ci, const char *key)
{
	const struct resolved_option *o = opt(ci, key, CIRCD_OPT_BOOL);
	return o ? o->b : false;
}

static double host_opt_float(struct circd_instance *ci, const char *key)
{
	const struct resolved_option *o = opt(ci, key, CIRCD_OPT_FLOAT);
	return o ? o->f : 0.0;
}

static bool host_opt_given(struct circd_instance *ci, const char *key)
{
	const struct resolved_option *o = opt(ci, key, 0);
	return o ? o->given : false;
}

static const char *host_name(struct circd_instance *ci)
{
	return ((struct instance *)ci)->name;
}

static const char *host_site(struct circd_instance *ci)
{
	return ((struct instance *)ci)->site;
}

static size_t strsize(const char *s) { return s ? strlen(s) + 1 : 0; }

static const char *copy_into(char **p, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	memcpy(*p, s, n);
	const char *r = *p;
	*p += n;
	return r;
}

static int host_emit(struct circd_instance *ci, const struct circd_event *ev)
{
	struct instance *inst = (struct instance *)ci;
	if (!ev || ev->struct_size < offsetof(struct circd_event, text) + sizeof(ev->text))
		return -EINVAL;
	size_t extra = ev->memory_len + strsize(ev->item_id) + strsize(ev->name) + strsize(ev->text);
	if (!ev->memory)
		extra -= ev->memory_len;
	struct event_msg *m = xcalloc(1, sizeof(*m) + extra);
	m->m.type = INBOX_EVENT;
	m->m.inst = inst;
	m->arrival_usec = now_monotonic_usec();
	memcpy(&m->ev, ev, sizeof(m->ev));
	m->ev.struct_size = sizeof(m->ev);
	if (m->ev.uid_len > CIRCD_UID_MAX)
		m->ev.uid_len = CIRCD_UID_MAX;
	if (!m->ev.time_usec)
		m->ev.time_usec = now_realtime_usec();
	char *p = m->data;
	if (ev->memory && ev->memory_len) {
		memcpy(p, ev->memory, ev->memory_len);
		m->ev.memory = (const uint8_t *)p;
		p += ev->memory_len;
	} else {
		m->ev.memory = NULL;
		m->ev.memory_len = 0;
	}
	m->ev.item_id = copy_into(&p, ev->item_id);
	m->ev.name = copy_into(&p, ev->name);
	m->ev.text = copy_into(&p, ev->text);
	int r = mailbox_post(&inst->core->inbox, &m->m.node, false);
	if (r < 0)
		free(m);
	return r;
}

static void checkin(struct instance *inst)
{
	atomic_store(&inst->heartbeat_usec, now_monotonic_usec());
}

static int host_wait(struct circd_instance *ci, int fd, short events, int timeout_ms)
{
	struct instance *inst = (struct instance *)ci;
	struct pollfd p[4] = {
		{ .fd = inst->stop_efd, .events = POLLIN },
		{ .fd = inst->commands.efd, .events = POLLIN },
		{ .fd = inst->txns.efd, .events = POLLIN },
		{ .fd = fd, .events = events ? events : POLLIN },
	};
	nfds_t n = fd >= 0 ? 4 : 3;
	checkin(inst);
	atomic_store(&inst->in_wait, true);
	int r;
	do
		r = poll(p, n, timeout_ms);
	while (r < 0 && errno == EINTR);
	atomic_store(&inst->in_wait, false);
	checkin(inst);
	if (r < 0)
		return -errno;
	int bits = 0;
	if (atomic_load(&inst->stop_requested))
		bits |= CIRCD_WAKE_STOP;
	if (mailbox_count(&inst->commands) > 0)
		bits |= CIRCD_WAKE_COMMAND;
	if (mailbox_count(&inst->txns) > 0)
		bits |= CIRCD_WAKE_SUBMIT;
	if (n == 4 && p[3].revents)
		bits |= CIRCD_WAKE_FD;
	return bits;
}

static void host_heartbeat(struct circd_instance *ci)
{
	checkin((struct instance *)ci);
}

static bool host_should_stop(struct circd_instance *ci)
{
	return atomic_load(&((struct instance *)ci)->stop_requested);
}

static int host_take_command(struct circd_instance *ci, struct circd_command *cmd)
{
	struct instance *inst = (struct instance *)ci;
	struct command_msg *m = (struct command_msg *)mailbox_take_one(&inst->commands);
	if (!m)
		return 0;
	/* Remember it until command_done(): the worker owns the list. */
	m->m.node.next = inst->taken_cmds;
	inst->taken_cmds = &m->m.node;
	*cmd = m->cmd;
	return 1;
}

static struct mailbox_node *unlink_taken(struct mailbox_node **list, bool (*match)(struct mailbox_node *, const void *),
					 const void *key)
{
	for (struct mailbox_node **pp = list; *pp; pp = &(*pp)->next) {
		if (match(*pp, key)) {
			struct mailbox_node *n = *pp;
			*pp = n->next;
			return n;
		}
	}
	return NULL;
}

static bool match_cmd(struct mailbox_node *n, const void *key)
{
	return ((struct command_msg *)n)->cmd.id == *(const uint64_t *)key;
}

static void host_command_done(struct circd_instance *ci, const struct circd_command *cmd, int status,
			      const char *detail)
{
	struct instance *inst = (struct instance *)ci;
	struct command_msg *m =
		(struct command_msg *)unlink_taken(&inst->taken_cmds, match_cmd, &cmd->id);
	if (!m) {
		host_log(ci, CIRCD_LOG_ERR, "plugin bug: command_done() for unknown command %llu",
			 (unsigned long long)cmd->id);
		return;
	}
	m->m.type = INBOX_COMMAND_DONE;
	m->status = status;
	snprintf(m->detail, sizeof(m->detail), "%s", detail ? detail : "");
	mailbox_post(&inst->core->inbox, &m->m.node, true);
}

static void host_set_health(struct circd_instance *ci, enum circd_health health, const char *reason)
{
	struct instance *inst = (struct instance *)ci;
	struct health_msg *m = xcalloc(1, sizeof(*m));
	m->m.type = INBOX_HEALTH;
	m->m.inst = inst;
	m->health = health;
	snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
	mailbox_post(&inst->core->inbox, &m->m.node, true);
}

/* ABI 1.5.  Only the fields the plugin's struct has are read (struct_size);
 * the latest values win (a plain store: cheap, and safe from the worker). */
static void host_set_counters(struct circd_instance *ci, const struct circd_device_counters *c)
{
	struct instance *inst = (struct instance *)ci;
	static const size_t offsets[INSTANCE_COUNTERS] = {
		[INSTANCE_COUNTER_BAD_FRAMES] = offsetof(struct circd_device_counters, bad_frames),
		[INSTANCE_COUNTER_TIMEOUTS] = offsetof(struct circd_device_counters, timeouts),
		[INSTANCE_COUNTER_DEVICE_ERRORS] = offsetof(struct circd_device_counters, device_errors),
		[INSTANCE_COUNTER_RECONNECTS] = offsetof(struct circd_device_counters, reconnects),
	};
	if (!c)
		return;
	for (size_t i = 0; i < INSTANCE_COUNTERS; i++) {
		if (c->struct_size < offsets[i] + sizeof(uint64_t))
			break;
		uint64_t v;
		memcpy(&v, (const char *)c + offsets[i], sizeof(v));
		atomic_store_explicit(&inst->counters[i], v, memory_order_relaxed);
	}
}

void instance_counters(struct instance *inst, uint64_t out[INSTANCE_COUNTERS])
{
	for (size_t i = 0; i < INSTANCE_COUNTERS; i++)
		out[i] = inst->counters_base[i] +
			 atomic_load_explicit(&inst->counters[i], memory_order_relaxed);
}

static uint64_t host_now_realtime(void) { return now_realtime_usec(); }
static uint64_t host_now_monotonic(void) { return now_monotonic_usec(); }

static int host_take_txn(struct circd_instance *ci, struct circd_txn *txn)
{
	struct instance *inst = (struct instance *)ci;
	struct txn_msg *t = (struct txn_msg *)mailbox_take_one(&inst->txns);
	if (!t)
		return 0;
	/* Appended: report() usually answers the oldest, at the head. */
	t->m.node.next = NULL;
	if (inst->taken_txns)
		inst->taken_txns_tail->next = &t->m.node;
	else
		inst->taken_txns = &t->m.node;
	inst->taken_txns_tail = &t->m.node;
	*txn = t->txn;
	return 1;
}

static bool match_txn(struct mailbox_node *n, const void *key)
{
	return ((struct txn_msg *)n)->txn.id == *(const int64_t *)key;
}

static void host_report(struct circd_instance *ci, const struct circd_txn *txn,
			const struct circd_txn_result *res)
{
	struct instance *inst = (struct instance *)ci;
	struct txn_msg *t = (struct txn_msg *)unlink_taken(&inst->taken_txns, match_txn, &txn->id);
	if (t && &t->m.node == inst->taken_txns_tail) {
		inst->taken_txns_tail = NULL;
		for (struct mailbox_node *n = inst->taken_txns; n; n = n->next)
			inst->taken_txns_tail = n;
	}
	if (!t) {
		host_log(ci, CIRCD_LOG_ERR, "plugin bug: report() for unknown transaction %lld",
			 (long long)txn->id);
		return;
	}
	t->m.type = INBOX_TXN_REPORT;
	t->status = res && res->status <= CIRCD_TXN_NOT_SENT ? res->status : CIRCD_TXN_RETRY;
	t->message = res && res->message ? xstrdup(res->message) : NULL;
	t->fields_json = res && res->fields_json ? xstrdup(res->fields_json) : NULL;
	mailbox_post(&inst->core->inbox, &t->m.node, true);
}

const struct circd_host_api host_api = {
	.struct_size = sizeof(struct circd_host_api),
	.abi_major = CIRCD_PLUGIN_ABI_MAJOR,
	.abi_minor = CIRCD_PLUGIN_ABI_MINOR,
	.log = host_log,
	.logv = host_logv,
	.opt_string = host_opt_string,
	.opt_int = host_opt_int,
	.opt_bool = host_opt_bool,
	.opt_float = host_opt_float,
	.opt_given = host_opt_given,
	.name = host_name,
	.emit = host_emit,
	.wait = host_wait,
	.heartbeat = host_heartbeat,
	.should_stop = host_should_stop,
	.take_command = host_take_command,
	.command_done = host_command_done,
	.set_health = host_set_health,
	.now_realtime_usec = host_now_realtime,
	.now_monotonic_usec = host_now_monotonic,
	.take_txn = host_take_txn,
	.report = host_report,
	.site = host_site,
	.stream_open = host_stream_open,
	.stream_read = host_stream_read,
	.stream_write_all = host_stream_write_all,
	.stream_drain = host_stream_drain,
	.stream_reopen = host_stream_reopen,
	.stream_fd = host_stream_fd,
	.stream_reason = host_stream_reason,
	.stream_close = host_stream_close,
	.set_counters = host_set_counters,
};

/* ---- main-thread side ---- */

void txn_msg_free(struct txn_msg *t)
{
	if (!t)
		return;
	free(t->station);
	free(t->device);
	free(t->item_id);
	free(t->patron_id);
	free(t->uid);
	free(t->json);
	free(t->kind);
	free(t->message);
	free(t->fields_json);
	free(t);
}

int instance_new(struct core *core, enum instance_role role, struct config_device *cfg,
		 const struct loaded_plugin *plugin, struct instance **out)
{
	struct instance *inst = xcalloc(1, sizeof(*inst));
	inst->core = core;
	inst->role = role;
	inst->name = xstrdup(cfg->name);
	inst->site = xstrdup(core->cfg->site);
	inst->cfg = cfg;
	inst->plugin = plugin;
	inst->stop_efd = -1;
	inst->commands.efd = inst->txns.efd = -1;
	inst->fields[0] = xasprintf("%s=%s", role == INSTANCE_DEVICE ? "CIRCD_DEVICE" : "CIRCD_UPSTREAM",
				    cfg->name);
	inst->fields[1] = xasprintf("CIRCD_PLUGIN=%s", plugin->desc->name);
	inst->health = CIRCD_HEALTH_STARTING;
	atomic_init(&inst->stop_requested, false);
	atomic_init(&inst->in_wait, false);
	atomic_init(&inst->heartbeat_usec, now_monotonic_usec());
	for (size_t i = 0; i < INSTANCE_COUNTERS; i++)
		atomic_init(&inst->counters[i], 0);

	struct config_errors errs = { 0 };
	int r = options_resolve(plugin->desc->options, &cfg->options, core->cfg->file, &inst->opts,
				&errs);
	for (size_t i = 0; i < errs.n; i++)
		log_err("%s", errs.msgs[i]);
	config_errors_free(&errs);
	if (r < 0)
		goto fail;
	if (mailbox_init(&inst->commands, 0) < 0 || mailbox_init(&inst->txns, 0) < 0 ||
	    (inst->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		r = -errno;
		goto fail;
	}
	r = plugin->desc->ops.create((struct circd_instance *)inst, &host_api, &inst->state);
	if (r < 0) {
		log_fields(CIRCD_LOG_ERR, (const char *const *)inst->fields,
			   "%s: plugin %s failed to start: %s", inst->name, plugin->desc->name,
			   strerror(-r));
		goto fail;
	}
	*out = inst;
	return 0;
fail:
	instance_free(inst);
	return r < 0 ? r : -EINVAL;
}

static void *worker_main(void *arg)
{
	struct instance *inst = arg;
	int r = inst->plugin->desc->ops.run(inst->state);
	struct inbox_msg *m = xcalloc(1, sizeof(*m));
	m->type = INBOX_EXIT;
	m->inst = inst;
	if (!atomic_load(&inst->stop_requested))
		log_fields(CIRCD_LOG_ERR, (const char *const *)inst->fields,
			   "%s: worker stopped by itself (%s)", inst->name,
			   r < 0 ? strerror(-r) : "returned without being asked");
	mailbox_post(&inst->core->inbox, &m->node, true);
	return NULL;
}

int instance_start(struct instance *inst)
{
	/* Workers never see the daemon's signals: sd-event handles them on the
	 * main thread, which has them blocked already; threads inherit that. */
	atomic_store(&inst->heartbeat_usec, now_monotonic_usec());
	int r = pthread_create(&inst->thread, NULL, worker_main, inst);
	if (r != 0)
		return -r;
	inst->thread_started = true;
	return 0;
}

void instance_stop(struct instance *inst)
{
	if (inst->thread_started) {
		uint64_t one = 1;
		atomic_store(&inst->stop_requested, true);
		ssize_t w = write(inst->stop_efd, &one, sizeof(one));
		(void)w;
		/* A worker stuck in a blocking call outside host->wait() never
		 * sees the request: after a grace period it is abandoned, with its
		 * state (which it may still be using) and this instance, so that
		 * a stop or a reload is not held up by one bad plugin. */
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += INSTANCE_STOP_GRACE_SEC;
		if (pthread_timedjoin_np(inst->thread, NULL, &deadline) != 0) {
			log_fields(CIRCD_LOG_ERR, (const char *const *)inst->fields,
				   "%s: worker did not stop within %d s (stuck in a blocking call "
				   "outside host->wait()); abandoning it",
				   inst->name, INSTANCE_STOP_GRACE_SEC);
			pthread_detach(inst->thread);
			inst->abandoned = true;
			inst->thread_started = false;
			return;
		}
		inst->thread_started = false;
	}
	if (inst->abandoned)
		return;
	if (inst->state) {
		inst->plugin->desc->ops.destroy(inst->state);
		inst->state = NULL;
	}
	/* The next plugin state (a restart) counts from 0 again: keep what
	 * this one counted. */
	for (size_t i = 0; i < INSTANCE_COUNTERS; i++)
		inst->counters_base[i] += atomic_exchange(&inst->counters[i], 0);
	host_streams_close_leftovers(inst);
	/* Whatever the worker took but never answered goes back to the core as
	 * unanswered: commands fail, transactions are retried. */
	while (inst->taken_cmds) {
		struct command_msg *m = (struct command_msg *)inst->taken_cmds;
		inst->taken_cmds = m->m.node.next;
		m->m.type = INBOX_COMMAND_DONE;
		m->status = -ECANCELED;
		snprintf(m->detail, sizeof(m->detail), "device stopped");
		mailbox_post(&inst->core->inbox, &m->m.node, true);
	}
	while (inst->taken_txns) {
		struct txn_msg *t = (struct txn_msg *)inst->taken_txns;
		inst->taken_txns = t->m.node.next;
		t->m.type = INBOX_TXN_REPORT;
		t->status = CIRCD_TXN_RETRY;
		t->message = xstrdup("upstream stopped before answering");
		mailbox_post(&inst->core->inbox, &t->m.node, true);
	}
}

void instance_free(struct instance *inst)
{
	if (!inst)
		return;
	instance_stop(inst);
	if (inst->abandoned)
		return; /* its thread may still touch it: leaked on purpose */
	struct mailbox_node *n;
	if (inst->commands.efd >= 0) {
		for (n = mailbox_take_all(&inst->commands); n;) {
			struct command_msg *m = (struct command_msg *)n;
			n = n->next;
			free(m->name);
			free(m->text);
			free(m);
		}
		mailbox_destroy(&inst->commands);
	}
	if (inst->txns.efd >= 0) {
		for (n = mailbox_take_all(&inst->txns); n;) {
			struct txn_msg *t = (struct txn_msg *)n;
			n = n->next;
			txn_msg_free(t);
		}
		mailbox_destroy(&inst->txns);
	}
	if (inst->stop_efd >= 0)
		close(inst->stop_efd);
	sd_event_source_disable_unref(inst->restart_timer);
	options_free(&inst->opts);
	free(inst->fields[0]);
	free(inst->fields[1]);
	free(inst->health_reason);
	free(inst->name);
	free(inst->site);
	free(inst);
}

uint64_t instance_send_command(struct instance *inst, const struct circd_command *cmd)
{
	struct command_msg *m = xcalloc(1, sizeof(*m));
	m->m.inst = inst;
	m->cmd = *cmd;
	m->cmd.struct_size = sizeof(m->cmd);
	/* station_command() reserved its id when it was queued for after the
	 * commit: keep it, so on_command_done() can match it */
	m->cmd.id = cmd->id ? cmd->id : ++inst->next_command_id;
	if (cmd->name)
		m->cmd.name = m->name = xstrdup(cmd->name);
	if (cmd->text)
		m->cmd.text = m->text = xstrdup(cmd->text);
	mailbox_post(&inst->commands, &m->m.node, true);
	return m->cmd.id;
}

void instance_submit_txn(struct instance *inst, struct txn_msg *t)
{
	t->m.inst = inst;
	mailbox_post(&inst->txns, &t->m.node, true);
}

bool instance_alive(struct instance *inst, uint64_t max_age_usec)
{
	if (!inst->thread_started || atomic_load(&inst->in_wait))
		return true;
	uint64_t last = atomic_load(&inst->heartbeat_usec);
	return now_monotonic_usec() - last <= max_age_usec;
}
