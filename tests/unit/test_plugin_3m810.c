/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugins/3m810 through the fake host against tests/emulators/m3m_emulator.py,
 * over a pty pair (the emulator gets the master, the plugin opens the slave)
 * and over TCP on 127.0.0.1: tags arrive and leave and are read once, their
 * memory (written with lib/tags) decodes, AFI and EAS writes are verified by
 * reading back (and retried: a write that does not take once succeeds on the
 * next attempt, one that never takes fails with a clear detail), so are
 * block writes (OUTPUT "blocks"), every kind
 * of noise on the line is counted and survived, and an unplugged reader goes
 * OFFLINE and comes back by itself.  Plus the frame codec against the spec's
 * BCC vector and the resynchronising scanner.
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
#include "m3m_frame.h"
#include "tags/tag.h"

#define UID_A "E004010012345601"
#define UID_B "E004010012345602"
#define UID_C "E004010012345603"
#define UID_D "E004010012345604"
#define UID_E "E004010012345605"
#define BLOCKS 9 /* 36 bytes: a whole 34-byte ISO 28560-3 basic block */

/* ---- The frame codec ---- */

static void test_bcc_vector(void **state)
{
	/* spec §4: D6 00 09 03 00 02 00 00 00 03 -> BCC 12 E6 */
	static const uint8_t body[] = { 0x00, 0x09, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03 };
	static const uint8_t whole[] = { 0xD6, 0x00, 0x09, 0x03, 0x00, 0x02, 0x00,
					 0x00, 0x00, 0x03, 0x12, 0xE6 };
	uint8_t out[32];

	assert_int_equal(m3m_crc16(body, sizeof(body)), 0x12E6);
	assert_int_equal(m3m_frame_encode(0x03, body + 3, sizeof(body) - 3, out, sizeof(out)),
			 (int)sizeof(whole));
	assert_memory_equal(out, whole, sizeof(whole));
	/* rfid.md §4.2: inventory and version requests */
	static const uint8_t inv[] = { 0xD6, 0x00, 0x05, 0xFE, 0x00, 0x05, 0xFA, 0x40 };
	assert_int_equal(m3m_frame_encode(0xFE, (const uint8_t[]){ 0x00, 0x05 }, 2, out,
					  sizeof(out)),
			 (int)sizeof(inv));
	assert_memory_equal(out, inv, sizeof(inv));
	static const uint8_t ver[] = { 0xD6, 0x00, 0x03, 0x11, 0x64, 0x20 };
	assert_int_equal(m3m_frame_encode(0x11, NULL, 0, out, sizeof(out)), (int)sizeof(ver));
	assert_memory_equal(out, ver, sizeof(ver));
	assert_int_equal(m3m_frame_encode(0x11, NULL, 0, out, 5), -EMSGSIZE);
}

static void test_scan(void **state)
{
	/* an answer: Get AFI, no error, UID, AFI DA (spec §7.10) */
	uint8_t data[] = { 0x00, 0xE0, 0x07, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0xDA };
	uint8_t frame[32], buf[64];
	struct m3m_scan scan;
	struct m3m_answer a;
	int n = m3m_frame_encode(0x0A, data, sizeof(data), frame, sizeof(frame));

	assert_int_equal(n, 3 + 0x0D);
	assert_int_equal(m3m_answer_decode(frame, (size_t)n, &a), 0);
	assert_int_equal(a.cmd, 0x0A);
	assert_int_equal(a.error, 0);
	int afi = -1;
	assert_int_equal(m3m_parse_uid_byte(a.data, a.data_len, data + 1, &afi), 0);
	assert_int_equal(afi, 0xDA);

	/* noise, a start byte claiming 64 bytes, then the frame: found */
	static const uint8_t noise[] = { 0x13, 0x37, 0xD6, 0x00, 0x40, 0xFE };
	memcpy(buf, noise, sizeof(noise));
	memcpy(buf + sizeof(noise), frame, (size_t)n);
	assert_int_equal(m3m_frame_scan(buf, sizeof(noise) + (size_t)n, &scan), 1);
	assert_int_equal(scan.skip, sizeof(noise));
	assert_int_equal(scan.frame_len, (size_t)n);
	assert_int_equal(scan.rejected, 1);
	/* the frame cut short: nothing yet, the noise before D6 can go */
	assert_int_equal(m3m_frame_scan(buf, sizeof(noise) + 5, &scan), 0);
	assert_int_equal(scan.skip, 2);
	/* a damaged BCC: no frame, and said so */
	frame[n - 1] ^= 0x5A;
	assert_int_equal(m3m_frame_scan(frame, (size_t)n, &scan), 0);
	assert_true(scan.bad_crc);
	assert_int_equal(scan.skip, (size_t)n);
	assert_int_equal(m3m_answer_decode(frame, (size_t)n, &a), -EILSEQ);
}

