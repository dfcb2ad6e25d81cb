/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A FAKE FEIG USB reader (ID CPR.04-USB / ISC.MR101-U style) for tests, not
 * a driver: a umockdev testbed device (sysfs attributes, descriptors,
 * /dev/bus/usb node) with one vendor-specific interface (class 0xFF, bulk
 * OUT 0x02, bulk IN 0x81), whose usbdevfs ioctls are answered by a small
 * OBID ISO-Host reader model written for the tests from H20800 (its own
 * CRC, its own frame parsing; it shares no code with plugins/feig and
 * follows tests/emulators/feig_emulator.py's behaviour, re-implemented in C).
 *
 * It answers [0x69] RF reset, [0xB0 0x01] inventory (MODE.MORE, at most
 * max_sets data sets per answer, 0x94 while more are left), [0xB0 0x23]
 * read multiple blocks (each block's bytes reversed, as FEIG sends them),
 * [0xB0 0x27] write AFI and [0xB0 0x2B] system information.  A request is
 * one bulk OUT transfer; the answer goes back in bulk IN transfers: whole,
 * or cut into pieces of `chunk` bytes, one piece per transfer.
 *
 * The test programs it: tags in the field, answers withheld (the host's
 * bulk IN transfer times out), unplug (in-flight transfers end ESHUTDOWN,
 * new ones ENODEV, a "remove" uevent) and plug in again (a new device
 * number, an "add" uevent).  Needs the umockdev preload (run under
 * umockdev-wrapper).  Thread-safe: umockdev answers ioctls on its own thread.
 */
#ifndef CIRCD_FAKE_FEIG_H
#define CIRCD_FAKE_FEIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_feig;

/* A testbed with no reader plugged in; NULL when umockdev is not active. */
struct fake_feig *fake_feig_new(void);
void fake_feig_free(struct fake_feig *f);

/* Plug a reader with this product id in (a new device number each time);
 * serial may be NULL (no serial number string).  0 or a negative errno. */
int fake_feig_plug(struct fake_feig *f, uint16_t product_id, const char *serial);
void fake_feig_unplug(struct fake_feig *f);

/* A tag enters the field: 8-byte UID (MSB E0 first), memory of `blocks`
 * blocks of block_size bytes as they sit on the tag (NULL = zeros). */
int fake_feig_add_tag(struct fake_feig *f, const uint8_t uid[8], uint8_t dsfid, uint8_t afi,
		      unsigned block_size, unsigned blocks, const uint8_t *memory);
void fake_feig_remove_tag(struct fake_feig *f, const uint8_t uid[8]);
/* The tag's AFI as the reader holds it; -1 when the tag is not there. */
int fake_feig_tag_afi(struct fake_feig *f, const uint8_t uid[8]);

/* Answers cut into pieces of n bytes, one per bulk IN transfer (0: whole). */
void fake_feig_set_chunk(struct fake_feig *f, size_t n);
/* Inventory data sets per answer (MORE continuation beyond). */
void fake_feig_set_max_sets(struct fake_feig *f, unsigned n);
/* The next n requests are taken but not answered. */
void fake_feig_withhold(struct fake_feig *f, unsigned n);
/* The next n WRITE AFI requests say OK but change nothing. */
void fake_feig_ignore_afi_writes(struct fake_feig *f, unsigned n);

/* Counters, for the test to wait on. */
unsigned fake_feig_requests(struct fake_feig *f);    /* frames that checked */
unsigned fake_feig_inventories(struct fake_feig *f); /* [0xB0 0x01] with MODE 0 */
unsigned fake_feig_rf_resets(struct fake_feig *f);
unsigned fake_feig_withheld(struct fake_feig *f);     /* answers not given so far */
unsigned fake_feig_in_transfers(struct fake_feig *f); /* bulk IN transfers completed */

#endif
