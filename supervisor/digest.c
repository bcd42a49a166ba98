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

/*
 * Entries take about 130 bytes each. A system has a few thousand
 * libraries (an estimate), so the bound is rarely reached.
 */
#define DIGEST_CACHE_MAX 4096

struct digest_entry {
	RB_ENTRY(digest_entry) node;
	dev_t dev;
	ino_t inode;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
	struct module_digest digest;
};

static int compare_time(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static int compare_entries(const struct digest_entry *a,
			   const struct digest_entry *b)
{
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->inode != b->inode)
		return a->inode < b->inode ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (compare_time(&a->mtime, &b->mtime) != 0)
		return compare_time(&a->mtime, &b->mtime);
	return compare_time(&a->ctime, &b->ctime);
}

RB_HEAD(digest_tree, digest_entry);
RB_GENERATE_INTERNAL(digest_tree, digest_entry, node, compare_entries,
		     __attribute__((unused)) static)

struct digest_cache {
	struct digest_tree entries;
	size_t count;
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

static void key_from_stat(const struct stat *st, struct digest_entry *key)
{
	key->dev = st->st_dev;
	key->inode = st->st_ino;
	key->size = st->st_size;
	key->mtime = st->st_mtim;
	key->ctime = st->st_ctim;
}

const struct module_digest *digest_cache_find(struct digest_cache *cache,
					      const struct stat *st)
{
	struct digest_entry key, *entry;

	key_from_stat(st, &key);
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
	key_from_stat(&st, &key);
	entry = RB_FIND(digest_tree, &cache->entries, &key);
	if (entry)
		return &entry->digest;

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
