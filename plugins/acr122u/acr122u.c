/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * acr122u — ACS ACR122U patron card reader over USB (libusb), for staff
 * desks and self-check: it reports the UID of an ISO 14443 type A card
 * (library card, MIFARE, NTAG, DESFire) as CIRCD_EV_CARD_SEEN.
 *
 * It CANNOT read library item tags: those are ISO 15693, and the ACR122U's
 * PN532 has no ISO 15693 mode (rfid.md §4.3).  Use a feig reader for items.
 *
 * Every `poll_ms` an InListPassiveTarget (106 kbps type A) asks for a card.
 * A card is reported once per presentation: while the same UID keeps
 * answering it is the same presentation; after `gone_after` polls without
 * it (or with another card) the next sighting is a new one.  The PN532's
 * passive activation retries are set to one at start, so a poll with no
 * card answers at once instead of waiting for a card.
 *
 * Health: OK while the reader answers; DEGRADED after several bad or
 * missing answers in a row (each counted, logged at debug, the input
 * drained); OFFLINE when unplugged, reopened when it comes back (hotplug
 * where libusb has it, else retried with backoff 100 ms .. 5 s).
 *
 * Commands: CIRCD_CMD_OUTPUT name "beep" (value = ms), "led" (value bits:
 * 1 red, 2 green), driven by the LED/buzzer pseudo-APDU.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <circd/plugin.h>

#include "acr122u_proto.h"
#include "transport/usb.h"

#define DEGRADED_AFTER 3 /* bad or missing answers in a row */
#define DRAIN_TIMEOUT_MS 20

struct acr {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	struct usb_id id;
	int poll_ms, timeout_ms;
	unsigned gone_after;
	bool beep;

	struct usb_transport *usb;
	enum circd_health health;
	bool stopping;
	uint8_t seq;

	/* the card of the current presentation */
	uint8_t uid[ACR_UID_MAX];
	uint8_t uid_len;
	unsigned missed;

	uint64_t bad_answers, timeouts, stale_answers, cards;
	unsigned error_run;

	uint8_t rx[ACR_MSG_MAX];
	size_t rx_len;
};

static void set_health(struct acr *a, enum circd_health h, const char *why)
{
	if (a->health == h)
		return;
	a->health = h;
	a->host->log(a->inst, h == CIRCD_HEALTH_OK ? CIRCD_LOG_INFO : CIRCD_LOG_WARNING, "%s: %s",
		     a->usb ? usb_transport_describe(a->usb) : "libusb", why);
	a->host->set_health(a->inst, h, why);
}

static void went_away(struct acr *a)
{
	char why[USB_REASON_MAX + 32];

	snprintf(why, sizeof(why), "unplugged (%s)", usb_transport_reason(a->usb));
	usb_transport_close(a->usb);
	set_health(a, CIRCD_HEALTH_OFFLINE, why);
}

/* Throw away answers still on their way (after a timeout or garbage). */
static void drain(struct acr *a)
{
	for (int i = 0; i < 4; i++)
		if (usb_transport_bulk_read(a->usb, a->rx, sizeof(a->rx), DRAIN_TIMEOUT_MS) <= 0)
			return;
}

static void count_error(struct acr *a, int r, const char *what)
{
	if (r == -ETIMEDOUT)
		a->timeouts++;
	else
		a->bad_answers++;
	a->error_run++;
	a->host->log(a->inst, CIRCD_LOG_DEBUG,
		     "%s: %s (bad answers %llu, timeouts %llu); resynchronising", what,
		     r == -ETIMEDOUT ? "no answer" : "bad answer",
		     (unsigned long long)a->bad_answers, (unsigned long long)a->timeouts);
	if (a->error_run >= DEGRADED_AFTER && a->health == CIRCD_HEALTH_OK)
		set_health(a, CIRCD_HEALTH_DEGRADED, "reader answers badly or not at all");
	if (usb_transport_is_open(a->usb))
		drain(a);
}

static void answered_well(struct acr *a)
{
	a->error_run = 0;
	if (a->health != CIRCD_HEALTH_OK)
		set_health(a, CIRCD_HEALTH_OK, "reader answers");
}

