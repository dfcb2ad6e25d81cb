/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookdrop station: an item arrives at the return slot's reader, is
 * seen once (a lingering or flickering tag is debounced), and becomes a
 * checkin that is committed to the journal before anything is acknowledged
 * and then forwarded, in order, to the station's upstreams.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "instance.h"
#include "log.h"
#include "presence.h"
#include "station.h"
#include "util/util.h"

static const struct circd_option bookdrop_options[] = {
	{ "debounce_ms", CIRCD_OPT_INT, "3000", 0, 0, 3600000,
	  "a tag seen again this soon after it left is not a second return" },
	CIRCD_OPTION_END,
};

struct bookdrop {
	struct presence presence;
};

static int bookdrop_create(struct station *st)
{
	struct bookdrop *b = xcalloc(1, sizeof(*b));
	presence_init(&b->presence, (uint64_t)options_get(&st->opts, "debounce_ms")->i * USEC_PER_MSEC);
	st->data = b;
	return 0;
}

static void bookdrop_destroy(struct station *st)
{
	struct bookdrop *b = st->data;
	presence_free(&b->presence);
	free(b);
	st->data = NULL;
}

static void bookdrop_checkin(struct station *st, struct instance *dev, const struct circd_event *ev)
{
	char item[128], uid[2 * CIRCD_UID_MAX + 1];
	json_object *detail = json_object_new_object();
	station_decode(st->core, ev, item, sizeof(item), detail);
	hex_encode(ev->uid, ev->uid_len, uid);
	json_object_object_add(detail, "antenna", json_object_new_int(ev->antenna));
	if (ev->afi >= 0)
		json_object_object_add(detail, "afi", json_object_new_int(ev->afi));

	struct journal_txn_in t = {
		.kind = "checkin",
		.station = st->name,
		.device = dev->name,
		.item_id = item,
		.uid = uid,
		.event_time_usec = ev->time_usec,
		.device_event_id = ev->device_event_id,
		.detail_json = json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN),
	};
	int64_t id;
	int r = station_journal_txn(st, &t, &id);
	if (r == -EEXIST)
		log_debug("%s: event %llu of %s already journaled", st->name,
			  (unsigned long long)ev->device_event_id, dev->name);
	else if (r < 0)
		log_err("%s: could not journal the return of %s: %s", st->name,
			item[0] ? item : uid, strerror(-r));
	else
		log_debug("%s: checkin %lld item %s", st->name, (long long)id, item[0] ? item : "(unknown)");
	json_object_put(detail);
}

static void bookdrop_on_event(struct station *st, struct instance *dev, const struct circd_event *ev)
{
	struct bookdrop *b = st->data;
	uint64_t now = now_monotonic_usec();
	/* Tags without a UID (a device that only knows the barcode) are keyed
	 * by a 64-bit FNV-1a hash of their item id: long ids that share a
	 * prefix must not look like the same tag. */
	const uint8_t *key = ev->uid;
	uint8_t key_len = ev->uid_len;
	uint8_t id_key[8];
	if (!key_len && ev->item_id) {
		uint64_t h = 14695981039346656037ULL;
		for (const char *c = ev->item_id; *c; c++)
			h = (h ^ (uint8_t)*c) * 1099511628211ULL;
		for (int i = 0; i < 8; i++)
			id_key[i] = (uint8_t)(h >> (8 * i));
		key = id_key;
		key_len = sizeof(id_key);
	}
	switch (ev->type) {
	case CIRCD_EV_TAG_SEEN:
		switch (presence_seen(&b->presence, dev, key, key_len, now)) {
		case PRESENCE_NEW:
			bookdrop_checkin(st, dev, ev);
			break;
		case PRESENCE_LINGER:
		case PRESENCE_FLICKER:
			break;
		}
		break;
	case CIRCD_EV_TAG_GONE:
		presence_gone(&b->presence, dev, key, key_len, now);
		break;
	default:
		break;
	}
}

const struct station_role station_role_bookdrop = {
	.name = "bookdrop",
	.description = "return slot: each item seen becomes a checkin",
	.options = bookdrop_options,
	.create = bookdrop_create,
	.on_event = bookdrop_on_event,
	.destroy = bookdrop_destroy,
};
