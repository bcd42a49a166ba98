/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Notification handling. Every notification gets exactly one response, on
 * every path: CONTINUE unless a deny or kill rule decided otherwise. Facts
 * read from /proc or target memory are used only if the notification is
 * still valid after reading them, because a dead thread's id may already
 * belong to another process. Deny and kill are therefore carried out only
 * after that final check, on facts read before it.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/protocol.h"

#include "abi.h"
#include "callsite.h"
#include "digest.h"
#include "learn.h"
#include "log.h"
#include "procfs.h"
#include "record.h"
#include "target.h"
#include "unwind.h"

/* Both `syscall` (0f 05) and `int 0x80` (cd 80) are two bytes long. */
#define SYSCALL_INSN_LENGTH 2

/*
 * Modules whose unwind tables and symbols stay cached. A service maps a
 * few dozen files; the cache evicts the least recently used beyond this.
 */
#define MODULE_CACHE_SIZE 64

/* Ranges of possibly unbacked code looked for on the stack; beyond, unwind. */
#define UNBACKED_RANGES_MAX 16

int monitor_init(struct monitor *monitor, const struct policy *policy,
		 struct event_sink *sink)
{
	memset(monitor, 0, sizeof(*monitor));
	monitor->policy = policy;
	monitor->mode = policy_effective_mode(policy);
	monitor->needs = policy->needs;
	monitor->sink = sink;
	proc_table_init(&monitor->processes);
	program_cache_init(&monitor->programs);
	monitor->stack_words = calloc(STACK_SCAN_WORDS, sizeof(uint64_t));
	if (!monitor->stack_words)
		return -ENOMEM;
	monitor->digests = digest_cache_new();
	if (!monitor->digests)
		return -ENOMEM;
	monitor->modules = module_cache_new(MODULE_CACHE_SIZE);
	if (monitor->modules)
		monitor->unwinder = unwinder_new(monitor->modules, NULL);
	if (!monitor->unwinder)
		return -ENOMEM;
	return notify_buffers_init(&monitor->buffers);
}

