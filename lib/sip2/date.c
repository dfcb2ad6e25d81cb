/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIP2 2.00 p.7 dates: 18 characters YYYYMMDDZZZZHHMMSS.  ZZZZ is four
 * blanks for the ACS's local time, or "   Z" for UTC.  A date of 18 blanks
 * means "not given" (e.g. a 09 return date when the SC does not know it).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sip2/sip2.h"

void sip2_date_format(uint64_t realtime_usec, bool utc, char out[SIP2_DATE_LEN + 1])
{
	time_t t = (time_t)(realtime_usec / 1000000);
	struct tm tm;
	if (utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	/* years beyond 9999 cannot be written in 4 digits: clamp */
	int year = tm.tm_year + 1900;
	if (year > 9999)
		year = 9999;
	if (year < 0)
		year = 0;
	/* each value is bounded, the modulo only tells the compiler so */
	snprintf(out, SIP2_DATE_LEN + 1, "%04u%02u%02u%s%02u%02u%02u", (unsigned)year % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
		 utc ? "   Z" : "    ", (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int sip2_date_parse(const char *s, bool *given, uint64_t *realtime_usec)
{
	if (strnlen(s, SIP2_DATE_LEN) < SIP2_DATE_LEN)
		return -EINVAL;
	if (memcmp(s, "                  ", SIP2_DATE_LEN) == 0) {
		*given = false;
		*realtime_usec = 0;
		return 0;
	}
	bool utc;
	if (memcmp(s + 8, "    ", 4) == 0)
		utc = false;
	else if (memcmp(s + 8, "   Z", 4) == 0)
		utc = true;
	else
		return -EINVAL;
	int y, mo, d, h, mi, se;
	if (digits(s, 4, &y) < 0 || digits(s + 4, 2, &mo) < 0 || digits(s + 6, 2, &d) < 0 ||
	    digits(s + 12, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 || digits(s + 16, 2, &se) < 0)
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = se, .tm_isdst = -1 };
	time_t t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*given = true;
	*realtime_usec = (uint64_t)t * 1000000u;
	return 0;
}
