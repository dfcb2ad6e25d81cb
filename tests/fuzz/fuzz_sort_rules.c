/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target for the bookdrop's sort rules and bin table (the `sort` and
 * `bins` options): whatever the text, parsing ends in a chain or an error
 * message, and a parsed chain decides every set of facts without a crash.
 *
 * Input: "RULES\0BINS\0FIELD\0FIELD..." -- the rules and bins as the list
 * options arrive ('\n'-joined), then up to seven field values (CV, CT, CL,
 * CR, CS, CK, AQ) to decide on.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sort_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	const char *part[9] = { "" };
	size_t n = 0;
	for (char *p = text; n < 9;) {
		part[n++] = p;
		size_t len = strlen(p);
		if (p + len >= text + size)
			break;
		p += len + 1;
	}
	for (size_t i = n; i < 9; i++)
		part[i] = "";

	struct sort_chain c;
	struct sort_bins b;
	char err[256];
	int rc = sort_chain_parse(part[0], &c, err, sizeof(err));
	int rb = sort_bins_parse(part[1], &b, err, sizeof(err));
	if (rc == 0 && rb == 0) {
		sort_chain_check_bins(&c, &b, err, sizeof(err));
		struct sort_facts f = { part[2], part[3], part[4], part[5], part[6], part[7], part[8] };
		const char *bin = NULL;
		int k = sort_chain_decide(&c, &b, &f, &bin);
		if (k >= 0 && (!bin || (size_t)k >= c.n))
			abort(); /* a match always names a bin and a rule */
		unsigned pos;
		if (bin && bin[0])
			(void)sort_bins_number(&b, bin, &pos);
		(void)sort_chain_default_bin(&c);
	}
	if (rc == 0)
		sort_chain_free(&c);
	if (rb == 0)
		sort_bins_free(&b);
	(void)sort_glob_match(part[0], part[1]);
	free(text);
	return 0;
}
