/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding and loading plugins.  Every *.so in the plugin directory is
 * opened (RTLD_NOW | RTLD_LOCAL) and its descriptor checked; a plugin that
 * is refused is remembered with the reason, so a config naming it gets an
 * error that says why ("plugin 'feig' could not be loaded: .../feig.so:
 * built for ABI 2.0, this circd speaks 1.0").  Plugins are never dlclose()d
 * while the process runs: a plugin's threads or atexit handlers may still
 * reference its code.
 */
#ifndef CIRCD_PLUGIN_LOADER_H
#define CIRCD_PLUGIN_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <circd/plugin.h>

struct loaded_plugin {
	char *path;
	void *handle;
	const struct circd_plugin *desc;
};

struct plugin_refusal {
	char *path;
	char *name; /* descriptor name when known, else the file's base name */
	char *reason;
};

struct plugin_registry {
	char *dir;
	struct loaded_plugin *plugins;
	size_t n_plugins;
	struct plugin_refusal *refusals;
	size_t n_refusals;
};

/* Checks a descriptor against this host's ABI.  0, or -EINVAL with *why. */
int plugin_check_descriptor(const struct circd_plugin *d, char **why);

/* Loads every *.so of dir.  Fails (-errno with *error) only when the
 * directory itself can't be used (missing, or writable by others); single
 * plugins that are refused land in reg->refusals. */
int plugin_registry_load(struct plugin_registry *reg, const char *dir, char **error);
void plugin_registry_free(struct plugin_registry *reg);

/* By descriptor name; NULL with *why (the refusal reason, or "no such
 * plugin in DIR") when unavailable. */
const struct loaded_plugin *plugin_registry_find(const struct plugin_registry *reg,
						 const char *name, const char **why);

#endif
