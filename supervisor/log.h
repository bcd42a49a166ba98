/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostics of the nativemon program: one path to stderr, formatted as
 * "nativemon[PID]: LEVEL: message". Security events do not go here; they
 * go to the event sink (event.h).
 */
#ifndef NATIVEMON_LOG_H
#define NATIVEMON_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/*
 * Makes later records go to a non-blocking copy of stderr when stderr is a
 * pipe or a terminal, so that a reader that stops reading cannot stall the
 * supervisor and with it every watched call. Records that would block are
 * dropped. Call once, early in main().
 */
void log_open(void);

/* Sets the most verbose level that is written; LOG_LEVEL_WARN by default. */
void log_set_level(enum log_level level);

/*
 * Formats one record into a bounded buffer and writes it with a single
 * write(2), so that records from several processes never interleave.
 * errnum > 0 appends ": strerror(errnum)". Preserves errno.
 */
void log_write(enum log_level level, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes a line without the "nativemon[PID]: LEVEL:" prefix. */
void log_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(err, ...) log_write(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...) log_write(LOG_LEVEL_WARN, (err), __VA_ARGS__)

#endif