/* ---- The emulator ---- */

struct emu {
	pid_t pid;
	int master;        /* pty mode: the test's copy of the master */
	char spec[160];    /* what the plugin is given as `port` */
	char dir[64];
	char control[128], state[128];
};

/* What a test left running when an assertion failed: the teardown stops it. */
static struct emu *running_emu;
static struct fakehost *running_fh;

static void emu_start(struct emu *e, bool tcp)
{
	char fdarg[16];
	int out[2] = { -1, -1 };

	memset(e, 0, sizeof(*e));
	running_emu = e;
	e->master = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/test-3m810-XXXXXX");
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
		/* no speed: the plugin fills in the 3M default, 19200 8N1 */
		snprintf(e->spec, sizeof(e->spec), "serial:%s", name);
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
	if (running_emu == e)
		running_emu = NULL;
	if (!e->dir[0])
		return;
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
	e->dir[0] = '\0';
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

/* ---- Helpers ---- */

static void uid_bytes(const char *hex, uint8_t uid[8])
{
	for (int i = 0; i < 8; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		uid[i] = (uint8_t)v;
	}
}

/* An ISO 28560-3 tag for `item`, as hex for the emulator's mem=. */
static void encode_tag(const char *item, char *hex, size_t hex_size)
{
	struct tag_item in;
	struct tag_encode_options eo = { .block_size = 4, .pad_to = BLOCKS * 4 };
	uint8_t mem[64];
	size_t len = 0;

	tag_item_init(&in);
	snprintf(in.primary_id, sizeof(in.primary_id), "%s", item);
	snprintf(in.owner_isil, sizeof(in.owner_isil), "DK761500");
	assert_int_equal(tag_encode_28560_3(&in, &eo, mem, sizeof(mem), &len), 0);
	assert_int_equal(len, BLOCKS * 4);
	assert_true(hex_size > 2 * len);
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02X", mem[i]);
}

/* The item id decoded from what the plugin reported. */
static void assert_decodes_to(const struct circd_event *ev, const char *item)
{
	struct tag_item out;
	struct tag_decode_options o = { .block_size = ev->block_size };

	assert_non_null(ev->memory);
	assert_int_equal(tag_decode(ev->memory, ev->memory_len, ev->dsfid, &o, &out), 0);
	assert_int_equal(out.model, TAG_MODEL_ISO28560_3);
	/* the 3M protocol returns the blocks as they are on the tag */
	assert_int_equal(out.byte_order, TAG_ORDER_AS_READ);
	assert_string_equal(out.primary_id, item);
	assert_string_equal(out.owner_isil, "DK761500");
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

static bool health_was(struct fakehost *fh, enum circd_health h)
{
	for (size_t i = 0; i < fakehost_health_count(fh); i++)
		if (fakehost_health_at(fh, i) == h)
			return true;
	return false;
}

/* A host of an older ABI minor when minor > 0. */
static struct fakehost *start_plugin_minor(struct emu *e, unsigned minor)
{
	struct fakehost *fh = fakehost_new();
	char port[200];

	if (minor)
		assert_int_equal(fakehost_set_host_abi_minor(fh, minor), 0);

	snprintf(port, sizeof(port), "port=%s", e->spec);
	assert_int_equal(fakehost_load_plugin(fh, "3m810"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ port, "poll_ms=20",
									 "gone_after=2",
									 "blocks=9", "retries=3",
									 "timeout_ms=200",
									 "max_timeouts=3", NULL }),
			 0);
	running_fh = fh;
	assert_int_equal(fakehost_create(fh), 0);
	assert_int_equal(fakehost_start(fh), 0);
	return fh;
}

static struct fakehost *start_plugin(struct emu *e)
{
	return start_plugin_minor(e, 0);
}

static struct circd_device_counters counters(struct fakehost *fh)
{
	struct circd_device_counters c;
	fakehost_counters(fh, &c);
	return c;
}

static int command(struct fakehost *fh, uint32_t type, const char *uid_hex, int value,
		   const char **detail)
{
	uint8_t uid[8];
	int status = 1;

	uid_bytes(uid_hex, uid);
	uint64_t id = fakehost_command(fh, type, uid, 8, value, NULL, NULL);
	assert_int_equal(fakehost_wait_command(fh, id, 5000, &status, detail), 0);
	return status;
}

static int write_blocks(struct fakehost *fh, const char *uid_hex, int first, const char *hex,
			const char **detail)
{
	uint8_t uid[8];
	int status = 1;

	uid_bytes(uid_hex, uid);
	uint64_t id = fakehost_command(fh, CIRCD_CMD_OUTPUT, uid, 8, first, "blocks", hex);
	assert_int_equal(fakehost_wait_command(fh, id, 5000, &status, detail), 0);
	return status;
}

#define write_afi(fh, uid, afi, detail) command(fh, CIRCD_CMD_WRITE_AFI, uid, afi, detail)
#define set_eas(fh, uid, on, detail) command(fh, CIRCD_CMD_SET_EAS, uid, on, detail)

/* ---- Tests ---- */

static void test_options(void **state)
{
	struct fakehost *fh = fakehost_new();

	assert_int_equal(fakehost_load_plugin(fh, "3m810"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ NULL }), -EINVAL);
	fakehost_free(fh);

	fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "3m810"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ "port=/dev/ttyUSB0", NULL }),
			 0);
	assert_true(fakehost_create(fh) < 0);
	assert_true(fakehost_log_contains(fh, "expected serial:"));
	fakehost_free(fh);

	fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "3m810"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ "port=tcp:127.0.0.1:1",
									 "retries=0", NULL }),
			 -EINVAL);
	fakehost_free(fh);
}

