/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

static enum log_target log_target = LOG_TARGET_STDERR;
static int log_level = LOG_INFO;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

int log_target_from_string(const char *s, enum log_target *out)
{
	if (strcmp(s, "auto") == 0)
		*out = LOG_TARGET_AUTO;
	else if (strcmp(s, "journal") == 0)
		*out = LOG_TARGET_JOURNAL;
	else if (strcmp(s, "stderr") == 0 || strcmp(s, "console") == 0)
		*out = LOG_TARGET_STDERR;
	else
		return -EINVAL;
	return 0;
}

/* systemd sets JOURNAL_STREAM=dev:inode when stderr is connected to the
 * journal; only then (or when the socket exists and stderr is not a tty) is
 * the native protocol worth using. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long long dev, ino;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(enum log_target target)
{
	if (target == LOG_TARGET_AUTO)
		target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	if (target == LOG_TARGET_JOURNAL && access("/run/systemd/journal/socket", W_OK) < 0)
		target = LOG_TARGET_STDERR;
	log_target = target;
}

void log_set_level(int level) { log_level = level; }
int log_get_level(void) { return log_level; }

void log_fieldsv(int level, const char *const *fields, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	char msg[2048];
	int saved_errno = errno;
	vsnprintf(msg, sizeof(msg), fmt, ap);

	if (log_target == LOG_TARGET_JOURNAL) {
		struct iovec iov[16];
		char prio[16], *m = NULL;
		size_t n = 0;
		snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
		if (asprintf(&m, "MESSAGE=%s", msg) < 0)
			m = NULL;
		iov[n++] = (struct iovec){ .iov_base = m ? m : (char *)"MESSAGE=", .iov_len = m ? strlen(m) : 8 };
		iov[n++] = (struct iovec){ .iov_base = prio, .iov_len = strlen(prio) };
		iov[n++] = (struct iovec){ .iov_base = (char *)"SYSLOG_IDENTIFIER=circd", .iov_len = 23 };
		for (size_t i = 0; fields && fields[i] && n < 16; i++)
			iov[n++] = (struct iovec){ .iov_base = (char *)fields[i], .iov_len = strlen(fields[i]) };
		sd_journal_sendv(iov, (int)n);
		free(m);
	} else {
		/* <N> prefixes let systemd's stderr capture keep the priority.
		 * Messages name their device themselves, so the fields are
		 * only for the journal. */
		pthread_mutex_lock(&stderr_lock);
		fprintf(stderr, "<%d>%s\n", level, msg);
		fflush(stderr);
		pthread_mutex_unlock(&stderr_lock);
	}
	errno = saved_errno;
}

void log_fields(int level, const char *const *fields, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_fieldsv(level, fields, fmt, ap);
	va_end(ap);
}
