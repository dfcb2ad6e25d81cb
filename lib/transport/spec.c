/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* transport spec parsing: "serial:PATH:SPEED:FRAMING" and "tcp:HOST:PORT". */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport-internal.h"

static int parse_serial(const char *rest, struct transport_spec *s, char *reason, size_t rsize)
{
	/* PATH[:SPEED[:FRAMING]]; a path has no ':' (device nodes never do) */
	char buf[sizeof(s->path) + 32];
	size_t n = strlen(rest);
	char *speed, *framing, *end;

	if (n >= sizeof(s->path))
		return snprintf(reason, rsize, "serial path too long"), -ENAMETOOLONG;
	memcpy(buf, rest, n + 1);
	speed = strchr(buf, ':');
	if (speed)
		*speed++ = '\0';
	framing = speed ? strchr(speed, ':') : NULL;
	if (framing)
		*framing++ = '\0';
	if (!buf[0] || buf[0] != '/')
		return snprintf(reason, rsize, "serial: need an absolute device path"), -EINVAL;
	memcpy(s->path, buf, strlen(buf) + 1);
	s->speed = 38400; /* FEIG's default; H20800 §3 */
	if (speed && *speed) {
		errno = 0;
		unsigned long v = strtoul(speed, &end, 10);
		if (errno || *end || v == 0 || v > 4000000)
			return snprintf(reason, rsize, "serial: bad speed '%s'", speed), -EINVAL;
		s->speed = (unsigned)v;
	}
	s->parity = 'N';
	if (framing && *framing) {
		/* 8N1, 8E1, 8O1: eight data bits, one stop bit */
		if (strlen(framing) != 3 || framing[0] != '8' || framing[2] != '1' ||
		    !strchr("NEO", framing[1]))
			return snprintf(reason, rsize, "serial: framing '%s' is not 8N1/8E1/8O1",
					framing), -EINVAL;
		s->parity = framing[1];
	}
	return 0;
}

static int parse_tcp(const char *rest, struct transport_spec *s, char *reason, size_t rsize)
{
	const char *colon = strrchr(rest, ':');
	char *end;

	if (!colon || colon == rest || (size_t)(colon - rest) >= sizeof(s->host))
		return snprintf(reason, rsize, "tcp: need HOST:PORT"), -EINVAL;
	memcpy(s->host, rest, (size_t)(colon - rest));
	s->host[colon - rest] = '\0';
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port == 0 || port > 65535)
		return snprintf(reason, rsize, "tcp: bad port '%s'", colon + 1), -EINVAL;
	s->port = (unsigned)port;
	return 0;
}

int transport_spec_parse(const char *spec, struct transport_spec *s, char *reason, size_t rsize)
{
	memset(s, 0, sizeof(*s));
	if (!spec)
		return snprintf(reason, rsize, "no transport given"), -EINVAL;
	if (!strncmp(spec, "serial:", 7)) {
		s->kind = TRANSPORT_SERIAL;
		return parse_serial(spec + 7, s, reason, rsize);
	}
	if (!strncmp(spec, "tcp:", 4)) {
		s->kind = TRANSPORT_TCP;
		return parse_tcp(spec + 4, s, reason, rsize);
	}
	snprintf(reason, rsize, "'%s': expected serial:PATH:SPEED:FRAMING or tcp:HOST:PORT", spec);
	return -EINVAL;
}
