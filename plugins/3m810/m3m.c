/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 3m810 — 3M RFID staff readers (810 pad, Model 210 USB pad) speaking the
 * 3M reader protocol (spec v1.0.0, 2009), on a serial port (19200 8N1,
 * usually a USB-serial adapter) or over TCP through a serial-to-Ethernet
 * converter.
 *
 * Every `poll_ms` a Read Block UID (0xFE, the inventory) lists the UIDs in
 * the field.  A new UID is read once — Tag Info (0x0D) for DSFID, AFI and
 * memory size, Check EAS (0x03), then Read Multiblock (0x02) — and reported
 * as TAG_SEEN with its memory exactly as the reader returned it.  A UID
 * missing from `gone_after` inventories in a row is reported TAG_GONE.  The
 * 810 has one antenna: events carry antenna 0.
 *
 * Commands: WRITE_AFI (0x09) and SET_EAS (0x0C), each tried up to `retries`
 * times (AFI writes on the 810 are known to need several) and answered 0
 * only when reading back (Get AFI 0x0A / Check EAS 0x03) shows the value.
 * OUTPUT "blocks" (text = hex, value = first block) writes tag memory with
 * Write Multiblock (0x04) and reads it back the same way, for tag
 * programming.
 *
 * Health: OK while the reader answers; DEGRADED after several bad answers
 * in a row (each one counted, logged at debug with the totals, the input
 * drained); OFFLINE when the port is gone or `max_timeouts` requests in a
 * row get no answer at all (a pulled cable), reopened with backoff.  The
 * totals go to host->set_counters() (ABI 1.5) as they change: bad frames,
 * timeouts (no answer at all), device errors (the reader's error answers to
 * the inventory) and reconnects (answering again after a lost port).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m3m-plugin.h"

#define CONNECT_TIMEOUT_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define READ_CHUNK_BLOCKS 16 /* 16 x 6-byte entries: ~110-byte answers */
#define DEFAULT_SERIAL ":19200:8N1" /* spec §2 */

void m3m_set_health(struct m3m *m, enum circd_health h, const char *why)
{
	if (m->health == h)
		return;
	m->health = h;
	m->host->log(m->inst, h == CIRCD_HEALTH_OK ? CIRCD_LOG_INFO : CIRCD_LOG_WARNING, "%s: %s",
		     m->port, why);
	m->host->set_health(m->inst, h, why);
}

void m3m_publish_counters(struct m3m *m)
{
	const struct circd_device_counters c = {
		.struct_size = sizeof(c),
		.bad_frames = m->bad_frames,
		.timeouts = m->timeouts,
		.device_errors = m->reader_errors,
		.reconnects = m->reconnects,
	};

	if (c.bad_frames == m->published.bad_frames && c.timeouts == m->published.timeouts &&
	    c.device_errors == m->published.device_errors &&
	    c.reconnects == m->published.reconnects)
		return;
	m->published = c;
	/* a host older than ABI 1.5 has no set_counters() */
	if (m->host->struct_size >= offsetof(struct circd_host_api, set_counters) +
					    sizeof(m->host->set_counters) &&
	    m->host->set_counters)
		m->host->set_counters(m->inst, &c);
}

void m3m_port_lost(struct m3m *m, const char *why)
{
	char reason[TRANSPORT_REASON_MAX + 96];

	snprintf(reason, sizeof(reason), "%s (bad frames %llu, timeouts %llu)", why,
		 (unsigned long long)m->bad_frames, (unsigned long long)m->timeouts);
	transport_close(m->t);
	m->t = NULL;
	/* the next good answer, on a port opened again, is a reconnect */
	m->relinking = m->answered;
	m3m_set_health(m, CIRCD_HEALTH_OFFLINE, reason);
}

static int emit_retry(struct m3m *m, const struct circd_event *ev)
{
	int r;

	while ((r = m->host->emit(m->inst, ev)) == -ENOBUFS) {
		int w = m->host->wait(m->inst, -1, 0, 10);
		if (w > 0 && (w & CIRCD_WAKE_STOP)) {
			m->stopping = true;
			return -ECANCELED;
		}
	}
	return r;
}

