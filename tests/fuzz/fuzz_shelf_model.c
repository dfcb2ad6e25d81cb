/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the shelf station's model (daemon/shelf_model.c).  Any bytes
 * as a `shelves` list must give shelves or reasons, never a crash or a
 * leak; every problem comes with its message.  The call-number comparison
 * must be an order on whatever it gets: antisymmetric and reflexive.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shelf_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size); /* stops at a NUL, as the config would */
	if (!text)
		return 0;

	struct shelf_model m;
	char **errors;
	size_t n = shelf_model_parse(text, &m, &errors);
	for (size_t i = 0; i < n; i++)
		if (!errors[i] || !errors[i][0])
			abort();
	for (size_t i = 0; i < m.n; i++) {
		const struct shelf_def *s = &m.v[i];
		if (!s->id || !s->rule_text || s->n_antennas == 0)
			abort();
		if (shelf_model_find(&m, s->device ? s->device : "x", s->antennas[0]) != s)
			abort();
		shelf_fit(s, text, text);
		for (size_t r = 0; r < s->n_ranges; r++)
			callno_in_range(s->ranges[r].from, &s->ranges[r]);
	}
	shelf_errors_free(errors, n);
	shelf_model_free(&m);

	/* the bytes as two call numbers */
	size_t half = strlen(text) / 2;
	char *a = strndup(text, half), *b = strdup(text + half);
	if (a && b) {
		if (callno_compare(a, a) != 0 || callno_compare(b, b) != 0)
			abort();
		if (sign(callno_compare(a, b)) != -sign(callno_compare(b, a)))
			abort();
		callno_has_prefix(a, b);
		callno_has_prefix(b, a);
	}
	free(a);
	free(b);
	free(text);
	return 0;
}
