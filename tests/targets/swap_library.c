/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: swap_library DIR FIRST SECOND ROUNDS
 *
 * Replaces DIR/libnmswap.so by a copy of FIRST in even rounds and of
 * SECOND in odd ones, as a package upgrade does (a new file, renamed over
 * the old one), then loads it, makes its direct syscall and unloads it.
 * Prints "round=N build=B address=A" with the address of the library's
 * function, which the loader mostly reuses from round to round.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int copy_file(const char *from, const char *to)
{
	char buffer[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t n = -1;

	if (in >= 0 && out >= 0) {
		while ((n = read(in, buffer, sizeof(buffer))) > 0) {
			if (write(out, buffer, (size_t)n) != n) {
				n = -1;
				break;
			}
		}
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		n = -1;
	return n == 0 ? 0 : -1;
}

static int run_round(const char *directory, const char *library, int round)
{
	char path[4096], staged[4096];
	long (*memfd)(void), (*build)(void);
	void *handle;
	long fd;

	snprintf(path, sizeof(path), "%s/libnmswap.so", directory);
	snprintf(staged, sizeof(staged), "%s/libnmswap.so.new", directory);
	if (copy_file(library, staged) < 0 || rename(staged, path) < 0) {
		perror("swap_library: cannot install the library");
		return -1;
	}
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "swap_library: %s\n", dlerror());
		return -1;
	}
	build = (long (*)(void))dlsym(handle, "nm_swap_build");
	memfd = (long (*)(void))dlsym(handle, "nm_swap_memfd");
	if (!build || !memfd) {
		fprintf(stderr, "swap_library: %s lacks nm_swap_memfd\n",
			library);
		return -1;
	}
	fd = memfd();
	if (fd < 0) {
		fprintf(stderr, "swap_library: memfd_create failed: %s\n",
			strerror((int)-fd));
		return -1;
	}
	close((int)fd);
	printf("round=%d build=%ld address=%p\n", round, build(),
	       (void *)memfd);
	dlclose(handle);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds;

	if (argc != 5) {
		fprintf(stderr,
			"usage: swap_library DIR FIRST SECOND ROUNDS\n");
		return 2;
	}
	rounds = atoi(argv[4]);
	for (int round = 0; round < rounds; round++) {
		const char *library = round % 2 ? argv[3] : argv[2];

		if (run_round(argv[1], library, round) < 0)
			return 1;
	}
	return 0;
}
