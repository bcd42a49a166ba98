/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target memory and descriptor access. process_vm_readv is the fast path;
 * /proc/PID/mem is the fallback for pages it cannot read, such as memory
 * that is mapped but not readable to the target itself.
 */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "procfs.h"

static ssize_t read_through_proc_mem(pid_t pid, uint64_t address,
				     void *buffer, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (address > (uint64_t)LLONG_MAX) {
		close(fd);
		return -EFAULT;
	}
	n = pread(fd, buffer, size, (off_t)address);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

/*
 * NOTE: a read of memory that the target registered with userfaultfd
 * blocks until its fault is resolved, which only a privileged target can
 * arrange (kernel-mode faults need CAP_SYS_PTRACE by default).
 */
ssize_t read_target_memory(pid_t pid, uint64_t address, void *buffer,
			   size_t size)
{
	struct iovec local = { .iov_base = buffer, .iov_len = size };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)address,
				.iov_len = size };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n > 0)
		return n;
	if (n < 0 && errno == ESRCH)
		return -ESRCH;
	return read_through_proc_mem(pid, address, buffer, size);
}

/*
 * Reads page by page so that a string ending just before unmapped memory
 * is still found: one large read would fail as a whole.
 */
ssize_t read_target_string(pid_t pid, uint64_t address, char *buffer,
			   size_t size)
{
	size_t used = 0;

	while (used + 1 < size) {
		size_t page_left = 4096 - ((address + used) & 4095);
		size_t chunk = size - 1 - used;
		ssize_t n;
		char *nul;

		if (chunk > page_left)
			chunk = page_left;
		n = read_target_memory(pid, address + used, buffer + used,
				       chunk);
		if (n <= 0)
			return n < 0 ? n : -EFAULT;
		nul = memchr(buffer + used, '\0', (size_t)n);
		if (nul)
			return nul - buffer;
		used += (size_t)n;
	}
	buffer[size - 1] = '\0';
	return -ENAMETOOLONG;
}

static uint64_t pointer_at(const unsigned char *bytes, size_t pointer_size)
{
	uint64_t value = 0;

	if (pointer_size == 4) {
		uint32_t narrow;

		memcpy(&narrow, bytes, sizeof(narrow));
		value = narrow;
	} else {
		memcpy(&value, bytes, sizeof(value));
	}
	return value;
}

static int append_arg(pid_t pid, uint64_t address, struct target_args *args)
{
	size_t room = TARGET_ARGS_BYTES_MAX - args->length;
	ssize_t n;

	if (room < 2) {
		args->truncated = true;
		return 0;
	}
	n = read_target_string(pid, address, args->bytes + args->length, room);
	if (n == -ENAMETOOLONG) {
		args->truncated = true;
		n = (ssize_t)room - 1;
	}
	if (n < 0)
		return (int)n;
	args->length += (size_t)n + 1;
	args->count++;
	return 0;
}

int read_target_args(pid_t pid, uint64_t address, size_t pointer_size,
		     struct target_args *args)
{
	unsigned char pointers[TARGET_ARGS_MAX * 8 + 8];
	size_t want = (TARGET_ARGS_MAX + 1) * pointer_size;
	ssize_t n;
	int err;

	memset(args, 0, sizeof(*args));
	if (address == 0)
		return 0;
	args->bytes = malloc(TARGET_ARGS_BYTES_MAX);
	if (!args->bytes)
		return -ENOMEM;
	n = read_target_memory(pid, address, pointers, want);
	if (n < (ssize_t)pointer_size)
		return n < 0 ? (int)n : -EFAULT;
	for (size_t i = 0; i + pointer_size <= (size_t)n; i += pointer_size) {
		uint64_t arg = pointer_at(pointers + i, pointer_size);

		if (arg == 0)
			return 0;
		args->total++;
		if (args->count == TARGET_ARGS_MAX || args->truncated) {
			args->truncated = true;
			continue;
		}
		err = append_arg(pid, arg, args);
		if (err < 0)
			return err;
	}
	/* No NULL within the pointers read: more arguments than the cap. */
	args->truncated = true;
	return 0;
}

