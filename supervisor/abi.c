/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ABI decoding through libseccomp's syscall tables. libseccomp returns
 * freshly allocated names, so resolved names are cached per ABI and number.
 */
#include "abi.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdlib.h>

/* Syscall numbers of all three ABIs stay far below this on Linux 6.x. */
#define ABI_NR_MAX 1024

static char *name_cache[ABI_UNKNOWN][ABI_NR_MAX];
static bool name_missing[ABI_UNKNOWN][ABI_NR_MAX];

enum abi abi_decode(uint32_t audit_arch, int nr)
{
	if (audit_arch == AUDIT_ARCH_I386)
		return ABI_I386;
	if (audit_arch != AUDIT_ARCH_X86_64)
		return ABI_UNKNOWN;
	if ((unsigned int)nr & ABI_X32_SYSCALL_BIT)
		return ABI_X32;
	return ABI_X86_64;
}

static uint32_t scmp_arch_of(enum abi abi)
{
	switch (abi) {
	case ABI_X86_64:
		return SCMP_ARCH_X86_64;
	case ABI_I386:
		return SCMP_ARCH_X86;
	case ABI_X32:
		return SCMP_ARCH_X32;
	default:
		return 0;
	}
}

const char *abi_syscall_name(enum abi abi, int nr)
{
	unsigned int index;

	if (abi == ABI_X32)
		nr = (int)((unsigned int)nr & ~(unsigned int)ABI_X32_SYSCALL_BIT);
	if (abi >= ABI_UNKNOWN || nr < 0 || nr >= ABI_NR_MAX)
		return NULL;
	index = (unsigned int)nr;
	if (!name_cache[abi][index] && !name_missing[abi][index]) {
		/* libseccomp's x32 table is indexed without the x32 bit. */
		name_cache[abi][index] =
			seccomp_syscall_resolve_num_arch(scmp_arch_of(abi), nr);
		name_missing[abi][index] = name_cache[abi][index] == NULL;
	}
	return name_cache[abi][index];
}

int abi_native_nr(const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);

	return nr < 0 ? -1 : nr;
}
