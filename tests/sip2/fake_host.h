/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests: a tiny stand-in for the daemon's plugin host, enough to drive an
 * upstream plugin's run() through its descriptor: options from a list of
 * "key=value", a transaction queue (take_txn), recorded answers (report),
 * health, and wait() on the plugin's fd plus an eventfd for submit/stop.
 */
#ifndef CIRCD_TEST_FAKE_HOST_H
#define CIRCD_TEST_FAKE_HOST_H

#include <pthread.h>

#include <circd/plugin.h>

#define FH_MAX 64

struct fh_result {
	int64_t id;
	uint32_t status;
	char *message;
	char *fields_json;
};

struct circd_instance {
	struct circd_host_api api;
	const struct circd_plugin *plugin;
	const char *const *opts; /* "key=value", NULL-terminated */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int efd;
	struct circd_txn queue[FH_MAX];
	size_t q_head, q_len;
	struct fh_result results[FH_MAX * 4];
	size_t n_results;
	bool stop;
	enum circd_health health;
	char health_reason[512];
	unsigned health_changes;
	unsigned health_seen; /* 1u << every health ever set */
	void *state;
	pthread_t thread;
	int run_rc;
	bool running;
};

/* create() the plugin with these options; 0 or its error. */
int fh_create(struct circd_instance *h, const struct circd_plugin *plugin,
	      const char *const *opts);
void fh_start(struct circd_instance *h);   /* run() in a thread */
int fh_stop(struct circd_instance *h);     /* STOP, join, destroy; run()'s result */
/* Queue transactions (all under one lock, so the plugin sees one round). */
void fh_submit(struct circd_instance *h, const struct circd_txn *txns, size_t n);
/* Wait until n answers in total were reported; false on timeout. */
bool fh_wait_results(struct circd_instance *h, size_t n, int timeout_ms);
bool fh_wait_health(struct circd_instance *h, enum circd_health want, int timeout_ms);
void fh_free_results(struct circd_instance *h);

#endif