int monitor_set_launcher(struct monitor *monitor, pid_t pid)
{
	char path[TARGET_PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (length < 0)
		return -errno;
	path[length] = '\0';
	free(monitor->own_exe);
	monitor->own_exe = strdup(path);
	if (!monitor->own_exe)
		return -ENOMEM;
	monitor->launcher = pid;
	return 0;
}

void monitor_learn(struct monitor *monitor, struct baseline *baseline)
{
	monitor->learning = baseline;
	monitor->needs |= LEARN_NEEDS;
}

void monitor_profile(struct monitor *monitor, struct syscall_profile *profile)
{
	monitor->profile = profile;
	monitor->needs |= POLICY_NEEDS_CALLER;
}

void monitor_fini(struct monitor *monitor)
{
	proc_table_fini(&monitor->processes);
	unwinder_free(monitor->unwinder);
	module_cache_free(monitor->modules);
	digest_cache_free(monitor->digests);
	monitor->digests = NULL;
	program_cache_fini(&monitor->programs);
	monitor->unwinder = NULL;
	monitor->modules = NULL;
	free(monitor->stack_words);
	monitor->stack_words = NULL;
	free(monitor->own_exe);
	monitor->own_exe = NULL;
	notify_buffers_fini(&monitor->buffers);
}

/*
 * Records that the call will change the mappings in [start, start +
 * length), or anywhere for length 0. The change only happens once the
 * call runs, after the response, so the mark is applied to the cache
 * then: a reread of the maps while the call is being judged would see the
 * old mappings and drop a mark made earlier.
 */
static void mark_changed(struct call *call, uint64_t start, uint64_t length)
{
	if (call->changed_count == CALL_CHANGES_MAX) {
		length = 0;
		call->changed_count--;
	}
	call->changed[call->changed_count].start = start;
	call->changed[call->changed_count].length = length;
	call->changed_count++;
}

/*
 * Marks the ranges the call may remap in its process's cache.
 * NOTE: a process that shares its memory without being a thread of the
 * caller, as after vfork() or clone(CLONE_VM), has an entry of its own,
 * and its cache is not marked.
 */
static void apply_changes(struct call *call)
{
	for (size_t i = 0; i < call->changed_count; i++)
		process_mark_dirty(call->process, call->tid,
				   call->changed[i].start,
				   call->changed[i].length);
}

static bool is_name(const struct call *call, const char *name)
{
	return call->name && strcmp(call->name, name) == 0;
}

static struct finding *add_finding(struct call *call, enum policy_event event)
{
	struct finding *finding;

	if (call->finding_count == CALL_FINDINGS_MAX)
		return NULL;
	finding = &call->findings[call->finding_count++];
	memset(finding, 0, sizeof(*finding));
	finding->event = event;
	finding->map_fd = -1;
	return finding;
}

static bool is_file_backed(enum origin_kind origin)
{
	switch (origin) {
	case ORIGIN_LIBC:
	case ORIGIN_LOADER:
	case ORIGIN_EXECUTABLE:
	case ORIGIN_LIBRARY:
	case ORIGIN_MEMFD:
	case ORIGIN_DELETED:
		return true;
	default:
		return false;
	}
}

/*
 * Warns once per process that its /proc entries cannot be read. Without
 * CAP_SYS_PTRACE that happens for programs that make themselves
 * non-dumpable (ssh-agent, gpg-agent): their calls go unclassified.
 */
static void warn_unreadable(struct call *call, int err)
{
	if (err != -EACCES && err != -EPERM)
		return;
	if (call->process->access_warned)
		return;
	call->process->access_warned = true;
	log_warn_errno(-err,
		       "cannot read the /proc entries of pid %d (%s), so its"
		       " syscall origins and module loads are not checked;"
		       " run nativemon with CAP_SYS_PTRACE to monitor"
		       " non-dumpable programs",
		       (int)call->tgid,
		       call->process->exe_path ? call->process->exe_path : "?");
}

static void locate_origin(struct call *call)
{
	const struct mapping *mapping;
	int err;

	call->address = call->ip >= SYSCALL_INSN_LENGTH
				? call->ip - SYSCALL_INSN_LENGTH
				: 0;
	/* The changes that this thread's earlier calls made have happened. */
	process_settle_changes(call->process, call->tid);
	mapping = process_find_mapping(call->process, call->address, &err);
	if (err < 0) {
		call->origin_unreadable = true;
		warn_unreadable(call, err);
	}
	call->origin = origin_classify(mapping, &call->process->exe);
	/* A path longer than PATH_MAX stays unknown rather than cut short. */
	if (mapping && is_file_backed(call->origin) && mapping->path &&
	    strlen(mapping->path) < sizeof(call->module)) {
		snprintf(call->module, sizeof(call->module), "%s",
			 mapping->path);
		call->module_offset =
			call->address - mapping->start + mapping->offset;
		call->module_device =
			makedev(mapping->dev_major, mapping->dev_minor);
		call->module_inode = mapping->inode;
		call->has_module = true;
	}
}

static bool is_libc_or_kernel(enum origin_kind origin)
{
	return origin == ORIGIN_LIBC || origin == ORIGIN_LOADER ||
	       origin == ORIGIN_VDSO;
}

static bool is_unlinked(enum origin_kind kind)
{
	return kind == ORIGIN_MEMFD || kind == ORIGIN_DELETED;
}

static size_t pointer_size_of(enum abi abi)
{
	return abi == ABI_X86_64 ? 8 : 4;
}

/* execve(path, argv, envp) and execveat(dirfd, path, argv, envp, flags). */
static void inspect_exec(struct call *call)
{
	bool at = is_name(call, "execveat");
	int dirfd = at ? (int)call->args[0] : AT_FDCWD;
	uint64_t path_address = at ? call->args[1] : call->args[0];
	uint64_t argv_address = at ? call->args[2] : call->args[1];
	int flags = at ? (int)call->args[4] : 0;
	char path[TARGET_PATH_MAX];
	struct finding *exec;

	process_mark_exec(call->process);
	/* The new image is still checked through /proc/PID/exe. */
	if (call->process->userfaultfd)
		return;
	if (read_target_string(call->tid, path_address, path, sizeof(path)) < 0)
		return;
	exec = add_finding(call, EVENT_EXEC);
	if (!exec)
		return;
	/* A shell tries each PATH entry; a name that is not there is noise. */
	if (target_exec_file(call->tgid, call->tid, dirfd, path, flags,
			     &exec->file) < 0 ||
	    !S_ISREG(exec->file.st.st_mode)) {
		call->finding_count--;
		return;
	}
	exec->has_file = true;
	call->process->exec_reported = true;
	read_target_args(call->tid, argv_address, pointer_size_of(call->abi),
			 &exec->args);
	if (is_unlinked(exec->file.kind)) {
		struct finding *fileless = add_finding(call, EVENT_FILELESS_EXEC);

		if (fileless) {
			fileless->file = exec->file;
			fileless->has_file = true;
			target_args_copy(&fileless->args, &exec->args);
			call->process->fileless_reported = true;
		}
	}
}

/* Copies the new image's command line into an exec finding. */
static void copy_cmdline(struct process *process, struct target_args *args)
{
	size_t length;
	const char *cmdline = process_cmdline(process, &length);

	if (!cmdline || length == 0)
		return;
	args->bytes = malloc(length);
	if (!args->bytes)
		return;
	memcpy(args->bytes, cmdline, length);
	args->length = length;
	for (size_t i = 0; i < length; i++)
		args->count += cmdline[i] == '\0';
	args->total = args->count;
}

static struct finding *add_image_finding(struct call *call,
					 enum policy_event event,
					 const struct target_file *file)
{
	struct finding *finding = add_finding(call, event);

	if (finding) {
		finding->file = *file;
		finding->has_file = true;
		finding->after_exec = true;
	}
	return finding;
}

/*
 * Checks the program that an exec just started, from /proc/PID/exe, the
 * kernel's own record of it. The exec call is inspected before it runs,
 * from a path in target memory that the supervisor may fail to resolve,
 * and this check catches what that inspection missed.
 */
static void inspect_new_image(struct call *call)
{
	struct process *process = call->process;
	bool exec_reported = process->exec_reported;
	bool fileless_reported = process->fileless_reported;
	struct target_file file;
	struct finding *finding;

	process->image_changed = false;
	process->exec_reported = false;
	process->fileless_reported = false;
	/* The table read the link and its stat when the image changed. */
	if (!process->has_exe_stat)
		return;
	target_describe_link(process->exe_path, &process->exe_stat, &file);
	if (!exec_reported) {
		finding = add_image_finding(call, EVENT_EXEC, &file);
		if (finding)
			copy_cmdline(process, &finding->args);
	}
	if (is_unlinked(file.kind) && !fileless_reported) {
		finding = add_image_finding(call, EVENT_FILELESS_EXEC, &file);
		if (finding)
			copy_cmdline(process, &finding->args);
	}
}

/*
 * Classifies how a module arrived from the code that maps it. The kernel
 * reports where the syscall instruction lies, so a manual map is found
 * even in a process that forges the shim's reports. Those reports only
 * tell which dlopen call the loader serves. Without a report, the loader
 * maps either at start-up, before the shim's constructor sent its hello,
 * or for libc's own loads of NSS and gconv modules, which bypass dlopen.
 *
 * NOTE: without the shim (a program that clears LD_PRELOAD) every load by
 * the loader counts as start-up, and the loader linked into a static
 * program that calls dlopen is not recognised: its loads are manual maps.
 */
static void classify_load(struct call *call, struct finding *load)
{
	struct process *process = call->process;

	if (call->origin_unreadable) {
		load->load_source = LOAD_SOURCE_UNKNOWN;
		return;
	}
	if (call->origin != ORIGIN_LOADER) {
		load->load_source = LOAD_SOURCE_MANUAL_MAP;
		return;
	}
	load->load = process_current_load(process, call->tid);
	if (load->load) {
		load->load_source = load->load->source;
		load->load_caller = load->load->caller;
	} else if (process->loads_dropped) {
		load->load_source = LOAD_SOURCE_UNKNOWN;
	} else if (process->shim_ready) {
		load->load_source = LOAD_SOURCE_DLOPEN;
		load->load_caller = process_libc_path(process);
	} else {
		load->load_source = LOAD_SOURCE_LOADER;
	}
}

static void add_module_finding(struct call *call, const struct target_file *file,
			       int fd)
{
	struct finding *load;

	/*
	 * A file mapped executable already adds no module. nativemon's own
	 * shim is not part of the program either, and in a build tree under
	 * /tmp it would even raise an alert.
	 */
	if (origin_is_shim_file(file->st.st_dev, file->st.st_ino) ||
	    process_maps_code_of(call->process, file->st.st_dev,
				 file->st.st_ino)) {
		process_add_module(call->process, &file->st);
		return;
	}
	if (!process_add_module(call->process, &file->st))
		return;
	load = add_finding(call, EVENT_MODULE_LOAD);
	if (!load)
		return;
	load->file = *file;
	load->has_file = true;
	load->map_fd = fd;
	load->in_writable_dir =
		target_path_in_writable_dir(call->tid, file->path);
	classify_load(call, load);
}

/*
 * mmap(addr, length, prot, flags, fd, offset) with PROT_EXEC: a file mapped
 * executable is a module load. The new mapping only appears once the call
 * runs, so the cached maps are marked out of date for its range.
 */
static void inspect_mmap(struct call *call)
{
	int flags = (int)call->args[3];
	struct target_file file;
	int err;

	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
		mark_changed(call, call->args[0], call->args[1]);
	else
		mark_changed(call, 0, 0);
	if (flags & MAP_ANONYMOUS) {
		call->process->unbacked_code = true;
		return;
	}
	err = target_fd_file(call->tid, (int)call->args[4], &file);
	if (err < 0) {
		warn_unreadable(call, err);
		return;
	}
	/*
	 * The cached maps predate this mapping and may have been read before
	 * libc arrived, when a library listed before it (libm) was mapped.
	 */
	if (!is_unlinked(file.kind) && origin_is_libc_path(file.path)) {
		call->process->libc_mapped = true;
		process_set_libc_path(call->process, file.path);
	}
	/* A mapping of /dev/zero or another device is no file on disk. */
	if (is_unlinked(file.kind) || !S_ISREG(file.st.st_mode))
		call->process->unbacked_code = true;
	add_module_finding(call, &file, (int)call->args[4]);
}

/*
 * mprotect(addr, length, prot) with PROT_EXEC over a file mapping makes
 * code executable without the loader's usual mmap, as manual loaders do.
 */
static void inspect_mprotect(struct call *call)
{
	const struct mapping *mapping;
	struct target_file file = { 0 };
	int err;

	mapping = process_find_mapping(call->process, call->args[0], &err);
	/*
	 * The range becomes executable, which the cached permissions do not
	 * show yet: the unwinder would reject return addresses into it, and
	 * a stale file entry could make shellcode look like a library.
	 */
	mark_changed(call, call->args[0], call->args[1]);
	if (!mapping || !mapping->path || mapping->path[0] != '/' ||
	    mapping->inode == 0) {
		call->process->unbacked_code = true;
		return;
	}
	snprintf(file.path, sizeof(file.path), "%s", mapping->path);
	file.st.st_dev = makedev(mapping->dev_major, mapping->dev_minor);
	file.st.st_ino = mapping->inode;
	file.kind = origin_classify(mapping, NULL);
	if (!is_unlinked(file.kind))
		file.kind = ORIGIN_LIBRARY;
	/* The size, mode and times, for the module set and the digest. */
	target_stat_file(call->tid, &file);
	add_module_finding(call, &file, -1);
}

/* mremap(old, old_size, new_size, flags, new_address) with MREMAP_FIXED. */
static void inspect_mremap(struct call *call)
{
	mark_changed(call, call->args[4], call->args[2]);
}

/*
 * A page registered with a userfaultfd blocks any task that faults on it
 * until the process serves the fault, and a read of target memory faults. From
 * here on nativemon reads none of the process's memory, so a process
 * cannot stall the supervisor, and with it every other process.
 *
 * NOTE: a userfaultfd opened through /dev/userfaultfd (Linux 6.1) comes
 * from an unwatched open and is not noticed.
 */
static void note_userfaultfd(struct call *call)
{
	if (call->process->userfaultfd)
		return;
	call->process->userfaultfd = true;
	log_warn("pid %d (%s) created a userfaultfd: nativemon no longer reads"
		 " its memory, so its exec paths, arguments and call stacks"
		 " are not reported until it execs",
		 (int)call->tgid,
		 call->process->exe_path ? call->process->exe_path : "?");
}

/*
 * personality(2) with READ_IMPLIES_EXEC: from here on a mapping made
 * without PROT_EXEC, which the filter lets through, can hold code. The
 * query 0xffffffff changes nothing.
 */
static void inspect_personality(struct call *call)
{
	unsigned int persona = (unsigned int)call->args[0];

	if (persona == 0xffffffff || !(persona & READ_IMPLIES_EXEC))
		return;
	call->process->read_implies_exec = true;
	call->process->unbacked_code = true;
	mark_changed(call, 0, 0);
}

/*
 * shmat(2) with SHM_EXEC maps System V shared memory executable, at an
 * address the call returns, possibly over code in the cached maps.
 */
static void inspect_shmat(struct call *call)
{
	call->process->unbacked_code = true;
	mark_changed(call, 0, 0);
}

static void inspect_syscall(struct call *call)
{
	if (is_name(call, "userfaultfd"))
		note_userfaultfd(call);
	if (is_name(call, "execve") || is_name(call, "execveat")) {
		inspect_exec(call);
		return;
	}
	if (call->abi != ABI_X86_64) {
		/* Other ABIs' mmap variants: only keep the cache honest. */
		mark_changed(call, 0, 0);
		return;
	}
	if (is_name(call, "mmap"))
		inspect_mmap(call);
	else if (is_name(call, "mprotect") || is_name(call, "pkey_mprotect"))
		inspect_mprotect(call);
	else if (is_name(call, "mremap"))
		inspect_mremap(call);
	else if (is_name(call, "personality"))
		inspect_personality(call);
	else if (is_name(call, "shmat"))
		inspect_shmat(call);
}

static const struct mapping *find_process_mapping(void *context,
						  uint64_t address, int *err)
{
	return process_find_mapping(context, address, err);
}

static void fill_unwind_target(const struct call *call,
			       struct unwind_target *target)
{
	memset(target, 0, sizeof(*target));
	target->tgid = call->tgid;
	target->tid = call->tid;
	target->find_mapping = find_process_mapping;
	target->context = call->process;
	target->exe = &call->process->exe;
}

/*
 * Reads the stack pointer that /proc shows for the blocked thread and
 * checks that it lies on one of the thread's stacks. Only the x86-64 ABI
 * is checked and unwound: int 0x80 and x32 calls are alerts by themselves.
 */
static void check_stack_pointer(struct monitor *monitor, struct call *call)
{
	struct unwind_target target;
	enum stack_pointer_place place;

	if (call->abi != ABI_X86_64 || call->origin_unreadable)
		return;
	if (proc_table_read_syscall_pointers(&monitor->processes, call->tid,
					     &call->sp, &call->stack_ip) < 0)
		return;
	call->has_pointers = true;
	fill_unwind_target(call, &target);
	place = unwind_locate_stack_pointer(&target, call->sp);
	call->pivoted = place == STACK_POINTER_PIVOTED ||
			place == STACK_POINTER_UNMAPPED;
}

/*
 * Unwinds the caller's stack, once per call. It costs tens of
 * microseconds, so it runs only when a detection, a rule or a record
 * needs the frames.
 */
static void unwind_caller(struct monitor *monitor, struct call *call)
{
	struct unwind_target target;

	if (!call->has_pointers || call->process->userfaultfd)
		return;
	if (call->has_stack && call->stack.status != STACK_CALLER_FOUND)
		return;
	/* A walk that stopped at the caller frame is done again in full. */
	if (call->has_stack) {
		unwind_stack_fini(&call->stack);
		call->has_stack = false;
		call->caller = NULL;
	}
	fill_unwind_target(call, &target);
	call->has_stack = unwind_thread(monitor->unwinder, &target,
					call->stack_ip, call->sp,
					&call->stack) == 0;
	if (call->has_stack)
		call->caller = unwind_stack_caller(&call->stack);
}

/* Unwinds up to the caller frame, which is all the caller matchers need. */
static void unwind_to_caller(struct monitor *monitor, struct call *call)
{
	struct unwind_target target;

	if (!call->has_pointers || call->has_stack ||
	    call->process->userfaultfd)
		return;
	fill_unwind_target(call, &target);
	call->has_stack = unwind_thread_to_caller(monitor->unwinder, &target,
						  call->stack_ip, call->sp,
						  &call->stack) == 0;
	if (call->has_stack)
		call->caller = unwind_stack_caller(&call->stack);
}

static bool is_in_ranges(uint64_t word, const struct address_range *ranges,
			 size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (word >= ranges[i].start && word < ranges[i].end)
			return true;
	}
	return false;
}

