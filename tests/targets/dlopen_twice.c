/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: dlopen_twice LIBRARY
 *
 * Loads LIBRARY with dlopen() twice and prints "first=ok|failed
 * second=ok|failed". A denied load must be denied again on the retry.
 */
#include <dlfcn.h>
#include <stdio.h>

static const char *try_load(const char *path)
{
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!handle)
		return "failed";
	dlclose(handle);
	return "ok";
}

int main(int argc, char **argv)
{
	const char *first, *second;

	if (argc != 2) {
		fprintf(stderr, "usage: dlopen_twice LIBRARY\n");
		return 2;
	}
	first = try_load(argv[1]);
	second = try_load(argv[1]);
	printf("first=%s second=%s\n", first, second);
	return 0;
}
