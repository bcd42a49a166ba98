/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of process lineages: the bounded list operations, the /proc walk
 * on the test's own processes, and the process table that copies a
 * parent's lineage and keeps the images an exec replaced.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lineage.h"
#include "proc.h"
#include "procfs.h"

static const struct timespec zero_time;

static void push_entry(struct lineage *lineage, pid_t pid, const char *exe)
{
	struct lineage_entry entry;

	cr_assert_eq(lineage_entry_init(&entry, pid, exe, "a\0b", 4,
					&zero_time),
		     0);
	lineage_push_front(lineage, &entry);
}

Test(lineage, push_front_keeps_nearest_first)
{
	struct lineage lineage = { 0 };

	push_entry(&lineage, 1, "/bin/first");
	push_entry(&lineage, 2, "/bin/second");

	cr_assert_eq(lineage.count, 2);
	cr_expect_eq(lineage.entries[0].pid, 2);
	cr_expect_str_eq(lineage.entries[1].exe, "/bin/first");
	cr_expect_eq(lineage.entries[0].args_length, 4);
	lineage_fini(&lineage);
}

Test(lineage, push_front_drops_farthest_when_full)
{
	struct lineage lineage = { 0 };

	for (pid_t pid = 1; pid <= LINEAGE_MAX + 3; pid++)
		push_entry(&lineage, pid, "/bin/x");

	cr_assert_eq(lineage.count, LINEAGE_MAX);
	cr_expect_eq(lineage.entries[0].pid, LINEAGE_MAX + 3);
	cr_expect_eq(lineage.entries[LINEAGE_MAX - 1].pid, 4);
	lineage_fini(&lineage);
}

Test(lineage, append_copies_until_full)
{
	struct lineage from = { 0 }, to = { 0 };

	for (pid_t pid = 1; pid <= LINEAGE_MAX; pid++)
		push_entry(&from, pid, "/bin/from");
	push_entry(&to, 100, "/bin/to");

	cr_assert_eq(lineage_append(&to, &from), 0);

	cr_assert_eq(to.count, LINEAGE_MAX);
	cr_expect_eq(to.entries[0].pid, 100);
	cr_expect_eq(to.entries[1].pid, LINEAGE_MAX);
	cr_expect_neq(to.entries[1].exe, from.entries[0].exe,
		      "the strings must be copies");
	lineage_fini(&from);
	lineage_fini(&to);
}

Test(lineage, entry_cuts_long_args)
{
	size_t length = LINEAGE_ARGS_MAX * 2;
	char *args = malloc(length);
	struct lineage_entry entry;

	cr_assert_not_null(args);
	memset(args, 'x', length);
	cr_assert_eq(lineage_entry_init(&entry, 1, NULL, args, length,
					&zero_time),
		     0);

	cr_expect_eq(entry.args_length, LINEAGE_ARGS_MAX);
	cr_expect_eq(entry.args[LINEAGE_ARGS_MAX], '\0');
	cr_expect_null(entry.exe);
	lineage_entry_fini(&entry);
	free(args);
}

Test(lineage, read_chain_stops_at_stop_pid)
{
	struct lineage lineage = { 0 };
	char exe[4096];
	struct timespec now;

	cr_assert_gt(procfs_readlink("/proc/self/exe", exe, sizeof(exe)), 0);

	cr_assert_eq(lineage_read_chain(&lineage, getpid(), getppid()), 0);

	cr_assert_eq(lineage.count, 1);
	cr_expect_eq(lineage.entries[0].pid, getpid());
	cr_expect_str_eq(lineage.entries[0].exe, exe);
	cr_expect_gt(lineage.entries[0].args_length, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	cr_expect_leq(lineage.entries[0].start.tv_sec, now.tv_sec);
	cr_expect_gt(lineage.entries[0].start.tv_sec, now.tv_sec - 3600,
		     "the test started less than an hour ago");
	lineage_fini(&lineage);
}

/*
 * A child that waits for a byte on fd, then execs `sleep 30`. The test
 * reads its lineage before and after the exec.
 */
static pid_t start_exec_child(int *trigger)
{
	int fds[2];
	pid_t pid;
	char byte;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &byte, 1) == 1)
			execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	*trigger = fds[1];
	return pid;
}

