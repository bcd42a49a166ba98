/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Facts from the ELF headers of executed programs, read once per file. A
 * build runs the same compiler and assembler hundreds of times, and each
 * exec would otherwise open its program to see whether it is static.
 * Entries are keyed like the digest cache's (device, inode, size, mtime
 * and ctime), so a program replaced or rewritten is read again.
 */
#ifndef NATIVEMON_PROGRAM_H
#define NATIVEMON_PROGRAM_H

#include <bsd/sys/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct program_facts {
	bool is_static; /* no program interpreter (PT_INTERP) */
};

struct program_entry;
RB_HEAD(program_tree, program_entry);

struct program_cache {
	struct program_tree entries;
	size_t count;
	/* The facts of the last file read that was changed too recently. */
	struct program_facts unsettled;
};

void program_cache_init(struct program_cache *cache);
void program_cache_fini(struct program_cache *cache);

/*
 * Returns the facts already read of the file that st describes, or NULL.
 * Reads nothing, so a hit saves opening the file.
 */
const struct program_facts *program_cache_find(struct program_cache *cache,
					       const struct stat *st);

/*
 * Returns the facts of the ELF file open at fd, reading its headers on the
 * first request for that file, or on every request while the file's last
 * change is recent (see file_key_is_settled()). The facts stay valid until
 * the next call. Returns NULL for a file that is not ELF, cannot be read
 * or is on FUSE, which could leave the read unanswered for ever.
 */
const struct program_facts *program_cache_read(struct program_cache *cache,
					       int fd);

#endif
