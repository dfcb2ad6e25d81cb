/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugins/feig through the fake host against tests/emulators/feig_emulator.py,
 * over a pty pair (the emulator gets the master, the plugin opens the slave)
 * and over TCP on 127.0.0.1: tags arrive and leave, a write of the AFI is
 * verified, a write that does not take is refused, a noisy line is counted
 * and survived, and an unplugged reader comes back.  Each kind of spoiled
 * answer is counted where it belongs: bytes that make no good answer
 * (garbage, a truncated frame, a bad CRC) as bad frames, silence as a
 * timeout; the totals are in the DEGRADED reason and logged at stop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakehost.h"

#define UID_A "E004010012345601"
#define UID_B "E004010012345602"
#define UID_C "E004010012345603"
#define UID_D "E004010012345604"
#define UID_E "E004010012345605"
/* 4 blocks of 4 bytes as they sit on the tag ... */
#define MEM_A "01020304050607080910111213141516"
/* ... and the same 16 bytes as a FEIG reader returns them: each block
 * reversed.  The plugin reports them as read; the core reorders. */
static const uint8_t mem_a_as_read[16] = { 0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05,
					   0x12, 0x11, 0x10, 0x09, 0x16, 0x15, 0x14, 0x13 };

struct emu {
	pid_t pid;
	int master;        /* pty mode: the test's copy of the master */
	char spec[160];    /* what the plugin is given as `port` */
	char dir[64];
	char control[128], state[128];
};

static void emu_start(struct emu *e, bool tcp)
{
	char fdarg[16];
	int out[2] = { -1, -1 };

	memset(e, 0, sizeof(*e));
	e->master = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/test-feig-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->control, sizeof(e->control), "%s/control", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	close(open(e->control, O_WRONLY | O_CREAT | O_TRUNC, 0600));

	if (tcp) {
		assert_int_equal(pipe(out), 0);
	} else {
		struct termios raw;
		int slave;
		char name[128];
		memset(&raw, 0, sizeof(raw));
		cfmakeraw(&raw);
		assert_int_equal(openpty(&e->master, &slave, name, &raw, NULL), 0);
		close(slave); /* the plugin opens it by name */
		snprintf(e->spec, sizeof(e->spec), "serial:%s:38400:8E1", name);
		snprintf(fdarg, sizeof(fdarg), "%d", e->master);
	}
	const char *py = getenv("PYTHON3") ? getenv("PYTHON3") : "python3";
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		/* a failed assertion must not leave the emulator behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (tcp) {
			dup2(out[1], 1);
			execlp(py, py, EMULATOR, "--tcp", "0", "--control", e->control, "--state",
			       e->state, (char *)NULL);
		} else {
			execlp(py, py, EMULATOR, "--pty-fd", fdarg, "--control", e->control,
			       "--state", e->state, (char *)NULL);
		}
		_exit(127);
	}
	if (tcp) {
		char line[64] = "";
		FILE *f;
		close(out[1]);
		f = fdopen(out[0], "r");
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		unsigned port = 0;
		assert_int_equal(sscanf(line, "TCP %u", &port), 1);
		snprintf(e->spec, sizeof(e->spec), "tcp:127.0.0.1:%u", port);
	}
}

static void emu_stop(struct emu *e)
{
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, NULL, 0);
		e->pid = 0;
	}
	if (e->master >= 0)
		close(e->master);
	e->master = -1;
	char path[200];
	unlink(e->control);
	unlink(e->state);
	snprintf(path, sizeof(path), "%s.tmp", e->state);
	unlink(path);
	rmdir(e->dir);
}

static void emu_say(struct emu *e, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int fd = open(e->control, O_WRONLY | O_APPEND);

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	assert_true(fd >= 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
}

/* Wait until the emulator's state file contains `needle`. */
static bool emu_state_has(struct emu *e, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		char buf[4096] = "";
		FILE *f = fopen(e->state, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			fclose(f);
			if (strstr(buf, needle))
				return true;
		}
		usleep(10000);
	}
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "cat %s >&2", e->state);
	fprintf(stderr, "emulator state has no '%s':\n", needle);
	if (system(cmd) != 0)
		fprintf(stderr, "(no state file)\n");
	return false;
}

