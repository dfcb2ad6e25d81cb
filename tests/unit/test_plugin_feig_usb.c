/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugins/feig over USB, through the fake host, against the umockdev fake
 * FEIG reader (tests/usb/fake_feig.c, a fake for tests): tags arrive and
 * leave, their memory is read (answers whole in one bulk IN transfer, or
 * cut into many), a write of the AFI is verified by reading it back (and
 * one that does not take is refused), a reader that stops answering is
 * DEGRADED and then OK again, an unplugged reader (also one pulled while
 * an answer is awaited) is OFFLINE and OK again when it is plugged back
 * in, and one plugged in after the start is found by hotplug.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_feig.h"
#include "fakehost.h"
#include "umockdev-reexec.h"

#define WAIT_MS 5000

static const uint8_t uid_a[8] = { 0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x01 };
static const uint8_t uid_b[8] = { 0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x02 };
static const uint8_t uid_c[8] = { 0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x03 };

struct rig {
	struct fake_feig *fake;
	struct fakehost *fh;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	r->fake = fake_feig_new();
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
	fake_feig_free(r->fake);
	free(r);
	return 0;
}

static void start_plugin(struct rig *r, const char *port)
{
	r->fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(r->fh, "feig"), 0);
	assert_int_equal(fakehost_set_options(r->fh,
					      (const char *const[]){ port, "poll_ms=20",
								     "gone_after=2", "blocks=8",
								     NULL }),
			 0);
	assert_int_equal(fakehost_create(r->fh), 0);
	assert_int_equal(fakehost_start(r->fh), 0);
}

/* Wait until the reader has taken n more inventories. */
static void wait_inventories(struct rig *r, unsigned n)
{
	unsigned target = fake_feig_inventories(r->fake) + n;

	for (int waited = 0; waited < WAIT_MS && fake_feig_inventories(r->fake) < target;
	     waited += 5)
		usleep(5000);
	assert_true(fake_feig_inventories(r->fake) >= target);
}

/* Index of the first event of `type` for `uid` at or after `from`, waiting
 * for it; -1 when none came. */
static long wait_event(struct fakehost *fh, uint32_t type, const uint8_t *uid, size_t from)
{
	for (int waited = 0; waited <= WAIT_MS; waited += 5) {
		size_t n = fakehost_event_count(fh);
		for (size_t i = from; i < n; i++) {
			const struct circd_event *ev = fakehost_event(fh, i);
			if (ev->type == type && ev->uid_len == 8 && !memcmp(ev->uid, uid, 8))
				return (long)i;
		}
		usleep(5000);
	}
	return -1;
}

static size_t count_events(struct fakehost *fh, uint32_t type, const uint8_t *uid)
{
	size_t c = 0;

	for (size_t i = 0; i < fakehost_event_count(fh); i++) {
		const struct circd_event *ev = fakehost_event(fh, i);
		c += ev->type == type && ev->uid_len == 8 && !memcmp(ev->uid, uid, 8);
	}
	return c;
}

/* Memory of `blocks` blocks of `bs` bytes: byte i = seed + i. */
static void make_memory(uint8_t *mem, unsigned bs, unsigned blocks, uint8_t seed)
{
	for (unsigned i = 0; i < bs * blocks; i++)
		mem[i] = (uint8_t)(seed + i);
}

/* A TAG_SEEN carries the memory as a FEIG reader sends it: each block's
 * bytes reversed (the core puts them back in order). */
static void assert_memory_as_read(const struct circd_event *ev, const uint8_t *mem, unsigned bs,
				  unsigned blocks)
{
	assert_int_equal(ev->memory_len, bs * blocks);
	assert_int_equal(ev->block_size, bs);
	for (unsigned b = 0; b < blocks; b++)
		for (unsigned i = 0; i < bs; i++)
			assert_int_equal(ev->memory[b * bs + i], mem[b * bs + bs - 1 - i]);
}

