/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The metrics registry and the Prometheus text exposition, format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/):
 *
 *   # HELP <name> <help, with \ and newline escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{<label>="<value, with \ " and newline escaped>",...} <value>
 *
 * Histograms are rendered as cumulative <name>_bucket{...,le="<bound>"}
 * lines ending with le="+Inf" (which equals <name>_count), then <name>_sum
 * and <name>_count.  Internally each bucket holds only its own
 * observations; the sums are made while writing.
 *
 * Series are few (devices x event types, upstreams x states): a linear
 * search with a hash of the label values in front of the strcmp()s is fast
 * enough for the per-event counters.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util/util.h"

struct series {
	char *values[METRICS_MAX_LABELS];
	uint64_t hash;
	double value;                 /* counter, gauge */
	uint64_t *bucket_counts;      /* histogram: n_buckets + 1 (the last is +Inf only) */
	double sum;
	uint64_t count;
};

struct family {
	char *name;
	char *help;
	enum metrics_type type;
	char *labels[METRICS_MAX_LABELS];
	size_t n_labels;
	double buckets[METRICS_MAX_BUCKETS];
	size_t n_buckets;
	struct series *series;
	size_t n_series, cap_series;
	uint64_t *pending; /* start times, metrics_pending_add() */
	size_t n_pending, cap_pending;
};

struct metrics {
	struct family *families;
	size_t n_families;
};

/* ---- circd's families ---- */

static const double latency_buckets[] = METRICS_LATENCY_BUCKETS;

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct metrics *metrics_new(void)
{
	struct metrics *m = metrics_new_empty();
	const struct {
		const char *name;
		enum metrics_type type;
		const char *const *labels;
		const char *help;
	} decl[] = {
		{ "circd_events_total", METRICS_COUNTER, L("device", "type"),
		  "Observations received from devices, by device and event type." },
		{ "circd_transactions_total", METRICS_COUNTER, L("station", "kind"),
		  "Transactions journaled since start, by station and kind." },
		{ "circd_duplicates_total", METRICS_COUNTER, NULL,
		  "Re-delivered device events dropped at the door (already journaled)." },
		{ "circd_deliveries", METRICS_GAUGE, L("upstream", "state"),
		  "Deliveries in the journal per upstream that are open (pending, inflight) or "
		  "exceptions (rejected, dead)." },
		{ "circd_deliveries_done_total", METRICS_COUNTER, L("upstream"),
		  "Deliveries answered OK (done) since start." },
		{ "circd_backlog", METRICS_GAUGE, L("upstream"),
		  "Deliveries not yet answered (pending + inflight) per upstream." },
		{ "circd_backlog_oldest_seconds", METRICS_GAUGE, L("upstream"),
		  "Age of the oldest unanswered delivery per upstream (0 when none)." },
		{ "circd_upstream_up", METRICS_GAUGE, L("upstream"),
		  "1 when the upstream is up: not offline, not paused, its last answer not a "
		  "transient failure." },
		{ "circd_upstream_retries_total", METRICS_COUNTER, L("upstream"),
		  "Transient failures answered by the upstream (RETRY or NOT_SENT)." },
		{ "circd_upstream_reconnects_total", METRICS_COUNTER, L("upstream"),
		  "Times the upstream came back to ok after being offline or failed." },
		{ "circd_device_up", METRICS_GAUGE, L("device"),
		  "1 when the device's health is ok, 0 otherwise." },
		{ "circd_device_health", METRICS_GAUGE, L("device", "state"),
		  "1 for the device's current health state, 0 for the others." },
		{ "circd_device_errors_total", METRICS_COUNTER, L("device", "kind"),
		  "Faults on the link to a device as its plugin counts them: bad_frame (did "
		  "not parse), timeout (no answer in time), device_error (the device answered "
		  "with an error)." },
		{ "circd_device_reconnects_total", METRICS_COUNTER, L("device"),
		  "Times the plugin opened the link to a device again after losing it." },
		{ "circd_journal_commits_total", METRICS_COUNTER, NULL,
		  "Journal write transactions committed (group commits)." },
		{ "circd_journal_commit_seconds", METRICS_HISTOGRAM, NULL,
		  "Duration of a journal commit (fsync included) and its after-commit actions." },
		{ "circd_event_to_commit_seconds", METRICS_HISTOGRAM, NULL,
		  "From a device event's arrival in the core's inbox to the commit of the batch "
		  "that handled it." },
		{ "circd_gate_decision_seconds", METRICS_HISTOGRAM, L("station"),
		  "From a tag entering a gate's field to the gate's alarm decision." },
		{ "circd_alarms_total", METRICS_COUNTER, L("station"),
		  "Gate alarms raised, by station." },
		{ "circd_gate_passes_total", METRICS_COUNTER, L("station", "direction"),
		  "People passing a gate's beams, by station and direction (in, out, unknown)." },
		{ "circd_returns_by_bin_total", METRICS_COUNTER, L("station", "bin"),
		  "Returns sorted into each bin, by bookdrop station." },
		{ "circd_start_time_seconds", METRICS_GAUGE, NULL,
		  "Start time of the daemon since the Unix epoch." },
	};
	for (size_t i = 0; i < ARRAY_SIZE(decl); i++) {
		bool hist = decl[i].type == METRICS_HISTOGRAM;
		int r = metrics_declare(m, decl[i].name, decl[i].type, decl[i].help, decl[i].labels,
					hist ? latency_buckets : NULL,
					hist ? ARRAY_SIZE(latency_buckets) : 0);
		if (r < 0)
			abort(); /* a programming error in the table above */
	}
	return m;
}

