/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl tag ...`: decode, encode and check tag memory from the command
 * line.  argv[0] is "tag" (or whatever the caller names it), argv[1] the verb.
 * Exit codes: 0 ok / valid, 1 invalid or a check failed, 2 usage.
 */
#ifndef CIRCD_TAGS_TAG_CLI_H
#define CIRCD_TAGS_TAG_CLI_H

#include <stdio.h>

#include "tags/tag.h"

int tag_cli_main(int argc, char **argv, FILE *out, FILE *err);

/* Printing, shared with circctl's other commands. */
void tag_item_print_text(const struct tag_item *item, FILE *out);
void tag_item_print_json(const struct tag_item *item, FILE *out);
void tag_json_string(FILE *out, const char *s);

#endif
