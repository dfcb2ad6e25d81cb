/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGHUP: re-read the config and apply the difference.  A new config that
 * has any error is refused as a whole and the old one keeps running;
 * otherwise devices, stations and upstreams whose configuration is unchanged
 * keep running (re-pointed at the new config), changed ones restart, removed
 * ones stop, new ones start.  RELOADING=1 ... READY=1 around it, as systemd
 * expects of Type=notify services.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "core.h"
#include "forwarder.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "station.h"
#include "util/util.h"

static struct config_device *find_cfg_device(struct config_device *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* Rebuild one list of instances against the new config: unchanged ones keep
 * running (re-pointed at the new config), changed ones restart, removed ones
 * stop, new ones start. */
static void reload_instances(struct core *core, enum instance_role role, struct instance ***list,
			     size_t *n, struct config_device *newv, size_t new_n, bool start_now)
{
	struct instance **next = xcalloc(new_n ? new_n : 1, sizeof(*next));
	size_t m = 0;
	for (size_t i = 0; i < *n; i++) {
		struct instance *inst = (*list)[i];
		struct config_device *nc = find_cfg_device(newv, new_n, inst->name);
		if (nc && config_device_equal(inst->cfg, nc)) {
			inst->cfg = nc;
			next[m++] = inst;
			continue;
		}
		log_info("%s: %s", inst->name, nc ? "configuration changed: restarting" : "removed");
		core_stop_instance(core, inst);
		forwarder_free(inst->fw);
		instance_free(inst);
	}
	for (size_t i = 0; i < new_n; i++) {
		bool have = false;
		for (size_t k = 0; k < m; k++)
			have |= strcmp(next[k]->name, newv[i].name) == 0;
		if (have)
			continue;
		struct instance *inst;
		if (role == INSTANCE_UPSTREAM || start_now) {
			if (core_start_instance(core, role, &newv[i], &inst) == 0)
				next[m++] = inst;
		} else {
			const char *why;
			const struct loaded_plugin *p = plugin_registry_find(&core->plugins, newv[i].plugin, &why);
			if (p && instance_new(core, role, &newv[i], p, &inst) == 0)
				next[m++] = inst;
		}
	}
	free(*list);
	*list = next;
	*n = m;
}

int core_reload(struct core *core)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now_monotonic_usec());
	core->state = "reloading";
	log_info("reloading %s", core->cfg->file);

	struct config_errors errs = { 0 };
	struct circd_config *ncfg = NULL;
	int r = config_load(core->cfg->file, &ncfg, &errs);
	struct plugin_registry nreg = { 0 };
	char *error = NULL;
	if (r == 0 && core->overrides.plugin_directory) {
		free(ncfg->plugin_directory);
		ncfg->plugin_directory = xstrdup(core->overrides.plugin_directory);
	}
	if (r == 0) {
		r = plugin_registry_load(&nreg, ncfg->plugin_directory, &error);
		if (r < 0) {
			config_errors_add(&errs, ncfg->file, 0, "%s", error);
			free(error);
		}
	}
	if (r == 0) {
		struct config_schema_source src;
		core_schema_source(&nreg, &src);
		r = config_check_options(ncfg, &src, &errs);
	}
	if (r < 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_err("%s", errs.msgs[i]);
		log_err("reload refused: the new configuration has %zu error(s); still running the old one",
			errs.n);
		config_errors_free(&errs);
		config_free(ncfg);
		plugin_registry_free(&nreg);
		core->state = "running";
		sd_notify(0, "READY=1");
		return -EINVAL;
	}
	config_errors_free(&errs);
	if (strcmp(ncfg->state_directory, core->cfg->state_directory) != 0)
		log_warning("state_directory changed: takes effect at the next restart");

	/* New plugins: keep the old registry's handles alive (never dlclose);
	 * instances that keep running keep pointing at the old descriptors. */
	struct plugin_registry old_reg = core->plugins;
	core->plugins = nreg;

	/* Stations go first (they hold device pointers), come back last. */
	struct station **old_st = core->stations;
	size_t old_n_st = core->n_stations;
	core->stations = xcalloc(ncfg->n_stations ? ncfg->n_stations : 1, sizeof(*core->stations));
	core->n_stations = 0;
	struct circd_config *old_cfg = core->cfg;
	core->cfg = ncfg;

	reload_instances(core, INSTANCE_UPSTREAM, &core->upstreams, &core->n_upstreams,
			 ncfg->upstreams, ncfg->n_upstreams, true);
	reload_instances(core, INSTANCE_DEVICE, &core->devices, &core->n_devices, ncfg->devices,
			 ncfg->n_devices, false);
	for (size_t i = 0; i < ncfg->n_stations; i++) {
		struct station *keep = NULL;
		for (size_t k = 0; k < old_n_st; k++)
			if (old_st[k] && strcmp(old_st[k]->name, ncfg->stations[i].name) == 0 &&
			    config_station_equal(old_st[k]->cfg, &ncfg->stations[i]))
				keep = old_st[k], old_st[k] = NULL;
		if (keep) {
			keep->cfg = &ncfg->stations[i];
			station_set_upstreams(keep); /* "every upstream" may mean more now */
			core->stations[core->n_stations++] = keep;
		} else if (station_new(core, &ncfg->stations[i], &core->stations[core->n_stations]) == 0) {
			core->n_stations++;
		}
	}
	for (size_t k = 0; k < old_n_st; k++)
		station_free(old_st[k]);
	free(old_st);
	core_link_stations(core);
	for (size_t i = 0; i < core->n_devices; i++)
		if (!core->devices[i]->thread_started && !core->devices[i]->restart_timer)
			instance_start(core->devices[i]);

	log_set_level(core->overrides.log_level >= 0 ? core->overrides.log_level : ncfg->log_level);
	/* Instances that kept running point into the old registry: retire it,
	 * don't free it, until the daemon stops (plugins are never unloaded). */
	core->retired = xrealloc(core->retired, (core->n_retired + 1) * sizeof(*core->retired));
	core->retired[core->n_retired++] = old_reg;
	config_free(old_cfg);
	metrics_apply_config(core);
	core_flush(core);
	core->state = "running";
	core_update_status(core);
	sd_notify(0, "READY=1");
	log_info("reload done: %zu devices, %zu stations, %zu upstreams", core->n_devices,
		 core->n_stations, core->n_upstreams);
	return 0;
}

