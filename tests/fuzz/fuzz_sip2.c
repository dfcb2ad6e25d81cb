/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the SIP2 decoder and framing with whatever an ACS (or a network
 * fault) might send: every frame is decoded in UTF-8 and CP850, and what
 * decodes is re-encoded (which must not fail for a reason other than a
 * refused value) and decoded again.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip2/sip2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *frame, size_t len, struct sip2_charset *cs)
{
	struct sip2_msg *m = NULL;
	if (sip2_decode(frame, len, cs, &m) < 0)
		return;
	assert(m->seq >= -1 && m->seq <= 9);
	(void)sip2_msg_get(m, "AO");
	char *wire = NULL;
	size_t wire_len = 0;
	struct sip2_encode_opts o = { .charset = cs, .error_detection = true, .seq = 3 };
	int r = sip2_encode(m, &o, &wire, &wire_len);
	assert(r == 0 || r == -EINVAL);
	if (r == 0) {
		struct sip2_msg *m2 = NULL;
		r = sip2_decode(wire, wire_len, cs, &m2);
		assert(r == 0);
		assert(m2->checksum == SIP2_CKSUM_OK);
		assert(memcmp(m2->id, m->id, 3) == 0);
		sip2_msg_free(m2);
		free(wire);
	}
	sip2_msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip2_charset *utf8, *cp850;
	if (!utf8) {
		sip2_charset_new("UTF-8", &utf8);
		sip2_charset_new("CP850", &cp850);
	}
	const char *buf = (const char *)data;
	size_t off = 0, frame_len, consumed;
	while (off < size && sip2_frame_find(buf + off, size - off, &frame_len, &consumed) == 1) {
		one(buf + off, frame_len, utf8);
		one(buf + off, frame_len, cp850);
		off += consumed;
	}
	if (off < size) {
		one(buf + off, size - off, utf8);
		one(buf + off, size - off, cp850);
	}
	char d[SIP2_DATE_LEN + 1];
	if (size >= SIP2_DATE_LEN) {
		bool given;
		uint64_t t;
		memcpy(d, buf, SIP2_DATE_LEN);
		d[SIP2_DATE_LEN] = 0;
		(void)sip2_date_parse(d, &given, &t);
	}
	return 0;
}
