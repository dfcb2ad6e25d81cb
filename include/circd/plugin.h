/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circd plugin ABI — the one header a plugin author needs.
 *
 * A plugin is a shared object that exports exactly one data symbol,
 * `circd_plugin_descriptor`, built with CIRCD_PLUGIN_DEFINE().  The host
 * checks the descriptor (magic, ABI major/minor, struct size), validates the
 * plugin's options against the schema it declares, and only then calls
 * create().  From then on the plugin sees the daemon only through the host
 * API table it is given: it never touches SQLite, sd-event or another plugin.
 *
 * Threads: every device and upstream instance gets one worker thread of its
 * own.  run() executes there and may block in I/O; it must call
 * host->wait() (or host->heartbeat()) regularly, because the systemd watchdog
 * is only fed while every worker has checked in recently.  All host functions
 * are thread-safe unless noted.
 *
 * Compatibility rules (append-only):
 *  - ABI major changes when anything existing changes meaning or layout;
 *    the host refuses plugins of another major.
 *  - ABI minor grows when fields or host functions are appended; a plugin
 *    built against a newer minor than the host is refused, an older one is
 *    fine (the host reads struct_size before touching appended fields).
 */
#ifndef CIRCD_PLUGIN_H
#define CIRCD_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <circd/event.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CIRCD_PLUGIN_MAGIC "CIRCDPLG" /* 8 bytes, no terminator needed */
#define CIRCD_PLUGIN_ABI_MAJOR 1
#define CIRCD_PLUGIN_ABI_MINOR 5
#define CIRCD_PLUGIN_SYMBOL "circd_plugin_descriptor"

/* What a plugin can be; a plugin may declare several. */
enum circd_plugin_kind {
	CIRCD_KIND_READER = 1u << 0,   /* RFID item/patron tag reader */
	CIRCD_KIND_GATE_IO = 1u << 1,  /* gate alarm outputs, pass beams */
	CIRCD_KIND_SENSOR = 1u << 2,   /* light curtains, fill levels, shelf sensors */
	CIRCD_KIND_SORTER = 1u << 3,   /* book-drop conveyor / bin selection */
	CIRCD_KIND_UPSTREAM = 1u << 4, /* forwards transactions (SIP2, MQTT, JSON lines) */
};

/* ---- Option schema: the host validates config against it before create() ---- */

enum circd_option_type {
	CIRCD_OPT_STRING = 1,
	CIRCD_OPT_INT,   /* 64-bit signed; min/max checked when min < max */
	CIRCD_OPT_BOOL,
	CIRCD_OPT_FLOAT,
	CIRCD_OPT_LIST,  /* a list of strings (ABI 1.3): the value is the strings joined
			  * by '\n'; a single string in the file is a one-element list */
};

enum circd_option_flags {
	CIRCD_OPT_REQUIRED = 1u << 0, /* no default: the config must give it */
	CIRCD_OPT_SECRET = 1u << 1,   /* never logged or shown by circctl */
};

struct circd_option {
	const char *key;
	enum circd_option_type type;
	const char *default_value; /* as text ("38400", "true"); NULL = none */
	uint32_t flags;
	int64_t min, max;          /* for CIRCD_OPT_INT, used when min < max */
	const char *help;          /* one line, shown by circd --list-plugins */
};

#define CIRCD_OPTION_END { NULL, 0, NULL, 0, 0, 0, NULL }

/* ---- Opaque handles owned by the host ---- */

struct circd_instance; /* one configured device or upstream */
struct circd_stream;   /* ABI 1.4: a byte stream to a device (host->stream_open) */

/* Room for the reason stream_open() gives when it fails. */
#define CIRCD_STREAM_REASON_MAX 160

/* ---- Error counters (ABI 1.5) ---- */

/*
 * What a device plugin counts about its link to the device: running totals
 * since the plugin instance was created (create()), never going down.
 * struct_size comes first and the struct only ever grows at the end; set
 * it to sizeof(struct circd_device_counters).  Given to host->set_counters().
 */
