/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process table. The supervisor learns of processes lazily, from their
 * first notification, and of their exit only by finding /proc entries gone
 * or restarted, so every lookup checks the thread's start time.
 */
#include "proc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9, include/uapi/linux/pidfd.h */
#endif

#include "handshake.h"
#include "procfs.h"

/* Enough for the arguments an analyst reads; longer lines are cut. */
#define CMDLINE_MAX 32768

static int compare_process(struct process *a, struct process *b)
{
	return a->tgid < b->tgid ? -1 : a->tgid > b->tgid;
}

static int compare_thread(struct thread *a, struct thread *b)
{
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

RB_GENERATE(process_tree, process, node, compare_process)
RB_GENERATE(thread_tree, thread, node, compare_thread)

static size_t read_descriptor_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0 ||
	    limit.rlim_cur == RLIM_INFINITY)
		return SIZE_MAX;
	return limit.rlim_cur;
}

void proc_table_init(struct proc_table *table)
{
	char exe[4096];

	memset(table, 0, sizeof(*table));
	RB_INIT(&table->processes);
	RB_INIT(&table->threads);
	table->supervisor_pid = getpid();
	table->descriptor_limit = read_descriptor_limit();
	if (procfs_readlink("/proc/self/exe", exe, sizeof(exe)) >= 0)
		table->supervisor_exe = strdup(exe);
}

static void clear_image(struct process *process)
{
	free(process->exe_path);
	free(process->cmdline);
	process->exe_path = NULL;
	process->cmdline = NULL;
	process->cmdline_length = 0;
	memset(&process->exe, 0, sizeof(process->exe));
	process->maps_valid = false;
	process->dirty_count = 0;
	process->module_count = 0;
}

static void clear_loads(struct process *process)
{
	for (size_t i = 0; i < process->load_count; i++) {
		free(process->loads[i].requested);
		free(process->loads[i].caller);
	}
	process->load_count = 0;
}

static void close_maps_fd(struct process *process)
{
	if (process->maps_fd >= 0)
		close(process->maps_fd);
	process->maps_fd = -1;
}

static void free_process(struct process *process)
{
	close_maps_fd(process);
	clear_image(process);
	clear_loads(process);
	free(process->libc_path);
	lineage_fini(&process->lineage);
	maps_fini(&process->maps);
	maps_mapping_fini(&process->queried);
	free(process->modules);
	free(process);
}

static void drop_thread(struct proc_table *table, struct thread *thread)
{
	RB_REMOVE(thread_tree, &table->threads, thread);
	LIST_REMOVE(thread, sibling);
	table->thread_count--;
	if (thread->pidfd >= 0)
		close(thread->pidfd);
	if (thread->syscall_fd >= 0)
		close(thread->syscall_fd);
	free(thread);
}

static void remove_process(struct proc_table *table, struct process *process)
{
	struct thread *thread, *next;

	LIST_FOREACH_SAFE(thread, &process->threads, sibling, next)
		drop_thread(table, thread);
	RB_REMOVE(process_tree, &table->processes, process);
	table->process_count--;
	free_process(process);
}

void proc_table_fini(struct proc_table *table)
{
	struct process *process, *next;

	RB_FOREACH_SAFE(process, process_tree, &table->processes, next)
		remove_process(table, process);
	free(table->supervisor_exe);
	table->supervisor_exe = NULL;
}

/*
 * Returns the ABI the program at path was built for, from the class and
 * machine fields of its ELF header: i386 and x32 programs legitimately
 * make every syscall through their own ABI. The header is read at every
 * new image, because the ABI decides alerts, and the content of a file
 * can change without its timestamps, for example under a loop-mounted
 * image that its owner rewrites.
 */
static enum abi read_exe_abi(const char *path)
{
	Elf32_Ehdr header;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return ABI_UNKNOWN;
	n = pread(fd, &header, sizeof(header), 0);
	close(fd);
	if (n != (ssize_t)sizeof(header) ||
	    memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
		return ABI_UNKNOWN;
	if (header.e_ident[EI_CLASS] == ELFCLASS64)
		return ABI_X86_64;
	if (header.e_machine == EM_386)
		return ABI_I386;
	if (header.e_machine == EM_X86_64)
		return ABI_X32;
	return ABI_UNKNOWN;
}

static bool same_exe(const struct exe_identity *a, const struct exe_identity *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor &&
	       (a->path && b->path ? strcmp(a->path, b->path) == 0
				   : a->path == b->path);
}

/* Returns true if the image is the copy of its parent that fork made. */
static bool is_fork_copy(const struct process *process)
{
	const struct lineage_entry *parent = &process->lineage.entries[0];
	size_t length;

	if (process->lineage.count == 0 || parent->pid == process->tgid ||
	    !parent->exe || strcmp(parent->exe, process->exe_path) != 0)
		return false;
	length = process->cmdline_length < LINEAGE_ARGS_MAX
			 ? process->cmdline_length
			 : LINEAGE_ARGS_MAX;
	return parent->args_length == length &&
	       (length == 0 ||
		memcmp(parent->args, process->cmdline, length) == 0);
}

/*
 * Moves the image an exec replaced into the lineage. The copy of the
 * parent that a fork made adds nothing, and the image nativemon forked
 * the command from is nativemon itself, not an ancestor.
 */
static void retire_image(struct proc_table *table, struct process *process)
{
	struct lineage_entry entry;

	if (!process->exe_path || is_fork_copy(process))
		return;
	if (table->supervisor_exe &&
	    strcmp(process->exe_path, table->supervisor_exe) == 0)
		return;
	if (lineage_entry_init(&entry, process->tgid, process->exe_path,
			       process->cmdline, process->cmdline_length,
			       &process->image_start) == 0)
		lineage_push_front(&process->lineage, &entry);
}

/*
 * Returns true if the command line differs from the one cached before an
 * exec call. An exec of the same program, as a shell running a shell,
 * keeps the executable, and only the new command line shows it happened.
 */
static bool has_new_cmdline(const struct process *process)
{
	char path[64], *text;
	bool changed;
	ssize_t n;

	if (!process->cmdline || process->userfaultfd)
		return false;
	text = malloc(CMDLINE_MAX);
	if (!text)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline",
		 (int)process->reader_tid);
	n = procfs_read_small(path, text, CMDLINE_MAX);
	if (n == -EFBIG)
		n = CMDLINE_MAX - 1;
	changed = n >= 0 && ((size_t)n != process->cmdline_length ||
			     memcmp(text, process->cmdline, (size_t)n) != 0);
	free(text);
	return changed;
}

