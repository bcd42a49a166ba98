/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Copies a small function into an anonymous read-write-execute page and
 * blocks in the read(2) of stdin that it makes with its own `syscall`
 * instruction, as injected shellcode would:
 *
 *   main -> anon_caller -> [anonymous stub] -> read(0)
 *
 * Before it blocks it prints "stub ADDRESS" (the page), "return ADDRESS"
 * (the return address of anon_caller, inside main) and "ready".
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * long stub(long number, long arg0, long arg1, long arg2), System V
 * x86-64 calling convention: the number arrives in rdi and the arguments
 * in rsi, rdx and rcx.
 */
static const unsigned char stub_code[] = {
	0x48, 0x89, 0xf8, /* mov rax, rdi */
	0x48, 0x89, 0xf7, /* mov rdi, rsi */
	0x48, 0x89, 0xd6, /* mov rsi, rdx */
	0x48, 0x89, 0xca, /* mov rdx, rcx */
	0x0f, 0x05,	  /* syscall */
	0xc3,		  /* ret */
};

typedef long (*stub_fn)(long number, long arg0, long arg1, long arg2);

__attribute__((noinline, noclone)) static long anon_caller(stub_fn stub)
{
	char byte;
	long n;

	printf("stub %p\nreturn %p\nready\n", (void *)stub,
	       __builtin_return_address(0));
	fflush(stdout);
	n = stub(SYS_read, 0, (long)&byte, 1);
	__asm__ volatile("" ::: "memory");
	return n + 1;
}

int main(void)
{
	long page_size = sysconf(_SC_PAGESIZE);
	void *page;
	long result;

	page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("unwind_anon: mmap");
		return 1;
	}
	memcpy(page, stub_code, sizeof(stub_code));
	result = anon_caller((stub_fn)page);
	__asm__ volatile("" ::: "memory");
	return result < 0;
}
