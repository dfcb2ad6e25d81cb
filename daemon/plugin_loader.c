/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "plugin_loader.h"
#include "util/util.h"

/* The last descriptor field this host reads. */
#define DESCRIPTOR_MIN_SIZE (offsetof(struct circd_plugin, usb_ids) + sizeof(void *))

int plugin_check_descriptor(const struct circd_plugin *d, char **why)
{
	if (memcmp(d->magic, CIRCD_PLUGIN_MAGIC, sizeof(d->magic)) != 0) {
		*why = xstrdup("wrong magic: not a circd plugin descriptor");
		return -EINVAL;
	}
	if (d->abi_major != CIRCD_PLUGIN_ABI_MAJOR) {
		*why = xasprintf("built for plugin ABI %u.%u, this circd speaks %u.%u (major differs)",
				 d->abi_major, d->abi_minor, CIRCD_PLUGIN_ABI_MAJOR,
				 CIRCD_PLUGIN_ABI_MINOR);
		return -EINVAL;
	}
	if (d->abi_minor > CIRCD_PLUGIN_ABI_MINOR) {
		*why = xasprintf("built for plugin ABI %u.%u, newer than this circd's %u.%u",
				 d->abi_major, d->abi_minor, CIRCD_PLUGIN_ABI_MAJOR,
				 CIRCD_PLUGIN_ABI_MINOR);
		return -EINVAL;
	}
	if (d->struct_size < DESCRIPTOR_MIN_SIZE) {
		*why = xasprintf("descriptor is %u bytes, smaller than the %zu this ABI requires",
				 d->struct_size, DESCRIPTOR_MIN_SIZE);
		return -EINVAL;
	}
	if (!d->name || !d->name[0] || strlen(d->name) > 64) {
		*why = xstrdup("descriptor has no valid name");
		return -EINVAL;
	}
	if (!d->ops.create || !d->ops.run || !d->ops.destroy) {
		*why = xstrdup("descriptor lacks create/run/destroy operations");
		return -EINVAL;
	}
	if (!d->kinds) {
		*why = xstrdup("descriptor declares no kinds");
		return -EINVAL;
	}
	for (const struct circd_option *o = d->options; o && o->key; o++) {
		if (o->type < CIRCD_OPT_STRING || o->type > CIRCD_OPT_LIST) {
			*why = xasprintf("option '%s' has an unknown type %d", o->key, (int)o->type);
			return -EINVAL;
		}
	}
	return 0;
}

/* A plugin runs with the daemon's privileges: refuse anything that someone
 * other than its owner could have replaced. */
static int check_not_writable_by_others(const char *path, const struct stat *st, char **why)
{
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		*why = xasprintf("%s is writable by %s (mode %04o): refusing to load code from it",
				 path, st->st_mode & S_IWOTH ? "everyone" : "its group",
				 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		*why = xasprintf("%s is owned by uid %u, neither root nor circd's user", path,
				 (unsigned)st->st_uid);
		return -EPERM;
	}
	return 0;
}

static void add_refusal(struct plugin_registry *reg, const char *path, const char *name,
			char *reason)
{
	reg->refusals = xrealloc(reg->refusals, (reg->n_refusals + 1) * sizeof(*reg->refusals));
	reg->refusals[reg->n_refusals++] = (struct plugin_refusal){
		.path = xstrdup(path), .name = xstrdup(name), .reason = reason,
	};
	log_warning("plugin %s refused: %s", path, reason);
}

static void load_one(struct plugin_registry *reg, const char *path, const char *base)
{
	struct stat st;
	char *why = NULL;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (check_not_writable_by_others(path, &st, &why) < 0) {
		add_refusal(reg, path, base, why);
		return;
	}
	dlerror();
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		add_refusal(reg, path, base, xasprintf("dlopen failed: %s", e ? e : "unknown error"));
		return;
	}
	const struct circd_plugin *d = dlsym(h, CIRCD_PLUGIN_SYMBOL);
	if (!d) {
		add_refusal(reg, path, base,
			    xstrdup("not a circd plugin: no symbol " CIRCD_PLUGIN_SYMBOL));
		dlclose(h);
		return;
	}
	if (plugin_check_descriptor(d, &why) < 0) {
		add_refusal(reg, path, base, why);
		dlclose(h);
		return;
	}
	for (size_t i = 0; i < reg->n_plugins; i++) {
		if (strcmp(reg->plugins[i].desc->name, d->name) == 0) {
			add_refusal(reg, path, d->name,
				    xasprintf("duplicate plugin name '%s' (already loaded from %s)",
					      d->name, reg->plugins[i].path));
			dlclose(h);
			return;
		}
	}
	reg->plugins = xrealloc(reg->plugins, (reg->n_plugins + 1) * sizeof(*reg->plugins));
	reg->plugins[reg->n_plugins++] = (struct loaded_plugin){
		.path = xstrdup(path), .handle = h, .desc = d,
	};
	log_debug("plugin %s %s loaded from %s", d->name, d->version ? d->version : "", path);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int plugin_registry_load(struct plugin_registry *reg, const char *dir, char **error)
{
	*reg = (struct plugin_registry){ .dir = xstrdup(dir) };
	struct stat st;
	if (stat(dir, &st) < 0) {
		int r = -errno;
		*error = xasprintf("plugin directory %s: %s", dir, strerror(errno));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		*error = xasprintf("plugin directory %s: not a directory", dir);
		return -ENOTDIR;
	}
	char *why = NULL;
	if (check_not_writable_by_others(dir, &st, &why) < 0) {
		*error = xasprintf("plugin directory %s", why);
		free(why);
		return -EPERM;
	}
	DIR *d = opendir(dir);
	if (!d) {
		int r = -errno;
		*error = xasprintf("plugin directory %s: %s", dir, strerror(errno));
		return r;
	}
	/* Sorted, so "duplicate" always names the same file the same way. */
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		names[i][strlen(names[i]) - 3] = '\0';
		load_one(reg, path, names[i]);
		free(path);
		free(names[i]);
	}
	free(names);
	return 0;
}

void plugin_registry_free(struct plugin_registry *reg)
{
	/* Handles are deliberately not closed (see the header). */
	for (size_t i = 0; i < reg->n_plugins; i++)
		free(reg->plugins[i].path);
	for (size_t i = 0; i < reg->n_refusals; i++) {
		free(reg->refusals[i].path);
		free(reg->refusals[i].name);
		free(reg->refusals[i].reason);
	}
	free(reg->plugins);
	free(reg->refusals);
	free(reg->dir);
	*reg = (struct plugin_registry){ 0 };
}

const struct loaded_plugin *plugin_registry_find(const struct plugin_registry *reg,
						 const char *name, const char **why)
{
	for (size_t i = 0; i < reg->n_plugins; i++)
		if (strcmp(reg->plugins[i].desc->name, name) == 0)
			return &reg->plugins[i];
	for (size_t i = 0; i < reg->n_refusals; i++)
		if (strcmp(reg->refusals[i].name, name) == 0) {
			if (why)
				*why = reg->refusals[i].reason;
			return NULL;
		}
	if (why)
		*why = "no such plugin in the plugin directory";
	return NULL;
}
