/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The query thread (see ctl_query.h for what it promises).
 *
 * Ownership.  A job is made by the main thread (ctl_query_submit()), sits
 * in the request queue (under q->lock), is run by the thread, and comes
 * back as a message in q->answers (a mailbox: its eventfd wakes the main
 * loop), where the main thread releases the held answer and frees the job.
 * The thread touches a job's fn, req, cmd, site and text; the main thread
 * its hold; `cancelled` is atomic, written by the main thread, read by the
 * thread.  q->running (under q->lock) says which job the thread is in, so
 * that sqlite3_interrupt() is only called while the connection is open and
 * busy with that job.
 *
 * The journal's durability and this reader.  journal.c's durability thread
 * checkpoints PASSIVE: it copies WAL frames into the database file up to
 * the oldest frame some reader still needs, and never waits for a reader;
 * the writer (the main connection) restarts the WAL from its beginning only
 * when no reader uses it.  So a read transaction held open here blocks
 * nothing and breaks no durability rule (the fdatasync()s of the WAL go on
 * as before), but while it stays open the WAL only grows, by whatever the
 * core writes meanwhile.  Reads are therefore kept short: autocommit, so
 * every SELECT is its own read transaction, ended when the statement is
 * finalized (the report's queries run one after the other; the journal
 * listing's outer statement is the longest, one pass over the rows asked
 * for); and a query is stopped, by the progress handler, once it has run
 * CTL_QUERY_MAX_SEC.  (Should the WAL pass journal.c's hard limit while a
 * reader pins it, the main thread's own checkpoint is PASSIVE too: it
 * copies what it can and does not wait for the reader either.)  The
 * interrupt also stops statements whose callers ignore step errors: an
 * interrupted or stopped job's answer is made here, never from the rows it
 * got so far.  The connection is read-only (SQLITE_OPEN_READONLY,
 * query_only) and never checkpoints, not even on close (it closes before
 * the main connection anyway).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "control.h"
#include "ctl_query.h"
#include "log.h"
#include "mailbox.h"
#include "util/util.h"

/* The thread's nice value (Linux: per thread): on a machine with few CPUs
 * a report yields the CPU to the core's decisions, not the other way round
 * (tests/bench/bench_gate.py --with-report-load). */
#define QUERY_THREAD_NICE 10
/* SQLite VM steps between two looks at the job's cancel flag and clock. */
#define PROGRESS_STEPS 10000
#define BUSY_TIMEOUT_MS 5000

struct query_job {
	struct mailbox_node node; /* first: the answer is posted as this node */
	struct query_job *next;   /* in the request queue */
	ctl_query_fn fn;
	json_object *req;         /* the thread's own copy */
	char *cmd, *site;
	struct control_hold *hold; /* main thread only */
	atomic_bool cancelled;     /* the client went away (or circd stops) */
	bool timed_out;            /* the thread's */
	uint64_t max_usec, deadline_usec; /* the thread's */
	char *text;                /* the answer line; NULL when not run */
	bool done;                 /* under q->lock: the thread is through with it */
	struct ctl_query *q;
};

struct ctl_query {
	sqlite3 *db; /* the thread's; the main thread only interrupts it */
	char *path;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock: */
	struct query_job *head, **tail;
	struct query_job *running;
	bool stop;

	struct query_job *current; /* the thread's: what the progress handler checks */
	uint64_t max_usec;         /* under lock */
	struct mailbox answers;
	sd_event_source *answers_source;
};

static void job_free(struct query_job *job)
{
	if (!job)
		return;
	json_object_put(job->req);
	free(job->cmd);
	free(job->site);
	free(job->text);
	free(job);
}

/* ---- the thread ---- */

static int on_progress(void *userdata)
{
	struct ctl_query *q = userdata;
	struct query_job *job = q->current;
	if (!job)
		return 0;
	if (atomic_load(&job->cancelled))
		return 1;
	if (now_monotonic_usec() > job->deadline_usec) {
		job->timed_out = true;
		return 1;
	}
	return 0;
}

static void job_run(struct ctl_query *q, struct query_job *job)
{
	if (atomic_load(&job->cancelled))
		return;
	job->deadline_usec = now_monotonic_usec() + job->max_usec;
	json_object *reply = NULL;
	char *error = NULL;
	job->timed_out = false;
	q->current = job;
	struct ctl_query_env env = { .site = job->site };
	int r = job->fn(q->db, job->req, &env, &reply, &error);
	q->current = NULL;
	if (atomic_load(&job->cancelled)) {
		json_object_put(reply);
		free(error);
		return;
	}
	if (job->timed_out) {
		json_object_put(reply);
		reply = NULL;
		free(error);
		error = xasprintf("%s stopped after %g s: ask for a shorter period", job->cmd,
				  (double)job->max_usec / USEC_PER_SEC);
		log_warning("control: %s", error);
		r = -ETIMEDOUT;
	}
	job->text = control_reply_text(r, reply, error);
	free(error);
}

static void *query_thread(void *userdata)
{
	struct ctl_query *q = userdata;
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), QUERY_THREAD_NICE) < 0)
		log_debug("query thread: cannot lower its priority: %m");
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->stop && !q->head)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->stop)
			break;
		struct query_job *job = q->head;
		q->head = job->next;
		if (!q->head)
			q->tail = &q->head;
		job->next = NULL;
		q->running = job;
		job->max_usec = q->max_usec;
		pthread_mutex_unlock(&q->lock);

		job_run(q, job);

		pthread_mutex_lock(&q->lock);
		q->running = NULL;
		job->done = true;
		/* Unbounded: never refused. */
		mailbox_post(&q->answers, &job->node, true);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* ---- the main thread ---- */

