/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The feig plugin's state, shared by its files:
 *   feig.c         options, run loop, health, reconnect, commands
 *   feig_reader.c  one request/answer exchange and the ISO host commands
 *   feig_frame.c   frames, CRC, answer parsers (no I/O)
 */
#ifndef CIRCD_FEIG_PLUGIN_H
#define CIRCD_FEIG_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/plugin.h>

#include "feig_frame.h"
#include "transport/transport.h"

#define FEIG_MAX_TAGS 128      /* tags tracked in the field at once */
#define FEIG_MAX_MEMORY 2048   /* bytes of user memory read per tag */

struct feig_tag {
	uint8_t uid[FEIG_UID_LEN];
	uint8_t dsfid;
	unsigned missed;  /* inventory cycles in a row without this UID */
	bool reported;    /* TAG_SEEN emitted (memory read once, per UID) */
};

struct feig {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	const char *port;       /* transport spec, owned by the host */
	int poll_ms;
	unsigned gone_after;
	unsigned blocks;
	uint8_t addr;

	struct transport *t;
	enum circd_health health;
	bool stopping;
	unsigned backoff_ms;

	/* error accounting: totals for the logs, a run for the health */
	uint64_t bad_frames, timeouts, rf_errors;
	unsigned error_run;     /* bad or missing answers in a row */
	unsigned rf_error_run;  /* inventories answered 0x83 in a row */

	struct feig_tag tags[FEIG_MAX_TAGS];
	size_t ntags;

	uint8_t rx[FEIG_FRAME_MAX];
	uint8_t mem[FEIG_MAX_MEMORY];
};

void feig_set_health(struct feig *f, enum circd_health h, const char *why);
/* Close the port and go OFFLINE; run() reconnects with backoff. */
void feig_port_lost(struct feig *f, const char *why);

/*
 * One request and its answer.  Returns 0 with *a filled (any STATUS),
 * -ECANCELED when a stop was requested meanwhile, -ENOTCONN when the port
 * went away (already closed), -EBADMSG after a bad or missing answer
 * (counted, input drained: the next request starts clean).
 */
int feig_request(struct feig *f, uint8_t cmd, const uint8_t *data, size_t len,
		 struct feig_answer *a);

/* The ISO host commands; 0, -EIO with *status set for a reader status
 * other than OK, or feig_request()'s errors. */
int feig_rf_reset(struct feig *f);
int feig_inventory(struct feig *f, struct feig_inventory_tag *tags, size_t max, size_t *count,
		   uint8_t *status);
int feig_sysinfo(struct feig *f, const uint8_t uid[FEIG_UID_LEN], struct feig_sysinfo *info,
		 uint8_t *status);
int feig_read_blocks(struct feig *f, const uint8_t uid[FEIG_UID_LEN], unsigned first,
		     unsigned count, size_t *len, size_t *block_size, uint8_t *status);
int feig_write_afi(struct feig *f, const uint8_t uid[FEIG_UID_LEN], uint8_t afi,
		   uint8_t *status);

#endif
