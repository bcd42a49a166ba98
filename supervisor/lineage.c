/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lineage entries and the /proc walk for ancestors the supervisor never
 * saw make a watched call. Everything read here comes from processes that
 * may change or exit meanwhile, so it is descriptive only.
 */
#include "lineage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "target.h"

void lineage_entry_fini(struct lineage_entry *entry)
{
	free(entry->exe);
	free(entry->args);
	memset(entry, 0, sizeof(*entry));
}

void lineage_fini(struct lineage *lineage)
{
	for (size_t i = 0; i < lineage->count; i++)
		lineage_entry_fini(&lineage->entries[i]);
	lineage->count = 0;
}

/* Copies at most LINEAGE_ARGS_MAX bytes, always ending with a NUL. */
static char *copy_args(const char *args, size_t length, size_t *copied)
{
	char *copy;

	if (length > LINEAGE_ARGS_MAX)
		length = LINEAGE_ARGS_MAX;
	copy = malloc(length + 1);
	if (!copy)
		return NULL;
	memcpy(copy, args, length);
	copy[length] = '\0';
	*copied = length;
	return copy;
}

int lineage_entry_init(struct lineage_entry *entry, pid_t pid,
		       const char *exe, const char *args, size_t args_length,
		       const struct timespec *start)
{
	memset(entry, 0, sizeof(*entry));
	entry->pid = pid;
	entry->start = *start;
	if (exe && !(entry->exe = strdup(exe)))
		goto fail;
	if (args && args_length > 0 &&
	    !(entry->args = copy_args(args, args_length, &entry->args_length)))
		goto fail;
	return 0;
fail:
	lineage_entry_fini(entry);
	return -ENOMEM;
}

void lineage_push_front(struct lineage *lineage, struct lineage_entry *entry)
{
	if (lineage->count == LINEAGE_MAX)
		lineage_entry_fini(&lineage->entries[--lineage->count]);
	memmove(&lineage->entries[1], &lineage->entries[0],
		lineage->count * sizeof(lineage->entries[0]));
	lineage->entries[0] = *entry;
	lineage->count++;
	memset(entry, 0, sizeof(*entry));
}

int lineage_append(struct lineage *lineage, const struct lineage *from)
{
	for (size_t i = 0; i < from->count && lineage->count < LINEAGE_MAX;
	     i++) {
		const struct lineage_entry *source = &from->entries[i];
		int err = lineage_entry_init(&lineage->entries[lineage->count],
					     source->pid, source->exe,
					     source->args, source->args_length,
					     &source->start);

		if (err < 0)
			return err;
		lineage->count++;
	}
	return 0;
}

void lineage_ticks_to_time(unsigned long long ticks, struct timespec *time)
{
	static long ticks_per_second;
	struct timespec now, boot;
	long long nanoseconds;

	if (ticks_per_second <= 0)
		ticks_per_second = sysconf(_SC_CLK_TCK);
	/* /proc start times count from boot, suspend included. */
	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	nanoseconds = (long long)(ticks % (unsigned long long)ticks_per_second) *
		      1000000000LL / ticks_per_second;
	time->tv_sec = now.tv_sec - boot.tv_sec +
		       (time_t)(ticks / (unsigned long long)ticks_per_second);
	time->tv_nsec = now.tv_nsec - boot.tv_nsec + nanoseconds;
	while (time->tv_nsec < 0) {
		time->tv_nsec += 1000000000L;
		time->tv_sec--;
	}
	while (time->tv_nsec >= 1000000000L) {
		time->tv_nsec -= 1000000000L;
		time->tv_sec++;
	}
}

/* Reads one process's current image from /proc into entry. */
static int read_entry(pid_t pid, struct lineage_entry *entry,
		      pid_t *parent)
{
	char path[64], exe[TARGET_PATH_MAX], args[LINEAGE_ARGS_MAX];
	struct procfs_stat stat;
	struct timespec start;
	ssize_t length;
	int err;

	err = procfs_read_stat(pid, &stat);
	if (err < 0)
		return err;
	*parent = stat.ppid;
	lineage_ticks_to_time(stat.start_time, &start);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (procfs_readlink(path, exe, sizeof(exe)) < 0)
		exe[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	length = procfs_read_small(path, args, sizeof(args));
	if (length == -EFBIG)
		length = (ssize_t)sizeof(args) - 1;
	return lineage_entry_init(entry, pid, exe[0] ? exe : NULL, args,
				  length > 0 ? (size_t)length : 0, &start);
}

int lineage_read_chain(struct lineage *lineage, pid_t pid, pid_t stop)
{
	pid_t parent;
	int err;

	while (pid > 1 && pid != stop && lineage->count < LINEAGE_MAX) {
		err = read_entry(pid, &lineage->entries[lineage->count],
				 &parent);
		if (err < 0)
			return err;
		lineage->count++;
		pid = parent;
	}
	return 0;
}