static void job_answer(struct query_job *job, const char *error_if_not_run)
{
	if (job->text) {
		control_release_reply_text(job->hold, job->text);
		job->text = NULL;
	} else {
		/* Not run: the client is gone (then this only frees the hold),
		 * or circd stops. */
		control_release_reply(job->hold, error_if_not_run);
	}
	job->hold = NULL;
	job_free(job);
}

static int on_answers(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ctl_query *q = userdata;
	for (struct mailbox_node *n = mailbox_take_all(&q->answers); n;) {
		struct query_job *job = (struct query_job *)n;
		n = n->next;
		job_answer(job, "the query was not run");
	}
	return 0;
}

/* The client of a held answer went away: skip or stop its query. */
static void on_client_gone(void *userdata)
{
	struct query_job *job = userdata;
	struct ctl_query *q = job->q;
	atomic_store(&job->cancelled, true);
	pthread_mutex_lock(&q->lock);
	bool running = q->running == job, done = job->done;
	if (running)
		sqlite3_interrupt(q->db);
	pthread_mutex_unlock(&q->lock);
	log_info("control: %s %s: the client went away", job->cmd,
		 done ? "answer dropped" : running ? "interrupted" : "skipped");
}

int ctl_query_submit(struct ctl_query *q, struct control *ctl, ctl_query_fn fn,
		     json_object *req, const struct ctl_query_env *env, char **error)
{
	json_object *copy = NULL;
	if (json_object_deep_copy(req, &copy, NULL) < 0)
		return error_set(error, -ENOMEM, "out of memory");
	struct query_job *job = xcalloc(1, sizeof(*job));
	job->q = q;
	job->fn = fn;
	job->req = copy;
	json_object *cmd;
	job->cmd = xstrdup(json_object_object_get_ex(req, "cmd", &cmd) ? json_object_get_string(cmd)
								       : "query");
	job->site = xstrdup(env && env->site ? env->site : "");
	atomic_init(&job->cancelled, false);

	pthread_mutex_lock(&q->lock);
	bool stopping = q->stop;
	pthread_mutex_unlock(&q->lock);
	if (stopping) {
		job_free(job);
		return error_set(error, -ESHUTDOWN, "circd is stopping");
	}
	job->hold = control_hold_reply(ctl);
	if (!job->hold) {
		job_free(job);
		return error_set(error, -EINVAL, "internal error: a query outside a control command");
	}
	control_hold_on_gone(job->hold, on_client_gone, job);

	pthread_mutex_lock(&q->lock);
	*q->tail = job;
	q->tail = &job->next;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static int open_reader(struct ctl_query *q, char **error)
{
	int rc = sqlite3_open_v2(q->path, &q->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return error_set(error, -EIO, "%s: cannot open for reading: %s", q->path,
				 q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
	sqlite3_extended_result_codes(q->db, 1);
	/* A reader waits only in rare moments of the WAL's life (recovery,
	 * a restart of its index): waiting costs the main loop nothing. */
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	char *msg = NULL;
	if (sqlite3_exec(q->db, "PRAGMA query_only=1; SELECT count(*) FROM sqlite_master;", NULL,
			 NULL, &msg) != SQLITE_OK) {
		int r = error_set(error, -EIO, "%s: cannot read: %s", q->path,
				  msg ? msg : sqlite3_errmsg(q->db));
		sqlite3_free(msg);
		return r;
	}
	sqlite3_progress_handler(q->db, PROGRESS_STEPS, on_progress, q);
	return 0;
}

int ctl_query_new(struct ctl_query **out, sd_event *e, const char *db_path, char **error)
{
	struct ctl_query *q = xcalloc(1, sizeof(*q));
	*out = NULL;
	q->path = xstrdup(db_path);
	q->tail = &q->head;
	q->max_usec = CTL_QUERY_MAX_SEC * USEC_PER_SEC;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	int r = mailbox_init(&q->answers, 0);
	if (r < 0) {
		error_set(error, r, "eventfd: %s", strerror(-r));
		goto fail;
	}
	r = open_reader(q, error);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(e, &q->answers_source, q->answers.efd, EPOLLIN, on_answers, q);
	if (r < 0) {
		error_set(error, r, "cannot watch the query thread: %s", strerror(-r));
		goto fail;
	}
	/* Signals are the main loop's (signalfd): none for this thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&q->thread, NULL, query_thread, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		error_set(error, r, "cannot start the query thread: %s", strerror(-r));
		goto fail;
	}
	q->thread_started = true;
	*out = q;
	return 0;
fail:
	ctl_query_free(q);
	return r;
}

void ctl_query_set_limit(struct ctl_query *q, uint64_t max_usec)
{
	pthread_mutex_lock(&q->lock);
	q->max_usec = max_usec;
	pthread_mutex_unlock(&q->lock);
}

void ctl_query_free(struct ctl_query *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	if (q->running) {
		atomic_store(&q->running->cancelled, true);
		sqlite3_interrupt(q->db);
	}
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	if (q->thread_started)
		pthread_join(q->thread, NULL);

	/* Answers made before the stop still go out; what never ran gets an
	 * error (releasing may dispatch a client's next request: a new query
	 * is refused now, q->stop is set). */
	if (q->answers.efd >= 0) {
		for (struct mailbox_node *n = mailbox_take_all(&q->answers); n;) {
			struct query_job *job = (struct query_job *)n;
			n = n->next;
			job_answer(job, "circd is stopping");
		}
	}
	while (q->head) {
		struct query_job *job = q->head;
		q->head = job->next;
		job_answer(job, "circd is stopping");
	}
	sd_event_source_disable_unref(q->answers_source);
	if (q->db)
		sqlite3_close(q->db);
	if (q->answers.efd >= 0)
		mailbox_destroy(&q->answers);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->path);
	free(q);
}
