/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circd.conf: reading the file (libconfig) and validating its structure.
 *
 * Every problem is collected, none stops the walk: an administrator running
 * `circd -t` sees all of them at once, each as "FILE:LINE: reason".  The
 * result is all-or-nothing: config_load() hands out a struct only when the
 * file had no error, so the rest of the daemon never sees a half-valid
 * config.  Plugin and role options are kept raw here; options.c checks them
 * against the schemas.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "daemon/conf.h"
#include "daemon/config-internal.h"
#include "util/util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#ifndef PLUGINDIR
#define PLUGINDIR "/usr/lib/circd/plugins"
#endif

#define DEFAULT_RETENTION_USEC (30ULL * 86400ULL * USEC_PER_SEC)
#define DEFAULT_BACKLOG_SOFT_LIMIT 5000

/* ---- error list ---- */

void config_errors_addv(struct config_errors *errs, const char *file, int line, const char *fmt,
			va_list ap)
{
	char *reason = NULL;
	if (vasprintf(&reason, fmt, ap) < 0)
		abort();
	char *msg = line > 0 ? xasprintf("%s:%d: %s", file ? file : "(config)", line, reason)
			     : xasprintf("%s: %s", file ? file : "(config)", reason);
	free(reason);
	errs->msgs = xrealloc(errs->msgs, (errs->n + 1) * sizeof(*errs->msgs));
	errs->msgs[errs->n++] = msg;
}

void config_errors_add(struct config_errors *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	config_errors_addv(errs, file, line, fmt, ap);
	va_end(ap);
}

void config_errors_free(struct config_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* ---- log levels ---- */

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "err", CIRCD_LOG_ERR },	{ "warning", CIRCD_LOG_WARNING },
	{ "notice", CIRCD_LOG_NOTICE }, { "info", CIRCD_LOG_INFO },
	{ "debug", CIRCD_LOG_DEBUG },
};

int log_level_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
		if (strcmp(s, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -EINVAL;
}

const char *log_level_to_string(int level)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return NULL;
}

/* ---- freeing ---- */

void config_options_free(struct config_options *opts)
{
	for (size_t i = 0; i < opts->n; i++) {
		free(opts->v[i].key);
		free(opts->v[i].s);
		free(opts->v[i].file);
	}
	free(opts->v);
	opts->v = NULL;
	opts->n = 0;
}

void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_device_free(struct config_device *d)
{
	free(d->name);
	free(d->plugin);
	free(d->file);
	config_options_free(&d->options);
}

void config_station_free(struct config_station *s)
{
	free(s->name);
	free(s->role);
	free(s->file);
	strv_free(s->devices, s->n_devices);
	strv_free(s->upstreams, s->n_upstreams);
	config_options_free(&s->options);
}

void config_free(struct circd_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->file);
	free(cfg->site);
	free(cfg->isil);
	free(cfg->state_directory);
	free(cfg->runtime_directory);
	free(cfg->plugin_directory);
	free(cfg->control_group);
	free(cfg->metrics_listen);
	for (size_t i = 0; i < cfg->n_devices; i++)
		config_device_free(&cfg->devices[i]);
	free(cfg->devices);
	for (size_t i = 0; i < cfg->n_stations; i++)
		config_station_free(&cfg->stations[i]);
	free(cfg->stations);
	for (size_t i = 0; i < cfg->n_upstreams; i++)
		config_device_free(&cfg->upstreams[i]);
	free(cfg->upstreams);
	free(cfg);
}

static void config_freep(struct circd_config **p)
{
	config_free(*p);
}

/* ---- the walk ---- */

/* The file a setting was read from, as a path the administrator can open:
 * libconfig 1.5 records an @include'd file by the name written in the
 * directive, though it opened include_dir/name. */
static char *display_file(const struct loader *l, const char *f)
{
	if (!f || strcmp(f, l->path) == 0)
		return xstrdup(l->path);
	if (l->include_dir && f[0] != '/')
		return xasprintf("%s/%s", l->include_dir, f);
	return xstrdup(f);
}

char *setting_file(const struct loader *l, const config_setting_t *s)
{
	return display_file(l, s ? config_setting_source_file(s) : NULL);
}

