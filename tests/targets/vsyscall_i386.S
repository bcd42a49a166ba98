/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A static i386 program without a C library, like anon_i386, whose stub
 * in anonymous memory enters the kernel through the vDSO: it calls
 * __kernel_vsyscall, found in the auxiliary vector (AT_SYSINFO), as 32-bit
 * libc does. The syscall instruction is then in the vDSO, and only the
 * return address shows the shellcode. Exits 0 when memfd_create returned
 * a descriptor, 1 when it failed, 2 without AT_SYSINFO.
 */
	.set	SYS_EXIT, 1
	.set	SYS_MMAP2, 192
	.set	SYS_MEMFD_CREATE, 356
	.set	AT_SYSINFO, 32
	.set	PROT_RWX, 7
	.set	MAP_PRIVATE_ANONYMOUS, 0x22

	.text
	.globl	_start
_start:
	/* Skip argc, argv and the environment to the auxiliary vector. */
	movl	(%esp), %eax
	leal	8(%esp,%eax,4), %esi
skip_environment:
	lodsl
	testl	%eax, %eax
	jnz	skip_environment
find_sysinfo:
	lodsl
	testl	%eax, %eax
	jz	no_sysinfo
	cmpl	$AT_SYSINFO, %eax
	lodsl
	jne	find_sysinfo
	movl	%eax, sysinfo

	/* mmap2(NULL, 4096, PROT_RWX, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) */
	movl	$SYS_MMAP2, %eax
	xorl	%ebx, %ebx
	movl	$4096, %ecx
	movl	$PROT_RWX, %edx
	movl	$MAP_PRIVATE_ANONYMOUS, %esi
	movl	$-1, %edi
	xorl	%ebp, %ebp
	int	$0x80
	cmpl	$-4096, %eax
	jae	fail

	/* Copy the stub and call it with the vDSO entry in %edi. */
	movl	%eax, %edi
	movl	$stub, %esi
	movl	$stub_end - stub, %ecx
	cld
	rep movsb
	movl	%eax, %edx
	movl	sysinfo, %edi
	movl	$name, %ebx
	xorl	%ecx, %ecx
	call	*%edx
	testl	%eax, %eax
	js	fail

	movl	$SYS_EXIT, %eax
	xorl	%ebx, %ebx
	int	$0x80
fail:
	movl	$SYS_EXIT, %eax
	movl	$1, %ebx
	int	$0x80
no_sysinfo:
	movl	$SYS_EXIT, %eax
	movl	$2, %ebx
	int	$0x80

	.data
/* memfd_create(%ebx, %ecx) through __kernel_vsyscall at %edi. */
stub:
	movl	$SYS_MEMFD_CREATE, %eax
	call	*%edi
	ret
stub_end:
name:
	.asciz	"nm-vsyscall-stub"
	.align	4
sysinfo:
	.long	0

	.section .note.GNU-stack, "", @progbits
