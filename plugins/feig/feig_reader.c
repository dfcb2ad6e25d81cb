/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Talking to the reader: one request, one answer, and the ISO host commands
 * built on that.  The reader only speaks when spoken to, so anything waiting
 * in the input before a request is a leftover of an earlier fault: it is
 * drained, and every exchange starts in sync.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "feig-plugin.h"

/* A reader answers an inventory within ~30 ms and a 16-block read within
 * ~50 ms (rfid.md §3); anything slower is a lost answer. */
#define WRITE_TIMEOUT_MS 200
#define DEGRADED_AFTER 3 /* bad or missing answers in a row */

static void count_error(struct feig *f, const char *what)
{
	f->error_run++;
	f->host->log(f->inst, CIRCD_LOG_DEBUG,
		     "%s (bad frames %llu, timeouts %llu); resynchronising", what,
		     (unsigned long long)f->bad_frames, (unsigned long long)f->timeouts);
	if (f->error_run >= DEGRADED_AFTER && f->health == CIRCD_HEALTH_OK) {
		char why[160], counts[FEIG_COUNTS_MAX];
		feig_counts(f, counts, sizeof(counts));
		snprintf(why, sizeof(why), "reader answers badly or not at all (%s)", counts);
		feig_set_health(f, CIRCD_HEALTH_DEGRADED, why);
	}
	if (feig_port_is_open(f) && feig_port_drain(f, true) == -ENODEV)
		feig_port_lost(f, "unplugged (while resynchronising)");
}

/*
 * Read until one whole frame is in f->rx: 0 and *len, -ETIMEDOUT when no
 * whole frame came in time, -EBADMSG for a length no answer can have, or
 * a negative errno from the port.  *got is what did arrive (0 = silence):
 * a timeout after some bytes is a garbled or truncated answer, not a
 * missing one (garbage whose first byte claims a longer frame ends so).
 */
static int read_frame(struct feig *f, size_t *len, size_t *got)
{
	uint64_t deadline = f->host->now_monotonic_usec() + (uint64_t)f->timeout_ms * 1000ull;
	size_t have = 0, need = 0;

	*got = 0;
	for (;;) {
		if (!need || have < need) {
			int r = feig_frame_length(f->rx, have, &need);
			if (r == -EBADMSG)
				return r;
			if (r == -EAGAIN)
				need = 0;
			else if (need > sizeof(f->rx))
				return -EBADMSG;
		}
		if (need && have >= need) {
			*len = need;
			return 0;
		}
		uint64_t now = f->host->now_monotonic_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		int left_ms = (int)((deadline - now + 999) / 1000);
		size_t want = need ? need - have : 1; /* never read past the frame */
		ssize_t n = feig_port_read(f, f->rx + have, want, left_ms);
		if (n < 0)
			return (int)n;
		have += (size_t)n;
		*got = have;
	}
}

int feig_request(struct feig *f, uint8_t cmd, const uint8_t *data, size_t len,
		 struct feig_answer *a)
{
	uint8_t req[3 + 2 + 4 + FEIG_UID_LEN + FEIG_WRITE_MAX + 2]; /* the longest: [0xB0 0x24] */
	size_t alen = 0, got = 0;
	int r, n;

