/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's event loop and the wrapper duties users rely on: signal
 * forwarding, reaping orphans as a child subreaper, and exiting with the
 * command's status once nothing filtered is left.
 */
#include "run.h"

#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "filter.h"
#include "launch.h"
#include "log.h"
#include "monitor.h"
#include "origin.h"
#include "preload.h"
#include "procfs.h"
#include "supervise.h"

/*
 * Signals passed on to the command: the usual control signals, and every
 * other signal whose default action would end nativemon, because a killed
 * supervisor leaves the command running with its watched calls failing
 * with ENOSYS. The real-time signals are added in setup_signals().
 */
static const int forwarded_signals[] = {
	SIGINT,	 SIGTERM,   SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2,
	SIGWINCH, SIGALRM, SIGVTALRM, SIGPROF, SIGIO,  SIGXCPU,
	SIGXFSZ, SIGPWR,  SIGSTKFLT,
};

struct supervisor {
	struct monitor monitor;
	struct event_sink *sink;
	struct filter_program program;
	struct launch launch;
	int signal_fd;
	bool child_exited;
	int child_status;
};

static bool has_cap_sys_admin(void)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &header, data) < 0)
		return false;
	return data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &
	       CAP_TO_MASK(CAP_SYS_ADMIN);
}

/* Blocks the signals the loop reads from a signalfd. */
static int setup_signals(struct supervisor *supervisor, sigset_t *original)
{
	sigset_t handled;

	sigemptyset(&handled);
	sigaddset(&handled, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(int); i++)
		sigaddset(&handled, forwarded_signals[i]);
	for (int signo = SIGRTMIN; signo <= SIGRTMAX; signo++)
		sigaddset(&handled, signo);
	if (sigprocmask(SIG_BLOCK, &handled, original) < 0)
		return -errno;
	supervisor->signal_fd =
		signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
	return supervisor->signal_fd < 0 ? -errno : 0;
}

/*
 * Builds the filter of the policy's watch set, or with a profile, the one
 * that routes every syscall but the launcher's hand-off calls.
 */
static int build_filter(struct supervisor *supervisor,
			const struct run_options *options)
{
	int err;

	if (!options->profile)
		return supervise_filter_build(options->policy,
					      &supervisor->program);
	err = filter_build_all(launch_exemptions, launch_exemption_count,
			       &supervisor->program);
	if (err < 0)
		log_error_errno(-err, "cannot build the seccomp filter that "
				      "notifies on every syscall");
	return err;
}

static int prepare(struct supervisor *supervisor,
		   const struct run_options *options, sigset_t *original)
{
	int err;

	err = build_filter(supervisor, options);
	if (err < 0)
		return err;
	err = supervise_sink_open(&supervisor->sink, options->log_path,
				  options->quiet);
	if (err < 0)
		return err;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn_errno(errno, "cannot become a child subreaper; "
				      "orphans will not be reaped");
	err = setup_signals(supervisor, original);
	if (err < 0)
		log_error_errno(-err, "cannot set up signal handling");
	return err;
}

static int start(struct supervisor *supervisor,
		 const struct run_options *options, const sigset_t *child_mask)
{
	bool no_new_privs = !has_cap_sys_admin();
	const char *shim = options->no_preload ? NULL : preload_find_shim();
	int err;

	if (shim) {
		origin_set_shim_path(shim);
		if (preload_export(shim) < 0)
			log_warn("cannot set LD_PRELOAD for the preload shim: "
				 "out of memory");
	}
	if (no_new_privs)
		log_warn("running without CAP_SYS_ADMIN, so no_new_privs is set:"
			 " setuid and file-capability programs will not gain"
			 " privileges");
	err = launch_start(options->argv, &supervisor->program, no_new_privs,
			   child_mask, &supervisor->launch);
	if (err == -EBUSY) {
		/* The kernel allows one listener per chain of filters. */
		log_error("cannot install the seccomp filter for '%s': this "
			  "process already runs under a seccomp listener, such "
			  "as another nativemon run; nesting is not supported",
			  options->argv[0]);
		return err;
	}
	if (err < 0) {
		log_error_errno(-err, "cannot install the seccomp filter for "
				      "'%s'", options->argv[0]);
		return err;
	}
	supervise_raise_descriptor_limit();
	log_info("supervising pid %d (%s)%s", (int)supervisor->launch.pid,
		 options->argv[0],
		 supervisor->launch.killable_recv
			 ? ""
			 : "; the kernel lacks WAIT_KILLABLE_RECV (Linux 5.19)");
	err = supervise_monitor_init(&supervisor->monitor, options->policy,
				     options->mode, supervisor->sink);
	if (err == 0)
		err = monitor_set_launcher(&supervisor->monitor,
					   supervisor->launch.pid);
	if (err == 0 && options->learning)
		monitor_learn(&supervisor->monitor, options->learning);
	if (err == 0 && options->profile)
		monitor_profile(&supervisor->monitor, options->profile);
	if (err < 0)
		return err;
	err = notify_set_sync_wakeup(supervisor->launch.listener);
	if (err < 0)
		log_debug("synchronous wake-up unavailable: %s", strerror(-err));
	err = launch_release(&supervisor->launch);
	if (err < 0)
		log_error_errno(-err, "cannot start '%s'", options->argv[0]);
	return err;
}

static void reap_children(struct supervisor *supervisor)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == supervisor->launch.pid) {
			supervisor->child_exited = true;
			supervisor->child_status = status;
		}
	}
}

