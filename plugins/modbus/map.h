/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The register map of one Modbus device: which points the modbus plugin
 * polls and what they mean, which it writes on commands.  Read from a small
 * text file (option `map`), one point per line:
 *
 *   input  NAME TABLE ADDR [invert]                   -> CIRCD_EV_INPUT, both edges
 *   event  NAME TABLE ADDR rising|falling|edge -> item-drop|gate-pass [dir=in|out] [invert]
 *   sensor NAME TABLE ADDR [scale=F] [offset=F] [signed] [high=F low=F]
 *                          [min=F] [max=F] [delta=F]   -> CIRCD_EV_SENSOR
 *   output NAME TABLE ADDR [verify]                   written on commands
 *
 * TABLE is discrete|coil for bits (input, event) and input_reg|holding for
 * 16-bit registers (sensor); outputs are coil|holding.  ADDR is the 0-based
 * protocol address.  `#` starts a comment.
 */
#ifndef CIRCD_MODBUS_MAP_H
#define CIRCD_MODBUS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mb_kind { MB_INPUT = 1, MB_EVENT, MB_SENSOR, MB_OUTPUT };
enum mb_table { MB_DISCRETE = 0, MB_COIL, MB_INPUT_REG, MB_HOLDING, MB_TABLES };
enum mb_edge { MB_EDGE_BOTH = 0, MB_EDGE_RISING, MB_EDGE_FALLING };

#define MB_NAME_MAX 64

struct mb_point {
	enum mb_kind kind;
	char name[MB_NAME_MAX];
	enum mb_table table;
	uint16_t addr;
	unsigned line;

	/* input / event */
	bool invert;
	enum mb_edge edge;
	uint32_t event_type; /* event: CIRCD_EV_ITEM_DROP or CIRCD_EV_GATE_PASS */
	uint8_t direction;   /* event gate-pass: enum circd_direction */

	/* sensor: value = raw * scale + offset */
	double scale, offset;
	bool is_signed;
	bool has_thresholds;
	double high, low;    /* crossing up at >= high, down again at <= low */
	bool has_min, has_max;
	double min, max;     /* plausible range: outside it is logged, still reported */
	double delta;        /* no thresholds: report changes larger than this */

	/* output */
	bool verify;         /* read back after writing */

	/* poll state, owned by the plugin */
	bool known;
	uint16_t raw;
	double reported;
	bool above;
	bool implausible;
};

struct mb_map {
	struct mb_point *points;
	size_t count;
};

/* Parse `path`.  On failure returns a negative errno and writes
 * "path:line: reason" (or "path: reason") to err. */
int mb_map_load(const char *path, struct mb_map *map, char *err, size_t err_size);
void mb_map_free(struct mb_map *map);
/* The output point called `name`, or NULL. */
struct mb_point *mb_map_output(const struct mb_map *map, const char *name);
const char *mb_table_name(enum mb_table t);

#endif