	if (!feig_port_is_open(f))
		return -ENOTCONN;
	ssize_t stale = feig_port_drain(f, false);
	if (stale > 0)
		f->host->log(f->inst, CIRCD_LOG_DEBUG, "dropped %zd stray bytes", stale);
	n = feig_frame_encode(f->addr, cmd, data, len, req, sizeof(req));
	if (n < 0)
		return n;
	r = stale < 0 ? (int)stale : feig_port_write(f, req, (size_t)n, WRITE_TIMEOUT_MS);
	if (r == 0)
		r = read_frame(f, &alen, &got);
	if (r == -ECANCELED)
		return r;
	if (r == -ETIMEDOUT && got == 0) {
		f->timeouts++;
		count_error(f, "no answer");
		return -EBADMSG;
	}
	if (r == -ETIMEDOUT) {
		/* bytes came, but not the frame they announced */
		f->bad_frames++;
		count_error(f, "incomplete or garbled answer");
		return -EBADMSG;
	}
	if (r == -EBADMSG) {
		f->bad_frames++;
		count_error(f, "bad frame length");
		return -EBADMSG;
	}
	if (r < 0) {
		char why[TRANSPORT_REASON_MAX + 16];
		const char *reason = feig_port_reason(f);
		/* LIBUSB_ERROR_NO_DEVICE, a pty or TCP peer gone, ... */
		snprintf(why, sizeof(why), "%s%s", r == -ENODEV ? "unplugged: " : "",
			 reason[0] ? reason : "port error");
		feig_port_lost(f, why);
		return -ENOTCONN;
	}
	r = feig_answer_decode(f->rx, alen, a);
	if (r == 0 && (a->cmd != cmd || (f->addr != 0xFF && a->addr != f->addr)))
		r = -EPROTO;
	if (r < 0) {
		f->bad_frames++;
		count_error(f, r == -EILSEQ ? "bad CRC" : r == -EPROTO ? "answer to another command"
									: "bad frame");
		return -EBADMSG;
	}
	f->error_run = 0;
	if (f->health != CIRCD_HEALTH_OK)
		feig_set_health(f, CIRCD_HEALTH_OK, "reader answers");
	return 0;
}

/* Request + "STATUS must be OK" */
static int iso_command(struct feig *f, const uint8_t *data, size_t len, struct feig_answer *a,
		       uint8_t *status)
{
	int r = feig_request(f, FEIG_CMD_ISO, data, len, a);

	if (r < 0)
		return r;
	*status = a->status;
	return a->status == FEIG_OK ? 0 : -EIO;
}

int feig_rf_reset(struct feig *f)
{
	struct feig_answer a;
	int r = feig_request(f, FEIG_CMD_RF_RESET, NULL, 0, &a);

	return r < 0 ? r : a.status == FEIG_OK ? 0 : -EIO;
}

int feig_rf_output(struct feig *f, uint8_t ant_out, uint8_t *status)
{
	struct feig_answer a;
	int r = feig_request(f, FEIG_CMD_RF_OUTPUT, &ant_out, 1, &a);

	if (r < 0)
		return r;
	*status = a.status;
	return a.status == FEIG_OK ? 0 : -EIO;
}

int feig_config_read(struct feig *f, uint8_t cfg_adr, uint8_t rec[FEIG_CFG_LEN],
		     uint8_t *status)
{
	struct feig_answer a;
	int r = feig_request(f, FEIG_CMD_READ_CONFIG, &cfg_adr, 1, &a);

	if (r < 0)
		return r;
	*status = a.status;
	if (a.status != FEIG_OK)
		return -EIO;
	if (feig_parse_config(a.data, a.data_len, rec) < 0) {
		f->bad_frames++;
		count_error(f, "configuration block does not parse");
		return -EBADMSG;
	}
	return 0;
}

int feig_config_write(struct feig *f, uint8_t cfg_adr, const uint8_t rec[FEIG_CFG_LEN],
		      uint8_t *status)
{
	uint8_t req[1 + FEIG_CFG_LEN] = { cfg_adr };
	struct feig_answer a;
	int r;

	memcpy(req + 1, rec, FEIG_CFG_LEN);
	r = feig_request(f, FEIG_CMD_WRITE_CONFIG, req, sizeof(req), &a);
	if (r < 0)
		return r;
	*status = a.status;
	return a.status == FEIG_OK ? 0 : -EIO;
}

