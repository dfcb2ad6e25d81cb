/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A FAKE ACS ACR122U for tests, not a driver: a umockdev testbed device
 * (sysfs attributes, descriptors, /dev/bus/usb node) whose usbdevfs ioctls
 * are answered by a small CCID + PN532 model written for the tests, on its
 * own, from the published ACR122U API and CCID 1.1 texts; it shares no
 * code with plugins/acr122u.
 *
 * The test programs it: a card on the reader or none, a new card, a reader
 * that stops answering (bulk IN never completes: the host's transfer times
 * out), garbage answers, and unplug (pending and later transfers fail with
 * ENODEV/ESHUTDOWN, a "remove" uevent) and plug in again (a new device
 * number, an "add" uevent).
 *
 * Needs the umockdev preload (run the program under umockdev-wrapper).
 * All functions are thread-safe: umockdev answers ioctls on its own thread.
 */
#ifndef CIRCD_FAKE_ACR122U_H
#define CIRCD_FAKE_ACR122U_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_acr122u;

/* A testbed with no reader plugged in yet; NULL when umockdev is not
 * active (not run under umockdev-wrapper). */
struct fake_acr122u *fake_acr122u_new(void);
void fake_acr122u_free(struct fake_acr122u *f);

/* Plug the reader in (a new device number each time); serial may be NULL
 * (no serial number string descriptor). 0 or a negative errno. */
int fake_acr122u_plug(struct fake_acr122u *f, const char *serial);
/* Pull it out: in-flight transfers end with ESHUTDOWN, new ones ENODEV,
 * then the device leaves sysfs with a "remove" uevent. */
void fake_acr122u_unplug(struct fake_acr122u *f);

/* The card on the reader (uid_len 4, 7 or 10), or none (uid_len 0). */
void fake_acr122u_set_card(struct fake_acr122u *f, const uint8_t *uid, size_t uid_len);
/* Silent: requests are taken but never answered (the host times out). */
void fake_acr122u_set_silent(struct fake_acr122u *f, bool silent);
/* The next n answers are garbage (not CCID, or a CCID block with a broken
 * PN532 answer), one kind after another. */
void fake_acr122u_garbage(struct fake_acr122u *f, unsigned n);

/* Counters, for the test to wait on. */
unsigned fake_acr122u_polls(struct fake_acr122u *f);     /* InListPassiveTarget seen */
unsigned fake_acr122u_power_ons(struct fake_acr122u *f); /* PC_to_RDR_IccPowerOn seen */
unsigned fake_acr122u_garbage_sent(struct fake_acr122u *f);
/* The last LED/buzzer pseudo-APDU's P2 and 4 data bytes; false if none. */
bool fake_acr122u_last_led(struct fake_acr122u *f, uint8_t out[5]);

#endif
