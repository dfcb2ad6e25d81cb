/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the sim plugin's scenario parser.  Any bytes must give a
 * scenario or an error message, never a crash, a leak or a step that fails
 * to play: every parsed step is expanded as the player would.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario scn;
	char *error = NULL;

	if (scenario_parse((const char *)data, size, "fuzz", &scn, &error) == 0) {
		for (size_t i = 0; i < scn.n_steps; i++) {
			const struct scn_step *st = &scn.steps[i];
			uint64_t idx[] = { 0, st->count / 2, st->count - 1 };
			for (size_t j = 0; j < 3; j++) {
				struct scn_action a;
				char *why = NULL;
				/* validated at load: playing a step cannot fail */
				if (scn_step_action(st, idx[j], &a, &why) < 0)
					abort();
				scn_action_clear(&a);
			}
		}
		scenario_free(&scn);
	} else if (!error) {
		abort(); /* an error always comes with its reason */
	}
	free(error);

	/* The same bytes as one injected line. */
	if (size < 4096) {
		char *line = strndup((const char *)data, size);
		struct scn_action a;
		if (line && scn_parse_action_line(line, &a, &error) == 0)
			scn_action_clear(&a);
		free(error);
		free(line);
	}
	return 0;
}