/*
 * One CCID request and the reader's answer to it, in a->rx.  Answers with
 * another sequence number are late answers to an earlier request: skipped.
 * 0, -ENODEV (gone: closed), -ETIMEDOUT, -EBADMSG.
 */
static int transact(struct acr *a, uint8_t type, const uint8_t *apdu, size_t apdu_len)
{
	uint8_t req[ACR_MSG_MAX];
	uint8_t seq = a->seq++;
	int n = type == ACR_PC_TO_RDR_ICC_POWER_ON
			? acr_ccid_power_on(req, sizeof(req), seq)
			: acr_ccid_xfr_block(req, sizeof(req), seq, apdu, apdu_len);
	uint64_t deadline;
	int r;

	if (n < 0)
		return n;
	r = usb_transport_bulk_write(a->usb, req, (size_t)n, a->timeout_ms);
	if (r < 0)
		return r;
	deadline = a->host->now_monotonic_usec() + (uint64_t)a->timeout_ms * 1000;
	for (int extensions = 0;;) {
		uint64_t now = a->host->now_monotonic_usec();
		struct acr_ccid_answer ans;
		if (now >= deadline)
			return -ETIMEDOUT;
		ssize_t got = usb_transport_bulk_read(a->usb, a->rx, sizeof(a->rx),
						      (int)((deadline - now + 999) / 1000));
		if (got < 0)
			return got == -EOVERFLOW ? -EBADMSG : (int)got;
		a->rx_len = (size_t)got;
		if (acr_ccid_parse(a->rx, a->rx_len, &ans) < 0)
			return -EBADMSG;
		if (ans.seq != seq) {
			a->stale_answers++;
			continue;
		}
		/* CCID §6.2.6: "time extension requested": the answer follows */
		if (acr_ccid_command_status(&ans) == ACR_CCID_TIME_EXTENSION && extensions++ < 5) {
			deadline = a->host->now_monotonic_usec() + (uint64_t)a->timeout_ms * 1000;
			continue;
		}
		return 0;
	}
}

/* A PN532 command (without D4); *out, *out_len point into a->rx. */
static int pn532(struct acr *a, const uint8_t *cmd, size_t len, const uint8_t **out,
		 size_t *out_len)
{
	uint8_t apdu[64];
	int n = acr_pn532_apdu(apdu, sizeof(apdu), cmd, len);
	int r;

	if (n < 0)
		return n;
	r = transact(a, ACR_PC_TO_RDR_XFR_BLOCK, apdu, (size_t)n);
	if (r < 0)
		return r;
	r = acr_parse_pn532_exchange(a->rx, a->rx_len, a->rx[6], cmd[0], out, out_len);
	return r == -EPROTO || r == -EIO ? -EBADMSG : r;
}

/* An ACR122U pseudo-APDU answered by SW1 = 90 (SW2 may carry a state). */
static int pseudo_apdu(struct acr *a, const uint8_t *apdu, size_t len)
{
	struct acr_ccid_answer ans;
	const uint8_t *body;
	size_t body_len;
	uint16_t sw;
	int r = transact(a, ACR_PC_TO_RDR_XFR_BLOCK, apdu, len);

	if (r < 0)
		return r;
	if (acr_ccid_parse(a->rx, a->rx_len, &ans) < 0 || ans.type != ACR_RDR_TO_PC_DATA_BLOCK ||
	    acr_apdu_split(ans.data, ans.len, &body, &body_len, &sw) < 0 || sw >> 8 != 0x90)
		return -EBADMSG;
	return 0;
}

static bool failed(struct acr *a, int r, const char *what)
{
	if (r >= 0)
		return false;
	if (r == -ENODEV)
		went_away(a);
	else if (r != -ECANCELED)
		count_error(a, r, what);
	return true;
}

/* After opening: power the slot, name the firmware, make polls return at
 * once, silence the reader's own beep on every detection. */
