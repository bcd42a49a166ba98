/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy compiled into nativemon: the watch set and the rules that
 * judge each finding. These tables are the single place where default
 * detections are defined.
 */
#include "policy.h"

#include <linux/mman.h>
#include <linux/sched.h>
#include <sys/mman.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Arguments are numbered from 0 as in seccomp_data.args. mmap, mprotect and
 * pkey_mprotect take prot as argument 2 on x86-64. clone takes its flags as
 * argument 0; clone3 keeps them in memory that BPF cannot read, so it stays
 * unwatched. mremap with MREMAP_FIXED can move code over an address the
 * supervisor has cached, so it is watched to keep the cache honest.
 */
static const struct policy_watch default_watches[] = {
	{ "execve", POLICY_ALWAYS, 0, 0 },
	{ "execveat", POLICY_ALWAYS, 0, 0 },
	{ "mmap", POLICY_MASK_ANY, 2, PROT_EXEC },
	{ "mprotect", POLICY_MASK_ANY, 2, PROT_EXEC },
	{ "pkey_mprotect", POLICY_MASK_ANY, 2, PROT_EXEC },
	{ "mremap", POLICY_MASK_ANY, 3, MREMAP_FIXED },
	{ "memfd_create", POLICY_ALWAYS, 0, 0 },
	{ "ptrace", POLICY_ALWAYS, 0, 0 },
	{ "process_vm_readv", POLICY_ALWAYS, 0, 0 },
	{ "process_vm_writev", POLICY_ALWAYS, 0, 0 },
	{ "init_module", POLICY_ALWAYS, 0, 0 },
	{ "finit_module", POLICY_ALWAYS, 0, 0 },
	{ "kexec_load", POLICY_ALWAYS, 0, 0 },
	{ "kexec_file_load", POLICY_ALWAYS, 0, 0 },
	{ "bpf", POLICY_ALWAYS, 0, 0 },
	{ "perf_event_open", POLICY_ALWAYS, 0, 0 },
	{ "userfaultfd", POLICY_ALWAYS, 0, 0 },
	{ "io_uring_setup", POLICY_ALWAYS, 0, 0 },
	{ "unshare", POLICY_ALWAYS, 0, 0 },
	{ "setns", POLICY_ALWAYS, 0, 0 },
	{ "clone", POLICY_MASK_ANY, 0,
	  CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
		  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET },
};

#define FILE_BACKED_OUTSIDE_LIBC \
	(ORIGIN_BIT(ORIGIN_EXECUTABLE) | ORIGIN_BIT(ORIGIN_LIBRARY))
#define FILELESS_OR_UNKNOWN                                                  \
	(ORIGIN_BIT(ORIGIN_ANONYMOUS) | ORIGIN_BIT(ORIGIN_HEAP) |            \
	 ORIGIN_BIT(ORIGIN_STACK) | ORIGIN_BIT(ORIGIN_MEMFD) |               \
	 ORIGIN_BIT(ORIGIN_DELETED) | ORIGIN_BIT(ORIGIN_UNKNOWN))
#define UNLINKED_FILE (ORIGIN_BIT(ORIGIN_MEMFD) | ORIGIN_BIT(ORIGIN_DELETED))

static const char *const temporary_places[] = {
	"/tmp/*", "/var/tmp/*", "/dev/shm/*", "/run/user/*", NULL,
};

/* Calls that inject into other processes or reach into the kernel. */
static const char *const sensitive_syscalls[] = {
	"ptrace",	 "process_vm_readv", "process_vm_writev",
	"init_module",	 "finit_module",     "kexec_load",
	"kexec_file_load", "bpf",	     "perf_event_open",
	"userfaultfd",	 "io_uring_setup",   "unshare",
	"setns",	 "clone",	     NULL,
};

