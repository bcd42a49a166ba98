/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded /proc reads. Files are opened with O_CLOEXEC and read with the
 * fewest syscalls the kernel allows, since some of them sit on the path of
 * every notification.
 */
#include "procfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static ssize_t read_retry(int fd, char *buffer, size_t size)
{
	ssize_t n;

	do {
		n = read(fd, buffer, size);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static int grow(char **text, size_t *capacity, size_t max)
{
	size_t next = *capacity * 2;
	char *bigger;

	if (*capacity >= max + 1)
		return -EFBIG;
	if (next > max + 1)
		next = max + 1;
	bigger = realloc(*text, next);
	if (!bigger)
		return -ENOMEM;
	*text = bigger;
	*capacity = next;
	return 0;
}

int procfs_read_all(const char *path, size_t max, char **text, size_t *length)
{
	size_t capacity = max < 16384 ? max + 1 : 16384, used = 0;
	char *buffer = malloc(capacity);
	int fd, err = 0;

	if (!buffer)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buffer);
		return -errno;
	}
	for (;;) {
		ssize_t n;
		char probe;

		if (used == max) {
			/* Full: the file fits only if nothing follows. */
			n = read_retry(fd, &probe, 1);
			err = n > 0 ? -EFBIG : (int)n;
			break;
		}
		if (used + 1 >= capacity && (err = grow(&buffer, &capacity, max)))
			break;
		n = read_retry(fd, buffer + used, capacity - used - 1);
		if (n <= 0) {
			err = (int)n;
			break;
		}
		used += (size_t)n;
	}
	close(fd);
	if (err < 0) {
		free(buffer);
		return err;
	}
	buffer[used] = '\0';
	*text = buffer;
	*length = used;
	return 0;
}

ssize_t procfs_read_small(const char *path, char *buffer, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read_retry(fd, buffer, size - 1);
	close(fd);
	if (n < 0)
		return n;
	buffer[n] = '\0';
	return (size_t)n == size - 1 ? -EFBIG : n;
}

ssize_t procfs_readlink(const char *path, char *buffer, size_t size)
{
	ssize_t n = readlink(path, buffer, size);

	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buffer[n] = '\0';
	return n;
}

/*
 * Parses fields 3 (state) to 22 (starttime) of /proc/PID/stat, which follow
 * the command name (proc_pid_stat(5)). Every field after the state is a
 * decimal number, which strtoull() reads with its white space and sign at a
 * fraction of the cost of sscanf().
 */
static int parse_stat_fields(const char *fields, struct procfs_stat *stat)
{
	const char *cursor = fields;
	unsigned long long value = 0;
	char *end;

	while (isspace((unsigned char)*cursor))
		cursor++;
	if (*cursor == '\0')
		return -EINVAL;
	cursor++;
	for (int field = 4; field <= 22; field++) {
		value = strtoull(cursor, &end, 10);
		if (end == cursor)
			return -EINVAL;
		cursor = end;
		if (field == 4)
			stat->ppid = (pid_t)value;
	}
	stat->start_time = value;
	return 0;
}

