/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plugin and station-role options: checking the raw values config.c kept
 * against the schemas the plugins and roles declare, resolving them into the
 * typed table (defaults applied) that host->opt_*() reads, and comparing
 * configured items for SIGHUP reload.
 *
 * Type rules, shared by the check and the resolve so they can never
 * disagree: an INT option takes an integer; a FLOAT takes an integer or a
 * float; a BOOL only true/false; a STRING only a string.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "daemon/conf.h"
#include "daemon/config-internal.h"
#include "util/util.h"

#define DEVICE_KINDS                                                                               \
	(CIRCD_KIND_READER | CIRCD_KIND_GATE_IO | CIRCD_KIND_SENSOR | CIRCD_KIND_SORTER)

/* A plugin or role without options may hand us this instead of NULL. */
static const struct circd_option empty_schema[] = { CIRCD_OPTION_END };

struct checker {
	struct config_errors *errs;
	size_t n_errors;
};

static void check_error(struct checker *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void check_error(struct checker *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	config_errors_addv(c->errs, file, line, fmt, ap);
	va_end(ap);
	c->n_errors++;
}

static const char *type_word(enum circd_option_type t)
{
	switch (t) {
	case CIRCD_OPT_STRING:
		return "a string";
	case CIRCD_OPT_INT:
		return "an integer";
	case CIRCD_OPT_BOOL:
		return "a boolean";
	case CIRCD_OPT_FLOAT:
		return "a number";
	case CIRCD_OPT_LIST:
		return "a list of strings";
	}
	return "a value of unknown type";
}

static const struct circd_option *schema_find(const struct circd_option *schema, const char *key)
{
	for (const struct circd_option *o = schema; o && o->key; o++)
		if (strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

static const struct config_value *given_find(const struct config_options *given, const char *key)
{
	for (size_t i = 0; given && i < given->n; i++)
		if (given->v[i].key && strcmp(given->v[i].key, key) == 0)
			return &given->v[i];
	return NULL;
}

/* "a, b, c" for "unknown option" messages; "none" when there is nothing. */
static char *schema_keys(const struct circd_option *schema)
{
	size_t len = sizeof("none");
	for (const struct circd_option *o = schema; o && o->key; o++)
		len += strlen(o->key) + 2;
	char *buf = xcalloc(1, len), *p = buf;
	for (const struct circd_option *o = schema; o && o->key; o++)
		p += sprintf(p, "%s%s", p == buf ? "" : ", ", o->key);
	if (p == buf)
		strcpy(buf, "none");
	return buf;
}

static bool value_fits(enum circd_option_type want, enum circd_option_type got)
{
	if (want == CIRCD_OPT_FLOAT)
		return got == CIRCD_OPT_FLOAT || got == CIRCD_OPT_INT;
	if (want == CIRCD_OPT_LIST)
		return got == CIRCD_OPT_LIST || got == CIRCD_OPT_STRING;
	return want == got;
}

static bool int_in_range(const struct circd_option *decl, int64_t v)
{
	return !(decl->min < decl->max) || (v >= decl->min && v <= decl->max);
}

/* Type and range of one given value; errors name label ("device 'drop1'"). */
static int check_value(struct checker *c, const char *file, const char *label,
		       const struct circd_option *decl, const struct config_value *v)
{
	if (!value_fits(decl->type, v->type)) {
		check_error(c, file, v->line, "%s: option '%s' expects %s, got %s", label,
			    decl->key, type_word(decl->type), type_word(v->type));
		return -EINVAL;
	}
	if (decl->type == CIRCD_OPT_INT && !int_in_range(decl, v->i)) {
		check_error(c, file, v->line,
			    "%s: option '%s' = %" PRId64 " is out of range [%" PRId64 ", %" PRId64
			    "]",
			    label, decl->key, v->i, decl->min, decl->max);
		return -EINVAL;
	}
	return 0;
}

static int apply_default(const struct circd_option *decl, struct resolved_option *ro);

/* A default that does not parse is the plugin's bug, but it would make
 * options_resolve() fail at start: `circd -t` says so first. */
static void check_defaults(struct checker *c, const struct circd_option *schema, const char *owner,
			   const char *file, int line)
{
	for (const struct circd_option *o = schema; o && o->key; o++) {
		if (!o->default_value)
			continue;
		struct resolved_option ro = { .decl = o };
		if (apply_default(o, &ro) < 0)
			check_error(c, file, line,
				    "%s declares an invalid default '%s' for option '%s'", owner,
				    o->default_value, o->key);
		free(ro.s);
	}
}

/* Every given option declared and well-typed, every required one given. */
static void check_values(struct checker *c, const struct circd_option *schema,
			 const struct config_options *opts, const char *label, const char *owner,
			 const char *file, int line)
{
	for (size_t i = 0; i < opts->n; i++) {
		const struct config_value *v = &opts->v[i];
		const char *vfile = v->file ? v->file : file;
		const struct circd_option *decl = schema_find(schema, v->key);
		if (!decl) {
			_cleanup_free_ char *keys = schema_keys(schema);
			check_error(c, vfile, v->line, "%s: unknown option '%s' for %s (known: %s)",
				    label, v->key, owner, keys);
			continue;
		}
		(void)check_value(c, vfile, label, decl, v);
	}
	for (const struct circd_option *o = schema; o && o->key; o++)
		if ((o->flags & CIRCD_OPT_REQUIRED) && !given_find(opts, o->key))
			check_error(c, file, line, "%s: required option '%s' for %s is missing",
				    label, o->key, owner);
	check_defaults(c, schema, owner, file, line);
}

static void check_instance(struct checker *c, const struct config_device *d,
			   const struct config_schema_source *src, const char *main_file,
			   bool upstream)
{
	const char *kind = upstream ? "upstream" : "device";
	const char *file = d->file ? d->file : main_file;
	uint32_t kinds = 0;
	const char *why = NULL;
	const struct circd_option *schema = src->plugin(src->userdata, d->plugin, &kinds, &why);
	/* A loaded plugin always has kinds; NULL with kinds is a plugin that
	 * declares no options. */
	if (!schema && kinds == 0) {
		check_error(c, file, d->line, "%s '%s': plugin '%s' could not be loaded: %s", kind,
			    d->name, d->plugin, why ? why : "no such plugin");
		return;
	}
	if (!schema)
		schema = empty_schema;
	if (upstream && !(kinds & CIRCD_KIND_UPSTREAM)) {
		check_error(c, file, d->line, "upstream '%s': plugin '%s' is not an upstream plugin%s",
			    d->name, d->plugin,
			    kinds & DEVICE_KINDS ? " (it drives devices: list it under devices)" : "");
		return;
	}
	if (!upstream && !(kinds & DEVICE_KINDS)) {
		check_error(c, file, d->line, "device '%s': plugin '%s' is not a device plugin%s",
			    d->name, d->plugin,
			    kinds & CIRCD_KIND_UPSTREAM ? " (it is an upstream: list it under upstreams)"
							: "");
		return;
	}
	_cleanup_free_ char *label = xasprintf("%s '%s'", kind, d->name);
	_cleanup_free_ char *owner = xasprintf("plugin '%s'", d->plugin);
	check_values(c, schema, &d->options, label, owner, file, d->line);
}

static void check_station(struct checker *c, const struct config_station *st,
			  const struct config_schema_source *src, const char *main_file)
{
	const char *file = st->file ? st->file : main_file;
	const struct circd_option *schema = src->role(src->userdata, st->role);
	if (!schema) {
		check_error(c, file, st->line, "station '%s': unknown role '%s'", st->name,
			    st->role);
		return;
	}
	_cleanup_free_ char *label = xasprintf("station '%s'", st->name);
	_cleanup_free_ char *owner = xasprintf("role '%s'", st->role);
	size_t before = c->n_errors;
	check_values(c, schema, &st->options, label, owner, file, st->line);
	/* The role's own checks (rule syntax, device references) only make
	 * sense on options of the right types. */
	if (c->n_errors == before && src->role_check)
		c->n_errors += (size_t)src->role_check(src->userdata, st, file, c->errs);
}

int config_check_options(const struct circd_config *cfg, const struct config_schema_source *src,
			 struct config_errors *errs)
{
	struct checker c = { .errs = errs };
	/* A missing callback means the caller cannot check that part (yet). */
	if (src->plugin) {
		for (size_t i = 0; i < cfg->n_devices; i++)
			check_instance(&c, &cfg->devices[i], src, cfg->file, false);
		for (size_t i = 0; i < cfg->n_upstreams; i++)
			check_instance(&c, &cfg->upstreams[i], src, cfg->file, true);
	}
	if (src->role)
		for (size_t i = 0; i < cfg->n_stations; i++)
			check_station(&c, &cfg->stations[i], src, cfg->file);
	return c.n_errors ? -EINVAL : 0;
}

/* ---- resolving ---- */

/* Integers in defaults: decimal, or hex with 0x; a leading zero is not
 * octal (a default of "010" means ten, as in the config file). */
static int parse_int_text(const char *s, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	int base = 10;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	bool digit = (*p >= '0' && *p <= '9') ||
		     (base == 16 && ((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')));
	if (!digit)
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long u = strtoull(p, &end, base);
	if (errno || *end)
		return -EINVAL;
	if (neg) {
		if (u > (unsigned long long)INT64_MAX + 1)
			return -ERANGE;
		*out = u == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u > (unsigned long long)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)u;
	}
	return 0;
}

static int parse_bool_text(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_float_text(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

/* A declared default, parsed by the option's type. */
static int apply_default(const struct circd_option *decl, struct resolved_option *ro)
{
	const char *t = decl->default_value;
	switch (decl->type) {
	case CIRCD_OPT_STRING:
	case CIRCD_OPT_LIST:
		ro->s = xstrdup(t);
		return 0;
	case CIRCD_OPT_INT:
		if (parse_int_text(t, &ro->i) < 0 || !int_in_range(decl, ro->i))
			return -EINVAL;
		return 0;
	case CIRCD_OPT_BOOL:
		return parse_bool_text(t, &ro->b);
	case CIRCD_OPT_FLOAT:
		return parse_float_text(t, &ro->f);
	}
	return -EINVAL;
}

static void apply_given(const struct circd_option *decl, const struct config_value *v,
			struct resolved_option *ro)
{
	switch (decl->type) {
	case CIRCD_OPT_STRING:
	case CIRCD_OPT_LIST:
		ro->s = xstrdup(v->s ? v->s : "");
		break;
	case CIRCD_OPT_INT:
		ro->i = v->i;
		break;
	case CIRCD_OPT_BOOL:
		ro->b = v->b;
		break;
	case CIRCD_OPT_FLOAT:
		ro->f = v->type == CIRCD_OPT_INT ? (double)v->i : v->f;
		break;
	}
	ro->given = true;
	ro->line = v->line;
	ro->file = v->file;
}

/* host->opt_string() may be asked for any option: every type gets its text.
 * A STRING with neither value nor default stays NULL ("not set"). */
static void fill_text(struct resolved_option *ro)
{
	switch (ro->decl->type) {
	case CIRCD_OPT_STRING:
	case CIRCD_OPT_LIST:
		break;
	case CIRCD_OPT_INT:
		ro->s = xasprintf("%" PRId64, ro->i);
		break;
	case CIRCD_OPT_BOOL:
		ro->s = xstrdup(ro->b ? "true" : "false");
		break;
	case CIRCD_OPT_FLOAT:
		ro->s = xasprintf("%g", ro->f);
		break;
	}
}

int options_resolve(const struct circd_option *schema, const struct config_options *given,
		    const char *file, struct resolved_options *out, struct config_errors *errs)
{
	struct checker c = { .errs = errs };
	const char *label = "options";
	size_t n = 0;
	for (const struct circd_option *o = schema; o && o->key; o++)
		n++;

	*out = (struct resolved_options){ 0 };
	for (size_t i = 0; given && i < given->n; i++) {
		const struct config_value *v = &given->v[i];
		if (!v->key || !schema_find(schema, v->key)) {
			_cleanup_free_ char *keys = schema_keys(schema);
			check_error(&c, v->file ? v->file : file, v->line,
				    "unknown option '%s' (known: %s)", v->key ? v->key : "", keys);
		}
	}

	struct resolved_options res = { .v = xcalloc(n + 1, sizeof(*res.v)), .n = n };
	for (size_t i = 0; i < n; i++) {
		const struct circd_option *decl = &schema[i];
		struct resolved_option *ro = &res.v[i];
		ro->decl = decl;
		const struct config_value *v = given_find(given, decl->key);
		if (v) {
			if (check_value(&c, v->file ? v->file : file, label, decl, v) < 0)
				continue;
			apply_given(decl, v, ro);
		} else if (decl->default_value) {
			if (apply_default(decl, ro) < 0) {
				check_error(&c, file, 0,
					    "option '%s': the plugin's default '%s' is not %s%s",
					    decl->key, decl->default_value, type_word(decl->type),
					    decl->type == CIRCD_OPT_INT ? " in range" : "");
				continue;
			}
		} else if (decl->flags & CIRCD_OPT_REQUIRED) {
			check_error(&c, file, 0, "required option '%s' is missing", decl->key);
			continue;
		}
		fill_text(ro);
	}
	if (c.n_errors) {
		options_free(&res);
		return -EINVAL;
	}
	*out = res;
	return 0;
}

const struct resolved_option *options_get(const struct resolved_options *opts, const char *key)
{
	for (size_t i = 0; opts && key && i < opts->n; i++)
		if (opts->v[i].decl && opts->v[i].decl->key &&
		    strcmp(opts->v[i].decl->key, key) == 0)
			return &opts->v[i];
	return NULL;
}

void options_free(struct resolved_options *opts)
{
	if (!opts)
		return;
	for (size_t i = 0; i < opts->n; i++)
		free(opts->v[i].s);
	free(opts->v);
	opts->v = NULL;
	opts->n = 0;
}

/* ---- equality for reload ---- */

static bool value_equal(const struct config_value *a, const struct config_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case CIRCD_OPT_STRING:
	case CIRCD_OPT_LIST:
		return streq_ptr(a->s, b->s);
	case CIRCD_OPT_INT:
		return a->i == b->i;
	case CIRCD_OPT_BOOL:
		return a->b == b->b;
	case CIRCD_OPT_FLOAT:
		return a->f == b->f;
	}
	return false;
}

/* Same keys, each with the same type and value; order does not matter
 * (reordering lines in the file must not restart a reader). */
static bool options_subset(const struct config_options *a, const struct config_options *b)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct config_value *w = a->v[i].key ? given_find(b, a->v[i].key) : NULL;
		if (!w || !value_equal(&a->v[i], w))
			return false;
	}
	return true;
}

static bool options_equal(const struct config_options *a, const struct config_options *b)
{
	return options_subset(a, b) && options_subset(b, a);
}

static bool strv_contains(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (streq_ptr(v[i], s))
			return true;
	return false;
}

/* Lists of names compared as sets: a station's devices have no order. */
static bool strset_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!strv_contains(b, nb, a[i]))
			return false;
	for (size_t i = 0; i < nb; i++)
		if (!strv_contains(a, na, b[i]))
			return false;
	return true;
}

bool config_device_equal(const struct config_device *a, const struct config_device *b)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	return streq_ptr(a->name, b->name) && streq_ptr(a->plugin, b->plugin) &&
	       options_equal(&a->options, &b->options);
}

bool config_station_equal(const struct config_station *a, const struct config_station *b)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	return streq_ptr(a->name, b->name) && streq_ptr(a->role, b->role) &&
	       strset_equal(a->devices, a->n_devices, b->devices, b->n_devices) &&
	       a->upstreams_given == b->upstreams_given &&
	       strset_equal(a->upstreams, a->n_upstreams, b->upstreams, b->n_upstreams) &&
	       options_equal(&a->options, &b->options);
}
