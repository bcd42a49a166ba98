/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shim's attach client: connect to `nativemon serve`, install the
 * filter it offers and hand the listener over (preload/protocol.h). It
 * runs in a library constructor inside someone else's process, so it
 * allocates nothing, uses no stdio and bounds every wait for the server.
 */
#include "preload/shim.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "preload/fd_passing.h"
#include "preload/protocol.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The largest NATIVEMON_TIMEOUT_MS accepted: ten minutes. */
#define TIMEOUT_MAX_MS 600000

/* How often the hand-off is sent again after EINTR. */
#define SEND_ATTEMPTS_MAX 3

/* Room for the longest warning: fixed text, a socket path and a reason. */
#define MESSAGE_MAX 1024

/* The server's message of step 1, the offer and the filter, in one piece. */
struct offer_message {
	struct nativemon_attach_offer header;
	struct sock_filter instructions[BPF_MAXINSNS];
};

_Static_assert(offsetof(struct offer_message, instructions) ==
		       sizeof(struct nativemon_attach_offer),
	       "the instructions follow the offer header without padding");

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == 108,
	       "the warning about the socket path names 107 bytes");

/* The stage the attach reached, which decides what the warning reports. */
enum attach_stage {
	STAGE_CONNECTING,
	STAGE_INSTALLED,  /* the filter is in place, the listener not sent */
	STAGE_HANDED_OFF, /* the server has the listener or will receive it */
};

/* The pause before asking a busy server again. */
#define BUSY_PAUSE_MS 20

struct attach {
	const char *socket_path;
	int timeout_ms;
	int socket;
	pid_t server_pid;
	uid_t server_uid;
	bool wrong_server_uid;
	/* EBUSY: the process already has a listener, so another supervisor. */
	bool has_other_listener;
	enum attach_stage stage;
	/* Why the attach failed: a sentence, then strerror of error if > 0. */
	const char *reason;
	int error;
};

static bool is_busy(const struct attach *attach);

/* A bounded text buffer; text that does not fit is cut. */
struct message {
	char text[MESSAGE_MAX];
	size_t length;
};

static void append(struct message *message, const char *text)
{
	size_t room = sizeof(message->text) - message->length;
	size_t length = strnlen(text, room);

	memcpy(message->text + message->length, text, length);
	message->length += length;
}

static void append_number(struct message *message, unsigned long number)
{
	char digits[24];
	size_t at = sizeof(digits) - 1;

	digits[at] = '\0';
	do {
		digits[--at] = (char)('0' + number % 10);
		number /= 10;
	} while (number > 0);
	append(message, digits + at);
}

/*
 * strerror() may allocate for an unknown errno and translates through
 * the locale; strerrordesc_np() (glibc 2.32) does neither.
 */
static void append_error(struct message *message, int error)
{
	const char *description = strerrordesc_np(error);

	if (description) {
		append(message, description);
		return;
	}
	append(message, "error ");
	append_number(message, (unsigned long)error);
}

/* Starts a line the way the supervisor's diagnostics start. */
static void begin_line(struct message *message, const char *level)
{
	message->length = 0;
	append(message, "libnativemon[");
	append_number(message, (unsigned long)getpid());
	append(message, "]: ");
	append(message, level);
	append(message, ": ");
}

/* Writes the line with one write(2), so it does not interleave. */
static void write_line(struct message *message)
{
	ssize_t written;

	if (message->length == sizeof(message->text))
		message->length--;
	message->text[message->length++] = '\n';
	do {
		written = write(STDERR_FILENO, message->text, message->length);
	} while (written < 0 && errno == EINTR);
}

static bool is_required(void)
{
	const char *value = getenv(SHIM_ENV_REQUIRED);

	return value && strcmp(value, "1") == 0;
}

/* Parses a decimal number of milliseconds; false if text is not one. */
static bool parse_timeout(const char *text, int *timeout_ms)
{
	long value = 0;

	if (*text == '\0')
		return false;
	for (; *text; text++) {
		if (*text < '0' || *text > '9')
			return false;
		value = value * 10 + (*text - '0');
		if (value > TIMEOUT_MAX_MS)
			return false;
	}
	if (value == 0)
		return false;
	*timeout_ms = (int)value;
	return true;
}

