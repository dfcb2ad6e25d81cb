/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugins/acr122u through the fake host against the umockdev fake ACR122U
 * (tests/usb/fake_acr122u.c, a fake for tests): a card is reported once
 * per presentation (4-, 7- and 10-byte UIDs; held on the reader it is not
 * reported again; taken away and put back it is; another card is), the
 * reader's beep follows each card, a reader that stops answering is
 * DEGRADED and then OK again, garbage is counted and survived, an
 * unplugged reader is OFFLINE and OK again when it comes back, and a
 * daemon started before the reader is plugged in finds it by hotplug.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_acr122u.h"
#include "fakehost.h"
#include "umockdev-reexec.h"

#define WAIT_MS 5000

static const uint8_t uid4[4] = { 0x04, 0xA2, 0x3B, 0x91 };
static const uint8_t uid4b[4] = { 0xDE, 0xAD, 0xBE, 0xEF };
static const uint8_t uid7[7] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
static const uint8_t uid7b[7] = { 0x04, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC };
static const uint8_t uid10[10] = { 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

struct rig {
	struct fake_acr122u *fake;
	struct fakehost *fh;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	r->fake = fake_acr122u_new();
	if (!r->fake) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	if (r->fh) {
		fakehost_stop(r->fh);
		fakehost_free(r->fh);
	}
	fake_acr122u_free(r->fake);
	free(r);
	return 0;
}

static void start_plugin(struct rig *r, const char *usb)
{
	r->fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(r->fh, "acr122u"), 0);
	assert_int_equal(fakehost_set_options(r->fh,
					      (const char *const[]){ usb, "poll_ms=20",
								     "timeout_ms=150",
								     "gone_after=2", NULL }),
			 0);
	assert_int_equal(fakehost_create(r->fh), 0);
	assert_int_equal(fakehost_start(r->fh), 0);
}

/* Wait until the reader has been polled n more times. */
static void wait_polls(struct rig *r, unsigned n)
{
	unsigned target = fake_acr122u_polls(r->fake) + n;

	for (int waited = 0; waited < WAIT_MS && fake_acr122u_polls(r->fake) < target;
	     waited += 5)
		usleep(5000);
	assert_true(fake_acr122u_polls(r->fake) >= target);
}

static size_t count_cards(struct fakehost *fh, const uint8_t *uid, size_t len)
{
	size_t c = 0;

	for (size_t i = 0; i < fakehost_event_count(fh); i++) {
		const struct circd_event *ev = fakehost_event(fh, i);
		c += ev->type == CIRCD_EV_CARD_SEEN && ev->uid_len == len &&
		     !memcmp(ev->uid, uid, len);
	}
	return c;
}

/* Put a card on the reader and expect exactly one new CARD_SEEN for it. */
static void present(struct rig *r, const uint8_t *uid, size_t len)
{
	size_t before = count_cards(r->fh, uid, len), events = fakehost_event_count(r->fh);

	fake_acr122u_set_card(r->fake, uid, len);
	assert_int_equal(fakehost_wait_events(r->fh, events + 1, WAIT_MS), 0);
	assert_int_equal(count_cards(r->fh, uid, len), before + 1);
	/* held on the reader for many more polls: still one */
	wait_polls(r, 6);
	assert_int_equal(count_cards(r->fh, uid, len), before + 1);
	assert_int_equal(fakehost_event_count(r->fh), events + 1);
}

static void take_away(struct rig *r)
{
	fake_acr122u_set_card(r->fake, NULL, 0);
	wait_polls(r, 4); /* more than gone_after */
}

static void test_cards(void **state)
{
	struct rig *r = *state;
	uint8_t led[5];

	assert_int_equal(fake_acr122u_plug(r->fake, "RR0001"), 0);
	start_plugin(r, "usb=072F:2200");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_true(fakehost_log_contains(r->fh, "firmware ACR122U207"));
	wait_polls(r, 3);
	assert_int_equal(fakehost_event_count(r->fh), 0); /* no card, no event */

	present(r, uid4, 4);
	assert_true(fake_acr122u_last_led(r->fake, led)); /* the "card read" beep */
	assert_int_equal(led[4], 0x01);                   /* buzzer linked */
	take_away(r);
	present(r, uid4, 4); /* the same card again: a new presentation */
	assert_int_equal(count_cards(r->fh, uid4, 4), 2);
	take_away(r);

	present(r, uid7, 7);
	present(r, uid7b, 7); /* swapped without a poll in between: new card */
	present(r, uid10, 10);
	take_away(r);

	const struct circd_event *ev = fakehost_event(r->fh, 0);
	assert_int_equal(ev->type, CIRCD_EV_CARD_SEEN);
	assert_int_equal(ev->uid_len, 4);
	assert_memory_equal(ev->uid, uid4, 4);
	assert_int_equal(fakehost_event_count(r->fh), 5);
	assert_int_equal(fakehost_option_misuse(r->fh), 0);
}