static void uid_bytes(const char *hex, uint8_t uid[8])
{
	for (int i = 0; i < 8; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		uid[i] = (uint8_t)v;
	}
}

/* Index of the first event of `type` for `uid` at or after `from`, or -1,
 * waiting up to timeout_ms for it. */
static long wait_event(struct fakehost *fh, uint32_t type, const char *uid_hex, size_t from,
		       int timeout_ms)
{
	uint8_t uid[8];

	uid_bytes(uid_hex, uid);
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		size_t n = fakehost_event_count(fh);
		for (size_t i = from; i < n; i++) {
			const struct circd_event *ev = fakehost_event(fh, i);
			if (ev->type == type && ev->uid_len == 8 && !memcmp(ev->uid, uid, 8))
				return (long)i;
		}
		usleep(10000);
	}
	return -1;
}

static size_t count_events(struct fakehost *fh, uint32_t type, const char *uid_hex)
{
	uint8_t uid[8];
	size_t c = 0;

	uid_bytes(uid_hex, uid);
	for (size_t i = 0; i < fakehost_event_count(fh); i++) {
		const struct circd_event *ev = fakehost_event(fh, i);
		c += ev->type == type && !memcmp(ev->uid, uid, 8);
	}
	return c;
}

/* Like wait_event, for a tag on one antenna. */
static long wait_event_at(struct fakehost *fh, uint32_t type, const char *uid_hex, int antenna,
			  size_t from, int timeout_ms)
{
	uint8_t uid[8];

	uid_bytes(uid_hex, uid);
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		size_t n = fakehost_event_count(fh);
		for (size_t i = from; i < n; i++) {
			const struct circd_event *ev = fakehost_event(fh, i);
			if (ev->type == type && ev->uid_len == 8 && !memcmp(ev->uid, uid, 8) &&
			    ev->antenna == antenna)
				return (long)i;
		}
		usleep(10000);
	}
	return -1;
}

/* The plugin with the test's usual options and `extra` (may be NULL). */
static struct fakehost *start_plugin_with(struct emu *e, const char *extra)
{
	struct fakehost *fh = fakehost_new();
	char port[200];

	snprintf(port, sizeof(port), "port=%s", e->spec);
	assert_int_equal(fakehost_load_plugin(fh, "feig"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ port, "poll_ms=20",
									 "gone_after=2", "blocks=4",
									 extra, NULL }),
			 0);
	assert_int_equal(fakehost_create(fh), 0);
	assert_int_equal(fakehost_start(fh), 0);
	return fh;
}

static struct fakehost *start_plugin(struct emu *e)
{
	return start_plugin_with(e, NULL);
}

static int output(struct fakehost *fh, const char *uid_hex, const char *name, int value,
		  const char *text, const char **detail)
{
	uint8_t uid[8];
	int status = 1;

	if (uid_hex)
		uid_bytes(uid_hex, uid);
	uint64_t id = fakehost_command(fh, CIRCD_CMD_OUTPUT, uid_hex ? uid : NULL,
				       uid_hex ? 8 : 0, value, name, text);
	assert_int_equal(fakehost_wait_command(fh, id, 3000, &status, detail), 0);
	return status;
}

static int write_afi(struct fakehost *fh, const char *uid_hex, int afi, const char **detail)
{
	uint8_t uid[8];
	int status = 1;

	uid_bytes(uid_hex, uid);
	uint64_t id = fakehost_command(fh, CIRCD_CMD_WRITE_AFI, uid, 8, afi, NULL, NULL);
	assert_int_equal(fakehost_wait_command(fh, id, 3000, &status, detail), 0);
	return status;
}

