/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The benchmarks' reference supervisor: it installs nativemon's default
 * filter on a command and responds to every notification with CONTINUE,
 * doing no analysis. Each option adds one step per notification (a poll or
 * a /proc read), so that its cost shows apart from the round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filter.h"
#include "launch.h"
#include "maps.h"
#include "notify.h"
#include "procfs.h"

#define EXIT_USAGE 2
#define EXIT_SETUP_FAILED 125

/* Period of the timer that makes a blocked receive recheck for exit. */
#define EXIT_CHECK_INTERVAL_MS 100

struct options {
	bool read_maps;
	bool read_syscall;
	bool poll;
	bool checks;
	bool verbose;
	char **argv;
};

struct counters {
	unsigned long notifications;
	unsigned long failed_reads;
};

static const char usage_text[] =
	"Usage: bare_supervisor [OPTION]... [--] COMMAND [ARG]...\n"
	"Run COMMAND under nativemon's default seccomp filter and respond\n"
	"to every notification with CONTINUE, without analysis. Exits with\n"
	"COMMAND's status (128+N if signal N killed it) or 125 if the setup\n"
	"failed.\n"
	"\n"
	"  --read-maps     also read and parse /proc/TID/maps of the caller\n"
	"                  for every notification\n"
	"  --read-syscall  also read /proc/TID/task/TID/syscall of the\n"
	"                  caller for every notification\n"
	"  --poll          wait with poll(2) before each receive, as\n"
	"                  nativemon does, instead of blocking in the receive\n"
	"  --checks        poll, then read the caller's stack pointer from its\n"
	"                  /proc/TID/task/TID/syscall, kept open, and check\n"
	"                  that the notification is still valid before the\n"
	"                  response: the least work of nativemon per call\n"
	"  -v, --verbose   print the number of notifications and of failed\n"
	"                  /proc reads at exit\n"
	"  -h, --help      print this help and exit\n";

static pid_t child_pid;
static volatile sig_atomic_t child_exited;
static volatile sig_atomic_t child_status;

/* Reaps the command here, so the loop only has to test child_exited. */
static void handle_sigchld(int signo)
{
	int saved_errno = errno, status;

	if (child_pid > 0 &&
	    waitpid(child_pid, &status, WNOHANG) == child_pid) {
		child_status = status;
		child_exited = 1;
	}
	errno = saved_errno;
}

static void handle_sigalrm(int signo)
{
}

static void usage_error(const char *message, const char *value)
{
	fprintf(stderr, "bare_supervisor: %s%s%s\n", message,
		value ? " " : "", value ? value : "");
	fprintf(stderr, "Try 'bare_supervisor --help' for more information.\n");
	exit(EXIT_USAGE);
}

static void fail(const char *message, int err)
{
	fprintf(stderr, "bare_supervisor: %s: %s\n", message, strerror(err));
	exit(EXIT_SETUP_FAILED);
}