/*
 * Sets [*low, *high) to the smallest range that contains all of ranges.
 * The stack scan then tests most words with two comparisons, because few
 * of the hundreds of words on a stack point near unbacked code.
 */
static void span_ranges(const struct address_range *ranges, size_t count,
			uint64_t *low, uint64_t *high)
{
	*low = UINT64_MAX;
	*high = 0;
	for (size_t i = 0; i < count; i++) {
		if (ranges[i].start < *low)
			*low = ranges[i].start;
		if (ranges[i].end > *high)
			*high = ranges[i].end;
	}
}

/*
 * Reads bytes with process_vm_readv(2) alone. A stack word often points
 * into no mapping at all, and read_target_memory() would then retry
 * through /proc/PID/mem, which costs an open and a close.
 */
static ssize_t read_code_bytes(pid_t tid, uint64_t address, void *buffer,
			       size_t size)
{
	struct iovec local = { .iov_base = buffer, .iov_len = size };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)address,
				.iov_len = size };

	return process_vm_readv(tid, &local, 1, &remote, 1, 0);
}

/*
 * Returns true if a call instruction may end at address, so that pointers
 * to data in those ranges do not count as return addresses. When the page
 * before cannot be read, only the bytes of address's own page are looked
 * at, because a call cannot straddle into unmapped memory.
 */
