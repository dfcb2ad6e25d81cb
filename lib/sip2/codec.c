/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIP2 wire format: <2-digit id><fixed fields><ID value|>...[AYnAZxxxx]<CR>
 * (SIP2 2.00 "Message format"; reference sip2.md section 1 "Framing").
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sip2/sip2.h"
#include "util/util.h"


struct sbuf {
	char *p;
	size_t len, cap;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sbuf_puts(struct sbuf *b, const char *s) { sbuf_put(b, s, strlen(s)); }

/* SIP2 has no escaping: a delimiter or terminator inside a value would
 * split the message on the other side (sip2.md "Edge cases"). */
static bool value_ok(const char *v)
{
	return strpbrk(v, "|\r\n") == NULL;
}

/* Fixed fields are printable ASCII in every message of the spec; holding
 * to that keeps their byte offsets the same in every charset. */
static bool fixed_ok(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

int sip2_encode(const struct sip2_msg *m, const struct sip2_encode_opts *opts, char **out,
		size_t *out_len)
{
	struct sbuf text = { 0 };
	int r = -EINVAL;

	sbuf_put(&text, m->id, 2);
	if (m->spec) {
		for (unsigned i = 0; i < m->spec->n_fixed; i++) {
			const struct sip2_fixed_spec *f = &m->spec->fixed[i];
			const char *v = m->fixed[i] ? m->fixed[i] : f->dflt;
			if (!v || strlen(v) != f->len || !fixed_ok(v, f->len))
				goto out;
			sbuf_puts(&text, v);
		}
	} else if (m->body) {
		if (!value_ok(m->body))
			goto out;
		sbuf_puts(&text, m->body);
	}
	for (size_t i = 0; i < m->n_fields; i++) {
		const struct sip2_field *f = &m->fields[i];
		if (!value_ok(f->id) || !value_ok(f->value))
			goto out;
		sbuf_put(&text, f->id, 2);
		sbuf_puts(&text, f->value);
		sbuf_put(&text, "|", 1);
	}

	char *wire = NULL;
	size_t wire_len = 0;
	r = sip2_charset_to_wire(opts ? opts->charset : NULL, text.p, text.len, &wire, &wire_len);
	if (r < 0)
		goto out;
	struct sbuf w = { .p = wire, .len = wire_len, .cap = wire_len + 1 };
	if (opts && opts->error_detection) {
		char tail[4] = { 'A', 'Y', (char)('0' + (opts->seq % 10 + 10) % 10), 0 };
		char hex[5];
		sbuf_puts(&w, tail);
		sbuf_puts(&w, "AZ");
		sip2_checksum_format(sip2_checksum(w.p, w.len), hex);
		sbuf_puts(&w, hex);
	}
	sbuf_put(&w, "\r", 1);
	*out = w.p;
	*out_len = w.len;
	r = 0;
out:
	free(text.p);
	return r;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10; /* sip2.md: accept lower-case hex in AZ */
	return -1;
}

/* Finds a trailing [AYn][|]AZxxxx in the raw bytes.  Sets *body_end to
 * where the fields end, *seq and *state. */
static void find_error_detection(const char *b, size_t len, size_t min_pos, size_t *body_end,
				 int *seq, enum sip2_checksum_state *state)
{
	*body_end = len;
	*seq = -1;
	*state = SIP2_CKSUM_NONE;
	if (len < min_pos + 6 || b[len - 6] != 'A' || b[len - 5] != 'Z')
		return;
	unsigned given = 0;
	for (size_t i = len - 4; i < len; i++) {
		int h = hexval(b[i]);
		if (h < 0)
			return;
		given = given << 4 | (unsigned)h;
	}
	/* SIP2 2.00 p.29: sum through "AZ" plus the checksum is 0 mod 2^16 */
	unsigned sum = 0;
	for (size_t i = 0; i < len - 4; i++)
		sum += (unsigned char)b[i];
	*state = ((sum + given) & 0xffffu) == 0 ? SIP2_CKSUM_OK : SIP2_CKSUM_BAD;
	size_t end = len - 6;
	/* a few servers write "AY1|AZ": the '|' ends the AY field */
	size_t ay_end = (end > min_pos && b[end - 1] == '|') ? end - 1 : end;
	if (ay_end >= min_pos + 3 && b[ay_end - 3] == 'A' && b[ay_end - 2] == 'Y' &&
	    b[ay_end - 1] >= '0' && b[ay_end - 1] <= '9') {
		*seq = b[ay_end - 1] - '0';
		end = ay_end - 3;
	}
	*body_end = end;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }


int sip2_decode(const char *bytes, size_t len, struct sip2_charset *charset,
		struct sip2_msg **out)
{
	/* CR, CRLF and a stray LF all end a message (sip2.md "Framing") */
	while (len > 0 && (bytes[len - 1] == '\r' || bytes[len - 1] == '\n'))
		len--;
	if (len < 2 || !is_digit(bytes[0]) || !is_digit(bytes[1]))
		return -EBADMSG;
	char id[3] = { bytes[0], bytes[1], 0 };
	const struct sip2_msg_spec *spec = sip2_spec_find(id);
	size_t fixed_len = spec ? sip2_spec_fixed_len(spec) : 0;
	if (len < 2 + fixed_len || !fixed_ok(bytes + 2, fixed_len))
		return -EBADMSG;

	size_t body_end;
	int seq;
	enum sip2_checksum_state state;
	find_error_detection(bytes, len, 2 + fixed_len, &body_end, &seq, &state);

	_cleanup_free_ char *text = NULL;
	size_t text_len;
	int r = sip2_charset_from_wire(charset, bytes, body_end, &text, &text_len);
	if (r < 0)
		return r;
	/* fixed fields are ASCII, so their byte offsets survive conversion;
	 * if garbage made the text shorter, the message is malformed */
	if (text_len < 2 + fixed_len)
		return -EBADMSG;

	struct sip2_msg *m = sip2_msg_new(id);
	m->seq = seq;
	m->checksum = state;
	size_t pos = 2;
	if (spec) {
		for (unsigned i = 0; i < spec->n_fixed; i++) {
			unsigned n = spec->fixed[i].len;
			m->fixed[i] = xcalloc(1, n + 1);
			memcpy(m->fixed[i], text + pos, n);
			pos += n;
		}
	} else {
		/* unknown message: where its fixed part ends is unknowable;
		 * keep it whole so it can be logged and journaled */
		m->body = xcalloc(1, text_len - pos + 1);
		memcpy(m->body, text + pos, text_len - pos);
		pos = text_len;
	}
	while (pos < text_len) {
		const char *start = text + pos;
		const char *bar = memchr(start, '|', text_len - pos);
		size_t seg = bar ? (size_t)(bar - start) : text_len - pos;
		if (seg >= 2)
			sip2_msg_add_n(m, start, start + 2, seg - 2);
		/* a 1-byte segment is junk: nothing sensible to keep */
		pos += seg + (bar ? 1 : 0);
	}
	*out = m;
	return 0;
}

int sip2_frame_find(const char *buf, size_t len, size_t *frame_len, size_t *consumed)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\r' && buf[i] != '\n')
			continue;
		*frame_len = i;
		*consumed = i + 1;
		if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
			(*consumed)++;
		return 1;
	}
	return 0;
}
