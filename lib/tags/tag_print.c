/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A decoded item for humans and as one JSON object (hand-written: the
 * library stays free of a JSON dependency, and the shape is small).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tags/tag_cli.h"

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (s[0] >= 0xf5)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void tag_json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fprintf(out, "\\%c", *s++);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s++);
		} else if (*s < 0x80) {
			fputc(*s++, out);
		} else {
			size_t n = utf8_len(s);
			if (n) {
				fwrite(s, 1, n, out);
				s += n;
			} else {
				/* not UTF-8: read it as Latin-1, as old tags often are */
				fprintf(out, "\\u%04x", *s++);
			}
		}
	}
	fputc('"', out);
}

static const char *order_name(unsigned o)
{
	return o == TAG_ORDER_BLOCKS_REVERSED ? "blocks-reversed" : "as-read";
}

static void hex(FILE *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", p[i]);
}

void tag_item_print_text(const struct tag_item *item, FILE *out)
{
	fprintf(out, "model:            %s", tag_model_name(item->model));
	if (item->model == TAG_MODEL_ISO28560_3)
		fprintf(out, " (%u-byte basic block, version %u)", item->basic_len, item->version);
	fprintf(out, "\nbyte order:       %s\n", order_name(item->byte_order));
	if (item->dsfid >= 0)
		fprintf(out, "dsfid:            0x%02x\n", (unsigned)item->dsfid);
	if (item->error)
		fprintf(out, "error:            %s: %s (offset %u)\n", tag_reason_name(item->error),
			tag_reason_text(item->error), item->error_offset);
	if (item->primary_id[0])
		fprintf(out, "primary item id:  %s\n", item->primary_id);
	if (item->owner_isil[0]) {
		fprintf(out, "owner institution: %s", item->owner_isil);
		if (item->isil_country[0])
			fprintf(out, " (country %s, library %s)", item->isil_country, item->isil_library);
		fputc('\n', out);
	}
	if (item->set_present)
		fprintf(out, "set:              part %u of %u\n", item->part_ordinal, item->parts_total);
	if (item->usage >= 0)
		fprintf(out, "type of usage:    0x%02x (%s)\n", (unsigned)item->usage, tag_usage_text(item->usage));
	if (item->shelf_location[0])
		fprintf(out, "shelf location:   %s\n", item->shelf_location);
	if (item->media_format_oid)
		fprintf(out, "media format:     %s (%s)\n", item->media_format, tag_oid_name(item->media_format_oid));
	if (item->title[0])
		fprintf(out, "title:            %s\n", item->title);
	for (int i = 0; i < 3; i++)
		if (item->local_data[i][0])
			fprintf(out, "local data %c:     %s\n", 'A' + i, item->local_data[i]);
	if (item->model == TAG_MODEL_RFID501)
		fprintf(out, "3M item type %u, branch %u, library %u, custom %u\n", item->rfid501_item_type,
			item->rfid501_branch, item->rfid501_library, item->rfid501_custom);
	if (item->model == TAG_MODEL_ISO28560_3)
		fprintf(out, "crc:              stored 0x%04x, computed 0x%04x\n", item->crc_stored,
			item->crc_computed);
	for (unsigned i = 0; i < item->n_elements; i++) {
		const struct tag_element *el = &item->elements[i];
		fprintf(out, "element %3u %-28s %s%s\n", el->oid, tag_oid_name(el->oid),
			el->is_hex ? "0x" : "", el->value);
	}
	for (unsigned i = 0; i < item->n_raw; i++) {
		fprintf(out, "raw id %u at %u (%u bytes): ", item->raw[i].id, item->raw[i].offset,
			item->raw[i].orig_len);
		hex(out, item->raw[i].data, item->raw[i].len);
		fputc('\n', out);
	}
	for (unsigned i = 0; i < item->n_findings; i++) {
		const struct tag_finding *f = &item->findings[i];
		fprintf(out, "%-8s %s: %s", tag_severity_name(f->severity), tag_reason_name(f->reason),
			tag_reason_text(f->reason));
		if (f->offset != 0xFFFF)
			fprintf(out, " (offset %u)", f->offset);
		fputc('\n', out);
	}
}

