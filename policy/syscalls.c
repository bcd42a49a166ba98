/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Syscall facts for the policy language: numbers and names through
 * libseccomp, the names of arguments as the man pages give them, and the
 * symbolic constants that watch conditions compare with.
 */
#include "policy/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/shm.h>

int native_syscall_nr(const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);

	/* libseccomp returns negative pseudo-numbers for syscalls that
	 * exist only on other architectures. */
	return nr < 0 ? -1 : nr;
}

bool is_compat_syscall_name(const char *name)
{
	return seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, name) >= 0 ||
	       seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, name) >= 0;
}

bool is_syscall_name(const char *name)
{
	return native_syscall_nr(name) >= 0 || is_compat_syscall_name(name);
}

/* Syscall numbers of both tables stay below this bound. The x32 table uses
 * the x86-64 names, so it adds no names to suggest. */
#define SYSCALL_NR_BOUND 1024

static int add_names(struct parser *parser, uint32_t arch, size_t *capacity)
{
	for (int nr = 0; nr < SYSCALL_NR_BOUND; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(arch, nr);

		if (!name)
			continue;
		if (parser->syscall_name_count == *capacity) {
			size_t grown = *capacity ? *capacity * 2 : 512;
			char **names = reallocarray(parser->syscall_names,
						    grown, sizeof(*names));

			if (!names) {
				free(name);
				return -ENOMEM;
			}
			parser->syscall_names = names;
			*capacity = grown;
		}
		parser->syscall_names[parser->syscall_name_count++] = name;
	}
	return 0;
}

/* Loads the names of every x86-64 and i386 syscall for suggestions, once
 * per load call, since libseccomp has no way to list its table. */
int load_syscall_names(struct parser *parser)
{
	size_t capacity = 0;
	int err;

	if (parser->syscall_names)
		return 0;

	err = add_names(parser, SCMP_ARCH_X86_64, &capacity);
	parser->native_name_count = parser->syscall_name_count;
	if (err == 0)
		err = add_names(parser, SCMP_ARCH_X86, &capacity);
	return err;
}

void free_syscall_names(struct parser *parser)
{
	for (size_t i = 0; i < parser->syscall_name_count; i++)
		free(parser->syscall_names[i]);
	free(parser->syscall_names);
	parser->syscall_names = NULL;
	parser->syscall_name_count = 0;
	parser->native_name_count = 0;
}

/*
 * Argument names from each syscall's man page, at their x86-64 index as in
 * seccomp_data.args. prctl(2) calls its later arguments arg2 to arg5, which
 * would clash with the language's arg0 to arg5, so only option is named.
 */