/* The whole life of a few tags on a serial reader. */
static void test_pty_story(void **state)
{
	static struct emu e; /* static: the teardown may still need it */
	const char *detail = NULL;
	char mem_a[128], mem_b[128];

	encode_tag("30012345", mem_a, sizeof(mem_a));
	encode_tag("30067890", mem_b, sizeof(mem_b));
	emu_start(&e, false);
	emu_say(&e, "add " UID_A " dsfid=3E afi=07 eas=1 mem=%s", mem_a);
	emu_say(&e, "add " UID_B " afi=C2 mem=%s", mem_b);
	emu_say(&e, "add " UID_C " afi=07 bs=8"); /* blank, 8-byte blocks */
	emu_say(&e, "add " UID_D " mem=00112233"); /* a one-block tag */
	struct fakehost *fh = start_plugin(&e);

	long a = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000);
	assert_true(a >= 0);
	long b = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_B, 0, 3000);
	assert_true(b >= 0);
	long c = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_C, 0, 3000);
	assert_true(c >= 0);
	long d = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_D, 0, 3000);
	assert_true(d >= 0);
	const struct circd_event *ev = fakehost_event(fh, (size_t)a);
	assert_int_equal(ev->afi, 0x07);
	assert_int_equal(ev->dsfid, 0x3E);
	assert_int_equal(ev->eas, 1);
	assert_int_equal(ev->antenna, 0);
	assert_int_equal(ev->block_size, 4);
	assert_int_equal(ev->memory_len, BLOCKS * 4);
	assert_decodes_to(ev, "30012345");
	ev = fakehost_event(fh, (size_t)b);
	assert_int_equal(ev->afi, 0xC2);
	assert_int_equal(ev->eas, 0);
	assert_decodes_to(ev, "30067890");
	ev = fakehost_event(fh, (size_t)c);
	assert_int_equal(ev->block_size, 8);
	assert_int_equal(ev->memory_len, BLOCKS * 8);
	ev = fakehost_event(fh, (size_t)d); /* the tag said its size: one block read */
	assert_int_equal(ev->memory_len, 4);
	assert_memory_equal(ev->memory, "\x00\x11\x22\x33", 4);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 1000), 0);

	/* B leaves: GONE after two empty cycles; the others stay, read once */
	size_t mark = fakehost_event_count(fh);
	emu_say(&e, "remove " UID_B);
	assert_true(wait_event(fh, CIRCD_EV_TAG_GONE, UID_B, mark, 2000) >= 0);
	usleep(100000);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 1);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_GONE, UID_A), 0);
	/* and comes back: a new arrival, read again */
	emu_say(&e, "add " UID_B " afi=C2 mem=%s", mem_b);
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_B, mark, 2000) >= 0);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_B), 2);

	/* check-in: AFI 0x07 written and read back */
	assert_int_equal(write_afi(fh, UID_B, 0x07, &detail), 0);
	assert_true(emu_state_has(&e, UID_B " afi=07", 1000));
	/* a write the tag acknowledges but does not keep, once: the retry
	 * writes it, and the log says so */
	emu_say(&e, "fault afi_ignored");
	usleep(50000);
	assert_int_equal(write_afi(fh, UID_B, 0xC2, &detail), 0);
	assert_true(emu_state_has(&e, UID_B " afi=C2", 1000));
	assert_true(fakehost_log_contains(fh, "written on attempt 2"));
	/* ... never keeps: caught by the read-back, a clear detail */
	emu_say(&e, "fault afi_ignored 3");
	usleep(50000);
	assert_int_equal(write_afi(fh, UID_B, 0x07, &detail), -EIO);
	assert_non_null(detail);
	assert_non_null(strstr(detail, "after 3 attempts"));
	assert_non_null(strstr(detail, "read back AFI 0xc2, wanted 0x07"));
	assert_true(emu_state_has(&e, UID_B " afi=C2", 500));
	/* a write the reader refuses every time */
	emu_say(&e, "fault write_error 3");
	usleep(50000);
	assert_int_equal(write_afi(fh, UID_B, 0x07, &detail), -EIO);
	assert_non_null(strstr(detail, "memory not written (0x16)"));
	/* and a tag that is not there */
	assert_int_equal(write_afi(fh, UID_E, 0x07, &detail), -EIO);
	assert_non_null(strstr(detail, "no transponder"));
	assert_true(emu_state_has(&e, UID_B " afi=C2", 500));

	/* tag programming: new memory, written block-wise and read back */
	char mem_new[128], needle[160];
	encode_tag("30099999", mem_new, sizeof(mem_new));
	assert_int_equal(write_blocks(fh, UID_B, 0, mem_new, &detail), 0);
	snprintf(needle, sizeof(needle), "mem=%s\n", mem_new);
	assert_true(emu_state_has(&e, needle, 1000));
	assert_int_equal(write_blocks(fh, UID_B, 8, "0102030405", &detail), -EINVAL);
	assert_int_equal(write_blocks(fh, UID_B, 8, "zz", &detail), -EINVAL);
	emu_say(&e, "fault write_error 3");
	usleep(50000);
	assert_int_equal(write_blocks(fh, UID_B, 8, "01020304", &detail), -EIO);
	assert_non_null(strstr(detail, "block write not confirmed after 3 attempts"));
	assert_non_null(strstr(detail, "memory not written"));
	assert_true(emu_state_has(&e, needle, 500));

	/* EAS: off and on, each confirmed by Check EAS */
	assert_int_equal(set_eas(fh, UID_A, 0, &detail), 0);
	assert_true(emu_state_has(&e, UID_A " afi=07 dsfid=3E eas=0", 1000));
	assert_int_equal(set_eas(fh, UID_A, 1, &detail), 0);
	assert_true(emu_state_has(&e, UID_A " afi=07 dsfid=3E eas=1", 1000));
	emu_say(&e, "fault eas_ignored 3");
	usleep(50000);
	assert_int_equal(set_eas(fh, UID_A, 0, &detail), -EIO);
	assert_non_null(strstr(detail, "read back EAS 1, wanted 0"));
	/* "EAS 0" of a tag that is gone is not taken for a success */
	assert_int_equal(set_eas(fh, UID_E, 0, &detail), -EIO);
	assert_non_null(strstr(detail, "no transponder"));
	assert_int_equal(set_eas(fh, UID_A, 2, &detail), -EINVAL);

	/* a noisy line: every kind of bad answer, counted, survived */
	/* 1 + 3 + 3 + 3 + 3 so far */
	assert_true(emu_state_has(&e, "faults_taken=13\n", 1000));
	struct circd_device_counters c0 = counters(fh);
	emu_say(&e, "fault garbage 2");
	emu_say(&e, "fault badcrc 2");
	emu_say(&e, "fault truncated 2");
	emu_say(&e, "fault silent 2");
	emu_say(&e, "fault error 3");
	assert_true(emu_state_has(&e, "faults_taken=24\n", 5000));
	mark = fakehost_event_count(fh);
	emu_say(&e, "add " UID_E " afi=07");
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_E, mark, 5000) >= 0);
	assert_true(fakehost_log_contains(fh, "bad BCC"));
	assert_true(fakehost_log_contains(fh, "incomplete or garbled answer"));
	assert_true(fakehost_log_contains(fh, "no answer"));
	/* ... and given to the host's set_counters() (ABI 1.5): 2 garbage (a
	 * start byte passed over each time), 2 bad BCC, 2 truncated = at
	 * least 6 bad frames; 2 silences; 3 error answers to the inventory */
	struct circd_device_counters c1 = counters(fh);
	assert_true(fakehost_counter_calls(fh) > 0);
	assert_true(c1.bad_frames >= c0.bad_frames + 6);
	assert_true(c1.timeouts >= c0.timeouts + 2);
	assert_true(c1.device_errors > c0.device_errors &&
		    c1.device_errors <= c0.device_errors + 3);
	assert_int_equal(c1.reconnects, c0.reconnects);
	/* six bad answers in a row made it DEGRADED; good ones make it OK */
	assert_true(health_was(fh, CIRCD_HEALTH_DEGRADED));
	assert_false(health_was(fh, CIRCD_HEALTH_OFFLINE));
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 2000), 0);
	/* nothing in the field left behind by the noise, nothing read twice */
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_GONE, UID_A), 0);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 1);

	/* the cable is out for a while: no answers at all -> OFFLINE, then
	 * back by itself; the tags were there all along */
	emu_say(&e, "unplug 1200");
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 3000), 0);
	assert_true(fakehost_log_contains(fh, "no answer to 3 requests in a row"));
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 5000), 0);
	/* the three silences, and the port opened again with an answer */
	struct circd_device_counters c2 = counters(fh);
	assert_true(c2.timeouts >= c1.timeouts + 3);
	assert_true(c2.reconnects >= c1.reconnects + 1);
	assert_true(c2.bad_frames >= c1.bad_frames);
	usleep(100000);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 1);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_GONE, UID_A), 0);

	/* the reader is gone for good: the pty's master closes; a command
	 * meanwhile is refused, not left hanging */
	emu_stop(&e);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 3000), 0);
	assert_int_equal(write_afi(fh, UID_A, 0x07, &detail), -ENOTCONN);
	assert_int_equal(fakehost_stop(fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
	running_fh = NULL;
}

/* A serial-to-Ethernet converter: the same protocol over TCP, and a reconnect. */
static void test_tcp_story(void **state)
{
	static struct emu e; /* static: the teardown may still need it */
	const char *detail = NULL;
	char mem_a[128];

	encode_tag("30012345", mem_a, sizeof(mem_a));
	emu_start(&e, true);
	emu_say(&e, "add " UID_A " afi=07 mem=%s", mem_a);
	struct fakehost *fh = start_plugin(&e);

	long a = wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000);
	assert_true(a >= 0);
	assert_decodes_to(fakehost_event(fh, (size_t)a), "30012345");
	assert_int_equal(fakehost_event(fh, (size_t)a)->eas, 0);
	/* check-out: AFI 0xC2, EAS off; check-in: 0x07, EAS on */
	assert_int_equal(write_afi(fh, UID_A, 0xC2, &detail), 0);
	assert_true(emu_state_has(&e, UID_A " afi=C2", 1000));
	assert_int_equal(set_eas(fh, UID_A, 1, &detail), 0);
	assert_true(emu_state_has(&e, UID_A " afi=C2 dsfid=00 eas=1", 1000));
	emu_say(&e, "fault afi_ignored 1");
	usleep(50000);
	assert_int_equal(write_afi(fh, UID_A, 0x07, &detail), 0);
	assert_true(emu_state_has(&e, UID_A " afi=07 dsfid=00 eas=1", 1000));
	struct circd_device_counters c0 = counters(fh);
	emu_say(&e, "fault garbage 1");
	emu_say(&e, "fault badcrc 1");
	assert_true(emu_state_has(&e, "faults_taken=3\n", 3000));

	/* unplugged for a while: connection reset, OFFLINE, then back */
	emu_say(&e, "unplug 400");
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 2000), 0);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 5000), 0);
	/* both bad answers counted (the health went through OFFLINE after
	 * them), and the reconnect */
	struct circd_device_counters c1 = counters(fh);
	assert_true(c1.bad_frames >= c0.bad_frames + 2);
	assert_true(c1.reconnects >= c0.reconnects + 1);
	/* the tag stayed in the field: not reported twice, not gone */
	size_t mark = fakehost_event_count(fh);
	emu_say(&e, "remove " UID_A);
	assert_true(wait_event(fh, CIRCD_EV_TAG_GONE, UID_A, mark, 2000) >= 0);
	assert_int_equal(count_events(fh, CIRCD_EV_TAG_SEEN, UID_A), 1);

	assert_int_equal(fakehost_stop(fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
	running_fh = NULL;
	emu_stop(&e);
}

/* A host older than ABI 1.5 has no set_counters(): the plugin counts
 * (its logs say so) and never calls past the end of the host's table. */
static void test_old_host(void **state)
{
	static struct emu e; /* static: the teardown may still need it */
	char mem_a[128];

	encode_tag("30012345", mem_a, sizeof(mem_a));
	emu_start(&e, false);
	struct fakehost *fh = start_plugin_minor(&e, 4);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OK, 3000), 0);
	emu_say(&e, "fault badcrc 1");
	assert_true(emu_state_has(&e, "faults_taken=1\n", 3000));
	emu_say(&e, "add " UID_A " afi=07 mem=%s", mem_a);
	assert_true(wait_event(fh, CIRCD_EV_TAG_SEEN, UID_A, 0, 3000) >= 0);
	assert_true(fakehost_log_contains(fh, "bad BCC"));
	assert_int_equal(fakehost_counter_calls(fh), 0);

	assert_int_equal(fakehost_stop(fh), 0);
	fakehost_free(fh);
	running_fh = NULL;
	emu_stop(&e);
}

/* After a failed assertion: stop the plugin and the emulator, remove the
 * temporary directory. */
static int cleanup(void **state)
{
	if (running_fh)
		fakehost_free(running_fh);
	running_fh = NULL;
	if (running_emu)
		emu_stop(running_emu);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcc_vector),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_options),
		cmocka_unit_test_teardown(test_pty_story, cleanup),
		cmocka_unit_test_teardown(test_tcp_story, cleanup),
		cmocka_unit_test_teardown(test_old_host, cleanup),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