static void test_options(void **state)
{
	struct fakehost *fh = fakehost_new();

	assert_int_equal(fakehost_load_plugin(fh, "feig"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ NULL }), -EINVAL);
	fakehost_free(fh);

	fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "feig"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ "port=/dev/ttyS0", NULL }),
			 0);
	assert_true(fakehost_create(fh) < 0);
	assert_true(fakehost_log_contains(fh, "expected serial:"));
	fakehost_free(fh);
}

/* The whole life of a few tags on a serial reader. */
static void test_pty_story(void **state)
{
	struct emu e;
	const char *detail = NULL;

	emu_start(&e, false);
	/* four tags, three data sets per inventory answer: MORE is needed */
	emu_say(&e, "add " UID_A " dsfid=06 afi=07 mem=%s", MEM_A);
	emu_say(&e, "add " UID_B " dsfid=00 afi=C2");
	emu_say(&e, "add " UID_C " afi=07 bs=8");
	emu_say(&e, "add " UID_D);
	struct fakehost *fh = start_plugin(&e);

	long a = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000);
	assert_true(a >= 0);
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_D, 0, 3000) >= 0);
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_B, 0, 3000) >= 0);
	long c = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_C, 0, 3000);
	assert_true(c >= 0);
	const struct circd_event *ev = fakehost_event(fh, (size_t)a);
	assert_int_equal(ev->afi, 0x07);
	assert_int_equal(ev->dsfid, 0x06);
	assert_int_equal(ev->block_size, 4);
	assert_int_equal(ev->memory_len, sizeof(mem_a_as_read));
	assert_memory_equal(ev->memory, mem_a_as_read, sizeof(mem_a_as_read));
	ev = fakehost_event(fh, (size_t)c);
	assert_int_equal(ev->block_size, 8);
	assert_int_equal(ev->memory_len, 32);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 1000), 0);

	/* B leaves: GONE after two empty cycles; the others stay, read once */
	size_t mark = fakehost_event_count(fh);
	emu_say(&e, "remove " UID_B);
	assert_true(wait_event(fh, CIRCD_EV_TAG_GONE, UID_B, mark, 2000) >= 0);
	usleep(100000);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 1);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_GONE, UID_A), 0);

	/* check-in: AFI 0x07 (on shelf) written and read back */
	assert_int_equal(write_afi(fh, UID_D, 0x07, &detail), 0);
	assert_true(emu_state_has(&e, UID_D " afi=07", 1000));
	/* a write the tag acknowledges but does not keep: caught by read-back */
	emu_say(&e, "fault afi_ignored");
	usleep(50000);
	assert_int_equal(write_afi(fh, UID_D, 0xC2, &detail), -EIO);
	assert_non_null(detail);
	assert_non_null(strstr(detail, "read back"));
	/* a write the reader refuses */
	emu_say(&e, "fault write_error");
	usleep(50000);
	assert_int_equal(write_afi(fh, UID_D, 0xC2, &detail), -EIO);
	assert_non_null(strstr(detail, "write error"));
	/* and a tag that is not there */
	assert_int_equal(write_afi(fh, UID_B, 0xC2, &detail), -EIO);
	assert_true(emu_state_has(&e, UID_D " afi=07", 500));

	/* a noisy line: every kind of bad answer, counted, survived */
	emu_say(&e, "fault garbage 2");
	emu_say(&e, "fault badcrc 2");
	emu_say(&e, "fault truncated 2");
	emu_say(&e, "fault silent 1");
	emu_say(&e, "fault rf_error 3");
	/* 2 write faults above + these 10 */
	assert_true(emu_state_has(&e, "faults_taken=12\n", 5000));
	/* one RF reset at connect, one after three RF errors in a row */
	assert_true(emu_state_has(&e, "rf_resets=2", 1000));
	mark = fakehost_event_count(fh);
	emu_say(&e, "add " UID_E " afi=07");
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_E, mark, 5000) >= 0);
	assert_true(fakehost_log_contains(fh, "bad CRC"));
	assert_true(fakehost_log_contains(fh, "no answer"));
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 2000), 0);
	/* nothing in the field left behind by the noise */
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_GONE, UID_A), 0);

	/* the reader is unplugged: the pty's master goes away; a command
	 * meanwhile is refused, not left hanging */
	emu_stop(&e);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 3000), 0);
	assert_int_equal(write_afi(fh, UID_A, 0x07, &detail), -ENOTCONN);
	assert_int_equal(fakehost_stop(fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
}

/* A LAN reader: the same protocol over TCP, and a reconnect. */
static void test_tcp_story(void **state)
{
	struct emu e;
	const char *detail = NULL;

	emu_start(&e, true);
	emu_say(&e, "add " UID_A " dsfid=06 afi=07 mem=%s", MEM_A);
	struct fakehost *fh = start_plugin(&e);

	long a = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000);
	assert_true(a >= 0);
	assert_memory_equal(fakehost_event(fh, (size_t)a)->memory, mem_a_as_read,
			    sizeof(mem_a_as_read));
	assert_int_equal(write_afi(fh, UID_A, 0xC2, &detail), 0);
	assert_true(emu_state_has(&e, UID_A " afi=C2", 1000));

	/* unplugged for a while: OFFLINE, then back by itself */
	emu_say(&e, "unplug 400");
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 2000), 0);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 5000), 0);
	/* the tag stayed in the field: not reported twice, not gone */
	size_t mark = fakehost_event_count(fh);
	emu_say(&e, "remove " UID_A);
	assert_true(wait_event(fh, CIRCD_EV_TAG_GONE, UID_A, mark, 2000) >= 0);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 1);

	assert_int_equal(fakehost_stop(fh), 0);
	fakehost_free(fh);
	emu_stop(&e);
}