/*
 * Reads the executable's identity at the first notification and after each
 * exec call. Shells call exec once per PATH entry and most of those calls
 * fail, so the cached image is only dropped when the executable changed.
 * A new process that runs its parent's executable takes the parent's ABI
 * instead of reading the ELF header again, because a fork copy runs the
 * image the parent loaded.
 * NOTE: a program that execs itself keeps its old module set.
 */
static void load_image(struct proc_table *table, struct process *process,
		       const struct process *parent)
{
	char path[64], target[4096];
	struct exe_identity exe = { 0 };
	struct stat st;
	bool has_stat;

	process->image_stale = false;
	process->maps_valid = false;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)process->reader_tid);
	if (procfs_readlink(path, target, sizeof(target)) >= 0)
		exe.path = target;
	has_stat = stat(path, &st) == 0;
	if (has_stat) {
		exe.dev_major = major(st.st_dev);
		exe.dev_minor = minor(st.st_dev);
		exe.inode = st.st_ino;
	}
	if (process->exe_path && same_exe(&process->exe, &exe) &&
	    !has_new_cmdline(process))
		return;
	process->image_changed = process->exe_path != NULL;
	if (process->image_changed) {
		retire_image(table, process);
		process->image_start = process->exec_time;
	}
	clear_image(process);
	process->unbacked_code = false;
	process->read_implies_exec = false;
	process->userfaultfd = false;
	process->exe = exe;
	process->exe_path = exe.path ? strdup(exe.path) : NULL;
	process->exe.path = process->exe_path;
	process->has_exe_stat = has_stat;
	if (has_stat)
		process->exe_stat = st;
	if (parent && parent->exe_path && same_exe(&parent->exe, &process->exe))
		process->exe_abi = parent->exe_abi;
	else
		process->exe_abi = read_exe_abi(path);
}

/*
 * Opens a pidfd that becomes readable when the thread exits: for a thread
 * group leader a plain pidfd, for other threads one with PIDFD_THREAD
 * (Linux 6.9). pidfd_open() without the flag fails for a thread that is
 * no leader, so the first call sorts the two cases before the thread
 * group is known. Linux 6.18 fails it with ENOENT, and EINVAL is taken the
 * same way. Returns -1 when none can be had, for example at the descriptor
 * limit; the thread is then checked through /proc instead.
 */
static int open_thread_pidfd(pid_t tid)
{
	long fd = syscall(SYS_pidfd_open, tid, 0);

	if (fd < 0 && (errno == EINVAL || errno == ENOENT))
		fd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	return fd < 0 ? -1 : (int)fd;
}

/*
 * Returns true while the thread behind pidfd has not exited. A thread id
 * is reused only after its thread exited, so a live thread proves that the
 * notification's tid is still the thread this entry describes. The plain
 * pidfd of a leader stays unreadable while any thread of its group runs,
 * and the group's id is not reused before then either.
 */
static bool pidfd_is_alive(int pidfd)
{
	struct pollfd poll_fd = { .fd = pidfd, .events = POLLIN };

	return poll(&poll_fd, 1, 0) == 0;
}

/* Set once PIDFD_GET_INFO proved missing, so later reads go to /proc. */
static bool pidfd_info_missing;

/*
 * Reads the ids of thread tid through its pidfd where the kernel has
 * PIDFD_GET_INFO, else from /proc/TID/status. -ESRCH from the ioctl means
 * the thread exited, and then /proc could only describe a thread that
 * reused its id, so that error is returned as it is.
 */
static int read_thread_ids(int pidfd, pid_t tid, struct procfs_ids *ids)
{
	int err;

	if (pidfd >= 0 && !pidfd_info_missing) {
		err = procfs_pidfd_ids(pidfd, ids);
		if (err == 0 || err == -ESRCH)
			return err;
		if (err == -ENOTTY || err == -EINVAL)
			pidfd_info_missing = true;
	}
	return procfs_read_status(tid, ids);
}

/* Returns the entry of the process's leader thread if it has a pidfd. */
static struct thread *find_leader_thread(struct proc_table *table,
					 struct process *process)
{
	struct thread key = { .tid = process->tgid };
	struct thread *leader = RB_FIND(thread_tree, &table->threads, &key);

	/* An exited thread's entry whose id is now the tgid is no leader. */
	if (!leader || leader->process != process || leader->pidfd < 0)
		return NULL;
	return leader;
}

