/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reader-plugin conformance kit: one harness, any reader plugin, its
 * emulator.  For a driver file (driver.h) it loads the real plugin .so in
 * the fake host (tests/plugin-host), starts the real emulator process on a
 * pty pair and/or loopback TCP, and checks, over every transport listed:
 *
 *  schema     the plugin loads; its schema refuses a config without its
 *             required options, an unknown key and each bad_option, with
 *             a reason, and accepts the driver's good config;
 *  arrive     tags entering the field are reported TAG_SEEN once, with
 *             uid, afi (and dsfid, eas when reported) and user memory;
 *  leave      a tag leaving is reported TAG_GONE, the others are not;
 *  secure     WRITE_AFI on-loan / in-stock and SET_EAS off / on: status 0
 *             and the emulator's tag shows it; a write the emulator acks
 *             but ignores, one it refuses and one to an absent tag fail;
 *             commands it cannot do are refused with -EOPNOTSUPP;
 *  garbage    junk from the emulator: no crash, no false departure, and
 *             the plugin still sees tags and writes them afterwards;
 *  unplug     the device goes away: OFFLINE, commands refused meanwhile;
 *             back: OK, new tags seen, departures seen, and never a
 *             TAG_GONE without a TAG_SEEN before it;
 *  stop       run() returns 0 on WAKE_STOP, every command answered once,
 *             no option misused; destroy() frees all (run the kit under
 *             valgrind: tests/conformance/run-driver.sh does).
 *
 *   conformance DRIVER.conf...
 *   conformance --bench SECONDS [--field N] DRIVER.conf
 *
 * Environment: CIRCD_PLUGIN_DIR (plugins/.libs), top_srcdir (emulators are
 * looked up in $top_srcdir/tests/emulators), PYTHON3.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "driver.h"
#include "emulator.h"
#include "fakehost.h"
#include "util/util.h"

#define AFI_IN_STOCK 0x07 /* circd.conf's security defaults */
#define AFI_ON_LOAN 0xC2
#define T_SHORT 3000      /* ms: a command answer, a tag event */
#define T_LONG 10000      /* ms: a reconnect (backoff), a health change */
#define MEM16 "0102030405060708090A0B0C0D0E0F10"

struct tag {
	const char *uid, *add; /* 16 hex digits; its "add" options */
	int afi, eas;          /* as the kit last set them */
};

struct run {
	const struct driver *d;
	const char *transport;
	struct emulator emu;
	struct fakehost *fh;
	const char **opts; /* NULL-terminated, owned strings */
};

static unsigned failures;

