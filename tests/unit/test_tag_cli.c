/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* circctl tag decode | encode | check, driven through tag_cli_main(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "test_tag_util.h"
#include "tags/tag_cli.h"

static char *out_buf, *err_buf;

/* run "tag <args...>" and capture stdout/stderr */
static int run(const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	size_t out_len, err_len;

	argv[argc++] = (char *)"tag";
	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	free(out_buf);
	free(err_buf);
	FILE *out = open_memstream(&out_buf, &out_len);
	FILE *err = open_memstream(&err_buf, &err_len);
	int r = tag_cli_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

#define VECTOR2 "11010166 6f6f6261 72000000 00000000 00000088 af444535 32360000 00000000 000000"

static void test_decode(void **state)
{
	(void)state;
	assert_int_equal(run("decode", "110101666f6f6261720000000000000000000088af4445353236000000000000000000", NULL), 0);
	assert_non_null(strstr(out_buf, "foobar"));
	assert_non_null(strstr(out_buf, "iso28560-3"));
	assert_non_null(strstr(out_buf, "country DE, library 526"));

	assert_int_equal(run("decode", "--json", VECTOR2, NULL), 0);
	assert_non_null(strstr(out_buf, "\"primary_id\":\"foobar\""));
	assert_non_null(strstr(out_buf, "\"model\":\"iso28560-3\""));
	assert_non_null(strstr(out_buf, "\"crc_stored\":44936"));

	/* a damaged tag: exit 1 with the reason */
	assert_int_equal(run("decode", "--json", "11010166 6f6f6261 72010000 00000000 00000088 af444535 32360000 00000000 000000", NULL), 1);
	assert_non_null(strstr(out_buf, "\"reason\":\"crc-mismatch\""));

	/* usage errors: exit 2 */
	assert_int_equal(run("decode", "zz", NULL), 2);
	assert_int_equal(run("decode", NULL), 2);
	assert_int_equal(run("frobnicate", NULL), 2);
	assert_int_equal(run(NULL), 2);
	assert_int_equal(run("decode", "--bogus", "00", NULL), 2);
	assert_int_equal(run("decode", "--dsfid", "300", "00", NULL), 2);
	assert_int_equal(run("help", NULL), 0);
}

static void test_decode_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_tag_cli_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* a raw binary image */
	uint8_t m[35] = { 0x11, 0x01, 0x01, 'f', 'o', 'o', 'b', 'a', 'r' };
	m[19] = 0x88;
	m[20] = 0xAF;
	memcpy(m + 21, "DE526", 5);
	assert_int_equal(write(fd, m, sizeof(m)), (ssize_t)sizeof(m));
	close(fd);
	assert_int_equal(run("decode", "--file", path, NULL), 0);
	assert_non_null(strstr(out_buf, "foobar"));
	/* hex text in a file */
	FILE *f = fopen(path, "w");
	fputs(VECTOR2 "\n", f);
	fclose(f);
	assert_int_equal(run("decode", "--json", "--file", path, NULL), 0);
	assert_non_null(strstr(out_buf, "foobar"));
	assert_int_equal(run("decode", "--file", "/nonexistent/x", NULL), 2);
	assert_int_equal(run("decode", "--file", path, "00", NULL), 2);
	unlink(path);
}

static void test_encode(void **state)
{
	(void)state;
	assert_int_equal(run("encode", "--model", "28560-3", "--id", "foobar", "--isil", "DE526", NULL), 0);
	assert_string_equal(out_buf, VECTOR2 "\n");

	assert_int_equal(run("encode", "--model", "28560-2", "--id", "123456789012", "--set", "3/12",
			     "--shelf", "QA268.L55", "--isil", "US-InU-Mu", "--lock", "1,3", NULL), 0);
	assert_string_equal(out_buf, "9100051c be991a14 820001d0 830207ac c09ebaa0 6f6b0000 140204b3 4607441c b6e2e335 d600\n");

	/* the output decodes back */
	char hex[256];
	snprintf(hex, sizeof(hex), "%s", out_buf);
	assert_int_equal(run("decode", "--json", "--dsfid", "6", hex, NULL), 0);
	assert_non_null(strstr(out_buf, "\"owner_isil\":\"US-InU-Mu\""));
	assert_non_null(strstr(out_buf, "\"parts_total\":12,\"part_ordinal\":3"));

	assert_int_equal(run("encode", "--model", "28560-2", "--id", "1", "--title", "Hobbit", "--usage", "2",
			     "--element", "22=ALT1", "--json", NULL), 0);
	assert_non_null(strstr(out_buf, "\"model\":\"iso28560-2\""));

	assert_int_equal(run("encode", "--model", "28560-3", "--id", "foobar", "--size", "32",
			     "--reverse-blocks", NULL), 0);
	assert_int_equal(strlen(out_buf), 8 * 8 + 7 + 1);

	/* errors */
	assert_int_equal(run("encode", "--id", "x", NULL), 2);
	assert_int_equal(run("encode", "--model", "28560-3", NULL), 2);
	assert_int_equal(run("encode", "--model", "28560-9", "--id", "x", NULL), 2);
	assert_int_equal(run("encode", "--model", "28560-3", "--id", "x", "--size", "33", NULL), 2);
	assert_int_equal(run("encode", "--model", "28560-3", "--id", "12345678901234567", "--size", "32", NULL), 1);
	assert_int_equal(run("encode", "--model", "28560-3", "--id", "x", "--set", "a/b", NULL), 2);
	assert_int_equal(run("encode", "--model", "28560-3", "--id", "x", "extra", NULL), 2);
}

static void test_check(void **state)
{
	(void)state;
	assert_int_equal(run("check", VECTOR2, NULL), 0);
	assert_non_null(strstr(out_buf, "verdict: ok"));
	assert_non_null(strstr(out_buf, "crc"));

	/* reversed blocks: readable, but a finding */
	assert_int_equal(run("check", "--json", "66010111 61626f6f 00000072 00000000 88000000 354544af 00003632 00000000 00000000", NULL), 0);
	assert_non_null(strstr(out_buf, "\"check\":\"byte-order\",\"verdict\":\"warn\""));
	/* ... which a FEIG site expects */
	assert_int_equal(run("check", "--json", "--reader-reverses", "66010111 61626f6f 00000072 00000000 88000000 354544af 00003632 00000000 00000000", NULL), 0);
	assert_non_null(strstr(out_buf, "\"check\":\"byte-order\",\"verdict\":\"ok\""));

	/* CRC mismatch fails */
	assert_int_equal(run("check", "11010166 6f6f6261 72010000 00000000 00000088 af444535 32360000 00000000 000000", NULL), 1);
	assert_non_null(strstr(out_buf, "fail  crc"));

	/* impossible set (part 3 of 2), implausible ISIL: both fail */
	char hex[256];
	assert_int_equal(run("encode", "--model", "28560-3", "--id", "foobar", "--isil", "12$", "--set", "3/2", NULL), 0);
	snprintf(hex, sizeof(hex), "%s", out_buf);
	assert_int_equal(run("check", "--json", hex, NULL), 1);
	assert_non_null(strstr(out_buf, "\"check\":\"set\",\"verdict\":\"fail\""));
	assert_non_null(strstr(out_buf, "\"check\":\"isil\",\"verdict\":\"fail\""));
	assert_non_null(strstr(out_buf, "\"verdict\":\"fail\""));

	/* blank */
	assert_int_equal(run("check", "55555555555555555555555555555555555555555555555555555555", NULL), 1);
	assert_non_null(strstr(out_buf, "blank"));
}

static void test_json_string(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	tag_json_string(f, "a\"b\\c\n\x01\xc3\xa6\xff");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa6\\u00ff\"");
	free(buf);
}

static int teardown(void **state)
{
	(void)state;
	free(out_buf);
	free(err_buf);
	out_buf = err_buf = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_file),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_json_string),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