/* The /proc/TGID/stat of a process's leader, read at most once. */
struct leader_stat {
	pid_t tgid;
	bool valid;
	struct procfs_stat stat;
};

static int read_leader_stat(struct leader_stat *leader)
{
	int err;

	if (leader->valid)
		return 0;
	err = procfs_read_stat(leader->tgid, &leader->stat);
	leader->valid = err == 0;
	return err;
}

/*
 * Returns the table's entry of the live process leader->tgid, or NULL when
 * the table has none or only a dead process's, which it removes. The
 * pidfd of the leader's entry settles it without a /proc read. Without
 * one, the leader's start time does, read from /proc unless already known.
 * Returns NULL with -errno in *err when that read fails.
 */
static struct process *find_current_process(struct proc_table *table,
					    struct leader_stat *leader,
					    int *err)
{
	struct process key = { .tgid = leader->tgid };
	struct process *process =
		RB_FIND(process_tree, &table->processes, &key);
	struct thread *leader_thread;

	*err = 0;
	if (!process)
		return NULL;
	leader_thread = find_leader_thread(table, process);
	if (leader_thread && pidfd_is_alive(leader_thread->pidfd))
		return process;
	if (!leader_thread) {
		*err = read_leader_stat(leader);
		if (*err < 0)
			return NULL;
		if (leader->stat.start_time == process->start_time)
			return process;
	}
	remove_process(table, process);
	return NULL;
}

/* Returns the entry of the live process ppid, if the table has one. */
static struct process *find_parent(struct proc_table *table, pid_t ppid)
{
	struct leader_stat leader = { .tgid = ppid };
	int err;

	return find_current_process(table, &leader, &err);
}

/*
 * Copies the parent's image and lineage into a new process's lineage, or
 * reads the ancestors from /proc when the parent never made a watched
 * call.
 *
 * NOTE: a parent that exited before its child's first watched call is
 * missing: the child was reparented to nativemon by then.
 */
static void link_lineage(struct proc_table *table, struct process *process,
			 pid_t ppid, struct process *parent)
{
	struct lineage *lineage = &process->lineage;
	const char *args;
	size_t length;

	if (ppid == table->supervisor_pid)
		return;
	if (!parent) {
		lineage_read_chain(lineage, ppid, table->supervisor_pid);
		return;
	}
	args = process_cmdline(parent, &length);
	if (lineage_entry_init(&lineage->entries[0], parent->tgid,
			       parent->exe_path, args, length,
			       &parent->image_start) < 0)
		return;
	lineage->count = 1;
	lineage_append(lineage, &parent->lineage);
	/* A forked copy runs its parent's image, shim and libc included. */
	if (process->exe_path && is_fork_copy(process)) {
		process->shim_ready = parent->shim_ready;
		process->read_implies_exec = parent->read_implies_exec;
		if (parent->libc_path)
			process_set_libc_path(process, parent->libc_path);
	}
}

/*
 * Creates the entry of process leader->tgid from its leader's stat, which
 * the caller has read, and inserts it into the table.
 */
static struct process *create_process(struct proc_table *table, pid_t tid,
				      const struct leader_stat *leader,
				      int *err)
{
	struct process *process = calloc(1, sizeof(*process));
	struct process *parent;

	if (!process) {
		*err = -ENOMEM;
		return NULL;
	}
	process->tgid = leader->tgid;
	process->reader_tid = tid;
	process->start_time = leader->stat.start_time;
	process->maps_fd = -1;
	LIST_INIT(&process->threads);
	lineage_ticks_to_time(leader->stat.start_time, &process->image_start);
	maps_init(&process->maps);
	parent = find_parent(table, leader->stat.ppid);
	load_image(table, process, parent);
	link_lineage(table, process, leader->stat.ppid, parent);
	RB_INSERT(process_tree, &table->processes, process);
	table->process_count++;
	return process;
}

/* Facts read at the first notification of a thread. */
struct thread_facts {
	int pidfd; /* -1 if none could be opened */
	struct procfs_stat stat;
	struct procfs_ids ids;
	struct leader_stat leader;
	struct process *process; /* the live entry of ids.tgid, or NULL */
};

/*
 * Looks up the thread's process in the table, and reads the leader's stat
 * when the entry must be created or cannot be confirmed otherwise. For a
 * leader, that is the stat just read of the thread itself.
 */
static int find_thread_process(struct proc_table *table, pid_t tid,
			       struct thread_facts *facts)
{
	int err;

	facts->leader.tgid = facts->ids.tgid;
	facts->leader.valid = tid == facts->ids.tgid;
	facts->leader.stat = facts->stat;
	facts->process = find_current_process(table, &facts->leader, &err);
	if (facts->process || err < 0)
		return err;
	return read_leader_stat(&facts->leader);
}

/*
 * Reads what a new thread entry needs, each /proc file at most once. The
 * pidfd is opened first and checked last: /proc files are found by id,
 * and a pidfd that is still unreadable proves that the id named the same
 * thread all along. Returns 0 or -errno, -ESRCH once the thread exited.
 */
static int read_thread_facts(struct proc_table *table, pid_t tid,
			     struct thread_facts *facts)
{
	int err;

	facts->pidfd = open_thread_pidfd(tid);
	err = procfs_read_stat(tid, &facts->stat);
	if (err == 0)
		err = read_thread_ids(facts->pidfd, tid, &facts->ids);
	if (err == 0)
		err = find_thread_process(table, tid, facts);
	if (err == 0 && facts->pidfd >= 0 && !pidfd_is_alive(facts->pidfd))
		err = -ESRCH;