static void wait_for_exe(pid_t pid, const char *suffix)
{
	char path[64], exe[4096];
	size_t tail = strlen(suffix);

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 5000; i++) {
		ssize_t n = procfs_readlink(path, exe, sizeof(exe));

		if (n >= (ssize_t)tail && strcmp(exe + n - tail, suffix) == 0)
			return;
		usleep(1000);
	}
	cr_assert_fail("pid %d never ran %s", (int)pid, suffix);
}

/*
 * The table stops lineages at the supervisor, so a child of the test has
 * an empty one at first. After an exec, the replaced image is the nearest
 * entry, with the same pid.
 */
Test(lineage, table_keeps_image_replaced_by_exec, .timeout = 30)
{
	struct proc_table table;
	struct process *process;
	int trigger, err;
	pid_t child = start_exec_child(&trigger);
	char exe[4096];

	cr_assert_gt(procfs_readlink("/proc/self/exe", exe, sizeof(exe)), 0);
	proc_table_init(&table);
	/* The test binary is no supervisor: its images are ancestors. */
	free(table.supervisor_exe);
	table.supervisor_exe = NULL;

	process = proc_table_resolve(&table, child, &err);
	cr_assert_not_null(process, "resolve: %d", err);
	cr_expect_eq(process->lineage.count, 0);

	process_mark_exec(process);
	cr_assert_eq(write(trigger, "x", 1), 1);
	wait_for_exe(child, "/sleep");
	process = proc_table_resolve(&table, child, &err);
	cr_assert_not_null(process, "resolve after exec: %d", err);

	cr_assert_eq(process->lineage.count, 1);
	cr_expect_eq(process->lineage.entries[0].pid, child);
	cr_expect_str_eq(process->lineage.entries[0].exe, exe);
	cr_expect(process->image_changed);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(trigger);
	proc_table_fini(&table);
}

static pid_t fork_paused_child(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/* Makes the next fork() get pid, unless another fork wins; needs root. */
static void set_next_pid(pid_t pid)
{
	FILE *last = fopen("/proc/sys/kernel/ns_last_pid", "w");

	cr_assert_not_null(last, "cannot open ns_last_pid");
	fprintf(last, "%d", (int)pid - 1);
	fclose(last);
}

static pid_t fork_with_pid(pid_t pid)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		pid_t child;

		set_next_pid(pid);
		child = fork_paused_child();
		if (child == pid)
			return child;
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	cr_skip_test("another process kept taking pid %d", (int)pid);
	return -1;
}

/*
 * Resolves a paused child of the test into table and kills it. Returns the
 * entry that the table still has of it, and its pid in *pid.
 */
static struct process *add_dead_entry(struct proc_table *table, pid_t *pid)
{
	struct process *process;
	int err;

	*pid = fork_paused_child();
	process = proc_table_resolve(table, *pid, &err);
	cr_assert_not_null(process, "resolve: %d", err);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	return process;
}

/*
 * An entry of a dead process is never taken for the next one, even when
 * both start within one 10 ms clock tick and so have equal start times.
 */
Test(lineage, table_replaces_entry_of_reused_pid, .timeout = 30)
{
	struct proc_table table;
	struct process *process;
	struct procfs_stat stat;
	pid_t first, second;
	int err;

	if (geteuid() != 0)
		cr_skip_test("reusing a pid on purpose needs root");
	proc_table_init(&table);
	process = add_dead_entry(&table, &first);
	/* A mark that only the entry of the first process carries. */
	process->access_warned = true;

	second = fork_with_pid(first);
	process = proc_table_resolve(&table, second, &err);

	cr_assert_not_null(process, "resolve of the reused pid: %d", err);
	cr_assert_eq(procfs_read_stat(second, &stat), 0);
	cr_expect_eq(process->start_time, stat.start_time);
	cr_expect_not(process->access_warned,
		      "the new process got the dead one's entry");
	cr_expect_eq(table.process_count, 1, "the dead entry was kept");
	kill(second, SIGKILL);
	waitpid(second, NULL, 0);
	proc_table_fini(&table);
}

