/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calls each function that libnativemon.so interposes, once so that it
 * succeeds and once so that it fails, and checks the result, errno and
 * the signal mask afterwards. The shim must return what the real function
 * returned, keep its errno and restore the caller's mask exactly. Prints
 * one line per failed check and "checks=N failed=N", and exits with 0
 * only if every check passed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Flags that memfd_create(2) rejects with EINVAL. */
#define INVALID_MEMFD_FLAGS 0x80000000U

/* A protection key that no process has allocated. */
#define UNALLOCATED_PKEY 15

static int checks;
static int failures;
static sigset_t caller_mask;

/* Compares members only: sigset_t has more bits than the kernel fills. */
static bool is_caller_mask(const sigset_t *mask)
{
	for (int signo = 1; signo < NSIG; signo++) {
		if (sigismember(mask, signo) != sigismember(&caller_mask, signo))
			return false;
	}
	return true;
}

/*
 * Records one check. The mask must be the caller's after every call,
 * whatever the shim blocked during it.
 */
static void check(const char *name, bool passed, int error)
{
	sigset_t now;

	checks++;
	if (!passed) {
		failures++;
		printf("failed %s: errno %d (%s)\n", name, error,
		       strerror(error));
	}
	sigprocmask(SIG_SETMASK, NULL, &now);
	checks++;
	if (!is_caller_mask(&now)) {
		failures++;
		printf("failed %s: the signal mask changed\n", name);
	}
}

static void check_mappings(size_t page)
{
	void *code = mmap(NULL, page, PROT_READ | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	check("mmap", code != MAP_FAILED, errno);
	errno = 0;
	check("mmap without a file",
	      mmap(NULL, page, PROT_READ | PROT_EXEC, MAP_PRIVATE, -1, 0) ==
			      MAP_FAILED &&
		      errno == EBADF,
	      errno);
	errno = 0;
	check("mmap64 without a file",
	      mmap64(NULL, page, PROT_READ | PROT_EXEC, MAP_PRIVATE, -1, 0) ==
			      MAP_FAILED &&
		      errno == EBADF,
	      errno);
	check("mprotect", mprotect(code, page, PROT_READ) == 0, errno);
	check("mprotect exec", mprotect(code, page, PROT_READ | PROT_EXEC) == 0,
	      errno);
	munmap(code, page);
	errno = 0;
	check("mprotect exec of an unmapped page",
	      mprotect(code, page, PROT_READ | PROT_EXEC) < 0 &&
		      errno == ENOMEM,
	      errno);
}

/* A kernel or CPU without protection keys fails the call with ENOSYS. */
static void check_protection_keys(size_t page)
{
	void *code = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	int result = pkey_mprotect(code, page, PROT_READ | PROT_EXEC, -1);

	if (result < 0 && errno == ENOSYS) {
		printf("pkey_mprotect: not supported\n");
		munmap(code, page);
		return;
	}
	check("pkey_mprotect", result == 0, errno);
	errno = 0;
	check("pkey_mprotect with an unallocated key",
	      pkey_mprotect(code, page, PROT_READ | PROT_EXEC,
			    UNALLOCATED_PKEY) < 0 &&
		      errno == EINVAL,
	      errno);
	munmap(code, page);
}

static void check_memfd(void)
{
	int fd = memfd_create("shim_calls", MFD_CLOEXEC);

	check("memfd_create", fd >= 0, errno);
	if (fd >= 0)
		close(fd);
	errno = 0;
	check("memfd_create with invalid flags",
	      memfd_create("shim_calls", INVALID_MEMFD_FLAGS) < 0 &&
		      errno == EINVAL,
	      errno);
}

static void check_loads(void)
{
	void *program = dlopen(NULL, RTLD_NOW);
	void *libm = dlmopen(LM_ID_BASE, "libm.so.6", RTLD_NOW);
	void *missing;
	const char *message;

	check("dlopen of the program", program != NULL, errno);
	check("dlmopen of libm", libm != NULL, errno);
	missing = dlopen("libnativemon-test-missing.so", RTLD_NOW);
	message = dlerror();
	check("dlopen of a missing library",
	      !missing && message && strstr(message, "missing"), errno);
}

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	sigset_t blocked;

	/*
	 * A mask of the program's own, replacing any that the process
	 * started with, so that a restore that misses shows.
	 */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	sigaddset(&blocked, SIGWINCH);
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	sigprocmask(SIG_SETMASK, NULL, &caller_mask);

	check_mappings(page);
	check_protection_keys(page);
	check_memfd();
	check_loads();
	printf("checks=%d failed=%d\n", checks, failures);
	return failures ? 1 : 0;
}
