/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The feig plugin's state, shared by its files:
 *   feig.c         options, run loop, health, reconnect, inventory
 *   feig_commands.c  the commands: write AFI, write blocks, RF on/off
 *   feig_reader.c  one request/answer exchange and the ISO host commands
 *   feig_port.c    the way to the reader: a byte stream (serial, TCP) or USB
 *   feig_usb.c     USB bulk transfers (built with ENABLE_USB only)
 *   feig_frame.c   frames, CRC, answer parsers (no I/O)
 */
#ifndef CIRCD_FEIG_PLUGIN_H
#define CIRCD_FEIG_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <circd/plugin.h>

#include "feig_frame.h"
#include "transport/transport.h"

#define FEIG_MAX_TAGS 128      /* tags tracked in the field at once */
#define FEIG_MAX_MEMORY 2048   /* bytes of user memory read per tag */
#define FEIG_CONNECT_TIMEOUT_MS 1000
#define FEIG_BACKOFF_MIN_MS 100 /* between open attempts, doubling ... */
#define FEIG_BACKOFF_MAX_MS 5000 /* ... up to this */

struct feig_tag {
	uint8_t uid[FEIG_UID_LEN];
	int antenna;      /* 0 = the reader's one antenna, else 1..2 (option antennas) */
	uint8_t dsfid;
	unsigned missed;  /* inventory cycles in a row without this UID */
	bool reported;    /* TAG_SEEN emitted (memory read once, per UID) */
};

struct feig_usb; /* feig_usb.c */

struct feig {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	const char *port;       /* "serial:...", "tcp:..." or "usb:...", owned by the host */
	bool usb;               /* port is "usb:VID:PID[:SERIAL]" */
	int poll_ms;
	int timeout_ms; /* how long an answer may take */
	unsigned gone_after;
	unsigned blocks;
	uint8_t addr;
	int afi_filter;         /* -1 = none (the reader's own CFG4 applies) */
	uint8_t rf_output;      /* ANT_OUT switched on by OUTPUT "rf" 1 */
	int antennas[FEIG_ANTENNAS_MAX]; /* inventoried in turn (§6.7 ANT_OUT) */
	size_t nantennas;       /* 0 = no switching: the reader's one antenna */

	struct transport *t;    /* serial or TCP, while open */
	struct feig_usb *u;     /* USB (made on the worker thread, kept) */
	enum circd_health health;
	bool stopping;
	unsigned backoff_ms;
	bool afi_filter_set;    /* CFG4 written since the port opened */
	bool afi_filter_refused; /* the reader said no: no inventory (wrong tags) */
	bool rf_off;            /* OUTPUT "rf" 0: no inventories until "rf" 1 */

	/* error accounting: totals for the logs and the health reasons (a
	 * timeout = nothing at all came; bytes that make no good answer = a
	 * bad frame), a run for the health */
	uint64_t bad_frames, timeouts, rf_errors;
	uint64_t reconnects;          /* the port answered again after it was lost */
	bool answered_before;
	struct circd_device_counters published; /* what set_counters() was last given */
	unsigned error_run;     /* bad or missing answers in a row */
	unsigned rf_error_run;  /* inventories answered 0x83 in a row */

	struct feig_tag tags[FEIG_MAX_TAGS];
	size_t ntags;

	uint8_t rx[FEIG_FRAME_MAX];
	uint8_t mem[FEIG_MAX_MEMORY];
};

void feig_set_health(struct feig *f, enum circd_health h, const char *why);
/* The error totals in words, "bad frames N, timeouts N, RF errors N", for
 * the health reasons and the log line at stop. */
#define FEIG_COUNTS_MAX 96
void feig_counts(const struct feig *f, char *buf, size_t size);
/* Sleep in host->wait() (also on fd, if >= 0); false when asked to stop. */
bool feig_pause(struct feig *f, int fd, int ms);
/* Close the port and go OFFLINE; run() reconnects with backoff. */
void feig_port_lost(struct feig *f, const char *why);

