/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event queue under concurrent producers: nothing lost, nothing
 * duplicated, per-producer order kept, backpressure instead of growth. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mailbox.h"
#include "presence.h"
#include "util/util.h"

#define PRODUCERS 4
#define PER_PRODUCER 50000

struct item {
	struct mailbox_node node;
	int producer;
	int seq;
};

static struct mailbox mb;
static int enobufs_seen;

static void *producer(void *arg)
{
	int p = (int)(intptr_t)arg;
	for (int i = 0; i < PER_PRODUCER; i++) {
		struct item *it = xcalloc(1, sizeof(*it));
		it->producer = p;
		it->seq = i;
		while (mailbox_post(&mb, &it->node, false) == -ENOBUFS) {
			__atomic_add_fetch(&enobufs_seen, 1, __ATOMIC_RELAXED);
			struct pollfd pf = { .fd = -1 };
			poll(&pf, 0, 1);
		}
	}
	return NULL;
}

static void test_concurrent_producers(void **state)
{
	assert_int_equal(mailbox_init(&mb, 1024), 0);
	pthread_t t[PRODUCERS];
	for (int p = 0; p < PRODUCERS; p++)
		pthread_create(&t[p], NULL, producer, (void *)(intptr_t)p);
	int next[PRODUCERS] = { 0 };
	long total = 0;
	while (total < (long)PRODUCERS * PER_PRODUCER) {
		struct pollfd pf = { .fd = mb.efd, .events = POLLIN };
		assert_true(poll(&pf, 1, 5000) > 0); /* the eventfd wakes the consumer */
		for (struct mailbox_node *n = mailbox_take_all(&mb); n;) {
			struct item *it = (struct item *)n;
			n = n->next;
			assert_int_equal(it->seq, next[it->producer]);
			next[it->producer]++;
			total++;
			free(it);
		}
		assert_true(mailbox_count(&mb) <= 1024);
	}
	for (int p = 0; p < PRODUCERS; p++) {
		pthread_join(t[p], NULL);
		assert_int_equal(next[p], PER_PRODUCER);
	}
	assert_null(mailbox_take_one(&mb));
	mailbox_destroy(&mb);
}

static void test_capacity_and_force(void **state)
{
	struct mailbox m;
	struct item a, b, c;
	assert_int_equal(mailbox_init(&m, 2), 0);
	assert_int_equal(mailbox_post(&m, &a.node, false), 0);
	assert_int_equal(mailbox_post(&m, &b.node, false), 0);
	assert_int_equal(mailbox_post(&m, &c.node, false), -ENOBUFS);
	assert_int_equal(mailbox_post(&m, &c.node, true), 0); /* control messages always get in */
	assert_ptr_equal(mailbox_take_one(&m), &a.node);
	assert_ptr_equal(mailbox_take_one(&m), &b.node);
	assert_ptr_equal(mailbox_take_one(&m), &c.node);
	assert_null(mailbox_take_one(&m));
	struct pollfd pf = { .fd = m.efd, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 0), 0); /* drained: no spurious wake-up */
	mailbox_destroy(&m);
}

static void test_presence_debounce(void **state)
{
	struct presence p;
	int dev1, dev2;
	const uint8_t uid[8] = { 0xE0, 4, 1, 0, 0, 0, 0, 1 };
	presence_init(&p, 2 * USEC_PER_SEC);
	uint64_t t = 1000 * USEC_PER_SEC;
	assert_int_equal(presence_seen(&p, &dev1, uid, 8, t), PRESENCE_NEW);
	assert_int_equal(presence_seen(&p, &dev1, uid, 8, t + 1), PRESENCE_LINGER);
	assert_int_equal(presence_seen(&p, &dev2, uid, 8, t + 2), PRESENCE_NEW); /* another reader */
	presence_gone(&p, &dev1, uid, 8, t + USEC_PER_SEC);
	assert_int_equal(presence_seen(&p, &dev1, uid, 8, t + 2 * USEC_PER_SEC), PRESENCE_FLICKER);
	presence_gone(&p, &dev1, uid, 8, t + 3 * USEC_PER_SEC);
	assert_int_equal(presence_seen(&p, &dev1, uid, 8, t + 6 * USEC_PER_SEC), PRESENCE_NEW);
	/* Bounded: many tags passing through leave no garbage behind. */
	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t u[8] = { 0xE0, 4, 2, 0, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		uint64_t now = t + 10 * USEC_PER_SEC + i * 1000ULL;
		assert_int_equal(presence_seen(&p, &dev1, u, 8, now), PRESENCE_NEW);
		presence_gone(&p, &dev1, u, 8, now + 10);
	}
	assert_true(p.cap <= 16384);
	assert_int_equal(presence_count(&p), 2); /* uid at dev1 and dev2 */
	presence_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_producers),
		cmocka_unit_test(test_capacity_and_force),
		cmocka_unit_test(test_presence_debounce),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
