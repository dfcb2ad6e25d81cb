/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * feig — FEIG OBID ISO-Host readers (CPR, MR, LR; H20800) over a serial
 * port or TCP.
 *
 * Every `poll_ms` an inventory [0xB0 0x01] (with MODE.MORE continuation)
 * lists the UIDs in the field.  A new UID is read once — system information
 * [0xB0 0x2B] for AFI and block count, then read multiple blocks
 * [0xB0 0x23] — and reported as TAG_SEEN with its memory exactly as the
 * reader returned it (FEIG sends each block's bytes reversed; the core
 * knows).  A UID missing from `gone_after` inventories in a row is
 * reported TAG_GONE.  WRITE_AFI [0xB0 0x27] is verified by reading the
 * system information back.
 *
 * Health: OK while the reader answers; DEGRADED after several bad or
 * missing answers in a row (each one counted, logged at debug, the input
 * drained); OFFLINE when the port is gone, reopened with backoff.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feig-plugin.h"

#define CONNECT_TIMEOUT_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define READ_CHUNK_BLOCKS 16 /* 16 x 8-byte blocks = the 128-byte limit (§7.1.3) */

void feig_set_health(struct feig *f, enum circd_health h, const char *why)
{
	if (f->health == h)
		return;
	f->health = h;
	f->host->log(f->inst, h == CIRCD_HEALTH_OK ? CIRCD_LOG_INFO : CIRCD_LOG_WARNING,
		     "%s: %s", f->port, why);
	f->host->set_health(f->inst, h, why);
}

void feig_port_lost(struct feig *f, const char *why)
{
	char reason[TRANSPORT_REASON_MAX];

	snprintf(reason, sizeof(reason), "%s", why);
	transport_close(f->t);
	f->t = NULL;
	feig_set_health(f, CIRCD_HEALTH_OFFLINE, reason);
}

static int emit_retry(struct feig *f, const struct circd_event *ev)
{
	int r;

	while ((r = f->host->emit(f->inst, ev)) == -ENOBUFS) {
		int w = f->host->wait(f->inst, -1, 0, 10);
		if (w > 0 && (w & CIRCD_WAKE_STOP)) {
			f->stopping = true;
			return -ECANCELED;
		}
	}
	return r;
}

/* Sleep in host->wait() (never elsewhere); false when asked to stop. */
static bool pause_ms(struct feig *f, int ms)
{
	uint64_t end = f->host->now_monotonic_usec() + (uint64_t)ms * 1000;

	for (;;) {
		uint64_t now = f->host->now_monotonic_usec();
		if (now >= end)
			return true;
		int w = f->host->wait(f->inst, -1, 0, (int)((end - now + 999) / 1000));
		if (w < 0 || (w & CIRCD_WAKE_STOP)) {
			f->stopping = true;
			return false;
		}
		if (w & CIRCD_WAKE_COMMAND)
			return true; /* commands are answered promptly */
	}
}

/* Wait before the next attempt, doubling the wait each time. */
static void backoff(struct feig *f)
{
	pause_ms(f, (int)f->backoff_ms);
	f->backoff_ms = f->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : f->backoff_ms * 2;
}

static void connect_port(struct feig *f)
{
	char why[TRANSPORT_REASON_MAX];
	int r = transport_open(f->port, CONNECT_TIMEOUT_MS, &f->t, why, sizeof(why));

	if (r < 0) {
		feig_set_health(f, CIRCD_HEALTH_OFFLINE, why);
		backoff(f);
		return;
	}
	f->host->log(f->inst, CIRCD_LOG_DEBUG, "opened %s", f->port);
	/* A clean start: RF reset puts every tag in the field back to ready
	 * (H20800 §6.6).  Health turns OK with the first good answer; a port
	 * that opens but does not answer (a TCP peer that hangs up at once)
	 * is retried with the same backoff as one that does not open. */
	r = feig_rf_reset(f);
	if (r == 0)
		f->backoff_ms = BACKOFF_MIN_MS;
	else if (r != -ECANCELED && !f->t)
		backoff(f);
}

static struct feig_tag *find_tag(struct feig *f, const uint8_t *uid)
{
	for (size_t i = 0; i < f->ntags; i++)
		if (!memcmp(f->tags[i].uid, uid, FEIG_UID_LEN))
			return &f->tags[i];
	return NULL;
}

