/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakehost: loading a plugin and resolving its options, with the checks the
 * daemon's loader makes (plugin.h: magic, ABI, struct size, schema).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fakehost-internal.h"

static int fail(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **error, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (error)
		*error = s;
	else
		free(s);
	return -EINVAL;
}

/* Parse `text` as an option of `decl`'s type into o. */
static int parse_value(const struct circd_option *decl, const char *text, struct fh_option *o,
		       char **error)
{
	char *end;

	switch (decl->type) {
	case CIRCD_OPT_STRING:
	case CIRCD_OPT_LIST: /* "a\nb": the text as the daemon joins a list */
		return 0;
	case CIRCD_OPT_INT:
		errno = 0;
		o->i = strtoll(text, &end, 10);
		if (errno || end == text || *end)
			return fail(error, "option '%s': '%s' is not an integer", decl->key, text);
		if (decl->min < decl->max && (o->i < decl->min || o->i > decl->max))
			return fail(error, "option '%s': %s is outside %lld..%lld", decl->key, text,
				    (long long)decl->min, (long long)decl->max);
		return 0;
	case CIRCD_OPT_BOOL:
		if (!strcasecmp(text, "true") || !strcasecmp(text, "yes") ||
		    !strcasecmp(text, "on") || !strcmp(text, "1"))
			o->b = true;
		else if (!strcasecmp(text, "false") || !strcasecmp(text, "no") ||
			 !strcasecmp(text, "off") || !strcmp(text, "0"))
			o->b = false;
		else
			return fail(error, "option '%s': '%s' is not a boolean", decl->key, text);
		return 0;
	case CIRCD_OPT_FLOAT:
		errno = 0;
		o->f = strtod(text, &end);
		if (errno || end == text || *end || !isfinite(o->f))
			return fail(error, "option '%s': '%s' is not a number", decl->key, text);
		return 0;
	}
	return fail(error, "option '%s': unknown type %d", decl->key, (int)decl->type);
}

int fakehost_check_descriptor(const struct circd_plugin *p, char **error)
{
	if (memcmp(p->magic, CIRCD_PLUGIN_MAGIC, 8) != 0)
		return fail(error, "bad magic");
	if (p->abi_major != CIRCD_PLUGIN_ABI_MAJOR)
		return fail(error, "ABI major %u, host has %u", p->abi_major, CIRCD_PLUGIN_ABI_MAJOR);
	if (p->abi_minor > CIRCD_PLUGIN_ABI_MINOR)
		return fail(error, "ABI minor %u is newer than the host's %u", p->abi_minor,
			    CIRCD_PLUGIN_ABI_MINOR);
	if (p->struct_size < sizeof(struct circd_plugin))
		return fail(error, "descriptor struct_size %u < %zu", p->struct_size,
			    sizeof(struct circd_plugin));
	if (!p->name || !*p->name || !p->version || !p->kinds)
		return fail(error, "descriptor without name, version or kinds");
	if (!p->ops.create || !p->ops.run || !p->ops.destroy)
		return fail(error, "descriptor without create/run/destroy");
	for (const struct circd_option *o = p->options; o && o->key; o++) {
		struct fh_option tmp = { 0 };
		for (const struct circd_option *q = p->options; q != o; q++)
			if (strcmp(q->key, o->key) == 0)
				return fail(error, "option '%s' declared twice", o->key);
		if (o->type < CIRCD_OPT_STRING || o->type > CIRCD_OPT_FLOAT)
			return fail(error, "option '%s' has an unknown type", o->key);
		if ((o->flags & CIRCD_OPT_REQUIRED) && o->default_value)
			return fail(error, "option '%s' is required and has a default", o->key);
		if (o->default_value && parse_value(o, o->default_value, &tmp, NULL) < 0)
			return fail(error, "option '%s': bad default '%s'", o->key, o->default_value);
	}
	return 0;
}

