/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Conformance driver files (see driver.h for the format). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "util/util.h"

const char *transport_name(enum transport_kind k)
{
	return k == TRANSPORT_TCP ? "tcp" : "pty";
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Split value on blanks into list (appending); false when it is full. */
static bool split_words(const char *value, char **list, size_t *n)
{
	_cleanup_free_ char *copy = xstrdup(value);
	char *save = NULL;

	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (*n == DRIVER_MAX_LIST)
			return false;
		list[(*n)++] = xstrdup(w);
	}
	return true;
}

static int set_key(struct driver *d, const char *key, const char *value, const char *emu_dir,
		   char **why)
{
	if (!strcmp(key, "plugin")) {
		free(d->plugin);
		d->plugin = xstrdup(value);
	} else if (!strcmp(key, "emulator")) {
		free(d->emulator);
		d->emulator = strchr(value, '/') ? xstrdup(value) : xasprintf("%s/%s", emu_dir, value);
	} else if (!strcmp(key, "emulator_args")) {
		if (!split_words(value, d->emulator_args, &d->n_emulator_args))
			return *why = xstrdup("too many emulator_args"), -EINVAL;
	} else if (!strcmp(key, "option") || !strcmp(key, "bad_option") ||
		   !strcmp(key, "bench_option")) {
		char **list = key[1] == 'a' ? d->bad_options :
			      key[0] == 'b' ? d->bench_options : d->options;
		size_t *n = key[1] == 'a' ? &d->n_bad_options :
			    key[0] == 'b' ? &d->n_bench_options : &d->n_options;
		if (!strchr(value, '='))
			return *why = xasprintf("%s '%s' is not key=value", key, value), -EINVAL;
		if (*n == DRIVER_MAX_LIST)
			return *why = xasprintf("too many %s lines", key), -EINVAL;
		list[(*n)++] = xstrdup(value);
	} else if (!strcmp(key, "transport")) {
		struct driver_transport *t = &d->transports[d->n_transports];
		_cleanup_free_ char *kind = xasprintf("%.*s", (int)strcspn(value, " \t"), value);
		if (d->n_transports == sizeof(d->transports) / sizeof(d->transports[0]))
			return *why = xstrdup("too many transports"), -EINVAL;
		if (strcmp(kind, "pty") && strcmp(kind, "tcp"))
			return *why = xasprintf("transport '%s': pty or tcp", kind), -EINVAL;
		t->kind = !strcmp(kind, "tcp") ? TRANSPORT_TCP : TRANSPORT_PTY;
		if (!split_words(value + strlen(kind), t->options, &t->n_options))
			return *why = xstrdup("too many transport options"), -EINVAL;
		d->n_transports++;
	} else if (!strcmp(key, "commands")) {
		char *list[DRIVER_MAX_LIST];
		size_t n = 0;
		int r = 0;
		if (!split_words(value, list, &n))
			return *why = xstrdup("too many commands"), -EINVAL;
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(list[i], "write_afi"))
				d->write_afi = true;
			else if (!strcmp(list[i], "set_eas"))
				d->set_eas = true;
			else if (r == 0) {
				*why = xasprintf("command '%s': write_afi or set_eas", list[i]);
				r = -EINVAL;
			}
			free(list[i]);
		}
		return r;
	} else if (!strcmp(key, "memory")) {
		if (!strcmp(value, "as-stored"))
			d->memory = MEMORY_AS_STORED;
		else if (!strcmp(value, "blocks-reversed"))
			d->memory = MEMORY_BLOCKS_REVERSED;
		else if (!strcmp(value, "none"))
			d->memory = MEMORY_NONE;
		else
			return *why = xasprintf("memory '%s': as-stored, blocks-reversed or none",
						value), -EINVAL;
	} else if (!strcmp(key, "block_size")) {
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (*end || v == 0 || v > 32)
			return *why = xasprintf("block_size '%s': 1..32", value), -EINVAL;
		d->block_size = (unsigned)v;
	} else {
		return *why = xasprintf("unknown key '%s'", key), -EINVAL;
	}
	return 0;
}

int driver_load(struct driver *d, const char *path, const char *emulator_dir, char **error)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	unsigned lineno = 0;
	int r = 0;

	memset(d, 0, sizeof(*d));
	d->path = xstrdup(path);
	d->block_size = 4;
	if (!f) {
		*error = xasprintf("%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	while (r == 0 && fgets(line, sizeof(line), f)) {
		char *why = NULL, *hash = strchr(line, '#'), *eq;
		lineno++;
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		if (!(eq = strchr(s, '='))) {
			*error = xasprintf("%s:%u: expected key = value", path, lineno);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		r = set_key(d, trim(s), trim(eq + 1), emulator_dir, &why);
		if (r < 0) {
			*error = xasprintf("%s:%u: %s", path, lineno, why);
			free(why);
		}
	}
	fclose(f);
	if (r == 0 && (!d->plugin || !d->emulator || !d->n_transports)) {
		*error = xasprintf("%s: needs plugin, emulator and at least one transport", path);
		r = -EINVAL;
	}
	return r;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
}

void driver_free(struct driver *d)
{
	free(d->path);
	free(d->plugin);
	free(d->emulator);
	free_list(d->emulator_args, d->n_emulator_args);
	for (size_t i = 0; i < d->n_transports; i++)
		free_list(d->transports[i].options, d->transports[i].n_options);
	free_list(d->options, d->n_options);
	free_list(d->bad_options, d->n_bad_options);
	free_list(d->bench_options, d->n_bench_options);
	memset(d, 0, sizeof(*d));
}

char *driver_expand(const char *option, const char *device, unsigned port)
{
	char *out = xstrdup(""), *next;

	for (const char *p = option; *p;) {
		const char *dev = strstr(p, "{device}"), *prt = strstr(p, "{port}");
		const char *hit = dev && (!prt || dev < prt) ? dev : prt;
		if (!hit) {
			next = xasprintf("%s%s", out, p);
			free(out);
			return next;
		}
		if (hit == dev)
			next = xasprintf("%s%.*s%s", out, (int)(hit - p), p, device ? device : "");
		else
			next = xasprintf("%s%.*s%u", out, (int)(hit - p), p, port);
		free(out);
		out = next;
		p = hit + (hit == dev ? strlen("{device}") : strlen("{port}"));
	}
	return out;
}
