/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modbus — a register-mapped device over Modbus TCP or RTU (libmodbus).
 *
 * The map file (option `map`, grammar in map.h) names the points.  run()
 * polls the bit and register points every poll_ms, in as few requests as
 * the map allows, and turns them into events: inputs report both edges,
 * events (a light curtain, a gate beam) report one edge as an item drop or
 * gate pass, sensors report threshold crossings with hysteresis (or
 * changes).  Commands write the map's outputs.
 *
 * libmodbus is blocking: every call is bounded by timeout_ms (response and
 * byte timeout; TCP connect too) and the worker checks in with
 * host->heartbeat() around it.  Between polls the thread sits in
 * host->wait(), where commands and stop requests arrive.
 *
 * Health: OK; DEGRADED while exception responses, protocol errors or
 * timeouts happen (counted and logged; OK again after a run of clean
 * polls); OFFLINE when the connection is gone or max_timeouts timeouts came
 * in a row, then reconnecting with full-jitter backoff.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modbus.h>

#include <circd/plugin.h>

#include "map.h"
#include "util/util.h"

#define OK_AFTER_CLEAN_POLLS 10
#define BLOCK_GAP_MAX 8 /* read across up to this many unmapped addresses */

struct block {
	enum mb_table table;
	uint16_t start, count;
};

struct mbdev {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	struct mb_map map;
	struct block *blocks;
	size_t n_blocks;

	bool rtu;
	const char *host_name, *device;
	int port, baud, slave_id;
	char parity;
	int poll_ms, timeout_ms, max_timeouts;
	uint64_t reconnect_min_usec, reconnect_max_usec;

	modbus_t *ctx;
	bool connected;
	unsigned connect_attempt;
	uint64_t rng;
	uint64_t next_connect_usec, next_poll_usec;

	struct mb_point *alarm;    /* the `alarm` output while it is on */
	uint64_t alarm_off_usec;

	enum circd_health health;
	unsigned timeouts, exceptions, protocol_errors; /* since start */
	unsigned timeouts_in_row, clean_polls;

	uint16_t regs[MODBUS_MAX_READ_REGISTERS];
	uint8_t bits[MODBUS_MAX_READ_BITS];
};

static uint64_t now_usec(struct mbdev *m)
{
	return m->host->now_monotonic_usec();
}

static void set_health(struct mbdev *m, enum circd_health h, const char *why)
{
	if (m->health == h)
		return;
	m->health = h;
	m->host->set_health(m->inst, h, why);
}

static void disconnect(struct mbdev *m, const char *why)
{
	if (m->connected) {
		m->host->log(m->inst, CIRCD_LOG_WARNING, "connection lost: %s", why);
		modbus_close(m->ctx);
	}
	m->connected = false;
	m->timeouts_in_row = 0;
	uint64_t delay = backoff_full_jitter_usec(m->reconnect_min_usec, m->reconnect_max_usec,
						  m->connect_attempt++, &m->rng);
	m->next_connect_usec = now_usec(m) + (delay < 1000 ? 1000 : delay);
	set_health(m, CIRCD_HEALTH_OFFLINE, why);
}

static bool is_exception(int e)
{
	return e >= EMBXILFUN && e <= EMBXGTAR;
}

/*
 * A libmodbus call failed with errno e.  Exception responses and protocol
 * errors degrade; a timeout degrades until max_timeouts come in a row;
 * anything else (reset, EOF, broken pipe) means the link is gone.
 * Returns 0 when still connected, -ENOTCONN when not.
 */
