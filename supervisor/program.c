/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A red-black tree of program facts, emptied when it reaches its bound,
 * like the digest cache: a lost entry costs one more read of two headers.
 */
#include "program.h"

#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>

#include "file_key.h"

/*
 * Entries take about 100 bytes, and a build runs a few dozen programs (an
 * estimate), so the bound is rarely reached.
 */
#define PROGRAM_CACHE_MAX 1024

struct program_entry {
	RB_ENTRY(program_entry) node;
	struct file_key key;
	struct program_facts facts;
};

static int compare_entries(const struct program_entry *a,
			   const struct program_entry *b)
{
	return file_key_compare(&a->key, &b->key);
}

RB_GENERATE_INTERNAL(program_tree, program_entry, node, compare_entries,
		     __attribute__((unused)) static)

void program_cache_init(struct program_cache *cache)
{
	RB_INIT(&cache->entries);
	cache->count = 0;
}

void program_cache_fini(struct program_cache *cache)
{
	struct program_entry *entry, *next;

	RB_FOREACH_SAFE(entry, program_tree, &cache->entries, next) {
		RB_REMOVE(program_tree, &cache->entries, entry);
		free(entry);
	}
	cache->count = 0;
}

static bool has_interpreter(Elf *elf, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		GElf_Phdr phdr;

		if (gelf_getphdr(elf, (int)i, &phdr) &&
		    phdr.p_type == PT_INTERP)
			return true;
	}
	return false;
}

/* libelf reads only the headers asked for (two preads), not the file. */
static int read_facts(int fd, struct program_facts *facts)
{
	size_t count;
	int err = -ENOEXEC;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	if (elf_kind(elf) == ELF_K_ELF && elf_getphdrnum(elf, &count) == 0) {
		facts->is_static = !has_interpreter(elf, count);
		err = 0;
	}
	elf_end(elf);
	return err;
}

const struct program_facts *program_cache_find(struct program_cache *cache,
					       const struct stat *st)
{
	struct program_entry key, *entry;

	file_key_from_stat(&key.key, st);
	entry = RB_FIND(program_tree, &cache->entries, &key);
	return entry ? &entry->facts : NULL;
}

const struct program_facts *program_cache_read(struct program_cache *cache,
					       int fd)
{
	const struct program_facts *known;
	struct program_entry *entry;
	struct stat st;

	if (fstat(fd, &st) < 0 || file_is_on_fuse(fd))
		return NULL;
	known = program_cache_find(cache, &st);
	if (known)
		return known;
	if (!file_key_is_settled(&st))
		return read_facts(fd, &cache->unsettled) == 0 ? &cache->unsettled
							       : NULL;

	entry = malloc(sizeof(*entry));
	if (!entry)
		return NULL;
	file_key_from_stat(&entry->key, &st);
	if (read_facts(fd, &entry->facts) < 0) {
		free(entry);
		return NULL;
	}

	if (cache->count == PROGRAM_CACHE_MAX)
		program_cache_fini(cache);
	RB_INSERT(program_tree, &cache->entries, entry);
	cache->count++;
	return &entry->facts;
}
