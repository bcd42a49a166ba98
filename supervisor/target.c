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
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
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

	if (size == 0)
		return -ENAMETOOLONG;
	while (used < size) {
		size_t page_left = 4096 - ((address + used) & 4095);
		size_t chunk = size - used;
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

/*
 * Counts the non-NULL pointers from address up to the terminating NULL,
 * reading at most TARGET_ARGS_COUNT_MAX of them. The kernel caps argv at
 * MAX_ARG_STRINGS (0x7fffffff), far above what a count needs.
 */
static size_t count_more_pointers(pid_t pid, uint64_t address,
				  size_t pointer_size)
{
	unsigned char chunk[4096];
	size_t counted = 0;

	while (counted < TARGET_ARGS_COUNT_MAX) {
		ssize_t n = read_target_memory(pid, address, chunk,
					       sizeof(chunk));

		if (n < (ssize_t)pointer_size)
			break;
		for (size_t i = 0; i + pointer_size <= (size_t)n;
		     i += pointer_size) {
			if (pointer_at(chunk + i, pointer_size) == 0)
				return counted;
			counted++;
		}
		address += (uint64_t)n - (uint64_t)n % pointer_size;
	}
	return counted;
}

int read_target_args(pid_t pid, uint64_t address, size_t pointer_size,
		     struct target_args *args)
{
	unsigned char pointers[TARGET_ARGS_MAX * 8 + 8];
	size_t want = (TARGET_ARGS_MAX + 1) * pointer_size;
	ssize_t n;
	int err;

	memset(args, 0, sizeof(*args));
	if (pointer_size != 4 && pointer_size != 8)
		return -EINVAL;
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
	args->total += count_more_pointers(pid, address + (uint64_t)n,
					   pointer_size);
	return 0;
}

void target_args_fini(struct target_args *args)
{
	free(args->bytes);
	memset(args, 0, sizeof(*args));
}

int target_args_copy(struct target_args *to, const struct target_args *from)
{
	*to = *from;
	if (!from->bytes)
		return 0;
	to->bytes = malloc(from->length ? from->length : 1);
	if (!to->bytes) {
		memset(to, 0, sizeof(*to));
		return -ENOMEM;
	}
	memcpy(to->bytes, from->bytes, from->length);
	return 0;
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

/* Strips the marker the kernel adds to the names of unlinked files. */
static void strip_deleted_marker(struct target_file *file, size_t length)
{
	if (length > 10 && strcmp(file->path + length - 10, " (deleted)") == 0 &&
	    file->st.st_nlink == 0)
		file->path[length - 10] = '\0';
}

/* Fills file from an O_PATH descriptor that the supervisor opened. */
static int describe_open_file(int fd, struct target_file *file)
{
	char link[64];
	ssize_t n;

	memset(file, 0, sizeof(*file));
	if (fstat(fd, &file->st) < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = procfs_readlink(link, file->path, sizeof(file->path));
	/* A file deep in a long directory chain is still worth reporting. */
	if (n == -ENAMETOOLONG) {
		file->path[0] = '\0';
		file->path_unknown = true;
		n = 0;
	}
	if (n < 0)
		return (int)n;
	strip_deleted_marker(file, (size_t)n);
	classify_file(file);
	return 0;
}

void target_describe_link(const char *text, const struct stat *st,
			  struct target_file *file)
{
	memset(file, 0, sizeof(*file));
	file->st = *st;
	if (!text || strlen(text) >= sizeof(file->path)) {
		file->path_unknown = true;
	} else {
		strcpy(file->path, text);
		strip_deleted_marker(file, strlen(text));
	}
	classify_file(file);
}

int target_describe_path(const char *path, struct target_file *file)
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
	return target_describe_path(path, file);
}

int target_stat_file(pid_t tid, struct target_file *file)
{
	char path[64 + TARGET_PATH_MAX];
	struct stat st;

	if (file->path_unknown || file->path[0] != '/')
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)tid, file->path);
	if (stat(path, &st) < 0)
		return -errno;
	if (st.st_dev != file->st.st_dev || st.st_ino != file->st.st_ino)
		return -ESTALE;
	file->st = st;
	return 0;
}

