/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing of /proc/PID/maps. The file is read whole before parsing because
 * the kernel builds it while it is read. Every field is checked, because a
 * line that does not parse means an unexpected format.
 */
#include "maps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "procfs.h"

/* A process has at most vm.max_map_count (65530 by default) mappings. */
#define MAPS_FILE_MAX (64u << 20)

static const char deleted_suffix[] = " (deleted)";

void maps_init(struct maps *maps)
{
	memset(maps, 0, sizeof(*maps));
}

static void clear_items(struct maps *maps)
{
	for (size_t i = 0; i < maps->count; i++)
		free(maps->items[i].path);
	maps->count = 0;
}

void maps_fini(struct maps *maps)
{
	clear_items(maps);
	free(maps->items);
	maps_init(maps);
}

static struct mapping *append_item(struct maps *maps)
{
	if (maps->count == maps->capacity) {
		size_t capacity = maps->capacity ? maps->capacity * 2 : 64;
		struct mapping *items = reallocarray(maps->items, capacity,
						     sizeof(*items));

		if (!items)
			return NULL;
		maps->items = items;
		maps->capacity = capacity;
	}
	return memset(&maps->items[maps->count++], 0, sizeof(struct mapping));
}

static unsigned int parse_perms(const char *perms)
{
	unsigned int bits = 0;

	if (perms[0] == 'r')
		bits |= MAPPING_READ;
	if (perms[1] == 'w')
		bits |= MAPPING_WRITE;
	if (perms[2] == 'x')
		bits |= MAPPING_EXEC;
	if (perms[3] == 's')
		bits |= MAPPING_SHARED;
	return bits;
}

static int set_path(struct mapping *mapping, const char *name, size_t length)
{
	size_t suffix = sizeof(deleted_suffix) - 1;

	if (length == 0)
		return 0;
	if (length > suffix &&
	    memcmp(name + length - suffix, deleted_suffix, suffix) == 0) {
		mapping->deleted = true;
		length -= suffix;
	}
	mapping->path = strndup(name, length);
	return mapping->path ? 0 : -ENOMEM;
}

/*
 * Parses the number in base at *cursor and moves *cursor past it.
 * strtoull() skips leading white space and takes a sign, like the "%x"
 * and "%u" conversions of sscanf(), at a fraction of the cost.
 */
static int parse_number(const char **cursor, int base, uint64_t *value)
{
	char *end;

	*value = strtoull(*cursor, &end, base);
	if (end == *cursor)
		return -EINVAL;
	*cursor = end;
	return 0;
}

static int skip_char(const char **cursor, char expected)
{
	if (**cursor != expected)
		return -EINVAL;
	(*cursor)++;
	return 0;
}

static const char *skip_spaces(const char *cursor)
{
	while (isspace((unsigned char)*cursor))
		cursor++;
	return cursor;
}

/*
 * Copies the permissions field at *cursor, after white space, into perms.
 * The field must be exactly four characters other than white space.
 */
static int parse_perms_field(const char **cursor, char perms[5])
{
	const char *field = skip_spaces(*cursor);
	size_t length = 0;

	while (length < 4 && field[length] != '\0' &&
	       !isspace((unsigned char)field[length]))
		length++;
	if (length != 4)
		return -EINVAL;
	memcpy(perms, field, 4);
	perms[4] = '\0';
	*cursor = field + 4;
	return 0;
}

/*
 * Parses the fields before the name into mapping and perms. Returns the
 * offset of the name, after the white space that pads the inode column,
 * or -EINVAL.
 */
static int parse_fields(struct mapping *mapping, const char *line,
			char perms[5])
{
	const char *cursor = line;
	uint64_t major, minor;

	if (parse_number(&cursor, 16, &mapping->start) < 0 ||
	    skip_char(&cursor, '-') < 0 ||
	    parse_number(&cursor, 16, &mapping->end) < 0 ||
	    parse_perms_field(&cursor, perms) < 0 ||
	    parse_number(&cursor, 16, &mapping->offset) < 0 ||
	    parse_number(&cursor, 16, &major) < 0 ||
	    skip_char(&cursor, ':') < 0 ||
	    parse_number(&cursor, 16, &minor) < 0 ||
	    parse_number(&cursor, 10, &mapping->inode) < 0)
		return -EINVAL;
	mapping->dev_major = (unsigned int)major;
	mapping->dev_minor = (unsigned int)minor;
	return (int)(skip_spaces(cursor) - line);
}