void tag_item_print_json(const struct tag_item *item, FILE *out)
{
	fprintf(out, "{\"model\":\"%s\",\"byte_order\":\"%s\"", tag_model_name(item->model),
		order_name(item->byte_order));
	if (item->dsfid >= 0)
		fprintf(out, ",\"dsfid\":%d", item->dsfid);
	if (item->error)
		fprintf(out, ",\"error\":{\"reason\":\"%s\",\"offset\":%u,\"text\":\"%s\"}",
			tag_reason_name(item->error), item->error_offset, tag_reason_text(item->error));
	fputs(",\"primary_id\":", out);
	tag_json_string(out, item->primary_id);
	fputs(",\"owner_isil\":", out);
	tag_json_string(out, item->owner_isil);
	fputs(",\"isil_country\":", out);
	tag_json_string(out, item->isil_country);
	fputs(",\"isil_library\":", out);
	tag_json_string(out, item->isil_library);
	if (item->set_present)
		fprintf(out, ",\"parts_total\":%u,\"part_ordinal\":%u", item->parts_total, item->part_ordinal);
	if (item->usage >= 0)
		fprintf(out, ",\"type_of_usage\":%d", item->usage);
	if (item->shelf_location[0]) {
		fputs(",\"shelf_location\":", out);
		tag_json_string(out, item->shelf_location);
	}
	if (item->media_format_oid) {
		fprintf(out, ",\"media_format_oid\":%u,\"media_format\":", item->media_format_oid);
		tag_json_string(out, item->media_format);
	}
	if (item->title[0]) {
		fputs(",\"title\":", out);
		tag_json_string(out, item->title);
	}
	static const char *const local[] = { "local_data_a", "local_data_b", "local_data_c" };
	for (int i = 0; i < 3; i++)
		if (item->local_data[i][0]) {
			fprintf(out, ",\"%s\":", local[i]);
			tag_json_string(out, item->local_data[i]);
		}
	if (item->model == TAG_MODEL_ISO28560_3)
		fprintf(out, ",\"basic_block_len\":%u,\"version\":%u,\"crc_stored\":%u,\"crc_computed\":%u",
			item->basic_len, item->version, item->crc_stored, item->crc_computed);
	if (item->model == TAG_MODEL_RFID501)
		fprintf(out, ",\"rfid501\":{\"item_type\":%u,\"branch\":%u,\"library\":%u,\"custom\":%u}",
			item->rfid501_item_type, item->rfid501_branch, item->rfid501_library,
			item->rfid501_custom);
	fputs(",\"elements\":[", out);
	for (unsigned i = 0; i < item->n_elements; i++) {
		const struct tag_element *el = &item->elements[i];
		fprintf(out, "%s{\"oid\":%u,\"name\":\"%s\",\"compaction\":%u,\"hex\":%s,\"value\":", i ? "," : "",
			el->oid, tag_oid_name(el->oid), el->compaction, el->is_hex ? "true" : "false");
		tag_json_string(out, el->value);
		fputc('}', out);
	}
	fputs("],\"raw\":[", out);
	for (unsigned i = 0; i < item->n_raw; i++) {
		const struct tag_raw *r = &item->raw[i];
		fprintf(out, "%s{\"id\":%u,\"offset\":%u,\"length\":%u,\"data\":\"", i ? "," : "", r->id,
			r->offset, r->orig_len);
		hex(out, r->data, r->len);
		fputs("\"}", out);
	}
	fputs("],\"findings\":[", out);
	for (unsigned i = 0; i < item->n_findings; i++) {
		const struct tag_finding *f = &item->findings[i];
		fprintf(out, "%s{\"reason\":\"%s\",\"severity\":\"%s\"", i ? "," : "",
			tag_reason_name(f->reason), tag_severity_name(f->severity));
		if (f->offset != 0xFFFF)
			fprintf(out, ",\"offset\":%u", f->offset);
		fprintf(out, ",\"text\":\"%s\"}", tag_reason_text(f->reason));
	}
	fputs("]}\n", out);
}
