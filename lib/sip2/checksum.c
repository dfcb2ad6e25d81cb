/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIP2 2.00 p.29 "Error detection": the checksum is the binary sum of the
 * bytes from the first byte of the message through the "AZ" that introduces
 * it, truncated to 16 bits, then negated (two's complement), written as 4
 * hex digits.  It covers the encoded bytes: compute it after the charset
 * conversion, never over UTF-8 when the wire is Latin-1 or CP850.
 */
#include "config.h"

#include "sip2/sip2.h"

uint16_t sip2_checksum(const void *bytes, size_t len)
{
	const unsigned char *p = bytes;
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint16_t)(-sum & 0xffffu);
}

void sip2_checksum_format(uint16_t sum, char out[5])
{
	static const char hex[] = "0123456789ABCDEF";
	for (int i = 0; i < 4; i++)
		out[i] = hex[(sum >> (12 - 4 * i)) & 0xf];
	out[4] = 0;
}