/* A paused child of the test and its paused child. */
struct family {
	pid_t parent;
	pid_t child;
};

static void start_family(struct family *family)
{
	int fds[2];
	pid_t child;

	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	family->parent = fork();
	cr_assert_geq(family->parent, 0);
	if (family->parent == 0) {
		child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		if (write(fds[1], &child, sizeof(child)) != sizeof(child))
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(read(fds[0], &family->child, sizeof(family->child)),
		     sizeof(family->child));
	close(fds[0]);
	cr_assert_gt(family->child, 0, "the parent could not fork");
}

static void stop_family(const struct family *family)
{
	kill(family->child, SIGKILL);
	kill(family->parent, SIGKILL);
	waitpid(family->parent, NULL, 0);
}

static void start_family_with_pid(pid_t pid, struct family *family)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		set_next_pid(pid);
		start_family(family);
		if (family->parent == pid)
			return;
		stop_family(family);
	}
	cr_skip_test("another process kept taking pid %d", (int)pid);
}

/* Gives an entry an executable path that identifies it in lineages. */
static void mark_exe(struct process *process, const char *path)
{
	free(process->exe_path);
	process->exe_path = strdup(path);
	cr_assert_not_null(process->exe_path);
	process->exe.path = process->exe_path;
}

/* A child's lineage copies the entry of its parent while that lives. */
Test(lineage, table_links_live_parent_entry, .timeout = 30)
{
	struct proc_table table;
	struct process *parent, *child;
	struct family family;
	int err;

	start_family(&family);
	proc_table_init(&table);
	parent = proc_table_resolve(&table, family.parent, &err);
	cr_assert_not_null(parent, "resolve of the parent: %d", err);
	mark_exe(parent, "/live/parent");

	child = proc_table_resolve(&table, family.child, &err);

	cr_assert_not_null(child, "resolve of the child: %d", err);
	cr_assert_geq(child->lineage.count, 1);
	cr_expect_eq(child->lineage.entries[0].pid, family.parent);
	cr_assert_not_null(child->lineage.entries[0].exe);
	cr_expect_str_eq(child->lineage.entries[0].exe, "/live/parent");
	cr_expect_eq(table.process_count, 2);
	stop_family(&family);
	proc_table_fini(&table);
}

/*
 * The entry of a dead parent is never linked into the lineage of a child
 * of the process that reused its pid. The entry gets the new process's
 * start time, as when both start within one clock tick, so only the
 * pidfd kept for the dead parent can tell them apart.
 */
Test(lineage, table_skips_dead_parent_of_reused_pid, .timeout = 30)
{
	struct proc_table table;
	struct process *process;
	struct procfs_stat stat;
	struct family family;
	pid_t first;
	int err;

	if (geteuid() != 0)
		cr_skip_test("reusing a pid on purpose needs root");
	proc_table_init(&table);
	process = add_dead_entry(&table, &first);
	mark_exe(process, "/dead/parent");

	start_family_with_pid(first, &family);
	cr_assert_eq(procfs_read_stat(family.parent, &stat), 0);
	process->start_time = stat.start_time;
	process = proc_table_resolve(&table, family.child, &err);

	cr_assert_not_null(process, "resolve of the child: %d", err);
	cr_assert_geq(process->lineage.count, 1);
	cr_expect_eq(process->lineage.entries[0].pid, first);
	cr_assert_not_null(process->lineage.entries[0].exe);
	cr_expect_str_neq(process->lineage.entries[0].exe, "/dead/parent",
			  "the child got the dead parent's entry");
	cr_expect_eq(table.process_count, 1,
		     "the dead parent's entry was kept");
	stop_family(&family);
	proc_table_fini(&table);
}