static bool check(struct run *r, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool check(struct run *r, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s/%s: ", ok ? "ok  " : "FAIL", r->d->plugin, r->transport);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
	return ok;
}

#define CHECK(r, cond, ...)                          \
	do {                                         \
		if (!check(r, (cond), __VA_ARGS__)) \
			return -1;                   \
	} while (0)

static void uid_bytes(const char *hex, uint8_t uid[8])
{
	hex_decode(hex, uid, 8);
}

/* The first event of `type` for `uid` at index >= from, waiting for it. */
static long wait_event(struct fakehost *fh, uint32_t type, const char *uid_hex, size_t from,
		       int timeout_ms)
{
	uint8_t uid[8];

	uid_bytes(uid_hex, uid);
	for (int waited = 0;; waited += 10) {
		size_t n = fakehost_event_count(fh);
		for (size_t i = from; i < n; i++) {
			const struct circd_event *ev = fakehost_event(fh, i);
			if (ev->type == type && ev->uid_len == 8 && !memcmp(ev->uid, uid, 8))
				return (long)i;
		}
		if (waited >= timeout_ms)
			return -1;
		usleep(10000);
	}
}

static size_t count_events(struct fakehost *fh, uint32_t type, const char *uid_hex)
{
	uint8_t uid[8];
	size_t c = 0;

	uid_bytes(uid_hex, uid);
	for (size_t i = 0; i < fakehost_event_count(fh); i++) {
		const struct circd_event *ev = fakehost_event(fh, i);
		c += ev->type == type && ev->uid_len == 8 && !memcmp(ev->uid, uid, 8);
	}
	return c;
}

/* Every TAG_GONE follows a TAG_SEEN of the same uid: returns the index of
 * the first one that does not, or -1. */
static long orphan_gone(struct fakehost *fh)
{
	size_t n = fakehost_event_count(fh);
	for (size_t i = 0; i < n; i++) {
		const struct circd_event *ev = fakehost_event(fh, i);
		if (ev->type != CIRCD_EV_TAG_GONE)
			continue;
		int in_field = 0;
		for (size_t j = 0; j < i; j++) {
			const struct circd_event *p = fakehost_event(fh, j);
			if (p->uid_len == ev->uid_len && !memcmp(p->uid, ev->uid, ev->uid_len))
				in_field = p->type == CIRCD_EV_TAG_SEEN ? 1 :
					   p->type == CIRCD_EV_TAG_GONE ? 0 : in_field;
		}
		if (!in_field)
			return (long)i;
	}
	return -1;
}

/* Send a command and wait for its answer: its status, or 1 on no answer. */
static int command(struct run *r, uint32_t type, const char *uid_hex, int64_t value,
		   const char **detail)
{
	uint8_t uid[8];
	int status = 1;

	*detail = NULL;
	uid_bytes(uid_hex, uid);
	uint64_t id = fakehost_command(r->fh, type, uid, 8, value, NULL, NULL);
	if (fakehost_wait_command(r->fh, id, T_SHORT, &status, detail) < 0)
		return 1;
	return status;
}

static const char *why(const char *detail)
{
	return detail ? detail : "(no detail)";
}

/* The emulator's state shows the tag with afi/eas (-1 = don't care). */
static bool state_shows(struct run *r, const char *uid, int afi, int eas)
{
	for (int waited = 0; waited <= 1000; waited += 10) {
		int a, e;
		if (emulator_tag_state(&r->emu, uid, &a, &e) == 1 && (afi < 0 || a == afi) &&
		    (eas < 0 || e == eas))
			return true;
		usleep(10000);
	}
	return false;
}

/* ---- options ---- */

/* The driver's good options for this transport, placeholders filled. */
static const char **good_options(const struct driver *d, const struct driver_transport *t,
				 const char *device, unsigned port)
{
	const char **o = xcalloc(t->n_options + d->n_options + 1, sizeof(*o));
	size_t n = 0;

	for (size_t i = 0; i < t->n_options; i++)
		o[n++] = driver_expand(t->options[i], device, port);
	for (size_t i = 0; i < d->n_options; i++)
		o[n++] = xstrdup(d->options[i]);
	return o;
}

static void free_options(const char **o)
{
	for (size_t i = 0; o && o[i]; i++)
		free((char *)o[i]);
	free(o);
}

/* Good options with `bad` replacing the option of the same key. */
static const char **with_option(const char *const *good, const char *bad)
{
	size_t n = 0, k = 0, klen = strcspn(bad, "=");
	while (good[n])
		n++;
	const char **o = xcalloc(n + 2, sizeof(*o));
	for (size_t i = 0; i < n; i++)
		if (strncmp(good[i], bad, klen) || good[i][klen] != '=')
			o[k++] = good[i];
	o[k] = bad;
	return o;
}

static int check_schema(struct run *r)
{
	const struct driver *d = r->d;
	struct fakehost *fh = r->fh;
	bool required = false;
	int rc;

	rc = fakehost_load_plugin(fh, d->plugin);
	CHECK(r, rc == 0, "loads, descriptor checked%s%s", rc ? ": " : "", rc ? fakehost_error(fh) : "");
	CHECK(r, fakehost_plugin(fh)->kinds & CIRCD_KIND_READER, "declares CIRCD_KIND_READER");
	for (const struct circd_option *o = fakehost_plugin(fh)->options; o && o->key; o++)
		required |= (o->flags & CIRCD_OPT_REQUIRED) != 0;
	if (required) {
		rc = fakehost_set_options(fh, (const char *const[]){ NULL });
		CHECK(r, rc == -EINVAL && fakehost_error(fh)[0],
		      "no options: refused (%s)", fakehost_error(fh));
	}
	_cleanup_free_ const char **unknown = with_option(r->opts, "no_such_option=1");
	CHECK(r, fakehost_set_options(fh, unknown) == -EINVAL, "unknown option: refused (%s)",
	      fakehost_error(fh));
	for (size_t i = 0; i < d->n_bad_options; i++) {
		_cleanup_free_ const char **bad = with_option(r->opts, d->bad_options[i]);
		rc = fakehost_set_options(fh, bad);
		CHECK(r, rc == -EINVAL && fakehost_error(fh)[0], "bad_option %s: refused (%s)",
		      d->bad_options[i], rc == 0 ? "accepted!" : fakehost_error(fh));
	}
	rc = fakehost_set_options(fh, r->opts);
	CHECK(r, rc == 0, "the driver's options: accepted%s%s", rc ? ": " : "",
	      rc ? fakehost_error(fh) : "");
	return 0;
}

/* ---- the story ---- */

static int check_arrive(struct run *r, struct tag *a, struct tag *b)
{
	const struct driver *d = r->d;
	long ia, ib;

	CHECK(r, fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, T_LONG) == 0,
	      "health OK once connected");
	ia = wait_event(r->fh, CIRCD_EV_TAG_SEEN, a->uid, 0, T_SHORT);
	ib = wait_event(r->fh, CIRCD_EV_TAG_SEEN, b->uid, 0, T_SHORT);
	CHECK(r, ia >= 0 && ib >= 0, "TAG_SEEN for both tags in the field");
	const struct circd_event *ev = fakehost_event(r->fh, (size_t)ia);
	CHECK(r, ev->uid_len == 8, "uid of 8 bytes (%u)", ev->uid_len);
	CHECK(r, ev->afi == a->afi && fakehost_event(r->fh, (size_t)ib)->afi == b->afi,
	      "afi reported (0x%02X, 0x%02X)", (unsigned)ev->afi,
	      (unsigned)fakehost_event(r->fh, (size_t)ib)->afi);
	CHECK(r, ev->dsfid == -1 || ev->dsfid == 0x06, "dsfid 0x06 or not read (%d)", ev->dsfid);
	CHECK(r, ev->eas == -1 || ev->eas == a->eas, "eas %d or not read (%d)", a->eas, ev->eas);
	if (d->memory != MEMORY_NONE) {
		uint8_t want[16];
		hex_decode(MEM16, want, sizeof(want));
		if (d->memory == MEMORY_BLOCKS_REVERSED) {
			uint8_t tmp[16];
			for (unsigned i = 0; i < 16; i++)
				tmp[i] = want[i / d->block_size * d->block_size +
					      d->block_size - 1 - i % d->block_size];
			memcpy(want, tmp, sizeof(want));
		}
		CHECK(r, ev->memory && ev->memory_len >= 16 && !memcmp(ev->memory, want, 16),
		      "user memory as the reader returns it (%s, %u bytes)",
		      d->memory == MEMORY_AS_STORED ? "as stored" : "blocks reversed",
		      ev->memory_len);
	}
	usleep(200000);
	CHECK(r, count_events(r->fh, CIRCD_EV_TAG_SEEN, a->uid) == 1,
	      "a tag lingering in the field is reported once");
	return 0;
}

