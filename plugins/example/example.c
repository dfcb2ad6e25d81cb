/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * example — the template for a new reader plugin.  Copy this file, rename
 * "example" everywhere, and replace the line protocol with your reader's.
 *
 * What it does: reads text lines from a serial port, pty or TCP socket
 * (option `device`, see "Talking to the device" below):
 *
 *     E004015012345678                   a tag entered the field
 *     E004015012345678 0011AABB afi=07   ... with its user memory in hex,
 *                                        and optionally afi=HH, eas=0|1
 *     -E004015012345678                  it left the field
 *
 * and reports them as CIRCD_EV_TAG_SEEN / CIRCD_EV_TAG_GONE on the antenna
 * given by option `antenna`.  When the device cannot be opened it reports
 * OFFLINE and tries again every second.
 *
 * It also secures and unsecures tags (CIRCD_CMD_WRITE_AFI, CIRCD_CMD_SET_EAS)
 * the way every reader plugin must: write, then read the tag back and
 * compare.  Requests are lines too; the reader answers each with one line
 * starting with '=' (done / the tag as read) or '!' (failed, and why):
 *
 *     afi E004015012345678 C2     ->  =ok
 *     eas E004015012345678 1      ->  =ok
 *     read E004015012345678       ->  =E004015012345678 afi=C2 eas=1
 *                                 or  !no such tag
 *
 * tests/emulators/example_emulator.py plays such a reader; the conformance
 * kit (tests/conformance/example.conf) runs this plugin against it.
 *
 * Talking to the device: the host opens it for us (host API 1.4,
 * host->stream_open()), from a transport spec:
 *
 *     serial:/dev/ttyUSB0:9600:8N1   a serial port (raw, exclusive); a bare
 *                                    /path means serial:/path (38400 8N1)
 *     tcp:192.0.2.7:10001            a TCP client
 *
 * so the plugin has no termios or socket code, and a reader on a serial
 * cable or behind a serial-to-Ethernet adapter is the same plugin.
 *
 * It uses nothing but <circd/plugin.h>, so it builds out of tree:
 *
 *     cc -shared -fPIC $(pkg-config --cflags circd-plugin) -o example.so example.c
 *
 * ABI rules, in the order a plugin meets them:
 *  1. Export exactly one symbol, the descriptor (CIRCD_PLUGIN_DEFINE at the
 *     bottom).  Everything else is `static`; the .pc file adds
 *     -fvisibility=hidden for anything you forget.
 *  2. create() runs on the daemon's main thread: read options, allocate,
 *     no blocking I/O.
 *  3. run() runs on a thread of its own and may block, but only inside
 *     host->wait(): that is where the daemon delivers stop requests and
 *     commands and where the watchdog sees the thread is alive.
 *  4. destroy() runs after run() has returned: free everything.
 */
#ifdef HAVE_CONFIG_H
#include "config.h" /* in-tree builds only; out of tree there is none */
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <circd/plugin.h>

#define REOPEN_MS 1000
#define CONNECT_MS 2000 /* how long a TCP connect may take */
#define ANSWER_MS 1000  /* how long a request may take the reader */
#define LINE_MAX_BYTES 1024

struct example {
	/* What create() gets and every host call needs. */
	struct circd_instance *inst;
	const struct circd_host_api *host;
	char spec[300];     /* the transport spec, from option `device` */
	int antenna;
	struct circd_stream *stream; /* NULL while offline */
	enum circd_health health;
	char line[LINE_MAX_BYTES];
	size_t len;
	/* The answer to the request in flight ('=' or '!' line), if any. */
	char answer[LINE_MAX_BYTES];
	bool answered;
};

/* Hex text to bytes; returns the byte count or -1.  (In-tree plugins use
 * lib/util's hex_decode(); the template stays self-contained.) */
static int parse_hex(const char *s, size_t n, uint8_t *out, size_t out_size)
{
	size_t i;

	if (n % 2 || n / 2 > out_size)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] << 4 | v : v);
	}
	return (int)(n / 2);
}

/*
 * emit() copies the event, so stack buffers are fine.  It returns -ENOBUFS
 * when the core's queue is full: the event was not taken, so wait a little
 * and offer the same event again.  Never drop an observation.
 * Returns -ECANCELED when the daemon asks us to stop meanwhile.
 */