int setting_line(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static void load_errorv(struct loader *l, const char *file, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void load_errorv(struct loader *l, const char *file, int line, const char *fmt, va_list ap)
{
	char *reason = NULL;
	if (vasprintf(&reason, fmt, ap) < 0)
		abort();
	l->errors = xrealloc(l->errors, (l->n_errors + 1) * sizeof(*l->errors));
	l->errors[l->n_errors] = (struct load_error){
		.file = xstrdup(file ? file : l->path),
		.line = line,
		.seq = l->n_errors,
		.reason = reason,
	};
	l->n_errors++;
}

void load_error(struct loader *l, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	load_errorv(l, file, line, fmt, ap);
	va_end(ap);
}

void error_at(struct loader *l, const config_setting_t *s, const char *fmt, ...)
{
	_cleanup_free_ char *file = setting_file(l, s);
	va_list ap;
	va_start(ap, fmt);
	load_errorv(l, file, setting_line(s), fmt, ap);
	va_end(ap);
}

/* By file, then line, then the order found. */
static int load_error_cmp(const void *pa, const void *pb)
{
	const struct load_error *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void loader_report(struct loader *l, struct config_errors *errs)
{
	/* The main file first, each file by line: the order an administrator
	 * reads the file in. */
	size_t main_n = 0;
	for (size_t i = 0; i < l->n_errors; i++)
		if (strcmp(l->errors[i].file, l->path) == 0) {
			struct load_error t = l->errors[main_n];
			l->errors[main_n++] = l->errors[i];
			l->errors[i] = t;
		}
	qsort(l->errors, main_n, sizeof(*l->errors), load_error_cmp);
	qsort(l->errors + main_n, l->n_errors - main_n, sizeof(*l->errors), load_error_cmp);
	for (size_t i = 0; i < l->n_errors; i++)
		config_errors_add(errs, l->errors[i].file, l->errors[i].line, "%s",
				  l->errors[i].reason);
}

static void loader_done(struct loader *l)
{
	for (size_t i = 0; i < l->n_errors; i++) {
		free(l->errors[i].file);
		free(l->errors[i].reason);
	}
	free(l->errors);
	seen_names_free(&l->devices);
	seen_names_free(&l->upstreams);
	seen_names_free(&l->stations);
}

const char *setting_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	default:
		return "nothing";
	}
}

static bool is_int(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

bool config_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONFIG_NAME_MAX_LEN)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* A string setting; what names it in messages ("site", "security.eas"). */
static int get_string(struct loader *l, const config_setting_t *s, const char *what,
		      bool allow_empty, char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		error_at(l, s, "%s: expected a string, got %s", what,
			 setting_type_name(config_setting_type(s)));
		return -EINVAL;
	}
	const char *v = config_setting_get_string(s);
	if (!v || (!allow_empty && !*v)) {
		error_at(l, s, "%s: must not be empty", what);
		return -EINVAL;
	}
	free(*out);
	*out = xstrdup(v);
	return 0;
}

int get_name(struct loader *l, const config_setting_t *s, const char *what, char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		error_at(l, s, "%s: expected a string, got %s", what,
			 setting_type_name(config_setting_type(s)));
		return -EINVAL;
	}
	const char *v = config_setting_get_string(s);
	if (!v || !config_name_valid(v)) {
		error_at(l, s, "%s: '%s' is not a valid name (1 to %d of A-Z a-z 0-9 _ . -)", what,
			 v ? v : "", CONFIG_NAME_MAX_LEN);
		return -EINVAL;
	}
	*out = xstrdup(v);
	return 0;
}

