/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control commands circctl uses (status, journal, export, stats, sim,
 * exceptions, reload, metrics), answered from the core's state and the
 * journal.  Wire format: daemon/control.h. */
#ifndef CIRCD_CTL_HANDLERS_H
#define CIRCD_CTL_HANDLERS_H

struct core;
void ctl_handlers_register(struct core *core);

/* "2026-11-28T18:00:00Z", "2026-11-28T18:00", "2026-11-28" (UTC) -> usec. */
int parse_iso8601_usec(const char *s, uint64_t *out);

#endif