static int check_leave(struct run *r, struct tag *a, struct tag *b)
{
	size_t mark = fakehost_event_count(r->fh);

	emulator_say(&r->emu, "remove %s", b->uid);
	CHECK(r, wait_event(r->fh, CIRCD_EV_TAG_GONE, b->uid, mark, T_SHORT) >= 0,
	      "TAG_GONE when a tag leaves");
	CHECK(r, count_events(r->fh, CIRCD_EV_TAG_GONE, a->uid) == 0,
	      "no TAG_GONE for the tag that stayed");
	return 0;
}

static int secure_one(struct run *r, struct tag *t, uint32_t type, int value)
{
	const char *detail, *what = type == CIRCD_CMD_WRITE_AFI ? "WRITE_AFI" : "SET_EAS";
	int status = command(r, type, t->uid, value, &detail);
	bool afi = type == CIRCD_CMD_WRITE_AFI;

	CHECK(r, status == 0, "%s %s 0x%02X: done%s%s", what, t->uid, value,
	      status ? ": " : "", status ? why(detail) : "");
	CHECK(r, state_shows(r, t->uid, afi ? value : -1, afi ? -1 : value),
	      "%s 0x%02X: the emulator's tag shows it", what, value);
	*(afi ? &t->afi : &t->eas) = value;
	return 0;
}

