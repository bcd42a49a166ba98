/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: manual_map [--mprotect|--rewrite] LIBRARY
 *
 * Maps the first executable PT_LOAD segment of the shared library LIBRARY
 * with PROT_READ | PROT_EXEC through mmap(2) itself, as a reflective
 * loader does, without the dynamic loader. With --mprotect it maps the
 * segment readable only and then makes it executable with mprotect(2).
 * With --rewrite it unmaps the segment, appends a byte to LIBRARY, which
 * must be writable, and maps the segment again.
 * Exits with 0 once the segment is mapped, or with 1 after a message.
 */
#include <elf.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int read_exactly(int fd, void *buffer, size_t size, off_t offset)
{
	ssize_t n = pread(fd, buffer, size, offset);

	return n == (ssize_t)size ? 0 : -1;
}

static int is_elf64(const Elf64_Ehdr *header)
{
	return memcmp(header->e_ident, ELFMAG, SELFMAG) == 0 &&
	       header->e_ident[EI_CLASS] == ELFCLASS64 &&
	       header->e_phentsize == sizeof(Elf64_Phdr);
}

/* Finds the first PT_LOAD with PF_X; returns 0 or -1. */
static int find_code_segment(int fd, Elf64_Phdr *segment)
{
	Elf64_Ehdr header;

	if (read_exactly(fd, &header, sizeof(header), 0) < 0 ||
	    !is_elf64(&header))
		return -1;
	for (unsigned int i = 0; i < header.e_phnum; i++) {
		off_t offset = (off_t)(header.e_phoff + i * sizeof(*segment));

		if (read_exactly(fd, segment, sizeof(*segment), offset) < 0)
			return -1;
		if (segment->p_type == PT_LOAD && (segment->p_flags & PF_X))
			return 0;
	}
	return -1;
}

/*
 * Maps the code segment of the library open at fd executable, directly or
 * through mprotect(2). Returns the mapping, or MAP_FAILED after a message.
 */
static void *map_code(int fd, const Elf64_Phdr *segment, bool protect,
		      size_t *length)
{
	long page = sysconf(_SC_PAGESIZE);
	/* mmap(2) takes a page-aligned offset. */
	off_t start = (off_t)segment->p_offset & ~(off_t)(page - 1);
	void *code;

	*length = segment->p_filesz + (size_t)(segment->p_offset - start);
	code = mmap(NULL, *length, PROT_READ | (protect ? 0 : PROT_EXEC),
		    MAP_PRIVATE, fd, start);
	if (code == MAP_FAILED) {
		perror("manual_map: mmap");
		return MAP_FAILED;
	}
	if (protect && mprotect(code, *length, PROT_READ | PROT_EXEC) < 0) {
		perror("manual_map: mprotect");
		return MAP_FAILED;
	}
	printf("mapped %zu bytes at offset %lld\n", *length, (long long)start);
	return code;
}

/* Appends a byte, which keeps the inode but changes size and mtime. */
static int rewrite(const char *library)
{
	int fd = open(library, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0 || write(fd, "", 1) != 1) {
		perror("manual_map: rewrite");
		return -1;
	}
	return close(fd);
}

int main(int argc, char **argv)
{
	const char *mode = argc == 3 ? argv[1] : "";
	bool protect = strcmp(mode, "--mprotect") == 0;
	bool twice = strcmp(mode, "--rewrite") == 0;
	const char *library = argv[argc - 1];
	Elf64_Phdr segment;
	size_t length;
	void *code;
	int fd;

	if (argc != 2 && !protect && !twice) {
		fprintf(stderr,
			"usage: manual_map [--mprotect|--rewrite] LIBRARY\n");
		return 2;
	}
	fd = open(library, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("manual_map: open");
		return 1;
	}
	if (find_code_segment(fd, &segment) < 0) {
		fprintf(stderr, "manual_map: %s has no executable segment\n",
			library);
		return 1;
	}
	code = map_code(fd, &segment, protect, &length);
	if (code == MAP_FAILED)
		return 1;
	if (!twice)
		return 0;
	if (munmap(code, length) < 0 || rewrite(library) < 0)
		return 1;
	return map_code(fd, &segment, false, &length) == MAP_FAILED;
}
