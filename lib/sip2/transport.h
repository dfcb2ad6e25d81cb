/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to lib/sip2: a TCP or TLS byte stream with deadlines
 * (monotonic microseconds).  See transport.c. */
#ifndef CIRCD_SIP2_TRANSPORT_H
#define CIRCD_SIP2_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sip2/client.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

struct transport {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	void (*heartbeat)(void *userdata);
	void *heartbeat_userdata;
	enum sip2_client_error error;
	char error_text[256];
};

int transport_connect(struct transport *t, const struct sip2_client_config *cfg);
void transport_close(struct transport *t);
bool transport_pending(const struct transport *t);
int transport_write(struct transport *t, const char *buf, size_t len, uint64_t deadline_usec);
ssize_t transport_read(struct transport *t, char *buf, size_t size, uint64_t deadline_usec);
void transport_fail(struct transport *t, enum sip2_client_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
