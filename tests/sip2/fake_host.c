/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fake_host.h"
#include "util/util.h"

static const struct circd_option *find_opt(struct circd_instance *h, const char *key)
{
	for (const struct circd_option *o = h->plugin->options; o && o->key; o++)
		if (strcmp(o->key, key) == 0)
			return o;
	fprintf(stderr, "fake host: plugin asked for undeclared option %s\n", key);
	abort();
}

static const char *fh_opt_string(struct circd_instance *h, const char *key)
{
	const struct circd_option *o = find_opt(h, key);
	size_t n = strlen(key);
	for (size_t i = 0; h->opts && h->opts[i]; i++)
		if (strncmp(h->opts[i], key, n) == 0 && h->opts[i][n] == '=')
			return h->opts[i] + n + 1;
	return o->default_value ? o->default_value : "";
}

static int64_t fh_opt_int(struct circd_instance *h, const char *key)
{
	return strtoll(fh_opt_string(h, key), NULL, 10);
}

static bool fh_opt_bool(struct circd_instance *h, const char *key)
{
	return strcmp(fh_opt_string(h, key), "true") == 0;
}

static double fh_opt_float(struct circd_instance *h, const char *key)
{
	return strtod(fh_opt_string(h, key), NULL);
}

static bool fh_opt_given(struct circd_instance *h, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; h->opts && h->opts[i]; i++)
		if (strncmp(h->opts[i], key, n) == 0 && h->opts[i][n] == '=')
			return true;
	return false;
}

static const char *fh_name(struct circd_instance *h) { return "ils"; }

static void fh_logv(struct circd_instance *h, enum circd_log_level level, const char *fmt,
		    va_list ap) __attribute__((format(printf, 3, 0)));
