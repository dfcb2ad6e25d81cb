/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circctl tag decode | encode | check.
 *
 *   tag decode [--json] [--dsfid N] [--block-size N] [--reader-reverses]
 *              (HEX | --file PATH)
 *   tag encode --model 28560-2|28560-3 --id ID [--isil ISIL] [--set ORD/TOTAL]
 *              [--usage N|0xNN] [--shelf S] [--title S] [--media S]
 *              [--local-a S] [--local-b S] [--local-c S] [--element OID=VALUE]...
 *              [--size 32|34] [--lock OID,OID...] [--block-size N]
 *              [--reverse-blocks] [--pad N] [--json]
 *   tag check  [--json] [--dsfid N] [--reader-reverses] (HEX | --file PATH)
 *
 * A --file holds hex text, or else the raw memory image.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tags/tag_cli.h"
#include "util/util.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2

enum {
	OPT_JSON = 0x100, OPT_DSFID, OPT_BLOCK_SIZE, OPT_READER_REVERSES, OPT_FILE, OPT_MODEL,
	OPT_ID, OPT_ISIL, OPT_SET, OPT_USAGE, OPT_SHELF, OPT_TITLE, OPT_MEDIA, OPT_LOCAL_A,
	OPT_LOCAL_B, OPT_LOCAL_C, OPT_ELEMENT, OPT_SIZE, OPT_LOCK, OPT_REVERSE, OPT_PAD, OPT_HELP,
};

static const struct option options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "dsfid", required_argument, NULL, OPT_DSFID },
	{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
	{ "reader-reverses", no_argument, NULL, OPT_READER_REVERSES },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "id", required_argument, NULL, OPT_ID },
	{ "isil", required_argument, NULL, OPT_ISIL },
	{ "set", required_argument, NULL, OPT_SET },
	{ "usage", required_argument, NULL, OPT_USAGE },
	{ "shelf", required_argument, NULL, OPT_SHELF },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "media", required_argument, NULL, OPT_MEDIA },
	{ "local-a", required_argument, NULL, OPT_LOCAL_A },
	{ "local-b", required_argument, NULL, OPT_LOCAL_B },
	{ "local-c", required_argument, NULL, OPT_LOCAL_C },
	{ "element", required_argument, NULL, OPT_ELEMENT },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "lock", required_argument, NULL, OPT_LOCK },
	{ "reverse-blocks", no_argument, NULL, OPT_REVERSE },
	{ "pad", required_argument, NULL, OPT_PAD },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	FILE *out, *err;
	bool json;
	int dsfid;
	struct tag_decode_options dopts;
	struct tag_encode_options eopts;
	const char *file;
	int model;
	struct tag_item item; /* encode input */
};

static void usage(FILE *f)
{
	fputs("usage: tag decode [--json] [--dsfid N] [--block-size N] [--reader-reverses] (HEX | --file PATH)\n"
	      "       tag encode --model 28560-2|28560-3 --id ID [--isil ISIL] [--set ORDINAL/TOTAL]\n"
	      "                  [--usage N|0xNN] [--shelf S] [--title S] [--media S] [--local-a S]\n"
	      "                  [--local-b S] [--local-c S] [--element OID=VALUE]... [--size 32|34]\n"
	      "                  [--lock OID,...] [--block-size N] [--reverse-blocks] [--pad N] [--json]\n"
	      "       tag check [--json] [--dsfid N] [--reader-reverses] (HEX | --file PATH)\n", f);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;
	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || end == s || *end || *v > max || s[0] == '-' ? -EINVAL : 0;
}