static int write_afi(struct fakehost *fh, const uint8_t *uid, int afi, const char **detail)
{
	int status = 1;
	uint64_t id = fakehost_command(fh, CIRCD_CMD_WRITE_AFI, uid, 8, afi, NULL, NULL);

	assert_int_equal(fakehost_wait_command(fh, id, WAIT_MS, &status, detail), 0);
	return status;
}

static void test_options(void **state)
{
	struct fakehost *fh = fakehost_new();

	(void)state;
	assert_int_equal(fakehost_load_plugin(fh, "feig"), 0);
	/* FEIG's USB ids, for the generated udev rules */
	const struct circd_plugin *p = fakehost_plugin(fh);
	assert_non_null(p->usb_ids);
	assert_int_equal(p->usb_ids[0].vendor_id, 0x0AB1);
	assert_int_equal(p->usb_ids[0].product_id, 0x0002);
	assert_int_equal(p->usb_ids[1].vendor_id, 0x0AB1);
	assert_int_equal(p->usb_ids[1].product_id, 0x0004);
	assert_int_equal(p->usb_ids[2].vendor_id, 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ "port=usb:0AB1", NULL }),
			 0);
	assert_int_equal(fakehost_create(fh), -EINVAL);
	assert_true(fakehost_log_contains(fh, "VID:PID"));
	fakehost_free(fh);

	fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "feig"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *const[]){ "port=usb:0ab1:0004:SN-77",
									 NULL }),
			 0);
	assert_int_equal(fakehost_create(fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
}

/* Tags arrive and leave; their memory is read, whole answers and cut ones. */
static void test_tags(void **state)
{
	struct rig *r = *state;
	uint8_t mem_a[8 * 4], mem_b[8 * 8], mem_c[8 * 4];
	long i;

	make_memory(mem_a, 4, 8, 0x10);
	make_memory(mem_b, 8, 8, 0x80);
	make_memory(mem_c, 4, 8, 0x40);
	assert_int_equal(fake_feig_plug(r->fake, 0x0002, "FE0001"), 0);
	start_plugin(r, "port=usb:0AB1:0002");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_true(fake_feig_rf_resets(r->fake) >= 1); /* a clean start */
	wait_inventories(r, 3);
	assert_int_equal(fakehost_event_count(r->fh), 0); /* an empty field: nothing */

	/* whole answers: one bulk IN transfer per frame */
	assert_int_equal(fake_feig_add_tag(r->fake, uid_a, 0x11, 0x07, 4, 8, mem_a), 0);
	i = wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_a, 0);
	assert_true(i >= 0);
	const struct circd_event *ev = fakehost_event(r->fh, (size_t)i);
	assert_int_equal(ev->afi, 0x07);
	assert_int_equal(ev->dsfid, 0x11);
	assert_memory_as_read(ev, mem_a, 4, 8);

	/* answers cut into 5-byte pieces: a frame spans many transfers (the
	 * 8 x 8-byte read answer is 80 bytes: 16 transfers) */
	fake_feig_set_chunk(r->fake, 5);
	unsigned transfers = fake_feig_in_transfers(r->fake);
	assert_int_equal(fake_feig_add_tag(r->fake, uid_b, 0x22, 0xC2, 8, 8, mem_b), 0);
	i = wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_b, 0);
	assert_true(i >= 0);
	ev = fakehost_event(r->fh, (size_t)i);
	assert_int_equal(ev->afi, 0xC2);
	assert_memory_as_read(ev, mem_b, 8, 8);
	assert_true(fake_feig_in_transfers(r->fake) - transfers >= 16);

	/* one data set per inventory answer: MORE continuation, in pieces */
	fake_feig_set_max_sets(r->fake, 1);
	fake_feig_set_chunk(r->fake, 3);
	assert_int_equal(fake_feig_add_tag(r->fake, uid_c, 0x00, 0x07, 4, 8, mem_c), 0);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_c, 0) >= 0);
	fake_feig_set_chunk(r->fake, 0);
	fake_feig_set_max_sets(r->fake, 8);

	/* held in the field: reported once; taken away: gone */
	wait_inventories(r, 5);
	assert_int_equal(count_events(r->fh, CIRCD_EV_TAG_SEEN, uid_a), 1);
	assert_int_equal(count_events(r->fh, CIRCD_EV_TAG_GONE, uid_a), 0);
	fake_feig_remove_tag(r->fake, uid_a);
	fake_feig_remove_tag(r->fake, uid_b);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_GONE, uid_a, 0) >= 0);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_GONE, uid_b, 0) >= 0);
	assert_int_equal(count_events(r->fh, CIRCD_EV_TAG_GONE, uid_c), 0);
	assert_int_equal(fakehost_health(r->fh), CIRCD_HEALTH_OK);
	assert_int_equal(fakehost_option_misuse(r->fh), 0);
}