/* An invalid value gets its own warning: it is wrong even if attach works. */
static int read_timeout(void)
{
	const char *text = getenv(SHIM_ENV_TIMEOUT);
	int timeout_ms = SHIM_TIMEOUT_DEFAULT_MS;
	struct message message;

	if (!text || parse_timeout(text, &timeout_ms))
		return timeout_ms;
	begin_line(&message, "warning");
	append(&message, "invalid " SHIM_ENV_TIMEOUT " '");
	append(&message, text);
	append(&message, "': expected milliseconds from 1 to ");
	append_number(&message, TIMEOUT_MAX_MS);
	append(&message, "; using ");
	append_number(&message, SHIM_TIMEOUT_DEFAULT_MS);
	write_line(&message);
	return SHIM_TIMEOUT_DEFAULT_MS;
}

static bool fail(struct attach *attach, const char *reason, int error)
{
	attach->reason = reason;
	attach->error = error;
	return false;
}

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * Bounds the socket's blocking calls by the time left until deadline.
 * Returns false once the deadline has passed. connect(2) on a unix
 * socket waits for room in the server's backlog up to SO_SNDTIMEO.
 */
static bool set_time_left(int socket, long long deadline)
{
	long long left = deadline - now_ms();
	struct timeval timeout;

	if (left <= 0)
		return false;
	timeout.tv_sec = (time_t)(left / 1000);
	timeout.tv_usec = (suseconds_t)(left % 1000 * 1000);
	setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	return true;
}

/* Maps EAGAIN, which a socket call returns at its timeout, to ETIMEDOUT. */
static int timeout_error(int error)
{
	return error == EAGAIN || error == EWOULDBLOCK ? ETIMEDOUT : error;
}

static bool connect_server(struct attach *attach)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + attach->timeout_ms;
	size_t length = strlen(attach->socket_path);

	if (length == 0 || length >= sizeof(address.sun_path))
		return fail(attach,
			    "invalid socket path: it must have 1 to 107 bytes",
			    0);
	memcpy(address.sun_path, attach->socket_path, length);
	attach->socket = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (attach->socket < 0)
		return fail(attach, "cannot create a socket", errno);
	while (set_time_left(attach->socket, deadline)) {
		if (connect(attach->socket, (struct sockaddr *)&address,
			    sizeof(address)) == 0)
			return true;
		if (errno != EINTR)
			return fail(attach, "cannot connect",
				    timeout_error(errno));
	}
	return fail(attach, "cannot connect", ETIMEDOUT);
}

/*
 * The server's listener would let it decide every watched syscall of this
 * process, so only a server of our own effective uid, or root, may have it.
 * The kernel fills SO_PEERCRED at connect(2) from the server's credentials
 * at listen(2), in our user and pid namespaces.
 */
static bool check_server(struct attach *attach)
{
	struct ucred peer;
	socklen_t length = sizeof(peer);

	if (getsockopt(attach->socket, SOL_SOCKET, SO_PEERCRED, &peer,
		       &length) < 0)
		return fail(attach, "cannot read the server's credentials",
			    errno);
	if (peer.uid != 0 && peer.uid != geteuid()) {
		attach->server_uid = peer.uid;
		attach->wrong_server_uid = true;
		return fail(attach,
			    "the server runs as another user, and its "
			    "listener would control this process's syscalls",
			    0);
	}
	attach->server_pid = peer.pid;
	return true;
}

/*
 * Receives one message of at most size bytes, waiting at most
 * timeout_ms. Returns its length, 0 when the server closed the
 * connection, or -1 with errno set. Without a control buffer the kernel
 * discards any descriptors the server sends.
 */