int fakehost_load(struct fakehost *fh, const char *path)
{
	struct stat st;
	char *why = NULL;

	if (stat(path, &st) < 0) {
		int e = errno;
		snprintf(fh->error, sizeof(fh->error), "%s: %s", path, strerror(e));
		return -e;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(fh->error, sizeof(fh->error), "%s: world-writable, refused", path);
		return -EPERM;
	}
	fh->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!fh->dl) {
		snprintf(fh->error, sizeof(fh->error), "%s", dlerror());
		return -ENOEXEC;
	}
	const struct circd_plugin *p = dlsym(fh->dl, CIRCD_PLUGIN_SYMBOL);
	if (!p) {
		snprintf(fh->error, sizeof(fh->error), "%s: no %s symbol", path, CIRCD_PLUGIN_SYMBOL);
		return -ENOEXEC;
	}
	if (fakehost_check_descriptor(p, &why) < 0) {
		snprintf(fh->error, sizeof(fh->error), "%s: %s", path, why ? why : "invalid");
		free(why);
		return -ENOEXEC;
	}
	fh->plugin = p;
	return 0;
}

int fakehost_load_plugin(struct fakehost *fh, const char *name)
{
	const char *dir = getenv("CIRCD_PLUGIN_DIR");
	_cleanup_free_ char *path = xasprintf("%s/%s.so", dir ? dir : "plugins/.libs", name);

	return fakehost_load(fh, path);
}

int fakehost_set_options(struct fakehost *fh, const char *const *kv)
{
	const struct circd_option *decls = fh->plugin ? fh->plugin->options : NULL;
	size_t n = 0;
	char *why = NULL;
	int r = 0;

	if (!fh->plugin) {
		snprintf(fh->error, sizeof(fh->error), "no plugin loaded");
		return -EINVAL;
	}
	if (fh->created) {
		snprintf(fh->error, sizeof(fh->error), "options are fixed once created");
		return -EBUSY;
	}
	while (decls && decls[n].key)
		n++;
	struct fh_option *opts = xcalloc(n, sizeof(*opts));
	for (size_t i = 0; i < n; i++)
		opts[i].decl = &decls[i];

	for (size_t k = 0; kv && kv[k] && r >= 0; k++) {
		const char *eq = strchr(kv[k], '=');
		if (!eq) {
			r = fail(&why, "'%s' is not key=value", kv[k]);
			break;
		}
		size_t klen = (size_t)(eq - kv[k]);
		struct fh_option *o = NULL;
		for (size_t i = 0; i < n; i++)
			if (strlen(decls[i].key) == klen && !strncmp(decls[i].key, kv[k], klen))
				o = &opts[i];
		if (!o)
			r = fail(&why, "unknown option '%.*s'", (int)klen, kv[k]);
		else if (o->given)
			r = fail(&why, "option '%s' given twice", o->decl->key);
		else {
			o->given = true;
			o->value = xstrdup(eq + 1);
			r = parse_value(o->decl, o->value, o, &why);
		}
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (opts[i].given)
			continue;
		if (decls[i].flags & CIRCD_OPT_REQUIRED)
			r = fail(&why, "missing required option '%s'", decls[i].key);
		else if (decls[i].default_value) {
			opts[i].value = xstrdup(decls[i].default_value);
			r = parse_value(&decls[i], opts[i].value, &opts[i], &why);
		}
	}
	if (r < 0) {
		snprintf(fh->error, sizeof(fh->error), "%s", why ? why : "invalid options");
		free(why);
		for (size_t i = 0; i < n; i++)
			free(opts[i].value);
		free(opts);
		return r;
	}
	for (size_t i = 0; i < fh->n_opts; i++)
		free(fh->opts[i].value);
	free(fh->opts);
	fh->opts = opts;
	fh->n_opts = n;
	fh->opts_resolved = true;
	return 0;
}

unsigned fakehost_option_misuse(const struct fakehost *fh)
{
	return __atomic_load_n(&fh->option_misuse, __ATOMIC_SEQ_CST);
}