static int handle_failure(struct mbdev *m, int e, const char *what)
{
	char why[160];

	if (is_exception(e)) {
		m->exceptions++;
		snprintf(why, sizeof(why), "%s: exception response: %s (%u so far)", what,
			 modbus_strerror(e), m->exceptions);
	} else if (e == ETIMEDOUT) {
		m->timeouts++;
		m->timeouts_in_row++;
		snprintf(why, sizeof(why), "%s: timeout (%u so far, %u in a row)", what,
			 m->timeouts, m->timeouts_in_row);
		if (m->timeouts_in_row >= (unsigned)m->max_timeouts) {
			m->host->log(m->inst, CIRCD_LOG_WARNING, "%s", why);
			disconnect(m, "no answer");
			return -ENOTCONN;
		}
	} else if (e >= MODBUS_ENOBASE) {
		m->protocol_errors++;
		snprintf(why, sizeof(why), "%s: %s (%u protocol errors so far)", what,
			 modbus_strerror(e), m->protocol_errors);
	} else {
		snprintf(why, sizeof(why), "%s: %s", what, modbus_strerror(e));
		disconnect(m, why);
		return -ENOTCONN;
	}
	m->host->log(m->inst, CIRCD_LOG_WARNING, "%s", why);
	m->clean_polls = 0;
	set_health(m, CIRCD_HEALTH_DEGRADED, why);
	return 0;
}

static void try_connect(struct mbdev *m)
{
	m->host->heartbeat(m->inst);
	if (modbus_connect(m->ctx) < 0) {
		int e = errno;
		m->host->heartbeat(m->inst);
		if (m->connect_attempt == 0 || m->health != CIRCD_HEALTH_OFFLINE)
			m->host->log(m->inst, CIRCD_LOG_WARNING, "connect to %s: %s",
				     m->rtu ? m->device : m->host_name, modbus_strerror(e));
		disconnect(m, modbus_strerror(e));
		return;
	}
	m->host->heartbeat(m->inst);
	m->host->log(m->inst, CIRCD_LOG_INFO, "connected to %s", m->rtu ? m->device : m->host_name);
	m->connected = true;
	m->connect_attempt = 0;
	m->timeouts_in_row = 0;
	m->clean_polls = 0;
	m->next_poll_usec = now_usec(m);
	/* OK only once the device has answered a poll: an RTU "connection"
	 * is just an open tty, and a TCP gateway may accept with nothing
	 * behind it. */
}

static int emit_retry(struct mbdev *m, const struct circd_event *ev)
{
	int r;

	while ((r = m->host->emit(m->inst, ev)) == -ENOBUFS) {
		int w = m->host->wait(m->inst, -1, 0, 10);
		if (w > 0 && (w & CIRCD_WAKE_STOP))
			return -ECANCELED;
	}
	return r;
}

static int emit_value(struct mbdev *m, uint32_t type, const char *name, double value)
{
	struct circd_event ev;

	circd_event_init(&ev, type);
	ev.name = name;
	ev.value = value;
	return emit_retry(m, &ev);
}

static int update_bit(struct mbdev *m, struct mb_point *pt, bool level)
{
	bool was_known = pt->known, old = pt->raw != 0;

	level ^= pt->invert;
	pt->known = true;
	pt->raw = level;
	if (pt->kind == MB_INPUT)
		return !was_known || old != level ? emit_value(m, CIRCD_EV_INPUT, pt->name, level) : 0;
	/* MB_EVENT: an edge, never the initial level */
	if (!was_known || old == level)
		return 0;
	if ((pt->edge == MB_EDGE_RISING && !level) || (pt->edge == MB_EDGE_FALLING && level))
		return 0;
	struct circd_event ev;
	circd_event_init(&ev, pt->event_type);
	ev.name = pt->name;
	ev.value = level;
	ev.direction = pt->direction;
	return emit_retry(m, &ev);
}

