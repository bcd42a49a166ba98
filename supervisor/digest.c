/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A red-black tree of file digests, emptied when it reaches its bound:
 * losing the digests costs one more hash per file, while an unbounded
 * cache would grow with every file a long-lived service ever loads.
 */
#include "digest.h"

#include <bsd/sys/tree.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_key.h"

/*
 * Entries take about 130 bytes each. A system has a few thousand
 * libraries (an estimate), so the bound is rarely reached.
 */
#define DIGEST_CACHE_MAX 4096

struct digest_entry {
	RB_ENTRY(digest_entry) node;
	struct file_key key;
	struct module_digest digest;
};

static int compare_entries(const struct digest_entry *a,
			   const struct digest_entry *b)
{
	return file_key_compare(&a->key, &b->key);
}

RB_HEAD(digest_tree, digest_entry);
RB_GENERATE_INTERNAL(digest_tree, digest_entry, node, compare_entries,
		     __attribute__((unused)) static)

struct digest_cache {
	struct digest_tree entries;
	size_t count;
	/* The digest of the last file hashed that was changed too recently. */
	struct module_digest unsettled;
};

struct digest_cache *digest_cache_new(void)
{
	struct digest_cache *cache = calloc(1, sizeof(*cache));

	if (cache)
		RB_INIT(&cache->entries);
	return cache;
}

static void clear(struct digest_cache *cache)
{
	struct digest_entry *entry, *next;

	RB_FOREACH_SAFE(entry, digest_tree, &cache->entries, next) {
		RB_REMOVE(digest_tree, &cache->entries, entry);
		free(entry);
	}
	cache->count = 0;
}

void digest_cache_free(struct digest_cache *cache)
{
	if (!cache)
		return;
	clear(cache);
	free(cache);
}

const struct module_digest *digest_cache_find(struct digest_cache *cache,
					      const struct stat *st)
{
	struct digest_entry key, *entry;

	file_key_from_stat(&key.key, st);
	entry = RB_FIND(digest_tree, &cache->entries, &key);
	return entry ? &entry->digest : NULL;
}

const struct module_digest *digest_cache_get(struct digest_cache *cache,
					     int fd)
{
	struct digest_entry key, *entry;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	file_key_from_stat(&key.key, &st);
	entry = RB_FIND(digest_tree, &cache->entries, &key);
	if (entry)
		return &entry->digest;
	if (!file_key_is_settled(&st))
		return module_digest_file(fd, &cache->unsettled) == 0
			       ? &cache->unsettled
			       : NULL;

	entry = malloc(sizeof(*entry));
	if (!entry)
		return NULL;
	*entry = key;
	if (module_digest_file(fd, &entry->digest) < 0) {
		free(entry);
		return NULL;
	}

	if (cache->count == DIGEST_CACHE_MAX)
		clear(cache);
	RB_INSERT(digest_tree, &cache->entries, entry);
	cache->count++;
	return &entry->digest;
}
