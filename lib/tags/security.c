/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Security model: AFI values and EAS use are per-site configuration, never
 * constants, because sites disagree (rfid.md §2: ISO 0x07/0xC2, 3M legacy
 * 0xDA/0xD7, and even the 3M sources contradict each other).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tags/security.h"

void tag_security_policy_default(struct tag_security_policy *p)
{
	*p = (struct tag_security_policy){
		.use_afi = true,
		.use_eas = false,
		.afi_secured = TAG_AFI_IN_STOCK,
		.afi_on_loan = TAG_AFI_ON_LOAN,
	};
}

int tag_security_policy_preset(struct tag_security_policy *p, const char *name)
{
	tag_security_policy_default(p);
	if (!name || strcmp(name, "iso") == 0)
		return 0;
	if (strcmp(name, "3m-legacy") == 0) {
		p->afi_secured = TAG_AFI_3M_SECURED;
		p->afi_on_loan = TAG_AFI_3M_ON_LOAN;
		p->use_eas = true;
		return 0;
	}
	if (strcmp(name, "eas") == 0) {
		/* biblstandard.dk: keep 0xC2 on every item, secure with EAS */
		p->use_afi = false;
		p->use_eas = true;
		p->afi_secured = TAG_AFI_ON_LOAN;
		return 0;
	}
	return -EINVAL;
}

int tag_security_policy_validate(const struct tag_security_policy *p)
{
	if (!p || (!p->use_afi && !p->use_eas))
		return -EINVAL;
	if (p->use_afi && p->afi_secured == p->afi_on_loan)
		return -EINVAL;
	return 0;
}

int tag_security_commands(const struct tag_security_policy *p, enum tag_security_state want,
			  const uint8_t *uid, size_t uid_len, struct circd_command *cmds, size_t n_max)
{
	size_t n = 0;

	if (tag_security_policy_validate(p) < 0 || !uid || uid_len == 0 || uid_len > CIRCD_UID_MAX)
		return -EINVAL;
	if (want != TAG_SECURED && want != TAG_UNSECURED)
		return -EINVAL;
	size_t need = (size_t)p->use_afi + (size_t)p->use_eas;
	if (need > n_max)
		return -ENOBUFS;

	/* AFI first: an AFI gate is the common case; EAS second so a reader
	 * without NXP custom commands still gets the part that matters. */
	if (p->use_afi) {
		struct circd_command *c = &cmds[n++];
		*c = (struct circd_command){ .struct_size = sizeof(*c), .type = CIRCD_CMD_WRITE_AFI };
		c->value = want == TAG_SECURED ? p->afi_secured : p->afi_on_loan;
		memcpy(c->uid, uid, uid_len);
		c->uid_len = (uint8_t)uid_len;
	}
	if (p->use_eas) {
		struct circd_command *c = &cmds[n++];
		*c = (struct circd_command){ .struct_size = sizeof(*c), .type = CIRCD_CMD_SET_EAS };
		c->value = want == TAG_SECURED ? 1 : 0;
		memcpy(c->uid, uid, uid_len);
		c->uid_len = (uint8_t)uid_len;
	}
	return (int)n;
}

int tag_security_verify(const struct tag_security_policy *p, enum tag_security_state want,
			int afi_read, int eas_read)
{
	if (tag_security_policy_validate(p) < 0 || (want != TAG_SECURED && want != TAG_UNSECURED))
		return -EINVAL;
	if (p->use_afi) {
		if (afi_read < 0 || afi_read > 0xff)
			return TAG_VERIFY_NOT_READ;
		uint8_t wanted = want == TAG_SECURED ? p->afi_secured : p->afi_on_loan;
		uint8_t other = want == TAG_SECURED ? p->afi_on_loan : p->afi_secured;
		if (afi_read == other)
			return TAG_VERIFY_NOT_TAKEN;
		if (afi_read != wanted)
			return TAG_VERIFY_UNKNOWN_AFI;
	}
	if (p->use_eas) {
		/* rfid.md §2: EAS Alarm answers only when EAS = 1; the reader
		 * plugin turns "no answer" into 0, not into -1 */
		if (eas_read < 0)
			return TAG_VERIFY_NOT_READ;
		if ((eas_read != 0) != (want == TAG_SECURED))
			return TAG_VERIFY_NOT_TAKEN;
	}
	return TAG_VERIFY_OK;
}

int tag_security_state_of(const struct tag_security_policy *p, int afi, int eas)
{
	if (p->use_afi && afi >= 0) {
		if (afi == p->afi_secured)
			return TAG_SECURED;
		if (afi == p->afi_on_loan)
			return TAG_UNSECURED;
	}
	if (p->use_eas && eas >= 0)
		return eas ? TAG_SECURED : TAG_UNSECURED;
	return -1;
}

const char *tag_security_verdict_name(int verdict)
{
	switch (verdict) {
	case TAG_VERIFY_OK: return "ok";
	case TAG_VERIFY_NOT_TAKEN: return "not-taken";
	case TAG_VERIFY_UNKNOWN_AFI: return "unknown-afi";
	case TAG_VERIFY_NOT_READ: return "not-read";
	default: return "invalid";
	}
}