static int set_field(struct cli *c, char *dst, size_t size, const char *v, const char *what)
{
	if (strlen(v) >= size) {
		fprintf(c->err, "tag: %s is too long (at most %zu characters)\n", what, size - 1);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

static int parse_option(struct cli *c, int opt, const char *arg)
{
	unsigned long v;
	struct tag_item *it = &c->item;

	switch (opt) {
	case OPT_JSON: c->json = true; return 0;
	case OPT_READER_REVERSES: c->dopts.reader_reverses = true; return 0;
	case OPT_REVERSE: c->eopts.reverse_blocks = true; return 0;
	case OPT_FILE: c->file = arg; return 0;
	case OPT_DSFID:
		if (parse_uint(arg, 255, &v) < 0)
			break;
		c->dsfid = (int)v;
		return 0;
	case OPT_BLOCK_SIZE:
		if (parse_uint(arg, 64, &v) < 0 || v == 0)
			break;
		c->dopts.block_size = c->eopts.block_size = (uint32_t)v;
		return 0;
	case OPT_MODEL:
		if (strcmp(arg, "28560-2") == 0 || strcmp(arg, "iso28560-2") == 0)
			c->model = TAG_MODEL_ISO28560_2;
		else if (strcmp(arg, "28560-3") == 0 || strcmp(arg, "iso28560-3") == 0 || strcmp(arg, "ddm") == 0)
			c->model = TAG_MODEL_ISO28560_3;
		else
			break;
		return 0;
	case OPT_ID: return set_field(c, it->primary_id, sizeof(it->primary_id), arg, "--id");
	case OPT_ISIL: return set_field(c, it->owner_isil, sizeof(it->owner_isil), arg, "--isil");
	case OPT_SHELF: return set_field(c, it->shelf_location, sizeof(it->shelf_location), arg, "--shelf");
	case OPT_TITLE: return set_field(c, it->title, sizeof(it->title), arg, "--title");
	case OPT_LOCAL_A: return set_field(c, it->local_data[0], sizeof(it->local_data[0]), arg, "--local-a");
	case OPT_LOCAL_B: return set_field(c, it->local_data[1], sizeof(it->local_data[1]), arg, "--local-b");
	case OPT_LOCAL_C: return set_field(c, it->local_data[2], sizeof(it->local_data[2]), arg, "--local-c");
	case OPT_MEDIA:
		it->media_format_oid = 19;
		return set_field(c, it->media_format, sizeof(it->media_format), arg, "--media");
	case OPT_SET: {
		unsigned ord, tot;
		char tail;
		if (sscanf(arg, "%u/%u%c", &ord, &tot, &tail) != 2 || tot > 999 || ord > 999)
			break;
		it->set_present = true;
		it->part_ordinal = (uint16_t)ord;
		it->parts_total = (uint16_t)tot;
		return 0;
	}
	case OPT_USAGE:
		if (strncmp(arg, "0x", 2) == 0) {
			if (parse_uint(arg, 255, &v) < 0)
				break;
			it->usage = (int16_t)v;
		} else {
			if (parse_uint(arg, 15, &v) < 0)
				break;
			it->usage = (int16_t)(v << 4);
		}
		return 0;
	case OPT_ELEMENT: {
		char *end;
		unsigned long oid = strtoul(arg, &end, 10);
		if (*end != '=' || oid == 0 || oid > 127 || tag_item_add_element(it, (unsigned)oid, end + 1,
										     TAG_COMPACTION_AUTO) < 0)
			break;
		return 0;
	}
	case OPT_SIZE:
		if (parse_uint(arg, 34, &v) < 0 || (v != 32 && v != 34))
			break;
		c->eopts.basic_len = (uint8_t)v;
		return 0;
	case OPT_PAD:
		if (parse_uint(arg, TAG_MEM_MAX, &v) < 0)
			break;
		c->eopts.pad_to = v;
		return 0;
	case OPT_LOCK: {
		char buf[128];
		snprintf(buf, sizeof(buf), "%s", arg);
		for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (parse_uint(tok, 31, &v) < 0 || v == 0)
				goto bad;
			c->eopts.lock_oids |= 1u << v;
		}
		return 0;
	}
	default:
		break;
	}
bad:
	fprintf(c->err, "tag: invalid value for option: %s\n", arg ? arg : "");
	return -EINVAL;
}

/* Hex text, or the raw image when the file is not hex. */
static int read_input(struct cli *c, const char *hex, uint8_t *mem, size_t *len)
{
	char buf[TAG_MEM_MAX * 3 + 64];
	size_t n = 0;

	if (c->file) {
		FILE *f = fopen(c->file, "rb");
		if (!f) {
			fprintf(c->err, "tag: %s: %s\n", c->file, strerror(errno));
			return -errno;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		bool text = n > 0;
		for (size_t i = 0; i < n && text; i++)
			text = strchr("0123456789abcdefABCDEF :\t\r\n", buf[i]) && buf[i] != '\0';
		if (!text) {
			if (n > TAG_MEM_MAX)
				n = TAG_MEM_MAX;
			memcpy(mem, buf, n);
			*len = n;
			return 0;
		}
		for (char *p = buf; *p; p++)
			if (*p == '\r')
				*p = ' ';
		hex = buf;
	}
	if (!hex) {
		fprintf(c->err, "tag: give the memory as HEX or --file PATH\n");
		return -EINVAL;
	}
	int r = hex_decode(hex, mem, TAG_MEM_MAX);
	if (r < 0) {
		fprintf(c->err, "tag: not valid hex: %s\n", r == -ENOBUFS ? "too long" : "bad digit");
		return r;
	}
	*len = (size_t)r;
	return 0;
}

static int cmd_decode(struct cli *c, const char *hex)
{
	uint8_t mem[TAG_MEM_MAX];
	size_t len;
	struct tag_item item;

	if (read_input(c, hex, mem, &len) < 0)
		return EXIT_USAGE;
	int r = tag_decode(mem, len, c->dsfid, &c->dopts, &item);
	if (c->json)
		tag_item_print_json(&item, c->out);
	else
		tag_item_print_text(&item, c->out);
	return r < 0 ? EXIT_INVALID : 0;
}

static void print_blocks(FILE *out, const uint8_t *p, size_t n, uint32_t bs, bool json)
{
	for (size_t i = 0; i < n; i++) {
		if (i && i % bs == 0)
			fputs(json ? "\",\"" : " ", out);
		fprintf(out, "%02x", p[i]);
	}
}

static int cmd_encode(struct cli *c)
{
	uint8_t mem[TAG_MEM_MAX];
	size_t len = 0;
	uint32_t bs = c->eopts.block_size ? c->eopts.block_size : 4;
	int r;

	if (!c->model) {
		fprintf(c->err, "tag encode: --model 28560-2 or 28560-3 is required\n");
		return EXIT_USAGE;
	}
	if (!c->item.primary_id[0]) {
		fprintf(c->err, "tag encode: --id is required\n");
		return EXIT_USAGE;
	}
	if (c->model == TAG_MODEL_ISO28560_3)
		r = tag_encode_28560_3(&c->item, &c->eopts, mem, sizeof(mem), &len);
	else
		r = tag_encode_28560_2(&c->item, &c->eopts, mem, sizeof(mem), &len);
	if (r < 0) {
		fprintf(c->err, "tag encode: %s\n",
			r == -ENOSPC ? "does not fit (a 32-byte block holds 16 id and 11 ISIL characters)"
				     : "a value cannot be represented in this model");
		return EXIT_INVALID;
	}
	if (c->json) {
		fprintf(c->out, "{\"model\":\"%s\",\"length\":%zu,\"block_size\":%u,\"blocks\":[\"",
			tag_model_name((unsigned)c->model), len, bs);
		print_blocks(c->out, mem, len, bs, true);
		fputs("\"]}\n", c->out);
	} else {
		print_blocks(c->out, mem, len, bs, false);
		fputc('\n', c->out);
	}
	return 0;
}

enum verdict { V_OK, V_WARN, V_FAIL };
static const char *const verdict_names[] = { "ok", "warn", "fail" };

struct check_line {
	const char *check;
	enum verdict v;
	char detail[160];
};

static enum verdict verdict_of(const struct tag_finding *f)
{
	if (f->severity == TAG_SEV_ERROR)
		return V_FAIL;
	switch (f->reason) {
	/* a gate or book-drop acts on these: they fail the check */
	case TAG_R_SET_ZERO:
	case TAG_R_SET_ORDINAL:
	case TAG_R_SET_FORMAT:
	case TAG_R_ISIL:
	case TAG_R_CRC:
		return V_FAIL;
	default:
		return f->severity == TAG_SEV_WARN ? V_WARN : V_OK;
	}
}

static int cmd_check(struct cli *c, const char *hex)
{
	uint8_t mem[TAG_MEM_MAX];
	size_t len;
	struct tag_item item;
	struct check_line lines[TAG_FINDINGS_MAX + 6];
	size_t n = 0;
	bool fail = false;

	if (read_input(c, hex, mem, &len) < 0)
		return EXIT_USAGE;
	int r = tag_decode(mem, len, c->dsfid, &c->dopts, &item);

	lines[n] = (struct check_line){ "format", r < 0 ? V_FAIL : V_OK, "" };
	snprintf(lines[n++].detail, sizeof(lines[0].detail), "%s%s%s", tag_model_name(item.model),
		 r < 0 ? ": " : "", r < 0 ? tag_reason_text(item.error) : "");
	if (item.model == TAG_MODEL_ISO28560_3 || item.error == TAG_R_CRC) {
		bool ok = item.crc_stored == item.crc_computed && item.error != TAG_R_CRC;
		lines[n] = (struct check_line){ "crc", ok ? V_OK : V_FAIL, "" };
		snprintf(lines[n++].detail, sizeof(lines[0].detail), "stored 0x%04x, computed 0x%04x",
			 item.crc_stored, item.crc_computed);
	}
	if (r == 0) {
		unsigned expected = c->dopts.reader_reverses ? TAG_ORDER_BLOCKS_REVERSED : TAG_ORDER_AS_READ;
		lines[n] = (struct check_line){ "byte-order", item.byte_order == expected ? V_OK : V_WARN, "" };
		snprintf(lines[n++].detail, sizeof(lines[0].detail), "%s",
			 item.byte_order == expected ? "blocks in the expected order"
						     : "blocks written reversed: rewrite the tag");
		bool isil_bad = tag_item_has_finding(&item, TAG_R_ISIL);
		lines[n] = (struct check_line){ "isil", isil_bad ? V_FAIL : item.owner_isil[0] ? V_OK : V_WARN, "" };
		snprintf(lines[n++].detail, sizeof(lines[0].detail), "%s",
			 item.owner_isil[0] ? item.owner_isil : "no owner institution on the tag");
		bool set_bad = tag_item_has_finding(&item, TAG_R_SET_ZERO) ||
			       tag_item_has_finding(&item, TAG_R_SET_ORDINAL) ||
			       tag_item_has_finding(&item, TAG_R_SET_FORMAT);
		lines[n] = (struct check_line){ "set", set_bad ? V_FAIL : V_OK, "" };
		if (item.set_present)
			snprintf(lines[n++].detail, sizeof(lines[0].detail), "part %u of %u", item.part_ordinal,
				 item.parts_total);
		else
			snprintf(lines[n++].detail, sizeof(lines[0].detail), "single item");
	}
	for (unsigned i = 0; i < item.n_findings; i++) {
		const struct tag_finding *f = &item.findings[i];
		/* already summarised above */
		if (f->reason == TAG_R_CRC || f->reason == TAG_R_ISIL || f->reason == TAG_R_SET_ZERO ||
		    f->reason == TAG_R_SET_ORDINAL || f->reason == TAG_R_SET_FORMAT ||
		    f->reason == TAG_R_BLOCKS_REVERSED || f->severity == TAG_SEV_ERROR)
			continue;
		lines[n] = (struct check_line){ tag_reason_name(f->reason), verdict_of(f), "" };
		snprintf(lines[n++].detail, sizeof(lines[0].detail), "%s", tag_reason_text(f->reason));
	}

	for (size_t i = 0; i < n; i++)
		fail |= lines[i].v == V_FAIL;
	if (c->json) {
		fprintf(c->out, "{\"verdict\":\"%s\",\"primary_id\":", fail ? "fail" : "ok");
		tag_json_string(c->out, item.primary_id);
		fputs(",\"checks\":[", c->out);
		for (size_t i = 0; i < n; i++) {
			fprintf(c->out, "%s{\"check\":\"%s\",\"verdict\":\"%s\",\"detail\":", i ? "," : "",
				lines[i].check, verdict_names[lines[i].v]);
			tag_json_string(c->out, lines[i].detail);
			fputc('}', c->out);
		}
		fputs("]}\n", c->out);
	} else {
		for (size_t i = 0; i < n; i++)
			fprintf(c->out, "%-4s  %-22s %s\n", verdict_names[lines[i].v], lines[i].check,
				lines[i].detail);
		fprintf(c->out, "verdict: %s\n", fail ? "FAIL" : "ok");
	}
	return fail ? EXIT_INVALID : 0;
}

int tag_cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct cli *c = calloc(1, sizeof(*c));
	int r = EXIT_USAGE;

	if (!c)
		return EXIT_INVALID;
	c->out = out;
	c->err = err;
	c->dsfid = -1;
	tag_item_init(&c->item);

	if (argc < 2) {
		usage(err);
		goto done;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0) {
		usage(out);
		r = 0;
		goto done;
	}
	if (strcmp(verb, "decode") && strcmp(verb, "encode") && strcmp(verb, "check")) {
		fprintf(err, "tag: unknown command '%s'\n", verb);
		usage(err);
		goto done;
	}

	/* getopt keeps global state: restart it for every call (glibc: optind 0) */
	optind = 0;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc - 1, argv + 1, "+", options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(out);
			r = 0;
			goto done;
		}
		if (opt == '?' || opt == ':') {
			fprintf(err, "tag %s: unknown or incomplete option '%s'\n", verb, argv[optind]);
			goto done;
		}
		if (parse_option(c, opt, optarg) < 0)
			goto done;
	}
	int rest = argc - 1 - optind;
	const char *hex = rest > 0 ? argv[1 + optind] : NULL;
	if (rest > 1 || (strcmp(verb, "encode") == 0 && rest > 0)) {
		fprintf(err, "tag %s: unexpected argument '%s'\n", verb, argv[1 + optind + (rest > 1)]);
		goto done;
	}
	if (hex && c->file) {
		fprintf(err, "tag %s: give HEX or --file, not both\n", verb);
		goto done;
	}
	if (strcmp(verb, "decode") == 0)
		r = cmd_decode(c, hex);
	else if (strcmp(verb, "encode") == 0)
		r = cmd_encode(c);
	else
		r = cmd_check(c, hex);
done:
	free(c);
	return r;
}