static int refused(struct run *r, struct tag *t, uint32_t type, int value, const char *fault,
		   const char *how)
{
	const char *detail, *what = type == CIRCD_CMD_WRITE_AFI ? "WRITE_AFI" : "SET_EAS";
	bool afi = type == CIRCD_CMD_WRITE_AFI;

	if (fault)
		emulator_say(&r->emu, "fault %s", fault);
	usleep(50000); /* the emulator reads its control file every 10 ms */
	int status = command(r, type, t->uid, value, &detail);
	CHECK(r, status < 0, "%s %s: reported failed (%d %s)", what, how, status, why(detail));
	CHECK(r, state_shows(r, t->uid, afi ? t->afi : -1, afi ? -1 : t->eas),
	      "%s %s: the tag is unchanged", what, how);
	return 0;
}

static int check_secure(struct run *r, struct tag *a, struct tag *b)
{
	const struct driver *d = r->d;
	const char *detail;
	int status;

	if (d->write_afi) {
		if (secure_one(r, a, CIRCD_CMD_WRITE_AFI, AFI_ON_LOAN) < 0 ||
		    secure_one(r, a, CIRCD_CMD_WRITE_AFI, AFI_IN_STOCK) < 0 ||
		    refused(r, a, CIRCD_CMD_WRITE_AFI, AFI_ON_LOAN, "afi_ignored",
			    "acked but not written") < 0 ||
		    refused(r, a, CIRCD_CMD_WRITE_AFI, AFI_ON_LOAN, "write_error",
			    "refused by the reader") < 0)
			return -1;
		status = command(r, CIRCD_CMD_WRITE_AFI, b->uid, AFI_ON_LOAN, &detail);
		CHECK(r, status < 0, "WRITE_AFI to a tag not in the field: failed (%d %s)", status,
		      why(detail));
	} else {
		status = command(r, CIRCD_CMD_WRITE_AFI, a->uid, AFI_ON_LOAN, &detail);
		CHECK(r, status == -EOPNOTSUPP, "WRITE_AFI: -EOPNOTSUPP (%d %s)", status, why(detail));
	}
	if (d->set_eas) {
		if (secure_one(r, a, CIRCD_CMD_SET_EAS, 0) < 0 ||
		    secure_one(r, a, CIRCD_CMD_SET_EAS, 1) < 0 ||
		    refused(r, a, CIRCD_CMD_SET_EAS, 0, "eas_ignored", "acked but not written") < 0)
			return -1;
	} else {
		status = command(r, CIRCD_CMD_SET_EAS, a->uid, 0, &detail);
		CHECK(r, status == -EOPNOTSUPP, "SET_EAS: -EOPNOTSUPP (%d %s)", status, why(detail));
	}
	status = command(r, CIRCD_CMD_SELECT_BIN, a->uid, 1, &detail);
	CHECK(r, status < 0 && status != 1, "SELECT_BIN (not a reader's): refused (%d %s)", status,
	      why(detail));
	return 0;
}