int feig_inventory(struct feig *f, struct feig_inventory_tag *tags, size_t max, size_t *count,
		   uint8_t *status)
{
	uint8_t req[2] = { FEIG_ISO_INVENTORY, 0x00 };
	struct feig_answer a;

	*count = 0;
	/* 0x94: the reader holds more data sets than fitted; ask for the
	 * rest with MODE.MORE (H20800 §7.1.1) until it says OK.  Bounded, so
	 * a reader that always says "more" cannot keep us here. */
	for (int round = 0; round < 32; round++) {
		int r = feig_request(f, FEIG_CMD_ISO, req, sizeof(req), &a);
		size_t got = 0;
		if (r < 0)
			return r;
		*status = a.status;
		if (a.status == FEIG_NO_TRANSPONDER)
			return 0;
		if (a.status != FEIG_OK && a.status != FEIG_MORE_DATA)
			return -EIO;
		if (feig_parse_inventory(a.data, a.data_len, tags + *count, max - *count, &got) < 0) {
			f->bad_frames++;
			count_error(f, "inventory answer does not parse");
			return -EBADMSG;
		}
		*count += got;
		if (a.status == FEIG_OK)
			return 0;
		req[1] = FEIG_MODE_MORE;
	}
	return -EIO;
}

int feig_sysinfo(struct feig *f, const uint8_t uid[FEIG_UID_LEN], struct feig_sysinfo *info,
		 uint8_t *status)
{
	uint8_t req[2 + FEIG_UID_LEN] = { FEIG_ISO_SYSINFO, FEIG_MODE_ADDRESSED };
	struct feig_answer a;
	int r;

	memcpy(req + 2, uid, FEIG_UID_LEN);
	r = iso_command(f, req, sizeof(req), &a, status);
	if (r < 0)
		return r;
	if (feig_parse_sysinfo(a.data, a.data_len, info) < 0) {
		f->bad_frames++;
		count_error(f, "system information does not parse");
		return -EBADMSG;
	}
	return 0;
}

int feig_read_blocks(struct feig *f, const uint8_t uid[FEIG_UID_LEN], unsigned first,
		     unsigned count, size_t *len, size_t *block_size, uint8_t *status)
{
	uint8_t req[4 + FEIG_UID_LEN] = { FEIG_ISO_READ_MULTIPLE, FEIG_MODE_ADDRESSED };
	struct feig_answer a;
	size_t blocks = 0, bs = 0;
	int r;

	memcpy(req + 2, uid, FEIG_UID_LEN);
	req[10] = (uint8_t)first;
	req[11] = (uint8_t)count;
	r = iso_command(f, req, sizeof(req), &a, status);
	if (r < 0)
		return r;
	r = feig_parse_read_blocks(a.data, a.data_len, f->mem + *len, sizeof(f->mem) - *len,
				   &blocks, &bs);
	if (r < 0 || blocks != count || (*block_size && bs != *block_size)) {
		f->bad_frames++;
		count_error(f, "read blocks answer does not parse");
		return -EBADMSG;
	}
	*len += blocks * bs;
	*block_size = bs;
	return 0;
}

int feig_write_afi(struct feig *f, const uint8_t uid[FEIG_UID_LEN], uint8_t afi,
		   uint8_t *status)
{
	uint8_t req[3 + FEIG_UID_LEN] = { FEIG_ISO_WRITE_AFI, FEIG_MODE_ADDRESSED };
	struct feig_answer a;

	memcpy(req + 2, uid, FEIG_UID_LEN);
	req[10] = afi;
	return iso_command(f, req, sizeof(req), &a, status);
}

int feig_write_blocks(struct feig *f, const uint8_t uid[FEIG_UID_LEN], unsigned first,
		      unsigned count, unsigned block_size, const uint8_t *mem, uint8_t *status)
{
	uint8_t req[5 + FEIG_UID_LEN + FEIG_WRITE_MAX];
	struct feig_answer a;
	int n = feig_build_write_blocks(uid, first, count, block_size, mem, req, sizeof(req));

	if (n < 0)
		return n;
	return iso_command(f, req, (size_t)n, &a, status);
}