static void parse_options(int argc, char **argv, struct options *options)
{
	static const struct option table[] = {
		{ "read-maps", no_argument, NULL, 'm' },
		{ "read-syscall", no_argument, NULL, 's' },
		{ "poll", no_argument, NULL, 'p' },
		{ "checks", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int option;

	/* A leading '+' stops parsing at COMMAND, whose options are its own. */
	opterr = 0;
	while ((option = getopt_long(argc, argv, "+vh", table, NULL)) != -1) {
		switch (option) {
		case 'm':
			options->read_maps = true;
			break;
		case 's':
			options->read_syscall = true;
			break;
		case 'p':
			options->poll = true;
			break;
		case 'c':
			options->checks = true;
			options->poll = true;
			break;
		case 'v':
			options->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_SUCCESS);
		default:
			usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("missing COMMAND to run", NULL);
	options->argv = argv + optind;
}

/*
 * Installs the handlers without SA_RESTART, so that either signal makes a
 * blocked receive or poll fail with EINTR. SIGCHLD can still arrive between
 * the test of child_exited and the blocking call. The interval timer then
 * ends that call within EXIT_CHECK_INTERVAL_MS.
 */
static int setup_exit_check(void)
{
	struct sigaction action = { .sa_handler = handle_sigchld };
	struct itimerval timer = {
		.it_interval.tv_usec = EXIT_CHECK_INTERVAL_MS * 1000,
		.it_value.tv_usec = EXIT_CHECK_INTERVAL_MS * 1000,
	};

	sigemptyset(&action.sa_mask);
	if (sigaction(SIGCHLD, &action, NULL) < 0)
		return -errno;
	action.sa_handler = handle_sigalrm;
	if (sigaction(SIGALRM, &action, NULL) < 0)
		return -errno;
	if (setitimer(ITIMER_REAL, &timer, NULL) < 0)
		return -errno;
	/* The command may have exited before the handler was in place. */
	handle_sigchld(SIGCHLD);
	return 0;
}

/* Returns 1 when a notification is pending, 0 to recheck, -1 at hang-up. */
static int wait_for_notification(int listener)
{
	struct pollfd fd = { .fd = listener, .events = POLLIN };

	if (poll(&fd, 1, -1) < 0)
		return 0;
	if (fd.revents & POLLIN)
		return 1;
	return fd.revents & (POLLHUP | POLLERR | POLLNVAL) ? -1 : 0;
}

/*
 * Makes the /proc reads that --read-maps and --read-syscall add. /proc/TID
 * resolves to the thread even when it is not the thread group leader, and
 * its task directory lists the whole group.
 */
static void read_caller(const struct options *options, pid_t tid,
			struct maps *maps, struct counters *counters)
{
	uint64_t sp, ip;

	if (options->read_maps && maps_read(maps, tid) < 0)
		counters->failed_reads++;
	if (options->read_syscall &&
	    procfs_read_syscall_pointers(tid, tid, &sp, &ip) < 0)
		counters->failed_reads++;
}

/*
 * The descriptor of the last caller's /proc/TID/task/TID/syscall, which
 * nativemon keeps open per thread. The workloads have one thread.
 */
struct syscall_file {
	pid_t tid;
	int fd;
};

static int open_syscall_file(struct syscall_file *file, pid_t tid)
{
	char path[64];

	if (file->fd >= 0 && file->tid == tid)
		return 0;
	if (file->fd >= 0)
		close(file->fd);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)tid,
		 (int)tid);
	file->tid = tid;
	file->fd = open(path, O_RDONLY | O_CLOEXEC);
	return file->fd < 0 ? -errno : 0;
}

/*
 * Makes the reads and the check of --checks: the stack pointer, read from
 * the kept descriptor, and the validity of the notification after it.
 */
static void check_caller(struct syscall_file *file, int listener,
			 const struct notify_buffers *buffers,
			 struct counters *counters)
{
	pid_t tid = (pid_t)buffers->request->pid;
	uint64_t sp, ip;

	if (open_syscall_file(file, tid) < 0 ||
	    procfs_pread_syscall_pointers(file->fd, &sp, &ip) < 0)
		counters->failed_reads++;
	notify_id_valid(listener, buffers->request->id);
}

/*
 * Responds to notifications until the command has exited.
 * NOTE: descendants that outlive the command are filtered too, and once
 * the listener is closed their watched syscalls fail with ENOSYS.
 */
static int serve(int listener, const struct options *options,
		 struct counters *counters)
{
	struct notify_buffers buffers;
	struct syscall_file file = { .fd = -1 };
	struct maps maps;
	int err, result = 0;

	err = notify_buffers_init(&buffers);
	if (err < 0)
		return err;
	maps_init(&maps);
	while (!child_exited && result == 0) {
		if (options->poll) {
			int ready = wait_for_notification(listener);

			if (ready < 0)
				break;
			if (ready == 0)
				continue;
		}
		err = notify_receive(listener, &buffers);
		if (err == -EINTR || err == -ENOENT)
			continue;
		if (err < 0) {
			result = err;
			break;
		}
		counters->notifications++;
		read_caller(options, (pid_t)buffers.request->pid, &maps,
			    counters);
		if (options->checks)
			check_caller(&file, listener, &buffers, counters);
		notify_prepare_continue(&buffers);
		/* ENOENT means that the caller was killed while it waited. */
		err = notify_respond(listener, &buffers);
		if (err < 0 && err != -ENOENT)
			result = err;
	}
	if (file.fd >= 0)
		close(file.fd);
	maps_fini(&maps);
	notify_buffers_fini(&buffers);
	return result;
}

static int exit_status(void)
{
	if (WIFEXITED(child_status))
		return WEXITSTATUS(child_status);
	if (WIFSIGNALED(child_status))
		return 128 + WTERMSIG(child_status);
	return EXIT_SETUP_FAILED;
}

/* The timer ends each pause() at the latest after one interval. */
static void wait_command(void)
{
	while (!child_exited)
		pause();
}

/* The same watch set as nativemon's default, so both filters match. */
static struct policy *load_default_policy(void)
{
	struct policy_diagnostics diagnostics;
	struct policy *policy = policy_new();
	int err;

	if (!policy)
		fail("cannot load the default policy", ENOMEM);
	policy_diagnostics_init(&diagnostics);
	err = policy_load_default(policy, &diagnostics);
	policy_diagnostics_fini(&diagnostics);
	if (err < 0)
		fail("cannot load the default policy", -err);
	return policy;
}

int main(int argc, char **argv)
{
	struct options options = { 0 };
	struct counters counters = { 0 };
	struct filter_program program;
	struct launch launch;
	const struct policy_watch *bad_watch;
	struct policy *policy;
	sigset_t child_mask;
	int err;

	parse_options(argc, argv, &options);
	policy = load_default_policy();
	err = filter_build(policy, &program, &bad_watch);
	if (err < 0 && bad_watch)
		fprintf(stderr, "bare_supervisor: libseccomp rejected the "
				"watch of %s\n", bad_watch->syscall);
	if (err < 0)
		fail("cannot build the seccomp filter", -err);
	policy_free(policy);
	sigprocmask(SIG_SETMASK, NULL, &child_mask);
	/*
	 * no_new_privs changes nothing that the benchmarks measure, and it
	 * lets a user without CAP_SYS_ADMIN install the filter.
	 */
	err = launch_start(options.argv, &program, true, &child_mask, &launch);
	if (err < 0)
		fail("cannot install the seccomp filter", -err);
	child_pid = launch.pid;
	err = setup_exit_check();
	if (err < 0)
		fail("cannot set up the exit check", -err);
	/* nativemon requests the same flag, which kernels before 6.6 reject. */
	err = notify_set_sync_wakeup(launch.listener);
	if (err < 0 && options.verbose)
		fprintf(stderr, "bare_supervisor: synchronous wake-up "
				"unavailable: %s\n", strerror(-err));
	err = launch_release(&launch);
	if (err < 0)
		fail("cannot start the command", -err);
	err = serve(launch.listener, &options, &counters);
	if (err < 0) {
		kill(child_pid, SIGKILL);
		wait_command();
		fail("cannot receive or respond to notifications", -err);
	}
	/* A hang-up seen by poll() may come before SIGCHLD is handled. */
	wait_command();
	if (options.verbose || counters.failed_reads)
		fprintf(stderr, "bare_supervisor: %lu notifications, %lu "
				"failed /proc reads\n",
			counters.notifications, counters.failed_reads);
	filter_program_fini(&program);
	close(launch.listener);
	return exit_status();
}