	if (err < 0 && facts->pidfd >= 0)
		close(facts->pidfd);
	return err;
}

/*
 * Returns the entry of thread tid if it still describes that thread. The
 * pidfd check needs no /proc read, which would cost as much as the
 * notification round trip itself.
 */
static bool is_out_of_descriptors(int err)
{
	return err == -EMFILE || err == -ENFILE;
}

static struct thread *find_thread(struct proc_table *table, pid_t tid,
				  int *err)
{
	struct thread key = { .tid = tid };
	struct thread *thread = RB_FIND(thread_tree, &table->threads, &key);
	struct procfs_stat stat;

	*err = 0;
	if (!thread)
		return NULL;
	if (thread->pidfd >= 0 && pidfd_is_alive(thread->pidfd))
		return thread;
	if (thread->pidfd < 0) {
		*err = procfs_read_stat(tid, &stat);
		if (*err == 0 && stat.start_time == thread->start_time)
			return thread;
		/* Out of descriptors, the entry may still be the thread's. */
		if (is_out_of_descriptors(*err))
			return NULL;
	}
	/*
	 * A dead leader means a dead process. Its entry must go now: a new
	 * process can get the same pid within the same clock tick of start
	 * time, which a comparison of start times could not tell apart.
	 */
	if (thread->tid == thread->process->tgid)
		remove_process(table, thread->process);
	else
		drop_thread(table, thread);
	return NULL;
}

static struct thread *add_thread(struct proc_table *table, pid_t tid, int *err)
{
	struct thread_facts facts;
	struct thread *thread;

	*err = read_thread_facts(table, tid, &facts);
	if (*err < 0)
		return NULL;
	if (!facts.process)
		facts.process = create_process(table, tid, &facts.leader, err);
	if (!facts.process)
		goto fail;
	thread = calloc(1, sizeof(*thread));
	if (!thread) {
		*err = -ENOMEM;
		goto fail;
	}

	thread->tid = tid;
	thread->start_time = facts.stat.start_time;
	thread->process = facts.process;
	thread->pidfd = facts.pidfd;
	thread->syscall_fd = -1;
	RB_INSERT(thread_tree, &table->threads, thread);
	LIST_INSERT_HEAD(&facts.process->threads, thread, sibling);
	table->thread_count++;
	return thread;

fail:
	if (facts.pidfd >= 0)
		close(facts.pidfd);
	return NULL;
}

/*
 * Returns true if a sweep may free descriptors now: entries were added
 * since the last sweep, or enough time has passed for some to exit. The
 * pause keeps a table of live entries at the limit from being swept at
 * every notification.
 */
static bool may_free_descriptors(const struct proc_table *table)
{
	return table->process_count + table->thread_count >
		       table->swept_count ||
	       handshake_now_ms() - table->swept_ms >= PROC_TABLE_RESWEEP_MS;
}

/* Finds the entry of thread tid, or adds one. */
static struct thread *find_or_add_thread(struct proc_table *table, pid_t tid,
					 int *err)
{
	struct thread *thread = find_thread(table, tid, err);

	if (!thread && *err == 0)
		thread = add_thread(table, tid, err);
	return thread;
}

/*
 * Closes the descriptors that entries keep open only to save reopening
 * them: each thread's syscall file and each process's maps file. Returns
 * how many it closed.
 */
static size_t release_cached_descriptors(struct proc_table *table)
{
	struct process *process;
	struct thread *thread;
	size_t closed = 0;

	RB_FOREACH(thread, thread_tree, &table->threads) {
		if (thread->syscall_fd >= 0) {
			close(thread->syscall_fd);
			thread->syscall_fd = -1;
			closed++;
		}
	}
	RB_FOREACH(process, process_tree, &table->processes) {
		if (process->maps_fd >= 0) {
			close_maps_fd(process);
			closed++;
		}
	}
	return closed;
}

struct process *proc_table_resolve(struct proc_table *table, pid_t tid,
				   int *err)
{
	struct thread *thread = find_or_add_thread(table, tid, err);

	/* Entries of exited processes may hold the descriptors it needs. */
	if (!thread && is_out_of_descriptors(*err) &&
	    may_free_descriptors(table)) {
		proc_table_sweep(table);
		thread = find_or_add_thread(table, tid, err);
	}
	/* So may the files that live entries keep open to save time. */
	if (!thread && is_out_of_descriptors(*err) &&
	    release_cached_descriptors(table) > 0)
		thread = find_or_add_thread(table, tid, err);
	if (!thread)
		return NULL;
	thread->process->reader_tid = tid;
	if (thread->process->image_stale)
		load_image(table, thread->process, NULL);
	return thread->process;
}

static bool is_alive(pid_t id, unsigned long long start_time)
{
	struct procfs_stat stat;
	int err = procfs_read_stat(id, &stat);

	/* An entry that cannot be checked for want of descriptors is kept. */
	if (is_out_of_descriptors(err))
		return true;
	return err == 0 && stat.start_time == start_time;
}

/* Checks the pidfd of the leader's entry, which needs no /proc read. */
static bool process_is_alive(struct proc_table *table, struct process *process)
{
	struct thread *leader = find_leader_thread(table, process);

	if (leader)
		return pidfd_is_alive(leader->pidfd);
	return is_alive(process->tgid, process->start_time);
}

static bool thread_is_alive(const struct thread *thread)
{
	if (thread->pidfd >= 0)
		return pidfd_is_alive(thread->pidfd);
	return is_alive(thread->tid, thread->start_time);
}

