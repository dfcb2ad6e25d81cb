/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIP2 client session: sequence numbers, the resend rules, login and
 * status.  SIP2 2.00 "Error detection" and reference sip2.md section 1:
 *  - AY is 0-9, one new number per new message, wrapping;
 *  - a 96 from the ACS, or a timeout of a query: send the same message
 *    again (a timed-out post -- 09, 11, 29 ... -- fails instead: the ACS
 *    may only have been slow, and posting twice is what circd must never do);
 *  - an answer with a bad checksum: ask for it again with 97;
 *  - at most "retries allowed" (98) times, then the ACS counts as down;
 *  - a resent answer may carry a new AY: do not require it to match.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sip2/client.h"
#include "sip2/transport.h"
#include "util/util.h"

#define RESENDS_CAP 10 /* even if an ACS allows 998, a dead link is dead */

struct sip2_client {
	struct sip2_client_config cfg; /* strings owned below */
	char *strings[13];
	struct sip2_charset *charset;
	struct transport tr;
	char *rx;
	size_t rx_len;
	int seq;
	int resends_allowed;
	char *last_raw; /* the last answer as text (UTF-8), with AY/AZ */
	struct sip2_client_stats stats;
};

const char *sip2_client_error_name(enum sip2_client_error e)
{
	static const char *const names[] = {
		[SIP2_ERR_NONE] = "ok",
		[SIP2_ERR_CONFIG] = "config",
		[SIP2_ERR_DNS] = "dns",
		[SIP2_ERR_CONNECT] = "connect",
		[SIP2_ERR_TLS] = "tls",
		[SIP2_ERR_TLS_VERIFY] = "tls-verify",
		[SIP2_ERR_LOGIN_REFUSED] = "login-refused",
		[SIP2_ERR_TIMEOUT] = "timeout",
		[SIP2_ERR_CHECKSUM] = "checksum",
		[SIP2_ERR_CLOSED] = "closed",
		[SIP2_ERR_PROTOCOL] = "protocol",
		[SIP2_ERR_IO] = "io",
	};
	return (unsigned)e < ARRAY_SIZE(names) && names[e] ? names[e] : "unknown";
}

static const char *keep(struct sip2_client *c, unsigned i, const char *s)
{
	c->strings[i] = s ? xstrdup(s) : NULL;
	return c->strings[i];
}

