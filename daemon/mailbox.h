/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bounded multi-producer, single-consumer queue with an eventfd: how
 * worker threads hand things to the main loop (and the main loop to one
 * worker).  Messages are caller-allocated nodes; the mailbox only links
 * them.  post() never blocks: when the mailbox is full it returns -ENOBUFS
 * and the producer keeps its message.
 */
#ifndef CIRCD_MAILBOX_H
#define CIRCD_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct mailbox_node {
	struct mailbox_node *next;
};

struct mailbox {
	pthread_mutex_t lock;
	struct mailbox_node *head, **tail;
	size_t count, capacity; /* capacity 0 = unbounded */
	int efd;                /* readable while messages are queued (EFD_NONBLOCK) */
};

int mailbox_init(struct mailbox *mb, size_t capacity);
void mailbox_destroy(struct mailbox *mb);
/* force = ignore the capacity (control messages that must not be lost). */
int mailbox_post(struct mailbox *mb, struct mailbox_node *n, bool force);
/* Takes everything queued, oldest first, as a NULL-terminated list; clears
 * the eventfd.  NULL when empty. */
struct mailbox_node *mailbox_take_all(struct mailbox *mb);
/* Takes one message or NULL. */
struct mailbox_node *mailbox_take_one(struct mailbox *mb);
size_t mailbox_count(struct mailbox *mb);

#endif
