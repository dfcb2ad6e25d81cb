/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The byte stream under a SIP2 client: a non-blocking TCP socket, with or
 * without OpenSSL on top, and deadlines on every wait.  SIP2 itself has no
 * TLS (reference sip2.md "SIP2 over TLS in practice"): we verify the chain
 * against a CA file or the system store and the host name by default;
 * plain TCP remains for stunnel setups.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sip2/transport.h"
#include "util/util.h"

void transport_fail(struct transport *t, enum sip2_client_error e, const char *fmt, ...)
{
	va_list ap;
	t->error = e;
	va_start(ap, fmt);
	vsnprintf(t->error_text, sizeof(t->error_text), fmt, ap);
	va_end(ap);
}

static int remaining_ms(uint64_t deadline_usec)
{
	uint64_t now = now_monotonic_usec();
	if (now >= deadline_usec)
		return 0;
	uint64_t ms = (deadline_usec - now + 999) / 1000;
	return ms > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int)ms;
}

/* 1 ready, 0 timeout, -errno.  Waits in slices of a second so the
 * caller's heartbeat runs during long timeouts. */
static int wait_fd(struct transport *t, int fd, short events, uint64_t deadline_usec)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int ms = remaining_ms(deadline_usec);
		int slice = ms > 1000 ? 1000 : ms;
		int r = poll(&p, 1, slice);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0)
			return 1;
		if (slice == ms)
			return 0;
		if (t->heartbeat)
			t->heartbeat(t->heartbeat_userdata);
	}
}

static int connect_one(struct transport *t, const struct addrinfo *ai, uint64_t deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0)
		return -errno;
	int one = 1;
	/* one small message at a time, each waiting for its answer */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = wait_fd(t, fd, POLLOUT, deadline);
	if (r <= 0) {
		close(fd);
		return r == 0 ? -ETIMEDOUT : r;
	}
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		close(fd);
		return err ? -err : -EIO;
	}
	t->fd = fd;
	return 0;
}

static void ssl_errors(char *buf, size_t size)
{
	unsigned long e;
	size_t used = 0;
	buf[0] = 0;
	while ((e = ERR_get_error()) != 0 && used + 2 < size) {
		if (used)
			buf[used++] = ';', buf[used++] = ' ', buf[used] = 0;
		ERR_error_string_n(e, buf + used, size - used);
		used = strlen(buf);
	}
}

static int tls_setup(struct transport *t, const struct sip2_client_config *cfg)
{
	char why[200];
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	int ok = cfg->tls_ca_file && *cfg->tls_ca_file
			 ? SSL_CTX_load_verify_locations(t->ctx, cfg->tls_ca_file, NULL)
			 : SSL_CTX_set_default_verify_paths(t->ctx);
	if (ok != 1) {
		ssl_errors(why, sizeof(why));
		transport_fail(t, SIP2_ERR_CONFIG, "cannot load CA %s: %s",
			       cfg->tls_ca_file ? cfg->tls_ca_file : "(system)", why);
		return -EINVAL;
	}
	if (cfg->tls_cert_file && *cfg->tls_cert_file) {
		const char *key = cfg->tls_key_file && *cfg->tls_key_file ? cfg->tls_key_file
									   : cfg->tls_cert_file;
		if (SSL_CTX_use_certificate_chain_file(t->ctx, cfg->tls_cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(t->ctx) != 1) {
			ssl_errors(why, sizeof(why));
			transport_fail(t, SIP2_ERR_CONFIG, "client certificate %s: %s",
				       cfg->tls_cert_file, why);
			return -EINVAL;
		}
	}
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl)
		return -ENOMEM;
	SSL_set_fd(t->ssl, t->fd);
	const char *name = cfg->tls_server_name && *cfg->tls_server_name ? cfg->tls_server_name
									  : cfg->host;
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(t->ssl, name); /* SNI: never for addresses */
	if (cfg->tls_verify_hostname) {
		X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name)
			   : X509_VERIFY_PARAM_set1_host(param, name, 0);
		if (ok != 1) {
			transport_fail(t, SIP2_ERR_CONFIG, "cannot verify against name %s", name);
			return -EINVAL;
		}
	}
	return 0;
}