#undef L

/* ---- registry ---- */

struct metrics *metrics_new_empty(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

static void series_clear(struct series *s)
{
	for (size_t i = 0; i < METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free(s->bucket_counts);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_families; i++) {
		struct family *f = &m->families[i];
		for (size_t k = 0; k < f->n_series; k++)
			series_clear(&f->series[k]);
		free(f->series);
		free(f->pending);
		for (size_t k = 0; k < f->n_labels; k++)
			free(f->labels[k]);
		free(f->name);
		free(f->help);
	}
	free(m->families);
	free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, without ':' for labels. */
static bool name_valid(const char *s, bool colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
			return false;
	return true;
}

static struct family *family_find(struct metrics *m, const char *name)
{
	for (size_t i = 0; i < m->n_families; i++)
		if (strcmp(m->families[i].name, name) == 0)
			return &m->families[i];
	return NULL;
}

int metrics_declare(struct metrics *m, const char *name, enum metrics_type type,
		    const char *help, const char *const *label_names, const double *buckets,
		    size_t n_buckets)
{
	if (!name_valid(name, true))
		return -EINVAL;
	if (family_find(m, name))
		return -EEXIST;
	size_t n_labels = 0;
	for (; label_names && label_names[n_labels]; n_labels++) {
		const char *l = label_names[n_labels];
		if (n_labels == METRICS_MAX_LABELS || !name_valid(l, false) ||
		    strncmp(l, "__", 2) == 0 || (type == METRICS_HISTOGRAM && strcmp(l, "le") == 0))
			return -EINVAL;
	}
	if (type == METRICS_HISTOGRAM) {
		if (n_buckets == 0 || n_buckets > METRICS_MAX_BUCKETS)
			return -EINVAL;
		for (size_t i = 0; i < n_buckets; i++)
			if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
				return -EINVAL;
	} else if (n_buckets) {
		return -EINVAL;
	}
	m->families = xrealloc(m->families, (m->n_families + 1) * sizeof(*m->families));
	struct family *f = &m->families[m->n_families++];
	*f = (struct family){ .name = xstrdup(name), .help = xstrdup(help ? help : ""),
			      .type = type, .n_labels = n_labels, .n_buckets = n_buckets };
	for (size_t i = 0; i < n_labels; i++)
		f->labels[i] = xstrdup(label_names[i]);
	if (n_buckets)
		memcpy(f->buckets, buckets, n_buckets * sizeof(*buckets));
	return 0;
}

/* FNV-1a over the values, each with its terminating NUL. */
static uint64_t values_hash(const char *const *values, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		for (const char *p = values[i];; p++) {
			h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
			if (!*p)
				break;
		}
	return h;
}

/* The series for the label values in ap (NULL-terminated); created when
 * new.  NULL when the count of values is not the family's. */
static struct series *series_get(struct family *f, va_list ap)
{
	const char *values[METRICS_MAX_LABELS];
	size_t n = 0;
	const char *v;
	while ((v = va_arg(ap, const char *))) {
		if (n == f->n_labels)
			return NULL;
		values[n++] = v;
	}
	if (n != f->n_labels)
		return NULL;
	uint64_t h = values_hash(values, n);
	for (size_t i = 0; i < f->n_series; i++) {
		struct series *s = &f->series[i];
		if (s->hash != h)
			continue;
		bool same = true;
		for (size_t k = 0; k < n && same; k++)
			same = strcmp(s->values[k], values[k]) == 0;
		if (same)
			return s;
	}
	if (f->n_series == f->cap_series) {
		f->cap_series = f->cap_series ? 2 * f->cap_series : 8;
		f->series = xrealloc(f->series, f->cap_series * sizeof(*f->series));
	}
	struct series *s = &f->series[f->n_series++];
	*s = (struct series){ .hash = h };
	for (size_t k = 0; k < n; k++)
		s->values[k] = xstrdup(values[k]);
	if (f->type == METRICS_HISTOGRAM)
		s->bucket_counts = xcalloc(f->n_buckets + 1, sizeof(*s->bucket_counts));
	return s;
}

enum op { OP_ADD, OP_SET, OP_OBSERVE, OP_TOUCH };

static int update(struct metrics *m, const char *name, enum op op, double v, va_list ap)
{
	struct family *f = family_find(m, name);
	if (!f)
		return -ENOENT;
	if ((op != OP_TOUCH && (op == OP_OBSERVE) != (f->type == METRICS_HISTOGRAM)) ||
	    (op == OP_SET && f->type != METRICS_GAUGE) ||
	    (op == OP_ADD && f->type == METRICS_COUNTER && !(v >= 0)))
		return -EINVAL;
	struct series *s = series_get(f, ap);
	if (!s)
		return -EINVAL;
	switch (op) {
	case OP_TOUCH:
		break;
	case OP_ADD:
		s->value += v;
		break;
	case OP_SET:
		s->value = v;
		break;
	case OP_OBSERVE: {
		/* Bucket i counts le=buckets[i]: the first bound v is not above. */
		size_t i = 0;
		while (i < f->n_buckets && !(v <= f->buckets[i]))
			i++;
		s->bucket_counts[i]++;
		s->sum += v;
		s->count++;
		break;
	}
	}
	return 0;
}

int metrics_add(struct metrics *m, const char *name, double v, ...)
{
	va_list ap;
	va_start(ap, v);
	int r = update(m, name, OP_ADD, v, ap);
	va_end(ap);
	return r;
}

int metrics_touch(struct metrics *m, const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	int r = update(m, name, OP_TOUCH, 0, ap);
	va_end(ap);
	return r;
}

int metrics_set(struct metrics *m, const char *name, double v, ...)
{
	va_list ap;
	va_start(ap, v);
	int r = update(m, name, OP_SET, v, ap);
	va_end(ap);
	return r;
}

int metrics_observe(struct metrics *m, const char *name, double v, ...)
{
	va_list ap;
	va_start(ap, v);
	int r = update(m, name, OP_OBSERVE, v, ap);
	va_end(ap);
	return r;
}

static struct family *pending_family(struct metrics *m, const char *name, int *r)
{
	struct family *f = family_find(m, name);
	*r = !f ? -ENOENT : f->type != METRICS_HISTOGRAM || f->n_labels ? -EINVAL : 0;
	return *r ? NULL : f;
}

int metrics_pending_add(struct metrics *m, const char *name, uint64_t start_usec)
{
	int r;
	struct family *f = pending_family(m, name, &r);
	if (!f)
		return r;
	if (f->n_pending == f->cap_pending) {
		f->cap_pending = f->cap_pending ? 2 * f->cap_pending : 256;
		f->pending = xrealloc(f->pending, f->cap_pending * sizeof(*f->pending));
	}
	f->pending[f->n_pending++] = start_usec;
	return 0;
}

static int observe_unlabelled(struct metrics *m, const char *name, double v, ...)
{
	va_list ap;
	va_start(ap, v);
	int r = update(m, name, OP_OBSERVE, v, ap);
	va_end(ap);
	return r;
}

int metrics_pending_observe(struct metrics *m, const char *name, uint64_t end_usec)
{
	int r;
	struct family *f = pending_family(m, name, &r);
	if (!f)
		return r;
	for (size_t i = 0; i < f->n_pending; i++) {
		uint64_t start = f->pending[i];
		observe_unlabelled(m, name, end_usec > start ? (double)(end_usec - start) / 1e6 : 0.0,
				   NULL);
	}
	f->n_pending = 0;
	return 0;
}

void metrics_pending_drop(struct metrics *m, const char *name)
{
	int r;
	struct family *f = pending_family(m, name, &r);
	if (f)
		f->n_pending = 0;
}

int metrics_reset(struct metrics *m, const char *name)
{
	struct family *f = family_find(m, name);
	if (!f)
		return -ENOENT;
	for (size_t k = 0; k < f->n_series; k++)
		series_clear(&f->series[k]);
	f->n_series = 0;
	return 0;
}

double metrics_value(struct metrics *m, const char *name, ...)
{
	struct family *f = family_find(m, name);
	if (!f)
		return -1;
	/* Look only: don't create the series by asking about it. */
	size_t before = f->n_series;
	va_list ap;
	va_start(ap, name);
	struct series *s = series_get(f, ap);
	va_end(ap);
	if (!s)
		return -1;
	if (f->n_series > before) {
		series_clear(s);
		f->n_series--;
		return -1;
	}
	return f->type == METRICS_HISTOGRAM ? (double)s->count : s->value;
}

/* ---- writing ---- */

void metrics_format_value(double v, char *buf, size_t size)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, size, "%.0f", v);
		return;
	}
	/* The shortest of %.15g and %.17g that reads back as v. */
	snprintf(buf, size, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, size, "%.17g", v);
}