/* Sleep in host->wait() (never elsewhere); false when asked to stop. */
static bool pause_ms(struct m3m *m, int ms)
{
	uint64_t end = m->host->now_monotonic_usec() + (uint64_t)ms * 1000;

	for (;;) {
		uint64_t now = m->host->now_monotonic_usec();
		if (now >= end)
			return true;
		int w = m->host->wait(m->inst, -1, 0, (int)((end - now + 999) / 1000));
		if (w < 0 || (w & CIRCD_WAKE_STOP)) {
			m->stopping = true;
			return false;
		}
		if (w & CIRCD_WAKE_COMMAND)
			return true; /* commands are answered promptly */
	}
}

/* Wait before the next attempt, doubling the wait each time. */
static void backoff(struct m3m *m)
{
	pause_ms(m, (int)m->backoff_ms);
	m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
}

static void connect_port(struct m3m *m)
{
	char why[TRANSPORT_REASON_MAX];
	uint8_t version[4], err = 0;
	int r = transport_open(m->port, CONNECT_TIMEOUT_MS, &m->t, why, sizeof(why));

	if (r < 0) {
		m3m_set_health(m, CIRCD_HEALTH_OFFLINE, why);
		backoff(m);
		return;
	}
	m->silent_run = 0;
	m->error_run = 0;
	m->host->log(m->inst, CIRCD_LOG_DEBUG, "opened %s", m->port);
	/* Say hello: Reader Version (0x11).  Health turns OK with the first
	 * good answer; a port that opens but does not answer is retried with
	 * the same backoff as one that does not open. */
	r = m3m_version(m, version, &err);
	if (r == 0) {
		m->backoff_ms = BACKOFF_MIN_MS;
		m->host->log(m->inst, CIRCD_LOG_INFO, "3M reader firmware %02x.%02x.%02x",
			     version[1], version[2], version[3]);
	} else if (r != -ECANCELED && !m->t) {
		backoff(m);
	}
}

static struct m3m_tag *find_tag(struct m3m *m, const uint8_t *uid)
{
	for (size_t i = 0; i < m->ntags; i++)
		if (!memcmp(m->tags[i].uid, uid, M3M_UID_LEN))
			return &m->tags[i];
	return NULL;
}

/* Read a new tag once and report it; -EAGAIN leaves it for the next cycle. */
static int report_tag(struct m3m *m, struct m3m_tag *tag)
{
	struct m3m_tag_info info;
	struct circd_event ev;
	size_t len = 0, block_size = 0;
	uint8_t err = 0, afi = 0;
	unsigned blocks = m->blocks;
	int eas = -1, afi_read = -1;
	int r;

	r = m3m_tag_info(m, tag->uid, M3M_INFO_DSFID | M3M_INFO_AFI | M3M_INFO_MEMSIZE, &info,
			 &err);
	if (r == -EIO && (err == M3M_NOT_IMPLEMENTED || err == M3M_NOT_SUPPORTED)) {
		info = (struct m3m_tag_info){ 0 }; /* older firmware: read what we can */
	} else if (r < 0) {
		return r == -EIO ? -EAGAIN : r; /* gone again: retry next cycle */
	}
	if (info.avail & M3M_INFO_AFI) {
		afi_read = info.afi;
	} else {
		r = m3m_get_afi(m, tag->uid, &afi, &err);
		if (r == 0)
			afi_read = afi;
		else if (r != -EIO)
			return r;
		else if (err == M3M_NO_TRANSPONDER)
			return -EAGAIN;
	}
	/* §7.13: "no transponder" here means EAS 0 (the tag just answered) */
	r = m3m_check_eas(m, tag->uid, &eas, &err);
	if (r == -EIO)
		eas = -1; /* not an NXP tag, or the reader cannot ask */
	else if (r < 0)
		return r;

	if ((info.avail & M3M_INFO_MEMSIZE) && info.blocks < blocks)
		blocks = info.blocks;
	for (unsigned first = 0; first < blocks; first += READ_CHUNK_BLOCKS) {
		unsigned n = blocks - first < READ_CHUNK_BLOCKS ? blocks - first : READ_CHUNK_BLOCKS;
		if (len + n * M3M_BLOCK_MAX > sizeof(m->mem))
			break;
		r = m3m_read_blocks(m, tag->uid, first, n, &len, &block_size, &err);
		/* a tag smaller than `blocks` that did not say its size: keep
		 * what was read */
		if (r == -EIO && err == M3M_MEM_NOT_AVAILABLE && len)
			break;
		if (r < 0)
			return r == -EIO ? -EAGAIN : r;
	}
	circd_event_init(&ev, CIRCD_EV_TAG_SEEN);
	memcpy(ev.uid, tag->uid, M3M_UID_LEN);
	ev.uid_len = M3M_UID_LEN;
	ev.afi = (int16_t)afi_read;
	ev.dsfid = (info.avail & M3M_INFO_DSFID) ? info.dsfid : tag->dsfid;
	ev.eas = (int8_t)eas;
	ev.memory = len ? m->mem : NULL;
	ev.memory_len = (uint32_t)len;
	ev.block_size = (uint32_t)block_size;
	r = emit_retry(m, &ev);
	if (r < 0)
		return r;
	tag->reported = true;
	return 0;
}

