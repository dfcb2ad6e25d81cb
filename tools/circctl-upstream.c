/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `circctl upstream test NAME [-c CONFIG]`: the first thing an
 * administrator runs at a new site.  It does not ask circd: it reads
 * circd.conf, maps the upstream's options exactly as the sip2 plugin does
 * (lib/sip2/upstream_options.c) and runs sip2_probe(): connect, TLS, 93
 * login, 99/98 status.  It prints what the ACS said, or which step failed
 * and why.  Exit: 0 online, 1 reachable but the ACS says it is offline,
 * 2 the test could not be run (usage, config, password file), 3 failed.
 *
 * The password is read (it has to be sent) and never printed: no option
 * values other than host, port, TLS and login user are shown, and the
 * client's error texts never carry it (lib/sip2/client.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/conf.h"
#include "sip2/client.h"
#include "sip2/upstream_options.h"
#include "tools/circctl.h"
#include "util/util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/circd/circd.conf"

enum {
	PROBE_ONLINE = 0,
	PROBE_OFFLINE = 1,
	PROBE_CANNOT_RUN = 2,
	PROBE_FAILED = 3,
};

/* SIP2 2.00 "ACS Status": the 16 BX flags, in order. */
static const char *const bx_names[16] = {
	"patron status", "checkout", "checkin", "block patron", "SC/ACS status", "resend",
	"login", "patron information", "end patron session", "fee paid", "item information",
	"item status update", "patron enable", "hold", "renew", "renew all",
};

/* ---- circd.conf -> sip2_client_config ---- */

static const char *res_string(void *userdata, const char *key)
{
	const struct resolved_option *o = options_get(userdata, key);
	return o && o->s ? o->s : "";
}

static int64_t res_int(void *userdata, const char *key)
{
	const struct resolved_option *o = options_get(userdata, key);
	return o ? o->i : 0;
}

static bool res_bool(void *userdata, const char *key)
{
	const struct resolved_option *o = options_get(userdata, key);
	return o && o->b;
}

static void print_config_errors(const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "circctl: %s\n", errs->msgs[i]);
}

static char *upstream_names(const struct circd_config *cfg)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		char *more = xasprintf("%s%s%s", s, i ? ", " : "", cfg->upstreams[i].name);
		free(s);
		s = more;
	}
	return s;
}

/* Loads the config and the upstream's settings; PROBE_CANNOT_RUN after
 * saying why on stderr, else EXIT_OK with *settings filled (its strings
 * point into *resolved). */
static int load_settings(const char *config_path, const char *name,
			 struct resolved_options *resolved, struct sip2_upstream_settings *settings)
{
	struct config_errors errs = { 0 };
	struct circd_config *cfg = NULL;
	int ret = PROBE_CANNOT_RUN;

	int r = config_load(config_path, &cfg, &errs);
	if (r < 0) {
		if (r == -EINVAL)
			fprintf(stderr, "circctl: %s has errors:\n", config_path);
		print_config_errors(&errs);
		goto out;
	}
	const struct config_device *up = NULL;
	for (size_t i = 0; i < cfg->n_upstreams && !up; i++)
		if (strcmp(cfg->upstreams[i].name, name) == 0)
			up = &cfg->upstreams[i];
	if (!up) {
		_cleanup_free_ char *names = upstream_names(cfg);
		fprintf(stderr, "circctl: %s has no upstream named '%s' (%s%s)\n", config_path, name,
			*names ? "it has: " : "it has none", names);
		goto out;
	}
	if (strcmp(up->plugin, "sip2") != 0) {
		fprintf(stderr,
			"circctl: upstream '%s' uses plugin '%s'; upstream test only knows sip2\n",
			name, up->plugin);
		goto out;
	}
	if (options_resolve(sip2_upstream_options, &up->options, up->file ? up->file : cfg->file,
			    resolved, &errs) < 0) {
		print_config_errors(&errs);
		goto out;
	}
	const struct sip2_option_source src = {
		.get_string = res_string, .get_int = res_int, .get_bool = res_bool,
		.userdata = resolved,
	};
	char why[512];
	r = sip2_upstream_settings_load(settings, &src, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "circctl: upstream '%s': %s%s\n", name, why,
			r == -EACCES ? " (run this as root or as the user circd runs as)" : "");
		goto out;
	}
	if (settings->client.login_user && !settings->password)
		fprintf(stderr, "circctl: note: upstream '%s' has login_user but no password_file: "
			"logging in with an empty password\n", name);
	ret = EXIT_OK;