static bool may_be_return_address(const struct call *call, uint64_t address)
{
	uint8_t before[CALLSITE_BYTES_MAX];
	uint64_t in_page = address & 0xfff;
	struct callsite site;
	size_t length = sizeof(before);
	ssize_t n;

	if (address < CALLSITE_BYTES_MAX)
		return false;
	/*
	 * A pointer to the start of a page after a gap is common (a JIT's
	 * or shellcode's own page). The read of the gap would fail, and a
	 * failing process_vm_readv(2) costs more than a successful one.
	 */
	if (in_page < length &&
	    process_page_is_unmapped(call->process, address - length))
		n = -1;
	else
		n = read_code_bytes(call->tid, address - length, before,
				    length);
	if (n != (ssize_t)length && in_page < length) {
		length = (size_t)in_page;
		if (length < 2)
			return false;
		n = read_code_bytes(call->tid, address - length, before,
				    length);
	}
	if (n != (ssize_t)length)
		return true;
	return callsite_decode(before, length, address, &site);
}

/*
 * Returns false only if no word of the stack, as far as the unwinder
 * would read it, points into memory that may be executable without a
 * file. Every return address that an unwind can find is such a word, so
 * then no caller frame can be unbacked and the unwind is saved.
 */
static bool stack_may_hold_unbacked(struct monitor *monitor,
				    struct call *call)
{
	struct address_range ranges[UNBACKED_RANGES_MAX];
	const struct mapping *stack;
	uint64_t low, high;
	size_t count, words;
	ssize_t n;
	int err;

	count = process_unbacked_ranges(call->process, ranges,
					UNBACKED_RANGES_MAX);
	if (count == 0 || call->process->userfaultfd)
		return false;
	if (count == SIZE_MAX)
		return true;
	stack = process_find_mapping(call->process, call->sp, &err);
	if (!stack || stack->end <= call->sp)
		return true;
	words = (size_t)(stack->end - call->sp) / sizeof(uint64_t);
	if (words > STACK_SCAN_WORDS)
		words = STACK_SCAN_WORDS;
	n = read_target_memory(call->tid, call->sp, monitor->stack_words,
			       words * sizeof(uint64_t));
	if (n <= 0)
		return true;
	span_ranges(ranges, count, &low, &high);
	for (size_t i = 0; i < (size_t)n / sizeof(uint64_t); i++) {
		uint64_t word = monitor->stack_words[i];

		if (word < low || word >= high)
			continue;
		if (is_in_ranges(word, ranges, count) &&
		    may_be_return_address(call, word))
			return true;
	}
	return false;
}

/*
 * A caller frame can only be unbacked in a process that has executable
 * memory without a file. Finding one needs every frame, while the caller
 * matchers need the frames up to the caller only.
 */
static void unwind_as_needed(struct monitor *monitor, struct call *call)
{
	if (!call->has_pointers)
		return;
	if (call->process->unbacked_code &&
	    stack_may_hold_unbacked(monitor, call))
		unwind_caller(monitor, call);
	else if (monitor->needs & POLICY_NEEDS_CALLER)
		unwind_to_caller(monitor, call);
}

/*
 * Returns true if a caller frame of a call issued from libc or the loader
 * lies in memory without a file on disk: shellcode that called a libc
 * function. Only frames found from unwind tables or frame pointers count,
 * up to the first frame a stack scan found, because a scan can pick up a
 * stale return address and every frame after it builds on that.
 */
static bool has_unbacked_caller(const struct call *call)
{
	if (!call->has_stack || call->stack.status == STACK_PIVOTED)
		return false;
	for (size_t i = 1; i < call->stack.count; i++) {
		const struct frame *frame = &call->stack.frames[i];

		if (frame->method == FRAME_METHOD_SCAN)
			break;
		if (origin_is_unbacked(frame->origin))
			return true;
	}
	return false;
}

/*
 * Returns true if a call of a 32-bit program through the vDSO's
 * __kernel_vsyscall returns into memory without a file, as from shellcode
 * that looked the entry up in AT_SYSINFO. The entry pushes ecx, edx and
 * ebp before it enters the kernel, so the return address is the fourth
 * word from the stack pointer. The stack is not unwound further.
 *
 * NOTE: a stub that makes those pushes and then a syscall instruction of
 * its own (the fast 32-bit entry on AMD) returns through the vDSO to its
 * caller, so the stub itself is not seen.
 */
static bool returns_from_vsyscall_to_unbacked(struct monitor *monitor,
					      struct call *call)
{
	const struct mapping *mapping;
	uint32_t return_address;
	uint64_t sp, ip;
	int err;

	if (call->abi != ABI_I386 || call->origin != ORIGIN_VDSO ||
	    call->process->userfaultfd)
		return false;
	if (proc_table_read_syscall_pointers(&monitor->processes, call->tid,
					     &sp, &ip) < 0)
		return false;
	if (read_target_memory(call->tid, sp + 3 * sizeof(uint32_t),
			       &return_address, sizeof(return_address)) !=
	    (ssize_t)sizeof(return_address))
		return false;
	mapping = process_find_mapping(call->process, return_address, &err);
	return origin_is_unbacked(origin_classify(mapping, &call->process->exe));
}