static int emit_retry(struct example *e, const struct circd_event *ev)
{
	int r;

	while ((r = e->host->emit(e->inst, ev)) == -ENOBUFS) {
		int w = e->host->wait(e->inst, -1, 0, 10);
		if (w > 0 && (w & CIRCD_WAKE_STOP))
			return -ECANCELED;
	}
	return r;
}

/* One line from the reader: "UID[ MEMORY][ afi=HH][ eas=N]" or "-UID",
 * or the answer to our request ("=..." / "!..."). */
static int handle_line(struct example *e, char *line)
{
	struct circd_event ev;
	uint8_t mem[512];
	bool gone = line[0] == '-';
	char *save = NULL, *word;
	int n;

	if (line[0] == '=' || line[0] == '!') {
		/* Only one request is ever in flight: this answers it. */
		snprintf(e->answer, sizeof(e->answer), "%s", line);
		e->answered = true;
		return 0;
	}
	/* circd_event_init() sets every "not read" field (afi, dsfid, eas = -1)
	 * and struct_size, which tells the host which version of the struct
	 * we were built with.  Always start from it. */
	circd_event_init(&ev, gone ? CIRCD_EV_TAG_GONE : CIRCD_EV_TAG_SEEN);
	ev.antenna = e->antenna;
	word = strtok_r(line + gone, " ", &save);
	n = word ? parse_hex(word, strlen(word), ev.uid, sizeof(ev.uid)) : -1;
	if (n <= 0) {
		/* A bad frame is not fatal: log it and carry on with the next. */
		e->host->log(e->inst, CIRCD_LOG_WARNING, "ignoring line '%s': bad uid", line);
		return 0;
	}
	ev.uid_len = (uint8_t)n;
	while (!gone && (word = strtok_r(NULL, " ", &save))) {
		uint8_t v;
		if (!strncmp(word, "afi=", 4) && parse_hex(word + 4, strlen(word + 4), &v, 1) == 1) {
			ev.afi = v;
		} else if (!strcmp(word, "eas=0") || !strcmp(word, "eas=1")) {
			ev.eas = (int8_t)(word[4] - '0');
		} else if ((n = parse_hex(word, strlen(word), mem, sizeof(mem))) >= 0) {
			ev.memory = mem;
			ev.memory_len = (uint32_t)n;
		} else {
			e->host->log(e->inst, CIRCD_LOG_WARNING, "ignoring tag %s: bad field '%s'",
				     line + gone, word);
			return 0;
		}
	}
	/* device_event_id stays 0: this reader cannot number its observations
	 * in a way that survives a restart, so the core must not de-duplicate
	 * on it.  (The sim plugin can, and does.)  time_usec 0 means "now". */
	return emit_retry(e, &ev);
}

/* Health is what `circctl status` shows: report changes, say why in words. */
static void set_health(struct example *e, enum circd_health health, const char *why)
{
	if (e->health == health)
		return;
	e->health = health;
	if (health >= CIRCD_HEALTH_OFFLINE)
		e->host->log(e->inst, CIRCD_LOG_WARNING, "%s: %s", e->spec, why);
	e->host->set_health(e->inst, health, why);
}

static void close_device(struct example *e, const char *why)
{
	char reason[CIRCD_STREAM_REASON_MAX];

	snprintf(reason, sizeof(reason), "%s", why); /* `why` may live in the stream */
	e->host->stream_close(e->stream);
	e->stream = NULL;
	e->len = 0;
	set_health(e, CIRCD_HEALTH_OFFLINE, reason);
}

/* Open the device; on failure say why and stay offline (run() tries again
 * a second later).  A plugin that keeps its stream open across failures
 * can call host->stream_reopen() instead of closing and opening. */
static void open_device(struct example *e)
{
	char why[CIRCD_STREAM_REASON_MAX];
	int r = e->host->stream_open(e->inst, e->spec, CONNECT_MS, &e->stream, why, sizeof(why));

	if (r == -EINVAL) {
		/* A spec that can never work (a typo, an unsupported speed) is
		 * not a pulled cable: FAILED, and no more attempts. */
		set_health(e, CIRCD_HEALTH_FAILED, why);
		return;
	}
	if (r < 0) {
		set_health(e, CIRCD_HEALTH_OFFLINE, why);
		return;
	}
	e->host->log(e->inst, CIRCD_LOG_INFO, "reading %s", e->spec);
	set_health(e, CIRCD_HEALTH_OK, "device open");
}