/* Read a new tag once and report it; -EAGAIN leaves it for the next cycle. */
static int report_tag(struct feig *f, struct feig_tag *tag)
{
	struct feig_sysinfo info;
	struct circd_event ev;
	size_t len = 0, block_size = 0;
	uint8_t status = 0;
	unsigned blocks = f->blocks;
	int r;

	r = feig_sysinfo(f, tag->uid, &info, &status);
	if (r < 0)
		return r == -EIO ? -EAGAIN : r; /* gone again, RF error: retry */
	if (info.blocks && info.blocks < blocks)
		blocks = info.blocks;
	for (unsigned first = 0; first < blocks; first += READ_CHUNK_BLOCKS) {
		unsigned n = blocks - first < READ_CHUNK_BLOCKS ? blocks - first : READ_CHUNK_BLOCKS;
		if (len + n * (info.block_size ? info.block_size : 32) > sizeof(f->mem))
			break;
		r = feig_read_blocks(f, tag->uid, first, n, &len, &block_size, &status);
		if (r < 0)
			return r == -EIO ? -EAGAIN : r;
	}
	circd_event_init(&ev, CIRCD_EV_TAG_SEEN);
	memcpy(ev.uid, tag->uid, FEIG_UID_LEN);
	ev.uid_len = FEIG_UID_LEN;
	ev.afi = info.afi;
	ev.dsfid = info.dsfid;
	ev.memory = len ? f->mem : NULL;
	ev.memory_len = (uint32_t)len;
	ev.block_size = (uint32_t)block_size;
	r = emit_retry(f, &ev);
	if (r < 0)
		return r;
	tag->reported = true;
	return 0;
}

static int emit_gone(struct feig *f, const struct feig_tag *tag)
{
	struct circd_event ev;

	circd_event_init(&ev, CIRCD_EV_TAG_GONE);
	memcpy(ev.uid, tag->uid, FEIG_UID_LEN);
	ev.uid_len = FEIG_UID_LEN;
	return emit_retry(f, &ev);
}

static int inventory_cycle(struct feig *f)
{
	struct feig_inventory_tag seen[FEIG_MAX_TAGS];
	size_t count = 0;
	uint8_t status = 0;
	int r = feig_inventory(f, seen, FEIG_MAX_TAGS, &count, &status);

	if (r == -EIO) {
		/* The reader answered, with an error: says nothing about
		 * which tags are there, so nobody ages this cycle. */
		f->rf_errors++;
		f->host->log(f->inst, CIRCD_LOG_DEBUG, "inventory: %s (0x%02x)",
			     feig_status_text(status), status);
		/* several RF errors in a row: reset the field (H20800 §6.6) */
		if (status == FEIG_RF_ERROR && ++f->rf_error_run % 3 == 0)
			feig_rf_reset(f);
		return 0;
	}
	if (r < 0)
		return r;
	f->rf_error_run = 0;

	for (size_t i = 0; i < count; i++) {
		struct feig_tag *tag = find_tag(f, seen[i].uid);
		if (!tag && f->ntags < FEIG_MAX_TAGS) {
			tag = &f->tags[f->ntags++];
			*tag = (struct feig_tag){ .dsfid = seen[i].dsfid };
			memcpy(tag->uid, seen[i].uid, FEIG_UID_LEN);
		}
		if (tag)
			tag->missed = 0;
	}
	/* Departures first (cheap), then the reads of new arrivals. */
	for (size_t i = 0; i < f->ntags;) {
		struct feig_tag *tag = &f->tags[i];
		bool present = false;
		for (size_t j = 0; j < count && !present; j++)
			present = !memcmp(seen[j].uid, tag->uid, FEIG_UID_LEN);
		if (present || ++tag->missed < f->gone_after) {
			i++;
			continue;
		}
		if (tag->reported && (r = emit_gone(f, tag)) < 0)
			return r;
		f->tags[i] = f->tags[--f->ntags];
	}
	for (size_t i = 0; i < f->ntags; i++) {
		if (f->tags[i].reported || f->tags[i].missed)
			continue;
		r = report_tag(f, &f->tags[i]);
		if (r < 0 && r != -EAGAIN)
			return r;
	}
	return 0;
}

