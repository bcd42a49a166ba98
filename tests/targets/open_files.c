/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: open_files DIR CREATE PLAIN
 *
 * Opens CREATE files in DIR with O_CREAT and then opens each of them
 * PLAIN times without it, all through libc's openat(). A test that
 * watches openat only when O_CREAT is set expects CREATE notifications.
 * Prints "created=N opened=M".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int open_file(const char *dir, int index, int flags)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/file-%d", dir, index);
	fd = openat(AT_FDCWD, path, flags | O_RDONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int create, plain, opened = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: open_files DIR CREATE PLAIN\n");
		return 2;
	}
	create = atoi(argv[2]);
	plain = atoi(argv[3]);
	for (int i = 0; i < create; i++) {
		if (open_file(argv[1], i, O_CREAT) < 0)
			return 1;
	}
	for (int round = 0; round < plain; round++) {
		for (int i = 0; i < create; i++) {
			if (open_file(argv[1], i, 0) < 0)
				return 1;
			opened++;
		}
	}
	printf("created=%d opened=%d\n", create, opened);
	return 0;
}
