/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shelf station's model of the stacks: which reader antenna reads which
 * shelf, and what belongs on it (call-number ranges, home locations).  Pure
 * parsing and comparison, no daemon state: `circd -t`, the station, the
 * unit tests and the fuzz target run exactly this code.
 *
 * One shelf per string of the station's `shelves` list:
 *
 *     ID [device=NAME] antenna=N[,N...] [call=RANGE[,RANGE...]] [location=CODE[,CODE...]]
 *
 *   ID        1-32 of A-Z a-z 0-9 . _ - (unique in the station)
 *   device    which of the station's devices (default: any of them)
 *   antenna   0-255; 0 is a single-antenna reader.  No two shelves share a
 *             (device, antenna).
 *   call      FROM..TO, or FROM-TO when the range holds exactly one '-', or
 *             one call number (= everything filed under it).  Inclusive;
 *             TO also covers what is filed under it ("200-399" holds
 *             "399.7 SMI").  Values with spaces are double-quoted:
 *             call="FIC A..FIC MZ".
 *   location  home (permanent) location codes, compared without case.
 * Keys may repeat (their lists add up).  A shelf with neither call nor
 * location takes any item.  An item belongs when every rule the shelf has
 * holds: its call number is in one of the ranges, its home location is one
 * of the codes.
 */
#ifndef CIRCD_SHELF_MODEL_H
#define CIRCD_SHELF_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHELF_ID_MAX 32
#define SHELF_ANTENNAS_MAX 16
#define SHELF_RULES_MAX 32 /* call ranges, and location codes, per shelf */

struct callno_range {
	char *from, *to;
};

struct shelf_def {
	char *id;
	char *device; /* NULL: any device of the station */
	int32_t antennas[SHELF_ANTENNAS_MAX];
	size_t n_antennas;
	struct callno_range ranges[SHELF_RULES_MAX];
	size_t n_ranges;
	char *locations[SHELF_RULES_MAX];
	size_t n_locations;
	char *rule_text; /* the rules as written, for notes and reports */
};

struct shelf_model {
	struct shelf_def *v;
	size_t n;
};

/*
 * Call numbers in filing order, Dewey and LC alike: runs of digits compare
 * as numbers ("9" < "76"), digits after a decimal point or in a cutter
 * (".C15", "SMI2" after a space) as decimal fractions (".15" < ".2"),
 * letters without case; spaces and punctuation separate elements, and
 * "nothing before something": "823" < "823 SMI" < "823.9".  Returns < 0,
 * 0 or > 0.
 */
int callno_compare(const char *a, const char *b);
/* Whether c is filed under prefix ("399.7 SMI" under "399", "FIC MOR"
 * under "FIC M"): prefix's elements begin c's, the last one may be
 * shortened unless it is a whole number. */
bool callno_has_prefix(const char *c, const char *prefix);
bool callno_in_range(const char *c, const struct callno_range *r);

/* One shelf string.  0, or -EINVAL with *error (malloc'd) saying why. */
int shelf_parse(const char *spec, struct shelf_def *out, char **error);
void shelf_def_clear(struct shelf_def *s);

/* The whole list ('\n'-joined, as CIRCD_OPT_LIST gives it).  Good shelves
 * land in out (also when others are bad); each problem is one malloc'd
 * message "shelf N (\"ID\"): reason" in *errors.  Returns the number of
 * problems (0 = the model is good).  Checks across shelves: unique ids, no
 * (device, antenna) read by two shelves. */
size_t shelf_model_parse(const char *text, struct shelf_model *out, char ***errors);
void shelf_model_free(struct shelf_model *m);
void shelf_errors_free(char **errors, size_t n);

/* The shelf that (device, antenna) reads, or NULL. */
const struct shelf_def *shelf_model_find(const struct shelf_model *m, const char *device,
					 int32_t antenna);

enum shelf_fit {
	SHELF_FIT_BELONGS,
	SHELF_FIT_MISPLACED, /* a rule the shelf has is known to fail */
	SHELF_FIT_UNKNOWN,   /* what a rule needs (call number, home) is not known */
};
/* call_number / home_location may be NULL or "" (unknown). */
enum shelf_fit shelf_fit(const struct shelf_def *s, const char *call_number,
			 const char *home_location);
const char *shelf_fit_name(enum shelf_fit f);

#endif