static const struct syscall_arguments {
	const char *syscall;
	const char *names[6];
} syscall_arguments[] = {
	{ "arch_prctl", { "code", "addr" } },
	{ "bind", { "sockfd", "addr", "addrlen" } },
	{ "bpf", { "cmd", "attr", "size" } },
	{ "chroot", { "path" } },
	{ "clone", { "flags", "stack", "parent_tid", "child_tid", "tls" } },
	{ "clone3", { "cl_args", "size" } },
	{ "connect", { "sockfd", "addr", "addrlen" } },
	{ "delete_module", { "name", "flags" } },
	{ "execve", { "pathname", "argv", "envp" } },
	{ "execveat", { "dirfd", "pathname", "argv", "envp", "flags" } },
	{ "finit_module", { "fd", "param_values", "flags" } },
	{ "init_module", { "module_image", "len", "param_values" } },
	{ "io_uring_setup", { "entries", "p" } },
	{ "kexec_file_load",
	  { "kernel_fd", "initrd_fd", "cmdline_len", "cmdline", "flags" } },
	{ "kexec_load", { "entry", "nr_segments", "segments", "flags" } },
	{ "kill", { "pid", "sig" } },
	{ "madvise", { "addr", "length", "advice" } },
	{ "memfd_create", { "name", "flags" } },
	{ "memfd_secret", { "flags" } },
	{ "mmap", { "addr", "length", "prot", "flags", "fd", "offset" } },
	{ "mount",
	  { "source", "target", "filesystemtype", "mountflags", "data" } },
	{ "mprotect", { "addr", "len", "prot" } },
	{ "mremap",
	  { "old_address", "old_size", "new_size", "flags", "new_address" } },
	{ "munmap", { "addr", "length" } },
	{ "open", { "pathname", "flags", "mode" } },
	{ "openat", { "dirfd", "pathname", "flags", "mode" } },
	{ "openat2", { "dirfd", "pathname", "how", "size" } },
	{ "perf_event_open", { "attr", "pid", "cpu", "group_fd", "flags" } },
	{ "personality", { "persona" } },
	{ "pidfd_getfd", { "pidfd", "targetfd", "flags" } },
	{ "pidfd_open", { "pid", "flags" } },
	{ "pidfd_send_signal", { "pidfd", "sig", "info", "flags" } },
	{ "pivot_root", { "new_root", "put_old" } },
	{ "pkey_mprotect", { "addr", "len", "prot", "pkey" } },
	{ "prctl", { "option" } },
	{ "process_madvise", { "pidfd", "iovec", "vlen", "advice", "flags" } },
	{ "process_vm_readv",
	  { "pid", "local_iov", "liovcnt", "remote_iov", "riovcnt", "flags" } },
	{ "process_vm_writev",
	  { "pid", "local_iov", "liovcnt", "remote_iov", "riovcnt", "flags" } },
	{ "ptrace", { "request", "pid", "addr", "data" } },
	{ "seccomp", { "operation", "flags", "args" } },
	{ "setfsgid", { "fsgid" } },
	{ "setfsuid", { "fsuid" } },
	{ "setgid", { "gid" } },
	{ "setgroups", { "size", "list" } },
	{ "setns", { "fd", "nstype" } },
	{ "setregid", { "rgid", "egid" } },
	{ "setresgid", { "rgid", "egid", "sgid" } },
	{ "setresuid", { "ruid", "euid", "suid" } },
	{ "setreuid", { "ruid", "euid" } },
	{ "setuid", { "uid" } },
	{ "shmat", { "shmid", "shmaddr", "shmflg" } },
	{ "socket", { "domain", "type", "protocol" } },
	{ "tgkill", { "tgid", "tid", "sig" } },
	{ "tkill", { "tid", "sig" } },
	{ "umount2", { "target", "flags" } },
	{ "unshare", { "flags" } },
	{ "userfaultfd", { "flags" } },
};

static const struct syscall_arguments *find_arguments(const char *syscall)
{
	for (size_t i = 0; i < ARRAY_SIZE(syscall_arguments); i++) {
		if (strcmp(syscall_arguments[i].syscall, syscall) == 0)
			return &syscall_arguments[i];
	}
	return NULL;
}

int syscall_argument_index(const char *syscall, const char *argument)
{
	const struct syscall_arguments *arguments = find_arguments(syscall);

	if (!arguments)
		return -ESRCH;

	for (int i = 0; i < 6; i++) {
		const char *name = arguments->names[i];

		if (name && strcmp(name, argument) == 0)
			return i;
	}
	return -ENOENT;
}

const char *syscall_argument_name(const char *syscall, unsigned int arg)
{
	const struct syscall_arguments *arguments = find_arguments(syscall);

	if (!arguments || arg >= 6)
		return NULL;
	return arguments->names[arg];
}

/* Stores the syscall's argument names into names (6 entries) and returns
 * how many there are. */
size_t syscall_argument_names(const char *syscall, const char **names)
{
	const struct syscall_arguments *arguments = find_arguments(syscall);
	size_t count = 0;

	for (int i = 0; arguments && i < 6; i++) {
		if (arguments->names[i])
			names[count++] = arguments->names[i];
	}
	return count;
}

