/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A blocking SIP2 client (SC side): TCP or TLS, login (93), status (99),
 * and one request/response with the resend rules of SIP2 2.00 "Error
 * detection".  Every call has a deadline; nothing here sleeps for backoff
 * or keeps a thread (the sip2 plugin and `circctl upstream test` do that).
 *
 * Not thread-safe: one client per thread.  Passwords are held, never
 * logged, and never part of an error text.
 */
#ifndef CIRCD_SIP2_CLIENT_H
#define CIRCD_SIP2_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "sip2/sip2.h"

/* What went wrong, for people: circctl prints the name and the text. */
enum sip2_client_error {
	SIP2_ERR_NONE = 0,
	SIP2_ERR_CONFIG,        /* bad option (charset, cert file ...) */
	SIP2_ERR_DNS,           /* host name did not resolve */
	SIP2_ERR_CONNECT,       /* refused, unreachable, connect timeout */
	SIP2_ERR_TLS,           /* handshake failed */
	SIP2_ERR_TLS_VERIFY,    /* certificate chain or host name not trusted */
	SIP2_ERR_LOGIN_REFUSED, /* 94 with ok=0 */
	SIP2_ERR_TIMEOUT,       /* no answer within the timeout, resends spent */
	SIP2_ERR_CHECKSUM,      /* answers kept failing AY/AZ, resends spent */
	SIP2_ERR_CLOSED,        /* the ACS closed the connection */
	SIP2_ERR_PROTOCOL,      /* an answer we cannot read (garbage, wrong id) */
	SIP2_ERR_IO,            /* other socket error */
};

const char *sip2_client_error_name(enum sip2_client_error e);

struct sip2_client_config {
	const char *host;
	uint16_t port;
	bool tls;
	const char *tls_ca_file;     /* NULL: the system's trust store */
	bool tls_verify_hostname;    /* default on; off only for lab setups */
	const char *tls_server_name; /* name to verify and send as SNI; NULL = host */
	const char *tls_cert_file;   /* optional client certificate (PEM) */
	const char *tls_key_file;
	const char *login_user;      /* NULL or "": no 93 (ACS without login) */
	const char *login_password;
	const char *location_code;   /* CP in 93, AP in 09 */
	const char *institution;     /* AO */
	const char *terminal_password; /* AC */
	const char *charset;         /* NULL = UTF-8 */
	bool error_detection;        /* AY/AZ on what we send */
	int connect_timeout_ms;
	int request_timeout_ms;      /* per attempt */
	int max_resends;             /* until a 98 says how many (retries allowed) */
	/* Called about once a second while a call waits on the network, so a
	 * worker thread can check in with the watchdog.  NULL = none. */
	void (*heartbeat)(void *userdata);
	void *heartbeat_userdata;
};

/* What the ACS said in its 98 (SIP2 2.00 "ACS Status"). */
struct sip2_acs_status {
	bool online, checkin_ok, checkout_ok, renewal_policy, status_update_ok, offline_ok;
	int timeout_ds;  /* tenths of a second; -1 = unknown (999) */
	int retries;     /* -1 = unknown (999) */
	char protocol_version[5];
	char supported[17]; /* BX: 16 Y/N flags, "" if not sent */
	char institution[64];
	char library_name[128];
};

/* Counters; read them for metrics and tests. */
struct sip2_client_stats {
	uint64_t requests;         /* messages sent the first time */
	uint64_t resends;          /* the same message sent again (timeout, 96) */
	uint64_t acs_resend_requests; /* 97 sent by us after a bad answer */
	uint64_t sc_resend_requests;  /* 96 received */
	uint64_t bad_checksums;
	uint64_t garbage;          /* frames that were not a SIP2 message, or stale */
	uint64_t timeouts;
	uint64_t connects;
};

struct sip2_client;

/* Copies the config.  -EINVAL: unknown charset / missing host. */
int sip2_client_new(const struct sip2_client_config *cfg, struct sip2_client **out);
void sip2_client_free(struct sip2_client *c);

/* Resolve, connect, TLS handshake and verification.  0 or -errno; the
 * reason is in sip2_client_error() / sip2_client_error_text(). */
int sip2_client_connect(struct sip2_client *c);
void sip2_client_close(struct sip2_client *c);
bool sip2_client_connected(const struct sip2_client *c);
/* The socket, for poll(); -1 when closed. */
int sip2_client_fd(const struct sip2_client *c);

/* 93/94; -EACCES when refused. */
int sip2_client_login(struct sip2_client *c);
/* 99/98; also adopts the ACS's retries allowed. */
int sip2_client_status(struct sip2_client *c, struct sip2_acs_status *st);

/* Send req (AY is set by the client: 0-9, wrapping) and return the
 * answer.  Resends on timeout or 96, asks for a resend (97) on a bad
 * checksum or unreadable answer, up to the retries allowed.  -ETIMEDOUT,
 * -EBADMSG, -ECONNRESET, -EIO: the connection should be dropped. */
int sip2_client_request(struct sip2_client *c, const struct sip2_msg *req,
			struct sip2_msg **resp);

/* For idle time: true when the connection has buffered bytes to read.
 * sip2_client_idle_read() consumes what the ACS sent unasked (nothing, in a
 * healthy session) and returns -ECONNRESET when it closed the connection. */
bool sip2_client_has_pending(const struct sip2_client *c);
int sip2_client_idle_read(struct sip2_client *c);

enum sip2_client_error sip2_client_error(const struct sip2_client *c);
const char *sip2_client_error_text(const struct sip2_client *c);
const struct sip2_client_stats *sip2_client_stats(const struct sip2_client *c);
const struct sip2_client_config *sip2_client_config(const struct sip2_client *c);
/* The last answer sip2_client_request() returned, as UTF-8 text without
 * the terminator (AY/AZ included), for logs and the journal; or NULL. */
const char *sip2_client_last_raw(const struct sip2_client *c);

/* ---- Probe: what `circctl upstream test` prints ---- */

struct sip2_probe_result {
	enum sip2_client_error error; /* SIP2_ERR_NONE: everything worked */
	char message[256];            /* the reason when error != NONE */
	bool connected, logged_in;
	struct sip2_acs_status status;
	uint64_t rtt_usec;            /* of the 99/98 exchange */
};

/* Connect, (TLS), 93, 99, close.  Returns 0 when the ACS answered 98,
 * else a negative errno with res->error/message saying what failed. */
int sip2_probe(const struct sip2_client_config *cfg, struct sip2_probe_result *res);

#endif