/* Read what is there and handle every complete line. */
static int read_device(struct example *e)
{
	/* Timeout 0: wait() said there is something; never block here. */
	ssize_t n = e->host->stream_read(e->stream, e->line + e->len,
					 sizeof(e->line) - 1 - e->len, 0);

	if (n == 0)
		return 0;
	if (n < 0) {
		/* -EPIPE (the TCP peer or the pty's other side closed) or
		 * -EIO (the USB serial adapter was pulled): offline until
		 * reopened.  stream_reason() says it in words. */
		close_device(e, e->host->stream_reason(e->stream));
		return 0;
	}
	e->len += (size_t)n;
	char *start = e->line, *nl;
	while ((nl = memchr(start, '\n', e->len - (size_t)(start - e->line)))) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*start) {
			int r = handle_line(e, start);
			if (r < 0)
				return r;
		}
		start = nl + 1;
	}
	e->len -= (size_t)(start - e->line);
	memmove(e->line, start, e->len);
	if (e->len == sizeof(e->line) - 1) {
		e->host->log(e->inst, CIRCD_LOG_WARNING, "line too long: dropped");
		e->len = 0; /* resync at the next newline */
	}
	return 0;
}

/*
 * Send one request line ("...\n") and wait for its answer (the '=' or '!' line).
 * Tag lines that arrive meanwhile are handled as usual.  Waits only inside
 * host->wait(), so the watchdog and stop requests still get through.
 * Returns 0 with the answer in e->answer, or a negative errno.
 */
static int request(struct example *e, const char *req)
{
	size_t n = strlen(req);
	uint64_t deadline = e->host->now_monotonic_usec() + ANSWER_MS * 1000ull;

	if (!e->stream)
		return -ENOTCONN;
	e->answered = false;
	int r = e->host->stream_write_all(e->stream, req, n, ANSWER_MS);
	if (r < 0)
		return r;
	while (!e->answered) {
		uint64_t now = e->host->now_monotonic_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		int w = e->host->wait(e->inst, e->host->stream_fd(e->stream), POLLIN,
				      (int)((deadline - now) / 1000) + 1);
		if (w < 0)
			return w;
		if (w & CIRCD_WAKE_STOP)
			return -ECANCELED;
		if ((w & CIRCD_WAKE_FD) && read_device(e) < 0)
			return -ECANCELED;
		if (!e->stream)
			return -ENOTCONN; /* the reader went away meanwhile */
	}
	return 0;
}

/*
 * WRITE_AFI / SET_EAS: write, then read the tag back and compare.  A reader
 * may say "done" and not have written (a tag at the edge of the field):
 * only the read-back proves it, and command_done(0) promises exactly that.
 */
static void secure_tag(struct example *e, const struct circd_command *cmd)
{
	bool afi = cmd->type == CIRCD_CMD_WRITE_AFI;
	char uid[2 * CIRCD_UID_MAX + 1], req[64], want[16], detail[96];
	int r;

	if (cmd->uid_len == 0 || cmd->value < 0 || cmd->value > (afi ? 255 : 1)) {
		e->host->command_done(e->inst, cmd, -EINVAL, "need a UID and a valid value");
		return;
	}
	for (unsigned i = 0; i < cmd->uid_len; i++)
		snprintf(uid + 2 * i, 3, "%02X", cmd->uid[i]);
	if (afi)
		snprintf(req, sizeof(req), "afi %s %02X\n", uid, (unsigned)cmd->value);
	else
		snprintf(req, sizeof(req), "eas %s %d\n", uid, (int)cmd->value);
	r = request(e, req);
	if (r == 0 && e->answer[0] == '=') {
		snprintf(req, sizeof(req), "read %s\n", uid);
		r = request(e, req);
	}
	if (r < 0) {
		e->host->command_done(e->inst, cmd, r, strerror(-r));
		return;
	}
	if (e->answer[0] == '!') {
		e->host->command_done(e->inst, cmd, -EIO, e->answer + 1); /* the reader's reason */
		return;
	}
	/* The read-back: "=UID afi=HH eas=N" must show what we asked for. */
	if (afi)
		snprintf(want, sizeof(want), " afi=%02X", (unsigned)cmd->value);
	else
		snprintf(want, sizeof(want), " eas=%d", (int)cmd->value);
	if (!strstr(e->answer, want)) {
		snprintf(detail, sizeof(detail), "read back '%s', wanted%s", e->answer + 1, want);
		e->host->command_done(e->inst, cmd, -EIO, detail);
		return;
	}
	e->host->command_done(e->inst, cmd, 0, NULL);
}

