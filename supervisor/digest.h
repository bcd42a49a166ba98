/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SHA-256 and build-id of each file reported as a module load,
 * computed once per file: a service maps the same libraries in every
 * process it starts. Entries are keyed like the module cache's (device,
 * inode, size, mtime and ctime), so a file replaced or rewritten is hashed
 * again.
 */
#ifndef NATIVEMON_DIGEST_H
#define NATIVEMON_DIGEST_H

#include <sys/stat.h>
#include <sys/types.h>

#include "module.h"

struct digest_cache;

/* Returns an empty cache, or NULL without memory. */
struct digest_cache *digest_cache_new(void);
void digest_cache_free(struct digest_cache *cache);

/*
 * Returns the digest already computed of the file that st describes, or
 * NULL. Reads nothing, so a hit saves opening the file.
 */
const struct module_digest *digest_cache_find(struct digest_cache *cache,
					      const struct stat *st);

/*
 * Returns the digest of the file open at fd, computing it on the first
 * request for that file, or on every request while the file's last change
 * is recent (see file_key_is_settled()). The digest stays valid until the
 * next call.
 * Returns NULL when the file cannot be hashed (see module_digest_file()).
 */
const struct module_digest *digest_cache_get(struct digest_cache *cache,
					     int fd);

#endif
