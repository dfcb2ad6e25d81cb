/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Latency samples (microseconds) of a gate's last GATE_LATENCY_SAMPLES tag
 * reads, for exact percentiles (`circctl gate NAME latency`): the
 * histogram circd_gate_decision_seconds has only coarse buckets.
 */
#ifndef CIRCD_GATE_LATENCY_H
#define CIRCD_GATE_LATENCY_H

#include <stdint.h>

#include <json-c/json.h>

#define GATE_LATENCY_SAMPLES 65536

struct gate_latency {
	uint32_t *usec;  /* ring, allocated at the first sample */
	uint64_t count;  /* since start or reset; the ring holds the last ones */
};

void gate_latency_add(struct gate_latency *l, uint64_t usec);
/* {count, samples, p50_us, p90_us, p99_us, p999_us, max_us, mean_us}
 * (nearest-rank percentiles; only count and samples when empty). */
json_object *gate_latency_json(const struct gate_latency *l);
void gate_latency_reset(struct gate_latency *l);
void gate_latency_free(struct gate_latency *l);

#endif
