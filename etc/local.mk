# etc: nothing yet

# etc/scenarios: example scenarios for the sim plugin (demo, a 2-part set,
# a gate alarm), installed for demos and plugin authors.
scenariosdir = $(pkgdatadir)/scenarios
dist_scenarios_DATA = etc/scenarios/demo.scn etc/scenarios/set-2part.scn \
	etc/scenarios/gate-alarm.scn