struct circd_device_counters {
	uint32_t struct_size;
	uint64_t bad_frames;    /* answers or messages that did not parse: bad
				 * checksum, bad length, garbage, wrong answer */
	uint64_t timeouts;      /* requests the device did not answer in time */
	uint64_t device_errors; /* the device answered with an error status */
	uint64_t reconnects;    /* the link was lost and opened again */
};

/* ---- Health ---- */

enum circd_health {
	CIRCD_HEALTH_STARTING = 0,
	CIRCD_HEALTH_OK,
	CIRCD_HEALTH_DEGRADED, /* works, with trouble (retries, bad frames) */
	CIRCD_HEALTH_OFFLINE,  /* cable pulled, peer unreachable; reconnecting */
	CIRCD_HEALTH_FAILED,   /* gave up; needs an administrator */
};

enum circd_log_level {
	CIRCD_LOG_ERR = 3,
	CIRCD_LOG_WARNING = 4,
	CIRCD_LOG_NOTICE = 5,
	CIRCD_LOG_INFO = 6,
	CIRCD_LOG_DEBUG = 7,
};

/* host->wait() result bits */
enum circd_wake {
	CIRCD_WAKE_TIMEOUT = 0,
	CIRCD_WAKE_FD = 1u << 0,      /* the fd passed to wait() is ready */
	CIRCD_WAKE_COMMAND = 1u << 1, /* host->take_command() has something */
	CIRCD_WAKE_STOP = 1u << 2,    /* leave run() now */
	CIRCD_WAKE_SUBMIT = 1u << 3,  /* upstreams: a transaction is queued */
};

/*
 * The host API.  struct_size comes first and the table only ever grows at
 * the end: check struct_size before calling a function added in a later
 * minor version.
 */
struct circd_host_api {
	uint32_t struct_size;
	uint16_t abi_major, abi_minor;