/*
 * Passes a signal on to the processes that nativemon's own children left
 * behind once the command has exited, so that a service manager's SIGTERM
 * still reaches daemons the command started.
 */
static void forward_to_orphans(int signo)
{
	char path[64], *text;
	const char *at;
	size_t length;
	int pid, used;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	/* pid_max is at most 2^22: 8 bytes per child with its separator. */
	if (procfs_read_all(path, (size_t)8 << 22, &text, &length) < 0)
		return;
	for (at = text; sscanf(at, "%d%n", &pid, &used) == 1; at += used)
		kill(pid, signo);
	free(text);
}

/*
 * A signal the terminal sent (SI_KERNEL) already reached the child when it
 * shares nativemon's foreground process group; sending it again would
 * deliver it twice.
 */
static void forward_signal(struct supervisor *supervisor,
			   const struct signalfd_siginfo *info)
{
	pid_t child = supervisor->launch.pid;

	if (supervisor->child_exited) {
		forward_to_orphans((int)info->ssi_signo);
		return;
	}
	if (info->ssi_code == SI_KERNEL && getpgid(child) == getpgrp())
		return;
	if (kill(child, (int)info->ssi_signo) < 0 && errno != ESRCH)
		log_warn_errno(errno, "cannot forward signal %u to pid %d",
			       info->ssi_signo, (int)child);
}

static void read_signals(struct supervisor *supervisor)
{
	struct signalfd_siginfo info;

	while (read(supervisor->signal_fd, &info, sizeof(info)) ==
	       sizeof(info)) {
		if (info.ssi_signo == SIGCHLD)
			reap_children(supervisor);
		else
			forward_signal(supervisor, &info);
	}
}

static void close_listener(struct supervisor *supervisor)
{
	close(supervisor->launch.listener);
	supervisor->launch.listener = -1;
}

static void handle_listener(struct supervisor *supervisor, short revents)
{
	int err;

	if (revents & POLLIN) {
		err = monitor_handle_one(&supervisor->monitor,
					 supervisor->launch.listener, 0);
		if (err < 0) {
			log_error_errno(-err, "cannot receive notifications; "
					      "watched syscalls now fail with ENOSYS");
			close_listener(supervisor);
		}
		return;
	}
	/*
	 * POLLHUP: every filtered task has started to exit. Since Linux 6.11
	 * tasks drop their filter early in exit, so orphans may still be
	 * exiting; reap_remaining() waits for them.
	 */
	if (revents & (POLLHUP | POLLERR | POLLNVAL))
		close_listener(supervisor);
}

static void serve(struct supervisor *supervisor)
{
	struct supervise_upkeep upkeep;

	supervise_upkeep_init(&upkeep);
	while (supervisor->launch.listener >= 0 || !supervisor->child_exited) {
		struct pollfd fds[2] = {
			{ .fd = supervisor->signal_fd, .events = POLLIN },
			{ .fd = supervisor->launch.listener, .events = POLLIN },
		};
		int ready = poll(fds, supervisor->launch.listener >= 0 ? 2 : 1,
				 supervise_upkeep_timeout_ms(supervisor->sink));

		if (ready < 0 && errno != EINTR) {
			log_error_errno(errno, "poll failed");
			break;
		}
		if (ready > 0 && fds[0].revents)
			read_signals(supervisor);
		if (ready > 0 && supervisor->launch.listener >= 0 &&
		    fds[1].revents)
			handle_listener(supervisor, fds[1].revents);
		supervise_upkeep_run(&upkeep, &supervisor->monitor,
				     supervisor->sink);
	}
}

/*
 * Waits for the children still exiting after the listener hung up. None can
 * block this: each one has begun to exit, so none can fork again.
 */
static void reap_remaining(struct supervisor *supervisor)
{
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		if (pid == supervisor->launch.pid) {
			supervisor->child_exited = true;
			supervisor->child_status = status;
		}
	}
}

static int exit_status(const struct supervisor *supervisor)
{
	int status = supervisor->child_status;

	if (!supervisor->child_exited)
		return RUN_EXIT_FAILURE;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return RUN_EXIT_FAILURE;
}

int run_command(const struct run_options *options)
{
	struct supervisor supervisor = { .signal_fd = -1 };
	sigset_t original;
	int status = RUN_EXIT_FAILURE, exec_error;

	supervisor.launch.listener = -1;
	supervisor.launch.socket = -1;
	if (prepare(&supervisor, options, &original) < 0)
		goto out;
	if (start(&supervisor, options, &original) < 0) {
		if (supervisor.launch.pid > 0) {
			kill(supervisor.launch.pid, SIGKILL);
			waitpid(supervisor.launch.pid, NULL, 0);
		}
		goto out;
	}
	/* A closed stderr must not kill the supervisor; the child resets it. */
	signal(SIGPIPE, SIG_IGN);
	serve(&supervisor);
	reap_remaining(&supervisor);
	status = exit_status(&supervisor);
	exec_error = launch_exec_error(&supervisor.launch);
	if (options->started)
		*options->started = exec_error == 0 && supervisor.child_exited;
	supervise_report_failures(&supervisor.monitor);
	log_info("exiting with status %d after %lu notifications", status,
		 supervisor.monitor.notifications);
out:
	if (supervisor.launch.socket >= 0)
		close(supervisor.launch.socket);
	monitor_fini(&supervisor.monitor);
	supervise_sink_close(supervisor.sink, options->log_path);
	filter_program_fini(&supervisor.program);
	if (supervisor.signal_fd >= 0)
		close(supervisor.signal_fd);
	return status;
}
