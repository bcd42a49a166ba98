/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: deep_path NAME DEPTH load|exec. Changes into the directory NAME
 * DEPTH times, one chdir() per level because the whole path may be longer
 * than PATH_MAX, then loads ./lib.so with dlopen() or executes ./prog.
 * The library must be the payload, whose nm_payload_answer() returns 42.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAYLOAD_ANSWER 42

static int descend(const char *name, long depth)
{
	for (long level = 1; level <= depth; level++) {
		if (chdir(name) < 0) {
			fprintf(stderr, "deep_path: cannot enter level %ld: %s\n",
				level, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int load_library(void)
{
	int (*answer)(void);
	void *handle = dlopen("./lib.so", RTLD_NOW | RTLD_LOCAL);

	if (!handle) {
		fprintf(stderr, "deep_path: %s\n", dlerror());
		return -1;
	}
	answer = (int (*)(void))dlsym(handle, "nm_payload_answer");
	if (!answer || answer() != PAYLOAD_ANSWER) {
		fprintf(stderr, "deep_path: ./lib.so is not the payload\n");
		return -1;
	}
	printf("loaded=./lib.so\n");
	return 0;
}

static int execute_program(void)
{
	char *const argv[] = { "./prog", NULL };

	fflush(stdout);
	execv(argv[0], argv);
	fprintf(stderr, "deep_path: cannot execute ./prog: %s\n",
		strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	long depth;

	if (argc != 4) {
		fprintf(stderr, "usage: deep_path NAME DEPTH load|exec\n");
		return 2;
	}
	depth = strtol(argv[2], NULL, 10);
	if (descend(argv[1], depth) < 0)
		return 1;
	if (strcmp(argv[3], "load") == 0)
		return load_library() < 0 ? 1 : 0;
	if (strcmp(argv[3], "exec") == 0)
		return execute_program() < 0 ? 1 : 0;
	fprintf(stderr, "deep_path: unknown action '%s'\n", argv[3]);
	return 2;
}
