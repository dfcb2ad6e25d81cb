/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Item security per site: which AFI values mean "in stock / secured" and
 * "on loan", whether EAS is used, the reader commands that secure or
 * unsecure an item, and the verdict on a read-back (rfid.md §2).
 */
#ifndef CIRCD_TAGS_SECURITY_H
#define CIRCD_TAGS_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/event.h>

/* biblstandard.dk/rfid/afi.htm, ISO/IEC 15961 registration */
#define TAG_AFI_IN_STOCK 0x07
#define TAG_AFI_ON_LOAN 0xC2
/* 3M legacy sites (RFID-JSONP-server.pl, koha-rfid-go): secure 0xDA, unsecure 0xD7 */
#define TAG_AFI_3M_SECURED 0xDA
#define TAG_AFI_3M_ON_LOAN 0xD7

struct tag_security_policy {
	bool use_afi;
	bool use_eas;
	uint8_t afi_secured; /* in stock: the gate alarms */
	uint8_t afi_on_loan;
};

enum tag_security_state {
	TAG_UNSECURED = 0, /* on loan: may leave the building */
	TAG_SECURED = 1,   /* in stock: the gate alarms */
};

enum tag_security_verdict {
	TAG_VERIFY_OK = 0,       /* the read-back shows the wanted state */
	TAG_VERIFY_NOT_TAKEN,    /* it shows the other state: write again */
	TAG_VERIFY_UNKNOWN_AFI,  /* an AFI that is neither configured value */
	TAG_VERIFY_NOT_READ,     /* a value the policy relies on was not read */
};

/* ISO defaults: AFI 0x07 / 0xC2, AFI on, EAS off. */
void tag_security_policy_default(struct tag_security_policy *p);
/* "iso" (the default), "3m-legacy" (0xDA / 0xD7, EAS on) or "eas" (EAS
 * only, AFI 0xC2 kept for identification).  -EINVAL for other names. */
int tag_security_policy_preset(struct tag_security_policy *p, const char *name);
/* -EINVAL: both values equal, or neither AFI nor EAS in use. */
int tag_security_policy_validate(const struct tag_security_policy *p);

/* Fill cmds (room for n_max) with the commands that put uid into `want`:
 * CIRCD_CMD_WRITE_AFI and/or CIRCD_CMD_SET_EAS, uid filled, id 0 (the host
 * assigns ids).  Returns the number of commands, -ENOBUFS or -EINVAL. */
int tag_security_commands(const struct tag_security_policy *p, enum tag_security_state want,
			  const uint8_t *uid, size_t uid_len, struct circd_command *cmds, size_t n_max);

/* Did it take?  afi_read: -1 = not read; eas_read: -1 not read, 0 off, 1 on.
 * Returns an enum tag_security_verdict, or -EINVAL. */
int tag_security_verify(const struct tag_security_policy *p, enum tag_security_state want,
			int afi_read, int eas_read);

/* What a gate makes of a tag it sees: 1 secured (alarm), 0 unsecured,
 * -1 cannot tell (unknown AFI and no EAS). */
int tag_security_state_of(const struct tag_security_policy *p, int afi, int eas);

const char *tag_security_verdict_name(int verdict);

#endif
