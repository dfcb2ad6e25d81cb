/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sip2 worker thread: keep one logged-in SIP2 session to the ACS and
 * answer the transactions the forwarder hands over, in order.
 *
 *   down --connect+93+99--> up --(keepalive 99 | txn)--> up
 *     ^                      |
 *     +-- full-jitter backoff <-- connection lost, timeout, resends spent
 *
 * Health: OK when up and the 98 says online; DEGRADED when up but the ACS
 * says offline or answers needed resends; OFFLINE while reconnecting.
 * A refused login backs off like any other failure (never a tight loop)
 * and is logged as an error once per change of reason.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sip2-plugin.h"
#include "util/util.h"

static void health(struct sip2_plugin *p, enum circd_health h, const char *reason)
{
	if (h == p->health && h != CIRCD_HEALTH_OFFLINE)
		return;
	p->health = h;
	p->host->set_health(p->inst, h, reason);
}

static void session_down(struct sip2_plugin *p, const char *why)
{
	sip2_client_close(p->client);
	bool was_up = p->up;
	p->up = false;
	uint64_t delay = backoff_full_jitter_usec(p->set.backoff_min_usec, p->set.backoff_max_usec,
						  p->connect_failures, &p->rng);
	p->connect_failures++;
	p->next_connect = p->host->now_monotonic_usec() + delay;
	/* log the first failure loudly; repeats of a known outage quietly */
	p->host->log(p->inst, was_up || p->connect_failures == 1 ? CIRCD_LOG_ERR : CIRCD_LOG_INFO,
		     "ACS session down (%s); reconnecting in %llu ms", why,
		     (unsigned long long)(delay / USEC_PER_MSEC));
	health(p, CIRCD_HEALTH_OFFLINE, why);
}

static void note_status(struct sip2_plugin *p)
{
	const struct sip2_client_stats *s = sip2_client_stats(p->client);
	uint64_t resends = s->resends + s->acs_resend_requests;
	if (!p->status.online)
		health(p, CIRCD_HEALTH_DEGRADED, "the ACS reports itself offline");
	else if (resends != p->last_resends)
		health(p, CIRCD_HEALTH_DEGRADED, "answers needed resends");
	else
		health(p, CIRCD_HEALTH_OK, NULL);
	p->last_resends = resends;
}

/* While the ACS says it is offline, ask again at least this often. */
#define OFFLINE_RECHECK_USEC (30 * USEC_PER_SEC)

static void schedule_keepalive(struct sip2_plugin *p)
{
	uint64_t every = p->set.keepalive_usec;
	if (!p->status.online && (!every || every > OFFLINE_RECHECK_USEC))
		every = OFFLINE_RECHECK_USEC;
	p->next_keepalive = every ? p->host->now_monotonic_usec() + every : UINT64_MAX;
}

static int session_up(struct sip2_plugin *p)
{
	int r = sip2_client_connect(p->client);
	if (r == 0)
		r = sip2_client_login(p->client);
	if (r == 0)
		r = sip2_client_status(p->client, &p->status);
	if (r < 0) {
		char why[300];
		snprintf(why, sizeof(why), "%s: %s",
			 sip2_client_error_name(sip2_client_error(p->client)),
			 sip2_client_error_text(p->client));
		session_down(p, why);
		return r;
	}
	p->up = true;
	p->connect_failures = 0;
	schedule_keepalive(p);
	p->host->log(p->inst, CIRCD_LOG_NOTICE,
		     "ACS session up: %s, institution %s, timeout %d ds, retries %d, offline %s, "
		     "supports %s",
		     p->status.online ? "online" : "OFFLINE", p->status.institution,
		     p->status.timeout_ds, p->status.retries, p->status.offline_ok ? "ok" : "no",
		     p->status.supported);
	note_status(p);
	return 0;
}

static void keepalive(struct sip2_plugin *p)
{
	int r = sip2_client_status(p->client, &p->status);
	if (r < 0) {
		session_down(p, sip2_client_error_text(p->client));
		return;
	}
	schedule_keepalive(p);
	note_status(p);
}

/* Take every queued transaction and answer each, in order.  Once one
 * failed for transport reasons, the rest of this round get RETRY too:
 * the forwarder re-feeds them in order after the reconnect. */
static void serve_round(struct sip2_plugin *p)
{
	struct circd_txn txn;
	bool give_up = false;
	while (p->host->take_txn(p->inst, &txn) == 1) {
		struct circd_txn_result res = { .struct_size = sizeof(res) };
		_cleanup_free_ char *message = NULL, *fields = NULL;
		if (!give_up && !p->up && p->host->now_monotonic_usec() >= p->next_connect)
			session_up(p);
		/* Nothing of these went on the wire: NOT_SENT spares the 17
		 * check a "maybe sent" transaction costs after the reconnect. */
		if (give_up || !p->up) {
			res.status = CIRCD_TXN_NOT_SENT;
			res.message = p->up ? "an earlier transaction failed" : "ACS not connected";
			give_up = true;
		} else if (!p->status.online) {
			/* SIP2 2.00 "ACS Status": online N (or timeout 000) means
			 * the ILS behind it is not taking transactions; posting
			 * now would turn returns into refusals for staff */
			res.status = CIRCD_TXN_NOT_SENT;
			res.message = "the ACS reports itself offline";
			give_up = true;
		} else {
			bool transport_failed;
			res.status = sip2_txn_handle(p, &txn, &message, &fields, &transport_failed);
			res.message = message;
			res.fields_json = fields;
			if (transport_failed) {
				session_down(p, message ? message : "transport failure");
				give_up = true;
			} else {
				schedule_keepalive(p);
				note_status(p);
			}
		}
		p->host->report(p->inst, &txn, &res);
	}
}

static int timeout_ms_until(struct sip2_plugin *p, uint64_t when)
{
	uint64_t now = p->host->now_monotonic_usec();
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + 999) / 1000;
	return ms > 3600 * 1000 ? 3600 * 1000 : (int)ms;
}

int sip2_plugin_run(void *state)
{
	struct sip2_plugin *p = state;
	p->health = CIRCD_HEALTH_STARTING;
	p->next_connect = p->host->now_monotonic_usec();
	for (;;) {
		uint64_t now = p->host->now_monotonic_usec();
		if (!p->up && now >= p->next_connect)
			session_up(p);
		else if (p->up && now >= p->next_keepalive)
			keepalive(p);

		int fd = -1, timeout = -1;
		if (p->up) {
			fd = sip2_client_fd(p->client);
			if (p->next_keepalive != UINT64_MAX)
				timeout = timeout_ms_until(p, p->next_keepalive);
			if (sip2_client_has_pending(p->client))
				timeout = 0;
		} else {
			timeout = timeout_ms_until(p, p->next_connect);
		}
		int w = p->host->wait(p->inst, fd, POLLIN, timeout);
		if (w < 0) {
			/* the host restarts a worker that returns, with backoff */
			p->host->log(p->inst, CIRCD_LOG_ERR, "wait: %s", strerror(-w));
			sip2_client_close(p->client);
			p->up = false;
			return w;
		}
		if (w & CIRCD_WAKE_STOP)
			break;
		if (p->up && ((w & CIRCD_WAKE_FD) || sip2_client_has_pending(p->client))) {
			/* idle: a healthy ACS says nothing unasked; EOF is the
			 * usual news (its client_timeout closed us) */
			if (sip2_client_idle_read(p->client) < 0)
				session_down(p, sip2_client_error_text(p->client));
		}
		serve_round(p);
	}
	sip2_client_close(p->client);
	p->up = false;
	return 0;
}