/*
 * The way to the reader (feig_port.c), the same for every transport.  The
 * reader only speaks when spoken to: a request goes out whole, its answer
 * comes back in one or more pieces (bytes of a stream, bulk IN transfers).
 */
/* "usb:..." accepted only when built with USB; 0 or -EINVAL with why. */
int feig_port_check(const char *spec, char *why, size_t why_size);
/* 0, or a negative errno with why filled (not plugged in, refused ...). */
int feig_port_open(struct feig *f, char *why, size_t why_size);
void feig_port_close(struct feig *f);
bool feig_port_is_open(const struct feig *f);
/* Wait before the next open attempt (backoff; a USB arrival ends it early). */
void feig_port_retry_wait(struct feig *f);
/* Forget what is waiting: cheap (what is already here) or, after an error,
 * also what is still on its way.  Bytes dropped or a negative errno. */
ssize_t feig_port_drain(struct feig *f, bool after_error);
int feig_port_write(struct feig *f, const uint8_t *buf, size_t len, int timeout_ms);
/* Some bytes (at most len) within timeout_ms: the count, 0 when none came,
 * -ECANCELED when asked to stop, -EBADMSG for more than the device may
 * send, another negative errno when the port is gone or broken. */
ssize_t feig_port_read(struct feig *f, uint8_t *buf, size_t len, int timeout_ms);
/* The last failure in words ("" if none). */
const char *feig_port_reason(const struct feig *f);

#ifdef FEIG_USB
/* feig_usb.c: the same, over libusb bulk transfers */
int feig_usb_new(const char *id, struct feig_usb **out, char *why, size_t why_size);
void feig_usb_free(struct feig_usb *u);
int feig_usb_open(struct feig_usb *u, char *why, size_t why_size);
void feig_usb_close(struct feig_usb *u);
bool feig_usb_is_open(const struct feig_usb *u);
const char *feig_usb_describe(const struct feig_usb *u);
int feig_usb_event_fd(struct feig_usb *u);
unsigned feig_usb_next_retry_ms(struct feig_usb *u);
void feig_usb_handle_events(struct feig_usb *u);
ssize_t feig_usb_drain(struct feig_usb *u, bool after_error);
int feig_usb_write(struct feig_usb *u, const uint8_t *buf, size_t len, int timeout_ms);
ssize_t feig_usb_read(struct feig_usb *u, uint8_t *buf, size_t len, int timeout_ms);
const char *feig_usb_reason(const struct feig_usb *u);
#endif

/*
 * One request and its answer.  Returns 0 with *a filled (any STATUS),
 * -ECANCELED when a stop was requested meanwhile, -ENOTCONN when the port
 * went away (already closed), -EBADMSG after a bad or missing answer
 * (counted, input drained: the next request starts clean).
 */
int feig_request(struct feig *f, uint8_t cmd, const uint8_t *data, size_t len,
		 struct feig_answer *a);

/* feig_commands.c: take and answer the queued commands */
void feig_handle_commands(struct feig *f);
/* CFG4 AFI filter in the reader's RAM (§4.5, §5); 0 or as below */
int feig_apply_afi_filter(struct feig *f, uint8_t *status);

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
/* mem: count blocks in tag order; sent reversed per block (§7.1.4) */
int feig_write_blocks(struct feig *f, const uint8_t uid[FEIG_UID_LEN], unsigned first,
		      unsigned count, unsigned block_size, const uint8_t *mem, uint8_t *status);
int feig_rf_output(struct feig *f, uint8_t ant_out, uint8_t *status);
int feig_config_read(struct feig *f, uint8_t cfg_adr, uint8_t rec[FEIG_CFG_LEN],
		     uint8_t *status);
int feig_config_write(struct feig *f, uint8_t cfg_adr, const uint8_t rec[FEIG_CFG_LEN],
		      uint8_t *status);

#endif
