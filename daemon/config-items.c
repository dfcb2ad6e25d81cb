/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circd.conf's lists: devices, upstreams and stations, and the references
 * between them.
 *
 *   devices   = ( { name = "drop1"; plugin = "sim"; <plugin options> }, ... );
 *   upstreams = ( { name = "ils"; plugin = "sip2"; <plugin options> }, ... );
 *   stations  = ( { name = "returns"; role = "bookdrop"; devices = [ "drop1" ];
 *                   upstreams = [ "ils" ]; <role options> }, ... );
 *
 * An entry with an error is left out of the result, but its name is still
 * remembered: a later duplicate is still a duplicate, and a station that
 * names it is not told the device is "unknown" on top of its own error.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "daemon/config-internal.h"
#include "daemon/conf.h"
#include "util/util.h"

/* ---- names seen ---- */

static const struct seen_name *seen_find(const struct seen_names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static void seen_add(struct seen_names *s, const char *name, int line)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct seen_name){ .name = xstrdup(name), .line = line };
}

void seen_names_free(struct seen_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* The entry's name if it is a valid one, for duplicate detection; errors
 * about it are reported by whoever parses the entry. */
static const char *peek_name(const config_setting_t *g)
{
	const char *name = NULL;
	if (!config_setting_lookup_string(g, "name", &name) || !config_name_valid(name))
		return NULL;
	return name;
}

/* A name twice in one list: reported at the second entry, which is left
 * out.  Returns true when name is new (and records it). */
static bool claim_name(struct loader *l, struct seen_names *seen, const config_setting_t *g,
		       const char *kind, const char *name)
{
	const struct seen_name *first = seen_find(seen, name);
	if (first) {
		error_at(l, g, "duplicate %s name '%s' (first defined at line %d)", kind, name,
			 first->line);
		return false;
	}
	seen_add(seen, name, setting_line(g));
	return true;
}

/* ---- entries ---- */

/* A plugin or role option: kept raw, typed as the file wrote it. */
static void add_option(struct loader *l, const config_setting_t *s, const char *owner,
		       struct config_options *opts)
{
	struct config_value v = { 0 };
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		v.type = CIRCD_OPT_STRING;
		v.s = xstrdup(config_setting_get_string(s));
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v.type = CIRCD_OPT_INT;
		v.i = config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v.type = CIRCD_OPT_FLOAT;
		v.f = config_setting_get_float(s);
		break;
	case CONFIG_TYPE_BOOL:
		v.type = CIRCD_OPT_BOOL;
		v.b = config_setting_get_bool(s);
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST: {
		/* A list of strings (sorting rules, shelf models): kept joined
		 * by newlines, which no element may contain. */
		int n = config_setting_length(s);
		size_t len = 0;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *t = config_setting_type(e) == CONFIG_TYPE_STRING
						? config_setting_get_string(e) : NULL;
			if (!t || strchr(t, '\n')) {
				error_at(l, e ? e : s,
					 "%s: option '%s' must be a single value (string, number or "
					 "boolean) or a list of strings; element %d is %s",
					 owner, config_setting_name(s), i + 1,
					 t ? "a string with a line break"
					   : setting_type_name(config_setting_type(e)));
				free(v.s);
				return;
			}
			size_t tl = strlen(t);
			v.s = xrealloc(v.s, len + tl + 2);
			memcpy(v.s + len, t, tl);
			len += tl;
			v.s[len++] = '\n';
			v.s[len] = '\0';
		}
		if (len)
			v.s[len - 1] = '\0';
		else
			v.s = xstrdup("");
		v.type = CIRCD_OPT_LIST;
		break;
	}
	default:
		error_at(l, s,
			 "%s: option '%s' must be a single value (string, number or boolean) "
			 "or a list of strings, not %s",
			 owner, config_setting_name(s), setting_type_name(config_setting_type(s)));
		return;
	}
	v.key = xstrdup(config_setting_name(s));
	v.line = setting_line(s);
	v.file = setting_file(l, s);
	opts->v = xrealloc(opts->v, (opts->n + 1) * sizeof(*opts->v));
	opts->v[opts->n++] = v;
}

/* Every member of g but the reserved ones becomes an option. */
static void add_options(struct loader *l, const config_setting_t *g, const char *const *reserved,
			const char *owner, struct config_options *opts)
{
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(m);
		bool skip = !key;
		for (size_t j = 0; !skip && reserved[j]; j++)
			skip = strcmp(key, reserved[j]) == 0;
		if (!skip)
			add_option(l, m, owner, opts);
	}
}

