/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the mqtt plugin publishes: the topic of a transaction and its JSON
 * payload.  The payload is the transaction exactly as the journal hands it
 * over (txn->json: id, kind, site, station, device, item_id, uid,
 * patron_id, event_time, created, replay, detail ...) with "schema" put in
 * front and "site_id" (the plugin's site, the topic level) added, so that a
 * consumer can de-duplicate on (site_id, id) without parsing the topic.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "mqtt-plugin.h"
#include "util/util.h"

const char *mqtt_kind_name(uint32_t kind)
{
	switch (kind) {
	case CIRCD_TXN_CHECKIN: return "checkin";
	case CIRCD_TXN_CHECKOUT: return "checkout";
	case CIRCD_TXN_RENEW: return "renew";
	case CIRCD_TXN_ALARM: return "alarm";
	case CIRCD_TXN_COUNT: return "count";
	case CIRCD_TXN_LOCATION: return "location";
	case CIRCD_TXN_ITEM_INFO: return "item-info";
	case CIRCD_TXN_PATRON_INFO: return "patron-info";
	case CIRCD_TXN_END_SESSION: return "end-session";
	}
	return NULL;
}

char *mqtt_topic_level(const char *s)
{
	if (!s || !*s)
		return xstrdup("_");
	char *out = xstrdup(s);
	/* MQTT 3.1.1 4.7: '/' separates levels, '+' and '#' are wildcards
	 * (not allowed in a published name); control characters are legal but
	 * no one wants them in a subscription. */
	for (char *p = out; *p; p++)
		if (*p == '/' || *p == '+' || *p == '#' || (unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '_';
	return out;
}

char *mqtt_topic(const char *prefix, const char *site, const char *station, const char *kind)
{
	_cleanup_free_ char *s = mqtt_topic_level(site);
	_cleanup_free_ char *st = mqtt_topic_level(station);
	_cleanup_free_ char *k = mqtt_topic_level(kind);
	return xasprintf("%s/%s/%s/%s", prefix, s, st, k);
}

char *mqtt_payload(const struct circd_txn *txn, const char *site, const char **why)
{
	*why = NULL;
	if (!txn->json || !*txn->json) {
		*why = "transaction has no JSON";
		return NULL;
	}
	json_object *in = json_tokener_parse(txn->json);
	if (!in || !json_object_is_type(in, json_type_object)) {
		json_object_put(in);
		*why = "transaction JSON is not an object";
		return NULL;
	}
	json_object *out = json_object_new_object();
	json_object_object_add(out, "schema", json_object_new_int(MQTT_PAYLOAD_SCHEMA));
	json_object_object_foreach(in, key, val) {
		if (strcmp(key, "schema") == 0 || strcmp(key, "site_id") == 0)
			continue;
		json_object_object_add(out, key, json_object_get(val));
	}
	/* What consumers rely on is there even if the core's JSON changes. */
	if (!json_object_object_get_ex(out, "id", NULL))
		json_object_object_add(out, "id", json_object_new_int64(txn->id));
	if (!json_object_object_get_ex(out, "kind", NULL) && mqtt_kind_name(txn->kind))
		json_object_object_add(out, "kind", json_object_new_string(mqtt_kind_name(txn->kind)));
	if (!json_object_object_get_ex(out, "event_time", NULL)) {
		char buf[40];
		format_iso8601(txn->event_time_usec, buf, sizeof(buf));
		json_object_object_add(out, "event_time", json_object_new_string(buf));
	}
	json_object_object_add(out, "site_id", json_object_new_string(site));
	char *s = xstrdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
	json_object_put(in);
	return s;
}
