/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIP2 codec speed: decode and encode a typical checkin answer, next to a
 * reference measured in the same run: one pass over the same bytes
 * (checksum only), the least any decoder must do.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip2/sip2.h"
#include "util/util.h"

static const char answer[] =
	"101YNY20261128    181500AOmain|AB31234000123456|AQAdult fiction|AJThe title of a "
	"book, with a subtitle|CLB1|CK001|CRADULT|CS863 CAL|CV01|CYp123456|DAAda Reader|"
	"AFHold for patron|AGprint line|ZZunknown|AY2AZ";

int main(void)
{
	enum { N = 200000 };
	char wire[512];
	char hex[5];
	snprintf(wire, sizeof(wire), "%s", answer);
	sip2_checksum_format(sip2_checksum(wire, strlen(wire)), hex);
	strcat(wire, hex);
	strcat(wire, "\r");
	size_t len = strlen(wire);

	uint64_t t0 = now_monotonic_usec();
	unsigned sink = 0;
	for (int i = 0; i < N; i++) {
		sink += sip2_checksum(wire, len);
	}
	uint64_t t_ref = now_monotonic_usec() - t0;

	t0 = now_monotonic_usec();
	for (int i = 0; i < N; i++) {
		struct sip2_msg *m = NULL;
		if (sip2_decode(wire, len, NULL, &m) < 0)
			abort();
		sink += (unsigned)m->n_fields;
		sip2_msg_free(m);
	}
	uint64_t t_dec = now_monotonic_usec() - t0;

	struct sip2_msg *m = NULL;
	sip2_decode(wire, len, NULL, &m);
	struct sip2_encode_opts o = { .error_detection = true, .seq = 2 };
	t0 = now_monotonic_usec();
	for (int i = 0; i < N; i++) {
		char *out = NULL;
		size_t out_len;
		if (sip2_encode(m, &o, &out, &out_len) < 0)
			abort();
		sink += (unsigned)out_len;
		free(out);
	}
	uint64_t t_enc = now_monotonic_usec() - t0;
	sip2_msg_free(m);

	printf("sip2 codec, %d x %zu-byte checkin answer (sink %u)\n", N, len, sink & 1);
	printf("  reference (checksum pass): %8.0f msg/s\n", N * 1e6 / (double)(t_ref ? t_ref : 1));
	printf("  decode:                    %8.0f msg/s\n", N * 1e6 / (double)t_dec);
	printf("  encode:                    %8.0f msg/s\n", N * 1e6 / (double)t_enc);
	return 0;
}