out:
	config_free(cfg);
	config_errors_free(&errs);
	return ret;
}

/* ---- the result ---- */

static const char *failed_step(const struct sip2_probe_result *res)
{
	if (!res->connected)
		return "connect";
	return res->logged_in ? "status" : "login";
}

/* What to look at next, for the failures an administrator can fix. */
static const char *hint(enum sip2_client_error e)
{
	switch (e) {
	case SIP2_ERR_DNS:
		return "check host";
	case SIP2_ERR_CONNECT:
		return "check host and port, and that the ACS (or stunnel) listens there";
	case SIP2_ERR_TLS:
		return "check tls: does the port speak TLS? (and tls_cert_file/tls_key_file)";
	case SIP2_ERR_TLS_VERIFY:
		return "check tls_ca_file, tls_server_name and the certificate's names";
	case SIP2_ERR_LOGIN_REFUSED:
		return "check login_user, password_file and location_code against the ILS's SIP2 "
		       "account";
	case SIP2_ERR_TIMEOUT:
		return "the ACS accepted the connection but did not answer: login required? "
		       "firewall? request_timeout_ms?";
	case SIP2_ERR_CLOSED:
		return "the ACS hung up: does the port speak TLS (tls = true)? may this host "
		       "connect? does the ACS drop sessions that send 99 before 93?";
	case SIP2_ERR_PROTOCOL:
		return "the answer was not SIP2: check port, tls and charset";
	case SIP2_ERR_CHECKSUM:
		return "answers kept failing their checksum: check charset and error_detection";
	default:
		return NULL;
	}
}

static int probe_exit(int r, const struct sip2_probe_result *res)
{
	if (r < 0)
		return PROBE_FAILED;
	/* SIP2 2.00 "ACS Status": online N, or a timeout period of 000 */
	return res->status.online && res->status.timeout_ds != 0 ? PROBE_ONLINE : PROBE_OFFLINE;
}

static void timeout_text(int ds, char *out, size_t size)
{
	if (ds < 0)
		snprintf(out, size, "unknown (999)");
	else if (ds == 0)
		snprintf(out, size, "000 (the ACS is offline)");
	else
		snprintf(out, size, "%d.%d s", ds / 10, ds % 10);
}

/* "a, b, c" of the BX flags that are (or are not) Y. */
static char *bx_list(const char *bx, bool want)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < 16 && bx[i]; i++) {
		if ((bx[i] == 'Y') != want)
			continue;
		char *more = xasprintf("%s%s%s", s, *s ? ", " : "", bx_names[i]);
		free(s);
		s = more;
	}
	return s;
}

/* Wraps a long comma list under a label. */
static void print_wrapped(const char *label, const char *text)
{
	const int indent = 20, width = 78;
	printf("  %-*s", indent - 2, label);
	int col = indent;
	const char *p = text;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
		if (col > indent && col + (int)len > width) {
			printf("\n%*s", indent, "");
			col = indent;
			while (*p == ' ') {
				p++;
				len--;
			}
		}
		printf("%.*s", (int)len, p);
		col += (int)len;
		p += len;
	}
	putchar('\n');
}

