/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Maps code over the last page of libc's text without an mmap or mprotect
 * that requests PROT_EXEC, then calls memfd_create from it through a raw
 * syscall stub. A supervisor that trusted its cached maps would take the
 * stub for libc. Modes:
 *   personality  set READ_IMPLIES_EXEC, then mmap the page read-write
 *   shmat        attach System V shared memory there with SHM_EXEC
 *   busy-thread  in each of 10 children, mmap the page with PROT_EXEC
 *                while another thread keeps making watched mprotect
 *                calls, whose notifications may come before the mmap
 *                has run
 * A memfd_create through libc comes first, so that the supervisor has the
 * maps cached before the page is replaced.
 * Exits 0 when the stub's memfd_create returned a descriptor, in every
 * child for busy-thread.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE_SIZE 4096
#define BUSY_CHILDREN 10

/* mov $319, %eax (memfd_create); syscall; ret */
static const unsigned char stub[] = {
	0xb8, 0x3f, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xc3,
};

typedef long (*memfd_stub)(const char *name, unsigned int flags);

/*
 * Ends the process without libc, whose code on the replaced page may be
 * part of the exit path.
 */
static void __attribute__((noreturn)) exit_raw(int status)
{
	for (;;)
		__asm__ volatile("syscall"
				 :
				 : "a"(231L) /* exit_group */, "D"((long)status)
				 : "rcx", "r11", "memory");
}

/* Returns the start of the last page of libc's executable mapping, or 0. */
static uintptr_t last_libc_text_page(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	uintptr_t start, end = 0;

	if (!maps)
		return 0;
	while (fgets(line, sizeof(line), maps)) {
		if (strstr(line, "/libc.so.6") && strstr(line, " r-xp ") &&
		    sscanf(line, "%lx-%lx", &start, &end) == 2)
			break;
		end = 0;
	}
	fclose(maps);
	return end ? end - PAGE_SIZE : 0;
}

static void *map_with_personality(uintptr_t page)
{
	void *code;

	if (personality(READ_IMPLIES_EXEC) < 0)
		return NULL;
	code = mmap((void *)page, PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (code == MAP_FAILED)
		return NULL;
	memcpy(code, stub, sizeof(stub));
	return code;
}

static void *map_with_shmat(uintptr_t page)
{
	int id = shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0600);
	void *writable, *code;

	if (id < 0)
		return NULL;
	writable = shmat(id, NULL, 0);
	if (writable == (void *)-1) {
		shmctl(id, IPC_RMID, NULL);
		return NULL;
	}
	memcpy(writable, stub, sizeof(stub));
	code = shmat(id, (void *)page, SHM_EXEC | SHM_RDONLY | SHM_REMAP);
	shmctl(id, IPC_RMID, NULL);
	return code == (void *)-1 ? NULL : code;
}

static void *map_executable(uintptr_t page)
{
	void *code = mmap((void *)page, PAGE_SIZE,
			  PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (code == MAP_FAILED)
		return NULL;
	memcpy(code, stub, sizeof(stub));
	return code;
}

/* Makes watched calls until the process exits. */
static void *keep_calling(void *argument)
{
	void *own_page = (void *)((uintptr_t)&keep_calling & ~(uintptr_t)4095);

	(void)argument;
	for (;;)
		mprotect(own_page, PAGE_SIZE, PROT_READ | PROT_EXEC);
	return NULL;
}

/* Runs the stub from a page mapped while another thread makes calls. */
static void __attribute__((noreturn)) run_busy_child(uintptr_t page)
{
	pthread_t thread;
	void *code;

	if (pthread_create(&thread, NULL, keep_calling, NULL) != 0)
		exit_raw(1);
	usleep(20000);
	code = map_executable(page);
	if (!code)
		exit_raw(1);
	exit_raw(((memfd_stub)code)("nm-hidden-exec", 0) >= 0 ? 0 : 1);
}

static int run_busy_children(uintptr_t page)
{
	int failed = 0, status;

	for (int i = 0; i < BUSY_CHILDREN; i++) {
		pid_t child = fork();

		if (child < 0)
			return 1;
		if (child == 0)
			run_busy_child(page);
		if (waitpid(child, &status, 0) != child ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed > 0;
}

int main(int argc, char **argv)
{
	uintptr_t page;
	void *code;
	int warm;

	if (argc != 2) {
		fprintf(stderr,
			"usage: hidden_exec personality|shmat|busy-thread\n");
		return 2;
	}
	warm = memfd_create("nm-warm", 0);
	if (warm >= 0)
		close(warm);
	page = last_libc_text_page();
	if (page == 0) {
		fprintf(stderr, "hidden_exec: libc's text not found\n");
		return 1;
	}
	if (strcmp(argv[1], "busy-thread") == 0)
		return run_busy_children(page);
	if (strcmp(argv[1], "personality") == 0)
		code = map_with_personality(page);
	else
		code = map_with_shmat(page);
	if (!code) {
		perror("hidden_exec");
		return 1;
	}
	exit_raw(((memfd_stub)code)("nm-hidden-exec", 0) >= 0 ? 0 : 1);
}