/* afi_filter: the reader's CFG4 filter is set in RAM (never EEPROM) and
 * only tags of that AFI are inventoried; a reader that refuses it reports
 * nothing (an unfiltered gate would alarm on every item) and says why. */
static void test_afi_filter(void **state)
{
	struct emu e;

	emu_start(&e, false);
	emu_say(&e, "add " UID_A " afi=07");
	emu_say(&e, "add " UID_B " afi=C2");
	emu_say(&e, "add " UID_C " afi=07");
	struct fakehost *fh = start_plugin_with(&e, "afi_filter=7");
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000) >= 0);
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_C, 0, 3000) >= 0);
	/* CFG4: ISO15693-MODE 0x09 | AFI (0x20) = 41, ISO15693-AFI 0x07 */
	assert_true(emu_state_has(&e, "cfg4_mode=41 cfg4_afi=7 eeprom_writes=0", 1000));
	/* the C2 tag (on loan) is never reported; its AFI changes to 07
	 * (checked in at another desk): now it is */
	usleep(150000);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_B), 0);
	emu_say(&e, "add " UID_B " afi=07");
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_B, 0, 3000) >= 0);
	/* and A, secured (AFI C2) elsewhere, leaves the filtered field */
	size_t mark = fakehost_event_count(fh);
	emu_say(&e, "add " UID_A " afi=C2");
	assert_true(wait_event(fh, CIRCD_EV_TAG_GONE, UID_A, mark, 2000) >= 0);
	assert_int_equal(fakehost_stop(fh), 0);
	fakehost_free(fh);
	emu_stop(&e);

	/* a reader that refuses the configuration write */
	emu_start(&e, false);
	emu_say(&e, "add " UID_A " afi=C2");
	emu_say(&e, "fault cfg_refused");
	fh = start_plugin_with(&e, "afi_filter=7");
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_DEGRADED, 3000), 0);
	assert_true(fakehost_log_contains(fh, "reader refuses the AFI filter"));
	usleep(150000);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 0);
	assert_int_equal(fakehost_stop(fh), 0);
	fakehost_free(fh);
	emu_stop(&e);
}