static int get_int_range(struct loader *l, const config_setting_t *s, const char *what, int64_t min,
			 int64_t max, int64_t *out)
{
	if (!is_int(s)) {
		error_at(l, s, "%s: expected an integer, got %s", what,
			 setting_type_name(config_setting_type(s)));
		return -EINVAL;
	}
	int64_t v = config_setting_get_int64(s);
	if (v < min && max == INT64_MAX) {
		error_at(l, s, "%s: %" PRId64 " must not be below %" PRId64, what, v, min);
		return -EINVAL;
	}
	if (v < min || v > max) {
		error_at(l, s, "%s: %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", what,
			 v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static bool key_known(const char *key, const char *const *known)
{
	for (size_t i = 0; known[i]; i++)
		if (strcmp(key, known[i]) == 0)
			return true;
	return false;
}

static char *known_list(const char *const *known)
{
	size_t len = 1;
	for (size_t i = 0; known[i]; i++)
		len += strlen(known[i]) + 2;
	char *buf = xcalloc(1, len), *p = buf;
	for (size_t i = 0; known[i]; i++)
		p += sprintf(p, "%s%s", i ? ", " : "", known[i]);
	return buf;
}

/* Every member of a group must be one of known[]; where names the group. */
static void check_keys(struct loader *l, const config_setting_t *group, const char *where,
		       const char *const *known)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *key = config_setting_name(m);
		if (!key || key_known(key, known))
			continue;
		_cleanup_free_ char *list = known_list(known);
		error_at(l, m, "unknown setting '%s%s%s' (known: %s)", where ? where : "",
			 where ? "." : "", key, list);
	}
}

/* devices = ( {...}, ... ): a list of groups, nothing else. */
bool expect_list_of_groups(struct loader *l, const config_setting_t *s, const char *what)
{
	if (config_setting_is_list(s))
		return true;
	error_at(l, s, "%s: expected a list of groups ( { name = ...; ... }, ... ), got %s", what,
		 setting_type_name(config_setting_type(s)));
	return false;
}

static bool expect_group(struct loader *l, const config_setting_t *s, const char *what)
{
	if (config_setting_is_group(s))
		return true;
	error_at(l, s, "%s: expected a group { ... }, got %s", what,
		 setting_type_name(config_setting_type(s)));
	return false;
}

/* ---- top-level groups ---- */

static void parse_security(struct loader *l, const config_setting_t *g, struct circd_config *cfg)
{
	static const char *const known[] = { "afi_in_stock", "afi_on_loan", "eas", NULL };
	if (!expect_group(l, g, "security"))
		return;
	check_keys(l, g, "security", known);
	const config_setting_t *s;
	int64_t v;
	if ((s = config_setting_get_member(g, "afi_in_stock")) &&
	    get_int_range(l, s, "security.afi_in_stock", 0, 255, &v) == 0)
		cfg->security.afi_in_stock = (uint8_t)v;
	if ((s = config_setting_get_member(g, "afi_on_loan")) &&
	    get_int_range(l, s, "security.afi_on_loan", 0, 255, &v) == 0)
		cfg->security.afi_on_loan = (uint8_t)v;
	if ((s = config_setting_get_member(g, "eas"))) {
		if (config_setting_type(s) == CONFIG_TYPE_BOOL)
			cfg->security.eas = config_setting_get_bool(s);
		else
			error_at(l, s, "security.eas: expected a boolean (true/false), got %s",
				 setting_type_name(config_setting_type(s)));
	}
}

/* parse_duration_usec() multiplies in double and casts: keep its input to
 * plain non-negative decimals small enough that the product fits. */
static int parse_retention(const char *text, uint64_t *out)
{
	if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '.'))
		return -EINVAL;
	char *end;
	double v = strtod(text, &end);
	if (end == text || !isfinite(v) || v > 1e8)
		return -EINVAL;
	for (const char *p = text; p < end; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -EINVAL; /* no hex floats, no exponents */
	return parse_duration_usec(text, out);
}