int target_open_file(pid_t tid, int fd, const struct target_file *file)
{
	char path[64 + TARGET_PATH_MAX];
	struct stat st;
	int path_fd, opened;

	if (fd >= 0)
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	else if (!file->path_unknown && file->path[0] == '/')
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)tid,
			 file->path);
	else
		return -ENOENT;
	/*
	 * The target can swap a device or a FIFO in at the path, and opening
	 * one for reading can have effects, so only a regular file with the
	 * expected identity is opened, through an O_PATH descriptor.
	 */
	path_fd = open(path, O_PATH | O_CLOEXEC);
	if (path_fd < 0)
		return -errno;
	if (fstat(path_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_dev != file->st.st_dev || st.st_ino != file->st.st_ino) {
		close(path_fd);
		return -ESTALE;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", path_fd);
	opened = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	close(path_fd);
	return opened < 0 ? -errno : opened;
}

static bool is_procfs(int fd)
{
	struct statfs fs;

	return fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

static bool is_same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * The file system type of the directories of a walk. A directory on the
 * device of the one checked before is on the same file system, because
 * st_dev names the superblock, so the type is not asked again.
 */
struct walk_fs {
	bool known; /* dev and procfs describe a directory already checked */
	dev_t dev;
	bool procfs;
};

/* Returns true if dir, which st describes when not NULL, is on procfs. */
static bool walk_is_procfs(struct walk_fs *fs, int dir, const struct stat *st)
{
	if (fs->known && st && st->st_dev == fs->dev)
		return fs->procfs;
	fs->procfs = is_procfs(dir);
	fs->known = st != NULL;
	if (st)
		fs->dev = st->st_dev;
	return fs->procfs;
}

/* Opens one component from dir, or "self" and "thread-self" of procfs. */
static int open_component(pid_t tgid, pid_t tid, int dir, bool procfs,
			  const char *name)
{
	char own[64];

	if (!procfs)
		return openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (strcmp(name, "self") == 0) {
		snprintf(own, sizeof(own), "%d", (int)tgid);
		name = own;
	} else if (strcmp(name, "thread-self") == 0) {
		snprintf(own, sizeof(own), "%d/task/%d", (int)tgid, (int)tid);
		name = own;
	}
	/* Magic links under /proc/PID already name the target's files. */
	return openat(dir, name, O_PATH | O_CLOEXEC);
}

/*
 * Replaces the symbolic link at component with its text, in front of what
 * is left of the path in rest. Returns 0 or -errno.
 */
static int splice_link(int link_fd, char *rest, size_t rest_size,
		       const char **left)
{
	char text[TARGET_PATH_MAX];
	size_t tail = strlen(*left);
	ssize_t n = readlinkat(link_fd, "", text, sizeof(text) - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n + tail + 2 > rest_size)
		return -ENAMETOOLONG;
	memmove(rest + n, *left, tail + 1);
	memcpy(rest, text, (size_t)n);
	*left = rest;
	return 0;
}

/* Copies the next component of *left into name. Returns its length. */
static ssize_t next_component(const char **left, char name[NAME_MAX + 1])
{
	size_t length;

	while (**left == '/')
		(*left)++;
	length = strcspn(*left, "/");
	if (length > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, *left, length);
	name[length] = '\0';
	*left += length;
	return (ssize_t)length;
}

/*
 * Walks path one component at a time as the target would: absolute paths
 * and symbolic links start at the target's root, and procfs "self" names
 * the target. Returns an O_PATH descriptor or -errno.
 */
static int open_as_target(pid_t tgid, pid_t tid, int root, int start,
			  const char *path)
{
	char rest[2 * TARGET_PATH_MAX], name[NAME_MAX + 1];
	const char *left = rest;
	int dir, next, links = 0, err = 0;
	struct walk_fs fs = { 0 };
	struct stat st, dir_st;
	bool has_st, has_dir_st;
	ssize_t length;

	if (strlen(path) >= sizeof(rest))
		return -ENAMETOOLONG;
	strcpy(rest, path);
	dir = fcntl(path[0] == '/' ? root : start, F_DUPFD_CLOEXEC, 0);
	if (dir < 0)
		return -errno;
	has_dir_st = fstat(dir, &dir_st) == 0;
	while ((length = next_component(&left, name)) > 0) {
		bool procfs;

		if (strcmp(name, ".") == 0 ||
		    (strcmp(name, "..") == 0 && is_same_file(dir, root))) {
			/* The kernel looks "." up in a file and fails. */
			if (has_dir_st && !S_ISDIR(dir_st.st_mode)) {
				err = -ENOTDIR;
				break;
			}
			continue;
		}
		procfs = walk_is_procfs(&fs, dir, has_dir_st ? &dir_st : NULL);
		next = open_component(tgid, tid, dir, procfs, name);
		if (next < 0) {
			err = -errno;
			break;
		}
		has_st = fstat(next, &st) == 0;
		if (has_st && S_ISLNK(st.st_mode)) {
			/* Linux gives up after 40 links, and so does this. */
			err = ++links > 40 ? -ELOOP
					   : splice_link(next, rest,
							 sizeof(rest), &left);
			close(next);
			if (err < 0)
				break;
			if (rest[0] == '/') {
				close(dir);
				dir = fcntl(root, F_DUPFD_CLOEXEC, 0);
				if (dir < 0)
					return -errno;
				has_dir_st = fstat(dir, &dir_st) == 0;
			}
			continue;
		}
		close(dir);
		dir = next;
		dir_st = st;
		has_dir_st = has_st;
		/* A file named with a trailing slash fails the same way. */
		if (*left == '/' && has_st && !S_ISDIR(st.st_mode)) {
			err = -ENOTDIR;
			break;
		}
	}
	if (length < 0)
		err = (int)length;
	if (err < 0) {
		close(dir);
		return err;
	}
	return dir;
}

/*
 * Resolves path with one openat2() call where the result cannot differ
 * from the walk's: inside the root for an absolute path, below the start
 * directory for a relative one, within one mount and through no magic
 * link. procfs is a mount of its own, so such a path never meets a "self"
 * that the walk would have to read as the target's, unless it starts on
 * procfs. Both fail with ENOTDIR where the kernel would, as for a file
 * named with a trailing slash. Returns an O_PATH descriptor, -ENOENT or
 * -ENOTDIR, which the walk would reach too, or -EAGAIN when the walk must
 * decide.
 */
static int open_in_one_mount(int root, int start, const char *path)
{
	bool absolute = path[0] == '/';
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS |
			   (absolute ? RESOLVE_IN_ROOT : RESOLVE_BENEATH),
	};
	int dir = absolute ? root : start;
	long fd;

	if (is_procfs(dir))
		return -EAGAIN;
	fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	/* EXDEV, ELOOP and ENOSYS among others leave it to the walk. */
	if (errno == ENOENT || errno == ENOTDIR)
		return -errno;
	return -EAGAIN;
}

/*
 * Opens path as the target would. A path within one mount takes one call,
 * which matters because a shell's PATH search makes many such lookups,
 * mostly of names that do not exist.
 */
static int open_target_path(pid_t tgid, pid_t tid, int root, int start,
			    const char *path)
{
	int fd = open_in_one_mount(root, start, path);

	if (fd != -EAGAIN)
		return fd;
	return open_as_target(tgid, tid, root, start, path);
}

static int open_proc_entry(pid_t tid, const char *entry, int fd)
{
	char path[64];

	if (fd >= 0)
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	else
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, entry);
	return open(path, O_PATH | O_CLOEXEC);
}

int target_exec_file(pid_t tgid, pid_t tid, int dirfd, const char *path,
		     int flags, struct target_file *file)
{
	int root, start, fd, err;

	memset(file, 0, sizeof(*file));
	if (path[0] == '\0') {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		return target_fd_file(tid, dirfd, file);
	}
	if (strlen(path) >= TARGET_PATH_MAX)
		return -ENAMETOOLONG;
	root = open_proc_entry(tid, "root", -1);
	if (root < 0)
		return -errno;
	/* The kernel ignores dirfd for an absolute path, and so does this. */
	start = -1;
	if (path[0] != '/') {
		start = open_proc_entry(tid, "cwd",
					dirfd == AT_FDCWD ? -1 : dirfd);
		if (start < 0) {
			err = -errno;
			close(root);
			return err;
		}
	}
	fd = open_target_path(tgid, tid, root, start, path);
	if (start >= 0)
		close(start);
	close(root);
	if (fd < 0)
		return fd;
	err = describe_open_file(fd, file);
	close(fd);
	return err;
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
