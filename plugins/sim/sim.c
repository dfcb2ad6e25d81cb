/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sim — a simulated reader, gate, sensor and sorter.
 *
 * Plays a scenario file (grammar in scenario.h, examples in etc/scenarios/)
 * and accepts live injections (CIRCD_CMD_SIM_INJECT: one scenario line
 * without a time, played now).  The demo, the integration tests and plugin
 * authors use it in place of hardware.
 *
 * Timing: a scenario has its own clock (virtual microseconds).  Each event
 * is due at start + start_delay_ms + virtual_time / speed; speed 0 plays as
 * fast as the core accepts.  The *order* of events is fixed by virtual time
 * alone (ties: a pending tag-gone before a new step), so it never depends on
 * the machine's speed.  With loop=true the next round starts when the last
 * event of the previous one is played (its tag-gones included): begin a
 * looping scenario at a time > 0 to leave a pause between rounds.
 *
 * device_event_id: every event the scenario emits carries its ordinal in
 * that play order, starting at 1 (a `tag` counts twice: seen, then gone).
 * With loop=true counting goes on across rounds; generated load
 * (generate_count) follows the scenario in the same numbering.  Because the
 * numbering is deterministic, a daemon that restarts (even after SIGKILL)
 * replays the scenario from the start and the core drops every id it has
 * already committed: this is how the integration tests check exactly-once
 * delivery.  Injected events are not part of the scenario and carry id 0
 * (no de-duplication), so they never shift the scenario's numbering.
 *
 * Backpressure: when emit() says -ENOBUFS, the same event is retried after a
 * short host->wait(); an event is never dropped.
 *
 * Commands: besides SIM_INJECT, every device command (ALARM, WRITE_AFI,
 * SET_EAS, SELECT_BIN, INTAKE, OUTPUT) is logged, acknowledged with status 0
 * and, for AFI/EAS, remembered per UID: a later tag-seen of that UID reports
 * the written values, as a real tag would (tag_state.c).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <circd/plugin.h>

#include "scenario.h"
#include "tag_state.h"
#include "util/util.h"

/* A scheduled tag-gone (the second half of a `tag`). */
struct pending_gone {
	uint64_t due;  /* virtual usec for the scenario, monotonic usec for injections */
	uint64_t seq;  /* tie-break: first scheduled, first played */
	uint8_t uid[CIRCD_UID_MAX];
	uint8_t uid_len;
	int32_t antenna;
};

struct gone_heap {
	struct pending_gone *v;
	size_t n, cap;
	uint64_t seq;
};

/* An injected action waiting for its time (now, or a tag's dwell). */
struct injection {
	uint64_t due_mono;
	struct scn_action act;
	bool has_cmd; /* acknowledge this command once the action is played */
	struct circd_command cmd;
};

struct sim {
	struct circd_instance *inst;
	const struct circd_host_api *host;

	struct scenario scn;
	bool loop;
	double speed;
	uint64_t start_delay_usec;
	uint64_t gen_count, gen_interval_usec;
	const char *gen_prefix;

	uint64_t next_id;       /* next device_event_id of the scenario */
	struct gone_heap gones; /* scenario tag-gones, by virtual time */
	struct gone_heap injected_gones; /* by monotonic time, id 0 */
	struct injection *inj;  /* FIFO of injections due now */
	size_t n_inj;

	uint64_t offline_until; /* monotonic usec; nothing is emitted before it */
	uint64_t degraded_until;/* monotonic usec; 0 = no timed fault */
	enum circd_health health;
	unsigned fast_events;   /* speed 0: check in every so often */

	struct tag_state tags;
};

/* ---- Min-heap of pending tag-gones ---- */

