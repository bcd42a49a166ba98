/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded reads of /proc files about target processes. Everything read here
 * describes a process that may change or exit at any moment, so callers
 * confirm the notification is still valid before trusting it.
 */
#ifndef NATIVEMON_PROCFS_H
#define NATIVEMON_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads a whole file of at most max bytes into a NUL-terminated heap buffer
 * that the caller frees. Returns 0, -EFBIG past max, or a negative errno.
 */
int procfs_read_all(const char *path, size_t max, char **text, size_t *length);

/*
 * Reads a file into buffer with one read(2) and NUL-terminates it. Returns
 * the length or a negative errno. -EFBIG means the file did not fit, and
 * buffer then contains its NUL-terminated start.
 */
ssize_t procfs_read_small(const char *path, char *buffer, size_t size);

/*
 * Reads a symbolic link such as /proc/PID/exe into buffer. Returns the
 * length or a negative errno; -ENAMETOOLONG if it did not fit.
 */
ssize_t procfs_readlink(const char *path, char *buffer, size_t size);

/* Fields of /proc/PID/stat that the supervisor uses. */
struct procfs_stat {
	pid_t ppid;
	unsigned long long start_time; /* clock ticks after boot */
};

/* Reads /proc/TID/stat. Returns 0 or a negative errno. */
int procfs_read_stat(pid_t tid, struct procfs_stat *stat);

/* The ids of a thread that rules and records use. */
struct procfs_ids {
	pid_t tgid;
	pid_t ppid;
	uid_t uid; /* the real uid */
};

/* Reads them from /proc/TID/status. Returns 0 or a negative errno. */
int procfs_read_status(pid_t tid, struct procfs_ids *ids);

/*
 * Reads them through a pidfd of the thread with PIDFD_GET_INFO (Linux
 * 6.13), one ioctl instead of formatting and parsing a /proc file.
 * Returns 0, -ENOTTY or -EINVAL when the kernel lacks the ioctl, or
 * another negative errno (-ESRCH once the thread has exited).
 */
int procfs_pidfd_ids(int pidfd, struct procfs_ids *ids);

/*
 * Reads the stack and instruction pointers of a thread blocked in a syscall
 * from /proc/PID/task/TID/syscall. Returns 0, -EAGAIN when the thread is
 * running, or a negative errno.
 */
int procfs_read_syscall_pointers(pid_t tgid, pid_t tid, uint64_t *sp,
				 uint64_t *ip);

/*
 * The same from an open descriptor of that file, which saves the open and
 * close of each read. Returns 0, -EAGAIN or a negative errno.
 */
int procfs_pread_syscall_pointers(int fd, uint64_t *sp, uint64_t *ip);

#endif
