/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process lineage: the program images that led to a process, nearest
 * first. A process's own earlier images (a `sh -c` that exec'd the
 * command) come before its parent's, so short-lived intermediates stay
 * named after they are gone. Each process copies its parent's lineage when
 * the supervisor first handles a call of it, because the parent may exit
 * soon after.
 */
#ifndef NATIVEMON_LINEAGE_H
#define NATIVEMON_LINEAGE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* The maximum number of images kept; farther ones are dropped. */
#define LINEAGE_MAX 16
/* Command lines in a lineage are cut at this many bytes. */
#define LINEAGE_ARGS_MAX 1024

/* One program image in a process's lineage. */
struct lineage_entry {
	pid_t pid;
	char *exe;	    /* NULL when it could not be read */
	char *args;	    /* NUL-separated arguments; NULL when unknown */
	size_t args_length; /* bytes of args, cut at LINEAGE_ARGS_MAX */
	struct timespec start; /* wall time the image started running */
};

struct lineage {
	struct lineage_entry entries[LINEAGE_MAX]; /* nearest first */
	size_t count;
};

void lineage_fini(struct lineage *lineage);

/*
 * Fills entry with copies of exe and of at most LINEAGE_ARGS_MAX bytes of
 * args (either may be NULL). Returns 0 or -ENOMEM.
 */
int lineage_entry_init(struct lineage_entry *entry, pid_t pid,
		       const char *exe, const char *args, size_t args_length,
		       const struct timespec *start);
void lineage_entry_fini(struct lineage_entry *entry);

/*
 * Puts entry in front, taking ownership of its strings; the farthest
 * entry is dropped when the lineage is full.
 */
void lineage_push_front(struct lineage *lineage, struct lineage_entry *entry);

/*
 * Appends copies of the entries of from until lineage is full. Returns 0
 * or -ENOMEM.
 */
int lineage_append(struct lineage *lineage, const struct lineage *from);

/*
 * Appends process pid and its ancestors read from /proc, stopping before
 * stop (the supervisor), at pid 1 or when a process cannot be read.
 * Returns 0 or a negative errno of the first read.
 */
int lineage_read_chain(struct lineage *lineage, pid_t pid, pid_t stop);

/* Converts a start time in clock ticks after boot to wall time. */
void lineage_ticks_to_time(unsigned long long ticks, struct timespec *time);

#endif