static const struct policy_rule default_rules[] = {
	{
		/* Every call of an i386 or x32 program reaches the supervisor. */
		.id = "nm-0013",
		.name = "Syscall of a program built for that ABI",
		.action = POLICY_LOG,
		.severity = 0,
		.techniques = "T1106",
		.event = EVENT_NON_NATIVE_ABI,
		.program_abi = POLICY_YES,
	},
	{
		.id = "nm-0001",
		.name = "Syscall through a non-native ABI",
		.action = POLICY_ALERT,
		.severity = 73,
		.techniques = "T1106",
		.event = EVENT_NON_NATIVE_ABI,
	},
	{
		.id = "nm-0002",
		.name = "Direct syscall from file-less or unknown memory",
		.action = POLICY_ALERT,
		.severity = 73,
		.techniques = "T1106,T1620",
		.event = EVENT_DIRECT_SYSCALL,
		.origins = FILELESS_OR_UNKNOWN,
	},
	{
		/*
		 * Go and statically linked musl or glibc programs have no
		 * libc mapping and issue every syscall from their own image.
		 */
		.id = "nm-0003",
		.name = "Direct syscall from a program without libc",
		.action = POLICY_LOG,
		.severity = 21,
		.techniques = "T1106",
		.event = EVENT_DIRECT_SYSCALL,
		.origins = FILE_BACKED_OUTSIDE_LIBC,
		.libc_mapped = POLICY_NO,
	},
	{
		.id = "nm-0004",
		.name = "Direct syscall bypassing libc",
		.action = POLICY_ALERT,
		.severity = 47,
		.techniques = "T1106",
		.event = EVENT_DIRECT_SYSCALL,
	},
	{
		.id = "nm-0005",
		.name = "Execution of a memfd or deleted file",
		.action = POLICY_ALERT,
		.severity = 73,
		.techniques = "T1620,T1106",
		.event = EVENT_FILELESS_EXEC,
	},
	{
		.id = "nm-0006",
		.name = "Code mapped from a memfd or deleted file",
		.action = POLICY_ALERT,
		.severity = 73,
		.techniques = "T1620",
		.event = EVENT_MODULE_LOAD,
		.file_kinds = UNLINKED_FILE,
	},
	{
		.id = "nm-0007",
		.name = "Code mapped from a temporary directory",
		.action = POLICY_ALERT,
		.severity = 47,
		.techniques = "T1129",
		.event = EVENT_MODULE_LOAD,
		.paths = temporary_places,
	},
	{
		.id = "nm-0008",
		.name = "Code mapped from a world-writable directory",
		.action = POLICY_ALERT,
		.severity = 47,
		.techniques = "T1129",
		.event = EVENT_MODULE_LOAD,
		.writable_dir = POLICY_YES,
	},
	{
		/* Only a path longer than PATH_MAX (4096 bytes) hides here. */
		.id = "nm-0012",
		.name = "Code mapped from a file whose path cannot be read",
		.action = POLICY_ALERT,
		.severity = 47,
		.techniques = "T1129",
		.event = EVENT_MODULE_LOAD,
		.path_unknown = POLICY_YES,
	},
	{
		.id = "nm-0009",
		.name = "Module load",
		.action = POLICY_LOG,
		.severity = 0,
		.techniques = "T1129",
		.event = EVENT_MODULE_LOAD,
	},
	{
		.id = "nm-0010",
		.name = "Process start",
		.action = POLICY_LOG,
		.severity = 0,
		.techniques = "",
		.event = EVENT_EXEC,
	},
	{
		.id = "nm-0011",
		.name = "Injection or kernel-facing syscall",
		.action = POLICY_LOG,
		.severity = 21,
		.techniques = "T1106",
		.event = EVENT_NATIVE_API,
		.syscalls = sensitive_syscalls,
	},
};

static const struct policy default_policy = {
	.rules = default_rules,
	.rule_count = ARRAY_SIZE(default_rules),
	.watches = default_watches,
	.watch_count = ARRAY_SIZE(default_watches),
};

const struct policy *policy_default(void)
{
	return &default_policy;
}
