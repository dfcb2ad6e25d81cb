/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared between config.c (file and structure) and options.c (schemas):
 * not part of the module's interface.
 */
#ifndef CIRCD_CONFIG_INTERNAL_H
#define CIRCD_CONFIG_INTERNAL_H

#include <stdarg.h>

#include "daemon/config.h"

void config_errors_addv(struct config_errors *errs, const char *file, int line, const char *fmt,
			va_list ap) __attribute__((format(printf, 4, 0)));
void config_options_free(struct config_options *opts);

#endif