static void parse_journal(struct loader *l, const config_setting_t *g, struct circd_config *cfg)
{
	static const char *const known[] = { "retention", "backlog_soft_limit", NULL };
	if (!expect_group(l, g, "journal"))
		return;
	check_keys(l, g, "journal", known);
	const config_setting_t *s;
	if ((s = config_setting_get_member(g, "retention"))) {
		if (config_setting_type(s) == CONFIG_TYPE_STRING) {
			const char *text = config_setting_get_string(s);
			uint64_t usec;
			if (parse_retention(text, &usec) < 0)
				error_at(l, s,
					 "journal.retention: '%s' is not a duration (e.g. \"30d\", "
					 "\"12h\"; \"0\" = keep forever)",
					 text);
			else
				cfg->retention_usec = usec;
		} else if (is_int(s)) {
			int64_t sec = config_setting_get_int64(s);
			if (sec < 0 || (uint64_t)sec > UINT64_MAX / USEC_PER_SEC)
				error_at(l, s,
					 "journal.retention: %" PRId64 " seconds is out of range",
					 sec);
			else
				cfg->retention_usec = (uint64_t)sec * USEC_PER_SEC;
		} else {
			error_at(l, s,
				 "journal.retention: expected a duration string (\"30d\") or an "
				 "integer number of seconds, got %s",
				 setting_type_name(config_setting_type(s)));
		}
	}
	int64_t v;
	if ((s = config_setting_get_member(g, "backlog_soft_limit")) &&
	    get_int_range(l, s, "journal.backlog_soft_limit", 0, INT64_MAX, &v) == 0)
		cfg->backlog_soft_limit = v;
}

static void parse_control(struct loader *l, const config_setting_t *g, struct circd_config *cfg)
{
	static const char *const known[] = { "group", NULL };
	if (!expect_group(l, g, "control"))
		return;
	check_keys(l, g, "control", known);
	const config_setting_t *s;
	if ((s = config_setting_get_member(g, "group")))
		(void)get_string(l, s, "control.group", false, &cfg->control_group);
}