/*
 * Parses one line: "START-END PERMS OFFSET MAJOR:MINOR INODE [NAME]". The
 * name starts after the run of spaces that pads the inode column and runs
 * to the end of the line, spaces included.
 */
static int parse_line(struct mapping *mapping, const char *line, size_t length)
{
	char copy[160], perms[5];
	int name_start;
	size_t head = length < sizeof(copy) - 1 ? length : sizeof(copy) - 1;

	memcpy(copy, line, head);
	copy[head] = '\0';
	name_start = parse_fields(mapping, copy, perms);
	if (name_start < 0)
		return -EINVAL;
	if (mapping->end <= mapping->start)
		return -EINVAL;
	if (!strchr("r-", perms[0]) || !strchr("w-", perms[1]) ||
	    !strchr("x-", perms[2]) || !strchr("ps", perms[3]))
		return -EINVAL;
	/* The copy is for the fields alone, because the name is unbounded. */
	if ((size_t)name_start > length)
		return -EINVAL;
	mapping->perms = parse_perms(perms);
	return set_path(mapping, line + name_start, length - (size_t)name_start);
}

static int compare_start(const void *a, const void *b)
{
	const struct mapping *left = a, *right = b;

	if (left->start != right->start)
		return left->start < right->start ? -1 : 1;
	return 0;
}

int maps_parse(struct maps *maps, const char *text, size_t length)
{
	const char *end = text + length;

	clear_items(maps);
	while (text < end) {
		const char *newline = memchr(text, '\n', (size_t)(end - text));
		size_t line_length = newline ? (size_t)(newline - text)
					     : (size_t)(end - text);
		struct mapping *mapping;
		int err;

		if (line_length > 0) {
			mapping = append_item(maps);
			if (!mapping) {
				clear_items(maps);
				return -ENOMEM;
			}
			err = parse_line(mapping, text, line_length);
			if (err < 0) {
				clear_items(maps);
				return err;
			}
		}
		text += line_length + 1;
	}
	/* The kernel prints mappings in order; sorting guards the lookup. */
	if (maps->count > 1)
		qsort(maps->items, maps->count, sizeof(*maps->items),
		      compare_start);
	return 0;
}

/*
 * The PROCMAP_QUERY request, as include/uapi/linux/fs.h of Linux 6.11
 * defines it; the C library headers here predate it.
 */
struct procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};

#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_VMA_SHARED 0x08
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10

static unsigned int query_perms(uint64_t flags)
{
	unsigned int bits = 0;

	if (flags & PROCMAP_QUERY_VMA_READABLE)
		bits |= MAPPING_READ;
	if (flags & PROCMAP_QUERY_VMA_WRITABLE)
		bits |= MAPPING_WRITE;
	if (flags & PROCMAP_QUERY_VMA_EXECUTABLE)
		bits |= MAPPING_EXEC;
	if (flags & PROCMAP_QUERY_VMA_SHARED)
		bits |= MAPPING_SHARED;
	return bits;
}

void maps_mapping_fini(struct mapping *mapping)
{
	free(mapping->path);
	memset(mapping, 0, sizeof(*mapping));
}

int maps_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Queries with the PROCMAP_QUERY_* flags in query_flags. */
static int query_with_flags(int fd, uint64_t address, uint64_t query_flags,
			    struct mapping *mapping)
{
	char name[4096 + sizeof(deleted_suffix)];
	struct procmap_query query = {
		.size = sizeof(query),
		.query_flags = query_flags,
		.query_addr = address,
		.vma_name_addr = (uint64_t)(uintptr_t)name,
		.vma_name_size = sizeof(name),
	};