static int emit_gone(struct m3m *m, const struct m3m_tag *tag)
{
	struct circd_event ev;

	circd_event_init(&ev, CIRCD_EV_TAG_GONE);
	memcpy(ev.uid, tag->uid, M3M_UID_LEN);
	ev.uid_len = M3M_UID_LEN;
	return emit_retry(m, &ev);
}

static int inventory_cycle(struct m3m *m)
{
	struct m3m_inventory_tag seen[M3M_MAX_TAGS];
	size_t count = 0;
	uint8_t err = 0;
	int r = m3m_inventory(m, seen, M3M_MAX_TAGS, &count, &err);

	if (r == -EIO && err == M3M_OPTION_NOT_SUPPORTED && (m->inv_options & M3M_INV_DSFID)) {
		/* older firmware: UIDs only */
		m->host->log(m->inst, CIRCD_LOG_INFO,
			     "reader cannot report DSFIDs in the inventory; asking for UIDs only");
		m->inv_options = M3M_INV_UID;
		return 0;
	}
	if (r == -EIO) {
		/* The reader answered, with an error: says nothing about
		 * which tags are there, so nobody ages this cycle. */
		m->reader_errors++;
		m3m_publish_counters(m);
		m->host->log(m->inst, CIRCD_LOG_DEBUG, "inventory: %s (0x%02x), %llu so far",
			     m3m_error_text(err), err, (unsigned long long)m->reader_errors);
		return 0;
	}
	if (r < 0)
		return r;

	/* the same UID may come twice in one answer (§7.1 remarks) */
	for (size_t i = 0; i < count; i++) {
		struct m3m_tag *tag = find_tag(m, seen[i].uid);
		if (!tag && m->ntags < M3M_MAX_TAGS) {
			tag = &m->tags[m->ntags++];
			*tag = (struct m3m_tag){ .dsfid = seen[i].dsfid };
			memcpy(tag->uid, seen[i].uid, M3M_UID_LEN);
		}
		if (tag)
			tag->missed = 0;
	}
	/* Departures first (cheap), then the reads of new arrivals. */
	for (size_t i = 0; i < m->ntags;) {
		struct m3m_tag *tag = &m->tags[i];
		bool present = false;
		for (size_t j = 0; j < count && !present; j++)
			present = !memcmp(seen[j].uid, tag->uid, M3M_UID_LEN);
		if (present || ++tag->missed < m->gone_after) {
			i++;
			continue;
		}
		if (tag->reported && (r = emit_gone(m, tag)) < 0)
			return r;
		m->tags[i] = m->tags[--m->ntags];
	}
	for (size_t i = 0; i < m->ntags; i++) {
		if (m->tags[i].reported || m->tags[i].missed)
			continue;
		r = report_tag(m, &m->tags[i]);
		if (r < 0 && r != -EAGAIN)
			return r;
	}
	return 0;
}

/* Why the last attempt failed, for the command's detail. */
static void attempt_failed(char *why, size_t size, int r, uint8_t err)
{
	if (r == -EIO)
		snprintf(why, size, "reader: %s (0x%02x)", m3m_error_text(err), err);
	else
		snprintf(why, size, "no valid answer from the reader");
}