void proc_table_sweep(struct proc_table *table)
{
	struct process *process, *next_process;
	struct thread *thread, *next_thread;

	RB_FOREACH_SAFE(process, process_tree, &table->processes, next_process) {
		if (!process_is_alive(table, process))
			remove_process(table, process);
	}
	RB_FOREACH_SAFE(thread, thread_tree, &table->threads, next_thread) {
		if (!thread_is_alive(thread))
			drop_thread(table, thread);
	}
	table->swept_count = table->process_count + table->thread_count;
	table->swept_ms = handshake_now_ms();
	table->descriptor_limit = read_descriptor_limit();
}

/*
 * An upper bound of the descriptors that the entries keep open: a pidfd
 * and a /proc syscall file for each thread, a maps file for each process.
 */
static size_t descriptors_held(const struct proc_table *table)
{
	return 2 * table->thread_count + table->process_count;
}

bool proc_table_needs_sweep(const struct proc_table *table)
{
	size_t entries = table->process_count + table->thread_count;
	size_t step;

	/*
	 * Doubling keeps the sweeps' cost per new entry constant, and the
	 * slack spares a small table sweeps that find nothing to drop.
	 */
	if (entries >= 2 * table->swept_count + PROC_TABLE_SWEEP_SLACK)
		return true;
	/*
	 * Near the limit, a step of an eighth keeps a table of live threads
	 * from being swept after every few new ones.
	 */
	step = table->swept_count / 8;
	if (step < PROC_TABLE_SWEEP_STEP)
		step = PROC_TABLE_SWEEP_STEP;
	return descriptors_held(table) >= table->descriptor_limit / 2 &&
	       entries >= table->swept_count + step;
}

static bool is_libc_mapping(const struct mapping *mapping)
{
	return mapping->path && !mapping->deleted && mapping->path[0] == '/' &&
	       origin_is_libc_path(mapping->path);
}

/*
 * Returns true for executable memory without a file on disk behind it
 * (anonymous memory, a memfd, a deleted file), where shellcode and JIT
 * code run.
 */
static bool is_unbacked_code(const struct mapping *mapping,
			     const struct exe_identity *exe)
{
	return (mapping->perms & MAPPING_EXEC) &&
	       origin_is_unbacked(origin_classify(mapping, exe));
}

static bool has_libc(const struct maps *maps)
{
	for (size_t i = 0; i < maps->count; i++) {
		if (is_libc_mapping(&maps->items[i]))
			return true;
	}
	return false;
}

/* Only with unbacked code can a caller frame be unbacked. */
static bool has_unbacked_code(const struct maps *maps,
			      const struct exe_identity *exe)
{
	for (size_t i = 0; i < maps->count; i++) {
		if (is_unbacked_code(&maps->items[i], exe))
			return true;
	}
	return false;
}

/* Opens the maps descriptor for queries if it is not open. */
static int open_maps_fd(struct process *process)
{
	int fd;

	if (process->maps_fd >= 0)
		return 0;
	fd = maps_open(process->reader_tid);
	if (fd < 0)
		return fd;
	process->maps_fd = fd;
	return 0;
}

/* Set once PROCMAP_QUERY (Linux 6.11) turned out to be missing. */
static bool query_unsupported;

static bool is_query_unsupported(int err)
{
	if (err == -ENOTTY || err == -EINVAL)
		query_unsupported = true;
	return query_unsupported;
}

/*
 * Reads the executable mappings through a new maps descriptor, which is
 * kept for later queries: it describes the address space the cache came
 * from or a newer one.
 */
static int read_executable_maps(struct process *process)
{
	int err;

	if (query_unsupported)
		return -ENOTTY;
	err = open_maps_fd(process);
	if (err < 0)
		return err;
	err = maps_read_executable(&process->maps, process->maps_fd);
	if (err < 0)
		close_maps_fd(process);
	return err;
}

/*
 * Drops the marked ranges of thread tid, which a read made now covers.
 * Other threads' calls may still be changing theirs.
 */
static void keep_marks_of_others(struct process *process, pid_t tid)
{
	size_t kept = 0;

	for (size_t i = 0; i < process->dirty_count; i++) {
		if (process->dirty[i].tid != tid)
			process->dirty[kept++] = process->dirty[i];
	}
	process->dirty_count = kept;
}

/*
 * Reads the cache again: the executable mappings alone where the kernel
 * can list them, which every check of an origin needs, else the whole
 * maps file. Without PROCMAP_QUERY the maps descriptor is only opened at
 * the next confirmation.
 */
static int reload_maps(struct process *process)
{
	int err;

	close_maps_fd(process);
	err = read_executable_maps(process);
	process->maps_executable_only = err == 0;
	if (err < 0 && is_query_unsupported(err))
		err = maps_read(&process->maps, process->reader_tid);

	process->maps_valid = err == 0;
	process->maps_weakened = false;
	process->maps_changes++;
	keep_marks_of_others(process, process->reader_tid);
	if (err == 0) {
		process->libc_mapped = has_libc(&process->maps);
		process->unbacked_code |=
			has_unbacked_code(&process->maps, &process->exe);
	}
	return err;
}

static bool is_file_mapping(const struct mapping *mapping)
{
	return mapping->path && mapping->path[0] == '/' && mapping->inode != 0;
}

static bool overlaps_dirty(const struct process *process,
			   const struct mapping *mapping)
{
	for (size_t i = 0; i < process->dirty_count; i++) {
		const struct dirty_range *range = &process->dirty[i];

		if (range->start < mapping->end && mapping->start < range->end)
			return true;
	}
	return false;
}

