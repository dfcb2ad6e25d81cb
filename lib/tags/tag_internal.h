/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared between the decoders of lib/tags; not for other modules.
 */
#ifndef CIRCD_TAGS_INTERNAL_H
#define CIRCD_TAGS_INTERNAL_H

#include <errno.h>
#include <string.h>

#include "tags/tag.h"

#define TAG_NO_OFFSET 0xFFFF

/* tag_item_init() for the hot path: clears what decoders read back. */
void tag_item_reset(struct tag_item *item);

/* Record a finding; when the table is full the last slot becomes
 * TAG_R_TABLE_FULL so the overflow itself is visible. */
void tag_finding_add(struct tag_item *item, unsigned reason, unsigned severity, size_t offset);

/* Record the fatal reason and return err (a negative errno). */
int tag_fail(struct tag_item *item, unsigned reason, size_t offset, int err);

/* Copy len bytes of text into dst (dst_size incl. NUL), stopping at NUL.
 * Returns true when it had to cut. */
bool tag_copy_text(char *dst, size_t dst_size, const uint8_t *src, size_t len);

/* Fill the convenience field that belongs to an element's OID. */
void tag_item_apply_element(struct tag_item *item, const struct tag_element *el, size_t offset);

/* Keep unmapped bytes. */
void tag_item_add_raw(struct tag_item *item, uint32_t id, unsigned compaction,
		      const uint8_t *data, size_t len, size_t offset);

/* Split a stored ISIL "DK761500" / "DK-761500" into country and library. */
void tag_item_split_isil(struct tag_item *item, size_t offset);

/* ISO 28560-1 set information: sanity findings. */
void tag_item_check_set(struct tag_item *item, size_t offset);

/* Model decoders on normalised memory; item already reset. */
int tag_decode_28560_3(const uint8_t *mem, size_t len, struct tag_item *item);
int tag_decode_28560_2(const uint8_t *mem, size_t len, struct tag_item *item);
int tag_decode_rfid501(const uint8_t *mem, size_t len, struct tag_item *item);

/* Cheap "could this be model X" checks used by detection. */
bool tag_looks_like_28560_3(const uint8_t *mem, size_t len);
bool tag_looks_like_28560_2(const uint8_t *mem, size_t len);
bool tag_looks_like_rfid501(const uint8_t *mem, size_t len);

#endif