/* A thread of the test that blocks until released. */
struct blocked_thread {
	pthread_t handle;
	pid_t tid;
	int ready[2];
	int release[2];
};

static void *block_thread(void *argument)
{
	struct blocked_thread *thread = argument;
	char byte = 0;

	thread->tid = gettid();
	if (write(thread->ready[1], &byte, 1) != 1)
		return NULL;
	if (read(thread->release[0], &byte, 1) != 1)
		return NULL;
	return NULL;
}

static void start_blocked_thread(struct blocked_thread *thread)
{
	char byte;

	cr_assert_eq(pipe2(thread->ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(thread->release, O_CLOEXEC), 0);
	cr_assert_eq(pthread_create(&thread->handle, NULL, block_thread,
				    thread),
		     0);
	cr_assert_eq(read(thread->ready[0], &byte, 1), 1);
}

static void stop_blocked_thread(struct blocked_thread *thread)
{
	char byte = 0;

	cr_expect_eq(write(thread->release[1], &byte, 1), 1);
	pthread_join(thread->handle, NULL);
	close(thread->ready[0]);
	close(thread->ready[1]);
	close(thread->release[0]);
	close(thread->release[1]);
}

/*
 * A thread and its group's leader share one process entry, whichever
 * notifies first: the thread's entry finds the process by its thread
 * group, from PIDFD_GET_INFO or /proc/TID/status.
 */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9, include/uapi/linux/pidfd.h */
#endif

/*
 * A thread that is no leader gets a pidfd of its own, so that its entry
 * is confirmed without a /proc read. Such a read walks the whole thread
 * group, so without the pidfd a table of many threads costs quadratic time.
 */
Test(lineage, table_opens_pidfd_of_thread, .timeout = 30)
{
	struct blocked_thread thread;
	struct thread key, *entry;
	struct proc_table table;
	long probe;
	int err;

	start_blocked_thread(&thread);
	probe = syscall(SYS_pidfd_open, thread.tid, PIDFD_THREAD);
	if (probe < 0) {
		stop_blocked_thread(&thread);
		cr_skip_test("the kernel lacks PIDFD_THREAD (Linux 6.9)");
	}
	close((int)probe);
	proc_table_init(&table);
	cr_assert_not_null(proc_table_resolve(&table, thread.tid, &err),
			   "resolve of %d: %d", thread.tid, err);

	key.tid = thread.tid;
	entry = RB_FIND(thread_tree, &table.threads, &key);
	cr_assert_not_null(entry);
	cr_expect_geq(entry->pidfd, 0, "thread %d has no pidfd", thread.tid);
	proc_table_fini(&table);
	stop_blocked_thread(&thread);
}

Test(lineage, table_joins_thread_to_its_process, .timeout = 30)
{
	struct blocked_thread thread;

	start_blocked_thread(&thread);
	for (int thread_first = 0; thread_first <= 1; thread_first++) {
		pid_t first = thread_first ? thread.tid : getpid();
		pid_t second = thread_first ? getpid() : thread.tid;
		struct process *by_first, *by_second;
		struct proc_table table;
		int err;

		proc_table_init(&table);
		by_first = proc_table_resolve(&table, first, &err);
		cr_assert_not_null(by_first, "resolve of %d: %d", first, err);
		by_second = proc_table_resolve(&table, second, &err);
		cr_assert_not_null(by_second, "resolve of %d: %d", second,
				   err);

		cr_expect_eq(by_first, by_second, "thread first: %d",
			     thread_first);
		cr_expect_eq(by_first->tgid, getpid());
		cr_expect_eq(table.process_count, 1);
		cr_expect_eq(table.thread_count, 2);
		proc_table_fini(&table);
	}
	stop_blocked_thread(&thread);
}