/* Finish a command whose attempts all failed (or that was cut short). */
static void command_failed(struct m3m *m, const struct circd_command *cmd, int r,
			   unsigned attempts, const char *what, const char *why)
{
	char detail[200];

	if (r == -ECANCELED) {
		m->host->command_done(m->inst, cmd, -ECANCELED, "stopping");
		return;
	}
	if (r == -ENOTCONN) {
		m->host->command_done(m->inst, cmd, -ENOTCONN, "reader went offline");
		return;
	}
	snprintf(detail, sizeof(detail), "%s not confirmed after %u attempt%s: %s", what, attempts,
		 attempts == 1 ? "" : "s", why);
	m->host->log(m->inst, CIRCD_LOG_WARNING, "%s", detail);
	m->host->command_done(m->inst, cmd, -EIO, detail);
}

static void write_afi(struct m3m *m, const struct circd_command *cmd)
{
	uint8_t want = (uint8_t)cmd->value, got = 0, werr = 0, err = 0;
	char why[120] = "";
	unsigned attempt;
	int r = 0;

	for (attempt = 1; attempt <= m->retries; attempt++) {
		r = m3m_write_afi(m, cmd->uid, want, &werr);
		if (r == -ECANCELED || r == -ENOTCONN)
			break;
		/* read back even after an error: the write may have taken */
		int rb = m3m_get_afi(m, cmd->uid, &got, &err);
		if (rb == -ECANCELED || rb == -ENOTCONN) {
			r = rb;
			break;
		}
		if (rb == 0 && got == want) {
			if (attempt > 1)
				m->host->log(m->inst, CIRCD_LOG_INFO,
					     "AFI 0x%02x written on attempt %u", want, attempt);
			m->host->command_done(m->inst, cmd, 0, NULL);
			return;
		}
		if (r < 0)
			attempt_failed(why, sizeof(why), r, werr);
		else if (rb == 0)
			snprintf(why, sizeof(why), "read back AFI 0x%02x, wanted 0x%02x", got, want);
		else
			attempt_failed(why, sizeof(why), rb, err);
		m->host->log(m->inst, CIRCD_LOG_DEBUG, "AFI write attempt %u: %s", attempt, why);
		r = -EIO;
	}
	command_failed(m, cmd, r, attempt > m->retries ? m->retries : attempt, "AFI write", why);
}