static void print_text(const char *name, const struct sip2_client_config *c,
		       const struct sip2_probe_result *res, int r)
{
	printf("Upstream %s (sip2): %s:%u, %s, %s%s\n", name, c->host, c->port,
	       c->tls ? "TLS" : "plain TCP", c->login_user ? "login as " : "no login",
	       c->login_user ? c->login_user : "");
	if (r < 0) {
		const char *step = failed_step(res);
		printf("  %-18s%s\n", "connect", strcmp(step, "connect") ? "ok" : "FAILED");
		if (strcmp(step, "connect") != 0)
			printf("  %-18s%s\n", "login", strcmp(step, "login") ? "ok" : "FAILED");
		if (strcmp(step, "status") == 0)
			printf("  %-18s%s\n", "status", "FAILED");
		printf("Failed at %s: %s: %s\n", step, sip2_client_error_name(res->error),
		       res->message);
		const char *h = hint(res->error);
		if (h)
			printf("Hint: %s\n", h);
		return;
	}
	const struct sip2_acs_status *st = &res->status;
	char timeout[48], retries[32], rtt[32];
	timeout_text(st->timeout_ds, timeout, sizeof(timeout));
	if (st->retries < 0)
		snprintf(retries, sizeof(retries), "unknown (999)");
	else
		snprintf(retries, sizeof(retries), "%d", st->retries);
	snprintf(rtt, sizeof(rtt), "%.1f ms", (double)res->rtt_usec / 1000.0);
	printf("  %-18s%s\n", "connect", "ok");
	printf("  %-18s%s\n", "login", c->login_user ? "ok" : "skipped (no login_user)");
	printf("  %-18s%s\n", "online", st->online ? "yes" : "NO");
	printf("  %-18s%s\n", "institution", *st->institution ? st->institution : "-");
	printf("  %-18s%s\n", "library name", *st->library_name ? st->library_name : "-");
	if (*st->supported) {
		_cleanup_free_ char *yes = bx_list(st->supported, true);
		_cleanup_free_ char *no = bx_list(st->supported, false);
		print_wrapped("supports", *yes ? yes : "nothing");
		if (*no)
			print_wrapped("does not support", no);
	} else {
		printf("  %-18s%s\n", "supports", "not said (no BX)");
	}
	printf("  %-18s%s\n", "timeout period", timeout);
	printf("  %-18s%s\n", "retries allowed", retries);
	printf("  %-18s%s\n", "offline ok", st->offline_ok ? "yes" : "no");
	printf("  %-18s%s\n", "checkin ok", st->checkin_ok ? "yes" : "no");
	printf("  %-18s%s\n", "checkout ok", st->checkout_ok ? "yes" : "no");
	printf("  %-18s%s\n", "protocol version", *st->protocol_version ? st->protocol_version : "-");
	printf("  %-18s%s\n", "round trip", rtt);
	if (probe_exit(r, res) == PROBE_ONLINE)
		printf("Result: online\n");
	else
		printf("Result: reachable, but the ACS reports itself offline\n");
}

static struct json_object *json_string_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static struct json_object *bx_json(const char *bx, bool want)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < 16 && bx[i]; i++)
		if ((bx[i] == 'Y') == want)
			json_object_array_add(a, json_object_new_string(bx_names[i]));
	return a;
}