static void test_timeout_and_garbage(void **state)
{
	struct rig *r = *state;

	assert_int_equal(fake_acr122u_plug(r->fake, NULL), 0);
	start_plugin(r, "usb=072f:2200");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);

	/* the reader stops answering: each poll times out, DEGRADED */
	fake_acr122u_set_silent(r->fake, true);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_DEGRADED, WAIT_MS), 0);
	fake_acr122u_set_silent(r->fake, false);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_true(fakehost_log_contains(r->fh, "no answer"));
	present(r, uid4b, 4);
	take_away(r);

	/* four kinds of garbage, counted, logged and survived: not CCID, a
	 * length that lies, an impossible UID length (3 bad answers), and an
	 * answer to another request (skipped as late; that poll times out) */
	fake_acr122u_garbage(r->fake, 4);
	for (int waited = 0; waited < WAIT_MS && fake_acr122u_garbage_sent(r->fake) < 4;
	     waited += 5)
		usleep(5000);
	assert_int_equal(fake_acr122u_garbage_sent(r->fake), 4);
	wait_polls(r, 2);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_true(fakehost_log_contains(r->fh, "bad answer"));
	present(r, uid7, 7);
	assert_int_equal(count_cards(r->fh, uid4b, 4), 1);
	assert_int_equal(fakehost_stop(r->fh), 0);
	assert_true(fakehost_log_contains(r->fh, "2 cards, 3 bad answers, "));
	assert_true(fakehost_log_contains(r->fh, " 1 late answers"));
}

static void test_unplug(void **state)
{
	struct rig *r = *state;
	int status = 1;
	const char *detail = NULL;
	uint8_t led[5];

	assert_int_equal(fake_acr122u_plug(r->fake, "RR0002"), 0);
	start_plugin(r, "usb=072F:2200:RR0002");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	present(r, uid4, 4);

	/* an output command: the LED/buzzer pseudo-APDU */
	uint64_t id = fakehost_command(r->fh, CIRCD_CMD_OUTPUT, NULL, 0, 2, "led", NULL);
	assert_int_equal(fakehost_wait_command(r->fh, id, WAIT_MS, &status, &detail), 0);
	assert_int_equal(status, 0);
	assert_true(fake_acr122u_last_led(r->fake, led));
	assert_int_equal(led[0], 0x0E); /* green on, red off, both updated */
	id = fakehost_command(r->fh, CIRCD_CMD_OUTPUT, NULL, 0, 1, "siren", NULL);
	assert_int_equal(fakehost_wait_command(r->fh, id, WAIT_MS, &status, &detail), 0);
	assert_int_equal(status, -EINVAL);

	fake_acr122u_unplug(r->fake);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OFFLINE, WAIT_MS), 0);
	assert_true(fakehost_log_contains(r->fh, "unplugged"));
	id = fakehost_command(r->fh, CIRCD_CMD_OUTPUT, NULL, 0, 100, "beep", NULL);
	assert_int_equal(fakehost_wait_command(r->fh, id, WAIT_MS, &status, &detail), 0);
	assert_int_equal(status, -ENOTCONN);

	/* another reader (other serial number) does not count */
	unsigned power_ons = fake_acr122u_power_ons(r->fake);
	assert_int_equal(fake_acr122u_plug(r->fake, "RR9999"), 0);
	usleep(300 * 1000);
	assert_int_equal(fakehost_health(r->fh), CIRCD_HEALTH_OFFLINE);
	assert_int_equal(fake_acr122u_power_ons(r->fake), power_ons);
	fake_acr122u_unplug(r->fake);

	/* ours is back; the card left on it is the same presentation */
	assert_int_equal(fake_acr122u_plug(r->fake, "RR0002"), 0);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	wait_polls(r, 4);
	assert_int_equal(count_cards(r->fh, uid4, 4), 1);
	take_away(r);
	present(r, uid4, 4);
	assert_int_equal(count_cards(r->fh, uid4, 4), 2);
}

static void test_plugged_in_later(void **state)
{
	struct rig *r = *state;

	start_plugin(r, "usb=072F:2200");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OFFLINE, WAIT_MS), 0);
	assert_true(fakehost_log_contains(r->fh, "not plugged in"));
	assert_int_equal(fake_acr122u_plug(r->fake, NULL), 0);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	present(r, uid10, 10);
}

static void test_options(void **state)
{
	struct fakehost *fh = fakehost_new();

	(void)state;
	assert_int_equal(fakehost_load_plugin(fh, "acr122u"), 0);
	const struct circd_plugin *p = fakehost_plugin(fh);
	assert_non_null(p->usb_ids);
	assert_int_equal(p->usb_ids[0].vendor_id, 0x072F);
	assert_int_equal(p->usb_ids[0].product_id, 0x2200);
	assert_int_equal(p->usb_ids[1].vendor_id, 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ "usb=072F-2200", NULL }),
			 0);
	assert_int_equal(fakehost_create(fh), -EINVAL);
	assert_true(fakehost_log_contains(fh, "VID:PID"));
	fakehost_free(fh);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test_setup_teardown(test_cards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugged_in_later, setup, teardown),
	};

	umockdev_reexec(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
