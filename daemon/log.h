/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging: journald with structured fields when running under systemd,
 * stderr with <N> priority prefixes otherwise.  The backend is chosen once
 * at start (sd_journal_send() silently drops messages when there is no
 * journald, so "auto" checks for one).  Thread-safe.
 */
#ifndef CIRCD_LOG_H
#define CIRCD_LOG_H

#include <stdarg.h>

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_JOURNAL, LOG_TARGET_STDERR };

/* MESSAGE_IDs for alerts staff and monitoring act on (journalctl MESSAGE_ID=...). */
#define CIRCD_MSGID_BACKLOG "5c1a7e0e0f2d4b44a6a0c1d7e9b2f301"
#define CIRCD_MSGID_EXCEPTION "5c1a7e0e0f2d4b44a6a0c1d7e9b2f302"
#define CIRCD_MSGID_DEVICE_OFFLINE "5c1a7e0e0f2d4b44a6a0c1d7e9b2f303"

int log_target_from_string(const char *s, enum log_target *out);
void log_open(enum log_target target);
void log_set_level(int level);
int log_get_level(void);

/* fields: NULL-terminated "KEY=value" strings (CIRCD_DEVICE=drop1), may be NULL. */
void log_fieldsv(int level, const char *const *fields, const char *fmt, va_list ap);
void log_fields(int level, const char *const *fields, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_fields(3, NULL, __VA_ARGS__)
#define log_warning(...) log_fields(4, NULL, __VA_ARGS__)
#define log_notice(...) log_fields(5, NULL, __VA_ARGS__)
#define log_info(...) log_fields(6, NULL, __VA_ARGS__)
#define log_debug(...) log_fields(7, NULL, __VA_ARGS__)

#endif
