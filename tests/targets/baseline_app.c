/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: baseline_app [--direct | --dlopen PATH | --shellcode]
 *
 * The target of the baseline learning tests: a small plugin user and JIT
 * host whose watched calls are the same on every run. Without options it
 * loads plugins/libplugin_dep.so next to itself with dlopen(3), runs a
 * stub copied into anonymous memory that mprotect(2) made executable,
 * creates a memfd through libc, and forks a child that execs /bin/true.
 * Each option adds one behaviour after that:
 *
 *   --direct       memfd_create through a `syscall` instruction in this
 *                  program, bypassing libc
 *   --dlopen PATH  a second dlopen of PATH, which must be a copy of
 *                  plugins/libplugin_dep.so
 *   --shellcode    shellcode in a new read-write-execute anonymous mapping
 *                  that calls memfd_create with its own `syscall`
 *
 * Prints nothing and exits with 0 on success. It exits with 1 after a
 * message when a step fails, with 2 on a usage error, and with 3 when the
 * direct memfd_create of --direct fails with EPERM, as a deny rule makes
 * it fail.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin_host.h"
#include "raw_syscall.h"

#define EXIT_DIRECT_DENIED 3

/* int stub(void): mov eax, 42; ret */
static const unsigned char jit_code[] = {
	0xb8, 0x2a, 0x00, 0x00, 0x00, /* mov eax, 42 */
	0xc3,			      /* ret */
};

/*
 * long shellcode(const char *name): memfd_create(name, MFD_CLOEXEC) through
 * its own `syscall` instruction, returning the kernel's result. name
 * arrives in rdi, which is where the syscall takes its first argument.
 */
static const unsigned char shellcode[] = {
	0xb8, 0x3f, 0x01, 0x00, 0x00, /* mov eax, 319 (SYS_memfd_create) */
	0xbe, 0x01, 0x00, 0x00, 0x00, /* mov esi, 1 (MFD_CLOEXEC) */
	0x0f, 0x05,		      /* syscall */
	0xc3,			      /* ret */
};

_Static_assert(SYS_memfd_create == 0x13f, "the shellcode hard-codes 319");
_Static_assert(MFD_CLOEXEC == 1, "the shellcode hard-codes MFD_CLOEXEC");

/*
 * Loads path and calls its plugin_dep_answer(). Returns 0, or -1 after a
 * message. Both loads go through this one function, so the loader's mmap
 * calls of both have the same caller frame and only the module differs.
 */
static __attribute__((noinline)) int load_plugin(const char *path)
{
	void *handle = dlopen(path, RTLD_NOW);
	int (*answer)(void);

	if (!handle) {
		fprintf(stderr, "baseline_app: dlopen %s failed: %s\n", path,
			dlerror());
		return -1;
	}
	answer = (int (*)(void))dlsym(handle, "plugin_dep_answer");
	if (!answer || answer() != PLUGIN_DEP_ANSWER) {
		fprintf(stderr,
			"baseline_app: %s has no working plugin_dep_answer\n",
			path);
		return -1;
	}
	return 0;
}

/* Copies jit_code into a new page, makes the page R|X and calls it. */
static __attribute__((noinline)) int run_jit_stub(void)
{
	size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
	void *page = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int result;

	if (page == MAP_FAILED) {
		perror("baseline_app: mmap of the JIT page");
		return -1;
	}
	memcpy(page, jit_code, sizeof(jit_code));
	if (mprotect(page, page_size, PROT_READ | PROT_EXEC) < 0) {
		perror("baseline_app: mprotect of the JIT page");
		return -1;
	}
	result = ((int (*)(void))page)();
	munmap(page, page_size);
	if (result != 42) {
		fprintf(stderr, "baseline_app: the JIT stub returned %d\n",
			result);
		return -1;
	}
	return 0;
}

static __attribute__((noinline)) int create_memfd(void)
{
	int fd = memfd_create("nm-baseline-app", MFD_CLOEXEC);

	if (fd < 0) {
		perror("baseline_app: memfd_create");
		return -1;
	}
	close(fd);
	return 0;
}

/* Forks a child that execs /bin/true and waits for it to exit with 0. */
static __attribute__((noinline)) int run_true(void)
{
	pid_t child = fork();
	int status;

	if (child < 0) {
		perror("baseline_app: fork");
		return -1;
	}
	if (child == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(child, &status, 0) != child) {
		perror("baseline_app: waitpid");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "baseline_app: /bin/true failed, status %#x\n",
			status);
		return -1;
	}
	return 0;
}

static int run_default(void)
{
	if (load_plugin("$ORIGIN/plugins/libplugin_dep.so") < 0)
		return -1;
	if (run_jit_stub() < 0)
		return -1;
	if (create_memfd() < 0)
		return -1;
	return run_true();
}

/* Returns 0, EXIT_DIRECT_DENIED or 1, as main() exits. */
static __attribute__((noinline)) int create_memfd_directly(void)
{
	long fd = raw_syscall3(SYS_memfd_create, (long)"nm-baseline-direct",
			       MFD_CLOEXEC, 0);

	if (fd == -EPERM) {
		fprintf(stderr, "baseline_app: direct memfd_create: %s\n",
			strerror(EPERM));
		return EXIT_DIRECT_DENIED;
	}
	if (fd < 0) {
		fprintf(stderr, "baseline_app: direct memfd_create: %s\n",
			strerror((int)-fd));
		return 1;
	}
	close((int)fd);
	return 0;
}

/*
 * Runs the shellcode from a mapping that is writable and executable at
 * once, made by an mmap call of its own.
 */
static __attribute__((noinline)) int run_shellcode(void)
{
	size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
	void *page = mmap(NULL, page_size, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long fd;

	if (page == MAP_FAILED) {
		perror("baseline_app: mmap of the shellcode page");
		return -1;
	}
	memcpy(page, shellcode, sizeof(shellcode));
	fd = ((long (*)(const char *))page)("nm-baseline-shellcode");
	munmap(page, page_size);
	if (fd < 0) {
		fprintf(stderr, "baseline_app: shellcode memfd_create: %s\n",
			strerror((int)-fd));
		return -1;
	}
	close((int)fd);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: baseline_app [--direct | --dlopen PATH | "
			"--shellcode]\n");
	return 2;
}

static bool is_option(const char *argument, const char *option)
{
	return argument && strcmp(argument, option) == 0;
}

int main(int argc, char **argv)
{
	const char *option = argc > 1 ? argv[1] : NULL;
	bool valid = argc == 1 ||
		     (argc == 2 && (is_option(option, "--direct") ||
				    is_option(option, "--shellcode"))) ||
		     (argc == 3 && is_option(option, "--dlopen"));

	if (!valid)
		return usage();

	if (run_default() < 0)
		return 1;

	if (is_option(option, "--direct"))
		return create_memfd_directly();
	if (is_option(option, "--dlopen"))
		return load_plugin(argv[2]) < 0 ? 1 : 0;
	if (is_option(option, "--shellcode"))
		return run_shellcode() < 0 ? 1 : 0;
	return 0;
}