static void test_write_afi(void **state)
{
	struct rig *r = *state;
	const char *detail = NULL;

	assert_int_equal(fake_feig_plug(r->fake, 0x0004, NULL), 0);
	start_plugin(r, "port=usb:0ab1:0004");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_int_equal(fake_feig_add_tag(r->fake, uid_a, 0, 0x07, 4, 8, NULL), 0);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_a, 0) >= 0);

	/* checked out: on loan; the plugin reads the AFI back */
	assert_int_equal(write_afi(r->fh, uid_a, 0xC2, &detail), 0);
	assert_int_equal(fake_feig_tag_afi(r->fake, uid_a), 0xC2);
	/* a write the reader says OK to but the tag did not take */
	fake_feig_ignore_afi_writes(r->fake, 1);
	assert_int_equal(write_afi(r->fh, uid_a, 0x07, &detail), -EIO);
	assert_non_null(detail);
	assert_non_null(strstr(detail, "read back AFI 0xc2"));
	assert_int_equal(fake_feig_tag_afi(r->fake, uid_a), 0xC2);
	/* and again, for real */
	assert_int_equal(write_afi(r->fh, uid_a, 0x07, &detail), 0);
	assert_int_equal(fake_feig_tag_afi(r->fake, uid_a), 0x07);
	/* answers in pieces change nothing */
	fake_feig_set_chunk(r->fake, 4);
	assert_int_equal(write_afi(r->fh, uid_a, 0xC2, &detail), 0);
	assert_int_equal(fake_feig_tag_afi(r->fake, uid_a), 0xC2);
	/* a tag that is not there: the reader's "no transponder" */
	assert_int_equal(write_afi(r->fh, uid_b, 0xC2, &detail), -EIO);
	assert_non_null(strstr(detail, "0x01"));
	assert_int_equal(fakehost_command_errors(r->fh), 0);
}

/* A reader that stops answering: bulk IN transfers time out, counted;
 * DEGRADED after a few, OK again with the first good answer. */
static void test_timeout(void **state)
{
	struct rig *r = *state;

	assert_int_equal(fake_feig_plug(r->fake, 0x0002, "FE0002"), 0);
	start_plugin(r, "port=usb:0AB1:0002:FE0002");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);

	fake_feig_withhold(r->fake, 4);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_DEGRADED, WAIT_MS), 0);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_int_equal(fake_feig_withheld(r->fake), 4);
	assert_true(fakehost_log_contains(r->fh, "no answer"));
	/* never OFFLINE: the reader is there, it was only silent */
	for (size_t i = 0; i < fakehost_health_count(r->fh); i++)
		assert_int_not_equal(fakehost_health_at(r->fh, i), CIRCD_HEALTH_OFFLINE);

	/* and it works as before */
	assert_int_equal(fake_feig_add_tag(r->fake, uid_c, 0, 0x07, 4, 8, NULL), 0);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_c, 0) >= 0);
}

/* Pulled out: OFFLINE at once (LIBUSB_ERROR_NO_DEVICE), commands refused;
 * another reader with another serial number is not ours; ours back: OK. */