#define CONSTANT(name)                  \
	{                               \
#name, (uint64_t)(name) \
	}

/*
 * Constants for watch conditions, with the values of the system headers.
 * policy_watch_format() writes the constants of a mask in the order of
 * this table, those of several bits first.
 */
static const struct constant {
	const char *name;
	uint64_t value;
} constants[] = {
	CONSTANT(PROT_NONE),
	CONSTANT(PROT_READ),
	CONSTANT(PROT_WRITE),
	CONSTANT(PROT_EXEC),
	CONSTANT(PROT_GROWSDOWN),
	CONSTANT(PROT_GROWSUP),

	CONSTANT(MAP_SHARED),
	CONSTANT(MAP_PRIVATE),
	CONSTANT(MAP_SHARED_VALIDATE),
	CONSTANT(MAP_FIXED),
	CONSTANT(MAP_ANONYMOUS),
	CONSTANT(MAP_ANON),
	CONSTANT(MAP_GROWSDOWN),
	CONSTANT(MAP_DENYWRITE),
	CONSTANT(MAP_EXECUTABLE),
	CONSTANT(MAP_LOCKED),
	CONSTANT(MAP_NORESERVE),
	CONSTANT(MAP_POPULATE),
	CONSTANT(MAP_NONBLOCK),
	CONSTANT(MAP_STACK),
	CONSTANT(MAP_HUGETLB),
	CONSTANT(MAP_SYNC),
	CONSTANT(MAP_FIXED_NOREPLACE),
	CONSTANT(MAP_UNINITIALIZED),

	CONSTANT(MREMAP_MAYMOVE),
	CONSTANT(MREMAP_FIXED),
	CONSTANT(MREMAP_DONTUNMAP),

	CONSTANT(CLONE_NEWTIME),
	CONSTANT(CLONE_VM),
	CONSTANT(CLONE_FS),
	CONSTANT(CLONE_FILES),
	CONSTANT(CLONE_SIGHAND),
	CONSTANT(CLONE_PIDFD),
	CONSTANT(CLONE_PTRACE),
	CONSTANT(CLONE_VFORK),
	CONSTANT(CLONE_PARENT),
	CONSTANT(CLONE_THREAD),
	CONSTANT(CLONE_NEWNS),
	CONSTANT(CLONE_SYSVSEM),
	CONSTANT(CLONE_SETTLS),
	CONSTANT(CLONE_PARENT_SETTID),
	CONSTANT(CLONE_CHILD_CLEARTID),
	CONSTANT(CLONE_DETACHED),
	CONSTANT(CLONE_UNTRACED),
	CONSTANT(CLONE_CHILD_SETTID),
	CONSTANT(CLONE_NEWCGROUP),
	CONSTANT(CLONE_NEWUTS),
	CONSTANT(CLONE_NEWIPC),
	CONSTANT(CLONE_NEWUSER),
	CONSTANT(CLONE_NEWPID),
	CONSTANT(CLONE_NEWNET),
	CONSTANT(CLONE_IO),
	CONSTANT(CLONE_CLEAR_SIGHAND),
	CONSTANT(CLONE_INTO_CGROUP),

	CONSTANT(O_RDONLY),
	CONSTANT(O_WRONLY),
	CONSTANT(O_RDWR),
	CONSTANT(O_CREAT),
	CONSTANT(O_EXCL),
	CONSTANT(O_NOCTTY),
	CONSTANT(O_TRUNC),
	CONSTANT(O_APPEND),
	CONSTANT(O_NONBLOCK),
	CONSTANT(O_DSYNC),
	CONSTANT(O_ASYNC),
	CONSTANT(O_DIRECT),
	CONSTANT(O_DIRECTORY),
	CONSTANT(O_NOFOLLOW),
	CONSTANT(O_NOATIME),
	CONSTANT(O_CLOEXEC),
	CONSTANT(O_SYNC),
	CONSTANT(O_PATH),
	CONSTANT(O_TMPFILE),

	CONSTANT(SHM_RDONLY),
	CONSTANT(SHM_RND),
	CONSTANT(SHM_REMAP),
	CONSTANT(SHM_EXEC),

	CONSTANT(READ_IMPLIES_EXEC),
	CONSTANT(ADDR_NO_RANDOMIZE),

	CONSTANT(MFD_CLOEXEC),
	CONSTANT(MFD_ALLOW_SEALING),
	CONSTANT(MFD_HUGETLB),

	CONSTANT(PTRACE_TRACEME),
	CONSTANT(PTRACE_PEEKTEXT),
	CONSTANT(PTRACE_PEEKDATA),
	CONSTANT(PTRACE_PEEKUSER),
	CONSTANT(PTRACE_POKETEXT),
	CONSTANT(PTRACE_POKEDATA),
	CONSTANT(PTRACE_POKEUSER),
	CONSTANT(PTRACE_CONT),
	CONSTANT(PTRACE_KILL),
	CONSTANT(PTRACE_SINGLESTEP),
	CONSTANT(PTRACE_GETREGS),
	CONSTANT(PTRACE_SETREGS),
	CONSTANT(PTRACE_GETFPREGS),
	CONSTANT(PTRACE_SETFPREGS),
	CONSTANT(PTRACE_ATTACH),
	CONSTANT(PTRACE_DETACH),
	CONSTANT(PTRACE_GETFPXREGS),
	CONSTANT(PTRACE_SETFPXREGS),
	CONSTANT(PTRACE_SYSCALL),
	CONSTANT(PTRACE_SYSEMU),
	CONSTANT(PTRACE_SYSEMU_SINGLESTEP),
	CONSTANT(PTRACE_SINGLEBLOCK),
	CONSTANT(PTRACE_SETOPTIONS),
	CONSTANT(PTRACE_GETEVENTMSG),
	CONSTANT(PTRACE_GETSIGINFO),
	CONSTANT(PTRACE_SETSIGINFO),
	CONSTANT(PTRACE_GETREGSET),
	CONSTANT(PTRACE_SETREGSET),
	CONSTANT(PTRACE_SEIZE),
	CONSTANT(PTRACE_INTERRUPT),
	CONSTANT(PTRACE_LISTEN),
	CONSTANT(PTRACE_PEEKSIGINFO),
	CONSTANT(PTRACE_GETSIGMASK),
	CONSTANT(PTRACE_SETSIGMASK),
	CONSTANT(PTRACE_SECCOMP_GET_FILTER),
	CONSTANT(PTRACE_SECCOMP_GET_METADATA),
	CONSTANT(PTRACE_GET_SYSCALL_INFO),

	/* A dirfd is an int that glibc sign-extends into the register. */
	{ "AT_FDCWD", (uint64_t)(int64_t)AT_FDCWD },
	CONSTANT(AT_SYMLINK_NOFOLLOW),
	CONSTANT(AT_REMOVEDIR),
	CONSTANT(AT_EACCESS),
	CONSTANT(AT_SYMLINK_FOLLOW),
	CONSTANT(AT_NO_AUTOMOUNT),
	CONSTANT(AT_EMPTY_PATH),
	CONSTANT(AT_RECURSIVE),
};

