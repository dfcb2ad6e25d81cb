/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakehost: the daemon's side of the plugin ABI, in memory (see fakehost.h).
 *
 * One mutex guards everything; a condition variable wakes test threads
 * waiting for events, reports, acknowledgements or health, and an eventfd
 * wakes the plugin inside host->wait() (so wait() can poll the plugin's own
 * fd at the same time, as the daemon does).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fakehost.h"
#include "fakehost-internal.h"

static struct fakehost *FH(struct circd_instance *inst)
{
	return inst->fh;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void seterr(struct fakehost *fh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(struct fakehost *fh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fh->error, sizeof(fh->error), fmt, ap);
	va_end(ap);
}

void fakehost_wake_plugin(struct fakehost *fh)
{
	uint64_t one = 1;
	if (write(fh->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in a test; nothing to do */
	}
}

struct timespec fakehost_deadline_in(int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Wait on fh->cond until cond_fn(fh, arg) holds; mutex held by caller. */
static int wait_for(struct fakehost *fh, bool (*cond_fn)(struct fakehost *, const void *),
		    const void *arg, int timeout_ms)
{
	struct timespec ts = fakehost_deadline_in(timeout_ms);

	while (!cond_fn(fh, arg))
		if (pthread_cond_timedwait(&fh->cond, &fh->lock, &ts) == ETIMEDOUT)
			return cond_fn(fh, arg) ? 0 : -ETIMEDOUT;
	return 0;
}

/* ---- Host API: logging, options, identity ---- */

static const char *level_name(enum circd_log_level l)
{
	switch (l) {
	case CIRCD_LOG_ERR: return "err";
	case CIRCD_LOG_WARNING: return "warning";
	case CIRCD_LOG_NOTICE: return "notice";
	case CIRCD_LOG_INFO: return "info";
	case CIRCD_LOG_DEBUG: return "debug";
	}
	return "?";
}

static void host_logv(struct circd_instance *inst, enum circd_log_level level, const char *fmt,
		      va_list ap)
{
	struct fakehost *fh = FH(inst);
	char *msg, *line;

	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	line = xasprintf("%s: %s", level_name(level), msg);
	free(msg);
	if (getenv("FAKEHOST_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", fh->plugin ? fh->plugin->name : "?", line);
	pthread_mutex_lock(&fh->lock);
	fh->logs = xrealloc(fh->logs, (fh->n_logs + 1) * sizeof(*fh->logs));
	fh->logs[fh->n_logs++] = line;
	pthread_mutex_unlock(&fh->lock);
}

static void host_log(struct circd_instance *inst, enum circd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void host_log(struct circd_instance *inst, enum circd_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_logv(inst, level, fmt, ap);
	va_end(ap);
}

/* Options are resolved before create() and never change: no lock needed. */
static const struct fh_option *opt_get(struct circd_instance *inst, const char *key,
				       enum circd_option_type type)
{
	struct fakehost *fh = FH(inst);

	for (size_t i = 0; i < fh->n_opts; i++) {
		if (strcmp(fh->opts[i].decl->key, key) != 0)
			continue;
		if (fh->opts[i].decl->type == type)
			return &fh->opts[i];
		break;
	}
	__atomic_add_fetch(&fh->option_misuse, 1, __ATOMIC_SEQ_CST);
	host_log(inst, CIRCD_LOG_ERR, "plugin bug: option '%s' undeclared or of another type", key);
	return NULL;
}

static const char *host_opt_string(struct circd_instance *inst, const char *key)
{
	const struct fh_option *o = opt_get(inst, key, CIRCD_OPT_STRING);
	return o ? o->value : NULL;
}

static int64_t host_opt_int(struct circd_instance *inst, const char *key)
{
	const struct fh_option *o = opt_get(inst, key, CIRCD_OPT_INT);
	return o ? o->i : 0;
}

static bool host_opt_bool(struct circd_instance *inst, const char *key)
{
	const struct fh_option *o = opt_get(inst, key, CIRCD_OPT_BOOL);
	return o ? o->b : false;
}

static double host_opt_float(struct circd_instance *inst, const char *key)
{
	const struct fh_option *o = opt_get(inst, key, CIRCD_OPT_FLOAT);
	return o ? o->f : 0;
}

static bool host_opt_given(struct circd_instance *inst, const char *key)
{
	struct fakehost *fh = FH(inst);
	for (size_t i = 0; i < fh->n_opts; i++)
		if (strcmp(fh->opts[i].decl->key, key) == 0)
			return fh->opts[i].given;
	__atomic_add_fetch(&fh->option_misuse, 1, __ATOMIC_SEQ_CST);
	return false;
}

static const char *host_name(struct circd_instance *inst)
{
	return "fake0";
}

/* ---- Host API: events ---- */

static int host_emit(struct circd_instance *inst, const struct circd_event *ev)
{
	struct fakehost *fh = FH(inst);
	struct fh_event *rec;

	if (!ev || ev->struct_size < offsetof(struct circd_event, memory) ||
	    ev->type < CIRCD_EV_TAG_SEEN || ev->type > CIRCD_EV_FAULT ||
	    ev->uid_len > CIRCD_UID_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fh->lock);
	if (fh->refuse_emits > 0) {
		fh->refuse_emits--;
		fh->refused_emits++;
		pthread_mutex_unlock(&fh->lock);
		return -ENOBUFS;
	}
	pthread_mutex_unlock(&fh->lock);

	rec = xcalloc(1, sizeof(*rec));
	size_t n = ev->struct_size < sizeof(rec->ev) ? ev->struct_size : sizeof(rec->ev);
	memcpy(&rec->ev, ev, n);
	rec->ev.struct_size = sizeof(rec->ev);
	if (rec->ev.memory && rec->ev.memory_len) {
		uint8_t *m = xcalloc(rec->ev.memory_len, 1);
		memcpy(m, rec->ev.memory, rec->ev.memory_len);
		rec->ev.memory = m;
	} else {
		rec->ev.memory = NULL;
		rec->ev.memory_len = 0;
	}
	rec->ev.item_id = dup_or_null(rec->ev.item_id);
	rec->ev.name = dup_or_null(rec->ev.name);
	rec->ev.text = dup_or_null(rec->ev.text);
	rec->mono_usec = now_monotonic_usec();

	pthread_mutex_lock(&fh->lock);
	fh->events = xrealloc(fh->events, (fh->n_events + 1) * sizeof(*fh->events));
	fh->events[fh->n_events++] = rec;
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
	return 0;
}

/* ---- Host API: waiting ---- */

static int pending_bits(struct fakehost *fh)
{
	int bits = 0;
	if (fh->stop)
		bits |= CIRCD_WAKE_STOP;
	if (fh->cmd_head < fh->n_cmds)
		bits |= CIRCD_WAKE_COMMAND;
	if (fh->txn_head < fh->n_txns)
		bits |= CIRCD_WAKE_SUBMIT;
	return bits;
}

static int host_wait(struct circd_instance *inst, int fd, short events, int timeout_ms)
{
	struct fakehost *fh = FH(inst);
	struct pollfd p[2] = { { .fd = fh->wake_fd, .events = POLLIN },
			       { .fd = fd, .events = events } };
	int bits;

	__atomic_add_fetch(&fh->checkins, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&fh->lock);
	bits = pending_bits(fh);
	pthread_mutex_unlock(&fh->lock);

	int r = poll(p, fd >= 0 ? 2 : 1, bits ? 0 : timeout_ms);
	if (r < 0 && errno != EINTR)
		return -errno;
	if (r > 0 && (p[0].revents & POLLIN)) {
		uint64_t v;
		if (read(fh->wake_fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: drained by a racing wait(); fine */
		}
	}
	if (r > 0 && fd >= 0 && p[1].revents)
		bits |= CIRCD_WAKE_FD;
	pthread_mutex_lock(&fh->lock);
	bits |= pending_bits(fh);
	pthread_mutex_unlock(&fh->lock);
	return bits;
}

static void host_heartbeat(struct circd_instance *inst)
{
	__atomic_add_fetch(&FH(inst)->checkins, 1, __ATOMIC_SEQ_CST);
}

static bool host_should_stop(struct circd_instance *inst)
{
	struct fakehost *fh = FH(inst);
	pthread_mutex_lock(&fh->lock);
	bool s = fh->stop;
	pthread_mutex_unlock(&fh->lock);
	return s;
}

/* ---- Host API: commands ---- */

static int host_take_command(struct circd_instance *inst, struct circd_command *cmd)
{
	struct fakehost *fh = FH(inst);
	int r = 0;

	pthread_mutex_lock(&fh->lock);
	if (fh->cmd_head < fh->n_cmds) {
		const struct fh_command *c = fh->cmds[fh->cmd_head++];
		uint32_t size = cmd->struct_size && cmd->struct_size < sizeof(*cmd) ?
			cmd->struct_size : sizeof(*cmd);
		memcpy(cmd, &c->cmd, size);
		cmd->struct_size = size;
		r = 1;
	}
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static void host_command_done(struct circd_instance *inst, const struct circd_command *cmd,
			      int status, const char *detail)
{
	struct fakehost *fh = FH(inst);

	pthread_mutex_lock(&fh->lock);
	for (size_t i = 0; i < fh->n_cmds; i++) {
		struct fh_command *c = fh->cmds[i];
		if (c->cmd.id != cmd->id)
			continue;
		if (c->done)
			fh->command_errors++; /* answered twice */
		c->done = true;
		c->status = status;
		free(c->detail);
		c->detail = dup_or_null(detail);
	}
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
}

unsigned fakehost_command_errors(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = fh->command_errors;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

/* ---- Host API: health, clocks ---- */

static void host_set_health(struct circd_instance *inst, enum circd_health health,
			    const char *reason)
{
	struct fakehost *fh = FH(inst);

	pthread_mutex_lock(&fh->lock);
	fh->health = health;
	fh->healths = xrealloc(fh->healths, (fh->n_healths + 1) * sizeof(*fh->healths));
	fh->healths[fh->n_healths++] = health;
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
	host_log(inst, CIRCD_LOG_DEBUG, "health %d (%s)", (int)health, reason ? reason : "");
}

/* ABI 1.5: the latest totals, as many fields as the plugin's struct has. */
static void host_set_counters(struct circd_instance *inst, const struct circd_device_counters *c)
{
	struct fakehost *fh = FH(inst);

	if (!c)
		return;
	pthread_mutex_lock(&fh->lock);
	size_t n = c->struct_size < sizeof(fh->counters) ? c->struct_size : sizeof(fh->counters);
	memcpy(&fh->counters, c, n);
	fh->counters.struct_size = sizeof(fh->counters);
	fh->counter_calls++;
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
}

void fakehost_counters(struct fakehost *fh, struct circd_device_counters *out)
{
	pthread_mutex_lock(&fh->lock);
	*out = fh->counters;
	out->struct_size = sizeof(*out);
	pthread_mutex_unlock(&fh->lock);
}

unsigned fakehost_counter_calls(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = fh->counter_calls;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

static uint64_t host_now_realtime(void)
{
	return now_realtime_usec();
}

static uint64_t host_now_monotonic(void)
{
	return now_monotonic_usec();
}

/* ---- Host API: transactions ---- */

static int host_take_txn(struct circd_instance *inst, struct circd_txn *txn)
{
	struct fakehost *fh = FH(inst);
	int r = 0;

	pthread_mutex_lock(&fh->lock);
	if (fh->txn_head < fh->n_txns) {
		const struct circd_txn *t = fh->txns[fh->txn_head++];
		uint32_t size = txn->struct_size && txn->struct_size < sizeof(*txn) ?
			txn->struct_size : sizeof(*txn);
		memcpy(txn, t, size);
		txn->struct_size = size;
		fh->inflight = xrealloc(fh->inflight, (fh->n_inflight + 1) * sizeof(int64_t));
		fh->inflight[fh->n_inflight++] = t->id;
		r = 1;
	}
	pthread_mutex_unlock(&fh->lock);
	return r;
}

/* ABI 1.2: the fake host's site is fixed (tests of a plugin's site
 * handling compare against this). */
static const char *host_site(struct circd_instance *inst)
{
	(void)inst;
	return "Fakehost Library";
}

static void host_report(struct circd_instance *inst, const struct circd_txn *txn,
			const struct circd_txn_result *result)
{
	struct fakehost *fh = FH(inst);
	struct fakehost_report *rep = xcalloc(1, sizeof(*rep));
	*rep = (struct fakehost_report){
		.txn_id = txn->id,
		.status = result->status,
		.message = dup_or_null(result->message),
		.fields_json = result->struct_size > offsetof(struct circd_txn_result, fields_json) ?
			dup_or_null(result->fields_json) : NULL,
	};

	pthread_mutex_lock(&fh->lock);
	if (fh->n_inflight == 0 || fh->inflight[0] != txn->id)
		fh->order_errors++;
	for (size_t i = 0; i < fh->n_inflight; i++) {
		if (fh->inflight[i] == txn->id) {
			memmove(fh->inflight + i, fh->inflight + i + 1,
				(fh->n_inflight - i - 1) * sizeof(int64_t));
			fh->n_inflight--;
			break;
		}
	}
	fh->reports = xrealloc(fh->reports, (fh->n_reports + 1) * sizeof(*fh->reports));
	fh->reports[fh->n_reports++] = rep;
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
}

static const struct circd_host_api host_api = {
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
	.stream_open = fakehost_stream_open,
	.stream_read = fakehost_stream_read,
	.stream_write_all = fakehost_stream_write_all,
	.stream_drain = fakehost_stream_drain,
	.stream_reopen = fakehost_stream_reopen,
	.stream_fd = fakehost_stream_fd,
	.stream_reason = fakehost_stream_reason,
	.stream_close = fakehost_stream_close,
	.set_counters = host_set_counters,
};

/* ---- Lifecycle ---- */

struct fakehost *fakehost_new(void)
{
	struct fakehost *fh = xcalloc(1, sizeof(*fh));
	pthread_condattr_t ca;

	fh->inst.fh = fh;
	pthread_mutex_init(&fh->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fh->cond, &ca);
	pthread_condattr_destroy(&ca);
	fh->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fh->wake_fd < 0)
		abort();
	fh->api = host_api;
	return fh;
}

int fakehost_set_host_abi_minor(struct fakehost *fh, unsigned minor)
{
	if (fh->created) {
		seterr(fh, "set the host's ABI minor before create()");
		return -EBUSY;
	}
	fh->api = host_api;
	fh->api.abi_minor = (uint16_t)(minor < CIRCD_PLUGIN_ABI_MINOR ? minor : CIRCD_PLUGIN_ABI_MINOR);
	/* The table as that version of the header declared it: 1.2 appended
	 * site, 1.3 nothing (a new option type), 1.4 the streams, 1.5
	 * set_counters. */
	if (minor < 2)
		fh->api.struct_size = offsetof(struct circd_host_api, site);
	else if (minor < 4)
		fh->api.struct_size = offsetof(struct circd_host_api, stream_open);
	else if (minor < 5)
		fh->api.struct_size = offsetof(struct circd_host_api, set_counters);
	return 0;
}

const char *fakehost_error(const struct fakehost *fh)
{
	return fh->error;
}

const struct circd_plugin *fakehost_plugin(const struct fakehost *fh)
{
	return fh->plugin;
}

int fakehost_create(struct fakehost *fh)
{
	int r;

	if (!fh->plugin) {
		seterr(fh, "no plugin loaded");
		return -EINVAL;
	}
	if (!fh->opts_resolved) {
		r = fakehost_set_options(fh, (const char *const[]){ NULL });
		if (r < 0)
			return r;
	}
	r = fh->plugin->ops.create(&fh->inst, &fh->api, &fh->state);
	if (r < 0) {
		seterr(fh, "create() failed: %s", strerror(-r));
		return r;
	}
	fh->created = true;
	return 0;
}

static void *run_thread(void *arg)
{
	struct fakehost *fh = arg;
	int r = fh->plugin->ops.run(fh->state);

	pthread_mutex_lock(&fh->lock);
	fh->run_result = r;
	fh->run_returned = true;
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
	return NULL;
}

int fakehost_start(struct fakehost *fh)
{
	if (!fh->created) {
		seterr(fh, "start before create");
		return -EINVAL;
	}
	int r = pthread_create(&fh->thread, NULL, run_thread, fh);
	if (r) {
		seterr(fh, "pthread_create: %s", strerror(r));
		return -r;
	}
	fh->running = true;
	return 0;
}

static bool run_done(struct fakehost *fh, const void *arg)
{
	return fh->run_returned;
}

int fakehost_stop(struct fakehost *fh)
{
	if (!fh->running)
		return 0;
	pthread_mutex_lock(&fh->lock);
	fh->stop = true;
	fakehost_wake_plugin(fh);
	int r = wait_for(fh, run_done, NULL, 5000);
	pthread_mutex_unlock(&fh->lock);
	if (r < 0) {
		seterr(fh, "run() did not return within 5 s of WAKE_STOP");
		return r; /* the thread is left running: the test fails anyway */
	}
	pthread_join(fh->thread, NULL);
	fh->running = false;
	return fh->run_result;
}

bool fakehost_run_returned(struct fakehost *fh, int *result)
{
	pthread_mutex_lock(&fh->lock);
	bool done = fh->run_returned;
	if (done && result)
		*result = fh->run_result;
	pthread_mutex_unlock(&fh->lock);
	return done;
}

void fakehost_free(struct fakehost *fh)
{
	if (!fh)
		return;
	if (fh->running && fakehost_stop(fh) == -ETIMEDOUT)
		abort(); /* destroying state under a running thread would be worse */
	if (fh->created && fh->plugin->ops.destroy)
		fh->plugin->ops.destroy(fh->state);
	if (fh->streams)
		/* left open, not closed here: the leak shows under ASan and
		 * valgrind (the conformance kit's leak check) */
		fprintf(stderr, "fakehost: plugin bug: %u stream(s) left open after destroy()\n",
			fakehost_open_streams(fh));
	fakehost_free_records(fh);
	if (fh->dl)
		dlclose(fh->dl);
	close(fh->wake_fd);
	pthread_cond_destroy(&fh->cond);
	pthread_mutex_destroy(&fh->lock);
	free(fh);
}
