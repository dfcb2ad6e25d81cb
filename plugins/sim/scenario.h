/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim plugin's scenario language: parsing and validation only, no
 * playback (sim.c plays).  Separate so that the fuzz target and `circd -t`
 * style checks exercise exactly the code the plugin runs.
 *
 * A scenario is text, one step per line; '#' starts a comment, blank lines
 * are ignored:
 *
 *     <time> <action> key=value ...
 *     <time> repeat count=N interval=MS <action> key=value ...
 *
 * <time> is absolute milliseconds since the start ("1500") or relative to
 * the previous step ("+200").  The time of a repeat step is that of its
 * first repetition; a relative time after it counts from its last one.
 * Times may not go backwards.  Values may be double-quoted ("a b", with \"
 * and \\ escapes).  In a repeat step, %d, %Nd and %0Nd in any value become
 * the repetition index 0..N-1, and %% a single '%'.
 *
 * Actions and their keys (everything else is refused):
 *   tag-seen  uid=HEX [antenna=N] [afi=HH] [dsfid=HH] [eas=0|1] [mem=HEX]
 *             [block_size=N] [item=TEXT]
 *   tag-gone  uid=HEX [antenna=N]
 *   tag       as tag-seen, plus [dwell=MS] (default 500): tag-gone follows
 *   card      uid=HEX | barcode=TEXT  [antenna=N]
 *   drop      [antenna=N]
 *   gate-pass dir=in|out [antenna=N]
 *   sensor    name=TEXT value=FLOAT
 *   input     name=TEXT value=0|1
 *   fault     text=TEXT [duration=MS]   (health DEGRADED; OK again after
 *                                        duration, if given)
 *   offline   duration=MS               (health OFFLINE, nothing emitted)
 */
#ifndef CIRCD_SIM_SCENARIO_H
#define CIRCD_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/event.h>

enum scn_action_type {
	SCN_TAG_SEEN = 1,
	SCN_TAG_GONE,
	SCN_TAG, /* seen now, gone after dwell_ms */
	SCN_CARD,
	SCN_DROP,
	SCN_GATE_PASS,
	SCN_SENSOR,
	SCN_INPUT,
	SCN_FAULT,
	SCN_OFFLINE,
};

/* One action, resolved: ready to become an event.  Owns its strings. */
struct scn_action {
	enum scn_action_type type;
	uint8_t uid[CIRCD_UID_MAX];
	uint8_t uid_len;
	int32_t antenna;
	int16_t afi, dsfid; /* -1 = not given */
	int8_t eas;         /* -1 = not given */
	uint8_t direction;  /* enum circd_direction */
	uint8_t *mem;
	uint32_t mem_len;
	uint32_t block_size;
	char *item;         /* item= or barcode= */
	char *name;
	char *text;
	double value;
	uint64_t dwell_ms;    /* SCN_TAG */
	uint64_t duration_ms; /* SCN_OFFLINE, SCN_FAULT (0 = stays degraded) */
};

struct scn_arg {
	char *key;
	char *value; /* unquoted; may hold %d templates in a repeat step */
};

/* One line of the file.  Arguments are kept as text so that a repeat step
 * can be expanded per repetition; they were validated at load for the first
 * and last index, and expansion is deterministic, so playing cannot fail. */
struct scn_step {
	uint64_t at_ms;       /* absolute time of the first repetition */
	uint64_t count;       /* 1 unless repeat */
	uint64_t interval_ms; /* between repetitions */
	bool repeat;          /* a repeat step: values are %d templates */
	unsigned line;
	char *action;         /* "tag-seen", ... */
	struct scn_arg *args;
	size_t n_args;
};

struct scenario {
	struct scn_step *steps;
	size_t n_steps;
};

#define SCN_REPEAT_MAX 100000000ULL
#define SCN_TIME_MAX (1ULL << 40) /* ms; ~35 years, keeps usec arithmetic in range */

/* Parse a whole scenario.  On error returns -EINVAL (or -ENOMEM) and sets
 * *error to "<origin>:<line>: <reason>" (caller frees). */
int scenario_parse(const char *text, size_t len, const char *origin, struct scenario *out,
		   char **error);
/* Read and parse a file; I/O errors come back as "<path>: <strerror>". */
int scenario_load(const char *path, struct scenario *out, char **error);
void scenario_free(struct scenario *s);

/* Resolve repetition `index` of a step into an action. */
int scn_step_action(const struct scn_step *step, uint64_t index, struct scn_action *out,
		    char **error);

/* Parse one line without a time ("tag uid=... dwell=100"), as used by live
 * injection; `repeat` is refused here.  *error is a bare reason. */
int scn_parse_action_line(const char *line, struct scn_action *out, char **error);

void scn_action_clear(struct scn_action *a);

/* Internal to the parser (scn_action.c): build an action from its name and
 * key=value arguments, expanding %d templates with `index` when templated. */
int scn_build_action(const char *action, const struct scn_arg *args, size_t n_args,
		     bool templated, uint64_t index, struct scn_action *out, char **error);
/* Decimal digits only, at most max: 0, -EINVAL or -ERANGE. */
int scn_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
