/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the self-check station's reading of an upstream's answer (the
 * fields_json of a 64 or a 12): whatever an ILS or a broken plugin sends,
 * the verdict is one of three and the reason is a terminated string.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selfcheck_patron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct selfcheck_patron p;
	if (selfcheck_patron_parse(text, &p) == 0) {
		char reason[256];
		enum selfcheck_verdict v = selfcheck_patron_verdict(&p, size & 1, reason, sizeof(reason));
		assert(v == SC_PATRON_OK || v == SC_PATRON_RENEW_ONLY || v == SC_PATRON_REFUSED);
		assert(strlen(reason) < sizeof(reason));
		json_object_put(selfcheck_patron_json(&p, "p"));
	}
	char why[64];
	(void)selfcheck_may_unsecure(text, why, sizeof(why));
	assert(strlen(why) < sizeof(why));
	free(text);
	return 0;
}
