/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookdrop station's insides, shared by its files:
 *   station_bookdrop.c  options, checks, detection (light curtain + reader),
 *                       the checkin, the ILS's answer, timers
 *   bookdrop_sort.c     the sort decision, sorter and re-secure commands,
 *                       their results, the "sort" event and its receipt
 *   bookdrop_bins.c     fill levels, intake lock, the control operations
 *
 * One return = one struct bd_return, from the moment the item is detected
 * until the sorter has acknowledged its bin and the tag is re-secured (or
 * that failed and became a station exception).  All on the main thread.
 */
#ifndef CIRCD_BOOKDROP_H
#define CIRCD_BOOKDROP_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "presence.h"
#include "sort_rules.h"
#include "station.h"

#define BD_ITEM_MAX 128
#define BD_TITLE_MAX 128
#define BD_DEVICE_MAX 64
#define BD_RECENT_TAGS 16 /* tags seen without a drop, waiting for one */
#define BD_NO_ANSWER 100  /* r->status: the ILS said nothing within sort_timeout_ms */

enum bd_phase {
	BD_WAIT_TAG,    /* a drop with no tag yet (read_window_ms) */
	BD_WAIT_ANSWER, /* journaled: waiting for the ILS and/or the rest of a set */
	BD_SORTING,     /* decided: sorter and re-secure commands out */
};

struct bd_return {
	struct bd_return *prev, *next;
	struct station *st;
	enum bd_phase phase;
	int64_t txn_id;                 /* 0: no transaction (no tag) */
	char item_id[BD_ITEM_MAX];
	char tag_title[BD_TITLE_MAX];   /* from the tag's memory, if any */
	char set_owner[BD_ITEM_MAX];
	char reader[BD_DEVICE_MAX];     /* the device that read the tag */
	uint8_t uid[CIRCD_UID_MAX];
	uint8_t uid_len;
	int16_t afi_read;               /* as read, -1 = not read */
	int8_t eas_read;
	uint64_t event_time_usec;

	/* before the decision */
	const char *exception;          /* decided without the ILS: "unreadable" ... */
	bool set_waiting;               /* a part of a set whose other parts are due */
	bool set_incomplete;            /* ... and they did not come in time */
	bool answered;
	uint32_t status;                /* enum circd_txn_status of the answer */
	char *fields_json;              /* the ILS's answer (OK / REJECTED) */

	/* the decision and its commands */
	char bin[SORT_BIN_NAME_MAX];
	uint64_t sorter_cmd, afi_cmd, eas_cmd; /* 0 = none outstanding */
	bool sorter_failed, resecure_failed;
	int afi_status, eas_status;     /* 1 = not sent, 0 = verified, < 0 = failed */

	uint64_t answer_deadline_usec;  /* CLOCK_MONOTONIC: sort_timeout_ms */
	uint64_t set_deadline_usec;     /* set_window_ms */
	uint64_t deadline_usec;         /* what the timer is armed for */
	sd_event_source *timer;
};

struct bd_bin_level {
	unsigned number;                /* sorter position */
	char name[SORT_BIN_NAME_MAX];   /* as the sensor named it */
	double percent;
	bool full;
	bool implausible;
};

struct bookdrop {
	struct station *st;
	struct presence presence;
	struct sort_chain chain;
	struct sort_bins bins;

	/* options */
	char exception_bin[SORT_BIN_NAME_MAX];
	char overflow_bin[SORT_BIN_NAME_MAX]; /* "" = the exception bin */
	bool offline_to_exception;
	char *sort_upstream;                 /* NULL = the station's first */
	char *sorter, *intake;               /* device names, NULL = none */
	char *fill_prefix;
	bool resecure;
	uint64_t sort_timeout_usec, command_timeout_usec, read_window_usec, set_window_usec;
	double full_percent, resume_percent;

	/* returns in the order they were detected */
	struct bd_return *head, *tail;
	size_t n_returns;
	size_t n_wait_tag;                   /* of them drops waiting for their tag */
	uint64_t recent_tags[BD_RECENT_TAGS]; /* monotonic times of unpaired tags */
	size_t n_recent_tags;

	/* bins and intake */
	struct bd_bin_level *levels;
	size_t n_levels;
	bool intake_locked;

	uint64_t intake_cmds[64];            /* recent INTAKE command ids (a ring) */
	size_t intake_cmd_next;

	/* Sort decisions and verified re-secure results wait here and are
	 * journaled together (bd_flush_notes, at most 200 ms later): each
	 * alone would cost a commit, since upstream answers and the readers'
	 * acknowledgements arrive one at a time.  Nothing waits on them: the
	 * checkin itself is durable before anything is acknowledged. */
	struct bd_note { char device[BD_DEVICE_MAX]; const char *type; json_object *detail; } *notes;
	size_t n_notes;
	sd_event_source *notes_timer;

	/* counters for `circctl station NAME status` */
	uint64_t returns_total, exceptions_total, sorter_failures, resecure_failures;
};

/* station_bookdrop.c */
void bd_arm(struct bd_return *r, uint64_t deadline_usec);
void bd_return_free(struct bookdrop *b, struct bd_return *r);
struct instance *bd_intake_device(struct bookdrop *b);

/* bookdrop_sort.c */
/* Decide when everything needed is there (or decide an exception); sends
 * the commands.  May free r (returns true then). */
bool bd_try_decide(struct bookdrop *b, struct bd_return *r, bool timed_out);
/* A command finished: true when it was one of a return's. */
bool bd_command_done(struct bookdrop *b, struct instance *dev, uint64_t cmd_id, int status,
		     const char *detail);
/* The commands' deadline passed. */
void bd_commands_timed_out(struct bookdrop *b, struct bd_return *r);

void bd_flush_notes(struct bookdrop *b);
/* station_exception() after the notes queued before it. */
void bd_exception(struct bookdrop *b, int64_t txn_id, const char *item_id, const char *reason,
		  json_object *detail);

/* bookdrop_bins.c */
void bd_on_sensor(struct bookdrop *b, struct instance *dev, const struct circd_event *ev);
bool bd_bin_full(struct bookdrop *b, const char *bin);
void bd_send_intake(struct bookdrop *b, bool open);
int bd_control(struct station *st, const char *op, json_object *req, json_object **reply,
	       char **error);

#endif
