/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: remap_file FIRST SECOND
 *
 * Maps the first page of the file FIRST with PROT_READ | PROT_EXEC, prints
 * "stub ADDRESS" and "ready", and blocks in a read(2) of stdin. After one
 * byte it unmaps the page and maps the first page of SECOND at the same
 * address, prints the same lines and blocks again. Exits with 0 after the
 * second byte, or with 1 after a message.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Maps the first page of path at address, or anywhere for NULL. */
static void *map_first_page(const char *path, void *address, size_t size)
{
	int flags = MAP_PRIVATE | (address ? MAP_FIXED_NOREPLACE : 0);
	void *page;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return MAP_FAILED;
	}
	page = mmap(address, size, PROT_READ | PROT_EXEC, flags, fd, 0);
	if (page == MAP_FAILED)
		perror("remap_file: mmap");
	close(fd);
	return page;
}

/* Reports the page and waits for one byte on stdin. */
static int report_and_wait(void *page)
{
	char byte;

	printf("stub %p\nready\n", page);
	fflush(stdout);
	return read(0, &byte, 1) == 1 ? 0 : -1;
}

int main(int argc, char *argv[])
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE);
	void *page, *again;

	if (argc != 3) {
		fprintf(stderr, "usage: remap_file FIRST SECOND\n");
		return 1;
	}
	page = map_first_page(argv[1], NULL, size);
	if (page == MAP_FAILED || report_and_wait(page) < 0)
		return 1;

	if (munmap(page, size) < 0) {
		perror("remap_file: munmap");
		return 1;
	}
	again = map_first_page(argv[2], page, size);
	if (again != page) {
		fprintf(stderr, "remap_file: mapped at %p, not %p\n", again,
			page);
		return 1;
	}
	return report_and_wait(page) < 0 ? 1 : 0;
}