/*
 * Returns true if a cached mapping may no longer be what backs its range.
 * A stale anonymous entry only makes an origin look more suspicious, so
 * after a new executable mapping at an unknown address only file-backed
 * entries are in doubt.
 */
static bool is_doubtful(const struct process *process,
			const struct mapping *mapping)
{
	if (process->read_implies_exec && is_file_mapping(mapping))
		return true;
	if (mapping->confirmed == process->maps_changes)
		return false;
	if (overlaps_dirty(process, mapping))
		return true;
	return process->maps_weakened && is_file_mapping(mapping);
}

static bool same_backing(const struct mapping *a, const struct mapping *b)
{
	if (a->inode != b->inode || a->dev_major != b->dev_major ||
	    a->dev_minor != b->dev_minor || a->deleted != b->deleted)
		return false;
	if (!a->path || !b->path)
		return a->path == b->path;
	return strcmp(a->path, b->path) == 0;
}

/*
 * Queries the mapping at address into process->queried through the kept
 * maps descriptor, opening it first if needed. When it cannot be kept, as
 * at the descriptor limit, the query opens the file for itself.
 *
 * NOTE: a thread of the old image that notifies while another's exec is
 * under way can open the descriptor on the old address space. Once that is
 * freed the queries fail with -ESRCH and the maps are read again, but a
 * process that shares it through CLONE_VM keeps it alive, and then the
 * queries describe that process's mappings until the next reload.
 */
static int query_mapping(struct process *process, uint64_t address)
{
	int err;

	if (open_maps_fd(process) < 0)
		return maps_query(process->reader_tid, address,
				  &process->queried);
	err = maps_query_fd(process->maps_fd, address, &process->queried);
	/* -ESRCH means the address space is gone, as after an exec. */
	if (err < 0 && err != -ENOENT)
		close_maps_fd(process);
	return err;
}

/*
 * Asks the kernel for the one mapping at address. Returns the cached entry,
 * with its permissions updated, if its extent and backing were right, and
 * it is then trusted until the next change to the address space. Returns
 * NULL if the whole cache should be read again, also when only the extent
 * changed, as when the loader splits a library's first mapping.
 */
static const struct mapping *confirm_mapping(struct process *process,
					     struct mapping *cached,
					     uint64_t address)
{
	int err;

	if (query_unsupported)
		return NULL;
	err = query_mapping(process, address);
	if (is_query_unsupported(err))
		return NULL;
	if (err < 0 || !same_backing(cached, &process->queried) ||
	    cached->start != process->queried.start ||
	    cached->end != process->queried.end ||
	    cached->offset != process->queried.offset)
		return NULL;
	/*
	 * mprotect() changes the permissions alone: a page of shellcode made
	 * executable keeps its extent, and stale permissions would make the
	 * unwinder reject return addresses into it.
	 */
	cached->perms = process->queried.perms;
	cached->confirmed = process->maps_changes;
	return cached;
}

/* Updates the process's flags from a mapping new to the cache. */
static void note_code(struct process *process, const struct mapping *mapping)
{
	if (is_unbacked_code(mapping, &process->exe))
		process->unbacked_code = true;
	if (is_libc_mapping(mapping))
		process->libc_mapped = true;
}

/*
 * Asks the kernel for the mapping at an address that a cache of the
 * executable mappings lacks, and adds it to the cache. Returns NULL with
 * *err 0 when nothing is mapped there.
 */
static const struct mapping *find_uncached(struct process *process,
					   uint64_t address, int *err)
{
	const struct mapping *mapping;

	*err = query_mapping(process, address);
	if (*err == -ENOENT) {
		*err = 0;
		return NULL;
	}
	if (*err < 0)
		return NULL;
	process->queried.confirmed = process->maps_changes;
	mapping = maps_insert(&process->maps, &process->queried);
	if (!mapping) {
		*err = -ENOMEM;
		return NULL;
	}
	note_code(process, mapping);
	return mapping;
}

const struct mapping *process_find_mapping(struct process *process,
					   uint64_t address, int *err)
{
	const struct mapping *mapping = NULL;
	const struct mapping *confirmed;

	*err = 0;
	if (process->maps_valid) {
		mapping = maps_lookup(&process->maps, address);
		if (mapping && !is_doubtful(process, mapping))
			return mapping;
		confirmed = mapping ? confirm_mapping(process,
						      (struct mapping *)mapping,
						      address)
				    : NULL;
		if (confirmed)
			return confirmed;
		if (!mapping && process->maps_executable_only)
			return find_uncached(process, address, err);
	}
	*err = reload_maps(process);
	if (*err < 0)
		return NULL;
	mapping = maps_lookup(&process->maps, address);
	if (!mapping && process->maps_executable_only)
		return find_uncached(process, address, err);
	return mapping;
}

void process_mark_dirty(struct process *process, pid_t tid, uint64_t start,
			uint64_t length)
{
	uint64_t end = start + length;

	/* Starts at 1 so that no zeroed entry counts as confirmed. */
	process->maps_changes++;
	if (length == 0) {
		process->maps_weakened = true;
		return;
	}
	/* A JIT thread that toggles the same pages adds no new range. */
	for (size_t i = 0; i < process->dirty_count; i++) {
		if (process->dirty[i].tid == tid &&
		    process->dirty[i].start <= start &&
		    end <= process->dirty[i].end)
			return;
	}
	/*
	 * A wrapped range or too many ranges: distrust it all.
	 * NOTE: the cache is then read at the next lookup, which misses a
	 * change that another thread's call is still making.
	 */
	if (end < start || process->dirty_count == PROCESS_DIRTY_MAX) {
		process->maps_valid = false;
		return;
	}
	process->dirty[process->dirty_count] = (struct dirty_range){
		.start = start,
		.end = end,
		.tid = tid,
	};
	process->dirty_count++;
}