/* The required name member: "device 'drop1'" labels the entry in later
 * messages, or "device #2" while it has no valid name. */
static char *entry_name(struct loader *l, const config_setting_t *g, const char *kind, int idx,
			char **label)
{
	const config_setting_t *s = config_setting_get_member(g, "name");
	char *name = NULL;
	if (!s) {
		error_at(l, g, "%s #%d: missing required setting 'name'", kind, idx + 1);
	} else {
		_cleanup_free_ char *what = xasprintf("%s #%d: name", kind, idx + 1);
		(void)get_name(l, s, what, &name);
	}
	*label = name ? xasprintf("%s '%s'", kind, name) : xasprintf("%s #%d", kind, idx + 1);
	return name;
}

/* A required member holding a name (plugin, role). */
static char *required_name(struct loader *l, const config_setting_t *g, const char *key,
			   const char *label)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char *v = NULL;
	if (!s) {
		error_at(l, g, "%s: missing required setting '%s'", label, key);
		return NULL;
	}
	_cleanup_free_ char *what = xasprintf("%s: %s", label, key);
	(void)get_name(l, s, what, &v);
	return v;
}

/* devices and upstreams: { name = ...; plugin = ...; <plugin options> } */
static int parse_instance(struct loader *l, const config_setting_t *g, const char *kind, int idx,
			  struct config_device *out)
{
	static const char *const reserved[] = { "name", "plugin", NULL };
	size_t before = l->n_errors;
	_cleanup_free_ char *label = NULL;
	_cleanup_free_ char *name = entry_name(l, g, kind, idx, &label);
	_cleanup_free_ char *plugin = required_name(l, g, "plugin", label);
	struct config_options opts = { 0 };
	add_options(l, g, reserved, label, &opts);
	if (l->n_errors != before) {
		config_options_free(&opts);
		return -EINVAL;
	}
	*out = (struct config_device){
		.name = TAKE_PTR(name),
		.plugin = TAKE_PTR(plugin),
		.options = opts,
		.line = setting_line(g),
		.file = setting_file(l, g),
	};
	return 0;
}

static void parse_instances(struct loader *l, const config_setting_t *list, const char *kind,
			    struct seen_names *seen, struct config_device **out, size_t *n_out)
{
	int n = config_setting_length(list);
	struct config_device *v = xcalloc((size_t)n + 1, sizeof(*v));
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(g)) {
			error_at(l, g,
				 "%s #%d: expected a group { name = ...; plugin = ...; }, got %s",
				 kind, i + 1, setting_type_name(config_setting_type(g)));
			continue;
		}
		struct config_device d;
		bool ok = parse_instance(l, g, kind, i, &d) == 0;
		const char *name = peek_name(g);
		bool unique = !name || claim_name(l, seen, g, kind, name);
		if (!ok)
			continue;
		if (!unique) {
			config_device_free(&d);
			continue;
		}
		v[k++] = d;
	}
	*out = v;
	*n_out = k;
}

void parse_devices(struct loader *l, const config_setting_t *list, struct circd_config *cfg)
{
	l->devices_broken = !expect_list_of_groups(l, list, "devices");
	if (!l->devices_broken)
		parse_instances(l, list, "device", &l->devices, &cfg->devices, &cfg->n_devices);
}

void parse_upstreams(struct loader *l, const config_setting_t *list, struct circd_config *cfg)
{
	l->upstreams_broken = !expect_list_of_groups(l, list, "upstreams");
	if (!l->upstreams_broken)
		parse_instances(l, list, "upstream", &l->upstreams, &cfg->upstreams,
				&cfg->n_upstreams);
}

/* A station's devices or upstreams: an array (or list) of names. */
static int parse_name_list(struct loader *l, const config_setting_t *s, const char *what,
			   char ***out, size_t *n_out)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		error_at(l, s, "%s: expected an array of names [ \"a\", \"b\" ], got %s", what,
			 setting_type_name(t));
		return -EINVAL;
	}
	int n = config_setting_length(s);
	char **v = xcalloc((size_t)n + 1, sizeof(*v));
	size_t k = 0;
	int r = 0;
	for (int i = 0; i < n; i++) {
		char *name = NULL;
		if (get_name(l, config_setting_get_elem(s, (unsigned)i), what, &name) < 0)
			r = -EINVAL;
		else
			v[k++] = name;
	}
	if (r < 0) {
		strv_free(v, k);
		return r;
	}
	*out = v;
	*n_out = k;
	return 0;
}

