/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The self-check station's pure decisions (see selfcheck_patron.h).  The
 * input is the sip2 plugin's fields_json (plugins/sip2/fields_json.c: fixed
 * fields by their spec.c names, variable fields by readable keys).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selfcheck_patron.h"
#include "util/util.h"

static const char *const flag_names[SC_FLAG_COUNT] = {
	[SC_FLAG_CHARGE_DENIED] = "charge privileges denied",
	[SC_FLAG_RENEWAL_DENIED] = "renewal privileges denied",
	[SC_FLAG_RECALL_DENIED] = "recall privileges denied",
	[SC_FLAG_HOLD_DENIED] = "hold privileges denied",
	[SC_FLAG_CARD_LOST] = "card reported lost",
	[SC_FLAG_TOO_MANY_CHARGED] = "too many items charged",
	[SC_FLAG_TOO_MANY_OVERDUE] = "too many items overdue",
	[SC_FLAG_TOO_MANY_RENEWALS] = "too many renewals",
	[SC_FLAG_TOO_MANY_CLAIMS] = "too many claims of items returned",
	[SC_FLAG_TOO_MANY_LOST] = "too many items lost",
	[SC_FLAG_EXCESSIVE_FINES] = "excessive outstanding fines",
	[SC_FLAG_EXCESSIVE_FEES] = "excessive outstanding fees",
	[SC_FLAG_RECALL_OVERDUE] = "recall overdue",
	[SC_FLAG_TOO_MANY_BILLED] = "too many items billed",
};

const char *selfcheck_flag_name(enum selfcheck_patron_flag f)
{
	return f < SC_FLAG_COUNT ? flag_names[f] : "unknown";
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* "0003" -> 3; anything else (absent, blanks, garbage) -> -1 */
static int get_count(json_object *o, const char *key)
{
	const char *s = get_str(o, key);
	if (!s || !*s)
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 9999)
		return -1;
	return (int)v;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* Append sep (when buf is not empty) and s; cut at size. */
static void append(char *buf, size_t size, const char *sep, const char *s)
{
	size_t used = strlen(buf);
	if (used + 1 >= size)
		return;
	snprintf(buf + used, size - used, "%s%s", used ? sep : "", s);
}

int selfcheck_patron_parse(const char *fields_json, struct selfcheck_patron *out)
{
	*out = (struct selfcheck_patron){ .pin_ok = -1 };
	if (!fields_json)
		return -EINVAL;
	json_object *o = json_tokener_parse(fields_json);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	const char *msg = get_str(o, "message");
	if (!msg || (strcmp(msg, "64") != 0 && strcmp(msg, "24") != 0)) {
		json_object_put(o);
		return -EINVAL;
	}
	copy(out->name, sizeof(out->name), get_str(o, "patron_name"));
	/* BL is optional in 2.00; an ACS that leaves it out knows the patron
	 * (the unknown ones get BLN: reference sip2.md, 24) */
	const char *bl = get_str(o, "valid_patron");
	out->valid = !bl || bl[0] == 'Y' || bl[0] == 'y';
	const char *cq = get_str(o, "valid_password");
	if (cq && *cq)
		out->pin_ok = cq[0] == 'Y' || cq[0] == 'y';
	const char *status = get_str(o, "patron_status");
	for (size_t i = 0; status && i < SC_FLAG_COUNT && status[i]; i++)
		out->flags[i] = status[i] == 'Y' || status[i] == 'y';
	out->holds = get_count(o, "hold_items_count");
	out->overdue = get_count(o, "overdue_items_count");
	out->charged = get_count(o, "charged_items_count");
	out->fines = get_count(o, "fine_items_count");
	out->recalls = get_count(o, "recall_items_count");
	out->unavailable_holds = get_count(o, "unavailable_holds_count");
	copy(out->fee_amount, sizeof(out->fee_amount), get_str(o, "fee_amount"));
	copy(out->currency, sizeof(out->currency), get_str(o, "currency"));
	copy(out->fee_limit, sizeof(out->fee_limit), get_str(o, "fee_limit"));
	json_object *screen;
	if (json_object_object_get_ex(o, "screen_message", &screen) &&
	    json_object_is_type(screen, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(screen); i++) {
			const char *line = json_object_get_string(json_object_array_get_idx(screen, i));
			if (line && *line)
				append(out->screen_message, sizeof(out->screen_message), " ", line);
		}
	}
	json_object_put(o);
	return 0;
}

/* The set flags in words, "; "-separated. */
static void flags_in_words(const struct selfcheck_patron *p, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < SC_FLAG_COUNT; i++)
		if (p->flags[i])
			append(out, size, "; ", flag_names[i]);
}

