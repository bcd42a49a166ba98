/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Syscall counts by module and syscall name, in a red-black tree ordered
 * as the report lists them, so that writing it is one in-order walk.
 */
#include "profile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>

/* Columns of a report line, the "#" included, before it wraps. */
#define LINE_WIDTH 79

/* The indentation of a module's list of syscalls. */
#define LIST_INDENT "#   "

struct profile_entry {
	RB_ENTRY(profile_entry) node;
	char *module;
	char *syscall;
	unsigned long count;
};

static int compare_entries(const struct profile_entry *a,
			   const struct profile_entry *b)
{
	int order = strcmp(a->module, b->module);

	return order ? order : strcmp(a->syscall, b->syscall);
}

RB_HEAD(profile_tree, profile_entry);
RB_GENERATE_INTERNAL(profile_tree, profile_entry, node, compare_entries,
		     __attribute__((unused)) static)

struct syscall_profile {
	struct profile_tree entries;
	unsigned long total;
};

struct syscall_profile *syscall_profile_new(void)
{
	struct syscall_profile *profile = calloc(1, sizeof(*profile));

	if (profile)
		RB_INIT(&profile->entries);
	return profile;
}

static void free_entry(struct profile_entry *entry)
{
	free(entry->module);
	free(entry->syscall);
	free(entry);
}

void syscall_profile_free(struct syscall_profile *profile)
{
	struct profile_entry *entry, *next;

	if (!profile)
		return;
	RB_FOREACH_SAFE(entry, profile_tree, &profile->entries, next)
	{
		RB_REMOVE(profile_tree, &profile->entries, entry);
		free_entry(entry);
	}
	free(profile);
}

int syscall_profile_count(struct syscall_profile *profile, const char *module,
			  const char *syscall)
{
	struct profile_entry key = { .module = (char *)module,
				     .syscall = (char *)syscall };
	struct profile_entry *entry;

	entry = RB_FIND(profile_tree, &profile->entries, &key);
	if (!entry) {
		entry = calloc(1, sizeof(*entry));
		if (!entry)
			return -ENOMEM;
		entry->module = strdup(module);
		entry->syscall = strdup(syscall);
		if (!entry->module || !entry->syscall) {
			free_entry(entry);
			return -ENOMEM;
		}
		RB_INSERT(profile_tree, &profile->entries, entry);
	}
	entry->count++;
	profile->total++;
	return 0;
}

unsigned long syscall_profile_total(const struct syscall_profile *profile)
{
	return profile->total;
}

/* A comment line cannot hold a line break, so control bytes become '?'. */
static void put_module(FILE *out, const char *module)
{
	fputs("#\n# ", out);
	for (const char *at = module; *at; at++) {
		unsigned char byte = (unsigned char)*at;

		fputc(byte < 0x20 || byte == 0x7f ? '?' : byte, out);
	}
	fputc('\n', out);
}

/*
 * Appends "NAME COUNT" to the list line of column width *column, breaking
 * the line first when the item would pass LINE_WIDTH.
 */
static void put_item(FILE *out, const struct profile_entry *entry, bool first,
		     size_t *column)
{
	char item[128];
	int length = snprintf(item, sizeof(item), "%s %lu", entry->syscall,
			      entry->count);
	size_t width = length > 0 ? (size_t)length : 0;

	if (first) {
		fputs(LIST_INDENT, out);
		*column = strlen(LIST_INDENT);
	} else if (*column + 2 + width > LINE_WIDTH) {
		fputs(",\n" LIST_INDENT, out);
		*column = strlen(LIST_INDENT);
	} else {
		fputs(", ", out);
		*column += 2;
	}
	fputs(item, out);
	*column += width;
}

int syscall_profile_write(const struct syscall_profile *profile, FILE *out)
{
	/* RB_FOREACH takes a mutable tree, but the walk changes nothing. */
	struct profile_tree *entries = (struct profile_tree *)&profile->entries;
	struct profile_entry *entry, *previous = NULL;
	size_t column = 0;

	RB_FOREACH(entry, profile_tree, entries)
	{
		bool first = !previous ||
			     strcmp(previous->module, entry->module) != 0;

		if (first) {
			if (previous)
				fputc('\n', out);
			put_module(out, entry->module);
		}
		put_item(out, entry, first, &column);
		previous = entry;
	}
	if (previous)
		fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