static int check_garbage(struct run *r, struct tag *a, struct tag *c)
{
	long before = emulator_counter(&r->emu, "faults_taken");
	const char *detail;

	CHECK(r, before >= 0, "the emulator counts faults_taken");
	emulator_say(&r->emu, "fault garbage 2");
	bool taken = false;
	for (int waited = 0; waited <= T_LONG && !taken; waited += 10) {
		taken = emulator_counter(&r->emu, "faults_taken") >= before + 2;
		usleep(10000);
	}
	CHECK(r, taken, "two garbage answers sent");
	size_t mark = fakehost_event_count(r->fh);
	emulator_say(&r->emu, "add %s %s", c->uid, c->add);
	CHECK(r, wait_event(r->fh, CIRCD_EV_TAG_SEEN, c->uid, mark, T_LONG) >= 0,
	      "after garbage: a new tag is seen");
	int status = command(r, CIRCD_CMD_WRITE_AFI, c->uid, AFI_IN_STOCK, &detail);
	CHECK(r, !r->d->write_afi || status == 0, "after garbage: WRITE_AFI works (%d %s)", status,
	      why(detail));
	CHECK(r, !fakehost_run_returned(r->fh, NULL), "after garbage: run() still running");
	CHECK(r, count_events(r->fh, CIRCD_EV_TAG_GONE, a->uid) == 0,
	      "after garbage: no false TAG_GONE");
	c->afi = AFI_IN_STOCK;
	return 0;
}

static int check_unplug(struct run *r, struct tag *a, struct tag *c, struct tag *d_)
{
	const char *detail;
	int status;

	if (r->emu.kind == TRANSPORT_TCP) {
		emulator_say(&r->emu, "unplug 600");
		CHECK(r, fakehost_wait_health(r->fh, CIRCD_HEALTH_OFFLINE, T_LONG) == 0,
		      "connection dropped: health OFFLINE");
	} else {
		CHECK(r, emulator_unplug(&r->emu) == 0, "unplugged %s", r->emu.error);
		CHECK(r, fakehost_wait_health(r->fh, CIRCD_HEALTH_OFFLINE, T_LONG) == 0,
		      "device gone: health OFFLINE");
		status = command(r, CIRCD_CMD_WRITE_AFI, a->uid, AFI_ON_LOAN, &detail);
		CHECK(r, status < 0, "a command while offline fails at once (%d %s)", status,
		      why(detail));
		char *field[2] = {
			xasprintf("add %s %s afi=%02X eas=%d", a->uid, a->add, a->afi, a->eas),
			xasprintf("add %s %s afi=%02X eas=%d", c->uid, c->add, c->afi, c->eas),
		};
		usleep(300000);
		int rc = emulator_replug(&r->emu, (const char *const *)field, 2);
		free(field[0]);
		free(field[1]);
		CHECK(r, rc == 0, "plugged back in %s", r->emu.error);
	}
	CHECK(r, fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, T_LONG) == 0,
	      "reconnected: health OK");
	size_t mark = fakehost_event_count(r->fh);
	emulator_say(&r->emu, "add %s %s", d_->uid, d_->add);
	CHECK(r, wait_event(r->fh, CIRCD_EV_TAG_SEEN, d_->uid, mark, T_LONG) >= 0,
	      "reconnected: a new tag is seen");
	emulator_say(&r->emu, "remove %s", a->uid);
	CHECK(r, wait_event(r->fh, CIRCD_EV_TAG_GONE, a->uid, mark, T_LONG) >= 0,
	      "reconnected: a tag that leaves is reported gone");
	long orphan = orphan_gone(r->fh);
	CHECK(r, orphan < 0, "every TAG_GONE follows a TAG_SEEN (%ld events, first orphan %ld)",
	      (long)fakehost_event_count(r->fh), orphan);
	if (r->d->write_afi) {
		status = command(r, CIRCD_CMD_WRITE_AFI, c->uid, AFI_ON_LOAN, &detail);
		CHECK(r, status == 0, "reconnected: WRITE_AFI works (%d %s)", status, why(detail));
	}
	return 0;
}

