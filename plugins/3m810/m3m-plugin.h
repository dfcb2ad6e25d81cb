/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The 3m810 plugin's state, shared by its files:
 *   m3m.c          options, run loop, inventory, health, reconnect, commands
 *   m3m_reader.c   one request/answer exchange and the reader commands
 *   m3m_frame.c    frames, BCC, resynchronisation, answer parsers (no I/O)
 */
#ifndef CIRCD_M3M_PLUGIN_H
#define CIRCD_M3M_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/plugin.h>

#include "m3m_frame.h"
#include "transport/transport.h"

#define M3M_MAX_TAGS 128     /* tags tracked in the field at once */
#define M3M_MAX_MEMORY 2048  /* bytes of user memory read per tag */

struct m3m_tag {
	uint8_t uid[M3M_UID_LEN];
	int16_t dsfid;    /* from the inventory, -1 = not asked */
	unsigned missed;  /* inventory cycles in a row without this UID */
	bool reported;    /* TAG_SEEN emitted (memory read once, per UID) */
};

struct m3m {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	char port[256];         /* transport spec, 19200 8N1 filled in */
	int poll_ms;
	unsigned gone_after;
	unsigned blocks;
	unsigned retries;       /* attempts per AFI / EAS write */
	int timeout_ms;         /* per answer */
	unsigned max_timeouts;  /* silent answers in a row = unplugged */
	uint8_t inv_options;    /* Read Block UID response options */

	struct transport *t;
	enum circd_health health;
	bool stopping;
	unsigned backoff_ms;

	/* error accounting: totals for the logs and host->set_counters(),
	 * runs for the health */
	uint64_t bad_frames, timeouts, stray_bytes, reader_errors;
	uint64_t reconnects;    /* the reader answered again after a lost port */
	bool answered;          /* the reader has answered since create() */
	bool relinking;         /* the port was lost after an answer */
	struct circd_device_counters published; /* last given to set_counters() */
	unsigned error_run;     /* bad or missing answers in a row -> DEGRADED */
	unsigned silent_run;    /* no answer at all, in a row -> OFFLINE */

	struct m3m_tag tags[M3M_MAX_TAGS];
	size_t ntags;

	uint8_t rx[2 * M3M_FRAME_MAX];
	uint8_t mem[M3M_MAX_MEMORY];
};

void m3m_set_health(struct m3m *m, enum circd_health h, const char *why);
/* Give the error totals to the host (ABI 1.5) when they changed since the
 * last call. */
void m3m_publish_counters(struct m3m *m);
/* Close the port and go OFFLINE; run() reconnects with backoff. */
void m3m_port_lost(struct m3m *m, const char *why);

/*
 * One request and its answer.  Returns 0 with *a filled (any error code),
 * -ECANCELED when a stop was requested meanwhile, -ENOTCONN when the port
 * is gone (closed here after a read/write error or max_timeouts silent
 * answers in a row), -EBADMSG after a bad or missing answer (counted,
 * input drained: the next request starts clean).
 */
int m3m_request(struct m3m *m, uint8_t cmd, const uint8_t *data, size_t len,
		struct m3m_answer *a);

/* The commands: 0, -EIO with *err set to the reader's error code, or
 * m3m_request()'s errors (-EBADMSG also for an answer that does not parse). */
int m3m_version(struct m3m *m, uint8_t version[4], uint8_t *err);
int m3m_inventory(struct m3m *m, struct m3m_inventory_tag *tags, size_t max, size_t *count,
		  uint8_t *err);
int m3m_tag_info(struct m3m *m, const uint8_t uid[M3M_UID_LEN], uint8_t want,
		 struct m3m_tag_info *info, uint8_t *err);
/* Appends to m->mem at *len; *block_size set from the answer. */
int m3m_read_blocks(struct m3m *m, const uint8_t uid[M3M_UID_LEN], unsigned first,
		    unsigned count, size_t *len, size_t *block_size, uint8_t *err);
int m3m_write_blocks(struct m3m *m, const uint8_t uid[M3M_UID_LEN], unsigned first,
		     unsigned count, const uint8_t *data, size_t block_size, uint8_t *err);
int m3m_get_afi(struct m3m *m, const uint8_t uid[M3M_UID_LEN], uint8_t *afi, uint8_t *err);
int m3m_write_afi(struct m3m *m, const uint8_t uid[M3M_UID_LEN], uint8_t afi, uint8_t *err);
/* §7.13: only tags with EAS 1 answer, so "no transponder" reads as EAS 0
 * (0 returned, *eas = 0, *err = 0x06); the caller knows whether the tag is
 * there. */
int m3m_check_eas(struct m3m *m, const uint8_t uid[M3M_UID_LEN], int *eas, uint8_t *err);
int m3m_eas_control(struct m3m *m, const uint8_t uid[M3M_UID_LEN], bool on, uint8_t *err);

#endif