static void fh_logv(struct circd_instance *h, enum circd_log_level level, const char *fmt,
		    va_list ap)
{
	if (level > CIRCD_LOG_NOTICE && !getenv("FH_DEBUG"))
		return;
	fprintf(stderr, "[sip2 %d] ", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void fh_log(struct circd_instance *h, enum circd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fh_log(struct circd_instance *h, enum circd_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fh_logv(h, level, fmt, ap);
	va_end(ap);
}

static int fh_wait(struct circd_instance *h, int fd, short events, int timeout_ms)
{
	pthread_mutex_lock(&h->lock);
	int bits = (h->stop ? CIRCD_WAKE_STOP : 0) | (h->q_len ? CIRCD_WAKE_SUBMIT : 0);
	pthread_mutex_unlock(&h->lock);
	if (bits)
		return bits;
	struct pollfd p[2] = { { .fd = h->efd, .events = POLLIN }, { .fd = fd, .events = events } };
	int r = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents) {
		uint64_t v;
		if (read(h->efd, &v, sizeof(v)) < 0)
			return -errno;
	}
	if (fd >= 0 && p[1].revents)
		bits |= CIRCD_WAKE_FD;
	pthread_mutex_lock(&h->lock);
	bits |= (h->stop ? CIRCD_WAKE_STOP : 0) | (h->q_len ? CIRCD_WAKE_SUBMIT : 0);
	pthread_mutex_unlock(&h->lock);
	return bits;
}

static void fh_heartbeat(struct circd_instance *h) {}

static bool fh_should_stop(struct circd_instance *h)
{
	pthread_mutex_lock(&h->lock);
	bool s = h->stop;
	pthread_mutex_unlock(&h->lock);
	return s;
}

static void fh_set_health(struct circd_instance *h, enum circd_health health, const char *reason)
{
	pthread_mutex_lock(&h->lock);
	h->health = health;
	snprintf(h->health_reason, sizeof(h->health_reason), "%s", reason ? reason : "");
	h->health_changes++;
	h->health_seen |= 1u << health;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static uint64_t fh_realtime(void) { return now_realtime_usec(); }
static uint64_t fh_monotonic(void) { return now_monotonic_usec(); }

static int fh_take_txn(struct circd_instance *h, struct circd_txn *txn)
{
	pthread_mutex_lock(&h->lock);
	int r = 0;
	if (h->q_len) {
		*txn = h->queue[h->q_head];
		h->q_head = (h->q_head + 1) % FH_MAX;
		h->q_len--;
		r = 1;
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

static void fh_report(struct circd_instance *h, const struct circd_txn *txn,
		      const struct circd_txn_result *res)
{
	pthread_mutex_lock(&h->lock);
	if (h->n_results < ARRAY_SIZE(h->results)) {
		struct fh_result *r = &h->results[h->n_results++];
		r->id = txn->id;
		r->status = res->status;
		r->message = res->message ? xstrdup(res->message) : NULL;
		r->fields_json = res->fields_json ? xstrdup(res->fields_json) : NULL;
	}
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

int fh_create(struct circd_instance *h, const struct circd_plugin *plugin,
	      const char *const *opts)
{
	memset(h, 0, sizeof(*h));
	h->plugin = plugin;
	h->opts = opts;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->api = (struct circd_host_api){
		.struct_size = sizeof(h->api),
		.abi_major = CIRCD_PLUGIN_ABI_MAJOR, .abi_minor = CIRCD_PLUGIN_ABI_MINOR,
		.log = fh_log, .logv = fh_logv,
		.opt_string = fh_opt_string, .opt_int = fh_opt_int, .opt_bool = fh_opt_bool,
		.opt_float = fh_opt_float, .opt_given = fh_opt_given, .name = fh_name,
		.wait = fh_wait, .heartbeat = fh_heartbeat, .should_stop = fh_should_stop,
		.set_health = fh_set_health, .now_realtime_usec = fh_realtime,
		.now_monotonic_usec = fh_monotonic, .take_txn = fh_take_txn, .report = fh_report,
	};
	int r = plugin->ops.create(h, &h->api, &h->state);
	if (r < 0)
		close(h->efd);
	return r;
}

static void *runner(void *arg)
{
	struct circd_instance *h = arg;
	h->run_rc = h->plugin->ops.run(h->state);
	return NULL;
}

static void kick(struct circd_instance *h)
{
	uint64_t one = 1;
	if (write(h->efd, &one, sizeof(one)) < 0)
		abort();
}

void fh_start(struct circd_instance *h)
{
	h->running = true;
	pthread_create(&h->thread, NULL, runner, h);
}

int fh_stop(struct circd_instance *h)
{
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_mutex_unlock(&h->lock);
	kick(h);
	if (h->running)
		pthread_join(h->thread, NULL);
	h->running = false;
	h->plugin->ops.destroy(h->state);
	close(h->efd);
	fh_free_results(h);
	return h->run_rc;
}

void fh_submit(struct circd_instance *h, const struct circd_txn *txns, size_t n)
{
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < n && h->q_len < FH_MAX; i++) {
		h->queue[(h->q_head + h->q_len) % FH_MAX] = txns[i];
		h->q_len++;
	}
	pthread_mutex_unlock(&h->lock);
	kick(h);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

bool fh_wait_results(struct circd_instance *h, size_t n, int timeout_ms)
{
	struct timespec ts;
	deadline_in(&ts, timeout_ms);
	pthread_mutex_lock(&h->lock);
	while (h->n_results < n)
		if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT)
			break;
	bool ok = h->n_results >= n;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

bool fh_wait_health(struct circd_instance *h, enum circd_health want, int timeout_ms)
{
	struct timespec ts;
	deadline_in(&ts, timeout_ms);
	pthread_mutex_lock(&h->lock);
	while (h->health != want)
		if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT)
			break;
	bool ok = h->health == want;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

void fh_free_results(struct circd_instance *h)
{
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n_results; i++) {
		free(h->results[i].message);
		free(h->results[i].fields_json);
	}
	h->n_results = 0;
	pthread_mutex_unlock(&h->lock);
}
