/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by the daemon, plugins, circctl and tests:
 * cleanup attributes, hex conversion, time, string builders.
 */
#ifndef CIRCD_UTIL_H
#define CIRCD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL

/* __attribute__((cleanup)): every error path frees what it owns. */
static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Take ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/* Hex: lower-case output, NUL-terminated; out needs 2*len+1 bytes. */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Accepts upper/lower case, optional spaces or ':' between bytes.
 * Returns the number of bytes written, or -EINVAL / -ENOBUFS. */
int hex_decode(const char *in, uint8_t *out, size_t out_size);

uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);

/* ISO 8601 UTC with milliseconds: "2026-11-28T18:06:00.123Z"; out >= 32 bytes. */
void format_iso8601(uint64_t realtime_usec, char *out, size_t out_size);

/* strdup that aborts on OOM: allocation failure is not a recoverable state
 * for a daemon of this size (the kernel's OOM killer would act first). */
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool streq_ptr(const char *a, const char *b);

/* Replace *error (when error is non-NULL) with a formatted message and
 * return r: `return error_set(error, -EINVAL, "bad %s", x);`. */
int error_set(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Full-jitter exponential backoff (as fluent-bit's scheduler):
 * a random delay in [0, min(cap, base * 2^attempt)].  rng_state is the
 * caller's, so tests are repeatable. */
uint64_t backoff_full_jitter_usec(uint64_t base_usec, uint64_t cap_usec, unsigned attempt,
				  uint64_t *rng_state);

/* Parse "250ms", "5s", "2m", "1h", "3d" or a bare number of seconds. */
int parse_duration_usec(const char *s, uint64_t *out);

#endif
