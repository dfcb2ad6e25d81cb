/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO/IEC 15962 compaction (rfid.md §1.3, ISO 28560-2:2014 p.17).
 * Bit-packed schemes are MSB first.  Padding, and how the decoder sees it:
 *   5-bit  pad with 0-bits; 00000 is not a character (0x40 is excluded),
 *          so the decoder stops there
 *   6-bit  pad with the leading bits of 100000; a whole 100000 would read
 *          as a trailing space, which the decoder drops
 *   7-bit  pad with 1-bits; a whole 1111111 (DEL) at the end is dropped
 *   ISIL   pad with 1-bits; they read as an incomplete shift and stop
 * Encoders refuse text the decoder could not give back (trailing space in
 * 6-bit, DEL in 7-bit), so encode -> decode is exact.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tags/compaction.h"

struct bit_reader {
	const uint8_t *p;
	size_t nbits;
	size_t pos;
};

static unsigned read_bits(struct bit_reader *r, unsigned n)
{
	unsigned v = 0;
	for (unsigned i = 0; i < n; i++, r->pos++)
		v = v << 1 | ((r->p[r->pos / 8] >> (7 - r->pos % 8)) & 1u);
	return v;
}

struct bit_writer {
	uint8_t *p;
	size_t size;
	size_t nbits;
	bool overflow;
};

static void write_bits(struct bit_writer *w, unsigned v, unsigned n)
{
	for (unsigned i = n; i-- > 0; w->nbits++) {
		size_t byte = w->nbits / 8;
		if (byte >= w->size) {
			w->overflow = true;
			return;
		}
		if (w->nbits % 8 == 0)
			w->p[byte] = 0;
		if ((v >> i) & 1u)
			w->p[byte] |= (uint8_t)(0x80u >> (w->nbits % 8));
	}
}

/* pad to a byte with the bits of `pattern` (width bits), repeated if the
 * gap is wider than the pattern (5-bit code can leave 7 bits) */
static int finish_bits(struct bit_writer *w, unsigned pattern, unsigned width)
{
	unsigned pad = (unsigned)((8 - w->nbits % 8) % 8);
	for (unsigned i = 0; i < pad; i++)
		write_bits(w, (pattern >> (width - 1 - i % width)) & 1u, 1);
	if (w->overflow)
		return -ENOSPC;
	return (int)(w->nbits / 8);
}

struct text_out {
	char *p;
	size_t size;
	size_t n;
	bool cut;
};

static void emit(struct text_out *t, char c)
{
	if (t->n + 1 >= t->size) {
		t->cut = true;
		return;
	}
	t->p[t->n++] = c;
	t->p[t->n] = '\0';
}

static void emit_hex(struct text_out *t, const uint8_t *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		emit(t, hex[in[i] >> 4]);
		emit(t, hex[in[i] & 15]);
	}
}

/* ---- ISIL compaction (ISO 28560-2, rfid.md §1.3) ---- */

enum isil_mode { ISIL_UPPER, ISIL_LOWER, ISIL_DIGIT };