/* Notes the code of the cached mappings that overlap [start, end). */
static void note_range(struct process *process, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < process->maps.count; i++) {
		const struct mapping *mapping = &process->maps.items[i];

		if (mapping->start < end && start < mapping->end)
			note_code(process, mapping);
	}
}

/*
 * Queries the range again, notes the code found in it and drops it from
 * the marks. Mappings outside the range did not change, so their code was
 * noted when they entered the cache.
 */
static int settle_range(struct process *process, size_t index)
{
	const struct dirty_range *range = &process->dirty[index];
	int err;

	err = maps_read_executable_range(&process->maps, process->maps_fd,
					 range->start, range->end);
	if (err < 0)
		return err;
	note_range(process, range->start, range->end);
	process->dirty_count--;
	memmove(&process->dirty[index], &process->dirty[index + 1],
		(process->dirty_count - index) * sizeof(*process->dirty));
	return 0;
}

/*
 * Returns true if the call that marked range has run: it was thread tid's,
 * which is making a new call, or its thread has exited.
 */
static bool has_run(const struct process *process,
		    const struct dirty_range *range, pid_t tid)
{
	if (range->tid == tid)
		return true;
	return syscall(SYS_tgkill, process->tgid, range->tid, 0) < 0 &&
	       errno == ESRCH;
}

void process_settle_changes(struct process *process, pid_t tid)
{
	size_t i = 0;
	int err = 0;

	if (!process->maps_valid || !process->maps_executable_only)
		return;
	while (err == 0 && i < process->dirty_count) {
		if (!has_run(process, &process->dirty[i], tid)) {
			i++;
			continue;
		}
		err = open_maps_fd(process);
		if (err == 0)
			err = settle_range(process, i);
	}
	if (err < 0) {
		close_maps_fd(process);
		process->maps_valid = false;
	}
}

size_t process_unbacked_ranges(const struct process *process,
			       struct address_range *ranges, size_t max)
{
	const struct maps *maps = &process->maps;
	size_t count = 0;

	if (!process->maps_valid || process->maps_weakened ||
	    process->read_implies_exec || process->dirty_count > max)
		return SIZE_MAX;
	for (size_t i = 0; i < process->dirty_count; i++) {
		ranges[count].start = process->dirty[i].start;
		ranges[count].end = process->dirty[i].end;
		count++;
	}
	for (size_t i = 0; i < maps->count; i++) {
		const struct mapping *mapping = &maps->items[i];

		if (!(mapping->perms & MAPPING_EXEC) ||
		    !origin_is_unbacked(origin_classify(mapping, &process->exe)))
			continue;
		if (count == max)
			return SIZE_MAX;
		ranges[count].start = mapping->start;
		ranges[count].end = mapping->end;
		count++;
	}
	return count;
}

void process_mark_exec(struct process *process)
{
	size_t length;

	process_cmdline(process, &length);
	clock_gettime(CLOCK_REALTIME, &process->exec_time);
	process->image_stale = true;
	process->maps_valid = false;
	close_maps_fd(process);
	process->exec_reported = false;
	process->fileless_reported = false;
	/* The new image's loader maps its libraries before the shim runs. */
	process->shim_ready = false;
	process->loads_dropped = false;
	clear_loads(process);
}