static ssize_t receive(struct attach *attach, void *buffer, size_t size,
		       int *flags)
{
	long long deadline = now_ms() + attach->timeout_ms;
	struct iovec iov = { .iov_base = buffer, .iov_len = size };
	struct msghdr header = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	while (set_time_left(attach->socket, deadline)) {
		n = recvmsg(attach->socket, &header, 0);
		if (n >= 0 || errno != EINTR) {
			*flags = header.msg_flags;
			return n;
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

static bool receive_offer(struct attach *attach, struct offer_message *offer,
			  struct sock_fprog *program)
{
	const size_t header_size = sizeof(offer->header);
	int flags = 0;
	ssize_t n = receive(attach, offer, sizeof(*offer), &flags);

	if (n < 0)
		return fail(attach, "the server sent no filter",
			    timeout_error(errno));
	if (n == 0)
		return fail(attach, "the server closed the connection", 0);
	if ((size_t)n < header_size || (flags & MSG_TRUNC) ||
	    offer->header.version != NATIVEMON_PROTOCOL_VERSION)
		return fail(attach, "invalid offer from the server", EPROTO);
	if (offer->header.error == EACCES)
		return fail(attach,
			    "the server rejected this process's user, "
			    "because it serves only its own user",
			    EACCES);
	if (offer->header.error != 0)
		return fail(attach, "the server rejected the attach",
			    offer->header.error);
	if (offer->header.length == 0 || offer->header.length > BPF_MAXINSNS ||
	    (size_t)n != header_size + offer->header.length *
					       sizeof(struct sock_filter))
		return fail(attach, "invalid filter from the server", EPROTO);
	program->len = (unsigned short)offer->header.length;
	program->filter = offer->instructions;
	return true;
}

static long set_filter(unsigned int flags, const struct sock_fprog *program)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, program);
}

/*
 * TSYNC puts every thread under the filter; TSYNC_ESRCH (Linux 5.7) makes
 * a thread that cannot follow fail the call with ESRCH instead of
 * returning its tid, which NEW_LISTENER needs for the return value.
 * WAIT_KILLABLE_RECV (Linux 5.19) is dropped on older kernels.
 */
static int try_install(const struct sock_fprog *program,
		       struct nativemon_attach_hand_off *hand_off)
{
	const unsigned int flags = SECCOMP_FILTER_FLAG_NEW_LISTENER |
				   SECCOMP_FILTER_FLAG_TSYNC |
				   SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	long fd;

	fd = set_filter(flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
			program);
	hand_off->killable_recv = fd >= 0;
	if (fd < 0 && errno == EINVAL)
		fd = set_filter(flags, program);
	return fd < 0 ? -errno : (int)fd;
}

/*
 * Installs without no_new_privs first, which works with CAP_SYS_ADMIN, so
 * that setuid programs this process runs keep their privileges. Sets
 * no_new_privs only when the kernel requires it (EACCES). Returns the
 * listener or a negative errno.
 */
static int install_filter(const struct sock_fprog *program,
			  struct nativemon_attach_hand_off *hand_off)
{
	int fd = try_install(program, hand_off);

	if (fd != -EACCES)
		return fd;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	hand_off->no_new_privs = 1;
	return try_install(program, hand_off);
}

static const char *install_failure(int error)
{
	switch (error) {
	case EBUSY:
		return "cannot install the filter, because this process "
		       "already has a seccomp listener (nativemon run, or an "
		       "attached parent)";
	case ESRCH:
		return "cannot install the filter, because another thread "
		       "has a seccomp filter that this one does not have";
	case EINVAL:
		return "cannot install the filter, because the kernel lacks "
		       "SECCOMP_FILTER_FLAG_TSYNC_ESRCH (Linux 5.7)";
	default:
		return "cannot install the filter";
	}
}

/*
 * Sends the hand-off with the listener as SCM_RIGHTS, or without one.
 * Makes no syscall but sendmsg, because it runs after the filter is
 * installed: the caller has set SO_SNDTIMEO, which bounds each attempt.
 */
static ssize_t send_hand_off(int socket,
			     const struct nativemon_attach_hand_off *hand_off,
			     int listener)
{
	union fd_passing_control control;
	struct iovec iov = { .iov_base = (void *)hand_off,
			     .iov_len = sizeof(*hand_off) };
	struct msghdr header = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = -1;

	if (listener >= 0)
		fd_passing_attach(&header, &control, listener);
	/* With every signal blocked, only SIGSTOP and SIGCONT interrupt it. */
	for (int attempt = 0; attempt < SEND_ATTEMPTS_MAX; attempt++) {
		n = sendmsg(socket, &header, MSG_NOSIGNAL);
		if (n >= 0 || errno != EINTR)
			break;
	}
	return n;
}

/*
 * Installs the filter and hands the listener over. Between the two only
 * sendmsg runs, so serve rejects policies that watch it: the call would
 * wait for a server that cannot have the listener yet. Signals stay
 * blocked for the same reason, in case a handler makes a watched syscall.
 */
static bool install_and_hand_off(struct attach *attach,
				 const struct sock_fprog *program)
{
	struct nativemon_attach_hand_off hand_off = {
		.version = NATIVEMON_PROTOCOL_VERSION,
	};
	sigset_t all, original;
	int listener, error;
	ssize_t sent;

	set_time_left(attach->socket, now_ms() + attach->timeout_ms);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &original);
	listener = install_filter(program, &hand_off);
	if (listener < 0) {
		sigprocmask(SIG_SETMASK, &original, NULL);
		hand_off.error = -listener;
		attach->has_other_listener = listener == -EBUSY;
		/* Best effort: the server logs why this process is missing. */
		send_hand_off(attach->socket, &hand_off, -1);
		return fail(attach, install_failure(-listener), -listener);
	}
	attach->stage = STAGE_INSTALLED;
	sent = send_hand_off(attach->socket, &hand_off, listener);
	error = errno;
	close(listener);
	sigprocmask(SIG_SETMASK, &original, NULL);
	if (sent != (ssize_t)sizeof(hand_off))
		return fail(attach, "cannot send the listener to the server",
			    sent < 0 ? timeout_error(error) : EPROTO);
	attach->stage = STAGE_HANDED_OFF;
	return true;
}

