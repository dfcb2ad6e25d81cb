/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How fast tag memory decodes, per model and byte order, and how fast items
 * encode.  The point: decoding never matters on a gate's hot path.  The
 * reference in the same run is a plain memcpy+checksum of the same bytes,
 * the least any decoder must do.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tags/tag.h"

static volatile unsigned sink;

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_decode(const char *name, const uint8_t *mem, size_t len, const struct tag_decode_options *o)
{
	struct tag_item item;
	unsigned long n = 0;
	double t0 = now_sec(), t;

	do {
		for (int i = 0; i < 1000; i++, n++) {
			tag_decode(mem, len, -1, o, &item);
			sink += item.n_findings;
		}
		t = now_sec() - t0;
	} while (t < 0.5);
	printf("decode %-28s %10.0f /s  (%.0f ns each)\n", name, (double)n / t, t * 1e9 / (double)n);
}

static void bench_reference(const uint8_t *mem, size_t len)
{
	uint8_t copy[TAG_MEM_MAX];
	unsigned long n = 0;
	double t0 = now_sec(), t;

	do {
		for (int i = 0; i < 1000; i++, n++) {
			memcpy(copy, mem, len);
			unsigned s = 0;
			for (size_t k = 0; k < len; k++)
				s += copy[k];
			sink += s;
		}
		t = now_sec() - t0;
	} while (t < 0.5);
	printf("reference memcpy+sum %zu bytes      %10.0f /s\n", len, (double)n / t);
}

static void bench_encode(const char *name, const struct tag_item *item, bool model2)
{
	uint8_t out[TAG_MEM_MAX];
	size_t len;
	unsigned long n = 0;
	double t0 = now_sec(), t;

	do {
		for (int i = 0; i < 1000; i++, n++) {
			if (model2)
				tag_encode_28560_2(item, NULL, out, sizeof(out), &len);
			else
				tag_encode_28560_3(item, NULL, out, sizeof(out), &len);
			sink += (unsigned)len;
		}
		t = now_sec() - t0;
	} while (t < 0.5);
	printf("encode %-28s %10.0f /s\n", name, (double)n / t);
}

int main(void)
{
	struct tag_item item;
	uint8_t m3[112] = { 0 }, m3r[112], m2[112] = { 0 }, m2r[112], m501[32] = { 0 };
	size_t len3, len2;

	tag_item_init(&item);
	strcpy(item.primary_id, "3912345678");
	strcpy(item.owner_isil, "DK-761500");
	item.set_present = true;
	item.parts_total = 3;
	item.part_ordinal = 2;
	item.usage = 0x10;
	strcpy(item.shelf_location, "QA268.L55");
	strcpy(item.title, "The Hobbit");

	/* 28560-3: a full ICODE SLIX memory (112 bytes) */
	tag_encode_28560_3(&item, &(struct tag_encode_options){ .pad_to = 112 }, m3, sizeof(m3), &len3);
	memcpy(m3r, m3, sizeof(m3));
	tag_reverse_blocks(m3r, sizeof(m3r), 4);
	tag_encode_28560_2(&item, &(struct tag_encode_options){ .pad_to = 112, .lock_oids = 2 }, m2,
			   sizeof(m2), &len2);
	memcpy(m2r, m2, sizeof(m2));
	tag_reverse_blocks(m2r, sizeof(m2r), 4);
	m501[0] = 0x04;
	m501[1] = 0x11;
	m501[3] = 1;
	memcpy(m501 + 4, "3912345678", 10);

	bench_reference(m3, sizeof(m3));
	bench_decode("iso28560-3 (112 B)", m3, sizeof(m3), NULL);
	bench_decode("iso28560-3 reversed blocks", m3r, sizeof(m3r), NULL);
	bench_decode("iso28560-2 (112 B, dsfid?)", m2, sizeof(m2), NULL);
	bench_decode("iso28560-2 reversed blocks", m2r, sizeof(m2r), NULL);
	bench_decode("3m-rfid501", m501, sizeof(m501), NULL);
	uint8_t blank[112];
	memset(blank, 0, sizeof(blank));
	bench_decode("blank", blank, sizeof(blank), NULL);
	bench_encode("iso28560-3", &item, false);
	bench_encode("iso28560-2", &item, true);
	return 0;
}