static int update_register(struct mbdev *m, struct mb_point *pt, uint16_t raw)
{
	double v = (pt->is_signed ? (double)(int16_t)raw : (double)raw) * pt->scale + pt->offset;
	bool was_known = pt->known;
	bool report;

	pt->known = true;
	pt->raw = raw;
	/* Out of the plausible range: still reported as read (the station
	 * decides what a 150 % full bin means), but said once in the log. */
	bool implausible = (pt->has_min && v < pt->min) || (pt->has_max && v > pt->max);
	if (implausible && !pt->implausible)
		m->host->log(m->inst, CIRCD_LOG_WARNING, "%s = %g is implausible (range %g..%g)",
			     pt->name, v, pt->has_min ? pt->min : -INFINITY,
			     pt->has_max ? pt->max : INFINITY);
	pt->implausible = implausible;

	if (pt->has_thresholds) {
		/* Hysteresis: up at >= high, down only at <= low, so a value
		 * wobbling around one threshold reports once. */
		bool above = was_known ? pt->above : v >= pt->high;
		if (was_known && !above && v >= pt->high)
			above = true;
		else if (was_known && above && v <= pt->low)
			above = false;
		report = !was_known || above != pt->above;
		pt->above = above;
	} else {
		report = !was_known || fabs(v - pt->reported) > pt->delta ||
			 (pt->delta == 0 && v != pt->reported);
	}
	if (!report)
		return 0;
	pt->reported = v;
	return emit_value(m, CIRCD_EV_SENSOR, pt->name, v);
}

static int read_block(struct mbdev *m, const struct block *b)
{
	int n;

	m->host->heartbeat(m->inst);
	switch (b->table) {
	case MB_DISCRETE:
		n = modbus_read_input_bits(m->ctx, b->start, b->count, m->bits);
		break;
	case MB_COIL:
		n = modbus_read_bits(m->ctx, b->start, b->count, m->bits);
		break;
	case MB_INPUT_REG:
		n = modbus_read_input_registers(m->ctx, b->start, b->count, m->regs);
		break;
	default:
		n = modbus_read_registers(m->ctx, b->start, b->count, m->regs);
		break;
	}
	m->host->heartbeat(m->inst);
	return n == b->count ? 0 : n < 0 ? -errno : -EBADMSG;
}

/* One poll cycle.  Returns 0, or -ECANCELED when asked to stop. */
static int poll_once(struct mbdev *m)
{
	for (size_t i = 0; i < m->n_blocks && m->connected; i++) {
		const struct block *b = &m->blocks[i];
		int r = read_block(m, b);
		if (r < 0) {
			char what[64];
			snprintf(what, sizeof(what), "read %s %u+%u", mb_table_name(b->table),
				 b->start, b->count);
			handle_failure(m, -r, what);
			return 0; /* the rest waits for the next cycle */
		}
		for (size_t k = 0; k < m->map.count; k++) {
			struct mb_point *pt = &m->map.points[k];
			if (pt->kind == MB_OUTPUT || pt->table != b->table || pt->addr < b->start ||
			    pt->addr >= b->start + b->count)
				continue;
			unsigned off = pt->addr - b->start;
			r = pt->kind == MB_SENSOR ? update_register(m, pt, m->regs[off])
						  : update_bit(m, pt, m->bits[off] != 0);
			if (r == -ECANCELED)
				return r;
		}
	}
	if (!m->connected)
		return 0;
	m->timeouts_in_row = 0;
	if (m->health != CIRCD_HEALTH_OK && m->health != CIRCD_HEALTH_DEGRADED) {
		set_health(m, CIRCD_HEALTH_OK, "answering");
	} else if (m->health == CIRCD_HEALTH_DEGRADED &&
		   ++m->clean_polls >= OK_AFTER_CLEAN_POLLS) {
		m->host->log(m->inst, CIRCD_LOG_NOTICE,
			     "recovered (so far %u timeouts, %u exception responses, %u protocol errors)",
			     m->timeouts, m->exceptions, m->protocol_errors);
		set_health(m, CIRCD_HEALTH_OK, "polling");
	}
	return 0;
}

