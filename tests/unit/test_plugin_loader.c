/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin loader refuses, naming the file and the reason: wrong magic,
 * ABI major mismatch, newer minor, struct too small, duplicate name, no
 * descriptor, a file or directory writable by others. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin_loader.h"
#include "util/util.h"

static char dir[64];
static const char *builddir;

static void copy_plugin(const char *variant, const char *as, mode_t mode)
{
	char *cmd = xasprintf("cp '%s/tests/unit/badplug/.libs/%s.so' '%s/%s.so' && chmod %o '%s/%s.so'",
			      builddir, variant, dir, as, (unsigned)mode, dir, as);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static int setup(void **state)
{
	builddir = getenv("top_builddir");
	if (!builddir)
		builddir = ".";
	strcpy(dir, "/tmp/circd-test-plugins.XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0755);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static const char *refusal(struct plugin_registry *reg, const char *file_base)
{
	for (size_t i = 0; i < reg->n_refusals; i++)
		if (strstr(reg->refusals[i].path, file_base))
			return reg->refusals[i].reason;
	return NULL;
}

static void test_loads_good_and_refuses_each_bad_one(void **state)
{
	copy_plugin("good", "good", 0755);
	copy_plugin("bad_magic", "bad_magic", 0755);
	copy_plugin("bad_major", "bad_major", 0755);
	copy_plugin("bad_minor", "bad_minor", 0755);
	copy_plugin("bad_small", "bad_small", 0755);
	copy_plugin("no_symbol", "no_symbol", 0755);
	copy_plugin("good", "zz_dup", 0755); /* same descriptor name as good.so */
	copy_plugin("good", "writable", 0775);

	struct plugin_registry reg;
	char *error = NULL;
	assert_int_equal(plugin_registry_load(&reg, dir, &error), 0);
	assert_int_equal(reg.n_plugins, 1);
	assert_string_equal(reg.plugins[0].desc->name, "good");
	assert_non_null(strstr(reg.plugins[0].path, "/good.so"));

	assert_non_null(strstr(refusal(&reg, "bad_magic.so"), "wrong magic"));
	assert_non_null(strstr(refusal(&reg, "bad_major.so"), "major differs"));
	assert_non_null(strstr(refusal(&reg, "bad_minor.so"), "newer than this circd"));
	assert_non_null(strstr(refusal(&reg, "bad_small.so"), "smaller than"));
	assert_non_null(strstr(refusal(&reg, "no_symbol.so"), "no symbol circd_plugin_descriptor"));
	assert_non_null(strstr(refusal(&reg, "zz_dup.so"), "duplicate plugin name 'good'"));
	assert_non_null(strstr(refusal(&reg, "writable.so"), "writable by its group"));

	const char *why = NULL;
	assert_non_null(plugin_registry_find(&reg, "good", &why));
	assert_null(plugin_registry_find(&reg, "bad_major", &why));
	assert_non_null(strstr(why, "major differs"));
	assert_null(plugin_registry_find(&reg, "nonexistent", &why));
	assert_non_null(strstr(why, "no such plugin"));
	plugin_registry_free(&reg);
}

static void test_refuses_world_writable_directory(void **state)
{
	copy_plugin("good", "good", 0755);
	chmod(dir, 0777);
	struct plugin_registry reg;
	char *error = NULL;
	assert_int_equal(plugin_registry_load(&reg, dir, &error), -EPERM);
	assert_non_null(strstr(error, dir));
	assert_non_null(strstr(error, "writable by everyone"));
	free(error);
	plugin_registry_free(&reg);
}

static void test_missing_directory_is_named(void **state)
{
	struct plugin_registry reg;
	char *error = NULL;
	assert_int_equal(plugin_registry_load(&reg, "/nonexistent/circd/plugins", &error), -ENOENT);
	assert_non_null(strstr(error, "/nonexistent/circd/plugins"));
	free(error);
	plugin_registry_free(&reg);
}

static int dummy_run(void *s) { return 0; }
static void dummy_destroy(void *s) {}
static int dummy_create(struct circd_instance *i, const struct circd_host_api *h, void **s) { return 0; }

static void test_check_descriptor_in_memory(void **state)
{
	struct circd_plugin d = {
		.magic = CIRCD_PLUGIN_MAGIC, .abi_major = CIRCD_PLUGIN_ABI_MAJOR,
		.abi_minor = CIRCD_PLUGIN_ABI_MINOR, .struct_size = sizeof(d), .name = "x",
		.kinds = CIRCD_KIND_READER, .ops = { dummy_create, dummy_run, dummy_destroy },
	};
	char *why = NULL;
	assert_int_equal(plugin_check_descriptor(&d, &why), 0);
	d.ops.run = NULL;
	assert_int_equal(plugin_check_descriptor(&d, &why), -EINVAL);
	free(why);
	d.ops.run = dummy_run;
	d.kinds = 0;
	assert_int_equal(plugin_check_descriptor(&d, &why), -EINVAL);
	free(why);
	d.kinds = CIRCD_KIND_READER;
	d.abi_minor = 0; /* an older minor is fine */
	assert_int_equal(plugin_check_descriptor(&d, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loads_good_and_refuses_each_bad_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_world_writable_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory_is_named, setup, teardown),
		cmocka_unit_test(test_check_descriptor_in_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
