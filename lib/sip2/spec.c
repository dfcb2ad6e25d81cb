/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SIP2 2.00 message table: each message's fixed fields, in order, with
 * their exact lengths.  Sources: the 3M spec rev 2.12 message sections,
 * cross-checked with /work/shared/reference/sip2.md section 1.
 */
#include "config.h"

#include <string.h>

#include "sip2/sip2.h"

#define BLANK_DATE "                  "
#define DATE(n) { n, 18, BLANK_DATE }
#define YN(n, d) { n, 1, d }

static const struct sip2_fixed_spec f01[] = { YN("card_retained", "N"), DATE("transaction_date") };
static const struct sip2_fixed_spec f09[] = { YN("no_block", "N"), DATE("transaction_date"),
					      DATE("return_date") };
static const struct sip2_fixed_spec f10[] = { { "ok", 1, NULL }, YN("resensitize", "N"),
					      YN("magnetic_media", "U"), YN("alert", "N"),
					      DATE("transaction_date") };
static const struct sip2_fixed_spec f11[] = { YN("sc_renewal_policy", "N"), YN("no_block", "N"),
					      DATE("transaction_date"), DATE("nb_due_date") };
/* 12 and 30 share one layout (SIP2 2.00: "Renew Response" = "Checkout Response") */
static const struct sip2_fixed_spec f12[] = { { "ok", 1, NULL }, YN("renewal_ok", "N"),
					      YN("magnetic_media", "U"), YN("desensitize", "U"),
					      DATE("transaction_date") };
static const struct sip2_fixed_spec f15[] = { { "hold_mode", 1, NULL }, DATE("transaction_date") };
static const struct sip2_fixed_spec f16[] = { { "ok", 1, NULL }, YN("available", "N"),
					      DATE("transaction_date") };
static const struct sip2_fixed_spec fdate[] = { DATE("transaction_date") };
static const struct sip2_fixed_spec f18[] = { { "circulation_status", 2, "01" },
					      { "security_marker", 2, "00" },
					      { "fee_type", 2, "01" }, DATE("transaction_date") };
static const struct sip2_fixed_spec f20[] = { { "item_properties_ok", 1, NULL },
					      DATE("transaction_date") };
static const struct sip2_fixed_spec f23[] = { { "language", 3, "000" }, DATE("transaction_date") };
static const struct sip2_fixed_spec f24[] = { { "patron_status", 14, "              " },
					      { "language", 3, "000" }, DATE("transaction_date") };
static const struct sip2_fixed_spec f29[] = { YN("third_party_allowed", "N"), YN("no_block", "N"),
					      DATE("transaction_date"), DATE("nb_due_date") };
static const struct sip2_fixed_spec f36[] = { YN("end_session", "Y"), DATE("transaction_date") };
static const struct sip2_fixed_spec f37[] = { DATE("transaction_date"), { "fee_type", 2, "01" },
					      { "payment_type", 2, "00" },
					      { "currency_type", 3, "USD" } };
static const struct sip2_fixed_spec f38[] = { YN("payment_accepted", "N"), DATE("transaction_date") };
static const struct sip2_fixed_spec f63[] = { { "language", 3, "000" }, DATE("transaction_date"),
					      { "summary", 10, "          " } };
static const struct sip2_fixed_spec f64[] = {
	{ "patron_status", 14, "              " }, { "language", 3, "000" },
	DATE("transaction_date"), { "hold_items_count", 4, "0000" },
	{ "overdue_items_count", 4, "0000" }, { "charged_items_count", 4, "0000" },
	{ "fine_items_count", 4, "0000" }, { "recall_items_count", 4, "0000" },
	{ "unavailable_holds_count", 4, "0000" },
};
static const struct sip2_fixed_spec f66[] = { { "ok", 1, NULL }, DATE("transaction_date") };
static const struct sip2_fixed_spec f93[] = { { "uid_algorithm", 1, "0" },
					      { "pwd_algorithm", 1, "0" } };
static const struct sip2_fixed_spec f94[] = { { "ok", 1, NULL } };
static const struct sip2_fixed_spec f98[] = {
	YN("online_status", "Y"), YN("checkin_ok", "Y"), YN("checkout_ok", "Y"),
	YN("acs_renewal_policy", "Y"), YN("status_update_ok", "N"), YN("offline_ok", "N"),
	{ "timeout_period", 3, "999" }, { "retries_allowed", 3, "999" },
	DATE("date_time_sync"), { "protocol_version", 4, "2.00" },
};
static const struct sip2_fixed_spec f99[] = { { "status_code", 1, "0" },
					      { "max_print_width", 3, "000" },
					      { "protocol_version", 4, "2.00" } };

#define S(id_, name_, f_) { id_, name_, f_, sizeof(f_) / sizeof(f_[0]) }
#define S0(id_, name_) { id_, name_, NULL, 0 }

static const struct sip2_msg_spec specs[] = {
	S("01", "block_patron", f01),
	S("09", "checkin", f09),
	S("10", "checkin_response", f10),
	S("11", "checkout", f11),
	S("12", "checkout_response", f12),
	S("15", "hold", f15),
	S("16", "hold_response", f16),
	S("17", "item_information", fdate),
	S("18", "item_information_response", f18),
	S("19", "item_status_update", fdate),
	S("20", "item_status_update_response", f20),
	S("23", "patron_status", f23),
	S("24", "patron_status_response", f24),
	S("25", "patron_enable", fdate),
	S("26", "patron_enable_response", f24),
	S("29", "renew", f29),
	S("30", "renew_response", f12),
	S("35", "end_patron_session", fdate),
	S("36", "end_session_response", f36),
	S("37", "fee_paid", f37),
	S("38", "fee_paid_response", f38),
	S("63", "patron_information", f63),
	S("64", "patron_information_response", f64),
	S("65", "renew_all", fdate),
	S("66", "renew_all_response", f66),
	S("93", "login", f93),
	S("94", "login_response", f94),
	S0("96", "request_sc_resend"),
	S0("97", "request_acs_resend"),
	S("98", "acs_status", f98),
	S("99", "sc_status", f99),
};

unsigned sip2_spec_fixed_len(const struct sip2_msg_spec *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->n_fixed; i++)
		n += s->fixed[i].len;
	return n;
}

const struct sip2_msg_spec *sip2_spec_find(const char *id)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (id[0] == specs[i].id[0] && id[1] == specs[i].id[1]) {
			return &specs[i];
		}
	return NULL;
}

bool sip2_field_repeatable(const char *fid)
{
	/* SIP2 2.00: screen message, print line and the 64 item lists */
	static const char rep[][3] = { "AF", "AG", "AS", "AT", "AU", "AV", "BU", "CD" };
	for (size_t i = 0; i < sizeof(rep) / sizeof(rep[0]); i++)
		if (fid[0] == rep[i][0] && fid[1] == rep[i][1])
			return true;
	return false;
}