static int check_stop(struct run *r)
{
	int rc = fakehost_stop(r->fh);

	CHECK(r, rc == 0, "stop: run() returns 0%s%s", rc ? ": " : "", rc ? fakehost_error(r->fh) : "");
	CHECK(r, fakehost_command_errors(r->fh) == 0, "every command answered exactly once");
	CHECK(r, fakehost_option_misuse(r->fh) == 0, "no undeclared or mistyped option asked for");
	return 0;
}

static int story(struct run *r)
{
	/* A: stays (secured, unsecured); B: leaves; C: arrives after garbage;
	 * D: arrives after the reconnect. */
	struct tag a = { "E0040100C0FFEE01", "dsfid=06 mem=" MEM16, 0x07, 1 };
	struct tag b = { "E0040100C0FFEE02", "dsfid=06 mem=" MEM16, 0xC2, 0 };
	struct tag c = { "E0040100C0FFEE03", "dsfid=06 mem=" MEM16, 0x00, 0 };
	struct tag d = { "E0040100C0FFEE04", "dsfid=06 mem=" MEM16, 0x00, 0 };

	emulator_say(&r->emu, "add %s %s afi=%02X eas=%d", a.uid, a.add, a.afi, a.eas);
	emulator_say(&r->emu, "add %s %s afi=%02X eas=%d", b.uid, b.add, b.afi, b.eas);
	int rc = fakehost_create(r->fh);
	CHECK(r, rc == 0, "create()%s%s", rc ? ": " : "", rc ? fakehost_error(r->fh) : "");
	CHECK(r, fakehost_start(r->fh) == 0, "run() started");
	if (check_arrive(r, &a, &b) < 0 || check_leave(r, &a, &b) < 0 ||
	    check_secure(r, &a, &b) < 0 || check_garbage(r, &a, &c) < 0 ||
	    check_unplug(r, &a, &c, &d) < 0)
		return -1;
	return check_stop(r);
}

static int run_transport(const struct driver *d, const struct driver_transport *t)
{
	struct run r = { .d = d, .transport = transport_name(t->kind) };
	int rc = -1;

	r.fh = fakehost_new();
	if (emulator_start(&r.emu, d, t->kind) < 0) {
		check(&r, false, "emulator %s: %s", d->emulator, r.emu.error);
		goto out;
	}
	r.opts = good_options(d, t, r.emu.link, r.emu.port);
	if (check_schema(&r) == 0)
		rc = story(&r);
out:
	if (rc < 0 && getenv("CONFORMANCE_VERBOSE"))
		for (size_t i = 0; i < fakehost_log_count(r.fh); i++)
			fprintf(stderr, "  log: %s\n", fakehost_log(r.fh, i));
	fakehost_free(r.fh); /* stops run() first if a check failed half-way */
	emulator_stop(&r.emu);
	free_options(r.opts);
	return rc;
}

/* ---- benchmark ---- */

