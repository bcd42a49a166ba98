/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the bounded /proc readers on the test process itself, on one of
 * its threads and on a forked child, and of their size limits on regular
 * files that the tests create.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "maps.h"
#include "procfs.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char directory[64];
static char file_path[96];

static void make_directory(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(directory, sizeof(directory), "%s/nativemon-procfs-XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(directory), "mkdtemp: %s",
			   strerror(errno));
	snprintf(file_path, sizeof(file_path), "%s/file", directory);
}

static void remove_directory(void)
{
	unlink(file_path);
	rmdir(directory);
}

/* Writes a file of length bytes, all 'x'. */
static void write_file(size_t length)
{
	char *bytes = malloc(length ? length : 1);
	int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);

	cr_assert_not_null(bytes);
	cr_assert_geq(fd, 0, "open %s: %s", file_path, strerror(errno));
	memset(bytes, 'x', length);
	cr_assert_eq(write(fd, bytes, length), (ssize_t)length);
	close(fd);
	free(bytes);
}

TestSuite(procfs_read_all, .init = make_directory, .fini = remove_directory);
TestSuite(procfs_read_small, .init = make_directory,
	  .fini = remove_directory);

struct size_case {
	size_t file_length;
	size_t max;
	int expected; /* 0 or -EFBIG */
};

static const struct size_case size_cases[] = {
	{ 0, 10, 0 },
	{ 10, 10, 0 },
	{ 11, 10, -EFBIG },
	{ 100, 10, -EFBIG },
	{ 16383, 16383, 0 },
	{ 16384, 16383, -EFBIG },
	{ 20000, 20000, 0 },
	{ 20001, 20000, -EFBIG },
	{ 100000, 200000, 0 },
};

Test(procfs_read_all, honours_max)
{
	for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
		const struct size_case *c = &size_cases[i];
		char *text = NULL;
		size_t length = 0;
		int err;

		write_file(c->file_length);
		err = procfs_read_all(file_path, c->max, &text, &length);
		cr_expect_eq(err, c->expected,
			     "file of %zu bytes, max %zu: returned %d",
			     c->file_length, c->max, err);
		if (err == 0) {
			cr_expect_eq(length, c->file_length,
				     "file of %zu bytes read as %zu",
				     c->file_length, length);
			cr_expect_eq(text[length], '\0');
			free(text);
		}
	}
}

Test(procfs_read_all, reads_whole_proc_file)
{
	char *text = NULL;
	size_t length = 0;

	cr_assert_eq(procfs_read_all("/proc/self/maps", 64 << 20, &text,
				     &length),
		     0);
	cr_expect_gt(length, 0);
	cr_expect_eq(strlen(text), length);
	cr_expect_eq(text[length - 1], '\n');
	free(text);
}

Test(procfs_read_all, fails_for_missing_file)
{
	char *text = NULL;
	size_t length = 0;

	cr_expect_eq(procfs_read_all("/proc/self/no-such-file", 100, &text,
				     &length),
		     -ENOENT);
	cr_expect_null(text);
}

Test(procfs_read_small, returns_prefix_when_too_small)
{
	char buffer[8];

	memset(buffer, 'z', sizeof(buffer));
	cr_expect_eq(procfs_read_small("/proc/self/status", buffer,
				       sizeof(buffer)),
		     -EFBIG);
	cr_expect_eq(buffer[sizeof(buffer) - 1], '\0');
	cr_expect_eq(strlen(buffer), sizeof(buffer) - 1);
	cr_expect_eq(strncmp(buffer, "Name:\t", 6), 0, "got \"%s\"", buffer);
}

Test(procfs_read_small, reads_file_that_fits)
{
	char buffer[64];

	write_file(10);
	cr_expect_eq(procfs_read_small(file_path, buffer, sizeof(buffer)), 10);
	cr_expect_str_eq(buffer, "xxxxxxxxxx");
}

Test(procfs_read_small, fails_for_missing_file)
{
	char buffer[64];

	cr_expect_eq(procfs_read_small("/proc/self/no-such-file", buffer,
				       sizeof(buffer)),
		     -ENOENT);
}

