/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * feig — FEIG OBID ISO-Host readers (CPR, MR, LR; H20800) over a serial
 * port, TCP or USB (the same frames on the reader's bulk endpoints).
 *
 * Every `poll_ms` an inventory [0xB0 0x01] (with MODE.MORE continuation)
 * lists the UIDs in the field.  A new UID is read once — system information
 * [0xB0 0x2B] for AFI and block count, then read multiple blocks
 * [0xB0 0x23] — and reported as TAG_SEEN with its memory exactly as the
 * reader returned it (FEIG sends each block's bytes reversed; the core
 * knows).  A UID missing from `gone_after` inventories in a row is
 * reported TAG_GONE.  Commands: feig_commands.c.
 *
 * Option afi_filter sets the reader's own AFI filter (CFG4, §4.5) once per
 * connection.  Option antennas = "1,2" switches the RF output [0x6A] to
 * each antenna in turn before its inventory (§6.7); tags are tracked and
 * reported per (UID, antenna), events carry the antenna (0 without the
 * option).
 *
 * Health: OK while the reader answers; DEGRADED after several bad or
 * missing answers in a row (each one counted -- a bad frame when bytes came
 * that make no good answer, a timeout when nothing came -- logged at debug
 * with the totals, the input drained); OFFLINE when the port is gone (a USB
 * reader unplugged: LIBUSB_ERROR_NO_DEVICE), reopened with backoff (for
 * USB, at once when libusb reports the reader's arrival).  The DEGRADED and
 * OFFLINE reasons carry the totals (bad frames, timeouts, RF errors), so
 * `circctl status` shows them; they are logged at info when the plugin
 * stops.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "feig-plugin.h"

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

void feig_counts(const struct feig *f, char *buf, size_t size)
{
	snprintf(buf, size, "bad frames %llu, timeouts %llu, RF errors %llu",
		 (unsigned long long)f->bad_frames, (unsigned long long)f->timeouts,
		 (unsigned long long)f->rf_errors);
}

void feig_port_lost(struct feig *f, const char *why)
{
	char reason[TRANSPORT_REASON_MAX + FEIG_COUNTS_MAX + 4], counts[FEIG_COUNTS_MAX];

	/* why may be the port's own reason, gone with the close below */
	feig_counts(f, counts, sizeof(counts));
	snprintf(reason, sizeof(reason), "%s (%s)", why, counts);
	feig_port_close(f);
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
bool feig_pause(struct feig *f, int fd, int ms)
{
	uint64_t end = f->host->now_monotonic_usec() + (uint64_t)ms * 1000;

	for (;;) {
		uint64_t now = f->host->now_monotonic_usec();
		if (now >= end)
			return true;
		int w = f->host->wait(f->inst, fd, POLLIN, (int)((end - now + 999) / 1000));
		if (w < 0 || (w & CIRCD_WAKE_STOP)) {
			f->stopping = true;
			return false;
		}
		if (w & (CIRCD_WAKE_COMMAND | CIRCD_WAKE_FD))
			return true; /* commands are answered promptly */
	}
}

/* The totals for metrics and `circctl status` (ABI 1.5), when they changed. */
static void publish_counters(struct feig *f)
{
	const struct circd_device_counters c = {
		.struct_size = sizeof(c),
		.bad_frames = f->bad_frames,
		.timeouts = f->timeouts,
		.device_errors = f->rf_errors,
		.reconnects = f->reconnects,
	};
	/* field by field: the struct has padding after struct_size */
	if (c.bad_frames == f->published.bad_frames && c.timeouts == f->published.timeouts &&
	    c.device_errors == f->published.device_errors &&
	    c.reconnects == f->published.reconnects)
		return;
	f->published = c;
	/* a host older than ABI 1.5 has no set_counters() */
	if (f->host->struct_size >= offsetof(struct circd_host_api, set_counters) +
					    sizeof(f->host->set_counters) &&
	    f->host->set_counters)
		f->host->set_counters(f->inst, &c);
}

static void connect_port(struct feig *f)
{
	char why[256];
	int r = feig_port_open(f, why, sizeof(why));

	if (r < 0) {
		feig_set_health(f, CIRCD_HEALTH_OFFLINE, why);
		feig_port_retry_wait(f);
		return;
	}
#ifdef FEIG_USB
	if (f->usb)
		f->host->log(f->inst, CIRCD_LOG_INFO, "opened %s", feig_usb_describe(f->u));
	else
#endif
		f->host->log(f->inst, CIRCD_LOG_DEBUG, "opened %s", f->port);
	/* A clean start: RF reset puts every tag in the field back to ready
	 * (H20800 §6.6).  Health turns OK with the first good answer; a port
	 * that opens but does not answer (a TCP peer that hangs up at once)
	 * is retried with the same backoff as one that does not open. */
	f->afi_filter_set = f->afi_filter_refused = false;
	r = feig_rf_reset(f);
	if (r == 0 && f->rf_off) {
		/* a reader that was power-cycled has its RF on again */
		uint8_t status;
		r = feig_rf_output(f, FEIG_ANT_OUT_OFF, &status);
	}
	if (r == 0) {
		f->backoff_ms = FEIG_BACKOFF_MIN_MS;
		if (f->answered_before)
			f->reconnects++;
		f->answered_before = true;
	}
	else if (r != -ECANCELED && !feig_port_is_open(f))
		feig_port_retry_wait(f);
}

/*
 * AFI filter (option afi_filter): H20800 has no AFI in the inventory
 * request; the reader filters by CFG4 (§4.5: ISO15693-MODE.AFI and
 * ISO15693-AFI).  Read CFG4 from RAM, set both, write it back to RAM only
 * (§5.1, §5.2), once per connection (a reader power-cycled meanwhile has
 * its EEPROM setting back).  0, -EIO with *status when the reader refuses,
 * or feig_request()'s errors.
 */
int feig_apply_afi_filter(struct feig *f, uint8_t *status)
{
	uint8_t rec[FEIG_CFG_LEN];
	int r = feig_config_read(f, FEIG_CFG4, rec, status);

	if (r < 0)
		return r;
	if ((rec[FEIG_CFG4_ISO15693_MODE] & FEIG_CFG4_MODE_AFI) &&
	    rec[FEIG_CFG4_ISO15693_AFI] == (uint8_t)f->afi_filter)
		return 0; /* already so */
	rec[FEIG_CFG4_ISO15693_MODE] |= FEIG_CFG4_MODE_AFI;
	rec[FEIG_CFG4_ISO15693_AFI] = (uint8_t)f->afi_filter;
	return feig_config_write(f, FEIG_CFG4, rec, status);
}

/* Before the first inventory of a connection; false = no inventory now. */
static bool afi_filter_ready(struct feig *f)
{
	uint8_t status = 0;
	int r;

	if (f->afi_filter < 0 || f->afi_filter_set)
		return true;
	if (f->afi_filter_refused)
		return false;
	r = feig_apply_afi_filter(f, &status);
	if (r == 0) {
		f->afi_filter_set = true;
		f->host->log(f->inst, CIRCD_LOG_DEBUG, "AFI filter 0x%02x set (CFG4, RAM)",
			     (unsigned)f->afi_filter);
		return true;
	}
	if (r == -EIO) {
		/* Inventories without the filter would report the wrong
		 * tags (a gate would alarm on every item): none until the
		 * next connection tries again. */
		char why[128];
		snprintf(why, sizeof(why), "reader refuses the AFI filter: %s (0x%02x)",
			 feig_status_text(status), status);
		f->afi_filter_refused = true;
		f->host->log(f->inst, CIRCD_LOG_ERR, "%s", why);
		feig_set_health(f, CIRCD_HEALTH_DEGRADED, why);
	}
	return false;
}

static struct feig_tag *find_tag(struct feig *f, const uint8_t *uid, int antenna)
{
	for (size_t i = 0; i < f->ntags; i++)
		if (f->tags[i].antenna == antenna && !memcmp(f->tags[i].uid, uid, FEIG_UID_LEN))
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
	ev.antenna = tag->antenna;
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
	ev.antenna = tag->antenna;
	return emit_retry(f, &ev);
}

/* One inventory on one antenna (0 = no switching) and what follows from
 * it: departures and arrivals of the tags on that antenna. */
static int inventory_cycle(struct feig *f, int antenna)
{
	struct feig_inventory_tag seen[FEIG_MAX_TAGS];
	size_t count = 0;
	uint8_t status = 0;
	int r = 0;

	if (antenna) {
		/* §6.7: RF power on this antenna only (the others off) */
		r = feig_rf_output(f, (uint8_t)antenna, &status);
		if (r == -EIO) {
			f->host->log(f->inst, CIRCD_LOG_DEBUG, "antenna %d: %s (0x%02x)", antenna,
				     feig_status_text(status), status);
			return 0; /* nobody ages: this antenna was not read */
		}
	}
	if (r == 0)
		r = feig_inventory(f, seen, FEIG_MAX_TAGS, &count, &status);

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
		struct feig_tag *tag = find_tag(f, seen[i].uid, antenna);
		if (!tag && f->ntags < FEIG_MAX_TAGS) {
			tag = &f->tags[f->ntags++];
			*tag = (struct feig_tag){ .dsfid = seen[i].dsfid, .antenna = antenna };
			memcpy(tag->uid, seen[i].uid, FEIG_UID_LEN);
		}
		if (tag)
			tag->missed = 0;
	}
	/* Departures first (cheap), then the reads of new arrivals. */
	for (size_t i = 0; i < f->ntags;) {
		struct feig_tag *tag = &f->tags[i];
		bool present = false;
		if (tag->antenna != antenna) {
			i++;
			continue;
		}
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
		if (f->tags[i].reported || f->tags[i].missed || f->tags[i].antenna != antenna)
			continue;
		r = report_tag(f, &f->tags[i]);
		if (r < 0 && r != -EAGAIN)
			return r;
	}
	return 0;
}

static int feig_run(void *state)
{
	struct feig *f = state;

	while (!f->stopping) {
		publish_counters(f);
		/* first: a command queued while offline is refused at once */
		feig_handle_commands(f);
		if (f->stopping)
			break;
		if (!feig_port_is_open(f)) {
			connect_port(f);
			continue;
		}
		int r = 0;
		if (!f->rf_off && afi_filter_ready(f)) {
			if (!f->nantennas)
				r = inventory_cycle(f, 0);
			for (size_t a = 0; a < f->nantennas && r != -ECANCELED &&
					   feig_port_is_open(f);
			     a++)
				r = inventory_cycle(f, f->antennas[a]);
		}
		if (r == -ECANCELED)
			break;
		if (!feig_port_is_open(f)) {
			/* port lost: keep the tags; after the reconnect the
			 * inventory says which are still there */
			feig_port_retry_wait(f);
			continue;
		}
		feig_pause(f, -1, f->poll_ms);
	}
	/* answer what is still queued */
	feig_handle_commands(f);
	publish_counters(f);
	if (f->bad_frames || f->timeouts || f->rf_errors) {
		char counts[FEIG_COUNTS_MAX];
		feig_counts(f, counts, sizeof(counts));
		f->host->log(f->inst, CIRCD_LOG_INFO, "%s", counts);
	}
	return 0;
}

/* "1,2": the antenna outputs to inventory in turn (§6.7 ANT_OUT: two). */
static int parse_antennas(const char *list, struct feig *f, char *why, size_t why_size)
{
	const char *p = list;

	f->nantennas = 0;
	if (!p || !*p)
		return 0;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10);
		if (end == p || a < 1 || a > FEIG_ANTENNAS_MAX || (*end && *end != ',')) {
			snprintf(why, why_size,
				 "antennas = \"%s\": expected a list of antenna outputs 1..%d "
				 "(H20800 §6.7 switches two; multiplexers are not described there)",
				 list, FEIG_ANTENNAS_MAX);
			return -EINVAL;
		}
		for (size_t i = 0; i < f->nantennas; i++)
			if (f->antennas[i] == (int)a) {
				snprintf(why, why_size, "antennas = \"%s\": antenna %ld twice",
					 list, a);
				return -EINVAL;
			}
		f->antennas[f->nantennas++] = (int)a;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int feig_create(struct circd_instance *inst, const struct circd_host_api *host,
		       void **state)
{
	struct feig *f;
	const char *port = host->opt_string(inst, "port");
	int64_t addr = host->opt_int(inst, "bus_address");

	char why[256];
	int r;

	if (!port || !*port) {
		host->log(inst, CIRCD_LOG_ERR,
			  "option 'port' is required (serial:PATH:SPEED:FRAMING, tcp:HOST:PORT or usb:VID:PID[:SERIAL])");
		return -EINVAL;
	}
	r = feig_port_check(port, why, sizeof(why));
	if (r < 0) {
		host->log(inst, CIRCD_LOG_ERR, "%s", why);
		return r;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->inst = inst;
	f->host = host;
	f->port = port;
	f->usb = !strncmp(port, "usb:", 4);
	f->poll_ms = (int)host->opt_int(inst, "poll_ms");
	f->timeout_ms = (int)host->opt_int(inst, "timeout_ms");
	f->gone_after = (unsigned)host->opt_int(inst, "gone_after");
	f->blocks = (unsigned)host->opt_int(inst, "blocks");
	f->addr = (uint8_t)addr;
	f->afi_filter = (int)host->opt_int(inst, "afi_filter");
	f->rf_output = (uint8_t)host->opt_int(inst, "rf_output");
	r = parse_antennas(host->opt_string(inst, "antennas"), f, why, sizeof(why));
	if (r < 0) {
		host->log(inst, CIRCD_LOG_ERR, "%s", why);
		free(f);
		return r;
	}
	f->health = CIRCD_HEALTH_STARTING;
	f->backoff_ms = FEIG_BACKOFF_MIN_MS;
	*state = f;
	return 0;
}

static void feig_destroy(void *state)
{
	struct feig *f = state;

	feig_port_close(f);
#ifdef FEIG_USB
	feig_usb_free(f->u);
#endif
	free(f);
}

static const struct circd_option feig_options[] = {
	{ "port", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0,
	  "serial:/dev/ttyUSB0:38400:8E1, tcp:HOST:PORT or usb:0AB1:0002[:SERIAL]" },
	{ "poll_ms", CIRCD_OPT_INT, "100", 0, 10, 60000, "inventory every this many ms" },
	{ "timeout_ms", CIRCD_OPT_INT, "300", 0, 20, 10000,
	  "an answer not complete this long after the request is spoiled (or missing)" },
	{ "gone_after", CIRCD_OPT_INT, "2", 0, 1, 100,
	  "inventories without a UID before it is reported gone" },
	{ "blocks", CIRCD_OPT_INT, "8", 0, 1, 256, "user memory blocks read from a new tag" },
	{ "bus_address", CIRCD_OPT_INT, "255", 0, 0, 255,
	  "reader bus address (COM-ADR); 255 = any" },
	{ "afi_filter", CIRCD_OPT_INT, "-1", 0, -1, 255,
	  "inventory only tags of this AFI (reader CFG4, in RAM); -1 = no filter" },
	{ "rf_output", CIRCD_OPT_INT, "1", 0, 1, 2,
	  "antenna output OUTPUT rf 1 switches on (H20800 6.7 ANT_OUT)" },
	{ "antennas", CIRCD_OPT_STRING, NULL, 0, 0, 0,
	  "antenna outputs inventoried in turn, \"1,2\"; events carry the antenna; empty = no switching" },
	CIRCD_OPTION_END,
};

#ifdef FEIG_USB
/* FEIG ELECTRONIC's vendor id 0x0AB1 and the two product ids the USB ID
 * Repository (usb.ids, Debian package usb.ids 2025.07.26) lists for it.
 * H20800 names the USB models (ID CPR.04-USB, ID ISC.MR101-U, ...) but
 * not their ids; readers with other ids work with port = "usb:..." once
 * a udev rule gives circd access. */
static const struct circd_usb_id feig_usb_ids[] = {
	{ 0x0AB1, 0x0002, "FEIG OBID RFID-Reader (ISO-Host on USB bulk)" },
	{ 0x0AB1, 0x0004, "FEIG OBID classic-pro (ISO-Host on USB bulk)" },
	{ 0, 0, NULL },
};
#define FEIG_USB_IDS feig_usb_ids
#else
#define FEIG_USB_IDS NULL
#endif

CIRCD_PLUGIN_DEFINE_USB(feig, "1.1", "FEIG OBID ISO-Host reader (serial, TCP or USB)",
			CIRCD_KIND_READER, feig_options, feig_create, feig_run, feig_destroy,
			FEIG_USB_IDS);
