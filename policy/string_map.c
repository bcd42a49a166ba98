/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A map from strings to indexes on libbsd's red-black tree, so that
 * checking rule ids costs O(log n) per rule rather than a scan.
 */
#include "policy/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int compare_entries(const struct string_map_entry *a,
			   const struct string_map_entry *b)
{
	return strcmp(a->key, b->key);
}

/* libbsd leaves __unused undefined, which RB_GENERATE_STATIC needs. */
RB_GENERATE_INTERNAL(string_map, string_map_entry, node, compare_entries,
		     __attribute__((unused)) static)

void string_map_init(struct string_map *map)
{
	RB_INIT(map);
}

void string_map_fini(struct string_map *map)
{
	struct string_map_entry *entry, *next;

	RB_FOREACH_SAFE(entry, string_map, map, next) {
		RB_REMOVE(string_map, map, entry);
		free(entry);
	}
}

int string_map_put(struct string_map *map, const char *key, size_t value)
{
	struct string_map_entry *entry = calloc(1, sizeof(*entry));
	struct string_map_entry *existing;

	if (!entry)
		return -ENOMEM;
	entry->key = key;
	entry->value = value;
	existing = RB_INSERT(string_map, map, entry);
	if (existing) {
		existing->key = key;
		existing->value = value;
		free(entry);
	}
	return 0;
}

bool string_map_get(const struct string_map *map, const char *key,
		    size_t *value)
{
	struct string_map_entry probe = { .key = key };
	struct string_map_entry *entry;

	entry = RB_FIND(string_map, (struct string_map *)map, &probe);
	if (!entry)
		return false;
	*value = entry->value;
	return true;
}
