/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared between the files of lib/transport; not part of its API. */
#ifndef CIRCD_TRANSPORT_INTERNAL_H
#define CIRCD_TRANSPORT_INTERNAL_H

#include "transport/transport.h"

enum transport_kind { TRANSPORT_SERIAL = 1, TRANSPORT_TCP };

struct transport_spec {
	enum transport_kind kind;
	char path[256];  /* serial */
	unsigned speed;  /* serial, baud */
	char parity;     /* serial: 'N', 'E', 'O' */
	char host[256];  /* tcp */
	unsigned port;   /* tcp */
};

struct transport {
	struct transport_spec spec;
	char *spec_text;
	int fd;
	char reason[TRANSPORT_REASON_MAX];
};

int transport_spec_parse(const char *spec, struct transport_spec *s, char *reason,
			 size_t reason_size);
/* Open the fd for t->spec into t->fd; on failure fill t->reason. */
int transport_serial_open(struct transport *t);
int transport_tcp_open(struct transport *t, int connect_timeout_ms);

#endif