static void write_afi(struct feig *f, const struct circd_command *cmd)
{
	struct feig_sysinfo info;
	uint8_t status = 0;
	char detail[96];
	int r;

	if (cmd->uid_len != FEIG_UID_LEN || cmd->value < 0 || cmd->value > 255) {
		f->host->command_done(f->inst, cmd, -EINVAL, "need an 8-byte UID and AFI 0..255");
		return;
	}
	r = feig_write_afi(f, cmd->uid, (uint8_t)cmd->value, &status);
	if (r == 0)
		r = feig_sysinfo(f, cmd->uid, &info, &status);
	if (r == -EIO) {
		snprintf(detail, sizeof(detail), "reader: %s (0x%02x)", feig_status_text(status),
			 status);
		f->host->command_done(f->inst, cmd, -EIO, detail);
	} else if (r < 0) {
		f->host->command_done(f->inst, cmd, r == -ECANCELED ? -ECANCELED : -EIO,
				      "no valid answer from the reader");
	} else if (info.afi != (uint8_t)cmd->value) {
		snprintf(detail, sizeof(detail), "read back AFI 0x%02x, wanted 0x%02x", info.afi,
			 (unsigned)cmd->value);
		f->host->command_done(f->inst, cmd, -EIO, detail);
	} else {
		f->host->command_done(f->inst, cmd, 0, NULL);
	}
}

static void handle_commands(struct feig *f)
{
	struct circd_command cmd = { .struct_size = sizeof(cmd) };

	while (f->host->take_command(f->inst, &cmd) == 1) {
		if (f->stopping)
			f->host->command_done(f->inst, &cmd, -ECANCELED, "stopping");
		else if (cmd.type == CIRCD_CMD_WRITE_AFI && !f->t)
			f->host->command_done(f->inst, &cmd, -ENOTCONN, "reader offline");
		else if (cmd.type == CIRCD_CMD_WRITE_AFI)
			write_afi(f, &cmd);
		else
			f->host->command_done(f->inst, &cmd, -EOPNOTSUPP,
					      cmd.type == CIRCD_CMD_SET_EAS
						      ? "EAS needs NXP custom commands: not implemented"
						      : "not a reader command");
	}
}

static int feig_run(void *state)
{
	struct feig *f = state;

	while (!f->stopping) {
		/* first: a command queued while offline is refused at once */
		handle_commands(f);
		if (f->stopping)
			break;
		if (!f->t) {
			connect_port(f);
			continue;
		}
		if (inventory_cycle(f) == -ECANCELED)
			break;
		if (!f->t) {
			/* port lost: keep the tags; after the reconnect the
			 * inventory says which are still there */
			backoff(f);
			continue;
		}
		pause_ms(f, f->poll_ms);
	}
	/* answer what is still queued */
	handle_commands(f);
	return 0;
}

static int feig_create(struct circd_instance *inst, const struct circd_host_api *host,
		       void **state)
{
	struct feig *f;
	const char *port = host->opt_string(inst, "port");
	int64_t addr = host->opt_int(inst, "bus_address");

	if (!port || !*port) {
		host->log(inst, CIRCD_LOG_ERR, "option 'port' is required (serial:PATH:SPEED:FRAMING or tcp:HOST:PORT)");
		return -EINVAL;
	}
	if (strncmp(port, "serial:", 7) && strncmp(port, "tcp:", 4)) {
		host->log(inst, CIRCD_LOG_ERR,
			  "port '%s': expected serial:PATH:SPEED:FRAMING or tcp:HOST:PORT", port);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->inst = inst;
	f->host = host;
	f->port = port;
	f->poll_ms = (int)host->opt_int(inst, "poll_ms");
	f->gone_after = (unsigned)host->opt_int(inst, "gone_after");
	f->blocks = (unsigned)host->opt_int(inst, "blocks");
	f->addr = (uint8_t)addr;
	f->health = CIRCD_HEALTH_STARTING;
	f->backoff_ms = BACKOFF_MIN_MS;
	*state = f;
	return 0;
}

static void feig_destroy(void *state)
{
	struct feig *f = state;

	transport_close(f->t);
	free(f);
}

static const struct circd_option feig_options[] = {
	{ "port", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0,
	  "serial:/dev/ttyUSB0:38400:8E1 or tcp:HOST:PORT" },
	{ "poll_ms", CIRCD_OPT_INT, "100", 0, 10, 60000, "inventory every this many ms" },
	{ "gone_after", CIRCD_OPT_INT, "2", 0, 1, 100,
	  "inventories without a UID before it is reported gone" },
	{ "blocks", CIRCD_OPT_INT, "8", 0, 1, 256, "user memory blocks read from a new tag" },
	{ "bus_address", CIRCD_OPT_INT, "255", 0, 0, 255,
	  "reader bus address (COM-ADR); 255 = any" },
	CIRCD_OPTION_END,
};

CIRCD_PLUGIN_DEFINE(feig, "1.0", "FEIG OBID ISO-Host reader (serial or TCP)", CIRCD_KIND_READER,
		    feig_options, feig_create, feig_run, feig_destroy);