/*
 * Adds the findings of where the syscall instruction is. A program built
 * for i386 or x32 makes its calls through that ABI, from its C library or
 * the vDSO, so they are judged by origin like a 64-bit program's. A 64-bit
 * program switching ABIs is a finding of its own.
 */
static void classify_origin(struct monitor *monitor, struct call *call)
{
	bool native = call->abi == ABI_X86_64;
	bool by_origin = native || call->abi == call->process->exe_abi;

	if (!native)
		add_finding(call, EVENT_NON_NATIVE_ABI);
	if (by_origin && !is_libc_or_kernel(call->origin) &&
	    !call->origin_unreadable)
		add_finding(call, EVENT_DIRECT_SYSCALL);
	else if (native && has_unbacked_caller(call))
		add_finding(call, EVENT_UNBACKED_CALLER);
	else if (by_origin && returns_from_vsyscall_to_unbacked(monitor, call))
		add_finding(call, EVENT_UNBACKED_CALLER);
	if (call->pivoted)
		add_finding(call, EVENT_STACK_PIVOT);
}

/* Whether the launcher makes the call, before it has exec'd the command. */
static bool is_launcher(const struct monitor *monitor, const struct call *call)
{
	const char *exe = call->process->exe_path;

	return monitor->launcher && call->tgid == monitor->launcher &&
	       exe && strcmp(exe, monitor->own_exe) == 0;
}

/* Whether the call is an exec of the launcher, before the command runs. */
static bool is_launch(const struct monitor *monitor, const struct call *call)
{
	return is_launcher(monitor, call) &&
	       (is_name(call, "execve") || is_name(call, "execveat"));
}

/* Returns what to do about a resource that ran out, or NULL. */
static const char *resource_fix(int err)
{
	switch (err) {
	case -EMFILE:
		return "raise the hard limit on open files (ulimit -Hn, or"
		       " LimitNOFILE= for a systemd service)";
	case -ENFILE:
		return "raise the system's limit on open files (fs.file-max)";
	case -ENOMEM:
		return "free memory or raise nativemon's memory limit";
	default:
		return NULL;
	}
}

/*
 * Counts a call of a thread that the process table could not take in for
 * want of descriptors or memory, and warns at the first. Unlike a thread
 * that has exited, such a thread goes on, and its call runs unchecked.
 *
 * NOTE: such calls are allowed even under deny and kill rules; nativemon
 * raises its descriptor limit to the hard limit to keep them rare.
 */
static void count_untracked(struct monitor *monitor, const struct call *call,
			    int err)
{
	const char *fix = resource_fix(err);

	if (!fix)
		return;
	if (monitor->untracked++ == 0)
		log_warn_errno(-err,
			       "cannot track thread %d, so its watched calls"
			       " go unchecked; %s",
			       (int)call->tid, fix);
}

static void analyze(struct monitor *monitor, struct call *call)
{
	int err;

	call->process = proc_table_resolve(&monitor->processes, call->tid,
					   &err);
	if (!call->process) {
		count_untracked(monitor, call, err);
		return;
	}
	call->tgid = call->process->tgid;
	if (call->process->image_changed)
		inspect_new_image(call);
	locate_origin(call);
	check_stack_pointer(monitor, call);
	unwind_as_needed(monitor, call);
	classify_origin(monitor, call);
	inspect_syscall(call);
	/* Every ABI, so that `deny syscall ptrace` also stops int 0x80. */
	if (!is_launch(monitor, call))
		add_finding(call, EVENT_NATIVE_API);
}

/* Lists the executables of the caller's lineage for ancestor matchers. */
static void list_ancestry(struct call *call)
{
	const struct lineage *lineage = &call->process->lineage;

	for (size_t i = 0; i < lineage->count; i++) {
		if (lineage->entries[i].exe)
			call->ancestry.exes[call->ancestry.count++] =
				lineage->entries[i].exe;
	}
}

/* Writes bytes as lower-case hex, the form rules store build-ids in. It
 * runs for each call under call-site rules, where snprintf(3) per byte
 * showed in profiles. */
