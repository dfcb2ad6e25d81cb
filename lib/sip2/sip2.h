/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIP2 codec: messages as data, their wire form, checksums, dates,
 * character sets and framing.  No I/O here (see client.h for that).
 *
 * A message is its 2-digit id, its fixed fields (named, exact lengths, from
 * the table in spec.c) and its variable fields (2-letter id + value) in the
 * order they came or were added.  Repeatable and unknown fields are kept
 * as they are, so the journal can store what the ILS really said.
 *
 * Text inside a struct sip2_msg is always UTF-8; the wire charset is
 * applied by sip2_encode()/sip2_decode() through a struct sip2_charset.
 */
#ifndef CIRCD_SIP2_H
#define CIRCD_SIP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIP2_DATE_LEN 18
/* Longest frame we accept from a peer; real messages are < 2 KiB, a 64
 * with long item lists maybe 10 KiB. */
#define SIP2_FRAME_MAX (64 * 1024)

/* ---- Message spec (spec.c) ---- */

struct sip2_fixed_spec {
	const char *name; /* "ok", "transaction_date" ... */
	unsigned len;
	const char *dflt; /* used by sip2_encode() when not set; NULL = must be set */
};

struct sip2_msg_spec {
	const char *id;   /* "09" */
	const char *name; /* "checkin" */
	const struct sip2_fixed_spec *fixed;
	unsigned n_fixed;
};

/* NULL for an id we have no table for (the message is still decoded). */
const struct sip2_msg_spec *sip2_spec_find(const char *id);
/* Sum of the fixed field lengths. */
unsigned sip2_spec_fixed_len(const struct sip2_msg_spec *s);
/* Is this a field id that may repeat (AF, AG, AS, AT, AU, AV, BU, CD)? */
bool sip2_field_repeatable(const char *fid);

/* ---- Messages (msg.c) ---- */

struct sip2_field {
	char id[3];
	char *value; /* UTF-8, never NULL */
};

enum sip2_checksum_state {
	SIP2_CKSUM_NONE = 0, /* no AZ: error detection off for this message */
	SIP2_CKSUM_OK,
	SIP2_CKSUM_BAD,
};

struct sip2_msg {
	char id[3];
	const struct sip2_msg_spec *spec; /* NULL: unknown id */
	char **fixed;                     /* spec->n_fixed values, NULL = not set */
	char *body;   /* unknown id only: everything between id and AY/AZ */
	struct sip2_field *fields;
	size_t n_fields, cap_fields;
	int seq;      /* AY digit, -1 when absent */
	enum sip2_checksum_state checksum;
};

/* id must be two ASCII digits.  Returns NULL only on a bad id. */
struct sip2_msg *sip2_msg_new(const char *id);
void sip2_msg_free(struct sip2_msg *m);
static inline void sip2_msg_freep(struct sip2_msg **m) { sip2_msg_free(*m); }

/* -ENOENT: the message has no such fixed field; -EINVAL: wrong length. */
int sip2_msg_set_fixed(struct sip2_msg *m, const char *name, const char *value);
/* NULL when not set or not a field of this message. */
const char *sip2_msg_fixed(const struct sip2_msg *m, const char *name);
/* Appends (never replaces).  -EINVAL for a field id that is not 2 chars. */
int sip2_msg_add(struct sip2_msg *m, const char *fid, const char *value);
/* Appends a value of len bytes (need not be NUL-terminated). */
void sip2_msg_add_n(struct sip2_msg *m, const char *fid, const char *value, size_t len);
/* The first value of fid, or NULL. */
const char *sip2_msg_get(const struct sip2_msg *m, const char *fid);
/* The n-th (0-based) value of fid, or NULL. */
const char *sip2_msg_get_nth(const struct sip2_msg *m, const char *fid, size_t n);

/* ---- Checksum (checksum.c) ---- */

/* SIP2 2.00 "Error detection": the two's complement of the 16-bit sum of
 * every byte from the message id through "AZ". */
uint16_t sip2_checksum(const void *bytes, size_t len);
/* Format as 4 upper-case hex digits + NUL. */
void sip2_checksum_format(uint16_t sum, char out[5]);

/* ---- Character sets (charset.c) ---- */

struct sip2_charset; /* per connection: iconv state is not thread-safe */

/* "UTF-8", "ISO-8859-1", "CP850" (and whatever iconv knows).  -EINVAL if
 * unknown. */
int sip2_charset_new(const char *name, struct sip2_charset **out);
void sip2_charset_free(struct sip2_charset *cs);
const char *sip2_charset_name(const struct sip2_charset *cs);
/* Convert; *out is malloc'd and NUL-terminated.  to_wire transliterates what
 * the charset cannot hold; from_wire replaces invalid bytes with '?' (also
 * for UTF-8: what leaves the codec is always valid UTF-8). */
int sip2_charset_to_wire(struct sip2_charset *cs, const char *utf8, size_t len,
			 char **out, size_t *out_len);
int sip2_charset_from_wire(struct sip2_charset *cs, const char *wire, size_t len,
			   char **out, size_t *out_len);

/* ---- Encode / decode (codec.c) ---- */

struct sip2_encode_opts {
	struct sip2_charset *charset; /* NULL = UTF-8 */
	bool error_detection;         /* append AY<seq>AZ<checksum> */
	int seq;                      /* 0..9; with error_detection */
};

/* Wire bytes including the CR terminator; *out is malloc'd (NUL-terminated
 * for convenience).  -EINVAL: a fixed field missing or of the wrong length,
 * or a '|' / CR / LF inside a value (SIP2 has no escaping). */
int sip2_encode(const struct sip2_msg *m, const struct sip2_encode_opts *opts,
		char **out, size_t *out_len);

/* One frame, with or without its terminator (CR, CRLF or LF).  Sets
 * m->checksum; a bad checksum is not an error here (the caller decides to
 * send 97).  -EBADMSG: no valid id, or shorter than its fixed fields. */
int sip2_decode(const char *bytes, size_t len, struct sip2_charset *charset,
		struct sip2_msg **out);

/* Framing: find the end of the first frame in buf.  Returns 1 and sets
 * *frame_len (without terminator) and *consumed (with it, and with any
 * LF that follows a CR), 0 when no terminator yet. */
int sip2_frame_find(const char *buf, size_t len, size_t *frame_len, size_t *consumed);

/* ---- Dates (date.c) ---- */

/* SIP2 2.00 p.7: YYYYMMDDZZZZHHMMSS; ZZZZ = 4 blanks for local time or
 * "   Z" for UTC.  out gets 18 chars + NUL. */
void sip2_date_format(uint64_t realtime_usec, bool utc, char out[SIP2_DATE_LEN + 1]);
/* 18 chars.  All blanks: *given = false, 0 returned.  -EINVAL if malformed. */
int sip2_date_parse(const char *s, bool *given, uint64_t *realtime_usec);

#endif
