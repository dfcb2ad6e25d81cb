/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What flows between plugins and the core: observations (events) from
 * devices, commands to devices, and transactions to upstreams with their
 * answers.  Part of the plugin ABI (see plugin.h for the compatibility
 * rules): every struct starts with struct_size and only grows at the end.
 */
#ifndef CIRCD_EVENT_H
#define CIRCD_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CIRCD_UID_MAX 10 /* ISO 15693 UIDs are 8 bytes, ISO 14443 up to 10 */

/* ---- Observations, device -> core ---- */

enum circd_event_type {
	CIRCD_EV_TAG_SEEN = 1, /* a tag entered the field: uid, afi, dsfid, eas, memory */
	CIRCD_EV_TAG_GONE,     /* it left the field (uid) */
	CIRCD_EV_CARD_SEEN,    /* patron card UID, or a typed/scanned barcode in item_id */
	CIRCD_EV_ITEM_DROP,    /* the intake's light curtain saw something pass */
	CIRCD_EV_GATE_PASS,    /* a person passed the gate; direction */
	CIRCD_EV_SENSOR,       /* name = value (fill level %, temperature ...) */
	CIRCD_EV_INPUT,        /* named digital input changed; value 0/1 */
	CIRCD_EV_FAULT,        /* the device reports a fault; text */
};

enum circd_direction {
	CIRCD_DIR_UNKNOWN = 0,
	CIRCD_DIR_IN = 1,  /* entering the library */
	CIRCD_DIR_OUT = 2, /* leaving: the direction that alarms */
};

struct circd_event {
	uint32_t struct_size;    /* sizeof(struct circd_event) of the plugin */
	uint32_t type;           /* enum circd_event_type */
	uint64_t device_event_id;/* unique per device across restarts, or 0: a
				  * re-delivered id is dropped by the core */
	uint64_t time_usec;      /* CLOCK_REALTIME of the observation; 0 = now */
	int32_t antenna;         /* 0 = single antenna / unknown */
	uint8_t uid[CIRCD_UID_MAX];
	uint8_t uid_len;
	int16_t afi;             /* -1 = not read */
	int16_t dsfid;           /* -1 = not read */
	int8_t eas;              /* -1 = not read, 0 = off, 1 = on */
	uint8_t direction;       /* enum circd_direction, gate passes */
	const uint8_t *memory;   /* user memory exactly as read (block order as
				  * the reader returned it), or NULL */
	uint32_t memory_len;
	uint32_t block_size;     /* bytes per block, 0 = unknown */
	const char *item_id;     /* when the device knows the id (sim, barcode) */
	const char *name;        /* sensor/input name */
	double value;            /* sensor value / input level */
	const char *text;        /* fault detail */
};

/* Fill in the fields that mean "unknown" (call before setting what you know). */
static inline void circd_event_init(struct circd_event *ev, uint32_t type)
{
	*ev = (struct circd_event){ .struct_size = sizeof(*ev), .type = type,
				    .afi = -1, .dsfid = -1, .eas = -1 };
}

/* ---- Commands, core -> device ---- */

enum circd_command_type {
	CIRCD_CMD_ALARM = 1,  /* gate: sound the alarm for value ms */
	CIRCD_CMD_WRITE_AFI,  /* reader: write AFI = value to uid, verify by read-back */
	CIRCD_CMD_SET_EAS,    /* reader: EAS on (1) / off (0) for uid, verify */
	CIRCD_CMD_SELECT_BIN, /* sorter: send the current item to bin `value` (name = bin name) */
	CIRCD_CMD_INTAKE,     /* book-drop intake: 1 = accept/open, 0 = lock */
	CIRCD_CMD_OUTPUT,     /* generic named output: name = value */
	CIRCD_CMD_SIM_INJECT, /* sim plugin: text is one scenario line to play now */
};

struct circd_command {
	uint32_t struct_size;
	uint32_t type;        /* enum circd_command_type */
	uint64_t id;          /* host-assigned, echoed by command_done() */
	uint8_t uid[CIRCD_UID_MAX];
	uint8_t uid_len;
	int64_t value;
	const char *name;
	const char *text;
};

/* ---- Transactions, core -> upstream, and the answers ---- */

enum circd_txn_kind {
	CIRCD_TXN_CHECKIN = 1,
	CIRCD_TXN_CHECKOUT,
	CIRCD_TXN_RENEW,
	CIRCD_TXN_ALARM,
	CIRCD_TXN_COUNT,
	CIRCD_TXN_LOCATION,
	CIRCD_TXN_ITEM_INFO, /* a lookup, not a circulation event: item_id; never journaled
			      * (id <= 0), answered with the item's fields in fields_json.
			      * An upstream that can't look items up answers REJECTED. */
	/* ABI 1.3: a self-check kiosk's requests, like ITEM_INFO never journaled
	 * (id <= 0) and answered with the ILS's fields in fields_json.  An
	 * upstream that is not an ILS answers REJECTED ("not supported"). */
	CIRCD_TXN_PATRON_INFO, /* patron_id; json may carry "patron_pin": a SECRET,
				* never log, store or forward it (SIP2 63 -> 64) */
	CIRCD_TXN_END_SESSION, /* patron_id: the patron has left (SIP2 35 -> 36) */
};

struct circd_txn {
	uint32_t struct_size;
	uint32_t kind;            /* enum circd_txn_kind */
	int64_t id;               /* journal id: unique, increasing; consumers de-duplicate on it */
	uint64_t event_time_usec; /* when it happened (the patron let go of the book) */
	uint64_t created_usec;    /* when the journal committed it */
	uint32_t attempts;        /* earlier attempts at this upstream */
	bool replay;              /* not sent live: use no-block and the original dates */
	bool maybe_sent;          /* handed to this upstream before a restart: it may
				   * have arrived; check before posting again */
	const char *site;
	const char *station;
	const char *device;
	const char *item_id;      /* may be "" (unreadable tag): the journal still has it */
	const char *patron_id;    /* checkout/renew */
	const char *uid;          /* tag UID in hex, or "" */
	const char *json;         /* the whole transaction as one JSON object */
};

enum circd_txn_status {
	CIRCD_TXN_OK = 0,       /* delivered; done */
	CIRCD_TXN_RETRY = 1,    /* transient (network, timeout): the forwarder retries in order */
	CIRCD_TXN_REJECTED = 2, /* permanent: the upstream said no; becomes an exception */
	CIRCD_TXN_NOT_SENT = 3, /* transient, and it certainly did not reach the upstream
				 * (not connected): retried like RETRY, but with no need
				 * to check before posting it again.  ABI 1.1; a 1.0 host
				 * reads it as RETRY. */
};

struct circd_txn_result {
	uint32_t struct_size;
	uint32_t status;         /* enum circd_txn_status */
	const char *message;     /* human reason / the ILS's screen message, or NULL */
	const char *fields_json; /* the upstream's answer fields as a JSON object, or NULL */
};

#ifdef __cplusplus
}
#endif

#endif /* CIRCD_EVENT_H */