static int isil_decode(const uint8_t *in, size_t len, struct text_out *t)
{
	struct bit_reader r = { .p = in, .nbits = len * 8 };
	enum isil_mode mode = ISIL_UPPER, cur;
	bool shifted = false;
	enum isil_mode shift_to = ISIL_UPPER;

	for (;;) {
		cur = shifted ? shift_to : mode;
		unsigned width = cur == ISIL_DIGIT ? 4 : 5;
		if (r.nbits - r.pos < width)
			break; /* padding */
		unsigned v = read_bits(&r, width);
		if (cur == ISIL_DIGIT) {
			shifted = false;
			if (v <= 9) {
				emit(t, (char)('0' + v));
			} else if (v == 10) {
				emit(t, '-');
			} else if (v == 11) {
				emit(t, ':');
			} else {
				/* 1100 U latch, 1101 U shift, 1110 L latch, 1111 L shift */
				enum isil_mode to = v < 14 ? ISIL_UPPER : ISIL_LOWER;
				if (v & 1) {
					shifted = true;
					shift_to = to;
				} else {
					mode = to;
				}
			}
			continue;
		}
		enum isil_mode other = cur == ISIL_UPPER ? ISIL_LOWER : ISIL_UPPER;
		shifted = false;
		if (v == 0)
			emit(t, '-');
		else if (v <= 26)
			emit(t, (char)((cur == ISIL_UPPER ? 'A' : 'a') + v - 1));
		else if (v == 27)
			emit(t, cur == ISIL_UPPER ? ':' : '/');
		else if (v == 28)
			mode = other;               /* 11100 U/L latch */
		else if (v == 29)
			shifted = true, shift_to = other;
		else if (v == 30)
			mode = ISIL_DIGIT;          /* 11110 digit latch */
		else
			shifted = true, shift_to = ISIL_DIGIT;
	}
	return 0;
}

static int isil_class(char c)
{
	if (c >= 'A' && c <= 'Z')
		return ISIL_UPPER;
	if (c >= 'a' && c <= 'z')
		return ISIL_LOWER;
	if (c >= '0' && c <= '9')
		return ISIL_DIGIT;
	if (c == '/')
		return ISIL_LOWER;
	if (c == ':')
		return ISIL_UPPER;
	if (c == '-')
		return -2; /* in every set */
	return -1;
}

static bool isil_in_mode(char c, enum isil_mode m)
{
	if (c == '-')
		return true;
	if (c == ':')
		return m != ISIL_LOWER;
	return isil_class(c) == (int)m;
}

static unsigned isil_value(char c, enum isil_mode m)
{
	if (m == ISIL_DIGIT)
		return c == '-' ? 10 : c == ':' ? 11 : (unsigned)(c - '0');
	if (c == '-')
		return 0;
	if (c == ':' || c == '/')
		return 27;
	return (unsigned)(m == ISIL_UPPER ? c - 'A' + 1 : c - 'a' + 1);
}

static int isil_encode(const char *s, struct bit_writer *w)
{
	enum isil_mode mode = ISIL_UPPER;
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (isil_class(c) == -1)
			return -EINVAL;
		if (!isil_in_mode(c, mode)) {
			enum isil_mode to = (enum isil_mode)isil_class(c);
			/* latch when the next character needs the same set too */
			bool latch = i + 1 < n && !isil_in_mode(s[i + 1], mode) &&
				     isil_in_mode(s[i + 1], to);
			if (mode == ISIL_DIGIT) {
				unsigned code = to == ISIL_UPPER ? 12 : 14;
				write_bits(w, code + (latch ? 0 : 1), 4);
			} else if (to == ISIL_DIGIT) {
				write_bits(w, latch ? 30 : 31, 5);
			} else {
				write_bits(w, latch ? 28 : 29, 5);
			}
			if (latch)
				mode = to;
			write_bits(w, isil_value(c, to), to == ISIL_DIGIT ? 4 : 5);
			continue;
		}
		write_bits(w, isil_value(c, mode), mode == ISIL_DIGIT ? 4 : 5);
	}
	return finish_bits(w, 0xFF, 8);
}

/* ---- the other schemes ---- */

static bool all_in(const char *s, unsigned lo, unsigned hi)
{
	for (; *s; s++)
		if ((unsigned char)*s < lo || (unsigned char)*s > hi)
			return false;
	return true;
}

static bool printable(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return len > 0;
}

