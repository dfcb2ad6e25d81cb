/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared bits of the tag tests: cmocka includes and hex helpers. */
#ifndef TEST_TAG_UTIL_H
#define TEST_TAG_UTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/util.h"

/* Decode hex (spaces allowed) into buf; fails the test on bad hex. */
static inline size_t unhex(const char *hex, uint8_t *buf, size_t size)
{
	int n = hex_decode(hex, buf, size);
	assert_true(n >= 0);
	return (size_t)n;
}

/* tiny deterministic PRNG for property tests (xorshift64*) */
static inline uint64_t test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

#endif