bool lookup_constant(const char *name, uint64_t *value)
{
	for (size_t i = 0; i < ARRAY_SIZE(constants); i++) {
		if (strcmp(constants[i].name, name) == 0) {
			*value = constants[i].value;
			return true;
		}
	}
	return false;
}

const char *suggest_constant(const char *name)
{
	const char *names[ARRAY_SIZE(constants)];

	for (size_t i = 0; i < ARRAY_SIZE(constants); i++)
		names[i] = constants[i].name;
	return suggest_name(name, names, ARRAY_SIZE(constants));
}

/* The constants that policy_watch_format() writes for an argument. */
static const struct argument_family {
	const char *syscall;
	unsigned int arg;
	const char *prefix;
	bool flags; /* a bit set, not a list of values */
} argument_families[] = {
	{ "clone", 0, "CLONE_", true },
	{ "execveat", 0, "AT_", false },
	{ "execveat", 4, "AT_", true },
	{ "memfd_create", 1, "MFD_", true },
	{ "mmap", 2, "PROT_", true },
	{ "mmap", 3, "MAP_", true },
	{ "mprotect", 2, "PROT_", true },
	{ "mremap", 3, "MREMAP_", true },
	{ "open", 1, "O_", true },
	{ "openat", 0, "AT_", false },
	{ "openat", 2, "O_", true },
	{ "pkey_mprotect", 2, "PROT_", true },
	{ "ptrace", 0, "PTRACE_", false },
	{ "setns", 1, "CLONE_", true },
	{ "shmat", 2, "SHM_", true },
	{ "unshare", 0, "CLONE_", true },
};