Test(procfs_readlink, reads_exe_link)
{
	char expected[PATH_MAX], buffer[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", expected, sizeof(expected) - 1);

	cr_assert_gt(n, 0);
	expected[n] = '\0';
	cr_expect_eq(procfs_readlink("/proc/self/exe", buffer, sizeof(buffer)),
		     n);
	cr_expect_str_eq(buffer, expected);
}

Test(procfs_readlink, rejects_small_buffer)
{
	char buffer[4];

	cr_expect_eq(procfs_readlink("/proc/self/exe", buffer, sizeof(buffer)),
		     -ENAMETOOLONG);
}

Test(procfs_read_stat, reads_own_parent)
{
	struct procfs_stat stat = { 0 };

	cr_assert_eq(procfs_read_stat(getpid(), &stat), 0);
	cr_expect_eq(stat.ppid, getppid());
}

Test(procfs_read_stat, reads_start_time_in_boot_ticks)
{
	struct procfs_stat first = { 0 }, second = { 0 };
	struct timespec boot;
	long ticks_per_second = sysconf(_SC_CLK_TCK);

	cr_assert_eq(procfs_read_stat(getpid(), &first), 0);
	cr_assert_eq(procfs_read_stat(getpid(), &second), 0);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	cr_expect_eq(first.start_time, second.start_time);
	cr_expect_leq(first.start_time / (unsigned long long)ticks_per_second,
		      (unsigned long long)boot.tv_sec);
}

Test(procfs_read_stat, orders_parent_before_child)
{
	struct procfs_stat parent = { 0 }, child = { 0 };
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	cr_expect_eq(procfs_read_stat(pid, &child), 0);
	cr_expect_eq(procfs_read_stat(getpid(), &parent), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	cr_expect_eq(child.ppid, getpid());
	cr_expect_geq(child.start_time, parent.start_time);
}

/* comm is the only free text in stat, and it may contain ") (". */
Test(procfs_read_stat, skips_parentheses_in_comm)
{
	struct procfs_stat stat = { 0 };

	cr_assert_eq(prctl(PR_SET_NAME, "x) S 1 (y"), 0);
	cr_assert_eq(procfs_read_stat(getpid(), &stat), 0);
	cr_expect_eq(stat.ppid, getppid());
}

Test(procfs_read_stat, fails_for_exited_process)
{
	struct procfs_stat stat;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_expect_eq(procfs_read_stat(pid, &stat), -ENOENT);
}

Test(procfs_read_status, reads_own_ids)
{
	struct procfs_ids ids = { 0, 0, (uid_t)-1 };

	cr_assert_eq(procfs_read_status(getpid(), &ids), 0);
	cr_expect_eq(ids.tgid, getpid());
	cr_expect_eq(ids.ppid, getppid());
	cr_expect_eq(ids.uid, getuid());
}

/* The kernel prints a newline in comm as "\n", so no field can be faked. */
Test(procfs_read_status, ignores_fields_faked_in_comm)
{
	struct procfs_ids ids = { 0, 0, (uid_t)-1 };

	cr_assert_eq(prctl(PR_SET_NAME, "\nTgid:\t1\nPPid:\t1\nUid:\t7"), 0);
	cr_assert_eq(procfs_read_status(getpid(), &ids), 0);
	cr_expect_eq(ids.tgid, getpid());
	cr_expect_eq(ids.ppid, getppid());
	cr_expect_eq(ids.uid, getuid());
}

struct thread_ids {
	pid_t tid;
	int ready[2];
	int release[2];
};

static void *report_tid(void *argument)
{
	struct thread_ids *ids = argument;
	char byte = 0;

	ids->tid = gettid();
	if (write(ids->ready[1], &byte, 1) != 1)
		return NULL;
	if (read(ids->release[0], &byte, 1) != 1)
		return NULL;
	return NULL;
}

Test(procfs_read_status, reads_tgid_of_thread, .timeout = 10)
{
	struct thread_ids ids = { 0 };
	struct procfs_ids read_ids = { 0, 0, (uid_t)-1 };
	pthread_t thread;
	char byte = 0;
	int err;

	cr_assert_eq(pipe2(ids.ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(ids.release, O_CLOEXEC), 0);
	cr_assert_eq(pthread_create(&thread, NULL, report_tid, &ids), 0);
	cr_assert_eq(read(ids.ready[0], &byte, 1), 1);

	err = procfs_read_status(ids.tid, &read_ids);
	cr_expect_eq(write(ids.release[1], &byte, 1), 1);
	pthread_join(thread, NULL);

	cr_expect_neq(ids.tid, getpid());
	cr_expect_eq(err, 0);
	cr_expect_eq(read_ids.tgid, getpid());
	cr_expect_eq(read_ids.ppid, getppid());
	cr_expect_eq(read_ids.uid, getuid());
}

/* Skips the test when the kernel has no PIDFD_GET_INFO (before 6.13). */
static void require_pidfd_info(int pidfd)
{
	struct procfs_ids ids;
	int err = procfs_pidfd_ids(pidfd, &ids);

	if (err == -ENOTTY || err == -EINVAL)
		cr_skip_test("the kernel has no PIDFD_GET_INFO (Linux 6.13)");
}

Test(procfs_pidfd_ids, match_status_of_process)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	struct procfs_ids from_pidfd = { 0, 0, (uid_t)-1 }, from_status;

	cr_assert_geq(pidfd, 0);
	require_pidfd_info(pidfd);
	cr_assert_eq(procfs_pidfd_ids(pidfd, &from_pidfd), 0);
	cr_assert_eq(procfs_read_status(getpid(), &from_status), 0);
	cr_expect_eq(from_pidfd.tgid, from_status.tgid);
	cr_expect_eq(from_pidfd.ppid, from_status.ppid);
	cr_expect_eq(from_pidfd.uid, from_status.uid);
	close(pidfd);
}

/* A thread's pidfd (PIDFD_THREAD, Linux 6.9) names the thread group too. */
Test(procfs_pidfd_ids, read_thread_group_of_thread, .timeout = 10)
{
	struct thread_ids ids = { 0 };
	struct procfs_ids read_ids = { 0, 0, (uid_t)-1 };
	pthread_t thread;
	char byte = 0;
	int pidfd, err;

	cr_assert_eq(pipe2(ids.ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(ids.release, O_CLOEXEC), 0);
	cr_assert_eq(pthread_create(&thread, NULL, report_tid, &ids), 0);
	cr_assert_eq(read(ids.ready[0], &byte, 1), 1);

	pidfd = (int)syscall(SYS_pidfd_open, ids.tid, O_EXCL);
	err = pidfd < 0 ? -errno : procfs_pidfd_ids(pidfd, &read_ids);
	cr_expect_eq(write(ids.release[1], &byte, 1), 1);
	pthread_join(thread, NULL);

	if (err == -ENOTTY || err == -EINVAL)
		cr_skip_test("the kernel has no PIDFD_GET_INFO or PIDFD_THREAD");
	cr_expect_eq(err, 0);
	cr_expect_eq(read_ids.tgid, getpid());
	cr_expect_eq(read_ids.ppid, getppid());
	cr_expect_eq(read_ids.uid, getuid());
	close(pidfd);
}

Test(procfs_pidfd_ids, fail_for_reaped_child)
{
	struct procfs_ids ids;
	pid_t pid = fork();
	int pidfd;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	cr_assert_geq(pidfd, 0);
	require_pidfd_info(pidfd);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_expect_eq(procfs_pidfd_ids(pidfd, &ids), -ESRCH);
	close(pidfd);
}

Test(procfs_read_syscall_pointers, reads_blocked_child, .timeout = 10)
{
	struct timespec start, now;
	struct maps maps;
	const struct mapping *stack;
	uint64_t sp = 0, ip = 0;
	pid_t pid = fork();
	int err;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}

	/* The child is blocked once it has entered pause(). */
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		err = procfs_read_syscall_pointers(pid, pid, &sp, &ip);
		if (err == -EAGAIN)
			poll(NULL, 0, 10);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (err == -EAGAIN && now.tv_sec - start.tv_sec < 5);

	maps_init(&maps);
	cr_expect_eq(maps_read(&maps, pid), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	cr_assert_eq(err, 0, "returned %d", err);
	stack = maps_lookup(&maps, sp);
	cr_expect_not_null(stack, "sp %#llx is in no mapping",
			   (unsigned long long)sp);
	if (stack)
		cr_expect_str_eq(stack->path, "[stack]");
	cr_expect_not_null(maps_lookup(&maps, ip), "ip %#llx is in no mapping",
			   (unsigned long long)ip);
	maps_fini(&maps);
}

Test(procfs_read_syscall_pointers, reports_running_child, .timeout = 10)
{
	uint64_t sp = 0, ip = 0;
	pid_t pid = fork();
	int err;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			continue;
	}
	/* The kernel reports any runnable task as running, on a CPU or not. */
	err = procfs_read_syscall_pointers(pid, pid, &sp, &ip);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_expect_eq(err, -EAGAIN, "returned %d", err);
}