int sip2_client_new(const struct sip2_client_config *cfg, struct sip2_client **out)
{
	if (!cfg->host || !*cfg->host || !cfg->port)
		return -EINVAL;
	struct sip2_client *c = xcalloc(1, sizeof(*c));
	c->tr.fd = -1;
	c->cfg = *cfg;
	c->cfg.host = keep(c, 0, cfg->host);
	c->cfg.tls_ca_file = keep(c, 1, cfg->tls_ca_file);
	c->cfg.tls_server_name = keep(c, 2, cfg->tls_server_name);
	c->cfg.tls_cert_file = keep(c, 3, cfg->tls_cert_file);
	c->cfg.tls_key_file = keep(c, 4, cfg->tls_key_file);
	c->cfg.login_user = keep(c, 5, cfg->login_user);
	c->cfg.login_password = keep(c, 6, cfg->login_password);
	c->cfg.location_code = keep(c, 7, cfg->location_code ? cfg->location_code : "");
	c->cfg.institution = keep(c, 8, cfg->institution ? cfg->institution : "");
	c->cfg.terminal_password = keep(c, 9, cfg->terminal_password ? cfg->terminal_password : "");
	c->cfg.charset = keep(c, 10, cfg->charset ? cfg->charset : "UTF-8");
	if (c->cfg.connect_timeout_ms <= 0)
		c->cfg.connect_timeout_ms = 10000;
	if (c->cfg.request_timeout_ms <= 0)
		c->cfg.request_timeout_ms = 10000;
	if (c->cfg.max_resends < 0)
		c->cfg.max_resends = 0;
	c->resends_allowed = c->cfg.max_resends;
	c->rx = xcalloc(1, SIP2_FRAME_MAX);
	if (sip2_charset_new(c->cfg.charset, &c->charset) < 0) {
		sip2_client_free(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

void sip2_client_free(struct sip2_client *c)
{
	if (!c)
		return;
	transport_close(&c->tr);
	if (c->strings[6]) /* the password: do not leave it in freed memory */
		explicit_bzero(c->strings[6], strlen(c->strings[6]));
	for (size_t i = 0; i < ARRAY_SIZE(c->strings); i++)
		free(c->strings[i]);
	sip2_charset_free(c->charset);
	free(c->last_raw);
	free(c->rx);
	free(c);
}

int sip2_client_connect(struct sip2_client *c)
{
	c->rx_len = 0;
	c->resends_allowed = c->cfg.max_resends;
	int r = transport_connect(&c->tr, &c->cfg);
	if (r == 0)
		c->stats.connects++;
	return r;
}

void sip2_client_close(struct sip2_client *c)
{
	transport_close(&c->tr);
	c->rx_len = 0;
}

bool sip2_client_connected(const struct sip2_client *c) { return c->tr.fd >= 0; }
int sip2_client_fd(const struct sip2_client *c) { return c->tr.fd; }
enum sip2_client_error sip2_client_error(const struct sip2_client *c) { return c->tr.error; }
const char *sip2_client_error_text(const struct sip2_client *c) { return c->tr.error_text; }
const struct sip2_client_stats *sip2_client_stats(const struct sip2_client *c) { return &c->stats; }
const struct sip2_client_config *sip2_client_config(const struct sip2_client *c) { return &c->cfg; }
const char *sip2_client_last_raw(const struct sip2_client *c) { return c->last_raw; }

bool sip2_client_has_pending(const struct sip2_client *c)
{
	return c->rx_len > 0 || transport_pending(&c->tr);
}

static void fail(struct sip2_client *c, enum sip2_client_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct sip2_client *c, enum sip2_client_error e, const char *fmt, ...)
{
	va_list ap;
	c->tr.error = e;
	va_start(ap, fmt);
	vsnprintf(c->tr.error_text, sizeof(c->tr.error_text), fmt, ap);
	va_end(ap);
}

/* Next frame (without terminator) into *frame (malloc'd).  Empty frames
 * (the LF of a CRLF split across reads) are skipped.  0, -ETIMEDOUT,
 * -ECONNRESET, -EMSGSIZE, -errno. */
static int read_frame(struct sip2_client *c, uint64_t deadline, char **frame, size_t *len)
{
	for (;;) {
		size_t flen, used;
		while (sip2_frame_find(c->rx, c->rx_len, &flen, &used) == 1) {
			char *f = NULL;
			if (flen > 0) {
				f = xcalloc(1, flen + 1);
				memcpy(f, c->rx, flen);
			}
			memmove(c->rx, c->rx + used, c->rx_len - used);
			c->rx_len -= used;
			if (f) {
				*frame = f;
				*len = flen;
				return 0;
			}
		}
		if (c->rx_len == SIP2_FRAME_MAX) {
			c->rx_len = 0; /* no terminator in 64 KiB: not SIP2 */
			return -EMSGSIZE;
		}
		ssize_t n = transport_read(&c->tr, c->rx + c->rx_len, SIP2_FRAME_MAX - c->rx_len,
					   deadline);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		c->rx_len += (size_t)n;
	}
}

int sip2_client_idle_read(struct sip2_client *c)
{
	/* deadline = now: take what is there, do not wait */
	for (;;) {
		char *frame = NULL;
		size_t len;
		int r = read_frame(c, now_monotonic_usec(), &frame, &len);
		if (r == -ETIMEDOUT)
			return 0;
		if (r == -ECONNRESET) {
			fail(c, SIP2_ERR_CLOSED, "the ACS closed the connection");
			return r;
		}
		if (r < 0) {
			fail(c, SIP2_ERR_IO, "read: %s", strerror(-r));
			return r;
		}
		c->stats.garbage++; /* an answer nobody asked for */
		free(frame);
	}
}

static int send_bytes(struct sip2_client *c, const char *buf, size_t len)
{
	uint64_t deadline = now_monotonic_usec() + (uint64_t)c->cfg.request_timeout_ms * 1000;
	int r = transport_write(&c->tr, buf, len, deadline);
	if (r < 0)
		fail(c, r == -ETIMEDOUT ? SIP2_ERR_TIMEOUT : SIP2_ERR_CLOSED, "send: %s",
		     strerror(-r));
	return r;
}

/* The answer to message id "NN" is "NN+1" (93->94, 09->10, 99->98 is the
 * one exception). */
static void expected_answer(const char *id, char out[3])
{
	if (strcmp(id, "99") == 0) {
		memcpy(out, "98", 3);
		return;
	}
	int n = (id[0] - '0') * 10 + (id[1] - '0') + 1;
	out[0] = (char)('0' + n / 10 % 10);
	out[1] = (char)('0' + n % 10);
	out[2] = 0;
}

/*
 * Is m the answer to req, or a late answer to an earlier request that timed
 * out and was resent (the ACS then answers twice)?  Taking a stale 10 for
 * the next checkin would sort a book by another book's answer, so:
 *  - the message id must be the answer's;
 *  - the item id (AB), when both carry one, must be ours;
 *  - the AY must echo ours, unless we asked with 97: an ACS may give a
 *    repeated answer a new AY (reference sip2.md, verified live).
 */
static bool is_answer(const struct sip2_msg *req, const struct sip2_msg *m, const char *want,
		      int seq, bool asked_97)
{
	if (strcmp(m->id, want) != 0)
		return false;
	const char *ours = sip2_msg_get(req, "AB"), *theirs = sip2_msg_get(m, "AB");
	if (ours && theirs && *theirs && strcmp(ours, theirs) != 0)
		return false;
	if (m->seq >= 0 && !asked_97 && m->seq != seq)
		return false;
	return true;
}

/* Messages that change circulation state at the ACS (as opposed to
 * queries, login and status, which are safe to send twice). */
static bool posts_state(const char *id)
{
	static const char *const posts[] = { "09", "11", "15", "25", "29", "37" };
	for (size_t i = 0; i < ARRAY_SIZE(posts); i++)
		if (strcmp(id, posts[i]) == 0)
			return true;
	return false;
}

int sip2_client_request(struct sip2_client *c, const struct sip2_msg *req, struct sip2_msg **resp)
{
	if (!sip2_client_connected(c)) {
		fail(c, SIP2_ERR_CLOSED, "not connected");
		return -ENOTCONN;
	}
	struct sip2_encode_opts o = { .charset = c->charset,
				      .error_detection = c->cfg.error_detection, .seq = c->seq };
	_cleanup_free_ char *wire = NULL;
	size_t wire_len;
	int r = sip2_encode(req, &o, &wire, &wire_len);
	if (r < 0) {
		fail(c, SIP2_ERR_CONFIG, "message %s cannot be encoded (a '|' in a value?)", req->id);
		return r;
	}
	int seq = c->seq;
	bool asked_97 = false;
	c->seq = (c->seq + 1) % 10;
	char want[3];
	expected_answer(req->id, want);

	int resends = c->resends_allowed;
	c->stats.requests++;
	r = send_bytes(c, wire, wire_len);
	if (r < 0)
		return r;
	uint64_t deadline = now_monotonic_usec() + (uint64_t)c->cfg.request_timeout_ms * 1000;
	for (;;) {
		char *frame = NULL;
		size_t len = 0;
		r = read_frame(c, deadline, &frame, &len);
		const char *again = NULL; /* what to send before reading again */
		size_t again_len = 0;
		if (r == -ETIMEDOUT) {
			c->stats.timeouts++;
			/* SIP2 allows resending on a timeout, but a post the ACS
			 * was merely slow with would then happen twice: fail it
			 * instead; the caller checks (17) before posting again. */
			if (resends-- <= 0 || posts_state(req->id)) {
				fail(c, SIP2_ERR_TIMEOUT, "no answer to %s within %d ms", req->id,
				     c->cfg.request_timeout_ms);
				return r;
			}
			again = wire, again_len = wire_len;
			c->stats.resends++;
		} else if (r == -ECONNRESET) {
			fail(c, SIP2_ERR_CLOSED, "the ACS closed the connection");
			return r;
		} else if (r < 0) {
			fail(c, r == -EMSGSIZE ? SIP2_ERR_PROTOCOL : SIP2_ERR_IO, "read: %s",
			     strerror(-r));
			return r;
		} else {
			struct sip2_msg *m = NULL;
			r = sip2_decode(frame, len, c->charset, &m);
			if (r == 0) {
				size_t raw_len;
				free(c->last_raw);
				c->last_raw = NULL;
				sip2_charset_from_wire(c->charset, frame, len, &c->last_raw, &raw_len);
			}
			free(frame);
			if (r == 0 && strcmp(m->id, "96") == 0) {
				/* the ACS could not read ours: send it again */
				sip2_msg_free(m);
				c->stats.sc_resend_requests++;
				if (resends-- <= 0) {
					fail(c, SIP2_ERR_CHECKSUM, "the ACS kept asking for a resend");
					return -EBADMSG;
				}
				again = wire, again_len = wire_len;
				c->stats.resends++;
			} else if (r == 0 && m->checksum != SIP2_CKSUM_BAD &&
				   is_answer(req, m, want, seq, asked_97)) {
				*resp = m;
				return 0;
			} else if (r == 0 && m->checksum != SIP2_CKSUM_BAD) {
				/* a late answer to an earlier, timed-out request */
				sip2_msg_free(m);
				c->stats.garbage++;
				continue;
			} else {
				if (r == 0)
					c->stats.bad_checksums++;
				else
					c->stats.garbage++;
				sip2_msg_free(m);
				if (resends-- <= 0) {
					fail(c, r == 0 ? SIP2_ERR_CHECKSUM : SIP2_ERR_PROTOCOL,
					     "answer to %s unreadable after resends", req->id);
					return -EBADMSG;
				}
				/* SIP2 2.00: 97 has no AY, its checksum is fixed */
				again = "97AZFEF5\r", again_len = 9;
				asked_97 = true;
				c->stats.acs_resend_requests++;
			}
		}
		r = send_bytes(c, again, again_len);
		if (r < 0)
			return r;
		deadline = now_monotonic_usec() + (uint64_t)c->cfg.request_timeout_ms * 1000;
	}
}

int sip2_client_login(struct sip2_client *c)
{
	if (!c->cfg.login_user || !*c->cfg.login_user)
		return 0;
	_cleanup_(sip2_msg_freep) struct sip2_msg *req = sip2_msg_new("93");
	sip2_msg_add(req, "CN", c->cfg.login_user);
	sip2_msg_add(req, "CO", c->cfg.login_password ? c->cfg.login_password : "");
	if (*c->cfg.location_code)
		sip2_msg_add(req, "CP", c->cfg.location_code);
	_cleanup_(sip2_msg_freep) struct sip2_msg *resp = NULL;
	int r = sip2_client_request(c, req, &resp);
	if (r < 0)
		return r;
	const char *ok = sip2_msg_fixed(resp, "ok");
	if (!ok || strcmp(ok, "1") != 0) {
		fail(c, SIP2_ERR_LOGIN_REFUSED, "login as %s refused by the ACS", c->cfg.login_user);
		return -EACCES;
	}
	return 0;
}

static int num3(const char *s)
{
	if (!s || strlen(s) != 3 || strspn(s, "0123456789") != 3)
		return -1;
	int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return v == 999 ? -1 : v; /* SIP2 2.00: 999 = unknown */
}

static bool yes(const struct sip2_msg *m, const char *name)
{
	const char *v = sip2_msg_fixed(m, name);
	return v && v[0] == 'Y';
}

int sip2_client_status(struct sip2_client *c, struct sip2_acs_status *st)
{
	_cleanup_(sip2_msg_freep) struct sip2_msg *req = sip2_msg_new("99");
	sip2_msg_set_fixed(req, "status_code", "0");
	sip2_msg_set_fixed(req, "max_print_width", "040");
	sip2_msg_set_fixed(req, "protocol_version", "2.00");
	_cleanup_(sip2_msg_freep) struct sip2_msg *resp = NULL;
	int r = sip2_client_request(c, req, &resp);
	if (r < 0)
		return r;
	*st = (struct sip2_acs_status){ 0 };
	st->online = yes(resp, "online_status");
	st->checkin_ok = yes(resp, "checkin_ok");
	st->checkout_ok = yes(resp, "checkout_ok");
	st->renewal_policy = yes(resp, "acs_renewal_policy");
	st->status_update_ok = yes(resp, "status_update_ok");
	st->offline_ok = yes(resp, "offline_ok");
	st->timeout_ds = num3(sip2_msg_fixed(resp, "timeout_period"));
	st->retries = num3(sip2_msg_fixed(resp, "retries_allowed"));
	/* SIP2 2.00: timeout period 000 means the ACS is offline */
	if (st->timeout_ds == 0)
		st->online = false;
	snprintf(st->protocol_version, sizeof(st->protocol_version), "%s",
		 sip2_msg_fixed(resp, "protocol_version"));
	const char *v = sip2_msg_get(resp, "BX");
	snprintf(st->supported, sizeof(st->supported), "%s", v ? v : "");
	v = sip2_msg_get(resp, "AO");
	snprintf(st->institution, sizeof(st->institution), "%s", v ? v : "");
	v = sip2_msg_get(resp, "AM");
	snprintf(st->library_name, sizeof(st->library_name), "%s", v ? v : "");
	if (st->retries >= 0)
		c->resends_allowed = st->retries < RESENDS_CAP ? st->retries : RESENDS_CAP;
	return 0;
}

int sip2_probe(const struct sip2_client_config *cfg, struct sip2_probe_result *res)
{
	*res = (struct sip2_probe_result){ 0 };
	struct sip2_client *c = NULL;
	int r = sip2_client_new(cfg, &c);
	if (r < 0) {
		res->error = SIP2_ERR_CONFIG;
		snprintf(res->message, sizeof(res->message), "invalid configuration (host, port or charset)");
		return r;
	}
	r = sip2_client_connect(c);
	if (r == 0) {
		res->connected = true;
		r = sip2_client_login(c);
	}
	if (r == 0) {
		res->logged_in = true;
		uint64_t t0 = now_monotonic_usec();
		r = sip2_client_status(c, &res->status);
		res->rtt_usec = now_monotonic_usec() - t0;
	}
	if (r < 0) {
		res->error = sip2_client_error(c);
		if (res->error == SIP2_ERR_NONE)
			res->error = SIP2_ERR_IO;
		snprintf(res->message, sizeof(res->message), "%s", sip2_client_error_text(c));
	}
	sip2_client_free(c);
	return r;
}
