/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the report page (tools/report-html.c) with any JSON in place of
 * circd's "report-data" answer: it must draw something for every shape
 * (wrong types, missing keys, huge or negative counts, odd labels), and no
 * string from the input may come out as markup.  The page itself has no
 * element that starts with "<script", "<img", "<iframe" or "<a ", so their
 * appearance in the output can only be an escaping failure.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tools/circctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_tokener *tok = json_tokener_new();
	json_object *d = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (!d)
		return 0;

	/* The title is the input too, as text. */
	char *title = strndup((const char *)data, size < 200 ? size : 200);
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	if (!f || !title)
		abort();
	report_html_write(f, d, title);
	if (fclose(f) != 0)
		abort();
	static const char *const markup[] = { "<script", "<img", "<iframe", "<a " };
	for (size_t i = 0; i < sizeof(markup) / sizeof(markup[0]); i++)
		if (memmem(page, len, markup[i], strlen(markup[i])))
			abort();
	if (!memmem(page, len, "</html>\n", 8))
		abort();
	free(page);
	free(title);
	json_object_put(d);
	return 0;
}
