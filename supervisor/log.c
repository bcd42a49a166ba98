/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The single diagnostics path of the nativemon program. Each record is built
 * in a stack buffer and written with one write(2) so that the supervisor and
 * the child it forks never interleave half lines.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_RECORD_MAX 1024

static enum log_level max_level = LOG_LEVEL_WARN;
static int log_fd = STDERR_FILENO;
static bool log_is_socket;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_open(void)
{
	struct stat st;
	int fd;

	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	/* A socket cannot be reopened, but send() can skip the wait. */
	if (S_ISSOCK(st.st_mode)) {
		log_is_socket = true;
		return;
	}
	if (!(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
		return;
	/*
	 * O_NONBLOCK belongs to the open file description, which the command
	 * shares, so set it on a new description of the same pipe or tty.
	 */
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		log_fd = fd;
}

void log_set_level(enum log_level level)
{
	max_level = level;
}

static void write_record(char *record, size_t length)
{
	ssize_t written;

	/* append_va() leaves room for the newline, also in a cut record. */
	record[length++] = '\n';
	do {
		written = log_is_socket ? send(log_fd, record, length,
					       MSG_DONTWAIT | MSG_NOSIGNAL)
				       : write(log_fd, record, length);
	} while (written < 0 && errno == EINTR);
}

/* Appends to a record and returns the new length, clamped to the buffer. */
static size_t append_va(char *record, size_t used, const char *fmt,
			va_list args)
{
	int n;

	if (used >= LOG_RECORD_MAX - 1)
		return used;
	n = vsnprintf(record + used, LOG_RECORD_MAX - used, fmt, args);
	if (n < 0)
		return used;
	used += (size_t)n;
	return used < LOG_RECORD_MAX - 1 ? used : LOG_RECORD_MAX - 1;
}

static size_t append(char *record, size_t used, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	used = append_va(record, used, fmt, args);
	va_end(args);
	return used;
}

void log_write(enum log_level level, int errnum, const char *fmt, ...)
{
	char record[LOG_RECORD_MAX];
	int saved_errno = errno;
	va_list args;
	size_t used;

	if (level > max_level)
		return;
	used = append(record, 0, "nativemon[%d]: %s: ", (int)getpid(),
		      level_names[level]);
	va_start(args, fmt);
	used = append_va(record, used, fmt, args);
	va_end(args);
	if (errnum > 0)
		used = append(record, used, ": %s", strerror(errnum));
	write_record(record, used);
	errno = saved_errno;
}

void log_plain(const char *fmt, ...)
{
	char record[LOG_RECORD_MAX];
	va_list args;
	size_t used;

	va_start(args, fmt);
	used = append_va(record, 0, fmt, args);
	va_end(args);
	write_record(record, used);
}