/* Write one output; read it back when the map says `verify`.  0 or -errno. */
static int write_output(struct mbdev *m, const struct mb_point *pt, int64_t value, char *why,
			size_t why_size)
{
	int n;

	if (!m->connected) {
		snprintf(why, why_size, "not connected");
		return -ENOTCONN;
	}
	if (pt->table == MB_HOLDING && (value < 0 || value > 0xffff)) {
		snprintf(why, why_size, "%s: %lld is not 0..65535", pt->name, (long long)value);
		return -ERANGE;
	}
	m->host->heartbeat(m->inst);
	if (pt->table == MB_COIL)
		n = modbus_write_bit(m->ctx, pt->addr, value != 0);
	else
		n = modbus_write_register(m->ctx, pt->addr, (uint16_t)value);
	int e = errno;
	m->host->heartbeat(m->inst);
	if (n < 0) {
		snprintf(why, why_size, "write %s: %s", pt->name, modbus_strerror(e));
		handle_failure(m, e, why);
		return is_exception(e) ? -EREMOTEIO : e == ETIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	if (!pt->verify)
		return 0;
	uint16_t reg = 0;
	uint8_t bit = 0;
	n = pt->table == MB_COIL ? modbus_read_bits(m->ctx, pt->addr, 1, &bit)
				 : modbus_read_registers(m->ctx, pt->addr, 1, &reg);
	e = errno;
	m->host->heartbeat(m->inst);
	if (n != 1) {
		snprintf(why, why_size, "read back %s: %s", pt->name,
			 n < 0 ? modbus_strerror(e) : "short answer");
		if (n < 0)
			handle_failure(m, e, why);
		return -EIO;
	}
	int64_t got = pt->table == MB_COIL ? bit : reg;
	if (got != (pt->table == MB_COIL ? (value != 0) : value)) {
		snprintf(why, why_size, "read back %s: %lld, wrote %lld", pt->name, (long long)got,
			 (long long)value);
		m->host->log(m->inst, CIRCD_LOG_WARNING, "%s", why);
		return -EIO;
	}
	return 0;
}

static void handle_command(struct mbdev *m, const struct circd_command *cmd)
{
	const char *name = NULL;
	char why[160] = "";
	int r;

	switch (cmd->type) {
	case CIRCD_CMD_OUTPUT:
		name = cmd->name ? cmd->name : "";
		break;
	case CIRCD_CMD_SELECT_BIN:
		name = "sorter_bin";
		break;
	case CIRCD_CMD_INTAKE:
		name = "intake";
		break;
	case CIRCD_CMD_ALARM:
		name = "alarm";
		break;
	default:
		m->host->command_done(m->inst, cmd, -EOPNOTSUPP, "not a modbus command");
		return;
	}
	struct mb_point *pt = mb_map_output(&m->map, name);
	if (!pt) {
		snprintf(why, sizeof(why), "the map has no output '%s'", name);
		m->host->command_done(m->inst, cmd, -ENOENT, why);
		return;
	}
	/* ALARM: on now, off after value ms (the run loop's timer). */
	int64_t value = cmd->type == CIRCD_CMD_ALARM ? cmd->value > 0 : cmd->value;
	r = write_output(m, pt, value, why, sizeof(why));
	if (r == 0 && cmd->type == CIRCD_CMD_ALARM) {
		m->alarm = cmd->value > 0 ? pt : NULL;
		m->alarm_off_usec = now_usec(m) + (uint64_t)cmd->value * 1000;
	}
	m->host->command_done(m->inst, cmd, r, r < 0 ? why : NULL);
}

static void alarm_off(struct mbdev *m)
{
	char why[160];

	if (write_output(m, m->alarm, 0, why, sizeof(why)) < 0)
		m->host->log(m->inst, CIRCD_LOG_WARNING, "alarm off: %s", why);
	else
		m->alarm = NULL; /* else retried at the next cycle */
}

static int modbus_plugin_run(void *state)
{
	struct mbdev *m = state;

	m->next_connect_usec = now_usec(m);
	for (;;) {
		uint64_t now = now_usec(m);
		if (!m->connected && now >= m->next_connect_usec)
			try_connect(m);

		now = now_usec(m);
		uint64_t due = m->connected ? m->next_poll_usec : m->next_connect_usec;
		if (m->alarm && m->connected && m->alarm_off_usec < due)
			due = m->alarm_off_usec;
		int timeout_ms = due > now ? (int)((due - now + 999) / 1000) : 0;

		int w = m->host->wait(m->inst, -1, 0, timeout_ms);
		if (w < 0)
			return w;
		if (w & CIRCD_WAKE_STOP)
			break;
		if (w & CIRCD_WAKE_COMMAND) {
			struct circd_command cmd = { .struct_size = sizeof(cmd) };
			while (m->host->take_command(m->inst, &cmd) == 1)
				handle_command(m, &cmd);
		}
		now = now_usec(m);
		if (m->alarm && m->connected && now >= m->alarm_off_usec)
			alarm_off(m);
		if (m->connected && now >= m->next_poll_usec) {
			m->next_poll_usec += (uint64_t)m->poll_ms * 1000;
			if (m->next_poll_usec < now) /* fell behind: no burst */
				m->next_poll_usec = now + (uint64_t)m->poll_ms * 1000;
			if (poll_once(m) == -ECANCELED)
				break;
		}
	}
	if (m->alarm && m->connected)
		alarm_off(m);
	if (m->connected)
		modbus_close(m->ctx);
	m->connected = false;
	return 0;
}

/* Group the polled points into as few read requests as the limits allow. */
static int plan_blocks(struct mbdev *m)
{
	for (int t = 0; t < MB_TABLES; t++) {
		unsigned limit = t == MB_DISCRETE || t == MB_COIL ? MODBUS_MAX_READ_BITS
								  : MODBUS_MAX_READ_REGISTERS;
		int next = -1; /* lowest address >= next not yet covered */
		for (;;) {
			int lo = -1;
			for (size_t k = 0; k < m->map.count; k++) {
				const struct mb_point *pt = &m->map.points[k];
				if (pt->kind != MB_OUTPUT && pt->table == (enum mb_table)t &&
				    pt->addr > next && (lo < 0 || pt->addr < lo))
					lo = pt->addr;
			}
			if (lo < 0)
				break;
			int hi = lo;
			for (bool grew = true; grew;) {
				grew = false;
				for (size_t k = 0; k < m->map.count; k++) {
					const struct mb_point *pt = &m->map.points[k];
					if (pt->kind != MB_OUTPUT && pt->table == (enum mb_table)t &&
					    pt->addr > hi && pt->addr <= hi + BLOCK_GAP_MAX &&
					    (unsigned)(pt->addr - lo) < limit) {
						hi = pt->addr;
						grew = true;
					}
				}
			}
			struct block *nb = realloc(m->blocks, (m->n_blocks + 1) * sizeof(*nb));
			if (!nb)
				return -ENOMEM;
			m->blocks = nb;
			m->blocks[m->n_blocks++] = (struct block){ (enum mb_table)t, (uint16_t)lo,
								   (uint16_t)(hi - lo + 1) };
			next = hi;
		}
	}
	return 0;
}

static void modbus_plugin_destroy(void *state)
{
	struct mbdev *m = state;

	if (!m)
		return;
	if (m->ctx)
		modbus_free(m->ctx);
	free(m->blocks);
	mb_map_free(&m->map);
	free(m);
}

static int modbus_plugin_create(struct circd_instance *inst, const struct circd_host_api *host,
				void **state)
{
	struct mbdev *m = calloc(1, sizeof(*m));
	char err[512];
	int r;

	if (!m)
		return -ENOMEM;
	m->inst = inst;
	m->host = host;
	m->health = CIRCD_HEALTH_STARTING;

	const char *mode = host->opt_string(inst, "mode");
	const char *parity = host->opt_string(inst, "parity");
	if (strcmp(mode, "tcp") != 0 && strcmp(mode, "rtu") != 0) {
		host->log(inst, CIRCD_LOG_ERR, "mode: '%s' is not tcp or rtu", mode);
		r = -EINVAL;
		goto fail;
	}
	if (strlen(parity) != 1 || !strchr("NEO", parity[0])) {
		host->log(inst, CIRCD_LOG_ERR, "parity: '%s' is not N, E or O", parity);
		r = -EINVAL;
		goto fail;
	}
	m->rtu = mode[0] == 'r';
	m->parity = parity[0];
	m->host_name = host->opt_string(inst, "host");
	m->device = host->opt_string(inst, "device");
	m->port = (int)host->opt_int(inst, "port");
	m->baud = (int)host->opt_int(inst, "baud");
	m->slave_id = (int)host->opt_int(inst, "slave_id");
	m->poll_ms = (int)host->opt_int(inst, "poll_ms");
	m->timeout_ms = (int)host->opt_int(inst, "timeout_ms");
	m->max_timeouts = (int)host->opt_int(inst, "max_timeouts");
	m->reconnect_min_usec = (uint64_t)host->opt_int(inst, "reconnect_min_ms") * 1000;
	m->reconnect_max_usec = (uint64_t)host->opt_int(inst, "reconnect_max_ms") * 1000;
	m->rng = host->now_monotonic_usec() ^ (uintptr_t)m;

	r = mb_map_load(host->opt_string(inst, "map"), &m->map, err, sizeof(err));
	if (r < 0) {
		host->log(inst, CIRCD_LOG_ERR, "map: %s", err);
		goto fail;
	}
	r = plan_blocks(m);
	if (r < 0)
		goto fail;

	m->ctx = m->rtu ? modbus_new_rtu(m->device, m->baud, m->parity, 8, 1)
			: modbus_new_tcp(m->host_name, m->port);
	if (!m->ctx) {
		r = -errno;
		host->log(inst, CIRCD_LOG_ERR, "libmodbus: %s", modbus_strerror(errno));
		goto fail;
	}
	modbus_set_slave(m->ctx, m->slave_id);
	uint32_t to_sec = (uint32_t)(m->timeout_ms / 1000), to_usec = (uint32_t)(m->timeout_ms % 1000) * 1000;
	modbus_set_response_timeout(m->ctx, to_sec, to_usec);
	modbus_set_byte_timeout(m->ctx, to_sec, to_usec);
	/* flush a late or garbled answer instead of mistaking it for the next */
	modbus_set_error_recovery(m->ctx, MODBUS_ERROR_RECOVERY_PROTOCOL);

	host->log(inst, CIRCD_LOG_INFO, "%zu points, %zu read requests per poll", m->map.count,
		  m->n_blocks);
	*state = m;
	return 0;
fail:
	modbus_plugin_destroy(m);
	return r;
}

static const struct circd_option modbus_options[] = {
	{ "map", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0,
	  "register map file (etc/modbus/*.map profiles)" },
	{ "mode", CIRCD_OPT_STRING, "tcp", 0, 0, 0, "tcp or rtu" },
	{ "host", CIRCD_OPT_STRING, "127.0.0.1", 0, 0, 0, "TCP: the device's address" },
	{ "port", CIRCD_OPT_INT, "502", 0, 1, 65535, "TCP: port" },
	{ "device", CIRCD_OPT_STRING, "/dev/ttyUSB0", 0, 0, 0, "RTU: serial device" },
	{ "baud", CIRCD_OPT_INT, "19200", 0, 1200, 4000000, "RTU: bits per second" },
	{ "parity", CIRCD_OPT_STRING, "E", 0, 0, 0, "RTU: N, E or O" },
	{ "slave_id", CIRCD_OPT_INT, "1", 0, 0, 247, "unit / slave address" },
	{ "poll_ms", CIRCD_OPT_INT, "100", 0, 5, 3600000, "poll interval" },
	{ "timeout_ms", CIRCD_OPT_INT, "500", 0, 10, 60000, "answer timeout per request" },
	{ "max_timeouts", CIRCD_OPT_INT, "3", 0, 1, 1000,
	  "timeouts in a row before the link counts as lost" },
	{ "reconnect_min_ms", CIRCD_OPT_INT, "200", 0, 1, 3600000, "reconnect backoff base" },
	{ "reconnect_max_ms", CIRCD_OPT_INT, "30000", 0, 1, 3600000, "reconnect backoff cap" },
	CIRCD_OPTION_END,
};

CIRCD_PLUGIN_DEFINE(modbus, "1.0", "register-mapped device over Modbus TCP/RTU",
		    CIRCD_KIND_GATE_IO | CIRCD_KIND_SENSOR | CIRCD_KIND_SORTER, modbus_options,
		    modbus_plugin_create, modbus_plugin_run, modbus_plugin_destroy);