enum selfcheck_verdict selfcheck_patron_verdict(const struct selfcheck_patron *p, bool pin_given,
						char *reason, size_t size)
{
	const char *af = p->screen_message;
	reason[0] = '\0';
	if (!p->valid) {
		snprintf(reason, size, "%s", *af ? af : "the library does not know this patron");
		return SC_PATRON_REFUSED;
	}
	if (pin_given && p->pin_ok == 0) {
		snprintf(reason, size, "%s", *af ? af : "the PIN is not correct");
		return SC_PATRON_REFUSED;
	}
	if (p->flags[SC_FLAG_CARD_LOST]) {
		snprintf(reason, size, "%s", *af ? af : "this card is reported lost");
		return SC_PATRON_REFUSED;
	}
	if (p->flags[SC_FLAG_CHARGE_DENIED]) {
		if (*af)
			snprintf(reason, size, "%s", af);
		else
			flags_in_words(p, reason, size);
		return p->flags[SC_FLAG_RENEWAL_DENIED] ? SC_PATRON_REFUSED : SC_PATRON_RENEW_ONLY;
	}
	return SC_PATRON_OK;
}

json_object *selfcheck_patron_json(const struct selfcheck_patron *p, const char *patron_id)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(patron_id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "valid", json_object_new_boolean(p->valid));
	static const struct { const char *key; size_t off; } counts[] = {
		{ "holds", offsetof(struct selfcheck_patron, holds) },
		{ "overdue", offsetof(struct selfcheck_patron, overdue) },
		{ "charged", offsetof(struct selfcheck_patron, charged) },
		{ "fines", offsetof(struct selfcheck_patron, fines) },
		{ "recalls", offsetof(struct selfcheck_patron, recalls) },
		{ "unavailable_holds", offsetof(struct selfcheck_patron, unavailable_holds) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		int v = *(const int *)((const char *)p + counts[i].off);
		if (v >= 0)
			json_object_object_add(o, counts[i].key, json_object_new_int(v));
	}
	if (p->fee_amount[0])
		json_object_object_add(o, "fee_amount", json_object_new_string(p->fee_amount));
	if (p->currency[0])
		json_object_object_add(o, "currency", json_object_new_string(p->currency));
	if (p->fee_limit[0])
		json_object_object_add(o, "fee_limit", json_object_new_string(p->fee_limit));
	json_object *blocks = json_object_new_array();
	for (size_t i = 0; i < SC_FLAG_COUNT; i++)
		if (p->flags[i])
			json_object_array_add(blocks, json_object_new_string(flag_names[i]));
	json_object_object_add(o, "blocks", blocks);
	if (p->screen_message[0])
		json_object_object_add(o, "screen_message", json_object_new_string(p->screen_message));
	return o;
}

bool selfcheck_may_unsecure(const char *fields_json, char *why, size_t size)
{
	why[0] = '\0';
	json_object *o = fields_json ? json_tokener_parse(fields_json) : NULL;
	if (!o || !json_object_is_type(o, json_type_object)) {
		/* an upstream that says OK with no fields: it is the ILS's OK */
		json_object_put(o);
		return true;
	}
	bool ok = true;
	const char *magnetic = get_str(o, "magnetic");
	const char *inhibit = get_str(o, "security_inhibit");
	const char *desens = get_str(o, "desensitize");
	if (magnetic && magnetic[0] == 'Y') {
		snprintf(why, size, "magnetic media: the tag is left as it is");
		ok = false;
	} else if (inhibit && inhibit[0] == 'Y') {
		snprintf(why, size, "the library system asked to leave the security as it is");
		ok = false;
	} else if (desens && desens[0] == 'N') {
		snprintf(why, size, "the library system said not to desensitize this item");
		ok = false;
	}
	json_object_put(o);
	return ok;
}

bool selfcheck_card_format_valid(const char *format)
{
	return format && (strcmp(format, "hex") == 0 || strcmp(format, "hex-reversed") == 0 ||
			  strcmp(format, "decimal") == 0);
}

int selfcheck_card_patron_id(const uint8_t *uid, size_t uid_len, const char *format, char *out,
			     size_t size)
{
	if (!uid_len || !selfcheck_card_format_valid(format) || size < 2 * uid_len + 1)
		return -EINVAL;
	if (strcmp(format, "decimal") == 0) {
		if (uid_len > 8)
			return -ERANGE;
		uint64_t v = 0;
		for (size_t i = 0; i < uid_len; i++)
			v = v << 8 | uid[i];
		snprintf(out, size, "%" PRIu64, v);
		return 0;
	}
	bool reversed = strcmp(format, "hex-reversed") == 0;
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < uid_len; i++) {
		uint8_t b = uid[reversed ? uid_len - 1 - i : i];
		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 15];
	}
	out[2 * uid_len] = '\0';
	return 0;
}

bool selfcheck_patron_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c < 0x20 || c == 0x7f || c == '|')
			return false;
	}
	return true;
}