int listen_address_parse(const char *text, struct sockaddr_storage *addr, socklen_t *addr_len,
			 bool *loopback)
{
	char host[64];
	const char *colon;
	if (!text)
		return -EINVAL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof(host) || memchr(text, ':', (size_t)(colon - text)))
			return -EINVAL;
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
	}
	const char *p = colon + 1;
	unsigned long port = 0;
	if (!*p || strlen(p) > 5)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535)
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	if (text[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*addr_len = sizeof(*a6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr) && a6->sin6_addr.s6_addr[12] == 127);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*addr_len = sizeof(*a4);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

static void parse_metrics(struct loader *l, const config_setting_t *g, struct circd_config *cfg)
{
	static const char *const known[] = { "listen", NULL };
	if (!expect_group(l, g, "metrics"))
		return;
	check_keys(l, g, "metrics", known);
	const config_setting_t *s;
	_cleanup_free_ char *listen = NULL;
	if ((s = config_setting_get_member(g, "listen")) &&
	    get_string(l, s, "metrics.listen", false, &listen) == 0) {
		struct sockaddr_storage addr;
		socklen_t len;
		bool loopback;
		if (listen_address_parse(listen, &addr, &len, &loopback) < 0)
			error_at(l, s,
				 "metrics.listen: '%s' is not a numeric address and port "
				 "(e.g. \"127.0.0.1:9465\" or \"[::1]:9465\")",
				 listen);
		else
			cfg->metrics_listen = TAKE_PTR(listen);
	}
}

static void parse_root(struct loader *l, const config_setting_t *root, struct circd_config *cfg)
{
	static const char *const known[] = {
		"site",
		"isil",
		"state_directory",
		"runtime_directory",
		"plugin_directory",
		"log_level",
		"security",
		"journal",
		"control",
		"metrics",
		"devices",
		"stations",
		"upstreams",
		NULL,
	};
	check_keys(l, root, NULL, known);

	const config_setting_t *s;
	/* Not at any line; line 1 keeps the FILE:LINE form editors jump to. */
	if (!(s = config_setting_get_member(root, "site")))
		load_error(l, l->path, 1, "missing required setting 'site'");
	else
		(void)get_string(l, s, "site", false, &cfg->site);
	if ((s = config_setting_get_member(root, "isil")))
		(void)get_string(l, s, "isil", false, &cfg->isil);
	if ((s = config_setting_get_member(root, "state_directory")))
		(void)get_string(l, s, "state_directory", false, &cfg->state_directory);
	if ((s = config_setting_get_member(root, "runtime_directory")))
		(void)get_string(l, s, "runtime_directory", false, &cfg->runtime_directory);
	if ((s = config_setting_get_member(root, "plugin_directory")))
		(void)get_string(l, s, "plugin_directory", false, &cfg->plugin_directory);
	if ((s = config_setting_get_member(root, "log_level"))) {
		_cleanup_free_ char *level = NULL;
		if (get_string(l, s, "log_level", true, &level) == 0) {
			int r = log_level_from_string(level);
			if (r < 0)
				error_at(l, s,
					 "log_level: unknown level '%s' (known: err, warning, "
					 "notice, "
					 "info, debug)",
					 level);
			else
				cfg->log_level = r;
		}
	}
	if ((s = config_setting_get_member(root, "security")))
		parse_security(l, s, cfg);
	if ((s = config_setting_get_member(root, "journal")))
		parse_journal(l, s, cfg);
	if ((s = config_setting_get_member(root, "control")))
		parse_control(l, s, cfg);
	if ((s = config_setting_get_member(root, "metrics")))
		parse_metrics(l, s, cfg);
	if ((s = config_setting_get_member(root, "devices")))
		parse_devices(l, s, cfg);
	if ((s = config_setting_get_member(root, "upstreams")))
		parse_upstreams(l, s, cfg);
	if ((s = config_setting_get_member(root, "stations")))
		parse_stations(l, s, cfg);
	check_references(l, cfg);
}

static void set_defaults(struct circd_config *cfg)
{
	cfg->log_level = CIRCD_LOG_INFO;
	cfg->security =
		(struct config_security){ .afi_in_stock = 0x07, .afi_on_loan = 0xC2, .eas = true };
	cfg->retention_usec = DEFAULT_RETENTION_USEC;
	cfg->backlog_soft_limit = DEFAULT_BACKLOG_SOFT_LIMIT;
}

static void fill_default_dirs(struct circd_config *cfg)
{
	if (!cfg->state_directory)
		cfg->state_directory = xstrdup(LOCALSTATEDIR "/lib/circd");
	if (!cfg->runtime_directory)
		cfg->runtime_directory = xstrdup(RUNSTATEDIR "/circd");
	if (!cfg->plugin_directory)
		cfg->plugin_directory = xstrdup(PLUGINDIR);
}

static void config_destroyp(config_t **c)
{
	if (*c)
		config_destroy(*c);
}

int config_load(const char *path, struct circd_config **out, struct config_errors *errs)
{
	*out = NULL;
	struct stat st;
	/* libconfig's scanner exit()s on a read error (a directory, say):
	 * only hand it something that reads like a file. */
	if (stat(path, &st) < 0) {
		int r = -errno;
		config_errors_add(errs, path, 0, "cannot read: %s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		config_errors_add(errs, path, 0, "cannot read: not a regular file");
		return -EINVAL;
	}
	FILE *probe = fopen(path, "re");
	if (!probe) {
		int r = -errno;
		config_errors_add(errs, path, 0, "cannot read: %s", strerror(-r));
		return r;
	}
	fclose(probe);

	config_t lc_storage;
	_cleanup_(config_destroyp) config_t *lc = &lc_storage;
	config_init(lc);
	/* @include "x.conf" is relative to the including file's directory, not
	 * to whatever the daemon's working directory happens to be. */
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		config_set_include_dir(lc, dir);
	}
	_cleanup_(loader_done) struct loader l = { .path = path,
						   .include_dir = slash ? dir : NULL };

	if (!config_read_file(lc, path)) {
		_cleanup_free_ char *file = display_file(&l, config_error_file(lc));
		const char *text = config_error_text(lc);
		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			config_errors_add(errs, file, 0, "cannot read: %s",
					  text ? text : "I/O error");
		else
			config_errors_add(errs, file, config_error_line(lc), "%s",
					  text ? text : "syntax error");
		return -EINVAL;
	}

	_cleanup_(config_freep) struct circd_config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->file = xstrdup(path);
	set_defaults(cfg);
	parse_root(&l, config_root_setting(lc), cfg);
	if (l.n_errors > 0) {
		loader_report(&l, errs);
		return -EINVAL;
	}
	fill_default_dirs(cfg);
	*out = TAKE_PTR(cfg);
	return 0;
}