static void set_eas(struct m3m *m, const struct circd_command *cmd)
{
	bool on = cmd->value != 0;
	uint8_t werr = 0, err = 0, afi = 0;
	char why[120] = "";
	unsigned attempt;
	int eas = -1, r = 0;

	for (attempt = 1; attempt <= m->retries; attempt++) {
		r = m3m_eas_control(m, cmd->uid, on, &werr);
		if (r == -ECANCELED || r == -ENOTCONN)
			break;
		int rb = m3m_check_eas(m, cmd->uid, &eas, &err);
		/* EAS 0 and "no tag" look the same (§7.13): an EAS of 0
		 * counts only when the tag still answers a Get AFI */
		if (rb == 0 && eas == 0 && !on)
			rb = m3m_get_afi(m, cmd->uid, &afi, &err);
		if (rb == -ECANCELED || rb == -ENOTCONN) {
			r = rb;
			break;
		}
		if (rb == 0 && eas == (on ? 1 : 0)) {
			if (attempt > 1)
				m->host->log(m->inst, CIRCD_LOG_INFO, "EAS %s on attempt %u",
					     on ? "set" : "cleared", attempt);
			m->host->command_done(m->inst, cmd, 0, NULL);
			return;
		}
		if (r < 0)
			attempt_failed(why, sizeof(why), r, werr);
		else if (rb == 0)
			snprintf(why, sizeof(why), "read back EAS %d, wanted %d", eas, on ? 1 : 0);
		else
			attempt_failed(why, sizeof(why), rb, err);
		m->host->log(m->inst, CIRCD_LOG_DEBUG, "EAS attempt %u: %s", attempt, why);
		r = -EIO;
	}
	command_failed(m, cmd, r, attempt > m->retries ? m->retries : attempt, "EAS change", why);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "0011AABB" -> bytes; -EINVAL for anything else or too long */
static int hex_decode(const char *text, uint8_t *out, size_t size, size_t *len)
{
	size_t n = text ? strlen(text) : 0;

	if (n == 0 || n % 2 || n / 2 > size)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* OUTPUT "blocks": write text (hex) from block `value` on, then read the
 * blocks back.  For tag programming; the core does not send it (yet). */
static void write_blocks(struct m3m *m, const struct circd_command *cmd)
{
	struct m3m_tag_info info;
	uint8_t data[64], werr = 0, err = 0;
	size_t n = 0, bs = 4;
	char why[120] = "";
	unsigned attempt;
	int r;

	if (hex_decode(cmd->text, data, sizeof(data), &n) < 0 || cmd->value < 0 ||
	    cmd->value > 255) {
		m->host->command_done(m->inst, cmd, -EINVAL,
				      "need text = 1..64 bytes of hex and value = first block 0..255");
		return;
	}
	/* the tag's block size, when it says (ICODE: 4) */
	r = m3m_tag_info(m, cmd->uid, M3M_INFO_MEMSIZE, &info, &err);
	if (r == -ECANCELED || r == -ENOTCONN) {
		command_failed(m, cmd, r, 1, "block write", "");
		return;
	}
	if (r == 0 && (info.avail & M3M_INFO_MEMSIZE) && info.block_size <= M3M_BLOCK_MAX)
		bs = info.block_size;
	if (n % bs) {
		snprintf(why, sizeof(why), "%zu bytes are not whole %zu-byte blocks", n, bs);
		m->host->command_done(m->inst, cmd, -EINVAL, why);
		return;
	}
	unsigned first = (unsigned)cmd->value, count = (unsigned)(n / bs);
	for (attempt = 1; attempt <= m->retries; attempt++) {
		size_t len = 0, got_bs = 0;
		r = m3m_write_blocks(m, cmd->uid, first, count, data, bs, &werr);
		if (r == -ECANCELED || r == -ENOTCONN)
			break;
		int rb = m3m_read_blocks(m, cmd->uid, first, count, &len, &got_bs, &err);
		if (rb == -ECANCELED || rb == -ENOTCONN) {
			r = rb;
			break;
		}
		if (rb == 0 && len == n && !memcmp(m->mem, data, n)) {
			m->host->command_done(m->inst, cmd, 0, NULL);
			return;
		}
		if (r < 0)
			attempt_failed(why, sizeof(why), r, werr);
		else if (rb == 0)
			snprintf(why, sizeof(why), "read back other data in blocks %u..%u", first,
				 first + count - 1);
		else
			attempt_failed(why, sizeof(why), rb, err);
		m->host->log(m->inst, CIRCD_LOG_DEBUG, "block write attempt %u: %s", attempt, why);
		r = -EIO;
	}
	command_failed(m, cmd, r, attempt > m->retries ? m->retries : attempt, "block write", why);
}

static void handle_commands(struct m3m *m)
{
	struct circd_command cmd = { .struct_size = sizeof(cmd) };

	while (m->host->take_command(m->inst, &cmd) == 1) {
		bool blocks = cmd.type == CIRCD_CMD_OUTPUT && cmd.name && !strcmp(cmd.name, "blocks");
		bool tag_cmd = cmd.type == CIRCD_CMD_WRITE_AFI || cmd.type == CIRCD_CMD_SET_EAS ||
			       blocks;
		if (m->stopping)
			m->host->command_done(m->inst, &cmd, -ECANCELED, "stopping");
		else if (!tag_cmd)
			m->host->command_done(m->inst, &cmd, -EOPNOTSUPP, "not a reader command");
		else if (cmd.uid_len != M3M_UID_LEN)
			m->host->command_done(m->inst, &cmd, -EINVAL, "need an 8-byte UID");
		else if (cmd.type == CIRCD_CMD_WRITE_AFI && (cmd.value < 0 || cmd.value > 255))
			m->host->command_done(m->inst, &cmd, -EINVAL, "AFI must be 0..255");
		else if (cmd.type == CIRCD_CMD_SET_EAS && cmd.value != 0 && cmd.value != 1)
			m->host->command_done(m->inst, &cmd, -EINVAL, "EAS must be 0 or 1");
		else if (!m->t)
			m->host->command_done(m->inst, &cmd, -ENOTCONN, "reader offline");
		else if (blocks)
			write_blocks(m, &cmd);
		else if (cmd.type == CIRCD_CMD_WRITE_AFI)
			write_afi(m, &cmd);
		else
			set_eas(m, &cmd);
	}
}

static int m3m_run(void *state)
{
	struct m3m *m = state;

	while (!m->stopping) {
		/* first: a command queued while offline is refused at once */
		handle_commands(m);
		if (m->stopping)
			break;
		if (!m->t) {
			connect_port(m);
			continue;
		}
		if (inventory_cycle(m) == -ECANCELED)
			break;
		if (!m->t) {
			/* port lost: keep the tags; after the reconnect the
			 * inventory says which are still there */
			backoff(m);
			continue;
		}
		pause_ms(m, m->poll_ms);
	}
	/* answer what is still queued */
	handle_commands(m);
	return 0;
}

/* "serial:PATH" without a speed gets the 3M default, 19200 8N1. */
static int set_port(struct m3m *m, const char *port)
{
	bool serial = !strncmp(port, "serial:", 7);
	bool bare = serial && !strchr(port + 7, ':');
	int n = snprintf(m->port, sizeof(m->port), "%s%s", port, bare ? DEFAULT_SERIAL : "");

	return n < 0 || (size_t)n >= sizeof(m->port) ? -ENAMETOOLONG : 0;
}

static int m3m_create(struct circd_instance *inst, const struct circd_host_api *host,
		      void **state)
{
	struct m3m *m;
	const char *port = host->opt_string(inst, "port");

	if (!port || !*port) {
		host->log(inst, CIRCD_LOG_ERR,
			  "option 'port' is required (serial:PATH[:SPEED:FRAMING] or tcp:HOST:PORT)");
		return -EINVAL;
	}
	if (strncmp(port, "serial:", 7) && strncmp(port, "tcp:", 4)) {
		host->log(inst, CIRCD_LOG_ERR,
			  "port '%s': expected serial:PATH[:SPEED:FRAMING] or tcp:HOST:PORT", port);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (set_port(m, port) < 0) {
		host->log(inst, CIRCD_LOG_ERR, "port '%s': too long", port);
		free(m);
		return -EINVAL;
	}
	m->inst = inst;
	m->host = host;
	m->poll_ms = (int)host->opt_int(inst, "poll_ms");
	m->gone_after = (unsigned)host->opt_int(inst, "gone_after");
	m->blocks = (unsigned)host->opt_int(inst, "blocks");
	m->retries = (unsigned)host->opt_int(inst, "retries");
	m->timeout_ms = (int)host->opt_int(inst, "timeout_ms");
	m->max_timeouts = (unsigned)host->opt_int(inst, "max_timeouts");
	m->inv_options = M3M_INV_UID | M3M_INV_DSFID;
	m->health = CIRCD_HEALTH_STARTING;
	m->backoff_ms = BACKOFF_MIN_MS;
	*state = m;
	return 0;
}

static void m3m_destroy(void *state)
{
	struct m3m *m = state;

	if (m->bad_frames || m->timeouts || m->stray_bytes || m->reader_errors)
		m->host->log(m->inst, CIRCD_LOG_INFO,
			     "bad frames %llu, timeouts %llu, stray bytes %llu, reader errors %llu",
			     (unsigned long long)m->bad_frames, (unsigned long long)m->timeouts,
			     (unsigned long long)m->stray_bytes,
			     (unsigned long long)m->reader_errors);
	transport_close(m->t);
	free(m);
}

static const struct circd_option m3m_options[] = {
	{ "port", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0,
	  "serial:/dev/ttyUSB0 (19200 8N1 unless given) or tcp:HOST:PORT" },
	{ "poll_ms", CIRCD_OPT_INT, "200", 0, 10, 60000, "inventory every this many ms" },
	{ "gone_after", CIRCD_OPT_INT, "2", 0, 1, 100,
	  "inventories without a UID before it is reported gone" },
	{ "blocks", CIRCD_OPT_INT, "8", 0, 1, 256, "user memory blocks read from a new tag" },
	{ "retries", CIRCD_OPT_INT, "5", 0, 1, 100,
	  "attempts at an AFI or EAS write before it is reported failed" },
	{ "timeout_ms", CIRCD_OPT_INT, "500", 0, 20, 10000, "how long to wait for each answer" },
	{ "max_timeouts", CIRCD_OPT_INT, "3", 0, 1, 100,
	  "requests in a row without any answer before the reader counts as unplugged" },
	CIRCD_OPTION_END,
};

CIRCD_PLUGIN_DEFINE(3m810, "1.0", "3M 810 / Model 210 RFID reader (serial or TCP)",
		    CIRCD_KIND_READER, m3m_options, m3m_create, m3m_run, m3m_destroy);
