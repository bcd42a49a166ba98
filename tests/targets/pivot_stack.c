/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Moves the stack pointer into a heap buffer and calls libc's
 * memfd_create() from there, as an exploit that pivoted its stack would,
 * then moves it back. Prints "pid=N".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Small enough for malloc() to take it from the brk heap, not mmap(). */
#define HEAP_STACK_SIZE (64 * 1024)

static long call_on_stack(void *top, int (*function)(const char *, unsigned),
			  const char *name)
{
	long result;

	/* rbx is callee-saved, so it keeps the real stack pointer across. */
	__asm__ volatile("mov %%rsp, %%rbx\n\t"
			 "mov %[top], %%rsp\n\t"
			 "mov %[name], %%rdi\n\t"
			 "mov $1, %%esi\n\t" /* MFD_CLOEXEC */
			 "call *%[function]\n\t"
			 "mov %%rbx, %%rsp\n\t"
			 : "=a"(result)
			 : [top] "r"(top), [function] "r"(function),
			   [name] "r"(name)
			 : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
			   "r10", "r11", "memory", "cc");
	return result;
}

int main(void)
{
	unsigned char *heap = malloc(HEAP_STACK_SIZE);
	uintptr_t top;
	long fd;

	if (!heap) {
		perror("pivot_stack: malloc");
		return 1;
	}
	/* The System V ABI wants rsp 16-byte aligned before a call. */
	top = ((uintptr_t)heap + HEAP_STACK_SIZE - 64) & ~(uintptr_t)15;
	fd = call_on_stack((void *)top, memfd_create, "nm-pivot");
	if (fd < 0) {
		fprintf(stderr, "pivot_stack: memfd_create failed\n");
		return 1;
	}
	close((int)fd);
	free(heap);
	printf("pid=%d\n", (int)getpid());
	return 0;
}