void target_args_fini(struct target_args *args)
{
	free(args->bytes);
	memset(args, 0, sizeof(*args));
}

static void classify_file(struct target_file *file)
{
	if (strncmp(file->path, "/memfd:", 7) == 0)
		file->kind = ORIGIN_MEMFD;
	else if (file->st.st_nlink == 0)
		file->kind = ORIGIN_DELETED;
	else
		file->kind = ORIGIN_LIBRARY;
}

/* Fills file from an O_PATH descriptor that the supervisor opened. */
static int describe_open_file(int fd, struct target_file *file)
{
	char link[64];
	ssize_t n;

	if (fstat(fd, &file->st) < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = procfs_readlink(link, file->path, sizeof(file->path));
	if (n < 0)
		return (int)n;
	/* Strip the marker the kernel adds to unlinked files' names. */
	if (n > 10 && strcmp(file->path + n - 10, " (deleted)") == 0 &&
	    file->st.st_nlink == 0)
		file->path[n - 10] = '\0';
	classify_file(file);
	return 0;
}

static int open_and_describe(const char *path, struct target_file *file)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	err = describe_open_file(fd, file);
	close(fd);
	return err;
}

int target_fd_file(pid_t tid, int fd, struct target_file *file)
{
	char path[64];

	if (fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	return open_and_describe(path, file);
}

/* Rewrites paths that mean "this process" to name the target instead. */
static int rewrite_self_path(pid_t tgid, pid_t tid, const char *path,
			     char *out, size_t size)
{
	int n;

	if (strncmp(path, "/proc/self/", 11) == 0)
		n = snprintf(out, size, "/proc/%d/%s", (int)tgid, path + 11);
	else if (strncmp(path, "/proc/thread-self/", 18) == 0)
		n = snprintf(out, size, "/proc/%d/task/%d/%s", (int)tgid,
			     (int)tid, path + 18);
	else if (strncmp(path, "/dev/fd/", 8) == 0)
		n = snprintf(out, size, "/proc/%d/fd/%s", (int)tid, path + 8);
	else
		n = snprintf(out, size, "/proc/%d/root%s", (int)tid, path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int target_exec_file(pid_t tgid, pid_t tid, int dirfd, const char *path,
		     int flags, struct target_file *file)
{
	char resolved[TARGET_PATH_MAX + 64];
	int n;

	memset(file, 0, sizeof(*file));
	if (path[0] == '\0') {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		return target_fd_file(tid, dirfd, file);
	}
	/*
	 * NOTE: absolute symbolic links inside the path resolve against the
	 * supervisor's root, and /proc paths against its pid namespace.
	 */
	if (path[0] == '/') {
		if (rewrite_self_path(tgid, tid, path, resolved,
				      sizeof(resolved)) < 0)
			return -ENAMETOOLONG;
	} else if (dirfd == AT_FDCWD) {
		n = snprintf(resolved, sizeof(resolved), "/proc/%d/cwd/%s",
			     (int)tid, path);
		if (n < 0 || (size_t)n >= sizeof(resolved))
			return -ENAMETOOLONG;
	} else {
		n = snprintf(resolved, sizeof(resolved), "/proc/%d/fd/%d/%s",
			     (int)tid, dirfd, path);
		if (n < 0 || (size_t)n >= sizeof(resolved))
			return -ENAMETOOLONG;
	}
	return open_and_describe(resolved, file);
}

bool target_path_in_writable_dir(pid_t tid, const char *path)
{
	char directory[TARGET_PATH_MAX + 64];
	char *slash;
	struct stat st;
	int prefix;

	prefix = snprintf(directory, sizeof(directory), "/proc/%d/root",
			  (int)tid);
	if (prefix < 0 || strlen(path) + (size_t)prefix >= sizeof(directory))
		return false;
	strcpy(directory + prefix, path);
	/* Walk up from the file's directory; "/" itself is never o+w. */
	while ((slash = strrchr(directory + prefix, '/')) &&
	       slash > directory + prefix) {
		*slash = '\0';
		if (stat(directory, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & S_IWOTH))
			return true;
	}
	return false;
}
