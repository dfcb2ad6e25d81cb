/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Metrics: a small registry of counters, gauges and histograms, and the one
 * renderer of the Prometheus text exposition (format 0.0.4) that both
 * `circctl metrics` (control command "metrics") and the optional HTTP
 * listener (metrics_http.h) serve.
 *
 * Main thread only, like the rest of the core's state (core->metrics).
 *
 * A family is declared once (name, type, help, label names, buckets); a
 * series is created the first time a label combination is used.  A family
 * without any series is not rendered at all: metrics that only some
 * stations produce (circd_alarms_total, circd_returns_by_bin_total,
 * circd_gate_decision_seconds) appear once a station reports them.
 *
 * Adding a metric from a station is one call against a family that
 * metrics_new() already declares, label values in declaration order and a
 * NULL at the end:
 *
 *     metrics_count(core->metrics, "circd_alarms_total", st->name, NULL);
 *     metrics_count(core->metrics, "circd_returns_by_bin_total", st->name, bin, NULL);
 *     metrics_observe(core->metrics, "circd_gate_decision_seconds",
 *                     (double)(decided_usec - seen_usec) / 1e6, st->name, NULL);
 *
 * A new family is one metrics_declare() call (in metrics_new(), so that
 * its HELP text is written down next to the others).
 */
#ifndef CIRCD_METRICS_H
#define CIRCD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/* Bucket upper bounds (seconds) for latencies from 0.5 ms to 5 s; +Inf is
 * implicit.  Used by every latency histogram circd declares. */
#define METRICS_LATENCY_BUCKETS                                                               \
	{ 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 }
#define METRICS_MAX_LABELS 4
#define METRICS_MAX_BUCKETS 32

struct metrics;

/* An empty registry with circd's families declared (see metrics.c). */
struct metrics *metrics_new(void);
/* A registry with no families, for tests and other embedders. */
struct metrics *metrics_new_empty(void);
void metrics_free(struct metrics *m);

/* Declare a family.  label_names is NULL-terminated (NULL = no labels);
 * buckets (strictly increasing, finite) only for histograms.  Returns 0,
 * -EEXIST (already declared) or -EINVAL (bad name, too many labels or
 * buckets, buckets not increasing, a label called "le" on a histogram). */
int metrics_declare(struct metrics *m, const char *name, enum metrics_type type,
		    const char *help, const char *const *label_names, const double *buckets,
		    size_t n_buckets);

/* Counters and gauges: add v to the series with these label values
 * (NULL-terminated, in the declared order); metrics_set() replaces a
 * gauge's value.  Histograms: metrics_observe() counts one observation.
 * Each returns 0, -ENOENT (no such family), -EINVAL (wrong type, wrong
 * number of label values, a counter going down). */
int metrics_add(struct metrics *m, const char *name, double v, ...)
	__attribute__((sentinel));
int metrics_set(struct metrics *m, const char *name, double v, ...) __attribute__((sentinel));
int metrics_observe(struct metrics *m, const char *name, double v, ...)
	__attribute__((sentinel));
/* Create the series (at 0, or an empty histogram) when it does not exist. */
int metrics_touch(struct metrics *m, const char *name, ...) __attribute__((sentinel));
#define metrics_count(m, name, ...) metrics_add((m), (name), 1.0, __VA_ARGS__)

/* Latencies that end later, for a whole batch at once: remember a start
 * time (monotonic usec) now; metrics_pending_observe() observes end - start,
 * in seconds, for every start remembered since, and forgets them.  For
 * histograms without labels.  -ENOENT / -EINVAL as above. */
int metrics_pending_add(struct metrics *m, const char *name, uint64_t start_usec);
int metrics_pending_observe(struct metrics *m, const char *name, uint64_t end_usec);
void metrics_pending_drop(struct metrics *m, const char *name);

/* Drop every series of a family (gauges computed afresh at each scrape, so
 * that a device removed by a reload disappears). */
int metrics_reset(struct metrics *m, const char *name);

/* Current value of a counter/gauge series, or a histogram series' count;
 * -1 when there is no such series.  For tests and the core's own use. */
double metrics_value(struct metrics *m, const char *name, ...) __attribute__((sentinel));

/* Write every family that has series, in declaration order, in the text
 * exposition format 0.0.4.  Returns 0 or -EIO. */
int metrics_write(struct metrics *m, FILE *f);

/* The pieces of the format, for the writer and its tests. */
void metrics_write_escaped_label(FILE *f, const char *value); /* \ " and newline */
void metrics_write_escaped_help(FILE *f, const char *help);   /* \ and newline */
/* Shortest text that reads back as v; +Inf, -Inf, NaN as Prometheus spells them. */
void metrics_format_value(double v, char *buf, size_t size);

/* ---- the core's side (metrics_core.c) ----
 *
 * Each hook is one line where the core learns the fact; everything else
 * the exposition needs is read from the core's state at scrape time. */
struct core;
struct instance;

/* process_inbox(): a device event; arrival_usec is when emit() queued it. */
void metrics_on_event(struct core *core, struct instance *dev, unsigned type,
		      uint64_t arrival_usec);
/* process_inbox(): an upstream's answer to a transaction (status of
 * enum circd_txn_status). */
void metrics_on_answer(struct core *core, struct instance *up, uint32_t status);
/* handle_health(): before inst->health becomes h. */
void metrics_on_health(struct core *core, struct instance *inst, int h);
/* core_flush(): around journal_commit(); wrote = the journal was dirty,
 * r = what journal_commit() returned. */
void metrics_on_commit(struct core *core, uint64_t start_usec, bool wrote, int r);

/* The whole exposition (registry + the state read now) as malloc'd text. */
int metrics_render(struct core *core, char **text, size_t *len);

/* Start, move or stop the HTTP listener as core->cfg->metrics_listen says
 * (at start and after a reload).  A listener that cannot be bound is logged
 * and left off: circulation does not depend on metrics. */
void metrics_apply_config(struct core *core);
void metrics_stop(struct core *core);

#endif
