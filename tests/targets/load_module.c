/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loads shared libraries with dlopen() in the ways the tests name on the
 * command line, in order:
 *
 *   copy:DIR     copy PAYLOAD to DIR/libnmpayload.so and load the copy
 *   memfd        write PAYLOAD into a memfd and load /proc/self/fd/N
 *   name:SONAME  load a system library by its soname, such as libm.so.6
 *
 * nm_payload_answer() in the payload must return 42. Each loaded path is
 * printed as "loaded=PATH". A copy is removed again after loading.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAYLOAD_ANSWER 42

static int copy_into(const char *from, int out)
{
	char buffer[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (in < 0)
		return -1;
	while ((n = read(in, buffer, sizeof(buffer))) > 0) {
		if (write(out, buffer, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	close(in);
	return n == 0 ? 0 : -1;
}

/* Loads path and checks that its nm_payload_answer() returns 42. */
static int load_payload(const char *path)
{
	int (*answer)(void);
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!handle) {
		fprintf(stderr, "load_module: %s\n", dlerror());
		return -1;
	}
	answer = (int (*)(void))dlsym(handle, "nm_payload_answer");
	if (!answer || answer() != PAYLOAD_ANSWER) {
		fprintf(stderr, "load_module: %s is not the payload\n", path);
		return -1;
	}
	printf("loaded=%s\n", path);
	return 0;
}

static int load_copy(const char *payload, const char *directory)
{
	char path[4096];
	int out, err;

	snprintf(path, sizeof(path), "%s/libnmpayload.so", directory);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0 || copy_into(payload, out) < 0 || close(out) < 0) {
		fprintf(stderr, "load_module: cannot copy to %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	err = load_payload(path);
	unlink(path);
	return err;
}

static int load_memfd(const char *payload)
{
	char path[64];
	int fd = memfd_create("nm-module", MFD_CLOEXEC);

	if (fd < 0 || copy_into(payload, fd) < 0) {
		fprintf(stderr, "load_module: cannot fill a memfd: %s\n",
			strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return load_payload(path);
}

static int load_by_name(const char *soname)
{
	if (!dlopen(soname, RTLD_NOW | RTLD_LOCAL)) {
		fprintf(stderr, "load_module: %s\n", dlerror());
		return -1;
	}
	printf("loaded=%s\n", soname);
	return 0;
}

static int run_step(const char *payload, const char *step)
{
	if (strncmp(step, "copy:", 5) == 0)
		return load_copy(payload, step + 5);
	if (strcmp(step, "memfd") == 0)
		return load_memfd(payload);
	if (strncmp(step, "name:", 5) == 0)
		return load_by_name(step + 5);
	fprintf(stderr, "load_module: unknown step '%s'\n", step);
	return -1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: load_module PAYLOAD STEP...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (run_step(argv[1], argv[i]) < 0)
			return 1;
	}
	return 0;
}