	/* Logging with the instance's fields (CIRCD_DEVICE=, CIRCD_PLUGIN=). */
	void (*log)(struct circd_instance *inst, enum circd_log_level level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void (*logv)(struct circd_instance *inst, enum circd_log_level level,
		     const char *fmt, va_list ap);

	/* Validated options, defaults applied.  Strings live as long as the
	 * instance.  Asking for an undeclared key or the wrong type is a bug in
	 * the plugin: it is logged and the zero value returned. */
	const char *(*opt_string)(struct circd_instance *inst, const char *key);
	int64_t (*opt_int)(struct circd_instance *inst, const char *key);
	bool (*opt_bool)(struct circd_instance *inst, const char *key);
	double (*opt_float)(struct circd_instance *inst, const char *key);
	/* true when the config set the key (as opposed to its default) */
	bool (*opt_given)(struct circd_instance *inst, const char *key);

	/* The instance's configured name ("drop1"). */
	const char *(*name)(struct circd_instance *inst);

	/* Report an observation.  Copies everything; safe from any thread.
	 * Returns 0, or -ENOBUFS when the core's queue is full (the event is
	 * not taken: retry after host->wait()). */
	int (*emit)(struct circd_instance *inst, const struct circd_event *ev);

	/* Block until fd (if >= 0) is ready for `events` (POLLIN/POLLOUT), a
	 * command is queued, a stop is requested, or timeout_ms passes (-1 =
	 * forever).  Returns circd_wake bits, or a negative errno.  Calling it
	 * also checks the worker in for the watchdog. */
	int (*wait)(struct circd_instance *inst, int fd, short events, int timeout_ms);
	/* Check in without waiting (for long computations). */
	void (*heartbeat)(struct circd_instance *inst);
	bool (*should_stop)(struct circd_instance *inst);

	/* Commands from the core (alarm, write AFI, select bin, sim inject).
	 * take_command() returns 1 and fills *cmd (owned by the host until
	 * command_done()), or 0 when none is queued. */
	int (*take_command)(struct circd_instance *inst, struct circd_command *cmd);
	/* status 0 = done (verified when the command asked for read-back),
	 * negative errno = failed; detail is a short human reason or NULL. */
	void (*command_done)(struct circd_instance *inst, const struct circd_command *cmd,
			     int status, const char *detail);

	void (*set_health)(struct circd_instance *inst, enum circd_health health,
			   const char *reason);

	/* Clocks: CLOCK_REALTIME and CLOCK_MONOTONIC in microseconds. */
	uint64_t (*now_realtime_usec)(void);
	uint64_t (*now_monotonic_usec)(void);

	/* Upstreams only.  Take the next transaction the forwarder hands this
	 * upstream: returns 1 and fills *txn (valid until report()), 0 when none
	 * is queued. */
	int (*take_txn)(struct circd_instance *inst, struct circd_txn *txn);
	/* Answer for a transaction taken with take_txn(), in the order taken. */
	void (*report)(struct circd_instance *inst, const struct circd_txn *txn,
		       const struct circd_txn_result *result);

	/* ABI 1.2: the site's name from the config ("Central Library"), as it
	 * was when the instance was created. */
	const char *(*site)(struct circd_instance *inst);

	/* ABI 1.4: byte streams to a device, so that a plugin needs no termios
	 * or socket code of its own.  `spec` is
	 *     serial:PATH[:SPEED[:FRAMING]]   a tty: raw, exclusive, SPEED baud
	 *                                     (38400), FRAMING 8N1 (default),
	 *                                     8E1 or 8O1
	 *     tcp:HOST:PORT                   a TCP client, with keepalive
	 * Threads: a stream belongs to the instance's worker thread; open it in
	 * run(), and use it there only (destroy() may close what is still
	 * open).  Timeouts: 0 = don't wait, -1 = no limit.  A read that waits
	 * also checks the worker in and returns -ECANCELED when the instance is
	 * asked to stop.  To wait for the device and for commands at once, pass
	 * stream_fd() to wait() and read with timeout 0 when it says
	 * CIRCD_WAKE_FD.  Errors are negative errno values; stream_reason()
	 * says what failed in words.  USB is not a stream (see circd-plugin(7)). */

	/* Open `spec` (connect_timeout_ms bounds a TCP connect).  Returns 0 and
	 * *out, or a negative errno with *out = NULL and the reason (bad spec,
	 * no such device, connection refused) in `reason` when it is given. */
	int (*stream_open)(struct circd_instance *inst, const char *spec, int connect_timeout_ms,
			   struct circd_stream **out, char *reason, size_t reason_size);
	/* Up to len bytes: the count, 0 when timeout_ms passed with nothing to
	 * read, -EPIPE at end of file (peer closed, pty hung up), -ECANCELED on
	 * a stop request, or another negative errno. */
	ssize_t (*stream_read)(struct circd_stream *s, void *buf, size_t len, int timeout_ms);
	/* All len bytes, or -ETIMEDOUT when the device took none for timeout_ms. */
	int (*stream_write_all)(struct circd_stream *s, const void *buf, size_t len,
				int timeout_ms);
	/* Throw away what is waiting to be read (to resynchronise after a bad
	 * frame); returns the number of bytes dropped or a negative errno. */
	ssize_t (*stream_drain)(struct circd_stream *s);
	/* Close and open the same spec again, after EOF, EIO or a reset.  The
	 * fd changes: ask stream_fd() again. */
	int (*stream_reopen)(struct circd_stream *s, int connect_timeout_ms);
	/* The fd to give wait() (POLLIN), or -1 while closed (a failed reopen). */
	int (*stream_fd)(const struct circd_stream *s);
	/* The last failure in words ("end of file", "/dev/ttyUSB0: ..."). */
	const char *(*stream_reason)(const struct circd_stream *s);
	/* Close and free; NULL is fine. */
	void (*stream_close)(struct circd_stream *s);

	/* ABI 1.5: the plugin's error counters (running totals, see struct
	 * circd_device_counters), for metrics and `circctl status`.  Call it
	 * whenever a total changes: it is cheap (no message, no log line) and
	 * safe from any thread; the host keeps only the latest values.  Hosts
	 * older than 1.5 do not have it: check struct_size first. */
	void (*set_counters)(struct circd_instance *inst, const struct circd_device_counters *c);
};

/* ---- Operations ---- */

struct circd_plugin_ops {
	/* Main thread.  Allocate state from validated options; no blocking I/O
	 * here (open devices in run()).  Return 0 or a negative errno; on
	 * failure log the reason with host->log(). */
	int (*create)(struct circd_instance *inst, const struct circd_host_api *host,
		      void **state);
	/* Worker thread.  Runs until host->wait() returns CIRCD_WAKE_STOP (or
	 * should_stop() is true), then returns 0.  Returning early is treated as
	 * a failure: the host logs it and restarts the worker with backoff. */
	int (*run)(void *state);
	/* Main thread, after run() has returned.  Free everything. */
	void (*destroy)(void *state);
};

struct circd_usb_id {
	uint16_t vendor_id, product_id;
	const char *comment;
};

/* The exported descriptor.  Read-only data; build it with CIRCD_PLUGIN_DEFINE. */
struct circd_plugin {
	char magic[8];
	uint16_t abi_major, abi_minor;
	uint32_t struct_size;

