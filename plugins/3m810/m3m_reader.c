/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Talking to the reader: one request, one answer, and the commands built on
 * that.  The reader only speaks when spoken to ("the host should not send
 * another command until a complete response has been received", spec §1),
 * so anything waiting in the input before a request is a leftover of an
 * earlier fault: it is drained, and every exchange starts in sync.  Within
 * an answer, bytes before the start byte are skipped and a start byte whose
 * length or BCC does not check is passed over (m3m_frame_scan()).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "m3m-plugin.h"

#define WRITE_TIMEOUT_MS 200
#define DEGRADED_AFTER 3 /* bad or missing answers in a row */

static void count_error(struct m3m *m, const char *what)
{
	m->error_run++;
	m->host->log(m->inst, CIRCD_LOG_DEBUG,
		     "%s (bad frames %llu, timeouts %llu, stray bytes %llu); resynchronising",
		     what, (unsigned long long)m->bad_frames, (unsigned long long)m->timeouts,
		     (unsigned long long)m->stray_bytes);
	if (m->error_run >= DEGRADED_AFTER && m->health == CIRCD_HEALTH_OK) {
		char why[160];
		snprintf(why, sizeof(why),
			 "reader answers badly or not at all (bad frames %llu, timeouts %llu)",
			 (unsigned long long)m->bad_frames, (unsigned long long)m->timeouts);
		m3m_set_health(m, CIRCD_HEALTH_DEGRADED, why);
	}
	if (m->t)
		transport_drain(m->t);
}

/*
 * Read until a whole frame is in m->rx: 0 with *start and *len, -ETIMEDOUT
 * (with *got = bytes received: 0 = silence), -EILSEQ for a damaged answer,
 * or a negative errno from the port.
 */
static int read_frame(struct m3m *m, size_t *start, size_t *len, size_t *got,
		      unsigned *rejected)
{
	uint64_t deadline = m->host->now_monotonic_usec() + (uint64_t)m->timeout_ms * 1000;
	size_t have = 0;

	*got = 0;
	*rejected = 0;
	for (;;) {
		struct m3m_scan scan;
		if (have) {
			int found = m3m_frame_scan(m->rx, have, &scan);
			m->bad_frames += scan.rejected;
			*rejected += scan.rejected;
			if (found) {
				m->stray_bytes += scan.skip;
				*start = scan.skip;
				*len = scan.frame_len;
				return 0;
			}
			/* a complete answer with a wrong BCC and nothing after
			 * it: the reader has said all it will say */
			if (scan.bad_crc && scan.skip == have)
				return -EILSEQ;
			/* keep only what may still become a frame */
			if (scan.skip) {
				m->stray_bytes += scan.skip;
				memmove(m->rx, m->rx + scan.skip, have - scan.skip);
				have -= scan.skip;
			}
			if (have == sizeof(m->rx)) {
				/* cannot happen: a candidate is at most
				 * M3M_FRAME_MAX, half the buffer; be safe */
				return -EILSEQ;
			}
		}
		uint64_t now = m->host->now_monotonic_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		int left_ms = (int)((deadline - now + 999) / 1000);
		int w = m->host->wait(m->inst, transport_fd(m->t), POLLIN, left_ms);
		if (w < 0)
			return w;
		if (w & CIRCD_WAKE_STOP) {
			m->stopping = true;
			return -ECANCELED;
		}
		/* A queued command also wakes us: it waits for the next
		 * cycle, the answer is read now (briefly blocking if need be). */
		ssize_t n = transport_read(m->t, m->rx + have, sizeof(m->rx) - have,
					   (w & CIRCD_WAKE_FD) ? 0 : (left_ms < 10 ? left_ms : 10));
		if (n < 0)
			return (int)n;
		have += (size_t)n;
		*got += (size_t)n;
	}
}

static int request(struct m3m *m, uint8_t cmd, const uint8_t *data, size_t len,
		   struct m3m_answer *a)
{
	uint8_t req[96];
	size_t start = 0, alen = 0, got = 0;
	unsigned rejected = 0;
	int r, n;

	if (!m->t)
		return -ENOTCONN;
	ssize_t stale = transport_drain(m->t);
	if (stale > 0) {
		m->stray_bytes += (uint64_t)stale;
		m->host->log(m->inst, CIRCD_LOG_DEBUG, "dropped %zd stray bytes", stale);
	}
	n = m3m_frame_encode(cmd, data, len, req, sizeof(req));
	if (n < 0)
		return n;
	r = stale < 0 ? (int)stale : transport_write_all(m->t, req, (size_t)n, WRITE_TIMEOUT_MS);
	if (r == 0)
		r = read_frame(m, &start, &alen, &got, &rejected);
	if (r == -ECANCELED)
		return r;
	if (r == -ETIMEDOUT && got == 0) {
		m->timeouts++;
		if (++m->silent_run >= m->max_timeouts) {
			char why[96];
			snprintf(why, sizeof(why), "no answer to %u requests in a row",
				 m->silent_run);
			m->silent_run = 0;
			m->error_run = 0;
			m3m_port_lost(m, why);
			return -ENOTCONN;
		}
		count_error(m, "no answer");
		return -EBADMSG;
	}
	if (r == -ETIMEDOUT || r == -EILSEQ) {
		/* something came, but no frame: counted once per exchange
		 * (the scan has counted the start bytes it passed over) */
		m->silent_run = 0;
		if (!rejected)
			m->bad_frames++;
		count_error(m, r == -EILSEQ ? "bad BCC" : "incomplete or garbled answer");
		return -EBADMSG;
	}
	if (r < 0) {
		m3m_port_lost(m, m->t && transport_reason(m->t)[0] ? transport_reason(m->t)
								  : "port error");
		return -ENOTCONN;
	}
	m->silent_run = 0;
	r = m3m_answer_decode(m->rx + start, alen, a);
	if (r == 0 && a->cmd != cmd)
		r = -EPROTO;
	if (r < 0) {
		m->bad_frames++;
		count_error(m, r == -EPROTO ? "answer to another command" : "bad frame");
		return -EBADMSG;
	}
	m->error_run = 0;
	m->answered = true;
	if (m->relinking) {
		/* answering again after the port was lost: counted before
		 * the health says OK */
		m->relinking = false;
		m->reconnects++;
		m3m_publish_counters(m);
	}
	if (m->health != CIRCD_HEALTH_OK)
		m3m_set_health(m, CIRCD_HEALTH_OK, "reader answers");
	return 0;
}

int m3m_request(struct m3m *m, uint8_t cmd, const uint8_t *data, size_t len,
		struct m3m_answer *a)
{
	int r = request(m, cmd, data, len, a);

	/* bad frames may be counted on the way to a good answer too (start
	 * bytes passed over) */
	m3m_publish_counters(m);
	return r;
}

/* An answer that arrived but does not parse: counted like a bad frame. */
static int unparsable(struct m3m *m, const char *what)
{
	m->bad_frames++;
	m3m_publish_counters(m);
	count_error(m, what);
	return -EBADMSG;
}

/* Request + "error code must be OK" */
static int command(struct m3m *m, uint8_t cmd, const uint8_t *data, size_t len,
		   struct m3m_answer *a, uint8_t *err)
{
	int r = m3m_request(m, cmd, data, len, a);

	if (r < 0)
		return r;
	*err = a->error;
	return a->error == M3M_OK ? 0 : -EIO;
}

/* An addressed command: UID, then `extra`. */
static int addressed(struct m3m *m, uint8_t cmd, const uint8_t uid[M3M_UID_LEN],
		     const uint8_t *extra, size_t extra_len, struct m3m_answer *a, uint8_t *err)
{
	uint8_t req[M3M_UID_LEN + 80];

	if (extra_len > sizeof(req) - M3M_UID_LEN)
		return -EMSGSIZE;
	memcpy(req, uid, M3M_UID_LEN);
	if (extra_len)
		memcpy(req + M3M_UID_LEN, extra, extra_len);
	return command(m, cmd, req, M3M_UID_LEN + extra_len, a, err);
}

int m3m_version(struct m3m *m, uint8_t version[4], uint8_t *err)
{
	struct m3m_answer a;
	int r = command(m, M3M_CMD_VERSION, NULL, 0, &a, err);

	if (r < 0)
		return r;
	if (m3m_parse_version(a.data, a.data_len, version) < 0)
		return unparsable(m, "version answer does not parse");
	return 0;
}

int m3m_inventory(struct m3m *m, struct m3m_inventory_tag *tags, size_t max, size_t *count,
		  uint8_t *err)
{
	/* AFI 0 = every tag (§7.1) */
	uint8_t req[2] = { 0x00, m->inv_options };
	struct m3m_answer a;
	int r = command(m, M3M_CMD_INVENTORY, req, sizeof(req), &a, err);

	*count = 0;
	if (r == -EIO && *err == M3M_NO_TRANSPONDER)
		return 0;
	if (r < 0)
		return r;
	if (m3m_parse_inventory(a.data, a.data_len, tags, max, count) < 0)
		return unparsable(m, "inventory answer does not parse");
	return 0;
}

int m3m_tag_info(struct m3m *m, const uint8_t uid[M3M_UID_LEN], uint8_t want,
		 struct m3m_tag_info *info, uint8_t *err)
{
	struct m3m_answer a;
	int r = addressed(m, M3M_CMD_TAG_INFO, uid, &want, 1, &a, err);

	if (r < 0)
		return r;
	if (m3m_parse_tag_info(a.data, a.data_len, uid, info) < 0)
		return unparsable(m, "tag info answer does not parse");
	return 0;
}

int m3m_read_blocks(struct m3m *m, const uint8_t uid[M3M_UID_LEN], unsigned first,
		    unsigned count, size_t *len, size_t *block_size, uint8_t *err)
{
	uint8_t req[2] = { (uint8_t)first, (uint8_t)count };
	struct m3m_answer a;
	size_t blocks = 0, bs = 0;
	int r = addressed(m, M3M_CMD_READ_BLOCKS, uid, req, sizeof(req), &a, err);

	if (r < 0)
		return r;
	r = m3m_parse_read_blocks(a.data, a.data_len, uid, first, m->mem + *len,
				  sizeof(m->mem) - *len, &blocks, &bs, err);
	if (r == -EIO)
		return r; /* a block's status is an error code */
	if (r < 0 || blocks != count || (*block_size && bs != *block_size))
		return unparsable(m, "read blocks answer does not parse");
	*len += blocks * bs;
	*block_size = bs;
	return 0;
}

int m3m_write_blocks(struct m3m *m, const uint8_t uid[M3M_UID_LEN], unsigned first,
		     unsigned count, const uint8_t *data, size_t block_size, uint8_t *err)
{
	uint8_t req[3 + 64];
	struct m3m_answer a;
	int value;

	if (count * block_size > sizeof(req) - 3)
		return -EMSGSIZE;
	/* first block, count, reserved flags (0), the data (§7.6) */
	req[0] = (uint8_t)first;
	req[1] = (uint8_t)count;
	req[2] = 0;
	memcpy(req + 3, data, count * block_size);
	int r = addressed(m, M3M_CMD_WRITE_BLOCKS, uid, req, 3 + count * block_size, &a, err);
	if (r < 0)
		return r;
	if (m3m_parse_uid_byte(a.data, a.data_len, uid, &value) < 0)
		return unparsable(m, "write blocks answer does not parse");
	return 0;
}

int m3m_get_afi(struct m3m *m, const uint8_t uid[M3M_UID_LEN], uint8_t *afi, uint8_t *err)
{
	struct m3m_answer a;
	int value = -1;
	int r = addressed(m, M3M_CMD_GET_AFI, uid, NULL, 0, &a, err);

	if (r < 0)
		return r;
	if (m3m_parse_uid_byte(a.data, a.data_len, uid, &value) < 0 || value < 0)
		return unparsable(m, "get AFI answer does not parse");
	*afi = (uint8_t)value;
	return 0;
}

int m3m_write_afi(struct m3m *m, const uint8_t uid[M3M_UID_LEN], uint8_t afi, uint8_t *err)
{
	struct m3m_answer a;
	int value;
	int r = addressed(m, M3M_CMD_WRITE_AFI, uid, &afi, 1, &a, err);

	if (r < 0)
		return r;
	if (m3m_parse_uid_byte(a.data, a.data_len, uid, &value) < 0)
		return unparsable(m, "write AFI answer does not parse");
	return 0;
}

int m3m_check_eas(struct m3m *m, const uint8_t uid[M3M_UID_LEN], int *eas, uint8_t *err)
{
	struct m3m_answer a;
	int value = -1;
	int r = addressed(m, M3M_CMD_CHECK_EAS, uid, NULL, 0, &a, err);

	if (r == -EIO && *err == M3M_NO_TRANSPONDER) {
		*eas = 0;
		return 0;
	}
	if (r < 0)
		return r;
	if (m3m_parse_uid_byte(a.data, a.data_len, uid, &value) < 0 || value < 0 || value > 1)
		return unparsable(m, "check EAS answer does not parse");
	*eas = value;
	return 0;
}

int m3m_eas_control(struct m3m *m, const uint8_t uid[M3M_UID_LEN], bool on, uint8_t *err)
{
	struct m3m_answer a;
	uint8_t v = on ? 1 : 0;
	int value;
	int r = addressed(m, M3M_CMD_EAS_CONTROL, uid, &v, 1, &a, err);

	if (r < 0)
		return r;
	if (m3m_parse_uid_byte(a.data, a.data_len, uid, &value) < 0)
		return unparsable(m, "EAS control answer does not parse");
	return 0;
}
