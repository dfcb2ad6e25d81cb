/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookdrop station's sort rule chain and bin table: parsing (for
 * `circd -t` and the station) and the decision for one returned item.
 * Plain C, no daemon state: the unit test and the fuzz target link it alone.
 *
 * A chain is an ordered list of rules, one per string of the station's
 * `sort` option; the first rule that matches decides the bin:
 *
 *   hold -> BIN                 the ILS says: hold for a patron (CV 01 or 02)
 *   transit -> BIN              in transit (CV 04) or a destination given (CT)
 *   sort-bin                    the ILS's own sort bin (CL), when it is a known bin
 *   sort-bin PATTERNS -> BIN    the ILS's sort bin matches
 *   collection PATTERNS -> BIN  collection code (CR)
 *   call-number PATTERNS -> BIN call number (CS)
 *   media PATTERNS -> BIN       media type (CK)
 *   location PATTERNS -> BIN    permanent location (AQ)
 *   default -> BIN              always (must be last)
 *
 * PATTERNS: one or more comma-separated globs ('*' any run, '?' one
 * character), compared case-insensitively; an absent or empty field never
 * matches.  BIN: a bin name ([A-Za-z0-9_.-], up to 31 characters).
 *
 * Bins: the sorter is told a position number.  A bin named by a decimal
 * number is that position; other names get theirs from the `bins` option,
 * one "NAME = NUMBER" string each (NUMBER 0..65535).
 */
#ifndef CIRCD_SORT_RULES_H
#define CIRCD_SORT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#define SORT_BIN_NAME_MAX 32

enum sort_cond {
	SORT_HOLD = 0,
	SORT_TRANSIT,
	SORT_SORT_BIN,
	SORT_COLLECTION,
	SORT_CALL_NUMBER,
	SORT_MEDIA,
	SORT_LOCATION,
	SORT_DEFAULT,
};

struct sort_rule {
	enum sort_cond cond;
	char **patterns;              /* field rules: at least one */
	size_t n_patterns;
	char bin[SORT_BIN_NAME_MAX]; /* "" = the ILS's bin (bare sort-bin) */
};

struct sort_chain {
	struct sort_rule *rules;
	size_t n;
};

struct sort_bin {
	char name[SORT_BIN_NAME_MAX];
	unsigned number;
};

struct sort_bins {
	struct sort_bin *v;
	size_t n;
};

/* What the ILS said about the item (NULL or "" = not said). */
struct sort_facts {
	const char *alert_type;  /* CV */
	const char *destination; /* CT */
	const char *sort_bin;    /* CL */
	const char *collection;  /* CR */
	const char *call_number; /* CS */
	const char *media;       /* CK */
	const char *location;    /* AQ */
};

/* text: the rules, one per line ('\n'-separated, as a list option arrives).
 * Returns 0, or -EINVAL with err ("rule N \"...\": reason").  out is left
 * empty on failure. */
int sort_chain_parse(const char *text, struct sort_chain *out, char *err, size_t err_size);
void sort_chain_free(struct sort_chain *c);

/* The first rule that matches: its index, with *bin its bin (the ILS's for
 * a bare sort-bin), or -1 when none does.  bins decides whether the ILS's
 * bin is one this sorter knows (an unknown one falls through). */
int sort_chain_decide(const struct sort_chain *c, const struct sort_bins *bins,
		      const struct sort_facts *f, const char **bin);
/* The bin of the chain's `default` rule, or NULL. */
const char *sort_chain_default_bin(const struct sort_chain *c);

/* "hold", "transit", "sort-bin", "collection", ... */
const char *sort_cond_name(enum sort_cond c);

int sort_bins_parse(const char *text, struct sort_bins *out, char *err, size_t err_size);
void sort_bins_free(struct sort_bins *b);
/* The sorter position of a bin name: 0 and *number, or -ENOENT. */
int sort_bins_number(const struct sort_bins *b, const char *name, unsigned *number);
/* The name of the bin at position number (its `bins` name, else NULL). */
const char *sort_bins_name(const struct sort_bins *b, unsigned number);

/* Every bin the chain names has a number: 0, or -ENOENT with err. */
int sort_chain_check_bins(const struct sort_chain *c, const struct sort_bins *bins, char *err,
			  size_t err_size);

bool sort_bin_name_valid(const char *s);
/* Glob ('*', '?'), ASCII case-insensitive. */
bool sort_glob_match(const char *pattern, const char *s);

#endif
