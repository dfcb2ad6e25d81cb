/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire charset of one ILS connection.  SIP2 does not define one:
 * Koha and Evergreen speak UTF-8 or ASCII, FOLIO edge-sip2 defaults to
 * IBM850 (reference sip2.md "Character sets").  Messages are UTF-8 inside
 * circd; only the wire bytes change.  iconv descriptors carry state, so a
 * charset belongs to one connection (one thread).
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "sip2/sip2.h"
#include "util/util.h"

struct sip2_charset {
	char *name;
	bool utf8;
	iconv_t to_wire, from_wire;
};

int sip2_charset_new(const char *name, struct sip2_charset **out)
{
	struct sip2_charset *cs = xcalloc(1, sizeof(*cs));
	cs->to_wire = cs->from_wire = (iconv_t)-1;
	cs->name = xstrdup(name && *name ? name : "UTF-8");
	if (strcasecmp(cs->name, "UTF-8") == 0 || strcasecmp(cs->name, "UTF8") == 0) {
		cs->utf8 = true;
	} else {
		_cleanup_free_ char *translit = xasprintf("%s//TRANSLIT", cs->name);
		cs->to_wire = iconv_open(translit, "UTF-8");
		cs->from_wire = iconv_open("UTF-8", cs->name);
		if (cs->to_wire == (iconv_t)-1 || cs->from_wire == (iconv_t)-1) {
			sip2_charset_free(cs);
			return -EINVAL;
		}
	}
	*out = cs;
	return 0;
}

void sip2_charset_free(struct sip2_charset *cs)
{
	if (!cs)
		return;
	if (cs->to_wire != (iconv_t)-1)
		iconv_close(cs->to_wire);
	if (cs->from_wire != (iconv_t)-1)
		iconv_close(cs->from_wire);
	free(cs->name);
	free(cs);
}

const char *sip2_charset_name(const struct sip2_charset *cs)
{
	return cs ? cs->name : "UTF-8";
}

static char *copy(const char *in, size_t len, size_t *out_len)
{
	char *p = xcalloc(1, len + 1);
	memcpy(p, in, len);
	*out_len = len;
	return p;
}

/* Converts everything; an input byte iconv cannot take becomes '?'. */
static int convert(iconv_t cd, const char *in, size_t len, char **out, size_t *out_len)
{
	size_t cap = len * 4 + 16, used = 0;
	char *buf = xcalloc(1, cap);
	char *ip = (char *)in;
	size_t ileft = len;
	iconv(cd, NULL, NULL, NULL, NULL);
	while (ileft > 0) {
		char *op = buf + used;
		size_t oleft = cap - used - 1;
		size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
		used = (size_t)(op - buf);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		} else {
			/* EILSEQ / EINVAL: skip one input byte, write '?' */
			if (cap - used < 2) {
				cap *= 2;
				buf = xrealloc(buf, cap);
			}
			buf[used++] = '?';
			ip++;
			ileft--;
		}
	}
	/* flush the shift state (stateless charsets write nothing) */
	char *op = buf + used;
	size_t oleft = cap - used - 1;
	iconv(cd, NULL, NULL, &op, &oleft);
	used = (size_t)(op - buf);
	buf[used] = 0;
	*out = buf;
	*out_len = used;
	return 0;
}

int sip2_charset_to_wire(struct sip2_charset *cs, const char *utf8, size_t len, char **out,
			 size_t *out_len)
{
	if (!cs || cs->utf8) {
		*out = copy(utf8, len, out_len);
		return 0;
	}
	return convert(cs->to_wire, utf8, len, out, out_len);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	if (left < n)
		return 0;
	unsigned cp = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Text leaving the codec goes into logs and JSON: an ACS that claims
 * UTF-8 and sends Latin-1 gets '?' for the bytes that are not UTF-8. */
static char *utf8_sanitized(const char *in, size_t len, size_t *out_len)
{
	char *p = copy(in, len, out_len);
	const unsigned char *u = (const unsigned char *)p;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(u + i, len - i);
		if (n == 0) {
			p[i++] = '?';
			continue;
		}
		i += n;
	}
	return p;
}

int sip2_charset_from_wire(struct sip2_charset *cs, const char *wire, size_t len, char **out,
			   size_t *out_len)
{
	if (!cs || cs->utf8) {
		*out = utf8_sanitized(wire, len, out_len);
		return 0;
	}
	return convert(cs->from_wire, wire, len, out, out_len);
}