static int start_reader(struct acr *a)
{
	static const uint8_t firmware[] = { 0xFF, 0x00, 0x48, 0x00, 0x00 };
	/* RFConfiguration item 5 (MaxRetries): MxRtyATR FF, MxRtyPSL 01,
	 * MxRtyPassiveActivation 01 instead of FF (= wait for a card) */
	static const uint8_t retries[] = { ACR_PN532_RF_CONFIGURATION, 0x05, 0xFF, 0x01, 0x01 };
	static const uint8_t quiet[] = { 0xFF, 0x00, 0x52, 0x00, 0x00 };
	struct acr_ccid_answer ans;
	const uint8_t *out;
	size_t out_len;
	int r;

	drain(a);
	r = transact(a, ACR_PC_TO_RDR_ICC_POWER_ON, NULL, 0);
	if (r < 0)
		return r;
	if (acr_ccid_parse(a->rx, a->rx_len, &ans) == 0 &&
	    acr_ccid_command_status(&ans) == ACR_CCID_CMD_FAILED)
		a->host->log(a->inst, CIRCD_LOG_DEBUG, "power on: %s (carrying on)",
			     acr_ccid_error_text(ans.error));
	r = transact(a, ACR_PC_TO_RDR_XFR_BLOCK, firmware, sizeof(firmware));
	if (r < 0)
		return r;
	if (acr_ccid_parse(a->rx, a->rx_len, &ans) == 0 && ans.len > 0 && ans.len < 40) {
		char version[41];
		size_t k = 0;
		for (size_t i = 0; i < ans.len; i++)
			if (ans.data[i] >= 0x20 && ans.data[i] < 0x7F)
				version[k++] = (char)ans.data[i];
		version[k] = '\0';
		a->host->log(a->inst, CIRCD_LOG_INFO, "%s: firmware %s",
			     usb_transport_describe(a->usb), version);
	}
	r = pn532(a, retries, sizeof(retries), &out, &out_len);
	if (r < 0)
		return r;
	return pseudo_apdu(a, quiet, sizeof(quiet));
}

static int emit_retry(struct acr *a, const struct circd_event *ev)
{
	int r;

	while ((r = a->host->emit(a->inst, ev)) == -ENOBUFS) {
		int w = a->host->wait(a->inst, -1, 0, 10);
		if (w > 0 && (w & CIRCD_WAKE_STOP)) {
			a->stopping = true;
			return -ECANCELED;
		}
	}
	return r;
}

/* Green LED and a short beep: "card read". Errors only counted. */
static int signal_card(struct acr *a)
{
	uint8_t apdu[9];
	/* P2: green final off, green blinking on and updated (masks 0x80,
	 * 0x20); T1 1 x 100 ms with the buzzer, once */
	int n = acr_led_buzzer_apdu(apdu, sizeof(apdu), 0xA0, 1, 1, 1, 0x01);

	return pseudo_apdu(a, apdu, (size_t)n);
}

static int poll_card(struct acr *a)
{
	static const uint8_t list[] = { ACR_PN532_IN_LIST_PASSIVE_TARGET, 0x01, 0x00 };
	static const uint8_t release[] = { ACR_PN532_IN_RELEASE, 0x00 };
	struct acr_target_a targets[ACR_MAX_TARGETS];
	const uint8_t *out;
	size_t out_len, count = 0;
	int r;

	r = pn532(a, list, sizeof(list), &out, &out_len);
	if (r == 0 && acr_parse_targets_106a(out, out_len, targets, ACR_MAX_TARGETS, &count) < 0)
		r = -EBADMSG;
	if (failed(a, r, "InListPassiveTarget"))
		return r;
	answered_well(a);
	if (count == 0) {
		if (a->uid_len && ++a->missed >= a->gone_after) {
			a->host->log(a->inst, CIRCD_LOG_DEBUG, "card removed");
			a->uid_len = 0;
		}
		return 0;
	}
	/* Let the PN532 forget the card: every poll starts clean. */
	r = pn532(a, release, sizeof(release), &out, &out_len);
	if (failed(a, r, "InRelease"))
		return r;

	const struct acr_target_a *t = &targets[0];
	if (a->uid_len == t->uid_len && !memcmp(a->uid, t->uid, t->uid_len)) {
		a->missed = 0; /* still the same presentation */
		return 0;
	}
	memcpy(a->uid, t->uid, t->uid_len);
	a->uid_len = t->uid_len;
	a->missed = 0;
	a->cards++;

	struct circd_event ev;
	circd_event_init(&ev, CIRCD_EV_CARD_SEEN);
	memcpy(ev.uid, t->uid, t->uid_len);
	ev.uid_len = t->uid_len;
	r = emit_retry(a, &ev);
	if (r < 0)
		return r;
	a->host->log(a->inst, CIRCD_LOG_DEBUG, "card: %u-byte UID, ATQA %04x, SAK %02x",
		     t->uid_len, t->sens_res, t->sel_res);
	if (a->beep)
		failed(a, signal_card(a), "LED/buzzer");
	return 0;
}