static uint64_t cpu_usec(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/*
 * A field of `field` tags, each replaced by a new one as soon as the plugin
 * reports it: tags per second through the plugin, and the CPU time of this
 * process (the plugin's thread, the fake host, this loop) per tag.
 */
static int bench(const struct driver *d, double seconds, unsigned field)
{
	const struct driver_transport *t = &d->transports[0];
	struct run r = { .d = d, .transport = transport_name(t->kind) };
	unsigned next = 0;
	size_t scanned = 0, tags = 0;
	int rc = -1;

	r.fh = fakehost_new();
	if (emulator_start(&r.emu, d, t->kind) < 0) {
		fprintf(stderr, "emulator: %s\n", r.emu.error);
		goto out;
	}
	r.opts = good_options(d, t, r.emu.link, r.emu.port);
	for (size_t i = 0; i < d->n_bench_options; i++) {
		const char **o = with_option(r.opts, d->bench_options[i]);
		for (size_t k = 0; r.opts[k]; k++) /* free what was replaced */
			if (!strncmp(r.opts[k], d->bench_options[i],
				     strcspn(d->bench_options[i], "=") + 1))
				free((char *)r.opts[k]);
		for (size_t k = 0; o[k]; k++)
			if (o[k] == d->bench_options[i])
				o[k] = xstrdup(o[k]);
		free(r.opts);
		r.opts = o;
	}
	for (; next < field; next++)
		emulator_say(&r.emu, "add E00401BE%08X mem=" MEM16, next);
	if (fakehost_load_plugin(r.fh, d->plugin) < 0 || fakehost_set_options(r.fh, r.opts) < 0 ||
	    fakehost_create(r.fh) < 0 || fakehost_start(r.fh) < 0 ||
	    fakehost_wait_events(r.fh, field, T_LONG) < 0) {
		fprintf(stderr, "%s: no start: %s\n", d->plugin, fakehost_error(r.fh));
		goto out;
	}
	uint64_t t0 = now_monotonic_usec(), c0 = cpu_usec(), end = t0 + (uint64_t)(seconds * 1e6);
	while (now_monotonic_usec() < end) {
		fakehost_wait_events(r.fh, scanned + 1, 100);
		for (size_t n = fakehost_event_count(r.fh); scanned < n; scanned++) {
			const struct circd_event *ev = fakehost_event(r.fh, scanned);
			if (ev->type != CIRCD_EV_TAG_SEEN || ev->uid_len != 8)
				continue;
			char uid[17];
			hex_encode(ev->uid, 8, uid);
			if (scanned >= field)
				tags++; /* the first field is the warm-up */
			emulator_say(&r.emu, "remove %s", uid);
			emulator_say(&r.emu, "add E00401BE%08X mem=" MEM16, next++);
		}
	}
	uint64_t t1 = now_monotonic_usec(), c1 = cpu_usec();
	printf("plugin=%s transport=%s field=%u tags=%zu seconds=%.3f cpu_usec=%llu\n", d->plugin,
	       r.transport, field, tags, (double)(t1 - t0) / 1e6, (unsigned long long)(c1 - c0));
	rc = 0;
out:
	fakehost_free(r.fh);
	emulator_stop(&r.emu);
	free_options(r.opts);
	return rc;
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	_cleanup_free_ char *emu_dir = xasprintf("%s/tests/emulators", top);
	double bench_seconds = 0;
	unsigned field = 8;
	int i = 1;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--field") && i + 1 < argc)
			field = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--bench SECONDS [--field N]] DRIVER.conf...\n",
				argv[0]);
			return 2;
		}
	}
	if (i == argc) {
		fprintf(stderr, "%s: no driver file\n", argv[0]);
		return 2;
	}
	for (; i < argc; i++) {
		struct driver d;
		char *error = NULL;
		if (driver_load(&d, argv[i], emu_dir, &error) < 0) {
			printf("FAIL %s\n", error);
			free(error);
			driver_free(&d);
			failures++;
			continue;
		}
		if (bench_seconds > 0) {
			if (bench(&d, bench_seconds, field ? field : 1) < 0)
				failures++;
		} else {
			for (size_t k = 0; k < d.n_transports; k++)
				run_transport(&d, &d.transports[k]);
		}
		driver_free(&d);
	}
	if (!bench_seconds)
		printf("%u failed\n", failures);
	return failures ? 1 : 0;
}
