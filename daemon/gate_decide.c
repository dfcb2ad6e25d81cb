/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "gate_decide.h"

static const char *const mode_names[] = {
	[GATE_MODE_AFI] = "afi",
	[GATE_MODE_EAS] = "eas",
	[GATE_MODE_CACHE] = "cache",
	[GATE_MODE_AFI_THEN_CACHE] = "afi-then-cache",
};

static const char *const fallback_names[] = {
	[GATE_FALLBACK_AFI] = "afi",
	[GATE_FALLBACK_ALARM] = "alarm",
	[GATE_FALLBACK_SILENT] = "silent",
};

static const char *const reason_names[] = {
	[GATE_REASON_AFI_SECURED] = "afi-secured",
	[GATE_REASON_AFI_ON_LOAN] = "afi-on-loan",
	[GATE_REASON_AFI_UNKNOWN] = "afi-unknown",
	[GATE_REASON_EAS_ON] = "eas-on",
	[GATE_REASON_EAS_OFF] = "eas-off",
	[GATE_REASON_EAS_NOT_READ] = "eas-not-read",
	[GATE_REASON_CACHE_NOT_ON_LOAN] = "cache-not-on-loan",
	[GATE_REASON_CACHE_ON_LOAN] = "cache-on-loan",
	[GATE_REASON_CACHE_UNKNOWN] = "cache-unknown",
	[GATE_REASON_UNDECODABLE] = "undecodable",
	[GATE_REASON_NO_ITEM_ID] = "no-item-id",
};

const char *gate_mode_name(enum gate_mode m)
{
	return (unsigned)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : "?";
}

const char *gate_fallback_name(enum gate_fallback f)
{
	return (unsigned)f < sizeof(fallback_names) / sizeof(fallback_names[0]) ? fallback_names[f] : "?";
}

const char *gate_reason_name(enum gate_reason r)
{
	return (unsigned)r < GATE_REASON_COUNT_ ? reason_names[r] : "?";
}

const char *gate_cache_state_name(enum gate_cache_state c)
{
	switch (c) {
	case GATE_CACHE_ON_LOAN: return "on-loan";
	case GATE_CACHE_NOT_ON_LOAN: return "not-on-loan";
	default: return "unknown";
	}
}

int gate_mode_from_name(const char *s, enum gate_mode *out)
{
	for (unsigned i = 0; s && i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum gate_mode)i;
			return 0;
		}
	return -EINVAL;
}

int gate_fallback_from_name(const char *s, enum gate_fallback *out)
{
	for (unsigned i = 0; s && i < sizeof(fallback_names) / sizeof(fallback_names[0]); i++)
		if (strcmp(s, fallback_names[i]) == 0) {
			*out = (enum gate_fallback)i;
			return 0;
		}
	return -EINVAL;
}

enum gate_cache_state gate_cache_state_of_status(const char *cs)
{
	if (!cs || !cs[0])
		return GATE_CACHE_UNKNOWN;
	/* SIP2 2.00 item information response, circulation status. */
	if (!strcmp(cs, "04") || !strcmp(cs, "05") || !strcmp(cs, "07"))
		return GATE_CACHE_ON_LOAN;
	return GATE_CACHE_NOT_ON_LOAN;
}

/* The AFI alone, through the site's policy (lib/tags/security.h):
 * TAG_SECURED, TAG_UNSECURED or -1. */
static int afi_state(const struct gate_policy *p, int afi)
{
	struct tag_security_policy sp = { .use_afi = true, .use_eas = false,
					  .afi_secured = p->afi_in_stock,
					  .afi_on_loan = p->afi_on_loan };
	return tag_security_state_of(&sp, afi, -1);
}

static int eas_state(int eas)
{
	struct tag_security_policy sp = { .use_afi = false, .use_eas = true };
	return tag_security_state_of(&sp, -1, eas);
}

static bool fallback(const struct gate_policy *p, enum gate_fallback f, const struct gate_read *r)
{
	switch (f) {
	case GATE_FALLBACK_ALARM: return true;
	case GATE_FALLBACK_SILENT: return false;
	default: return afi_state(p, r->afi) == TAG_SECURED;
	}
}

static void ask_cache(const struct gate_policy *p, const struct gate_read *r, gate_cache_fn cache,
		      void *userdata, struct gate_decision *d)
{
	if (!r->has_item_id) {
		d->alarm = fallback(p, p->undecodable, r);
		d->reason = GATE_REASON_NO_ITEM_ID;
		return;
	}
	d->cache_asked = true;
	d->cache = cache ? cache(userdata) : GATE_CACHE_UNKNOWN;
	switch (d->cache) {
	case GATE_CACHE_ON_LOAN:
		d->alarm = false;
		d->reason = GATE_REASON_CACHE_ON_LOAN;
		break;
	case GATE_CACHE_NOT_ON_LOAN:
		d->alarm = true;
		d->reason = GATE_REASON_CACHE_NOT_ON_LOAN;
		break;
	default:
		d->alarm = fallback(p, p->cache_unknown, r);
		d->reason = GATE_REASON_CACHE_UNKNOWN;
		break;
	}
}

void gate_decide(const struct gate_policy *p, const struct gate_read *r, gate_cache_fn cache,
		 void *userdata, struct gate_decision *out)
{
	*out = (struct gate_decision){ .cache = GATE_CACHE_UNKNOWN };
	if (r->undecodable) {
		out->alarm = fallback(p, p->undecodable, r);
		out->reason = GATE_REASON_UNDECODABLE;
		return;
	}
	switch (p->mode) {
	case GATE_MODE_AFI:
		switch (afi_state(p, r->afi)) {
		case TAG_SECURED:
			out->alarm = true;
			out->reason = GATE_REASON_AFI_SECURED;
			break;
		case TAG_UNSECURED:
			out->reason = GATE_REASON_AFI_ON_LOAN;
			break;
		default:
			out->reason = GATE_REASON_AFI_UNKNOWN;
			break;
		}
		return;
	case GATE_MODE_EAS:
		switch (eas_state(r->eas)) {
		case TAG_SECURED:
			out->alarm = true;
			out->reason = GATE_REASON_EAS_ON;
			break;
		case TAG_UNSECURED:
			out->reason = GATE_REASON_EAS_OFF;
			break;
		default:
			out->reason = GATE_REASON_EAS_NOT_READ;
			break;
		}
		return;
	case GATE_MODE_CACHE:
		ask_cache(p, r, cache, userdata, out);
		return;
	case GATE_MODE_AFI_THEN_CACHE:
		switch (afi_state(p, r->afi)) {
		case TAG_UNSECURED:
			out->reason = GATE_REASON_AFI_ON_LOAN;
			return;
		case TAG_SECURED:
			/* The tag says "in stock"; only the cache knowing better
			 * (a checkout whose AFI write did not take) silences it.
			 * Without an item id there is nothing to confirm with. */
			out->alarm = true;
			out->reason = GATE_REASON_AFI_SECURED;
			if (r->has_item_id) {
				out->cache_asked = true;
				out->cache = cache ? cache(userdata) : GATE_CACHE_UNKNOWN;
				if (out->cache == GATE_CACHE_ON_LOAN) {
					out->alarm = false;
					out->reason = GATE_REASON_CACHE_ON_LOAN;
				}
			}
			return;
		default:
			ask_cache(p, r, cache, userdata, out);
			return;
		}
	}
}
