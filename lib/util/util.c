/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *in, uint8_t *out, size_t out_size)
{
	size_t n = 0;
	while (*in) {
		if (*in == ' ' || *in == ':' || *in == '\t' || *in == '\n') {
			in++;
			continue;
		}
		int hi = hex_nibble(in[0]);
		int lo = hi < 0 ? -1 : hex_nibble(in[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (n >= out_size)
			return -ENOBUFS;
		out[n++] = (uint8_t)(hi << 4 | lo);
		in += 2;
	}
	return (int)n;
}

static uint64_t clock_usec(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_realtime_usec(void) { return clock_usec(CLOCK_REALTIME); }
uint64_t now_monotonic_usec(void) { return clock_usec(CLOCK_MONOTONIC); }

void format_iso8601(uint64_t usec, char *out, size_t out_size)
{
	time_t secs = (time_t)(usec / USEC_PER_SEC);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, out_size, "%s.%03uZ", buf, (unsigned)(usec % USEC_PER_SEC / 1000));
}

static void *oom(void)
{
	fputs("circd: out of memory\n", stderr);
	abort();
}

char *xstrdup(const char *s)
{
	char *r = strdup(s ? s : "");
	return r ? r : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *xrealloc(void *p, size_t size)
{
	void *r = realloc(p, size ? size : 1);
	return r ? r : oom();
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? oom() : s;
}

int error_set(char **error, int r, const char *fmt, ...)
{
	if (!error)
		return r;
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(*error);
	*error = s;
	return r;
}

bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* xorshift64*: small, fast, good enough for jitter. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

uint64_t backoff_full_jitter_usec(uint64_t base_usec, uint64_t cap_usec, unsigned attempt,
				  uint64_t *rng_state)
{
	uint64_t ceiling = base_usec;
	for (unsigned i = 0; i < attempt && ceiling < cap_usec; i++)
		ceiling *= 2;
	if (ceiling > cap_usec)
		ceiling = cap_usec;
	return rng_next(rng_state) % (ceiling + 1);
}

int parse_duration_usec(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	double mult = 1e6;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1e6;
	else if (strcmp(end, "ms") == 0)
		mult = 1e3;
	else if (strcmp(end, "us") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60e6;
	else if (strcmp(end, "h") == 0)
		mult = 3600e6;
	else if (strcmp(end, "d") == 0)
		mult = 86400e6;
	else
		return -EINVAL;
	*out = (uint64_t)(v * mult);
	return 0;
}