static bool is_module(const struct module_id *module, const struct stat *st)
{
	return module->dev == st->st_dev && module->inode == st->st_ino &&
	       module->size == st->st_size &&
	       module->mtime.tv_sec == st->st_mtim.tv_sec &&
	       module->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

bool process_add_module(struct process *process, const struct stat *st)
{
	struct module_id *modules;

	for (size_t i = 0; i < process->module_count; i++) {
		if (is_module(&process->modules[i], st))
			return false;
	}
	if (process->module_count == process->module_capacity) {
		size_t capacity = process->module_capacity * 2 + 16;

		modules = reallocarray(process->modules, capacity,
				       sizeof(*modules));
		/* Reporting a module twice beats never judging it. */
		if (!modules)
			return true;
		process->modules = modules;
		process->module_capacity = capacity;
	}
	process->modules[process->module_count] = (struct module_id){
		.dev = st->st_dev,
		.inode = st->st_ino,
		.size = st->st_size,
		.mtime = st->st_mtim,
	};
	process->module_count++;
	return true;
}

bool process_maps_code_of(const struct process *process, dev_t dev,
			  ino_t inode)
{
	if (!process->maps_valid)
		return false;
	for (size_t i = 0; i < process->maps.count; i++) {
		const struct mapping *mapping = &process->maps.items[i];

		if ((mapping->perms & MAPPING_EXEC) &&
		    mapping->inode == (uint64_t)inode &&
		    makedev(mapping->dev_major, mapping->dev_minor) == dev)
			return true;
	}
	return false;
}

bool process_page_is_unmapped(const struct process *process, uint64_t address)
{
	uint64_t page = address & ~(uint64_t)0xfff;

	/* A cache of executable mappings does not know the gaps. */
	if (!process->maps_valid || process->maps_executable_only ||
	    process->maps_weakened || process->read_implies_exec)
		return false;
	for (size_t i = 0; i < process->dirty_count; i++) {
		const struct dirty_range *range = &process->dirty[i];

		if (range->start < page + 4096 && page < range->end)
			return false;
	}
	/* The kernel maps whole pages, so one address tests its whole page. */
	return maps_lookup(&process->maps, address) == NULL;
}

static char *copy_or_null(const char *text)
{
	return text ? strdup(text) : NULL;
}

void process_begin_load(struct process *process,
			const struct load_request *request,
			const char *requested, const char *caller)
{
	struct load_request *slot;

	if (process->load_count == PROCESS_LOADS_MAX) {
		/*
		 * A thread that died inside dlopen never reports the end, but
		 * so many threads may also be loading at once.
		 */
		process->loads_dropped = true;
		free(process->loads[0].requested);
		free(process->loads[0].caller);
		memmove(&process->loads[0], &process->loads[1],
			sizeof(process->loads[0]) * (PROCESS_LOADS_MAX - 1));
		process->load_count--;
	}
	slot = &process->loads[process->load_count++];
	*slot = *request;
	slot->requested = copy_or_null(requested);
	slot->caller = copy_or_null(caller);
}

static struct load_request *find_load(const struct process *process, pid_t tid)
{
	for (size_t i = process->load_count; i > 0; i--) {
		if (process->loads[i - 1].tid == tid)
			return (struct load_request *)&process->loads[i - 1];
	}
	return NULL;
}

const struct load_request *process_current_load(const struct process *process,
						pid_t tid)
{
	return find_load(process, tid);
}

void process_end_load(struct process *process, pid_t tid)
{
	struct load_request *load = find_load(process, tid);
	size_t index;

	if (!load)
		return;
	index = (size_t)(load - process->loads);
	free(load->requested);
	free(load->caller);
	memmove(load, load + 1,
		sizeof(*load) * (process->load_count - index - 1));
	process->load_count--;
}

void process_set_libc_path(struct process *process, const char *path)
{
	if (process->libc_path && strcmp(process->libc_path, path) == 0)
		return;
	free(process->libc_path);
	process->libc_path = strdup(path);
}

const char *process_libc_path(struct process *process)
{
	for (size_t i = 0; !process->libc_path && process->maps_valid &&
			   i < process->maps.count;
	     i++) {
		const struct mapping *mapping = &process->maps.items[i];

		if (mapping->path && mapping->path[0] == '/' &&
		    origin_is_libc_path(mapping->path))
			process_set_libc_path(process, mapping->path);
	}
	return process->libc_path;
}

void process_forget_module(struct process *process, const struct stat *st)
{
	for (size_t i = 0; i < process->module_count; i++) {
		if (!is_module(&process->modules[i], st))
			continue;
		process->modules[i] = process->modules[--process->module_count];
		return;
	}
}

int proc_table_read_syscall_pointers(struct proc_table *table, pid_t tid,
				     uint64_t *sp, uint64_t *ip)
{
	struct thread key = { .tid = tid };
	struct thread *thread = RB_FIND(thread_tree, &table->threads, &key);
	char path[96];

	if (!thread)
		return -ESRCH;
	/*
	 * Near the descriptor limit, the descriptors go to the pidfds of new
	 * threads, and the file is opened for each read.
	 */
	if (thread->syscall_fd < 0 &&
	    descriptors_held(table) < table->descriptor_limit / 2) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall",
			 (int)thread->process->tgid, (int)tid);
		thread->syscall_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (thread->syscall_fd < 0)
		return procfs_read_syscall_pointers(thread->process->tgid, tid,
						    sp, ip);
	return procfs_pread_syscall_pointers(thread->syscall_fd, sp, ip);
}

int proc_table_read_ids(struct proc_table *table, pid_t tid,
			struct procfs_ids *ids)
{
	struct thread key = { .tid = tid };
	struct thread *thread = RB_FIND(thread_tree, &table->threads, &key);

	return read_thread_ids(thread ? thread->pidfd : -1, tid, ids);
}

int proc_table_kill(struct proc_table *table, pid_t tid)
{
	struct thread key = { .tid = tid };
	struct thread *thread = RB_FIND(thread_tree, &table->threads, &key);

	if (!thread)
		return -ESRCH;
	/* The pidfd names this very thread, so a reused tid is never hit. */
	if (thread->pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, thread->pidfd, SIGKILL, NULL,
			    0) < 0)
			return -errno;
		return 0;
	}
	/*
	 * NOTE: without a pidfd (at the descriptor limit), the tid is only
	 * known to be the caller's from the validity check just before, so a
	 * thread that died and whose tid was reused in between would be hit.
	 */
	if (syscall(SYS_tgkill, thread->process->tgid, tid, SIGKILL) < 0)
		return -errno;
	return 0;
}

const char *process_cmdline(struct process *process, size_t *length)
{
	char path[64];
	ssize_t n;

	if (!process->cmdline && process->userfaultfd) {
		*length = 0;
		return NULL;
	}
	if (!process->cmdline) {
		process->cmdline = malloc(CMDLINE_MAX);
		if (!process->cmdline)
			return NULL;
		snprintf(path, sizeof(path), "/proc/%d/cmdline",
			 (int)process->reader_tid);
		/* A cut command line is still worth reporting. */
		n = procfs_read_small(path, process->cmdline, CMDLINE_MAX);
		if (n == -EFBIG)
			n = CMDLINE_MAX - 1;
		process->cmdline_length = n < 0 ? 0 : (size_t)n;
	}
	*length = process->cmdline_length;
	return process->cmdline;
}