void metrics_write_escaped_label(FILE *f, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

void metrics_write_escaped_help(FILE *f, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

/* name[suffix]{labels[,le="bound"]} value */
static void write_sample(FILE *out, const struct family *f, const struct series *s,
			 const char *suffix, const char *le, double v)
{
	char num[64];
	fputs(f->name, out);
	fputs(suffix, out);
	if (f->n_labels || le) {
		fputc('{', out);
		for (size_t i = 0; i < f->n_labels; i++) {
			fprintf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
			metrics_write_escaped_label(out, s->values[i]);
			fputc('"', out);
		}
		if (le)
			fprintf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
		fputc('}', out);
	}
	metrics_format_value(v, num, sizeof(num));
	fprintf(out, " %s\n", num);
}

static const char *type_name(enum metrics_type t)
{
	return t == METRICS_COUNTER ? "counter" : t == METRICS_GAUGE ? "gauge" : "histogram";
}

int metrics_write(struct metrics *m, FILE *out)
{
	for (size_t i = 0; i < m->n_families; i++) {
		const struct family *f = &m->families[i];
		if (!f->n_series)
			continue;
		fprintf(out, "# HELP %s ", f->name);
		metrics_write_escaped_help(out, f->help);
		fprintf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
		for (size_t k = 0; k < f->n_series; k++) {
			const struct series *s = &f->series[k];
			if (f->type != METRICS_HISTOGRAM) {
				write_sample(out, f, s, "", NULL, s->value);
				continue;
			}
			uint64_t cumulative = 0;
			char le[64];
			for (size_t b = 0; b < f->n_buckets; b++) {
				cumulative += s->bucket_counts[b];
				metrics_format_value(f->buckets[b], le, sizeof(le));
				write_sample(out, f, s, "_bucket", le, (double)cumulative);
			}
			cumulative += s->bucket_counts[f->n_buckets];
			write_sample(out, f, s, "_bucket", "+Inf", (double)cumulative);
			write_sample(out, f, s, "_sum", NULL, s->sum);
			write_sample(out, f, s, "_count", NULL, (double)s->count);
		}
	}
	return ferror(out) ? -EIO : 0;
}
