/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server side of the attach protocol: the listening socket of
 * `nativemon serve` and the nonblocking exchange with each process that
 * connects. Every peer is untrusted until its listener checks out.
 */
#include "handshake.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "preload/protocol.h"
#include "procfs.h"

/* The target of /proc/self/fd/N for a seccomp listener, an anonymous inode. */
#define LISTENER_LINK "anon_inode:seccomp notify"

/*
 * At most this many lines about connecting processes per window, because
 * any local user who may connect could otherwise flood the log.
 */
#define PEER_LINES_MAX 20
#define PEER_LINE_WINDOW_MS 10000

static struct {
	long long window_start_ms;
	unsigned int written;
	unsigned long suppressed;
} peer_lines;

long long handshake_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int fill_address(struct sockaddr_un *address, const char *path)
{
	size_t length = strlen(path);

	memset(address, 0, sizeof(*address));
	address->sun_family = AF_UNIX;
	if (length == 0 || length >= sizeof(address->sun_path)) {
		log_error("invalid socket path '%s': it must have 1 to %zu "
			  "bytes",
			  path, sizeof(address->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(address->sun_path, path, length);
	return 0;
}

/*
 * Connects to path to learn whether a server listens there. A socket of
 * the same type that no process listens on refuses the connection, but a
 * full backlog (EAGAIN) still means a listener.
 */
static int probe_socket(const struct sockaddr_un *address)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)address, sizeof(*address)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Removes a socket file that no process listens on, as a crashed server
 * leaves behind. Another server could bind the path between the probe
 * and unlink(2); bind(2) later fails instead of sharing the path.
 */
static int clear_path(const struct sockaddr_un *address, const char *path)
{
	struct stat st;
	int err;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error_errno(errno, "cannot check the socket path '%s'",
				path);
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("'%s' exists and is not a socket; remove it or "
			  "choose another --socket path",
			  path);
		return -EEXIST;
	}
	err = probe_socket(address);
	if (err == 0 || err == -EAGAIN) {
		log_error("another process is listening on '%s'; stop it or "
			  "choose another --socket path",
			  path);
		return -EADDRINUSE;
	}
	if (err == -EPROTOTYPE) {
		log_error(
			"'%s' is a socket of another type than SOCK_SEQPACKET;"
			" remove it or choose another --socket path",
			path);
		return -EADDRINUSE;
	}
	if (err != -ECONNREFUSED) {
		log_error_errno(-err,
				"cannot check whether a server listens "
				"on '%s'",
				path);
		return err;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error_errno(errno, "cannot remove the stale socket '%s'",
				path);
		return -errno;
	}
	log_info("replaced the stale socket '%s'", path);
	return 0;
}

static int bind_and_listen(struct handshake_socket *socket_info,
			   const struct sockaddr_un *address)
{
	struct stat st;

	if (bind(socket_info->fd, (const struct sockaddr *)address,
		 sizeof(*address)) < 0) {
		log_error_errno(errno, "cannot bind the socket '%s'",
				socket_info->path);
		return -errno;
	}
	if (stat(socket_info->path, &st) == 0) {
		socket_info->dev = st.st_dev;
		socket_info->inode = st.st_ino;
	}
	if (listen(socket_info->fd, SOMAXCONN) < 0) {
		log_error_errno(errno, "cannot listen on '%s'",
				socket_info->path);
		return -errno;
	}
	return 0;
}

int handshake_socket_open(struct handshake_socket *socket_info,
			  const char *path)
{
	struct sockaddr_un address;
	int err;

	memset(socket_info, 0, sizeof(*socket_info));
	socket_info->fd = -1;
	socket_info->path = path;
	err = fill_address(&address, path);
	if (err < 0)
		return err;
	err = clear_path(&address, path);
	if (err < 0)
		return err;
	socket_info->fd = socket(
		AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (socket_info->fd < 0) {
		log_error_errno(errno, "cannot create a socket");
		return -errno;
	}
	err = bind_and_listen(socket_info, &address);
	if (err < 0)
		handshake_socket_close(socket_info);
	return err;
}

void handshake_socket_close(struct handshake_socket *socket_info)
{
	struct stat st;

	if (socket_info->fd < 0)
		return;
	close(socket_info->fd);
	socket_info->fd = -1;
	/* A server started after this one may own the path by now. */
	if (socket_info->inode && stat(socket_info->path, &st) == 0 &&
	    st.st_dev == socket_info->dev && st.st_ino == socket_info->inode)
		unlink(socket_info->path);
}

void handshake_read_peer_name(pid_t pid, char name[HANDSHAKE_PEER_NAME_MAX])
{
	char path[64], exe[PATH_MAX];
	ssize_t length;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	length = pid > 0 ? procfs_readlink(path, exe, sizeof(exe)) : -ESRCH;
	if (length < 0) {
		snprintf(name, HANDSHAKE_PEER_NAME_MAX, "?");
		return;
	}
	event_text_for_terminal(exe, (size_t)length, name,
				HANDSHAKE_PEER_NAME_MAX);
}

/*
 * Returns whether one more line about a connecting process may be logged.
 * The number of suppressed lines is reported with the first line of a
 * later window.
 */
static bool may_log_peer(void)
{
	long long now = handshake_now_ms();

	if (now - peer_lines.window_start_ms >= PEER_LINE_WINDOW_MS) {
		if (peer_lines.suppressed > 0)
			log_warn("suppressed %lu lines about connecting "
				 "processes in the last %d s",
				 peer_lines.suppressed,
				 PEER_LINE_WINDOW_MS / 1000);
		peer_lines.window_start_ms = now;
		peer_lines.written = 0;
		peer_lines.suppressed = 0;
	}
	if (peer_lines.written < PEER_LINES_MAX) {
		peer_lines.written++;
		return true;
	}
	peer_lines.suppressed++;
	return false;
}

/* Logs "pid N (EXE) " and the message, unless may_log_peer() objects. */
static void log_peer(const struct handshake *handshake, enum log_level level,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void log_peer(const struct handshake *handshake, enum log_level level,
		     const char *fmt, ...)
{
	char name[HANDSHAKE_PEER_NAME_MAX], message[512];
	va_list args;

	if (!may_log_peer())
		return;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	handshake_read_peer_name(handshake->pid, name);
	log_write(level, 0, "pid %d (%s) %s", (int)handshake->pid, name,
		  message);
}

static void fail(struct handshake *handshake)
{
	handshake->state = HANDSHAKE_FAILED;
}

/*
 * Sends the offer: the header and, unless error is set, the filter's
 * instructions, in one message. Returns 0 or a negative errno.
 */
static int send_offer(struct handshake *handshake, int error)
{
	const struct sock_fprog *fprog = &handshake->program->fprog;
	struct nativemon_attach_offer offer = {
		.version = NATIVEMON_PROTOCOL_VERSION,
		.error = error,
		.length = error ? 0 : fprog->len,
	};
	struct iovec iov[2] = {
		{ .iov_base = &offer, .iov_len = sizeof(offer) },
		{ .iov_base = fprog->filter,
		  .iov_len = offer.length * sizeof(struct sock_filter) },
	};
	struct msghdr header = { .msg_iov = iov, .msg_iovlen = 2 };

	if (sendmsg(handshake->socket, &header, MSG_DONTWAIT | MSG_NOSIGNAL) <
	    0)
		return -errno;
	return 0;
}

static void continue_offer(struct handshake *handshake)
{
	int err = send_offer(handshake, 0);

	if (err == -EAGAIN || err == -EINTR)
		return;
	if (err < 0) {
		log_peer(handshake, LOG_LEVEL_INFO,
			 "left before it received the filter: %s",
			 strerror(-err));
		fail(handshake);
		return;
	}
	handshake->state = HANDSHAKE_AWAITING_HAND_OFF;
}

/*
 * A listener gives its holder the power to decide the syscalls of the
 * processes under it, so a user may only attach its own processes, and
 * only root may serve those of every user.
 */
static bool is_peer_allowed(const struct handshake *handshake)
{
	uid_t self = geteuid();

	return self == 0 || handshake->uid == self;
}

static void reject_peer(struct handshake *handshake)
{
	log_peer(handshake, LOG_LEVEL_WARN,
		 "of uid %u rejected: nativemon runs as uid %u and serves "
		 "only its own user's processes unless it runs as root",
		 (unsigned int)handshake->uid, (unsigned int)geteuid());
	/* Best effort: the shim warns even if the offer never arrives. */
	send_offer(handshake, EACCES);
	fail(handshake);
}

int handshake_accept(struct handshake *handshake, int listen_fd,
		     const struct filter_program *program)
{
	struct ucred peer;
	socklen_t length = sizeof(peer);

	memset(handshake, 0, sizeof(*handshake));
	handshake->listener = -1;
	handshake->program = program;
	handshake->socket =
		accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (handshake->socket < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	handshake->deadline_ms = handshake_now_ms() + HANDSHAKE_TIMEOUT_MS;
	if (getsockopt(handshake->socket, SOL_SOCKET, SO_PEERCRED, &peer,
		       &length) < 0) {
		if (may_log_peer())
			log_warn_errno(errno, "cannot read the credentials of "
					      "a connecting process");
		fail(handshake);
		return 0;
	}
	handshake->pid = peer.pid;
	handshake->uid = peer.uid;
	if (!is_peer_allowed(handshake)) {
		reject_peer(handshake);
		return 0;
	}
	/*
	 * The offer goes out once poll(2) finds the socket writable, so
	 * that the server may still reject the peer before it has a filter
	 * to install.
	 */
	handshake->state = HANDSHAKE_SENDING_OFFER;
	return 0;
}

short handshake_poll_events(const struct handshake *handshake)
{
	switch (handshake->state) {
	case HANDSHAKE_SENDING_OFFER:
		return POLLOUT;
	case HANDSHAKE_AWAITING_HAND_OFF:
		return POLLIN;
	default:
		return 0;
	}
}

/* Closes every descriptor that came in SCM_RIGHTS. */
static void close_received(struct msghdr *header)
{
	struct cmsghdr *cmsg;

	for (cmsg = CMSG_FIRSTHDR(header); cmsg;
	     cmsg = CMSG_NXTHDR(header, cmsg)) {
		size_t count;
		int fd;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			close(fd);
		}
	}
}

/* Returns the one descriptor of the message, or -1 if it has not one. */
static int single_received_fd(struct msghdr *header)
{
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(header);
	int fd;

	if (!cmsg || CMSG_NXTHDR(header, cmsg) ||
	    cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/*
 * A hostile peer could send any descriptor, such as a FUSE file whose
 * ioctl(2) would block the server, so only a seccomp listener passes. The
 * link text comes from the kernel's anonymous inode; a path never has it.
 */
static bool is_listener(int fd)
{
	char path[64], link[64];
	ssize_t length;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	length = procfs_readlink(path, link, sizeof(link));
	return length == (ssize_t)strlen(LISTENER_LINK) &&
	       memcmp(link, LISTENER_LINK, (size_t)length) == 0;
}

/* Checks the hand-off and its descriptor; logs and fails on a problem. */
static void accept_hand_off(struct handshake *handshake,
			    const struct nativemon_attach_hand_off *hand_off,
			    struct msghdr *header, ssize_t length)
{
	int fd = single_received_fd(header);

	if (length == sizeof(*hand_off) &&
	    hand_off->version == NATIVEMON_PROTOCOL_VERSION &&
	    hand_off->error > 0 && fd < 0) {
		log_peer(handshake, LOG_LEVEL_WARN,
			 "could not install the filter: %s",
			 strerror(hand_off->error));
		close_received(header);
		fail(handshake);
		return;
	}
	/*
	 * The kernel drops a passed descriptor that the receiver has no room
	 * for, and a truncated message without any descriptor means just
	 * that. The peer has installed its filter by then, so its watched
	 * calls will fail with ENOSYS.
	 * NOTE: nothing keeps descriptors in reserve for hand-offs, so a
	 * server at its limit leaves such peers behind. serve raises its
	 * soft limit to the hard one at start.
	 */
	if ((header->msg_flags & MSG_CTRUNC) && fd < 0) {
		log_peer(handshake, LOG_LEVEL_ERROR,
			 "handed a listener over that nativemon could not "
			 "receive, because it has no descriptor left; its "
			 "watched calls now fail with ENOSYS; raise nativemon's "
			 "limit (ulimit -n, LimitNOFILE=)");
		close_received(header);
		fail(handshake);
		return;
	}
	if (length != sizeof(*hand_off) || (header->msg_flags & MSG_CTRUNC) ||
	    hand_off->version != NATIVEMON_PROTOCOL_VERSION ||
	    hand_off->error != 0 || fd < 0 || !is_listener(fd)) {
		log_peer(handshake, LOG_LEVEL_WARN,
			 "sent an invalid hand-off; expected version %d with "
			 "one seccomp listener",
			 NATIVEMON_PROTOCOL_VERSION);
		close_received(header);
		fail(handshake);
		return;
	}
	/*
	 * NOTE: nothing checks that the listener belongs to a filter of the
	 * connecting process. A peer can hand over the listener of another
	 * process of its user, whose calls are then served and reported
	 * under their own pids, but the attach log names the peer's pid.
	 */
	handshake->listener = fd;
	handshake->killable_recv = hand_off->killable_recv != 0;
	handshake->no_new_privs = hand_off->no_new_privs != 0;
	handshake->state = HANDSHAKE_DONE;
}

static void receive_hand_off(struct handshake *handshake)
{
	union {
		char buffer[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct nativemon_attach_hand_off hand_off;
	struct iovec iov = { .iov_base = &hand_off,
			     .iov_len = sizeof(hand_off) };
	struct msghdr header = { .msg_iov = &iov,
				 .msg_iovlen = 1,
				 .msg_control = control.buffer,
				 .msg_controllen = sizeof(control.buffer) };
	ssize_t n;

	n = recvmsg(handshake->socket, &header,
		    MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_peer(handshake, LOG_LEVEL_INFO,
			 "left before it handed its listener over%s%s",
			 n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		fail(handshake);
		return;
	}
	accept_hand_off(handshake, &hand_off, &header, n);
}

void handshake_advance(struct handshake *handshake, short revents)
{
	if (handshake->state == HANDSHAKE_SENDING_OFFER &&
	    (revents & (POLLOUT | POLLHUP | POLLERR)))
		continue_offer(handshake);
	else if (handshake->state == HANDSHAKE_AWAITING_HAND_OFF &&
		 (revents & (POLLIN | POLLHUP | POLLERR)))
		receive_hand_off(handshake);
}

void handshake_reject_busy(struct handshake *handshake, size_t under_way)
{
	log_peer(handshake, LOG_LEVEL_WARN,
		 "of uid %u rejected: that user has %zu attaches under way",
		 (unsigned int)handshake->uid, under_way);
	/* Best effort: the shim warns even if the offer never arrives. */
	send_offer(handshake, EAGAIN);
	fail(handshake);
}

void handshake_check_deadline(struct handshake *handshake, long long now_ms)
{
	if (handshake->state == HANDSHAKE_DONE ||
	    handshake->state == HANDSHAKE_FAILED ||
	    now_ms < handshake->deadline_ms)
		return;
	log_peer(handshake, LOG_LEVEL_WARN,
		 "did not hand its listener over within %d ms; closing its "
		 "connection",
		 HANDSHAKE_TIMEOUT_MS);
	fail(handshake);
}

int handshake_take_listener(struct handshake *handshake)
{
	int fd = handshake->listener;

	if (handshake->state != HANDSHAKE_DONE)
		return -1;
	handshake->listener = -1;
	return fd;
}

int handshake_acknowledge(struct handshake *handshake)
{
	const char ack = NATIVEMON_ATTACH_ACK;

	if (send(handshake->socket, &ack, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

void handshake_fini(struct handshake *handshake)
{
	if (handshake->socket >= 0)
		close(handshake->socket);
	if (handshake->listener >= 0)
		close(handshake->listener);
	handshake->socket = -1;
	handshake->listener = -1;
}
