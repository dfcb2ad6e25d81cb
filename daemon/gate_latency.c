/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gate_latency.h"
#include "util/util.h"

void gate_latency_add(struct gate_latency *l, uint64_t usec)
{
	if (!l->usec)
		l->usec = xcalloc(GATE_LATENCY_SAMPLES, sizeof(*l->usec));
	uint32_t v = usec > UINT32_MAX ? UINT32_MAX : (uint32_t)usec;
	l->usec[l->count % GATE_LATENCY_SAMPLES] = v;
	l->count++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

json_object *gate_latency_json(const struct gate_latency *l)
{
	json_object *o = json_object_new_object();
	size_t n = l->count < GATE_LATENCY_SAMPLES ? (size_t)l->count : GATE_LATENCY_SAMPLES;
	json_object_object_add(o, "count", json_object_new_int64((int64_t)l->count));
	json_object_object_add(o, "samples", json_object_new_int64((int64_t)n));
	if (!n)
		return o;
	uint32_t *v = xcalloc(n, sizeof(*v));
	memcpy(v, l->usec, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u32);
	static const struct { const char *key; unsigned permille; } q[] = {
		{ "p50_us", 500 }, { "p90_us", 900 }, { "p99_us", 990 }, { "p999_us", 999 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
		/* nearest rank: the smallest sample with at least q of them <= it */
		size_t rank = (n * q[i].permille + 999) / 1000;
		json_object_object_add(o, q[i].key, json_object_new_int64(v[rank ? rank - 1 : 0]));
	}
	json_object_object_add(o, "max_us", json_object_new_int64(v[n - 1]));
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	json_object_object_add(o, "mean_us", json_object_new_double((double)sum / (double)n));
	free(v);
	return o;
}

void gate_latency_reset(struct gate_latency *l)
{
	l->count = 0;
}

void gate_latency_free(struct gate_latency *l)
{
	free(l->usec);
	*l = (struct gate_latency){ 0 };
}