int procfs_read_stat(pid_t tid, struct procfs_stat *stat)
{
	char path[64], text[1024];
	const char *fields;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	n = procfs_read_small(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	/* comm may contain spaces and parentheses: parse after the last ')'. */
	fields = strrchr(text, ')');
	if (!fields)
		return -EINVAL;
	return parse_stat_fields(fields + 1, stat);
}

static int parse_status_field(const char *text, const char *name,
			      unsigned long *value)
{
	const char *line = strstr(text, name);

	if (!line)
		return -EINVAL;
	if (sscanf(line + strlen(name), " %lu", value) != 1)
		return -EINVAL;
	return 0;
}

int procfs_read_status(pid_t tid, struct procfs_ids *ids)
{
	char path[64], text[4096];
	unsigned long tgid, ppid, uid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	n = procfs_read_small(path, text, sizeof(text));
	if (n < 0 && n != -EFBIG)
		return (int)n;
	/* Name: is the first line, so a crafted comm cannot fake a field. */
	if (parse_status_field(text, "\nTgid:", &tgid) < 0 ||
	    parse_status_field(text, "\nPPid:", &ppid) < 0 ||
	    parse_status_field(text, "\nUid:", &uid) < 0)
		return -EINVAL;
	ids->tgid = (pid_t)tgid;
	ids->ppid = (pid_t)ppid;
	ids->uid = (uid_t)uid;
	return 0;
}

/*
 * The first version of struct pidfd_info in include/uapi/linux/pidfd.h,
 * which Debian 12's kernel headers predate. The kernel fills the pid and
 * credential fields whatever the requested mask.
 */
struct pidfd_info_v0 {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid;
	uint32_t tgid;
	uint32_t ppid;
	uint32_t ruid;
	uint32_t rgid;
	uint32_t euid;
	uint32_t egid;
	uint32_t suid;
	uint32_t sgid;
	uint32_t fsuid;
	uint32_t fsgid;
	int32_t exit_code;
};

#define PIDFD_INFO_PID_AND_CREDS 0x3
#define PIDFD_GET_INFO_V0 _IOWR(0xFF, 11, struct pidfd_info_v0)

int procfs_pidfd_ids(int pidfd, struct procfs_ids *ids)
{
	struct pidfd_info_v0 info = { .mask = PIDFD_INFO_PID_AND_CREDS };

	if (ioctl(pidfd, PIDFD_GET_INFO_V0, &info) < 0)
		return -errno;
	if ((info.mask & PIDFD_INFO_PID_AND_CREDS) != PIDFD_INFO_PID_AND_CREDS)
		return -EINVAL;
	ids->tgid = (pid_t)info.tgid;
	ids->ppid = (pid_t)info.ppid;
	ids->uid = (uid_t)info.ruid;
	return 0;
}

/*
 * Parses the hexadecimal field at *cursor, which the kernel prints as
 * "0x...", and moves *cursor past it. strtoull() accepts what the "%x"
 * conversion of sscanf() accepts, at a fraction of the cost.
 */
static int parse_hex_field(const char **cursor, uint64_t *value)
{
	char *end;

	*value = strtoull(*cursor, &end, 16);
	if (end == *cursor)
		return -EINVAL;
	*cursor = end;
	return 0;
}

/* Parses "NR ARG1..ARG6 SP IP", all hexadecimal but NR. */
static int parse_syscall_pointers(const char *text, uint64_t *sp,
				  uint64_t *ip)
{
	const char *cursor;
	uint64_t argument;
	long long nr;
	char *end;

	/* "running" or "-1 SP IP" mean the thread is not blocked in a call. */
	nr = strtoll(text, &end, 10);
	if (end == text || nr < 0)
		return -EAGAIN;
	cursor = end;
	for (int i = 0; i < 6; i++) {
		if (parse_hex_field(&cursor, &argument) < 0)
			return -EINVAL;
	}
	if (parse_hex_field(&cursor, sp) < 0 ||
	    parse_hex_field(&cursor, ip) < 0)
		return -EINVAL;
	return 0;
}

int procfs_read_syscall_pointers(pid_t tgid, pid_t tid, uint64_t *sp,
				 uint64_t *ip)
{
	char path[96], text[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)tgid,
		 (int)tid);
	n = procfs_read_small(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	return parse_syscall_pointers(text, sp, ip);
}

int procfs_pread_syscall_pointers(int fd, uint64_t *sp, uint64_t *ip)
{
	char text[256];
	ssize_t n;

	/* A read from offset 0 makes the kernel format the file afresh. */
	n = pread(fd, text, sizeof(text) - 1, 0);
	if (n < 0)
		return -errno;
	text[n] = '\0';
	return parse_syscall_pointers(text, sp, ip);
}
