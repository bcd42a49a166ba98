/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes a small machine-code stub into anonymous memory, makes it
 * executable and calls it to create a memfd, as injected shellcode would.
 * nativemon should report a direct syscall from anonymous memory.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * long stub(long number, long arg0, long arg1), System V x86-64 calling
 * convention: the number arrives in rdi and the arguments in rsi and rdx.
 */
static const unsigned char stub_code[] = {
	0x48, 0x89, 0xf8, /* mov rax, rdi */
	0x48, 0x89, 0xf7, /* mov rdi, rsi */
	0x48, 0x89, 0xd6, /* mov rsi, rdx */
	0x0f, 0x05,	  /* syscall */
	0xc3,		  /* ret */
};

typedef long (*stub_fn)(long number, long arg0, long arg1);

int main(void)
{
	long page_size = sysconf(_SC_PAGESIZE);
	void *page;
	stub_fn stub;
	long fd;

	page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("anon_stub: mmap");
		return 1;
	}
	memcpy(page, stub_code, sizeof(stub_code));
	if (mprotect(page, (size_t)page_size, PROT_READ | PROT_EXEC) < 0) {
		perror("anon_stub: mprotect");
		return 1;
	}
	stub = (stub_fn)page;
	fd = stub(SYS_memfd_create, (long)"nm-anon-stub", MFD_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "anon_stub: memfd_create failed: %s\n",
			strerror((int)-fd));
		return 1;
	}
	close((int)fd);
	printf("pid=%d\n", (int)getpid());
	return 0;
}
