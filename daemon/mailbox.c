/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mailbox.h"

int mailbox_init(struct mailbox *mb, size_t capacity)
{
	mb->head = NULL;
	mb->tail = &mb->head;
	mb->count = 0;
	mb->capacity = capacity;
	mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->efd < 0)
		return -errno;
	pthread_mutex_init(&mb->lock, NULL);
	return 0;
}

void mailbox_destroy(struct mailbox *mb)
{
	if (mb->efd >= 0)
		close(mb->efd);
	mb->efd = -1;
	pthread_mutex_destroy(&mb->lock);
}

static void signal_efd(int efd)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is already non-zero: the reader will wake. */
	ssize_t r = write(efd, &one, sizeof(one));
	(void)r;
}

static void drain_efd(int efd)
{
	uint64_t v;
	ssize_t r = read(efd, &v, sizeof(v));
	(void)r;
}

int mailbox_post(struct mailbox *mb, struct mailbox_node *n, bool force)
{
	pthread_mutex_lock(&mb->lock);
	if (!force && mb->capacity && mb->count >= mb->capacity) {
		pthread_mutex_unlock(&mb->lock);
		return -ENOBUFS;
	}
	n->next = NULL;
	*mb->tail = n;
	mb->tail = &n->next;
	bool was_empty = mb->count++ == 0;
	pthread_mutex_unlock(&mb->lock);
	if (was_empty)
		signal_efd(mb->efd);
	return 0;
}

struct mailbox_node *mailbox_take_all(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	struct mailbox_node *list = mb->head;
	mb->head = NULL;
	mb->tail = &mb->head;
	mb->count = 0;
	drain_efd(mb->efd);
	pthread_mutex_unlock(&mb->lock);
	return list;
}

struct mailbox_node *mailbox_take_one(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	struct mailbox_node *n = mb->head;
	if (n) {
		mb->head = n->next;
		if (!mb->head)
			mb->tail = &mb->head;
		mb->count--;
	}
	if (mb->count == 0)
		drain_efd(mb->efd);
	pthread_mutex_unlock(&mb->lock);
	return n;
}

size_t mailbox_count(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	size_t n = mb->count;
	pthread_mutex_unlock(&mb->lock);
	return n;
}