static int tls_handshake(struct transport *t, uint64_t deadline)
{
	for (;;) {
		ERR_clear_error();
		int r = SSL_connect(t->ssl);
		if (r == 1)
			return 0;
		int e = SSL_get_error(t->ssl, r);
		short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
		if (!ev)
			break;
		r = wait_fd(t, t->fd, ev, deadline);
		if (r == 0) {
			transport_fail(t, SIP2_ERR_TLS, "TLS handshake timed out");
			return -ETIMEDOUT;
		}
		if (r < 0)
			return r;
	}
	long v = SSL_get_verify_result(t->ssl);
	if (v != X509_V_OK) {
		transport_fail(t, SIP2_ERR_TLS_VERIFY, "TLS certificate not trusted: %s",
			       X509_verify_cert_error_string(v));
		return -EPERM;
	}
	char why[200];
	ssl_errors(why, sizeof(why));
	transport_fail(t, SIP2_ERR_TLS, "TLS handshake failed: %s", *why ? why : "closed by peer");
	return -ECONNRESET;
}

int transport_connect(struct transport *t, const struct sip2_client_config *cfg)
{
	transport_close(t);
	t->heartbeat = cfg->heartbeat;
	t->heartbeat_userdata = cfg->heartbeat_userdata;
	uint64_t deadline = now_monotonic_usec() + (uint64_t)cfg->connect_timeout_ms * 1000;
	char port[8];
	snprintf(port, sizeof(port), "%u", cfg->port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(cfg->host, port, &hints, &res);
	if (g != 0) {
		transport_fail(t, SIP2_ERR_DNS, "cannot resolve %s: %s", cfg->host, gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int r = -EHOSTUNREACH;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		r = connect_one(t, ai, deadline);
		if (r == 0)
			break;
	}
	freeaddrinfo(res);
	if (r < 0) {
		transport_fail(t, SIP2_ERR_CONNECT, "cannot connect to %s:%u: %s", cfg->host,
			       cfg->port, strerror(-r));
		return r;
	}
	if (cfg->tls) {
		r = tls_setup(t, cfg);
		if (r == 0)
			r = tls_handshake(t, deadline);
		if (r < 0) {
			transport_close(t);
			return r;
		}
	}
	t->error = SIP2_ERR_NONE;
	t->error_text[0] = 0;
	return 0;
}

void transport_close(struct transport *t)
{
	if (t->ssl) {
		SSL_shutdown(t->ssl); /* best effort close_notify; never wait */
		SSL_free(t->ssl);
		t->ssl = NULL;
	}
	if (t->ctx) {
		SSL_CTX_free(t->ctx);
		t->ctx = NULL;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

bool transport_pending(const struct transport *t)
{
	return t->ssl && SSL_pending(t->ssl) > 0;
}

int transport_write(struct transport *t, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		short ev = POLLOUT;
		if (t->ssl) {
			ERR_clear_error();
			int n = SSL_write(t->ssl, buf + off, (int)(len - off));
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			int e = SSL_get_error(t->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				ev = POLLIN;
			else if (e != SSL_ERROR_WANT_WRITE)
				return -ECONNRESET;
		} else {
			ssize_t n = send(t->fd, buf + off, len - off, MSG_NOSIGNAL);
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN)
				return -errno;
		}
		int r = wait_fd(t, t->fd, ev, deadline);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return r;
	}
	return 0;
}

/* One read of whatever is there, waiting until the deadline for the first
 * byte.  Returns bytes read, 0 on orderly close, -ETIMEDOUT, -errno. */
ssize_t transport_read(struct transport *t, char *buf, size_t size, uint64_t deadline)
{
	for (;;) {
		short ev = POLLIN;
		if (t->ssl) {
			ERR_clear_error();
			int n = SSL_read(t->ssl, buf, (int)size);
			if (n > 0)
				return n;
			int e = SSL_get_error(t->ssl, n);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_WANT_WRITE)
				ev = POLLOUT;
			else if (e != SSL_ERROR_WANT_READ)
				return e == SSL_ERROR_SYSCALL && errno == 0 ? 0 : -ECONNRESET;
		} else {
			ssize_t n = recv(t->fd, buf, size, 0);
			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
		}
		int r = wait_fd(t, t->fd, ev, deadline);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return r;
	}
}