/* Sleep in host->wait() (never elsewhere); false when asked to stop. */
static bool pause_ms(struct acr *a, int fd, int ms)
{
	int w = a->host->wait(a->inst, fd, POLLIN, ms);

	if (w < 0 || (w & CIRCD_WAKE_STOP)) {
		a->stopping = true;
		return false;
	}
	return true;
}

static void connect_reader(struct acr *a)
{
	int r = usb_transport_open(a->usb, -1);

	if (r < 0) {
		set_health(a, CIRCD_HEALTH_OFFLINE, usb_transport_reason(a->usb));
		/* wait for a hotplug arrival, or the retry delay (polling) */
		unsigned ms = usb_transport_next_retry_ms(a->usb);
		if (pause_ms(a, usb_transport_event_fd(a->usb), (int)ms))
			usb_transport_handle_events(a->usb);
		return;
	}
	a->host->log(a->inst, CIRCD_LOG_DEBUG, "opened %s", usb_transport_describe(a->usb));
	r = start_reader(a);
	if (r == 0) {
		answered_well(a);
		return;
	}
	if (r == -ENODEV) {
		went_away(a);
		return;
	}
	/* opens but does not answer: counted, closed, retried later */
	count_error(a, r, "start");
	usb_transport_close(a->usb);
	set_health(a, CIRCD_HEALTH_OFFLINE, "opened, but the reader does not answer");
	pause_ms(a, -1, (int)usb_transport_next_retry_ms(a->usb));
}

static void output(struct acr *a, const struct circd_command *cmd)
{
	uint8_t apdu[9];
	int n;

	if (cmd->name && !strcmp(cmd->name, "beep") && cmd->value > 0 && cmd->value <= 25500) {
		/* no LED change (masks 0), buzzer during T1 */
		n = acr_led_buzzer_apdu(apdu, sizeof(apdu), 0x00,
					(uint8_t)((cmd->value + 99) / 100), 0, 1, 0x01);
	} else if (cmd->name && !strcmp(cmd->name, "led") && cmd->value >= 0 && cmd->value <= 3) {
		/* final states red (bit 0), green (bit 1), both updated */
		n = acr_led_buzzer_apdu(apdu, sizeof(apdu), (uint8_t)(0x0C | cmd->value), 0, 0,
					0, 0);
	} else {
		a->host->command_done(a->inst, cmd, -EINVAL,
				      "outputs: beep = 1..25500 (ms), led = 0..3 (1 red, 2 green)");
		return;
	}
	int r = pseudo_apdu(a, apdu, (size_t)n);
	if (failed(a, r, "LED/buzzer"))
		a->host->command_done(a->inst, cmd, r == -ENODEV ? -ENOTCONN : -EIO,
				      r == -ENODEV ? "reader unplugged"
						   : "no valid answer from the reader");
	else
		a->host->command_done(a->inst, cmd, 0, NULL);
}

static void handle_commands(struct acr *a)
{
	struct circd_command cmd = { .struct_size = sizeof(cmd) };

	while (a->host->take_command(a->inst, &cmd) == 1) {
		if (a->stopping)
			a->host->command_done(a->inst, &cmd, -ECANCELED, "stopping");
		else if (cmd.type != CIRCD_CMD_OUTPUT)
			a->host->command_done(a->inst, &cmd, -EOPNOTSUPP,
					      "a patron card reader takes only outputs");
		else if (!a->usb || !usb_transport_is_open(a->usb))
			a->host->command_done(a->inst, &cmd, -ENOTCONN, "reader offline");
		else
			output(a, &cmd);
	}
}