static int parse_station(struct loader *l, const config_setting_t *g, int idx,
			 struct config_station *out)
{
	static const char *const reserved[] = { "name", "role", "devices", "upstreams", NULL };
	size_t before = l->n_errors;
	_cleanup_free_ char *label = NULL;
	_cleanup_free_ char *name = entry_name(l, g, "station", idx, &label);
	_cleanup_free_ char *role = required_name(l, g, "role", label);
	struct config_station st = { 0 };
	const config_setting_t *s;

	if ((s = config_setting_get_member(g, "devices"))) {
		_cleanup_free_ char *what = xasprintf("%s: devices", label);
		(void)parse_name_list(l, s, what, &st.devices, &st.n_devices);
	}
	if ((s = config_setting_get_member(g, "upstreams"))) {
		_cleanup_free_ char *what = xasprintf("%s: upstreams", label);
		if (parse_name_list(l, s, what, &st.upstreams, &st.n_upstreams) == 0)
			st.upstreams_given = true;
	}
	add_options(l, g, reserved, label, &st.options);
	if (l->n_errors != before) {
		config_station_free(&st);
		return -EINVAL;
	}
	st.name = TAKE_PTR(name);
	st.role = TAKE_PTR(role);
	st.line = setting_line(g);
	st.file = setting_file(l, g);
	*out = st;
	return 0;
}

void parse_stations(struct loader *l, const config_setting_t *list, struct circd_config *cfg)
{
	if (!expect_list_of_groups(l, list, "stations"))
		return;
	int n = config_setting_length(list);
	cfg->stations = xcalloc((size_t)n + 1, sizeof(*cfg->stations));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(g)) {
			error_at(
				l, g,
				"station #%d: expected a group { name = ...; role = ...; }, got %s",
				i + 1, setting_type_name(config_setting_type(g)));
			continue;
		}
		struct config_station st;
		bool ok = parse_station(l, g, i, &st) == 0;
		const char *name = peek_name(g);
		bool unique = !name || claim_name(l, &l->stations, g, "station", name);
		if (!ok)
			continue;
		if (!unique) {
			config_station_free(&st);
			continue;
		}
		cfg->stations[cfg->n_stations++] = st;
	}
}

/* ---- references ---- */

static const struct config_device *find_instance(const struct config_device *v, size_t n,
						 const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static bool listed_before(char *const *v, size_t j)
{
	for (size_t k = 0; k < j; k++)
		if (strcmp(v[k], v[j]) == 0)
			return true;
	return false;
}

/* Station references: every device and upstream exists, a device belongs to
 * one station at most (two stations driving one reader would both act on
 * every tag it sees), no name twice in one list.  Reported at the station. */
void check_references(struct loader *l, const struct circd_config *cfg)
{
	_cleanup_free_ const struct config_station **owner =
		xcalloc(cfg->n_devices + 1, sizeof(*owner));
	for (size_t i = 0; i < cfg->n_stations; i++) {
		const struct config_station *st = &cfg->stations[i];
		for (size_t j = 0; j < st->n_devices; j++) {
			const char *dn = st->devices[j];
			const struct config_device *d =
				find_instance(cfg->devices, cfg->n_devices, dn);
			if (listed_before(st->devices, j)) {
				load_error(l, st->file, st->line,
					   "station '%s': device '%s' listed twice", st->name, dn);
			} else if (!d) {
				/* A device with errors of its own is not "unknown". */
				if (!l->devices_broken && !seen_find(&l->devices, dn))
					load_error(l, st->file, st->line,
						   "station '%s': unknown device '%s'", st->name,
						   dn);
			} else {
				size_t di = (size_t)(d - cfg->devices);
				if (owner[di])
					load_error(l, st->file, st->line,
						   "station '%s': device '%s' is already used by "
						   "station '%s' (line %d)",
						   st->name, dn, owner[di]->name, owner[di]->line);
				else
					owner[di] = st;
			}
		}
		for (size_t j = 0; j < st->n_upstreams; j++) {
			const char *un = st->upstreams[j];
			if (listed_before(st->upstreams, j))
				load_error(l, st->file, st->line,
					   "station '%s': upstream '%s' listed twice", st->name,
					   un);
			else if (!find_instance(cfg->upstreams, cfg->n_upstreams, un) &&
				 !l->upstreams_broken && !seen_find(&l->upstreams, un))
				load_error(l, st->file, st->line,
					   "station '%s': unknown upstream '%s'", st->name, un);
		}
	}
}