static void print_json(const char *name, const char *config_path,
		       const struct sip2_client_config *c, const struct sip2_probe_result *res,
		       int r)
{
	static const char *const results[] = { "online", "offline", "", "failed" };
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "upstream", json_object_new_string(name));
	json_object_object_add(o, "plugin", json_object_new_string("sip2"));
	json_object_object_add(o, "config", json_object_new_string(config_path));
	json_object_object_add(o, "host", json_object_new_string(c->host));
	json_object_object_add(o, "port", json_object_new_int(c->port));
	json_object_object_add(o, "tls", json_object_new_boolean(c->tls));
	json_object_object_add(o, "login_user", json_string_or_null(c->login_user));
	json_object_object_add(o, "result", json_object_new_string(results[probe_exit(r, res)]));
	json_object_object_add(o, "connected", json_object_new_boolean(res->connected));
	json_object_object_add(o, "logged_in", json_object_new_boolean(res->logged_in));
	if (r < 0) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "step", json_object_new_string(failed_step(res)));
		json_object_object_add(e, "kind",
				       json_object_new_string(sip2_client_error_name(res->error)));
		json_object_object_add(e, "message", json_object_new_string(res->message));
		json_object_object_add(e, "hint", json_string_or_null(hint(res->error)));
		json_object_object_add(o, "error", e);
	} else {
		const struct sip2_acs_status *st = &res->status;
		struct json_object *a = json_object_new_object();
		json_object_object_add(a, "online", json_object_new_boolean(st->online));
		json_object_object_add(a, "institution", json_object_new_string(st->institution));
		json_object_object_add(a, "library_name", json_object_new_string(st->library_name));
		json_object_object_add(a, "bx", json_object_new_string(st->supported));
		json_object_object_add(a, "supported_messages", bx_json(st->supported, true));
		json_object_object_add(a, "unsupported_messages", bx_json(st->supported, false));
		json_object_object_add(a, "timeout_period_ds", st->timeout_ds < 0 ? NULL
						: json_object_new_int(st->timeout_ds));
		json_object_object_add(a, "retries_allowed", st->retries < 0 ? NULL
						: json_object_new_int(st->retries));
		json_object_object_add(a, "offline_ok", json_object_new_boolean(st->offline_ok));
		json_object_object_add(a, "checkin_ok", json_object_new_boolean(st->checkin_ok));
		json_object_object_add(a, "checkout_ok", json_object_new_boolean(st->checkout_ok));
		json_object_object_add(a, "renewal_policy",
				       json_object_new_boolean(st->renewal_policy));
		json_object_object_add(a, "status_update_ok",
				       json_object_new_boolean(st->status_update_ok));
		json_object_object_add(a, "protocol_version",
				       json_object_new_string(st->protocol_version));
		json_object_object_add(o, "acs", a);
		json_object_object_add(o, "rtt_ms",
				       json_object_new_double((double)res->rtt_usec / 1000.0));
	}
	json_print_pretty(stdout, o);
	json_object_put(o);
}

static int upstream_test(struct circctl *ctx, const char *config_path, const char *name)
{
	struct resolved_options resolved = { 0 };
	struct sip2_upstream_settings settings = { 0 };
	int ret = load_settings(config_path, name, &resolved, &settings);
	if (ret == EXIT_OK) {
		struct sip2_probe_result res;
		int r = sip2_probe(&settings.client, &res);
		if (ctx->json)
			print_json(name, config_path, &settings.client, &res, r);
		else
			print_text(name, &settings.client, &res, r);
		ret = probe_exit(r, &res);
	}
	sip2_upstream_settings_clear(&settings);
	options_free(&resolved);
	return ret;
}

int cmd_upstream(struct circctl *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "config", required_argument, NULL, 'c' },
		{}
	};
	const char *config_path = DEFAULT_CONFIG;
	int opt, r = -1;

	while (r < 0 &&
	       (opt = getopt_long(argc, argv, CIRCCTL_COMMON_SHORT "c:", options, NULL)) != -1) {
		if (opt == 'c') {
			if (!*optarg)
				return circctl_usage_error(argv[0], "empty --config path");
			config_path = optarg;
		} else if (!circctl_common_option(ctx, argv[0], opt, &r)) {
			r = circctl_usage_error(argv[0], "unexpected option");
		}
	}
	if (r >= 0)
		return r;
	if (optind >= argc)
		return circctl_usage_error(argv[0], "which action? (test)");
	const char *action = argv[optind++];
	if (strcmp(action, "test") != 0)
		return circctl_usage_error(argv[0], "unknown action '%s' (test)", action);
	if (argc - optind != 1)
		return circctl_usage_error(argv[0], "test needs exactly one upstream name");
	return upstream_test(ctx, config_path, argv[optind]);
}
