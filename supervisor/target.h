/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading another process's memory and file descriptors. Everything here is
 * hostile input: the target chooses the bytes, may change them while they
 * are read, and may die at any time. All reads are bounded.
 */
#ifndef NATIVEMON_TARGET_H
#define NATIVEMON_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "policy/policy.h"

/* Caps on what is copied out of a target for one event. */
#define TARGET_PATH_MAX 4096
#define TARGET_ARGS_MAX 256
#define TARGET_ARGS_BYTES_MAX 32768
#define TARGET_ARGS_COUNT_MAX (1u << 20) /* arguments counted, not copied */

/*
 * Copies up to size bytes from address in process pid into buffer, through
 * process_vm_readv(2) and else /proc/PID/mem. Returns the number of bytes
 * copied, which is short when the range crosses into unmapped memory, or a
 * negative errno.
 */
ssize_t read_target_memory(pid_t pid, uint64_t address, void *buffer,
			   size_t size);

/*
 * Copies a NUL-terminated string of at most size - 1 bytes. Returns its
 * length, -ENAMETOOLONG when no NUL came within the cap, or -errno.
 */
ssize_t read_target_string(pid_t pid, uint64_t address, char *buffer,
			   size_t size);

/* An argument vector copied out of a target. */
struct target_args {
	char *bytes;  /* the strings, each NUL-terminated */
	size_t length;
	size_t count;	 /* strings copied */
	size_t total;	 /* strings in the vector, >= count when cut */
	bool truncated;
};

/*
 * Copies the argv array at address, whose pointers are pointer_size bytes
 * (8 natively, 4 for i386 and x32). Returns 0 or a negative errno; a vector
 * past the caps is cut and marked truncated. Free with target_args_fini().
 */
int read_target_args(pid_t pid, uint64_t address, size_t pointer_size,
		     struct target_args *args);
void target_args_fini(struct target_args *args);

/* Copies from into a new vector. Returns 0 or -ENOMEM. */
int target_args_copy(struct target_args *to, const struct target_args *from);

/* A file a target named, resolved from the supervisor's side. */
struct target_file {
	char path[TARGET_PATH_MAX]; /* as readlink(2) shows it */
	bool path_unknown; /* the path is longer than TARGET_PATH_MAX */
	struct stat st;
	enum origin_kind kind; /* ORIGIN_MEMFD, ORIGIN_DELETED or LIBRARY */
};

/*
 * Resolves a path in the supervisor's own view, such as /proc/PID/exe.
 * Returns 0 or -errno.
 */
int target_describe_path(const char *path, struct target_file *file);

/*
 * Fills file from the text of a /proc link, such as /proc/PID/exe, and the
 * stat of the file it names, both read already. A NULL text stands for a
 * path too long to read.
 */
void target_describe_link(const char *text, const struct stat *st,
			  struct target_file *file);

/* Resolves the open file fd of thread tid. Returns 0 or -errno. */
int target_fd_file(pid_t tid, int fd, struct target_file *file);

/*
 * Resolves the file an exec call names: path relative to dirfd (AT_FDCWD
 * for the working directory), or dirfd itself for an empty path with
 * AT_EMPTY_PATH. /proc/self, /proc/thread-self and /dev/fd are read as
 * the target's own. Returns 0 or -errno.
 */
int target_exec_file(pid_t tgid, pid_t tid, int dirfd, const char *path,
		     int flags, struct target_file *file);

/* Returns true if a directory above path (in tid's root) is world-writable. */
bool target_path_in_writable_dir(pid_t tid, const char *path);

/*
 * Completes file->st, of which only the device and inode are known, with
 * a stat(2) of file->path under the target's root, if that path still
 * leads to the same file. Returns 0 or a negative errno (-ESTALE: another
 * file is there now).
 */
int target_stat_file(pid_t tid, struct target_file *file);

/*
 * Opens for reading the file described by file: through the target's
 * descriptor fd, or for fd -1 through its path under the target's root.
 * The file opened must be the one described (same device and inode) and
 * regular. Returns the descriptor or a negative errno (-ESTALE: another
 * file, or not a regular one).
 */
int target_open_file(pid_t tid, int fd, const struct target_file *file);

#endif