static void test_unplug(void **state)
{
	struct rig *r = *state;
	const char *detail = NULL;

	assert_int_equal(fake_feig_plug(r->fake, 0x0002, "FE0003"), 0);
	start_plugin(r, "port=usb:0AB1:0002:FE0003");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_int_equal(fake_feig_add_tag(r->fake, uid_a, 0, 0x07, 4, 8, NULL), 0);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_a, 0) >= 0);

	fake_feig_unplug(r->fake);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OFFLINE, WAIT_MS), 0);
	assert_true(fakehost_log_contains(r->fh, "unplugged"));
	assert_int_equal(write_afi(r->fh, uid_a, 0xC2, &detail), -ENOTCONN);

	unsigned resets = fake_feig_rf_resets(r->fake);
	assert_int_equal(fake_feig_plug(r->fake, 0x0002, "OTHER"), 0);
	usleep(300 * 1000);
	assert_int_equal(fakehost_health(r->fh), CIRCD_HEALTH_OFFLINE);
	assert_int_equal(fake_feig_rf_resets(r->fake), resets); /* never spoken to */
	fake_feig_unplug(r->fake);

	/* back: the tag still on it is the same tag, not a new arrival */
	assert_int_equal(fake_feig_plug(r->fake, 0x0002, "FE0003"), 0);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	wait_inventories(r, 4);
	assert_int_equal(count_events(r->fh, CIRCD_EV_TAG_SEEN, uid_a), 1);
	assert_int_equal(count_events(r->fh, CIRCD_EV_TAG_GONE, uid_a), 0);
	assert_int_equal(write_afi(r->fh, uid_a, 0xC2, &detail), 0);
	assert_int_equal(fake_feig_tag_afi(r->fake, uid_a), 0xC2);
	fake_feig_remove_tag(r->fake, uid_a);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_GONE, uid_a, 0) >= 0);
}

/* Pulled out while the plugin waits for an answer (the reader is silent):
 * the transfer in flight ends (ESHUTDOWN, LIBUSB_ERROR_NO_DEVICE) or the
 * next one finds no device; either way OFFLINE, and OK when it is back. */
static void test_unplug_while_waiting(void **state)
{
	struct rig *r = *state;

	assert_int_equal(fake_feig_plug(r->fake, 0x0002, NULL), 0);
	start_plugin(r, "port=usb:0AB1:0002");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	fake_feig_withhold(r->fake, 1000);
	for (int waited = 0; waited < WAIT_MS && fake_feig_withheld(r->fake) < 2; waited += 5)
		usleep(5000);
	assert_true(fake_feig_withheld(r->fake) >= 2);
	fake_feig_unplug(r->fake);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OFFLINE, WAIT_MS), 0);
	fake_feig_withhold(r->fake, 0);
	assert_int_equal(fake_feig_plug(r->fake, 0x0002, NULL), 0);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_int_equal(fake_feig_add_tag(r->fake, uid_a, 0, 0x07, 4, 8, NULL), 0);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_a, 0) >= 0);
}

/* Started before the reader is plugged in: OFFLINE, then found (hotplug). */
static void test_plugged_in_later(void **state)
{
	struct rig *r = *state;

	start_plugin(r, "port=usb:0AB1:0002");
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OFFLINE, WAIT_MS), 0);
	assert_true(fakehost_log_contains(r->fh, "not plugged in"));
	assert_int_equal(fake_feig_add_tag(r->fake, uid_b, 0, 0x07, 4, 8, NULL), 0);
	assert_int_equal(fake_feig_plug(r->fake, 0x0002, NULL), 0);
	assert_int_equal(fakehost_wait_health(r->fh, CIRCD_HEALTH_OK, WAIT_MS), 0);
	assert_true(wait_event(r->fh, CIRCD_EV_TAG_SEEN, uid_b, 0) >= 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_afi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplug_while_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugged_in_later, setup, teardown),
	};

	umockdev_reexec(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