static bool receive_ack(struct attach *attach)
{
	char ack = 0;
	int flags = 0;
	ssize_t n = receive(attach, &ack, sizeof(ack), &flags);

	if (n < 0)
		return fail(attach, "the server sent no acknowledgement",
			    timeout_error(errno));
	if (n == 0)
		return fail(attach,
			    "the server closed the connection before it "
			    "acknowledged the listener",
			    0);
	if (ack != NATIVEMON_ATTACH_ACK)
		return fail(attach, "invalid acknowledgement from the server",
			    EPROTO);
	return true;
}

/* Returns what a failure at this stage leaves behind in the process. */
static const char *consequence(enum attach_stage stage)
{
	switch (stage) {
	case STAGE_INSTALLED:
		return "; the filter stays installed without a listener, so "
		       "watched syscalls fail with ENOSYS";
	case STAGE_HANDED_OFF:
		return "; the filter cannot be removed, so watched syscalls "
		       "wait for the server and fail with ENOSYS if it drops "
		       "the listener";
	default:
		return "";
	}
}

/*
 * Writes the one line about a failed attach: a warning, or with
 * NATIVEMON_REQUIRED=1 an error before the process exits.
 */
static void report_failure(const struct attach *attach, bool required)
{
	struct message message;

	begin_line(&message, required ? "error" : "warning");
	append(&message, "cannot attach to nativemon serve at ");
	append(&message, attach->socket_path);
	append(&message, ": ");
	append(&message, attach->reason);
	if (attach->error > 0) {
		append(&message, ": ");
		append_error(&message, attach->error);
	}
	if (attach->error == ETIMEDOUT) {
		append(&message, " after ");
		append_number(&message, (unsigned long)attach->timeout_ms);
		append(&message, " ms");
	}
	if (attach->wrong_server_uid) {
		append(&message, " (server uid ");
		append_number(&message, attach->server_uid);
		append(&message, ", this process's uid ");
		append_number(&message, geteuid());
		append(&message, "; a server of this uid or root is required)");
	}
	append(&message, consequence(attach->stage));
	if (required) {
		append(&message, "; " SHIM_ENV_REQUIRED "=1, so ");
		append(&message, program_invocation_short_name);
		append(&message, " exits with status ");
		append_number(&message, SHIM_EXIT_REQUIRED);
		if (is_busy(attach)) {
			append(&message, "; raise " SHIM_ENV_TIMEOUT
					 " to wait longer for the server");
		} else {
			append(&message, "; start `nativemon serve --socket ");
			append(&message, attach->socket_path);
			append(&message, "` as this user or root, or unset "
					 SHIM_ENV_REQUIRED " to run unmonitored");
		}
	} else if (attach->stage == STAGE_CONNECTING) {
		append(&message, "; ");
		append(&message, program_invocation_short_name);
		append(&message, attach->has_other_listener
					 ? " stays with its current supervisor"
					 : " runs unmonitored");
	}
	write_line(&message);
}