/* OUTPUT "rf": off at every antenna, inventories pause (nobody is reported
 * gone for it), on again; a bad value is refused. */
static void test_rf_output(void **state)
{
	struct emu e;
	const char *detail = NULL;

	emu_start(&e, true);
	emu_say(&e, "add " UID_A);
	struct fakehost *fh = start_plugin_with(&e, "rf_output=2");
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000) >= 0);
	assert_int_equal(output(fh, NULL, "rf", 0, NULL, &detail), 0);
	assert_true(emu_state_has(&e, " rf_output=0 ", 1000));
	usleep(200000);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_GONE, UID_A), 0);
	/* on: the antenna of option rf_output (2), where A is not */
	assert_int_equal(output(fh, NULL, "rf", 1, NULL, &detail), 0);
	assert_true(emu_state_has(&e, " rf_output=2 ", 1000));
	assert_true(wait_event(fh, CIRCD_EV_TAG_GONE, UID_A, 0, 2000) >= 0);
	assert_int_equal(output(fh, NULL, "rf", 2, NULL, &detail), -EINVAL);
	assert_int_equal(output(fh, NULL, "lamp", 1, NULL, &detail), -EOPNOTSUPP);
	assert_int_equal(fakehost_stop(fh), 0);
	assert_int_equal(fakehost_command_errors(fh), 0);
	fakehost_free(fh);
	emu_stop(&e);
}

/* OUTPUT "blocks": data in tag order, sent MSB first per block, verified
 * by reading back; what the tag then holds is in the emulator's state. */
static void test_write_blocks(void **state)
{
	struct emu e;
	const char *detail = NULL;

	emu_start(&e, false);
	emu_say(&e, "add " UID_A " mem=%s", MEM_A);
	emu_say(&e, "add " UID_C " bs=8");
	struct fakehost *fh = start_plugin(&e);
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000) >= 0);

	assert_int_equal(output(fh, UID_A, "blocks", 1, "A1A2A3A4B1B2B3B4", &detail), 0);
	assert_true(emu_state_has(&e, UID_A " afi=00 dsfid=00 eas=0 mem=01020304A1A2A3A4B1B2B3B413141516",
				  1000));
	/* an 8-byte-block tag takes 8-byte blocks */
	assert_int_equal(output(fh, UID_C, "blocks", 0, "0011223344556677", &detail), 0);
	assert_true(emu_state_has(&e, UID_C " afi=00 dsfid=00 eas=0 mem=0011223344556677", 1000));
	assert_int_equal(output(fh, UID_C, "blocks", 0, "00112233", &detail), -EINVAL);
	assert_non_null(strstr(detail, "whole 8-byte blocks"));
	/* a write the tag acknowledges but does not keep */
	emu_say(&e, "fault write_ignored");
	usleep(50000);
	assert_int_equal(output(fh, UID_A, "blocks", 0, "FFFFFFFF", &detail), -EIO);
	assert_non_null(strstr(detail, "read back"));
	/* a write the reader refuses */
	emu_say(&e, "fault write_error");
	usleep(50000);
	assert_int_equal(output(fh, UID_A, "blocks", 0, "FFFFFFFF", &detail), -EIO);
	assert_non_null(strstr(detail, "write error"));
	/* past the tag's end, bad hex, no UID */
	assert_int_equal(output(fh, UID_A, "blocks", 3, "0000000000000000", &detail), -EINVAL);
	assert_int_equal(output(fh, UID_A, "blocks", 0, "XYZ0", &detail), -EINVAL);
	assert_int_equal(output(fh, NULL, "blocks", 0, "00000000", &detail), -EINVAL);
	assert_true(emu_state_has(&e, UID_A " afi=00 dsfid=00 eas=0 mem=01020304A1A2A3A4B1B2B3B413141516",
				  500));
	assert_int_equal(fakehost_stop(fh), 0);
	fakehost_free(fh);
	emu_stop(&e);
}

/* antennas = "1,2": RF switched to each antenna before its inventory,
 * tags reported and aged per (UID, antenna). */
