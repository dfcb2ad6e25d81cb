/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the ACR122U answer parsers with whatever comes up a bulk IN
 * endpoint: the input is one transfer, handed to the CCID parser, the APDU
 * splitter, the PN532 answer check and the InListPassiveTarget target
 * list parser, layer by layer as the plugin does, and also to each layer
 * directly (a noisy device may send any of them).  Whatever parses must
 * stay inside the input.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "acr122u_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void targets(const uint8_t *p, size_t n)
{
	struct acr_target_a t[ACR_MAX_TARGETS];
	size_t count = 0;

	if (acr_parse_targets_106a(p, n, t, ACR_MAX_TARGETS, &count) == 0) {
		assert(count <= ACR_MAX_TARGETS);
		for (size_t i = 0; i < count; i++) {
			assert(t[i].uid_len == 4 || t[i].uid_len == 7 || t[i].uid_len == 10);
			sink += t[i].uid[t[i].uid_len - 1] + t[i].ats_len;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acr_ccid_answer a;
	const uint8_t *body, *out;
	size_t body_len, out_len;
	uint16_t sw;

	if (acr_ccid_parse(data, size, &a) == 0) {
		assert(a.data + a.len == data + size);
		sink += acr_ccid_command_status(&a) + strlen(acr_ccid_error_text(a.error));
		if (acr_apdu_split(a.data, a.len, &body, &body_len, &sw) == 0) {
			assert(body_len + 2 == a.len);
			if (acr_pn532_answer(body, body_len, ACR_PN532_IN_LIST_PASSIVE_TARGET, &out,
					     &out_len) == 0) {
				assert(out + out_len == body + body_len);
				targets(out, out_len);
			}
		}
	}
	if (size >= 1 &&
	    acr_parse_pn532_exchange(data, size, data[size - 1], ACR_PN532_IN_LIST_PASSIVE_TARGET,
				     &out, &out_len) == 0) {
		assert(out >= data && out + out_len <= data + size);
		targets(out, out_len);
	}
	/* the lower layers on their own */
	targets(data, size);
	if (acr_apdu_split(data, size, &body, &body_len, &sw) == 0 &&
	    acr_pn532_answer(body, body_len, (uint8_t)(size ? data[0] : 0), &out, &out_len) == 0)
		sink += out_len;

	/* builders must not overrun whatever size they are given */
	uint8_t req[ACR_MSG_MAX];
	size_t cap = size < sizeof(req) ? size : sizeof(req);
	int n = acr_ccid_xfr_block(req, cap, 1, data, size);
	assert(n < 0 || (size_t)n <= cap);
	n = acr_pn532_apdu(req, cap, data, size);
	assert(n < 0 || (size_t)n <= cap);
	return 0;
}