	const char *name;        /* unique; what `plugin = "..."` in the config names */
	const char *version;
	const char *description;
	uint32_t kinds;          /* circd_plugin_kind bits */
	const struct circd_option *options; /* terminated by CIRCD_OPTION_END */
	struct circd_plugin_ops ops;
	const struct circd_usb_id *usb_ids; /* {0,0,NULL}-terminated, or NULL */

	void *reserved[8];
};

#define CIRCD_EXPORT __attribute__((visibility("default")))

/*
 * CIRCD_PLUGIN_DEFINE(name, version, description, kinds, options, create, run, destroy)
 *
 * Under -DCIRCD_PLUGIN_STATIC the descriptor is named
 * circd_plugin_<name>_descriptor instead, so tests can link several plugins
 * into one program.
 */
#define CIRCD_PLUGIN_DESCRIPTOR_(n_, ver_, desc_, kinds_, opts_, create_, run_, destroy_, usb_) \
	{                                                                      \
		.magic = CIRCD_PLUGIN_MAGIC,                                   \
		.abi_major = CIRCD_PLUGIN_ABI_MAJOR,                           \
		.abi_minor = CIRCD_PLUGIN_ABI_MINOR,                           \
		.struct_size = sizeof(struct circd_plugin),                    \
		.name = #n_,                                                   \
		.version = ver_,                                               \
		.description = desc_,                                          \
		.kinds = kinds_,                                               \
		.options = opts_,                                              \
		.ops = { .create = create_, .run = run_, .destroy = destroy_ }, \
		.usb_ids = usb_,                                               \
	}

#ifdef CIRCD_PLUGIN_STATIC
#define CIRCD_PLUGIN_DEFINE_USB(n_, ver_, desc_, kinds_, opts_, create_, run_, destroy_, usb_) \
	const struct circd_plugin circd_plugin_##n_##_descriptor =             \
		CIRCD_PLUGIN_DESCRIPTOR_(n_, ver_, desc_, kinds_, opts_, create_, run_, destroy_, usb_)
#else
#define CIRCD_PLUGIN_DEFINE_USB(n_, ver_, desc_, kinds_, opts_, create_, run_, destroy_, usb_) \
	CIRCD_EXPORT extern const struct circd_plugin circd_plugin_descriptor;  \
	CIRCD_EXPORT const struct circd_plugin circd_plugin_descriptor =        \
		CIRCD_PLUGIN_DESCRIPTOR_(n_, ver_, desc_, kinds_, opts_, create_, run_, destroy_, usb_)
#endif

#define CIRCD_PLUGIN_DEFINE(n_, ver_, desc_, kinds_, opts_, create_, run_, destroy_) \
	CIRCD_PLUGIN_DEFINE_USB(n_, ver_, desc_, kinds_, opts_, create_, run_, destroy_, NULL)

#ifdef __cplusplus
}
#endif

#endif /* CIRCD_PLUGIN_H */