static void test_antennas(void **state)
{
	struct emu e;

	emu_start(&e, false);
	emu_say(&e, "add " UID_A " ant=1");
	emu_say(&e, "add " UID_B " ant=2");
	emu_say(&e, "add " UID_C " ant=1,2"); /* where two shelves meet */
	struct fakehost *fh = start_plugin_with(&e, "antennas=1,2");
	assert_true(wait_event_at(fh, CIRCD_EV_TAG_SEEN, UID_A, 1, 0, 3000) >= 0);
	assert_true(wait_event_at(fh, CIRCD_EV_TAG_SEEN, UID_B, 2, 0, 3000) >= 0);
	assert_true(wait_event_at(fh, CIRCD_EV_TAG_SEEN, UID_C, 1, 0, 3000) >= 0);
	assert_true(wait_event_at(fh, CIRCD_EV_TAG_SEEN, UID_C, 2, 0, 3000) >= 0);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 1);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_B), 1);

	/* C is pushed back onto shelf 2 only: gone from antenna 1 alone */
	size_t mark = fakehost_event_count(fh);
	emu_say(&e, "add " UID_C " ant=2");
	assert_true(wait_event_at(fh, CIRCD_EV_TAG_GONE, UID_C, 1, mark, 2000) >= 0);
	/* B moves from shelf 2 to shelf 1 */
	emu_say(&e, "add " UID_B " ant=1");
	assert_true(wait_event_at(fh, CIRCD_EV_TAG_GONE, UID_B, 2, mark, 2000) >= 0);
	assert_true(wait_event_at(fh, CIRCD_EV_TAG_SEEN, UID_B, 1, mark, 2000) >= 0);
	usleep(100000);
	assert_int_equal(wait_event_at(fh, CIRCD_EV_TAG_GONE, UID_C, 2, mark, 0), -1);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_GONE, UID_A), 0);
	assert_true(emu_state_has(&e, "antenna_switches=", 100));
	assert_int_equal(fakehost_stop(fh), 0);
	fakehost_free(fh);
	emu_stop(&e);

	/* antennas the protocol cannot switch are refused at create */
	const char *bad[] = { "antennas=1,3", "antennas=0", "antennas=1,,2", "antennas=2,2",
			      "antennas=1x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fh = fakehost_new();
		assert_int_equal(fakehost_load_plugin(fh, "feig"), 0);
		assert_int_equal(fakehost_set_options(fh, (const char *const[]){
								  "port=tcp:127.0.0.1:9", bad[i],
								  NULL }),
				 0);
		assert_true(fakehost_create(fh) < 0);
		assert_true(fakehost_log_contains(fh, "antennas = "));
		fakehost_free(fh);
	}
}

struct fault_case {
	const char *kind;  /* feig_emulator.py's fault KIND */
	const char *label; /* the plugin's debug line for one of them */
	bool silent;       /* counted as a timeout, not a bad frame */
};

#define FAULTS 3 /* DEGRADED_AFTER in feig_reader.c: three in a row */

/* Wait until the health history, from index `from`, has h. */
static bool health_since(struct fakehost *fh, size_t from, enum circd_health h, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		for (size_t i = from; i < fakehost_health_count(fh); i++)
			if (fakehost_health_at(fh, i) == h)
				return true;
		usleep(10000);
	}
	return false;
}

/* One kind of spoiled answer, FAULTS times in a row: each counted in its
 * own bucket and the other bucket left alone, in the debug lines, in the
 * DEGRADED reason and in the totals logged at stop. */
