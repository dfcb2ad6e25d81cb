/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deliberately broken plugins for the loader's tests (a fake: it lives in
 * tests/ and exists only to be refused).  One source, built once per
 * BADPLUG_* variant.
 */
#include "config.h"

#include <stddef.h>
#include <circd/plugin.h>

__attribute__((unused)) static int create(struct circd_instance *inst, const struct circd_host_api *host, void **state)
{
	*state = NULL;
	return 0;
}
__attribute__((unused)) static int run(void *state) { return 0; }
__attribute__((unused)) static void destroy(void *state) {}

__attribute__((unused)) static const struct circd_option options[] = {
	{ "speed", CIRCD_OPT_INT, "1", 0, 0, 10, "how fast" },
	CIRCD_OPTION_END,
};

#ifdef BADPLUG_USB
static const struct circd_usb_id usb_ids[] = {
	{ 0x0ab1, 0x0002, "FEIG ID CPR40 (test table)" },
	{ 0x0ab1, 0x0073, NULL },
	{ 0, 0, NULL },
};
#define BADPLUG_USB_IDS usb_ids
#else
#define BADPLUG_USB_IDS NULL
#endif

#ifndef BADPLUG_NAME
#define BADPLUG_NAME "good"
#endif

#ifndef BADPLUG_NO_SYMBOL
CIRCD_EXPORT extern const struct circd_plugin circd_plugin_descriptor;
CIRCD_EXPORT const struct circd_plugin circd_plugin_descriptor = {
#ifdef BADPLUG_MAGIC
	.magic = "NOTCIRCD",
#else
	.magic = CIRCD_PLUGIN_MAGIC,
#endif
#ifdef BADPLUG_MAJOR
	.abi_major = CIRCD_PLUGIN_ABI_MAJOR + 1,
#else
	.abi_major = CIRCD_PLUGIN_ABI_MAJOR,
#endif
#ifdef BADPLUG_MINOR
	.abi_minor = CIRCD_PLUGIN_ABI_MINOR + 1,
#else
	.abi_minor = CIRCD_PLUGIN_ABI_MINOR,
#endif
#ifdef BADPLUG_SMALL
	.struct_size = offsetof(struct circd_plugin, ops),
#else
	.struct_size = sizeof(struct circd_plugin),
#endif
	.name = BADPLUG_NAME,
	.version = "0",
	.description = "test plugin",
	.kinds = CIRCD_KIND_READER,
	.options = options,
	.ops = { create, run, destroy },
	.usb_ids = BADPLUG_USB_IDS,
};
#else
CIRCD_EXPORT int circd_plugin_something_else;
int circd_plugin_something_else = 1;
#endif
