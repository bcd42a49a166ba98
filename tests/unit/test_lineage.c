/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of process lineages: the bounded list operations, the /proc walk
 * on the test's own processes, and the process table that copies a
 * parent's lineage and keeps the images an exec replaced.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Makes the next fork() get pid, through ns_last_pid; needs root. */
static pid_t fork_with_pid(pid_t pid)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		FILE *last = fopen("/proc/sys/kernel/ns_last_pid", "w");
		pid_t child;

		cr_assert_not_null(last, "cannot open ns_last_pid");
		fprintf(last, "%d", (int)pid - 1);
		fclose(last);
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
	first = fork_paused_child();
	process = proc_table_resolve(&table, first, &err);
	cr_assert_not_null(process, "resolve: %d", err);
	/* A mark that only the entry of the first process carries. */
	process->access_warned = true;
	kill(first, SIGKILL);
	waitpid(first, NULL, 0);

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
