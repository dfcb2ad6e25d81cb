/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SIP2 response as the JSON object the journal keeps and the stations
 * read (sort bin, hold alert, resensitize).  Keys are readable names; ids
 * we do not know go under "unknown" so nothing the ILS said is lost
 * (reference sip2.md "Parser rule"), and "raw" holds the message as text.
 *
 * Keys: ok, resensitize, magnetic, desensitize, alert, renewal_ok,
 * circulation_status, security_marker, fee_type, transaction_date ... (all
 * fixed fields by their spec.c names, Y/N/U kept as letters except ok and
 * alert, which are booleans), then the variable fields below, screen_message
 * and print_line as arrays, the 64's item lists (hold_items, overdue_items,
 * charged_items, fine_items, recall_items, unavailable_hold_items) as
 * arrays, unknown {id: value or [values]}, raw.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "sip2-plugin.h"
#include "util/util.h"

static const struct {
	char id[3];
	const char *key;
} field_keys[] = {
	{ "AA", "patron_id" },	      { "AB", "item_id" },
	{ "AE", "patron_name" },      { "AH", "due_date" },
	{ "AJ", "title" },	      { "AM", "library_name" },
	{ "AN", "terminal_location" }, { "AO", "institution" },
	{ "AP", "current_location" }, { "AQ", "permanent_location" },
	{ "BG", "owner" },	      { "BH", "currency" },
	{ "BK", "transaction_id" },   { "BL", "valid_patron" },
	{ "BT", "fee_type" },	      { "BV", "fee_amount" },
	{ "BX", "supported_messages" }, { "CF", "hold_queue_length" },
	{ "CH", "item_properties" },  { "CI", "security_inhibit" },
	{ "CJ", "recall_date" },      { "CK", "media_type" },
	{ "CL", "sort_bin" },	      { "CM", "hold_pickup_date" },
	{ "CQ", "valid_password" },   { "CR", "collection" },
	{ "CS", "call_number" },      { "CT", "destination" },
	{ "CV", "alert_type" },	      { "CY", "hold_patron" },
	{ "DA", "hold_patron_name" },  { "BZ", "hold_items_limit" },
	{ "CA", "overdue_items_limit" }, { "CB", "charged_items_limit" },
	{ "CC", "fee_limit" },
};

/* The 64's item lists (SIP2 2.00 "Patron Information Response"): always
 * arrays, in the order the ACS sent them. */
static const struct {
	char id[3];
	const char *key;
} list_keys[] = {
	{ "AS", "hold_items" },	  { "AT", "overdue_items" }, { "AU", "charged_items" },
	{ "AV", "fine_items" },	  { "BU", "recall_items" },  { "CD", "unavailable_hold_items" },
};

static const char *key_for(const char *id)
{
	if (strcmp(id, "AF") == 0)
		return "screen_message";
	if (strcmp(id, "AG") == 0)
		return "print_line";
	for (size_t i = 0; i < ARRAY_SIZE(field_keys); i++)
		if (strcmp(field_keys[i].id, id) == 0)
			return field_keys[i].key;
	return NULL;
}

static const char *fixed_key(const char *name)
{
	return strcmp(name, "magnetic_media") == 0 ? "magnetic" : name;
}

/* Repeats: first value as a string, a second one turns it into an array. */
static void add_repeat(json_object *obj, const char *key, const char *value)
{
	json_object *cur = NULL;
	if (!json_object_object_get_ex(obj, key, &cur)) {
		json_object_object_add(obj, key, json_object_new_string(value));
		return;
	}
	if (!json_object_is_type(cur, json_type_array)) {
		json_object *arr = json_object_new_array();
		json_object_array_add(arr, json_object_get(cur));
		json_object_object_add(obj, key, arr);
		cur = arr;
	}
	json_object_array_add(cur, json_object_new_string(value));
}

char *sip2_fields_json(const struct sip2_msg *m, const char *raw, const char *extra_key,
		       bool extra_value)
{
	json_object *o = json_object_new_object();
	json_object *unknown = json_object_new_object();
	json_object *screen = json_object_new_array();
	json_object *print = json_object_new_array();

	json_object_object_add(o, "message", json_object_new_string(m->id));
	for (unsigned i = 0; m->spec && i < m->spec->n_fixed; i++) {
		const char *name = m->spec->fixed[i].name;
		const char *v = m->fixed[i] ? m->fixed[i] : "";
		if (strcmp(name, "ok") == 0 || strcmp(name, "item_properties_ok") == 0)
			json_object_object_add(o, name, json_object_new_boolean(v[0] == '1'));
		else if (strcmp(name, "alert") == 0)
			json_object_object_add(o, name, json_object_new_boolean(v[0] == 'Y'));
		else
			json_object_object_add(o, fixed_key(name), json_object_new_string(v));
	}
	for (size_t i = 0; i < m->n_fields; i++) {
		const struct sip2_field *f = &m->fields[i];
		const char *key = key_for(f->id);
		const char *list = NULL;
		for (size_t k = 0; k < ARRAY_SIZE(list_keys); k++)
			if (strcmp(list_keys[k].id, f->id) == 0)
				list = list_keys[k].key;
		if (list) {
			json_object *arr;
			if (!json_object_object_get_ex(o, list, &arr)) {
				arr = json_object_new_array();
				json_object_object_add(o, list, arr);
			}
			json_object_array_add(arr, json_object_new_string(f->value));
		} else if (!key)
			add_repeat(unknown, f->id, f->value);
		else if (strcmp(f->id, "AF") == 0)
			json_object_array_add(screen, json_object_new_string(f->value));
		else if (strcmp(f->id, "AG") == 0)
			json_object_array_add(print, json_object_new_string(f->value));
		else if (!json_object_object_get_ex(o, key, NULL))
			json_object_object_add(o, key, json_object_new_string(f->value));
		/* a repeated single-value field: the first wins (as Koha) */
	}
	json_object_object_add(o, "screen_message", screen);
	json_object_object_add(o, "print_line", print);
	json_object_object_add(o, "unknown", unknown);
	if (extra_key)
		json_object_object_add(o, extra_key, json_object_new_boolean(extra_value));
	if (raw)
		json_object_object_add(o, "raw", json_object_new_string(raw));
	char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