int tag_compaction_decode(unsigned scheme, const uint8_t *in, size_t len, char *out, size_t out_size,
			  bool *is_hex, bool *cut)
{
	struct text_out t = { .p = out, .size = out_size };
	struct bit_reader r = { .p = in, .nbits = len * 8 };

	out[0] = '\0';
	*is_hex = false;
	switch (scheme) {
	case TAG_CMP_APPLICATION:
		*is_hex = true;
		emit_hex(&t, in, len);
		break;
	case TAG_CMP_ISIL:
		isil_decode(in, len, &t);
		break;
	case TAG_CMP_INTEGER: {
		/* big-endian unsigned; 8 bytes hold every 19-digit value */
		if (len == 0 || len > 8)
			return -EBADMSG;
		uint64_t v = 0;
		for (size_t i = 0; i < len; i++)
			v = v << 8 | in[i];
		/* decimal by hand: snprintf costs more than the whole decode */
		char buf[24];
		int k = 0;
		do {
			buf[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (k > 0)
			emit(&t, buf[--k]);
		break;
	}
	case TAG_CMP_NUMERIC:
		if (len == 0)
			return -EBADMSG;
		for (size_t i = 0; i < len * 2; i++) {
			unsigned nib = i % 2 ? in[i / 2] & 15u : in[i / 2] >> 4;
			if (nib == 15 && i == len * 2 - 1 && i > 0)
				break; /* pad nibble, last only */
			if (nib > 9)
				return -EBADMSG;
			emit(&t, (char)('0' + nib));
		}
		break;
	case TAG_CMP_5BIT:
		while (r.nbits - r.pos >= 5) {
			unsigned v = read_bits(&r, 5);
			if (v == 0)
				break;
			emit(&t, (char)(v | 0x40));
		}
		break;
	case TAG_CMP_6BIT: {
		size_t nchars = r.nbits / 6;
		for (size_t i = 0; i < nchars; i++) {
			unsigned v = read_bits(&r, 6);
			char c = (char)(v & 0x20 ? v : v | 0x40);
			if (i == nchars - 1 && c == ' ' && r.nbits % 6 == 0 && len * 8 / 6 * 6 == len * 8)
				break; /* a whole 100000 pad character */
			emit(&t, c);
		}
		break;
	}
	case TAG_CMP_7BIT: {
		size_t nchars = r.nbits / 7;
		for (size_t i = 0; i < nchars; i++) {
			unsigned v = read_bits(&r, 7);
			if (v == 0x7f && i == nchars - 1)
				break; /* 7 pad bits */
			if (v == 0)
				return -EBADMSG;
			emit(&t, (char)v);
		}
		break;
	}
	case TAG_CMP_OCTET:
		if (printable(in, len)) {
			for (size_t i = 0; i < len; i++)
				emit(&t, (char)in[i]);
		} else {
			*is_hex = true;
			emit_hex(&t, in, len);
		}
		break;
	case TAG_CMP_UTF8:
		for (size_t i = 0; i < len; i++) {
			if (in[i] == 0)
				return -EBADMSG;
			emit(&t, (char)in[i]);
		}
		break;
	default:
		return -EBADMSG;
	}
	*cut = t.cut;
	return 0;
}

bool tag_compaction_fits(unsigned scheme, const char *text)
{
	size_t n = strlen(text);

	if (n == 0)
		return scheme == TAG_CMP_OCTET || scheme == TAG_CMP_UTF8;
	switch (scheme) {
	case TAG_CMP_INTEGER:
		return text[0] != '0' && n <= 19 && all_in(text, '0', '9');
	case TAG_CMP_NUMERIC:
		return all_in(text, '0', '9');
	case TAG_CMP_5BIT:
		return all_in(text, 0x41, 0x5f);
	case TAG_CMP_6BIT:
		return all_in(text, 0x20, 0x5f) && text[n - 1] != ' ';
	case TAG_CMP_7BIT:
		return all_in(text, 0x01, 0x7e);
	case TAG_CMP_OCTET:
	case TAG_CMP_UTF8:
		return true;
	case TAG_CMP_ISIL:
		for (; *text; text++)
			if (isil_class(*text) == -1)
				return false;
		return true;
	default:
		return false;
	}
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tag_compaction_encode(unsigned scheme, const char *text, bool is_hex, uint8_t *out, size_t out_size)
{
	struct bit_writer w = { .p = out, .size = out_size };
	size_t n = strlen(text);

	if (is_hex && (scheme == TAG_CMP_OCTET || scheme == TAG_CMP_APPLICATION)) {
		if (n % 2)
			return -EINVAL;
		if (n / 2 > out_size)
			return -ENOSPC;
		for (size_t i = 0; i < n; i += 2) {
			int hi = hexv(text[i]), lo = hexv(text[i + 1]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			out[i / 2] = (uint8_t)(hi << 4 | lo);
		}
		return (int)(n / 2);
	}
	if (!tag_compaction_fits(scheme, text))
		return -EINVAL;
	switch (scheme) {
	case TAG_CMP_INTEGER: {
		unsigned long long v = strtoull(text, NULL, 10);
		uint8_t be[8];
		int k = 0;
		do {
			be[k++] = (uint8_t)(v & 0xff);
			v >>= 8;
		} while (v);
		if ((size_t)k > out_size)
			return -ENOSPC;
		for (int i = 0; i < k; i++)
			out[i] = be[k - 1 - i];
		return k;
	}
	case TAG_CMP_NUMERIC:
		for (size_t i = 0; i < n; i++)
			write_bits(&w, (unsigned)(text[i] - '0'), 4);
		return finish_bits(&w, 0xF, 4);
	case TAG_CMP_5BIT:
		for (size_t i = 0; i < n; i++)
			write_bits(&w, (unsigned)text[i] & 0x1f, 5);
		return finish_bits(&w, 0, 5);
	case TAG_CMP_6BIT:
		for (size_t i = 0; i < n; i++)
			write_bits(&w, (unsigned)text[i] & 0x3f, 6);
		return finish_bits(&w, 0x20, 6);
	case TAG_CMP_7BIT:
		for (size_t i = 0; i < n; i++)
			write_bits(&w, (unsigned)text[i] & 0x7f, 7);
		return finish_bits(&w, 0x7f, 7);
	case TAG_CMP_ISIL:
		return isil_encode(text, &w);
	case TAG_CMP_OCTET:
	case TAG_CMP_UTF8:
		if (n > out_size)
			return -ENOSPC;
		memcpy(out, text, n);
		return (int)n;
	default:
		return -EINVAL;
	}
}

/* Bytes text takes in scheme (text fits); ISIL needs a trial encoding. */
static size_t encoded_len(unsigned scheme, const char *text, size_t n)
{
	switch (scheme) {
	case TAG_CMP_INTEGER: {
		unsigned long long v = strtoull(text, NULL, 10);
		size_t k = 0;
		do {
			k++;
			v >>= 8;
		} while (v);
		return k;
	}
	case TAG_CMP_NUMERIC: return (n + 1) / 2;
	case TAG_CMP_5BIT: return (5 * n + 7) / 8;
	case TAG_CMP_6BIT: return (6 * n + 7) / 8;
	case TAG_CMP_7BIT: return (7 * n + 7) / 8;
	default: return n;
	}
}

unsigned tag_compaction_choose(const char *text, bool isil)
{
	static const unsigned order[] = { TAG_CMP_INTEGER, TAG_CMP_NUMERIC, TAG_CMP_5BIT,
					  TAG_CMP_6BIT, TAG_CMP_7BIT, TAG_CMP_UTF8 };
	size_t n = strlen(text), best_len = SIZE_MAX;
	unsigned best = TAG_CMP_UTF8;

	if (isil && tag_compaction_fits(TAG_CMP_ISIL, text)) {
		uint8_t buf[512];
		int l = tag_compaction_encode(TAG_CMP_ISIL, text, false, buf, sizeof(buf));
		if (l >= 0) {
			best = TAG_CMP_ISIL;
			best_len = (size_t)l;
		}
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!tag_compaction_fits(order[i], text))
			continue;
		size_t l = encoded_len(order[i], text, n);
		if (l < best_len) {
			best = order[i];
			best_len = l;
		}
	}
	return best;
}