/* Every command taken must be answered with command_done(), exactly once. */
static void handle_commands(struct example *e)
{
	struct circd_command cmd = { .struct_size = sizeof(cmd) };

	while (e->host->take_command(e->inst, &cmd) == 1) {
		if (cmd.type != CIRCD_CMD_WRITE_AFI && cmd.type != CIRCD_CMD_SET_EAS)
			e->host->command_done(e->inst, &cmd, -EOPNOTSUPP, "not a reader command");
		else if (!e->stream)
			e->host->command_done(e->inst, &cmd, -ENOTCONN, "reader offline");
		else
			secure_tag(e, &cmd);
	}
}

static int example_run(void *state)
{
	struct example *e = state;

	for (;;) {
		if (!e->stream && e->health != CIRCD_HEALTH_FAILED)
			open_device(e);
		/*
		 * The one place we block.  wait() returns when the stream's fd
		 * is readable (CIRCD_WAKE_FD), a command is queued, the daemon
		 * wants us to stop, or the timeout passes; calling it also
		 * tells the watchdog this thread is alive, so never block for
		 * long anywhere else.  Offline, the timeout paces the reopen.
		 * (stream_fd(NULL) is -1: no fd to watch.)
		 */
		int fd = e->host->stream_fd(e->stream);
		int w = e->host->wait(e->inst, fd, POLLIN, fd >= 0 ? 5000 : REOPEN_MS);
		if (w < 0)
			return w;
		if (w & CIRCD_WAKE_STOP)
			break; /* returning 0 after STOP is a clean shutdown */
		if (w & CIRCD_WAKE_COMMAND)
			handle_commands(e);
		if ((w & CIRCD_WAKE_FD) && e->stream && read_device(e) < 0)
			break; /* stop requested while the core was full */
	}
	handle_commands(e); /* answer what is still queued: -ECANCELED */
	return 0;
}

static int example_create(struct circd_instance *inst, const struct circd_host_api *host,
			  void **state)
{
	struct example *e;
	const char *device;

	/* The streams came with host API 1.4.  Check that the host's table
	 * reaches them before using them (an older circd's is shorter), and
	 * say plainly what is missing. */
	if (host->struct_size < offsetof(struct circd_host_api, stream_close) +
					sizeof(host->stream_close)) {
		host->log(inst, CIRCD_LOG_ERR,
			  "this circd (plugin ABI %u.%u) has no host->stream_open(); "
			  "the example plugin needs ABI 1.4", host->abi_major, host->abi_minor);
		return -EPROTONOSUPPORT;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->inst = inst;
	e->host = host;
	/* Options were validated against example_options before create():
	 * `device` is present, `antenna` is an integer in range. */
	device = host->opt_string(inst, "device");
	snprintf(e->spec, sizeof(e->spec), "%s%s", device[0] == '/' ? "serial:" : "", device);
	e->antenna = (int)host->opt_int(inst, "antenna");
	e->health = CIRCD_HEALTH_STARTING;
	*state = e;
	return 0;
}

static void example_destroy(void *state)
{
	struct example *e = state;

	e->host->stream_close(e->stream); /* NULL is fine */
	free(e);
}

/* The schema the host checks the config against: key, type, default,
 * flags, min, max, help.  Required options have no default. */
static const struct circd_option example_options[] = {
	{ "device", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0,
	  "the reader: serial:PATH[:SPEED[:8N1]] (or just /PATH) or tcp:HOST:PORT" },
	{ "antenna", CIRCD_OPT_INT, "1", 0, 0, 255, "antenna number reported with each tag" },
	CIRCD_OPTION_END,
};

/* The exported descriptor: name (as `plugin = "example"` in circd.conf),
 * version, description, kinds, options, create, run, destroy. */
CIRCD_PLUGIN_DEFINE(example, "1.1", "template reader: tag lines from a serial port or TCP",
		    CIRCD_KIND_READER, example_options, example_create, example_run,
		    example_destroy);
