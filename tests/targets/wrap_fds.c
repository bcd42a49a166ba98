/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target for the descriptor leak test. It prints the numbers of its open
 * file descriptors in ascending order on one line, leaving out the
 * descriptor of the /proc/self/fd listing itself.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#define FDS_MAX 1024

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	DIR *directory = opendir("/proc/self/fd");
	struct dirent *entry;
	int fds[FDS_MAX];
	size_t count = 0;

	if (!directory) {
		perror("wrap_fds: /proc/self/fd");
		return 2;
	}
	while ((entry = readdir(directory))) {
		char *end;
		long fd = strtol(entry->d_name, &end, 10);

		if (entry->d_name[0] == '.' || *end != '\0')
			continue;
		if (fd == dirfd(directory))
			continue;
		if (count == FDS_MAX) {
			fprintf(stderr,
				"wrap_fds: more than %d open descriptors\n",
				FDS_MAX);
			return 2;
		}
		fds[count++] = (int)fd;
	}
	closedir(directory);
	qsort(fds, count, sizeof(fds[0]), compare_ints);
	for (size_t i = 0; i < count; i++)
		printf("%s%d", i ? " " : "", fds[i]);
	printf("\n");
	return 0;
}
