/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Builds a small function in anonymous executable memory that calls
 * libc's memfd_create() through a pointer, as injected code that reuses
 * libc would. The syscall instruction is in libc; only the return address
 * on the stack points into the anonymous page. Prints "pid=N".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * push rbp; mov rbp, rsp; movabs rax, TARGET; call rax; pop rbp; ret.
 * The pushed rbp keeps the stack 16-byte aligned at the call. TARGET is
 * patched in at offset 6.
 */
static const unsigned char trampoline[] = {
	0x55,			      /* push rbp */
	0x48, 0x89, 0xe5,	      /* mov rbp, rsp */
	0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs rax, imm64 */
	0xff, 0xd0,		      /* call rax */
	0x5d,			      /* pop rbp */
	0xc3,			      /* ret */
};

#define TARGET_OFFSET 6

typedef int (*memfd_fn)(const char *name, unsigned int flags);

int main(void)
{
	uint64_t target = (uint64_t)(uintptr_t)&memfd_create;
	unsigned char *page;
	memfd_fn call;
	int fd;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("shellcode_libc_call: mmap");
		return 1;
	}
	memcpy(page, trampoline, sizeof(trampoline));
	memcpy(page + TARGET_OFFSET, &target, sizeof(target));
	if (mprotect(page, 4096, PROT_READ | PROT_EXEC) < 0) {
		perror("shellcode_libc_call: mprotect");
		return 1;
	}
	call = (memfd_fn)(uintptr_t)page;
	fd = call("nm-shellcode-libc", MFD_CLOEXEC);
	if (fd < 0) {
		perror("shellcode_libc_call: memfd_create");
		return 1;
	}
	close(fd);
	printf("pid=%d\n", (int)getpid());
	return 0;
}