/* The libusb context, made on the worker thread: a machine without USB
 * (no usbfs) is OFFLINE and retried, not a failure to start. */
static void start_libusb(struct acr *a, unsigned *retry_ms)
{
	char why[USB_REASON_MAX];

	if (usb_transport_new(&a->id, &a->usb, why, sizeof(why)) == 0)
		return;
	set_health(a, CIRCD_HEALTH_OFFLINE, why);
	pause_ms(a, -1, (int)*retry_ms);
	*retry_ms = *retry_ms * 2 > 5000 ? 5000 : *retry_ms * 2;
}

static int acr_run(void *state)
{
	struct acr *a = state;
	unsigned libusb_retry_ms = 100;

	while (!a->stopping) {
		handle_commands(a);
		if (a->stopping)
			break;
		if (!a->usb) {
			start_libusb(a, &libusb_retry_ms);
			continue;
		}
		if (!usb_transport_is_open(a->usb)) {
			connect_reader(a);
			continue;
		}
		if (poll_card(a) == -ECANCELED)
			break;
		if (usb_transport_is_open(a->usb))
			pause_ms(a, -1, a->poll_ms);
	}
	handle_commands(a);
	a->host->log(a->inst, CIRCD_LOG_DEBUG,
		     "stopping: %llu cards, %llu bad answers, %llu timeouts, %llu late answers",
		     (unsigned long long)a->cards, (unsigned long long)a->bad_answers,
		     (unsigned long long)a->timeouts, (unsigned long long)a->stale_answers);
	return 0;
}

static int acr_create(struct circd_instance *inst, const struct circd_host_api *host,
		      void **state)
{
	const char *spec = host->opt_string(inst, "usb");
	char why[USB_REASON_MAX];
	struct acr *a;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	r = usb_id_parse(spec, &a->id, why, sizeof(why));
	if (r < 0) {
		host->log(inst, CIRCD_LOG_ERR, "option 'usb': %s", why);
		free(a);
		return r;
	}
	a->inst = inst;
	a->host = host;
	a->poll_ms = (int)host->opt_int(inst, "poll_ms");
	a->timeout_ms = (int)host->opt_int(inst, "timeout_ms");
	a->gone_after = (unsigned)host->opt_int(inst, "gone_after");
	a->beep = host->opt_bool(inst, "beep");
	a->health = CIRCD_HEALTH_STARTING;
	*state = a;
	return 0;
}

static void acr_destroy(void *state)
{
	struct acr *a = state;

	usb_transport_free(a->usb);
	free(a);
}

static const struct circd_option acr_options[] = {
	{ "usb", CIRCD_OPT_STRING, "072F:2200", 0, 0, 0,
	  "VID:PID[:SERIAL] of the reader (hex); the serial picks one of several" },
	{ "poll_ms", CIRCD_OPT_INT, "250", 0, 20, 60000, "ask for a card every this many ms" },
	{ "gone_after", CIRCD_OPT_INT, "2", 0, 1, 100,
	  "polls without the card before it counts as taken away" },
	{ "timeout_ms", CIRCD_OPT_INT, "1000", 0, 50, 10000,
	  "how long to wait for each answer of the reader" },
	{ "beep", CIRCD_OPT_BOOL, "true", 0, 0, 0,
	  "blink green and beep once per card presentation" },
	CIRCD_OPTION_END,
};

static const struct circd_usb_id acr_usb_ids[] = {
	{ 0x072F, 0x2200, "ACS ACR122U NFC reader (patron cards)" },
	{ 0, 0, NULL },
};

CIRCD_PLUGIN_DEFINE_USB(acr122u, "1.0", "ACS ACR122U patron card reader (USB, ISO 14443 A)",
			CIRCD_KIND_READER, acr_options, acr_create, acr_run, acr_destroy,
			acr_usb_ids);
