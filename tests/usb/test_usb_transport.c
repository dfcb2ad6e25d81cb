/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/transport/usb.c against the umockdev fake ACR122U (tests/usb/): the
 * id syntax; nothing plugged in; hotplug arrival wakes the event fd; open
 * by VID:PID and by serial number (and not with another serial); bulk
 * transfers; a control transfer (string descriptor); a bulk read that
 * times out; unplug gives -ENODEV and closes; plugged in again, it opens.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_acr122u.h"
#include "transport/usb.h"
#include "umockdev-reexec.h"

static const uint8_t power_on[10] = { 0x62, 0, 0, 0, 0, 0, 0x11, 0, 0, 0 };

static void test_id_parse(void **unused)
{
	struct usb_id id;
	char why[USB_REASON_MAX];

	(void)unused;
	assert_int_equal(usb_id_parse("072F:2200", &id, why, sizeof(why)), 0);
	assert_int_equal(id.vendor_id, 0x072F);
	assert_int_equal(id.product_id, 0x2200);
	assert_string_equal(id.serial, "");
	assert_int_equal(usb_id_parse("072f:2200:RR-1 2", &id, why, sizeof(why)), 0);
	assert_string_equal(id.serial, "RR-1 2");
	const char *bad[] = { "", "72F:2200", "072F2200", "072F:22000", "072F:2200:",
			      "zz2F:2200", "072F:2200x", NULL };
	for (int i = 0; bad[i]; i++) {
		why[0] = '\0';
		assert_int_equal(usb_id_parse(bad[i], &id, why, sizeof(why)), -EINVAL);
		assert_true(strstr(why, "VID:PID") || strstr(why, "serial"));
	}
}

/* Wait for the event fd to turn readable and handle the events. */
static unsigned wait_arrival(struct usb_transport *u)
{
	unsigned arrivals = 0;

	for (int i = 0; i < 50 && !arrivals; i++) {
		struct pollfd p = { .fd = usb_transport_event_fd(u), .events = POLLIN };
		assert_true(p.fd >= 0);
		poll(&p, 1, 100);
		arrivals += usb_transport_handle_events(u);
	}
	return arrivals;
}

static void exchange_power_on(struct usb_transport *u)
{
	uint8_t buf[300];

	assert_int_equal(usb_transport_bulk_write(u, power_on, sizeof(power_on), 500), 0);
	ssize_t n = usb_transport_bulk_read(u, buf, sizeof(buf), 500);
	assert_int_equal(n, 30);
	assert_int_equal(buf[0], 0x80);
	assert_int_equal(buf[6], 0x11); /* our sequence number */
}

static void test_story(void **unused)
{
	struct fake_acr122u *f = fake_acr122u_new();
	struct usb_transport *u, *other;
	struct usb_id id;
	char why[USB_REASON_MAX];
	uint8_t buf[300];

	(void)unused;
	if (!f)
		skip();
	assert_int_equal(usb_id_parse("072F:2200:RR0001", &id, why, sizeof(why)), 0);
	assert_int_equal(usb_transport_new(&id, &u, why, sizeof(why)), 0);
	assert_int_equal(usb_id_parse("072F:2200:OTHER", &id, why, sizeof(why)), 0);
	assert_int_equal(usb_transport_new(&id, &other, why, sizeof(why)), 0);

	/* nothing plugged in */
	assert_int_equal(usb_transport_open(u, -1), -ENODEV);
	assert_non_null(strstr(usb_transport_reason(u), "not plugged in"));
	assert_int_equal(usb_transport_bulk_write(u, power_on, sizeof(power_on), 100), -ENODEV);
	assert_int_equal(usb_transport_next_retry_ms(u), 100);
	assert_int_equal(usb_transport_next_retry_ms(u), 200);

	/* plugged in: the hotplug watch sees it */
	assert_true(usb_transport_has_hotplug(u));
	(void)usb_transport_event_fd(u);
	assert_int_equal(fake_acr122u_plug(f, "RR0001"), 0);
	assert_true(wait_arrival(u) >= 1);
	assert_int_equal(usb_transport_open(u, 0x0B), 0);
	assert_true(usb_transport_is_open(u));
	assert_non_null(strstr(usb_transport_describe(u), "serial RR0001"));
	assert_int_equal(usb_transport_next_retry_ms(u), 100); /* reset by the open */

	/* the same device, another serial number asked for */
	assert_int_equal(usb_transport_open(other, -1), -ENODEV);
	assert_non_null(strstr(usb_transport_reason(other), "others with this id are"));
	/* no interface of class 0x03 (HID) with bulk endpoints */
	usb_transport_free(other);

	exchange_power_on(u);

	/* control IN: the product string descriptor (index 2, en-US) */
	int n = usb_transport_control(u, 0x80, 0x06, 0x0302, 0x0409, buf, 255, 500);
	assert_int_equal(n, 2 + 2 * (int)strlen("ACR122U PICC Interface"));
	assert_int_equal(buf[1], 0x03);
	assert_int_equal(buf[2], 'A');

	/* the reader takes the request and never answers */
	fake_acr122u_set_silent(f, true);
	assert_int_equal(usb_transport_bulk_write(u, power_on, sizeof(power_on), 500), 0);
	assert_int_equal(usb_transport_bulk_read(u, buf, sizeof(buf), 100), -ETIMEDOUT);
	assert_non_null(strstr(usb_transport_reason(u), "bulk read"));
	fake_acr122u_set_silent(f, false);
	assert_true(usb_transport_is_open(u));
	exchange_power_on(u);

	/* a read buffer smaller than the answer */
	assert_int_equal(usb_transport_bulk_write(u, power_on, sizeof(power_on), 500), 0);
	n = (int)usb_transport_bulk_read(u, buf, 12, 500);
	assert_true(n == 12 || n == -EOVERFLOW);

	/* unplugged: -ENODEV, and closed */
	fake_acr122u_unplug(f);
	assert_int_equal(usb_transport_bulk_write(u, power_on, sizeof(power_on), 500), -ENODEV);
	assert_false(usb_transport_is_open(u));
	assert_int_equal(usb_transport_open(u, -1), -ENODEV);

	/* back again, a new device number */
	(void)usb_transport_event_fd(u);
	assert_int_equal(fake_acr122u_plug(f, "RR0001"), 0);
	assert_true(wait_arrival(u) >= 1);
	assert_int_equal(usb_transport_open(u, -1), 0);
	assert_non_null(strstr(usb_transport_describe(u), "device 3"));
	exchange_power_on(u);

	usb_transport_free(u);
	fake_acr122u_free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_parse),
		cmocka_unit_test(test_story),
	};

	umockdev_reexec(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