static void test_fault_split(void **state)
{
	const struct fault_case *fc = *state;
	struct emu e;
	char want[200];

	emu_start(&e, false);
	emu_say(&e, "add " UID_A " afi=07");
	/* A generous answer deadline: on a loaded machine a garbled answer that
	 * comes late must still count as garbled, not as missing. */
	struct fakehost *fh = start_plugin_with(&e, fc->silent ? "timeout_ms=300" : "timeout_ms=1000");
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000) >= 0);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 1000), 0);
	size_t from = fakehost_health_count(fh);

	emu_say(&e, "fault %s %d", fc->kind, FAULTS);
	snprintf(want, sizeof(want), "faults_taken=%d\n", FAULTS);
	assert_true(emu_state_has(&e, want, 5000));
	/* DEGRADED at the third, OK again with the first good answer */
	assert_true(health_since(fh, from, CIRCD_HEALTH_DEGRADED, 3000));
	assert_true(health_since(fh, from + 1, CIRCD_HEALTH_OK, 3000));
	assert_int_equal(fakehost_health_at(fh, from), CIRCD_HEALTH_DEGRADED);

	unsigned want_bad = fc->silent ? 0 : FAULTS, want_to = fc->silent ? FAULTS : 0;
	/* every error line names this kind, with the running totals */
	unsigned lines = 0;
	for (size_t i = 0; i < fakehost_log_count(fh); i++) {
		const char *l = fakehost_log(fh, i);
		if (!strstr(l, "; resynchronising"))
			continue;
		lines++;
		snprintf(want, sizeof(want), "debug: %s (bad frames %u, timeouts %u); resynchronising",
			 fc->label, fc->silent ? 0 : lines, fc->silent ? lines : 0);
		if (strcmp(l, want))
			fprintf(stderr, "got  '%s'\nwant '%s'\n", l, want);
		assert_string_equal(l, want);
	}
	assert_int_equal(lines, FAULTS);
	/* the split in the DEGRADED reason (the fake host logs every
	 * set_health() as "health N (reason)") */
	snprintf(want, sizeof(want),
		 "debug: health %d (reader answers badly or not at all (bad frames %u, "
		 "timeouts %u, RF errors 0))",
		 CIRCD_HEALTH_DEGRADED, want_bad, want_to);
	if (!fakehost_log_contains(fh, want))
		fprintf(stderr, "no log line '%s'\n", want);
	assert_true(fakehost_log_contains(fh, want));

	/* and the totals at info when it stops, and for metrics (ABI 1.5) */
	assert_int_equal(fakehost_stop(fh), 0);
	struct circd_device_counters c;
	fakehost_counters(fh, &c);
	assert_int_equal(c.bad_frames, want_bad);
	assert_int_equal(c.timeouts, want_to);
	assert_int_equal(c.device_errors, 0);
	snprintf(want, sizeof(want), "info: bad frames %u, timeouts %u, RF errors 0", want_bad,
		 want_to);
	unsigned totals = 0;
	for (size_t i = 0; i < fakehost_log_count(fh); i++)
		totals += !strcmp(fakehost_log(fh, i), want);
	if (totals != 1)
		fprintf(stderr, "%u log lines '%s'\n", totals, want);
	assert_int_equal(totals, 1);
	fakehost_free(fh);
	emu_stop(&e);
}

static const struct fault_case fault_garbage = { "garbage", "incomplete or garbled answer",
						 false };
static const struct fault_case fault_truncated = { "truncated", "incomplete or garbled answer",
						   false };
static const struct fault_case fault_badcrc = { "badcrc", "bad CRC", false };
static const struct fault_case fault_silent = { "silent", "no answer", true };

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_pty_story),
		cmocka_unit_test(test_tcp_story),
		cmocka_unit_test(test_afi_filter),
		cmocka_unit_test(test_rf_output),
		cmocka_unit_test(test_write_blocks),
		cmocka_unit_test(test_antennas),
		{ "test_fault_split_garbage", test_fault_split, NULL, NULL, (void *)&fault_garbage },
		{ "test_fault_split_truncated", test_fault_split, NULL, NULL, (void *)&fault_truncated },
		{ "test_fault_split_badcrc", test_fault_split, NULL, NULL, (void *)&fault_badcrc },
		{ "test_fault_split_silent", test_fault_split, NULL, NULL, (void *)&fault_silent },
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