static bool gone_before(const struct pending_gone *a, const struct pending_gone *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(struct gone_heap *h, uint64_t due, const uint8_t *uid, uint8_t uid_len,
		      int32_t antenna)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	struct pending_gone g = { .due = due, .seq = h->seq++, .uid_len = uid_len,
				  .antenna = antenna };
	memcpy(g.uid, uid, uid_len);
	size_t i = h->n++;
	while (i > 0 && gone_before(&g, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = g;
}

static struct pending_gone heap_pop(struct gone_heap *h)
{
	struct pending_gone top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && gone_before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!gone_before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* ---- Health ---- */

static void set_health(struct sim *s, enum circd_health h, const char *reason)
{
	s->health = h;
	s->host->set_health(s->inst, h, reason);
}

/* Timed states end here: offline → OK, a fault with duration → OK. */
static void update_health(struct sim *s, uint64_t now)
{
	if (s->offline_until && now >= s->offline_until) {
		s->offline_until = 0;
		set_health(s, CIRCD_HEALTH_OK, "back online");
	}
	if (s->degraded_until && now >= s->degraded_until && !s->offline_until) {
		s->degraded_until = 0;
		set_health(s, CIRCD_HEALTH_OK, "fault cleared");
	}
}

static uint64_t scaled_usec(const struct sim *s, uint64_t usec)
{
	return s->speed > 0 ? (uint64_t)((double)usec / s->speed) : 0;
}

/* ---- Commands ---- */

static void queue_injection(struct sim *s, const struct scn_action *act, uint64_t due,
			    const struct circd_command *cmd)
{
	s->inj = xrealloc(s->inj, (s->n_inj + 1) * sizeof(*s->inj));
	s->inj[s->n_inj++] = (struct injection){ .due_mono = due, .act = *act,
						 .has_cmd = cmd != NULL };
	if (cmd)
		s->inj[s->n_inj - 1].cmd = *cmd;
}

static const char *command_name(uint32_t type)
{
	switch (type) {
	case CIRCD_CMD_ALARM: return "alarm";
	case CIRCD_CMD_WRITE_AFI: return "write-afi";
	case CIRCD_CMD_SET_EAS: return "set-eas";
	case CIRCD_CMD_SELECT_BIN: return "select-bin";
	case CIRCD_CMD_INTAKE: return "intake";
	case CIRCD_CMD_OUTPUT: return "output";
	default: return NULL;
	}
}

/* Take every queued command.  Nothing is emitted here (this also runs while
 * an emit is being retried): injections are queued and played by the loop. */
static void handle_commands(struct sim *s)
{
	struct circd_command cmd = { .struct_size = sizeof(cmd) };

	while (s->host->take_command(s->inst, &cmd) == 1) {
		char uid[2 * CIRCD_UID_MAX + 1];
		hex_encode(cmd.uid, cmd.uid_len <= CIRCD_UID_MAX ? cmd.uid_len : 0, uid);

		if (cmd.type == CIRCD_CMD_SIM_INJECT) {
			struct scn_action act;
			_cleanup_free_ char *why = NULL;
			if (scn_parse_action_line(cmd.text ? cmd.text : "", &act, &why) < 0) {
				s->host->log(s->inst, CIRCD_LOG_WARNING, "inject '%s': %s",
					     cmd.text ? cmd.text : "", why);
				s->host->command_done(s->inst, &cmd, -EINVAL, why);
				continue;
			}
			queue_injection(s, &act, 0, &cmd);
			continue;
		}
		const char *name = command_name(cmd.type);
		if (!name) {
			s->host->command_done(s->inst, &cmd, -EOPNOTSUPP, "unknown command");
			continue;
		}
		if ((cmd.type == CIRCD_CMD_WRITE_AFI || cmd.type == CIRCD_CMD_SET_EAS) &&
		    (cmd.uid_len == 0 || cmd.uid_len > CIRCD_UID_MAX)) {
			s->host->command_done(s->inst, &cmd, -EINVAL, "no tag uid");
			continue;
		}
		s->host->log(s->inst, CIRCD_LOG_INFO, "%s uid=%s value=%" PRId64 "%s%s", name,
			     uid, cmd.value, cmd.name ? " name=" : "", cmd.name ? cmd.name : "");
		if (cmd.type == CIRCD_CMD_WRITE_AFI)
			tag_state_set_afi(&s->tags, cmd.uid, cmd.uid_len, (uint8_t)cmd.value);
		else if (cmd.type == CIRCD_CMD_SET_EAS)
			tag_state_set_eas(&s->tags, cmd.uid, cmd.uid_len, cmd.value != 0);
		s->host->command_done(s->inst, &cmd, 0, NULL);
	}
}

/* ---- Emitting ---- */

/* Emit, retrying the same event while the core's queue is full. */
static int emit_retry(struct sim *s, const struct circd_event *ev)
{
	for (;;) {
		int r = s->host->emit(s->inst, ev);
		if (r != -ENOBUFS) {
			if (r < 0)
				s->host->log(s->inst, CIRCD_LOG_WARNING, "emit: %s", strerror(-r));
			return 0;
		}
		int w = s->host->wait(s->inst, -1, 0, 5);
		if (w > 0 && (w & CIRCD_WAKE_STOP))
			return -ECANCELED;
		if (w > 0 && (w & CIRCD_WAKE_COMMAND))
			handle_commands(s);
	}
}

static int emit_gone(struct sim *s, const struct pending_gone *g, uint64_t id)
{
	struct circd_event ev;

	circd_event_init(&ev, CIRCD_EV_TAG_GONE);
	ev.device_event_id = id;
	ev.antenna = g->antenna;
	memcpy(ev.uid, g->uid, g->uid_len);
	ev.uid_len = g->uid_len;
	return emit_retry(s, &ev);
}

/* Play one action.  `scenario` actions take the next device_event_id and
 * schedule their tag-gone on the virtual clock at vt_usec + dwell;
 * injections use id 0 and the monotonic clock. */
static int play_action(struct sim *s, const struct scn_action *a, bool scenario, uint64_t vt_usec)
{
	struct circd_event ev;
	static const uint32_t types[] = {
		[SCN_TAG_SEEN] = CIRCD_EV_TAG_SEEN, [SCN_TAG_GONE] = CIRCD_EV_TAG_GONE,
		[SCN_TAG] = CIRCD_EV_TAG_SEEN,	    [SCN_CARD] = CIRCD_EV_CARD_SEEN,
		[SCN_DROP] = CIRCD_EV_ITEM_DROP,    [SCN_GATE_PASS] = CIRCD_EV_GATE_PASS,
		[SCN_SENSOR] = CIRCD_EV_SENSOR,	    [SCN_INPUT] = CIRCD_EV_INPUT,
		[SCN_FAULT] = CIRCD_EV_FAULT,
	};
	uint64_t now = s->host->now_monotonic_usec();

	if (a->type == SCN_OFFLINE) {
		s->offline_until = now + scaled_usec(s, a->duration_ms * USEC_PER_MSEC);
		set_health(s, CIRCD_HEALTH_OFFLINE, "simulated outage");
		return 0;
	}
	circd_event_init(&ev, types[a->type]);
	ev.device_event_id = scenario ? s->next_id++ : 0;
	ev.antenna = a->antenna;
	memcpy(ev.uid, a->uid, a->uid_len);
	ev.uid_len = a->uid_len;
	ev.afi = a->afi;
	ev.dsfid = a->dsfid;
	ev.eas = a->eas;
	ev.direction = a->direction;
	ev.memory = a->mem;
	ev.memory_len = a->mem_len;
	ev.block_size = a->block_size;
	ev.item_id = a->item;
	ev.name = a->name;
	ev.value = a->value;
	ev.text = a->text;
	if (ev.type == CIRCD_EV_TAG_SEEN)
		tag_state_apply(&s->tags, ev.uid, ev.uid_len, &ev.afi, &ev.eas);
	if (a->type == SCN_FAULT) {
		set_health(s, CIRCD_HEALTH_DEGRADED, a->text && *a->text ? a->text : "fault");
		s->degraded_until = a->duration_ms ?
			now + scaled_usec(s, a->duration_ms * USEC_PER_MSEC) : 0;
	}
	int r = emit_retry(s, &ev);
	if (r < 0)
		return r;
	if (a->type == SCN_TAG) {
		if (scenario)
			heap_push(&s->gones, vt_usec + a->dwell_ms * USEC_PER_MSEC, a->uid,
				  a->uid_len, a->antenna);
		else
			heap_push(&s->injected_gones,
				  now + scaled_usec(s, a->dwell_ms * USEC_PER_MSEC), a->uid,
				  a->uid_len, a->antenna);
	}
	return 0;
}

/* Play the injections that are due (never while offline). */
static int play_injections(struct sim *s, uint64_t now)
{
	int r;

	while (s->n_inj > 0 && now >= s->offline_until) {
		struct injection in = s->inj[0];
		memmove(s->inj, s->inj + 1, --s->n_inj * sizeof(*s->inj));
		r = play_action(s, &in.act, false, 0);
		if (in.has_cmd)
			s->host->command_done(s->inst, &in.cmd, r < 0 ? r : 0, NULL);
		scn_action_clear(&in.act);
		if (r < 0)
			return r;
	}
	while (s->injected_gones.n > 0 && now >= s->offline_until &&
	       s->injected_gones.v[0].due <= now) {
		struct pending_gone g = heap_pop(&s->injected_gones);
		r = emit_gone(s, &g, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Wait until the monotonic `deadline` (0 = no waiting), serving commands,
 * injections and health timers meanwhile.  Returns -ECANCELED on stop. */
static int wait_until(struct sim *s, uint64_t deadline)
{
	for (;;) {
		uint64_t now = s->host->now_monotonic_usec();
		int r;

		update_health(s, now);
		r = play_injections(s, now);
		if (r < 0)
			return r;
		uint64_t due = deadline > s->offline_until ? deadline : s->offline_until;
		if (now >= due) {
			/* Playing as fast as possible: still look at stop and
			 * commands, and check in with the watchdog, now and then. */
			if (++s->fast_events % 256 != 0)
				return 0;
			int w = s->host->wait(s->inst, -1, 0, 0);
			if (w > 0 && (w & CIRCD_WAKE_STOP))
				return -ECANCELED;
			if (w > 0 && (w & CIRCD_WAKE_COMMAND))
				handle_commands(s);
			return 0;
		}
		uint64_t until = due;
		if (s->n_inj > 0 || s->injected_gones.n > 0) {
			uint64_t next = s->n_inj > 0 ? now : s->injected_gones.v[0].due;
			if (s->offline_until > next)
				next = s->offline_until;
			until = next < until ? next : until;
		}
		if (s->degraded_until && s->degraded_until < until)
			until = s->degraded_until;
		uint64_t ms = until > now ? (until - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC : 0;
		int w = s->host->wait(s->inst, -1, 0, ms > 1000 ? 1000 : (int)ms);
		if (w > 0 && (w & CIRCD_WAKE_STOP))
			return -ECANCELED;
		if (w > 0 && (w & CIRCD_WAKE_COMMAND))
			handle_commands(s);
	}
}

/* ---- Playback ---- */

static void generated_action(const struct sim *s, uint64_t i, struct scn_action *a)
{
	*a = (struct scn_action){ .type = SCN_TAG, .afi = -1, .dsfid = -1, .eas = -1,
				  .dwell_ms = 500, .uid_len = 8,
				  .uid = { 0xe0, 0x04, 0x01, 0x00, (uint8_t)(i >> 24),
					   (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i } };
	a->item = xasprintf("%s%08" PRIu64, s->gen_prefix, i);
}

/* One round: the scenario, then the generated load.  *end_vt is the
 * virtual time of the last event played. */
static int play_round(struct sim *s, uint64_t base, uint64_t *end_vt)
{
	const struct scenario *scn = &s->scn;
	size_t si = 0;
	uint64_t rep = 0, gi = 0, gen_base = 0, vt = 0;

	if (scn->n_steps > 0) {
		const struct scn_step *last = &scn->steps[scn->n_steps - 1];
		gen_base = (last->at_ms + (last->count - 1) * last->interval_ms) * USEC_PER_MSEC;
	}
	for (;;) {
		bool have_step = si < scn->n_steps || gi < s->gen_count;
		uint64_t vt_step = 0;
		if (si < scn->n_steps)
			vt_step = (scn->steps[si].at_ms + rep * scn->steps[si].interval_ms) *
				  USEC_PER_MSEC;
		else if (gi < s->gen_count)
			vt_step = gen_base + gi * s->gen_interval_usec;
		bool gone = s->gones.n > 0 && (!have_step || s->gones.v[0].due <= vt_step);
		if (!gone && !have_step)
			break;
		vt = gone ? s->gones.v[0].due : vt_step;
		int r = wait_until(s, s->speed > 0 ? base + scaled_usec(s, vt) : 0);
		if (r < 0)
			return r;

		if (gone) {
			struct pending_gone g = heap_pop(&s->gones);
			r = emit_gone(s, &g, s->next_id++);
		} else {
			struct scn_action a;
			if (si < scn->n_steps) {
				_cleanup_free_ char *why = NULL;
				const struct scn_step *st = &scn->steps[si];
				r = scn_step_action(st, rep, &a, &why);
				if (r < 0) { /* validated at load: cannot happen */
					s->host->log(s->inst, CIRCD_LOG_ERR, "line %u: %s",
						     st->line, why);
					return r;
				}
				if (++rep >= st->count) {
					rep = 0;
					si++;
				}
			} else {
				generated_action(s, gi++, &a);
			}
			r = play_action(s, &a, true, vt);
			scn_action_clear(&a);
		}
		if (r < 0)
			return r;
	}
	*end_vt = vt;
	return 0;
}

static int sim_run(void *state)
{
	struct sim *s = state;
	uint64_t base = s->host->now_monotonic_usec() + s->start_delay_usec;
	int r;

	r = wait_until(s, base);
	if (r < 0)
		return r == -ECANCELED ? 0 : r;
	set_health(s, CIRCD_HEALTH_OK, "playing");
	bool something = s->scn.n_steps > 0 || s->gen_count > 0;
	do {
		uint64_t end_vt = 0;
		r = play_round(s, base, &end_vt);
		if (r < 0)
			return r == -ECANCELED ? 0 : r; /* stop requested, or a bug */
		/* the next round starts where this one ended (at least 1 ms on) */
		base += scaled_usec(s, end_vt > USEC_PER_MSEC ? end_vt : USEC_PER_MSEC);
	} while (s->loop && something);

	/* Scenario done: stay available for injections and commands. */
	wait_until(s, UINT64_MAX);
	return 0;
}

/* ---- Lifecycle ---- */

static void sim_destroy(void *state)
{
	struct sim *s = state;

	if (!s)
		return;
	scenario_free(&s->scn);
	for (size_t i = 0; i < s->n_inj; i++)
		scn_action_clear(&s->inj[i].act);
	free(s->inj);
	free(s->gones.v);
	free(s->injected_gones.v);
	tag_state_free(&s->tags);
	free(s);
}

static int sim_create(struct circd_instance *inst, const struct circd_host_api *host, void **state)
{
	struct sim *s = xcalloc(1, sizeof(*s));
	const char *path = host->opt_string(inst, "scenario");
	int r;

	s->inst = inst;
	s->host = host;
	s->next_id = 1;
	s->loop = host->opt_bool(inst, "loop");
	s->speed = host->opt_float(inst, "speed");
	s->start_delay_usec = (uint64_t)host->opt_int(inst, "start_delay_ms") * USEC_PER_MSEC;
	s->gen_count = (uint64_t)host->opt_int(inst, "generate_count");
	s->gen_interval_usec = (uint64_t)host->opt_int(inst, "generate_interval_us");
	s->gen_prefix = host->opt_string(inst, "generate_prefix");
	if (!s->gen_prefix)
		s->gen_prefix = "SIM";
	if (!isfinite(s->speed) || s->speed < 0) {
		host->log(inst, CIRCD_LOG_ERR, "speed must be >= 0 (0 = as fast as possible)");
		sim_destroy(s);
		return -EINVAL;
	}
	if (path && *path) {
		_cleanup_free_ char *why = NULL;
		r = scenario_load(path, &s->scn, &why);
		if (r < 0) {
			host->log(inst, CIRCD_LOG_ERR, "%s", why ? why : "cannot load scenario");
			sim_destroy(s);
			return r == -ENOMEM ? r : -EINVAL;
		}
	}
	*state = s;
	return 0;
}

static const struct circd_option sim_options[] = {
	{ "scenario", CIRCD_OPT_STRING, NULL, 0, 0, 0, "scenario file to play (see etc/scenarios)" },
	{ "loop", CIRCD_OPT_BOOL, "false", 0, 0, 0, "play the scenario again and again" },
	{ "speed", CIRCD_OPT_FLOAT, "1.0", 0, 0, 0, "time factor; 0 = as fast as the core accepts" },
	{ "start_delay_ms", CIRCD_OPT_INT, "0", 0, 0, 86400000, "wait this long before playing" },
	{ "generate_count", CIRCD_OPT_INT, "0", 0, 0, 1000000000,
	  "after the scenario, this many synthetic tag events (load tests)" },
	{ "generate_interval_us", CIRCD_OPT_INT, "1000", 0, 0, 60000000,
	  "between generated tags; 0 = as fast as the core accepts" },
	{ "generate_prefix", CIRCD_OPT_STRING, "SIM", 0, 0, 0, "item id prefix of generated tags" },
	CIRCD_OPTION_END,
};

CIRCD_PLUGIN_DEFINE(sim, PACKAGE_VERSION, "simulated reader, gate, sensor and sorter",
		    CIRCD_KIND_READER | CIRCD_KIND_GATE_IO | CIRCD_KIND_SENSOR | CIRCD_KIND_SORTER,
		    sim_options, sim_create, sim_run, sim_destroy);