	if (ioctl(fd, PROCMAP_QUERY, &query) < 0)
		return -errno;
	maps_mapping_fini(mapping);
	mapping->start = query.vma_start;
	mapping->end = query.vma_end;
	mapping->offset = query.vma_offset;
	mapping->inode = query.inode;
	mapping->dev_major = query.dev_major;
	mapping->dev_minor = query.dev_minor;
	mapping->perms = query_perms(query.vma_flags);
	/* vma_name_size counts the NUL; 0 means an unnamed mapping. */
	if (query.vma_name_size > 1)
		return set_path(mapping, name, query.vma_name_size - 1);
	return 0;
}

int maps_query_fd(int fd, uint64_t address, struct mapping *mapping)
{
	return query_with_flags(fd, address, 0, mapping);
}

int maps_query(pid_t pid, uint64_t address, struct mapping *mapping)
{
	int fd = maps_open(pid);
	int err;

	if (fd < 0)
		return fd;
	err = maps_query_fd(fd, address, mapping);
	close(fd);
	return err;
}

int maps_read(struct maps *maps, pid_t pid)
{
	char path[64];
	char *text = NULL;
	size_t length = 0;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	err = procfs_read_all(path, MAPS_FILE_MAX, &text, &length);
	if (err < 0)
		return err;
	err = maps_parse(maps, text, length);
	free(text);
	return err;
}

/* Returns the index of the first mapping that ends above address. */
static size_t find_index(const struct maps *maps, uint64_t address)
{
	size_t low = 0, high = maps->count;

	while (low < high) {
		size_t middle = low + (high - low) / 2;

		if (maps->items[middle].end <= address)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* Removes the mappings from index on that start below end. */
static void remove_overlapping(struct maps *maps, size_t index, uint64_t end)
{
	size_t last = index;

	while (last < maps->count && maps->items[last].start < end) {
		free(maps->items[last].path);
		last++;
	}
	if (last == index)
		return;
	memmove(&maps->items[index], &maps->items[last],
		(maps->count - last) * sizeof(*maps->items));
	maps->count -= last - index;
}

const struct mapping *maps_insert(struct maps *maps,
				  const struct mapping *mapping)
{
	char *path = NULL;
	struct mapping *item;
	size_t index;

	if (mapping->path) {
		path = strdup(mapping->path);
		if (!path)
			return NULL;
	}
	index = find_index(maps, mapping->start);
	remove_overlapping(maps, index, mapping->end);
	if (!append_item(maps)) {
		free(path);
		return NULL;
	}
	item = &maps->items[index];
	memmove(item + 1, item,
		(maps->count - 1 - index) * sizeof(*maps->items));
	*item = *mapping;
	item->path = path;
	return item;
}

int maps_read_executable_range(struct maps *maps, int fd, uint64_t start,
			       uint64_t end)
{
	const uint64_t flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
			       PROCMAP_QUERY_VMA_EXECUTABLE;
	struct mapping found = { 0 };
	uint64_t address = start;
	int err;

	remove_overlapping(maps, find_index(maps, start), end);
	while (address < end) {
		err = query_with_flags(fd, address, flags, &found);
		if (err == -ENOENT)
			break;
		/* Each mapping found ends above the address queried. */
		if (err == 0 && found.end <= address)
			err = -EIO;
		if (err == 0 && found.start < end && !maps_insert(maps, &found))
			err = -ENOMEM;
		if (err < 0) {
			maps_mapping_fini(&found);
			return err;
		}
		address = found.end;
		if (found.start >= end)
			break;
	}
	maps_mapping_fini(&found);
	return 0;
}

int maps_read_executable(struct maps *maps, int fd)
{
	int err;

	clear_items(maps);
	err = maps_read_executable_range(maps, fd, 0, UINT64_MAX);
	if (err < 0)
		clear_items(maps);
	return err;
}

const struct mapping *maps_lookup(const struct maps *maps, uint64_t address)
{
	size_t low = 0, high = maps->count;

	while (low < high) {
		size_t middle = low + (high - low) / 2;
		const struct mapping *mapping = &maps->items[middle];

		if (address < mapping->start)
			high = middle;
		else if (address >= mapping->end)
			low = middle + 1;
		else
			return mapping;
	}
	return NULL;
}