const char *argument_constant_prefix(const char *syscall, unsigned int arg,
				     bool *flags)
{
	for (size_t i = 0; i < ARRAY_SIZE(argument_families); i++) {
		const struct argument_family *family = &argument_families[i];

		if (family->arg == arg &&
		    strcmp(family->syscall, syscall) == 0) {
			*flags = family->flags;
			return family->prefix;
		}
	}
	return NULL;
}

static bool has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

static bool is_single_bit(uint64_t value)
{
	return value != 0 && (value & (value - 1)) == 0;
}

/* Writes the name of the constant equal to value, or 0 when none is. */
static size_t format_exact(const char *prefix, uint64_t value, char *buffer,
			   size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(constants); i++) {
		if (constants[i].value == value &&
		    has_prefix(constants[i].name, prefix))
			return (size_t)snprintf(buffer, size, "%s",
						constants[i].name);
	}
	return 0;
}

/* Appends text to buffer, which has room for size bytes in all. */
static size_t append(char *buffer, size_t size, size_t length, const char *text)
{
	int written = snprintf(buffer + length, size - length, "%s", text);

	return length + (size_t)written;
}

/*
 * Appends the constants of the prefix that fit in the bits of *rest not
 * yet written: those of several bits when multiple is set, else those of
 * one bit. Returns the new length, or size when the text does not fit.
 */
static size_t append_constants(const char *prefix, bool multiple,
			       uint64_t *rest, char *buffer, size_t size,
			       size_t length)
{
	for (size_t i = 0; i < ARRAY_SIZE(constants); i++) {
		const struct constant *constant = &constants[i];

		if (!has_prefix(constant->name, prefix) ||
		    constant->value == 0 ||
		    is_single_bit(constant->value) == multiple ||
		    (constant->value & ~*rest) != 0)
			continue;
		*rest &= ~constant->value;
		if (length > 0)
			length = append(buffer, size, length, "|");
		if (length < size)
			length = append(buffer, size, length, constant->name);
		if (length >= size)
			return size;
	}
	return length;
}

/*
 * Writes value as constants of the prefix joined with '|' and returns the
 * length, or returns 0 when the constants cannot express it exactly or
 * the text does not fit. A flag value that no single constant equals is
 * split into constants, those of several bits such as O_TMPFILE first.
 */
size_t format_constants(const char *prefix, uint64_t value, bool flags,
			char *buffer, size_t size)
{
	uint64_t rest = value;
	size_t length = format_exact(prefix, value, buffer, size);

	if (length >= size)
		return 0;
	if (length > 0 || !flags || value == 0)
		return length;

	length = append_constants(prefix, true, &rest, buffer, size, length);
	if (length < size)
		length = append_constants(prefix, false, &rest, buffer, size,
					  length);
	return length < size && rest == 0 ? length : 0;
}