static bool attach_steps(struct attach *attach)
{
	struct offer_message offer;
	struct sock_fprog program;

	if (!connect_server(attach) || !check_server(attach) ||
	    !receive_offer(attach, &offer, &program))
		return false;
	/*
	 * Where Yama allows ptrace only to ancestors (ptrace_scope 1), the
	 * server needs this exception to read our memory. It fails with
	 * EINVAL without Yama, which is harmless. It runs before the filter
	 * exists, so it cannot wait for the server.
	 */
	/*
	 * NOTE: a server in a pid namespace that this process cannot see has
	 * pid 0 here, so it gets no exception and, under Yama, cannot read
	 * this process's stack.
	 */
	if (attach->server_pid > 0)
		shim_allow_tracer(attach->server_pid);
	if (install_and_hand_off(attach, &program))
		return receive_ack(attach);
	/* No filter was installed, so withdraw the exception again. */
	if (attach->stage == STAGE_CONNECTING && attach->server_pid > 0)
		prctl(PR_SET_PTRACER, 0UL, 0, 0, 0);
	return false;
}

static long long monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * Returns true if the server turned the attach down for now, because too
 * many attaches of this user are under way, before any filter existed.
 */
static bool is_busy(const struct attach *attach)
{
	return attach->stage == STAGE_CONNECTING && attach->error == EAGAIN;
}

/*
 * Runs the attach, again after a pause while the server is busy, until
 * the timeout: a burst of programs starting at once may briefly exceed
 * the server's bound on one user's attaches.
 */
static bool attach_within_timeout(struct attach *attach)
{
	const struct timespec pause = { .tv_nsec = BUSY_PAUSE_MS * 1000000L };
	long long deadline = monotonic_ms() + attach->timeout_ms;
	bool attached;

	for (;;) {
		attached = attach_steps(attach);
		if (attached || !is_busy(attach) ||
		    monotonic_ms() + BUSY_PAUSE_MS >= deadline)
			return attached;
		close(attach->socket);
		attach->socket = -1;
		attach->error = 0;
		attach->reason = NULL;
		nanosleep(&pause, NULL);
	}
}

bool shim_attach(const char *socket_path, pid_t *supervisor)
{
	struct attach attach = {
		.socket_path = socket_path,
		.socket = -1,
		.stage = STAGE_CONNECTING,
	};
	bool attached, required = is_required();

	attach.timeout_ms = read_timeout();
	attached = attach_within_timeout(&attach);
	/*
	 * Closed before the warning: in a process started with stderr
	 * closed, the socket may be descriptor 2.
	 */
	if (attach.socket >= 0)
		close(attach.socket);
	if (attached) {
		*supervisor = attach.server_pid;
		return true;
	}
	report_failure(&attach, required);
	if (required)
		_exit(SHIM_EXIT_REQUIRED);
	return false;
}

void shim_allow_tracer(pid_t supervisor)
{
	if (supervisor > 0)
		prctl(PR_SET_PTRACER, (unsigned long)supervisor, 0, 0, 0);
}