static void format_hex(const uint8_t *bytes, size_t length, char *buffer)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < length; i++) {
		buffer[2 * i] = digits[bytes[i] >> 4];
		buffer[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	buffer[2 * length] = '\0';
}

/* Writes the module's GNU build-id as lower-case hex. */
static bool format_build_id(const struct module *module, char *buffer,
			    size_t size)
{
	const uint8_t *build_id;
	size_t length = module_build_id(module, &build_id);

	if (length == 0 || 2 * length + 1 > size)
		return false;
	format_hex(build_id, length, buffer);
	return true;
}

/*
 * Reads the build-id of the module that contains the syscall instruction
 * through the module cache, which reads each file once.
 */
static void read_origin_build_id(struct monitor *monitor, struct call *call)
{
	const struct mapping *mapping;
	struct module *module;
	int err;

	if (!call->has_module || call->has_build_id)
		return;
	mapping = process_find_mapping(call->process, call->address, &err);
	if (!mapping ||
	    module_cache_get(monitor->modules, call->tid, mapping, &module) < 0)
		return;
	call->has_build_id =
		format_build_id(module, call->build_id, sizeof(call->build_id));
	module_unref(module);
}

/* Without a stack, a call issued outside libc, the loader and the vDSO is
 * its own caller. */
static bool is_own_caller(const struct call *call)
{
	return !call->caller && call->has_module &&
	       !is_libc_or_kernel(call->origin);
}

static void read_caller_build_id(struct monitor *monitor, struct call *call)
{
	if (is_own_caller(call))
		read_origin_build_id(monitor, call);
	else if (call->caller && call->caller->module)
		call->has_caller_build_id = format_build_id(
			call->caller->module, call->caller_build_id,
			sizeof(call->caller_build_id));
}

static void read_ids(struct monitor *monitor, struct call *call)
{
	if (!call->has_ids)
		call->has_ids = proc_table_read_ids(&monitor->processes,
						    call->tid, &call->ids) == 0;
}

/*
 * Reads the costly facts that some rule of the policy uses, once per call.
 * The uid is the real uid, as user.id in events.
 */
static void read_needed_facts(struct monitor *monitor, struct call *call)
{
	unsigned int needs = monitor->needs;

	if (needs & POLICY_NEEDS_UID)
		read_ids(monitor, call);
	if (needs & POLICY_NEEDS_ANCESTRY)
		list_ancestry(call);
	if (needs & POLICY_NEEDS_BUILD_ID)
		read_origin_build_id(monitor, call);
	if (needs & POLICY_NEEDS_CALLER_BUILD_ID)
		read_caller_build_id(monitor, call);
}

/* The file of the first frame outside libc, the loader and the vDSO. */
static const char *caller_module(const struct call *call)
{
	if (call->caller)
		return call->caller->module ? module_path(call->caller->module)
					    : NULL;
	return is_own_caller(call) ? call->module : NULL;
}

/*
 * The caller frame's address is a return address. For a syscall issued
 * from the caller's own code it is the address after the syscall
 * instruction, and the offset of an own caller points there as well.
 */
static void fill_caller_facts(const struct call *call,
			      struct policy_facts *facts)
{
	facts->caller = caller_module(call);
	if (call->caller) {
		facts->caller_offset_known = call->caller->has_offset;
		facts->caller_offset = call->caller->offset;
		facts->caller_build_id = call->has_caller_build_id
						 ? call->caller_build_id
						 : NULL;
		facts->caller_origin_known = true;
		facts->caller_origin = call->caller->origin;
	} else if (is_own_caller(call)) {
		facts->caller_offset_known = true;
		facts->caller_offset =
			call->module_offset + SYSCALL_INSN_LENGTH;
		facts->caller_build_id =
			call->has_build_id ? call->build_id : NULL;
		facts->caller_origin_known = true;
		facts->caller_origin = call->origin;
	}
}

static void fill_facts(const struct call *call, const struct finding *finding,
		       struct policy_facts *facts)
{
	memset(facts, 0, sizeof(*facts));
	facts->event = finding->event;
	facts->abi = call->abi;
	facts->syscall = call->name;
	facts->origin = call->origin;
	facts->module = call->has_module ? call->module : NULL;
	facts->offset_known = call->has_module;
	facts->offset = call->module_offset;
	facts->build_id = call->has_build_id ? call->build_id : NULL;
	fill_caller_facts(call, facts);
	facts->exe = call->process->exe_path;
	facts->uid_known = call->has_ids;
	facts->uid = call->ids.uid;
	facts->ancestors = call->ancestry.exes;
	facts->ancestor_count = call->ancestry.count;
	facts->libc_mapped = call->process->libc_mapped;
	facts->program_abi = call->abi == call->process->exe_abi;
	if (finding->has_file) {
		facts->path = finding->file.path_unknown ? NULL
							 : finding->file.path;
		facts->path_unknown = finding->file.path_unknown;
		facts->file_kind = finding->file.kind;
		facts->path_in_writable_dir = finding->in_writable_dir;
		facts->load_source = finding->load_source;
		facts->file_build_id = finding->file_build_id[0]
					       ? finding->file_build_id
					       : NULL;
	}
}

/*
 * Sets the call's verdict from the strongest action among its findings'
 * rules; among deny rules, the first one's errno applies.
 */
static void decide(const struct monitor *monitor, struct call *call)
{
	enum policy_action strongest = POLICY_ALLOW;
	bool monitoring = monitor->mode == POLICY_MODE_MONITOR ||
			  monitor->learning;

	for (size_t i = 0; i < call->finding_count; i++) {
		const struct policy_rule *rule = call->findings[i].rule;

		if (!rule || rule->action <= strongest)
			continue;
		/*
		 * An exec found only in the new image has happened already:
		 * denying the unrelated call at hand would undo nothing.
		 */
		if (rule->action == POLICY_DENY && call->findings[i].after_exec)
			continue;
		strongest = rule->action;
		call->deny_errno = rule->deny_errno;
	}
	if (strongest == POLICY_KILL) {
		call->verdict = monitoring ? VERDICT_WOULD_KILL : VERDICT_KILL;
		/* The call must not run even if the kill fails. */
		call->deny_errno = EPERM;
	} else if (strongest == POLICY_DENY) {
		call->verdict = monitoring ? VERDICT_WOULD_DENY : VERDICT_DENY;
	}
	if (call->deny_errno <= 0)
		call->deny_errno = EPERM;
}

/*
 * Hashes the file of a module-load that is reported, once per file. The
 * first load of a large library waits for the hash (about 7 ms per 2 MiB),
 * every later load of it in any process does not.
 */
static void digest_module(struct monitor *monitor, struct call *call,
			  struct finding *finding)
{
	const struct module_digest *digest;
	int fd;

	if (finding->has_digest || !S_ISREG(finding->file.st.st_mode) ||
	    call->process->userfaultfd)
		return;
	/* The stat came from the descriptor that the caller maps. */
	digest = digest_cache_find(monitor->digests, &finding->file.st);
	if (!digest) {
		fd = target_open_file(call->tid, finding->map_fd,
				      &finding->file);
		if (fd < 0)
			return;
		digest = digest_cache_get(monitor->digests, fd);
		close(fd);
	}
	/*
	 * A copy, because the digest of a file changed just now is valid
	 * only until the cache's next call, which another finding may make.
	 */
	if (digest) {
		finding->digest = *digest;
		finding->has_digest = true;
	}
}

/*
 * A statically linked program never loads the preload shim, so its
 * dlopen calls go unattributed, and its exec event is marked. A build
 * runs the same programs again and again, so the result is kept per file.
 */
static void check_static(struct monitor *monitor, struct call *call,
			 struct finding *finding)
{
	struct program_cache *programs = &monitor->programs;
	const struct program_facts *facts;
	int fd;

	if (!finding->has_file || !S_ISREG(finding->file.st.st_mode))
		return;
	facts = program_cache_find(programs, &finding->file.st);
	if (!facts) {
		fd = target_open_file(call->tid, -1, &finding->file);
		if (fd < 0)
			return;
		facts = program_cache_read(programs, fd);
		close(fd);
	}
	finding->static_program = facts && facts->is_static;
}

/* Reads the build-id of the file loaded or executed, from its digest. */
static void read_file_build_id(struct monitor *monitor, struct call *call,
			       struct finding *finding)
{
	if (!finding->has_file)
		return;
	digest_module(monitor, call, finding);
	if (finding->has_digest)
		format_hex(finding->digest.build_id,
			   finding->digest.build_id_size,
			   finding->file_build_id);
}

/*
 * A native-api finding records only that a watched call happened. When a
 * more telling finding of the same call is written with an action at least
 * as strong, a native-api alert would repeat it, so it is not written. The
 * same goes for an exec alert next to a fileless-exec one. Telemetry and
 * the call's verdict stay as they are.
 */
static void drop_repeated_alerts(struct call *call)
{
	for (size_t i = 0; i < call->finding_count; i++) {
		struct finding *generic = &call->findings[i];

		if (!generic->reported || generic->rule->action < POLICY_ALERT)
			continue;
		if (generic->event != EVENT_NATIVE_API &&
		    generic->event != EVENT_EXEC)
			continue;
		for (size_t j = 0; j < call->finding_count; j++) {
			const struct finding *other = &call->findings[j];

			if (j == i || !other->reported ||
			    other->rule->action < generic->rule->action)
				continue;
			if (generic->event == EVENT_NATIVE_API ||
			    other->event == EVENT_FILELESS_EXEC)
				generic->reported = false;
		}
	}
}

/*
 * An exec is judged before it runs, so a file without execute permission
 * shows up as an exec finding although the exec will fail, as when a
 * shell tries each PATH entry. Learning it would allow whatever file is
 * put at that path later.
 */
static bool is_learnable(const struct finding *finding)
{
	if (finding->event != EVENT_EXEC && finding->event != EVENT_FILELESS_EXEC)
		return true;
	return !finding->has_file || (finding->file.st.st_mode & 0111);
}

/*
 * Reads what the records of the call need from /proc, once per call. Runs
 * before the response where it can, because afterwards the caller may
 * change directory, exec or exit.
 */
static void read_record_facts(struct monitor *monitor, struct call *call)
{
	if (call->has_record_facts)
		return;
	call->has_record_facts = true;
	read_ids(monitor, call);
	record_read_facts(call, &monitor->processes);
}

/*
 * Judges each finding and decides the call's verdict. Of the findings the
 * policy keeps, it gathers what their records need while the caller
 * waits: the stack for alerts and the facts from /proc. The records are
 * drafted after the response, by emit(), and built on the sink's writer
 * thread, so that formatting them delays neither this caller nor the next
 * notification. A record that the sink would fold is not prepared: it
 * would be dropped. While learning, each finding is also noted in the
 * baseline.
 */
static void judge(struct monitor *monitor, struct call *call)
{
	read_needed_facts(monitor, call);
	for (size_t i = 0; i < call->finding_count; i++) {
		struct finding *finding = &call->findings[i];
		struct policy_facts facts;

		if (monitor->needs & POLICY_NEEDS_FILE_BUILD_ID)
			read_file_build_id(monitor, call, finding);
		fill_facts(call, finding, &facts);
		finding->rule = policy_match(monitor->policy, &facts);
		finding->reported = finding->rule &&
				finding->rule->action != POLICY_ALLOW;
		if (monitor->learning && is_learnable(finding))
			learn_note(monitor->learning, &facts, finding->rule,
				   call->process, &finding->args);
	}
	decide(monitor, call);
	drop_repeated_alerts(call);
	for (size_t i = 0; i < call->finding_count; i++) {
		struct finding *finding = &call->findings[i];

		if (!finding->reported)
			continue;
		record_fold_key(call, finding);
		if (finding->fold_key[0] &&
		    event_sink_is_folding(monitor->sink, finding->fold_key))
			continue;
		/* Alerts carry the caller's stack. */
		if (finding->rule->action >= POLICY_ALERT)
			unwind_caller(monitor, call);
		if (finding->event == EVENT_MODULE_LOAD)
			digest_module(monitor, call, finding);
		if (finding->event == EVENT_EXEC)
			check_static(monitor, call, finding);
		read_record_facts(monitor, call);
		finding->record_due = true;
	}
}

/*
 * Hands drafts of the call's records to the sink, after the response. A
 * finding judge() expected to fold is counted in its window instead.
 */
static void emit(struct monitor *monitor, struct call *call)
{
	for (size_t i = 0; i < call->finding_count; i++) {
		struct finding *finding = &call->findings[i];
		struct event_draft *draft;

		if (!finding->reported)
			continue;
		if (!finding->record_due) {
			if (event_sink_fold(monitor->sink, finding->fold_key))
				continue;
			/*
			 * The window closed meanwhile: report it after all,
			 * with the facts /proc still has of the caller.
			 */
			read_record_facts(monitor, call);
		}
		draft = record_draft_new(call, finding);
		event_sink_emit(monitor->sink, draft,
				finding->fold_key[0] ? finding->fold_key : NULL,
				finding->summary[0] ? finding->summary : NULL);
	}
}

static void release(struct call *call)
{
	if (call->has_stack)
		unwind_stack_fini(&call->stack);
	for (size_t i = 0; i < call->finding_count; i++)
		target_args_fini(&call->findings[i].args);
}

static void read_request(const struct seccomp_notif *request, struct call *call)
{
	/* The call is 80 KiB, and clearing it all cost a microsecond. */
	memset(call, 0, CALL_CLEARED_SIZE);
	call->tid = (pid_t)request->pid;
	call->nr = request->data.nr;
	call->abi = abi_decode(request->data.arch, request->data.nr);
	call->name = abi_syscall_name(call->abi, call->nr);
	call->ip = request->data.instruction_pointer;
	memcpy(call->args, request->data.args, sizeof(call->args));
}

/*
 * A denied load never happened, so the module must be judged again when
 * the process retries it; otherwise the retry would pass as known.
 */
static void forget_denied_modules(struct call *call)
{
	for (size_t i = 0; i < call->finding_count; i++) {
		const struct finding *finding = &call->findings[i];

		if (finding->event == EVENT_MODULE_LOAD && finding->has_file)
			process_forget_module(call->process,
					      &finding->file.st);
	}
}

/*
 * Carries out a deny or kill verdict. Runs after the final validity
 * check, so every fact the verdict rests on was read while the caller
 * still waited in this notification, and the kill reaches that caller.
 */
static void enforce(struct monitor *monitor, struct call *call)
{
	int err;

	if (call->verdict != VERDICT_DENY && call->verdict != VERDICT_KILL)
		return;
	forget_denied_modules(call);
	if (call->verdict == VERDICT_KILL) {
		err = proc_table_kill(&monitor->processes, call->tid);
		if (err < 0)
			log_warn_errno(-err, "cannot kill pid %d (%s) as a kill rule requires; its syscall is denied instead",
				       (int)call->tgid,
				       call->process->exe_path
					       ? call->process->exe_path
					       : "?");
	}
	notify_prepare_error(&monitor->buffers, call->deny_errno);
}

static bool is_shim_report(const struct call *call)
{
	return call->abi == ABI_X86_64 && is_name(call, "prctl") &&
	       (uint32_t)call->args[0] == NATIVEMON_PRCTL;
}

static bool read_report(const struct call *call,
			struct nativemon_report *report)
{
	uint64_t address = call->args[2];

	if (call->args[3] != sizeof(*report))
		return false;
	if (read_target_memory(call->tid, address, report, sizeof(*report)) !=
	    (ssize_t)sizeof(*report))
		return false;
	return report->version == NATIVEMON_PROTOCOL_VERSION;
}

/* Reads a string of the report, or gives NULL for none or an unreadable one. */
static const char *read_report_string(const struct call *call,
				      uint64_t address, char *buffer,
				      size_t size)
{
	if (address == 0 || call->process->userfaultfd)
		return NULL;
	if (read_target_string(call->tid, address, buffer, size) < 0)
		return NULL;
	return buffer;
}

/* Finds the file that contains the code at address, the caller of dlopen. */
static const char *code_file(struct call *call, uint64_t address)
{
	const struct mapping *mapping;
	int err;

	mapping = process_find_mapping(call->process, address, &err);
	if (!mapping || !is_file_backed(origin_classify(mapping, NULL)))
		return NULL;
	return mapping->path;
}

/* A dlopen call the shim reported, as read from the caller's memory. */
struct load_report {
	struct load_request request;
	const char *requested; /* NULL, or name */
	const char *caller;    /* the file of the calling code, or NULL */
	char name[TARGET_PATH_MAX];
};

static void read_load_report(struct call *call,
			     const struct nativemon_report *report,
			     struct load_report *load)
{
	load->request = (struct load_request){
		.tid = call->tid,
		.flags = report->flags,
		.namespace_id = report->namespace_id,
		.source = report->kind == NATIVEMON_LOAD_DLMOPEN
				  ? LOAD_SOURCE_DLMOPEN
				  : LOAD_SOURCE_DLOPEN,
	};
	load->requested = read_report_string(call, report->name, load->name,
					     sizeof(load->name));
	load->caller = code_file(call, report->caller);
}

/*
 * Responds to a report of the preload shim (preload/protocol.h). The
 * prctl never runs: the response is its result. A hello gets the pid
 * the shim should allow to trace its process, which only an attached
 * process needs, because under `nativemon run` the supervisor is an
 * ancestor of every target. The report changes the process's entry only
 * if the notification is still valid after its memory was read, so that
 * a thread id reused meanwhile cannot change another process's entry.
 */
static void handle_report(struct monitor *monitor, int listener,
			  struct call *call)
{
	struct nativemon_report report;
	struct load_report load;
	int err;

	call->process = proc_table_resolve(&monitor->processes, call->tid,
					   &err);
	if (!call->process)
		count_untracked(monitor, call, err);
	if (!call->process || !read_report(call, &report)) {
		notify_prepare_error(&monitor->buffers, EINVAL);
		return;
	}
	call->tgid = call->process->tgid;
	if (report.op == NATIVEMON_REPORT_DLOPEN_BEGIN)
		read_load_report(call, &report, &load);
	notify_prepare_value(&monitor->buffers, 0);
	if (!notify_id_valid(listener, monitor->buffers.request->id))
		return;
	switch (report.op) {
	case NATIVEMON_REPORT_HELLO:
		call->process->shim_ready = true;
		if (call->session)
			notify_prepare_value(&monitor->buffers, getpid());
		break;
	case NATIVEMON_REPORT_DLOPEN_BEGIN:
		process_begin_load(call->process, &load.request,
				   load.requested, load.caller);
		break;
	case NATIVEMON_REPORT_DLOPEN_END:
		process_end_load(call->process, call->tid);
		break;
	default:
		notify_prepare_error(&monitor->buffers, EINVAL);
	}
}

/*
 * Returns true if the policy's watch set would route the call to the
 * supervisor. Every i386 and x32 call reaches it under any filter.
 */
static bool is_watched(const struct monitor *monitor, const struct call *call)
{
	return call->abi != ABI_X86_64 ||
	       policy_watch_set_covers(monitor->policy, call->nr, call->args);
}

/*
 * The module that a call counts under in the profile: the file of the
 * caller frame, or without one the file of the syscall instruction. NULL
 * means memory without a file.
 */
static const char *profile_module(const struct call *call)
{
	if (call->caller)
		return call->caller->module ? module_path(call->caller->module)
					    : NULL;
	return call->has_module ? call->module : NULL;
}

/*
 * Counts the call in the profile under the syscall's name, qualified with
 * the ABI outside x86-64. The launcher's calls are nativemon's own.
 */
static void count_call(struct monitor *monitor, const struct call *call)
{
	const char *module = profile_module(call);
	char name[64];
	int err;

	if (is_launcher(monitor, call))
		return;
	if (call->abi == ABI_X86_64 && call->name)
		snprintf(name, sizeof(name), "%s", call->name);
	else if (call->abi == ABI_X86_64)
		snprintf(name, sizeof(name), "syscall_%d", call->nr);
	else if (call->name)
		snprintf(name, sizeof(name), "%s:%s", abi_name(call->abi),
			 call->name);
	else
		snprintf(name, sizeof(name), "%s:syscall_%d",
			 abi_name(call->abi), call->nr);
	err = syscall_profile_count(monitor->profile,
				    module ? module : PROFILE_NO_FILE, name);
	if (err < 0 && !monitor->profile_failed) {
		monitor->profile_failed = true;
		log_warn_errno(-err, "cannot count a syscall in the profile; "
				     "its counts will be too low");
	}
}

static int answer(struct monitor *monitor, int listener,
		  const struct call *call)
{
	int err = notify_respond(listener, &monitor->buffers);

	if (err < 0 && err != -ENOENT) {
		monitor->answer_errors++;
		log_warn_errno(-err, "cannot send the response to the notification of pid %d",
			       (int)call->tid);
	}
	return err;
}

/*
 * Handles a call that only the profile's filter routes here: it is
 * counted and allowed, without findings, as if it had not been watched.
 * The stack is unwound for the caller frame, as the caller matcher does.
 */
static void handle_unwatched(struct monitor *monitor, int listener,
			     struct call *call)
{
	bool valid;
	int err;

	call->process = proc_table_resolve(&monitor->processes, call->tid,
					   &err);
	if (call->process) {
		call->tgid = call->process->tgid;
		locate_origin(call);
		check_stack_pointer(monitor, call);
		unwind_to_caller(monitor, call);
	} else {
		count_untracked(monitor, call, err);
	}
	valid = notify_id_valid(listener, monitor->buffers.request->id);
	answer(monitor, listener, call);
	if (valid && call->process)
		count_call(monitor, call);
	release(call);
}

int monitor_handle_one(struct monitor *monitor, int listener,
		       unsigned long session)
{
	struct notify_buffers *buffers = &monitor->buffers;
	struct call *call = &monitor->call;
	bool valid;
	int err;

	err = notify_receive(listener, buffers);
	if (err == -ENOENT || err == -EINTR)
		return 0;
	if (err < 0)
		return err;
	monitor->notifications++;
	notify_prepare_continue(buffers);
	read_request(buffers->request, call);
	call->session = session;
	if (is_shim_report(call)) {
		handle_report(monitor, listener, call);
		answer(monitor, listener, call);
		return 0;
	}
	if (monitor->profile && !is_watched(monitor, call)) {
		handle_unwatched(monitor, listener, call);
		return 0;
	}
	analyze(monitor, call);
	if (call->process)
		judge(monitor, call);
	/* Everything read above describes the caller only if it still waits. */
	valid = notify_id_valid(listener, buffers->request->id);
	if (call->process)
		apply_changes(call);
	if (valid && call->process)
		enforce(monitor, call);
	answer(monitor, listener, call);
	if (valid)
		emit(monitor, call);
	if (valid && call->process && monitor->profile)
		count_call(monitor, call);
	release(call);
	return 0;
}
