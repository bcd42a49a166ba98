/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A parsed copy of /proc/PID/maps: the mappings of one address space,
 * sorted by address, with lookup by address.
 */
#ifndef NATIVEMON_MAPS_H
#define NATIVEMON_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	MAPPING_READ = 1 << 0,
	MAPPING_WRITE = 1 << 1,
	MAPPING_EXEC = 1 << 2,
	MAPPING_SHARED = 1 << 3,
};

struct mapping {
	uint64_t start;
	uint64_t end; /* exclusive */
	uint64_t offset;
	uint64_t inode;
	unsigned int dev_major;
	unsigned int dev_minor;
	unsigned int perms; /* MAPPING_* bits */
	bool deleted;	    /* the kernel appended " (deleted)" */
	/* For a cache of mappings: its change count when last confirmed. */
	unsigned long confirmed;
	/*
	 * The path or pseudo-name ("[heap]", "[anon:NAME]") as the kernel
	 * printed it, without " (deleted)"; NULL for an unnamed anonymous
	 * mapping. The kernel prints a newline in a path as "\012".
	 */
	char *path;
};

struct maps {
	struct mapping *items;
	size_t count;
	size_t capacity;
};

void maps_init(struct maps *maps);
void maps_fini(struct maps *maps);

/*
 * Parses the text of a maps file, replacing the contents of maps. Returns 0,
 * -EINVAL on a malformed line (maps is then empty) or -ENOMEM.
 */
int maps_parse(struct maps *maps, const char *text, size_t length);

/*
 * Reads and parses /proc/PID/maps. Returns 0 or a negative errno; -ESRCH or
 * -ENOENT mean the process is gone.
 */
int maps_read(struct maps *maps, pid_t pid);

/*
 * Asks the kernel for the mapping of process pid that contains address,
 * through the PROCMAP_QUERY ioctl of /proc/PID/maps (Linux 6.11), which
 * costs about as much as one small /proc read instead of a whole maps file.
 * Replaces *mapping, whose path the caller frees with maps_mapping_fini().
 * Returns 0, -ENOENT when no mapping contains address, -ENOTTY on kernels
 * without the ioctl, or another negative errno.
 */
int maps_query(pid_t pid, uint64_t address, struct mapping *mapping);

/*
 * Opens /proc/PID/maps for maps_query_fd(). Returns the descriptor or a
 * negative errno. The descriptor stays bound to the address space the
 * process had when it was opened. After an exec its queries describe the
 * old one, or fail with -ESRCH once that is gone, so reopen it then.
 */
int maps_open(pid_t pid);

/*
 * Queries like maps_query(), through a descriptor from maps_open(), which
 * saves the open and close of each query. Returns the same values.
 */
int maps_query_fd(int fd, uint64_t address, struct mapping *mapping);

void maps_mapping_fini(struct mapping *mapping);

/*
 * Replaces the contents of maps with the executable mappings of the
 * address space that fd (from maps_open()) is bound to, asked one by one
 * with PROCMAP_QUERY. With a few executable mappings among dozens of
 * others this costs a third of reading the whole maps file. The
 * [vsyscall] page is missing: it is not a mapping of the process, and
 * the origin of an address there is unknown either way. Returns 0,
 * -ENOTTY on kernels without the ioctl, or another negative errno; maps
 * is then empty.
 */
int maps_read_executable(struct maps *maps, int fd);

/*
 * Replaces the mappings of maps that overlap [start, end) with the
 * executable mappings that overlap it now, queried as
 * maps_read_executable() queries them. Returns 0 or a negative errno, and
 * then maps may lack mappings of the range.
 */
int maps_read_executable_range(struct maps *maps, int fd, uint64_t start,
			       uint64_t end);

/*
 * Adds a copy of mapping, fresh from the kernel, at its place in the
 * order. The mappings it overlaps are out of date and go. Returns the
 * copy, or NULL if memory ran out. The pointers that earlier lookups
 * returned are invalid afterwards.
 */
const struct mapping *maps_insert(struct maps *maps,
				  const struct mapping *mapping);

/* Returns the mapping that contains address, or NULL. */
const struct mapping *maps_lookup(const struct maps *maps, uint64_t address);

#endif
