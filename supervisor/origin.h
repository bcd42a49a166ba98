/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Classification of a mapping into the origin kinds that rules match on:
 * libc, the dynamic loader, the vDSO, the main executable, other modules,
 * and the kinds of file-less memory.
 */
#ifndef NATIVEMON_ORIGIN_H
#define NATIVEMON_ORIGIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps.h"
#include "policy/policy.h"

/* The file of a process's main executable, from /proc/PID/exe. */
struct exe_identity {
	unsigned int dev_major;
	unsigned int dev_minor;
	uint64_t inode;
	const char *path; /* NULL when unknown */
};

/*
 * Returns the origin kind of a mapping; ORIGIN_UNKNOWN for NULL (an address
 * outside every mapping). exe may be NULL.
 */
enum origin_kind origin_classify(const struct mapping *mapping,
				 const struct exe_identity *exe);

/* Returns true if the base name of path is that of a C library. */
bool origin_is_libc_path(const char *path);

/*
 * Returns true for memory without a file on disk behind it: anonymous,
 * heap, stack, a memfd or a deleted file. Code there is shellcode, JIT
 * output or a loaded payload.
 */
bool origin_is_unbacked(enum origin_kind kind);

/* Returns true if the base name of path is that of a dynamic loader. */
bool origin_is_loader_path(const char *path);

/*
 * Names the preload shim this supervisor hands to its targets, or NULL
 * for none. The shim's wrappers sit between a program and libc, so its
 * frames are passed over when the caller of a call is looked for. The
 * path is kept, not copied.
 */
void origin_set_shim_path(const char *path);

/* Returns true if path is the preload shim's. */
bool origin_is_shim_path(const char *path);

/* Returns true if the file with this device and inode is the shim. */
bool origin_is_shim_file(dev_t dev, ino_t inode);

#endif
