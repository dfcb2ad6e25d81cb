/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circd — connects a library's circulation hardware to its library system.
 *
 * main() parses the command line, reads and validates the configuration
 * (all of it, with every error as FILE:LINE: reason), loads the plugins and
 * hands over to the core (core.c).
 *
 * Exit codes: 0 stopped cleanly / config valid, 1 invalid configuration or
 * usage, 2 startup failure (plugins, control socket, threads), 3 journal
 * unusable (state directory, schema, corruption, a failed commit).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "plugin_loader.h"
#include "station.h"
#include "util/util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/circd/circd.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: circd [OPTIONS]\n"
		"Connects RFID readers, gates, book-drops and sensors to the library system.\n\n"
		"  -c, --config=FILE        configuration file (default %s)\n"
		"  -t, --test-config        check the configuration and exit (0 valid, 1 not)\n"
		"      --plugin-dir=DIR     load plugins from DIR instead of the configured one\n"
		"      --list-plugins       list the plugins found and why any was refused\n"
		"      --log-target=TARGET  auto, journal or stderr (default auto)\n"
		"      --log-level=LEVEL    err, warning, notice, info or debug\n"
		"  -h, --help               this text\n"
		"      --version            print the version\n",
		DEFAULT_CONFIG);
}

static void list_plugins(const struct plugin_registry *reg)
{
	printf("Plugins in %s:\n", reg->dir);
	for (size_t i = 0; i < reg->n_plugins; i++) {
		const struct circd_plugin *d = reg->plugins[i].desc;
		printf("  %-10s %-8s %s\n", d->name, d->version ? d->version : "", d->description ? d->description : "");
		for (const struct circd_option *o = d->options; o && o->key; o++)
			printf("      %-22s %s%s%s%s\n", o->key,
			       o->flags & CIRCD_OPT_REQUIRED ? "(required) " : "",
			       o->default_value ? "[" : "", o->default_value ? o->default_value : "",
			       o->default_value ? "] " : "");
	}
	for (size_t i = 0; i < reg->n_refusals; i++)
		printf("  refused: %s: %s\n", reg->refusals[i].path, reg->refusals[i].reason);
	printf("Station roles:\n");
	for (size_t i = 0; station_roles[i]; i++)
		printf("  %-10s %s\n", station_roles[i]->name, station_roles[i]->description);
}

int main(int argc, char **argv)
{
	enum { OPT_VERSION = 0x100, OPT_LOG_TARGET, OPT_LOG_LEVEL, OPT_PLUGIN_DIR, OPT_LIST_PLUGINS };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "log-target", required_argument, NULL, OPT_LOG_TARGET },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
		{ "list-plugins", no_argument, NULL, OPT_LIST_PLUGINS },
		{ 0 },
	};
	const char *config_path = DEFAULT_CONFIG, *plugin_dir = NULL;
	bool test_only = false, list_only = false;
	enum log_target target = LOG_TARGET_AUTO;
	int cli_level = -1, c;

	while ((c = getopt_long(argc, argv, "c:th", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			test_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("circd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, CIRCD_PLUGIN_ABI_MAJOR,
			       CIRCD_PLUGIN_ABI_MINOR);
			return 0;
		case OPT_LOG_TARGET:
			if (log_target_from_string(optarg, &target) < 0) {
				fprintf(stderr, "circd: --log-target: expected auto, journal or stderr, not '%s'\n", optarg);
				return 1;
			}
			break;
		case OPT_LOG_LEVEL:
			cli_level = log_level_from_string(optarg);
			if (cli_level < 0) {
				fprintf(stderr, "circd: --log-level: expected err, warning, notice, info or debug, not '%s'\n", optarg);
				return 1;
			}
			break;
		case OPT_PLUGIN_DIR:
			plugin_dir = optarg;
			break;
		case OPT_LIST_PLUGINS:
			list_only = true;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "circd: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}

	/* -t and --list-plugins talk to a person: plain stderr. */
	log_open(test_only || list_only ? LOG_TARGET_STDERR : target);
	if (cli_level >= 0)
		log_set_level(cli_level);
	else if (test_only || list_only)
		log_set_level(CIRCD_LOG_ERR);

	/* sd-event handles these on the main thread; block them before any
	 * thread exists so no worker ever receives one.  A full disk must come
	 * back as EFBIG/ENOSPC from write(), not kill us: ignore SIGXFSZ.  A
	 * peer closing a socket must not kill us either: ignore SIGPIPE. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	struct config_errors errs = { 0 };
	struct circd_config *cfg = NULL;
	struct plugin_registry reg = { 0 };
	char *error = NULL;
	int r = config_load(config_path, &cfg, &errs);
	if (r == 0) {
		if (plugin_dir) {
			free(cfg->plugin_directory);
			cfg->plugin_directory = xstrdup(plugin_dir);
		}
		r = plugin_registry_load(&reg, cfg->plugin_directory, &error);
		if (r < 0) {
			config_errors_add(&errs, cfg->file, 0, "%s", error);
			free(error);
		}
	} else if (list_only && plugin_dir) {
		r = plugin_registry_load(&reg, plugin_dir, &error);
		if (r == 0) {
			list_plugins(&reg);
			plugin_registry_free(&reg);
			config_errors_free(&errs);
			return 0;
		}
	}
	if (r == 0 && list_only) {
		list_plugins(&reg);
		plugin_registry_free(&reg);
		config_free(cfg);
		return 0;
	}
	if (r == 0) {
		struct config_schema_source src;
		core_schema_source(&reg, &src);
		r = config_check_options(cfg, &src, &errs);
	}
	if (r < 0) {
		for (size_t i = 0; i < errs.n; i++) {
			if (test_only)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			else
				log_err("%s", errs.msgs[i]);
		}
		if (!errs.n)
			fprintf(stderr, "%s: invalid configuration\n", config_path);
		config_errors_free(&errs);
		config_free(cfg);
		plugin_registry_free(&reg);
		return 1;
	}
	config_errors_free(&errs);
	if (test_only) {
		printf("%s: configuration is valid (%zu devices, %zu stations, %zu upstreams)\n",
		       cfg->file, cfg->n_devices, cfg->n_stations, cfg->n_upstreams);
		config_free(cfg);
		plugin_registry_free(&reg);
		return 0;
	}
	if (cli_level < 0)
		log_set_level(cfg->log_level);
	struct core_overrides overrides = { .plugin_directory = plugin_dir, .log_level = cli_level };
	return core_run(cfg, &reg, &overrides);
}
