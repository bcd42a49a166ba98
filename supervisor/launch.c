/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The child side of `nativemon run`. Between installing the filter and the
 * supervisor's acknowledgement the child makes no watched syscall, because
 * such a call would block until a response that no process can send yet.
 */
#include "launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload/fd_passing.h"

#include "log.h"

/* The child's report: error 0 with the listener attached, or an errno. */
struct hand_off {
	int error;
	int killable_recv;
};

static ssize_t send_hand_off(int socket, const struct hand_off *message,
			     int fd)
{
	union fd_passing_control control;
	struct iovec iov = { .iov_base = (void *)message,
			     .iov_len = sizeof(*message) };
	struct msghdr header = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0)
		fd_passing_attach(&header, &control, fd);
	return sendmsg(socket, &header, MSG_NOSIGNAL);
}

static int receive_hand_off(int socket, struct hand_off *message, int *fd)
{
	union {
		char buffer[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = message, .iov_len = sizeof(*message) };
	struct msghdr header = { .msg_iov = &iov,
				 .msg_iovlen = 1,
				 .msg_control = control.buffer,
				 .msg_controllen = sizeof(control.buffer) };
	struct cmsghdr *cmsg;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(socket, &header, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n != sizeof(*message))
		return -EPROTO;
	cmsg = CMSG_FIRSTHDR(&header);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET &&
	    cmsg->cmsg_type == SCM_RIGHTS &&
	    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	return 0;
}

/*
 * Returns true if name exists in a directory of PATH. execvp(3) reports
 * EACCES when any PATH directory is not searchable, even if no directory
 * has the command, and shells call that "not found" (127), not 126.
 */
static bool exists_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char candidate[4096];

	if (!path)
		path = "/bin:/usr/bin"; /* glibc's execvp(3) default */
	while (*path) {
		size_t length = strcspn(path, ":");
		int n = snprintf(candidate, sizeof(candidate), "%.*s%s%s",
				 (int)length, path, length ? "/" : "", name);

		if (n > 0 && (size_t)n < sizeof(candidate) &&
		    access(candidate, F_OK) == 0)
			return true;
		path += length + (path[length] == ':');
	}
	return false;
}

/*
 * Execs the command. The socket is close-on-exec, so a successful exec
 * closes it, and a failed one sends the error through it first. The
 * supervisor can then tell a failed start apart from a command that exits
 * 126 or 127 by itself.
 */
static void exec_command(int socket, char *const argv[])
{
	int err;

	execvp(argv[0], argv);
	err = errno;
	if (err == EACCES && !strchr(argv[0], '/') && !exists_in_path(argv[0]))
		err = ENOENT;
	send(socket, &err, sizeof(err), MSG_NOSIGNAL);
	log_error_errno(err, "cannot execute '%s'", argv[0]);
	_exit(err == ENOENT ? LAUNCH_EXIT_NOT_FOUND
			    : LAUNCH_EXIT_CANNOT_EXECUTE);
}

/*
 * The calls that run_child() makes between installing the filter and
 * reading the supervisor's acknowledgement. A filter that notifies on
 * every syscall must let them run, because no process could respond to
 * their notifications before the listener has reached the supervisor: the
 * child and the supervisor waiting for its hand-off would both block
 * forever. Each entry fixes one argument, so the command's own calls of
 * these syscalls stay notified unless they match: a read of one byte, a
 * sendmsg with flags MSG_NOSIGNAL alone, or exit_group(125).
 */
const struct filter_exemption launch_exemptions[] = {
	{ SYS_sendmsg, 2, MSG_NOSIGNAL },		/* send_hand_off() */
	{ SYS_read, 2, 1 },				/* the one-byte ack */
	{ SYS_exit_group, 0, LAUNCH_EXIT_SETUP_FAILED }, /* a failed setup */
};
const size_t launch_exemption_count =
	sizeof(launch_exemptions) / sizeof(launch_exemptions[0]);

/* Runs in the child; never returns. */
static void run_child(int socket, char *const argv[],
		      const struct filter_program *program, bool no_new_privs,
		      const sigset_t *child_mask)
{
	struct hand_off message = { 0 };
	bool killable_recv = false;
	char ack;
	int listener = -1;

	sigprocmask(SIG_SETMASK, child_mask, NULL);
	if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		message.error = errno;
	if (!message.error) {
		listener = filter_install(program, &killable_recv);
		if (listener < 0)
			message.error = -listener;
	}
	/*
	 * Until the acknowledgement: only the calls of launch_exemptions,
	 * and close unless every call is notified.
	 */
	message.killable_recv = killable_recv;
	if (send_hand_off(socket, &message, listener) < 0 || message.error)
		_exit(LAUNCH_EXIT_SETUP_FAILED);
	/*
	 * Once the supervisor's copy of the listener is the only one, a dead
	 * supervisor makes the command's watched calls fail with ENOSYS
	 * instead of blocking. Under a filter that notifies on every call,
	 * close(2) must wait for the acknowledgement like any other call.
	 * NOTE: in that mode a supervisor that dies between acknowledging and
	 * the close leaves the child blocked in close(2) until it is killed.
	 */
	if (!program->notifies_all)
		close(listener);
	if (read(socket, &ack, 1) != 1)
		_exit(LAUNCH_EXIT_SETUP_FAILED);
	if (program->notifies_all)
		close(listener);
	exec_command(socket, argv);
}

int launch_start(char *const argv[], const struct filter_program *program,
		 bool no_new_privs, const sigset_t *child_mask,
		 struct launch *launch)
{
	struct hand_off message;
	int sockets[2], err;

	memset(launch, 0, sizeof(*launch));
	launch->listener = -1;
	launch->socket = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0)
		return -errno;
	launch->pid = fork();
	if (launch->pid < 0) {
		err = -errno;
		close(sockets[0]);
		close(sockets[1]);
		return err;
	}
	if (launch->pid == 0) {
		close(sockets[0]);
		run_child(sockets[1], argv, program, no_new_privs, child_mask);
	}
	close(sockets[1]);
	err = receive_hand_off(sockets[0], &message, &launch->listener);
	if (err == 0 && message.error)
		err = -message.error;
	else if (err == 0 && launch->listener < 0)
		err = -EPROTO;
	if (err < 0) {
		close(sockets[0]);
		if (launch->listener >= 0)
			close(launch->listener);
		waitpid(launch->pid, NULL, 0);
		return err;
	}
	launch->killable_recv = message.killable_recv;
	/* The child waits on this socket until launch_release(). */
	launch->socket = sockets[0];
	return 0;
}

int launch_release(struct launch *launch)
{
	ssize_t n;

	do {
		n = write(launch->socket, "1", 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -errno;
}

int launch_exec_error(struct launch *launch)
{
	int err = 0;

	if (launch->socket < 0)
		return 0;
	if (recv(launch->socket, &err, sizeof(err), MSG_DONTWAIT) !=
	    (ssize_t)sizeof(err))
		err = 0;
	close(launch->socket);
	launch->socket = -1;
	return err;
}
