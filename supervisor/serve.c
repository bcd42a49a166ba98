/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event loop of `nativemon serve`: one poll(2) over the signal fd, the
 * listening socket, the processes still attaching and the listener of
 * every session, so that no peer and no session can hold up another.
 */
#include "serve.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filter.h"
#include "handshake.h"
#include "log.h"
#include "monitor.h"
#include "notify.h"
#include "origin.h"
#include "preload.h"
#include "run.h"
#include "supervise.h"

/*
 * Connections that may be attaching at once. Beyond, new ones wait in the
 * socket's backlog, so a flood of idle connections costs no more than
 * this many descriptors until HANDSHAKE_TIMEOUT_MS ends them.
 */
#define PENDING_MAX 256

/*
 * Handshakes one user may have under way. Without this bound, any user
 * who may connect could hold every slot with idle connections, and every
 * other program's attach would time out. A shim turned down for this
 * tries again until its timeout, so bursts of starts get through.
 * NOTE: a user with idle connections still starves its own other
 * processes, and eight users together can fill every slot.
 */
#define PENDING_PER_UID_MAX 32

/* How long accepting pauses after accept4(2) runs out of descriptors. */
#define ACCEPT_PAUSE_MS 1000

/* The signals that stop serving. */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* One attached process and its descendants, served through listener. */
struct session {
	int listener; /* -1 once the session ended */
	unsigned long number;
	pid_t pid;
	unsigned long notifications;
};

struct server {
	struct monitor monitor;
	struct event_sink *sink;
	struct filter_program program;
	struct handshake_socket socket;
	int signal_fd;
	long long accept_resume_ms; /* 0, or when accepting resumes */

	struct handshake pending[PENDING_MAX];
	size_t pending_count;

	struct session *sessions;
	size_t session_count;
	size_t session_capacity;
	unsigned long last_session;

	struct pollfd *fds; /* see build_poll_set() */
	size_t fds_capacity;

	bool stopping; /* a first signal arrived; no more accepting */
	bool exit_now; /* a second signal arrived */
};

int serve_check_policy(const struct policy *policy)
{
	for (size_t i = 0; i < policy->watch_count; i++) {
		const struct policy_watch *watch = &policy->watches[i];

		if (watch->nr != SYS_sendmsg)
			continue;
		log_error("%s:%u: serve cannot use a policy that watches "
			  "sendmsg: the shim calls it between installing the "
			  "filter and handing the listener over, and would "
			  "wait forever; remove that watch",
			  watch->location.file, watch->location.line);
		return -EINVAL;
	}
	return 0;
}

static int setup_signals(struct server *server)
{
	sigset_t handled;

	sigemptyset(&handled);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(int); i++)
		sigaddset(&handled, stop_signals[i]);
	if (sigprocmask(SIG_BLOCK, &handled, NULL) < 0)
		return -errno;
	server->signal_fd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
	if (server->signal_fd < 0)
		return -errno;
	/* A closed stderr or a peer gone mid-send must not end the server. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int prepare(struct server *server, const struct serve_options *options)
{
	const char *shim = preload_find_shim();
	int err;

	/* Attached processes loaded the shim themselves; its frames are skipped. */
	if (shim)
		origin_set_shim_path(shim);
	err = supervise_filter_build(options->policy, &server->program);
	if (err < 0)
		return err;
	err = supervise_sink_open(&server->sink, options->log_path,
				  options->quiet);
	if (err < 0)
		return err;
	err = setup_signals(server);
	if (err < 0) {
		log_error_errno(-err, "cannot set up signal handling");
		return err;
	}
	supervise_raise_descriptor_limit();
	err = supervise_monitor_init(&server->monitor, options->policy,
				     options->mode, server->sink);
	if (err < 0)
		return err;
	err = handshake_socket_open(&server->socket, options->socket_path);
	if (err < 0)
		return err;
	log_info("listening on '%s' for processes of %s", options->socket_path,
		 geteuid() == 0 ? "every user" : "this user only");
	return 0;
}

static int add_session(struct server *server, int listener, pid_t pid)
{
	struct session *session;

	if (server->session_count == server->session_capacity) {
		size_t capacity = server->session_capacity * 2 + 16;
		struct session *grown =
			realloc(server->sessions, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		server->sessions = grown;
		server->session_capacity = capacity;
	}
	session = &server->sessions[server->session_count++];
	session->listener = listener;
	session->number = ++server->last_session;
	session->pid = pid;
	session->notifications = 0;
	return 0;
}

/* Serves the listener of a completed handshake and acknowledges it. */
static void start_session(struct server *server, struct handshake *handshake)
{
	char name[HANDSHAKE_PEER_NAME_MAX];
	int listener = handshake_take_listener(handshake);
	int err;

	handshake_read_peer_name(handshake->pid, name);
	err = add_session(server, listener, handshake->pid);
	if (err < 0) {
		log_error_errno(-err,
				"cannot serve pid %d (%s); its watched "
				"syscalls now fail with ENOSYS",
				(int)handshake->pid, name);
		close(listener);
		return;
	}
	err = notify_set_sync_wakeup(listener);
	if (err < 0)
		log_debug("synchronous wake-up unavailable: %s",
			  strerror(-err));
	log_info(
		"attached pid %d (%s) as session %lu%s%s", (int)handshake->pid,
		name, server->last_session,
		handshake->no_new_privs ? "; it set no_new_privs" : "",
		handshake->killable_recv
			? ""
			: "; the kernel lacks WAIT_KILLABLE_RECV (Linux 5.19)");
	/* The session is served either way; only the shim's report differs. */
	err = handshake_acknowledge(handshake);
	if (err < 0)
		log_warn_errno(-err,
			       "cannot acknowledge session %lu to pid %d, "
			       "which will warn that it got no "
			       "acknowledgement although it is served",
			       server->last_session, (int)handshake->pid);
}

static void end_session(struct session *session)
{
	close(session->listener);
	session->listener = -1;
	log_info("session %lu of pid %d ended after %lu notifications",
		 session->number, (int)session->pid, session->notifications);
}

static void handle_session(struct server *server, struct session *session,
			   short revents)
{
	unsigned long before = server->monitor.notifications;
	int err;

	if (revents & POLLIN) {
		err = monitor_handle_one(&server->monitor, session->listener,
					 session->number);
		session->notifications +=
			server->monitor.notifications - before;
		if (err < 0) {
			log_error_errno(-err,
					"cannot receive the notifications "
					"of session %lu (pid %d); its "
					"watched syscalls now fail with "
					"ENOSYS",
					session->number, (int)session->pid);
			end_session(session);
		}
		return;
	}
	/* Every task under the filter has started to exit. */
	if (revents & (POLLHUP | POLLERR | POLLNVAL))
		end_session(session);
}

/* Counts the user's handshakes still under way; dispatch() ends some. */
static size_t count_pending_of(const struct server *server, uid_t uid)
{
	size_t count = 0;

	for (size_t i = 0; i < server->pending_count; i++) {
		const struct handshake *handshake = &server->pending[i];

		count += handshake->uid == uid &&
			 handshake->state != HANDSHAKE_DONE &&
			 handshake->state != HANDSHAKE_FAILED;
	}
	return count;
}

/* Accepts connections until none is pending or no slot is free. */
static void accept_connections(struct server *server)
{
	while (server->pending_count < PENDING_MAX) {
		struct handshake *handshake =
			&server->pending[server->pending_count];
		int err = handshake_accept(handshake, server->socket.fd,
					   &server->program);

		if (err == 0 && count_pending_of(server, handshake->uid) >=
					PENDING_PER_UID_MAX) {
			handshake_reject_busy(handshake, PENDING_PER_UID_MAX);
			handshake_fini(handshake);
			continue;
		}
		if (err == 0) {
			server->pending_count++;
			continue;
		}
		if (err == -EAGAIN)
			return;
		if (err == -EINTR || err == -ECONNABORTED)
			continue;
		/*
		 * The connection stays in the backlog and the socket stays
		 * readable, so retrying at once would spin.
		 */
		log_warn_errno(-err,
			       "cannot accept a connection; accepting "
			       "again in %d ms",
			       ACCEPT_PAUSE_MS);
		server->accept_resume_ms = handshake_now_ms() + ACCEPT_PAUSE_MS;
		return;
	}
}

/* Starts the sessions of completed handshakes and drops finished ones. */
static void settle_pending(struct server *server)
{
	long long now = handshake_now_ms();
	size_t remaining = 0;

	for (size_t i = 0; i < server->pending_count; i++) {
		struct handshake *handshake = &server->pending[i];

		handshake_check_deadline(handshake, now);
		if (handshake->state == HANDSHAKE_DONE)
			start_session(server, handshake);
		if (handshake->state == HANDSHAKE_DONE ||
		    handshake->state == HANDSHAKE_FAILED) {
			handshake_fini(handshake);
			continue;
		}
		server->pending[remaining++] = *handshake;
	}
	server->pending_count = remaining;
}

static void drop_ended_sessions(struct server *server)
{
	size_t remaining = 0;

	for (size_t i = 0; i < server->session_count; i++) {
		if (server->sessions[i].listener >= 0)
			server->sessions[remaining++] = server->sessions[i];
	}
	server->session_count = remaining;
}

static bool is_accepting(const struct server *server)
{
	return server->socket.fd >= 0 && server->pending_count < PENDING_MAX &&
	       server->accept_resume_ms == 0;
}

/*
 * Fills server->fds: the signal fd, the listening socket (-1 while not
 * accepting), one entry per pending handshake, then one per session.
 * Stores the number of entries in *count. Returns 0 or -ENOMEM.
 */
static int build_poll_set(struct server *server, size_t *count)
{
	size_t needed = 2 + server->pending_count + server->session_count;
	struct pollfd *fds;

	if (needed > server->fds_capacity) {
		fds = realloc(server->fds, needed * 2 * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		server->fds = fds;
		server->fds_capacity = needed * 2;
	}
	fds = server->fds;
	fds[0] = (struct pollfd){ .fd = server->signal_fd, .events = POLLIN };
	fds[1] = (struct pollfd){
		.fd = is_accepting(server) ? server->socket.fd : -1,
		.events = POLLIN,
	};
	for (size_t i = 0; i < server->pending_count; i++)
		fds[2 + i] = (struct pollfd){
			.fd = server->pending[i].socket,
			.events = handshake_poll_events(&server->pending[i]),
		};
	fds += 2 + server->pending_count;
	for (size_t i = 0; i < server->session_count; i++)
		fds[i] = (struct pollfd){ .fd = server->sessions[i].listener,
					  .events = POLLIN };
	*count = needed;
	return 0;
}

/* Until the next upkeep, handshake deadline or accept resumption. */
static int poll_timeout(const struct server *server)
{
	long long now = handshake_now_ms();
	long long timeout = supervise_upkeep_timeout_ms(server->sink);

	for (size_t i = 0; i < server->pending_count; i++) {
		long long left = server->pending[i].deadline_ms - now;

		if (left < timeout)
			timeout = left;
	}
	if (server->accept_resume_ms &&
	    server->accept_resume_ms - now < timeout)
		timeout = server->accept_resume_ms - now;
	return timeout < 0 ? 0 : (int)timeout;
}

static void begin_stop(struct server *server, const char *signal_name)
{
	const char *path = server->socket.path;

	server->stopping = true;
	handshake_socket_close(&server->socket);
	if (server->session_count == 0 && server->pending_count == 0) {
		log_info("received SIG%s; exiting", signal_name);
		return;
	}
	log_warn("received SIG%s: no longer accepting on '%s'; serving %zu "
		 "attached sessions and %zu attaching processes until they "
		 "end; a second signal exits at once, and their watched "
		 "syscalls then fail with ENOSYS",
		 signal_name, path, server->session_count,
		 server->pending_count);
}

static void read_signals(struct server *server)
{
	struct signalfd_siginfo info;

	while (read(server->signal_fd, &info, sizeof(info)) == sizeof(info)) {
		const char *name = sigabbrev_np((int)info.ssi_signo);

		if (!name)
			name = "?";
		if (!server->stopping) {
			begin_stop(server, name);
			continue;
		}
		log_warn(
			"received SIG%s again: exiting with %zu sessions "
			"attached, whose watched syscalls now fail with ENOSYS",
			name, server->session_count);
		server->exit_now = true;
		return;
	}
}

/* Handles what poll(2) reported in server->fds. */
static void dispatch(struct server *server)
{
	const struct pollfd *fds = server->fds;
	size_t pending_count = server->pending_count;
	size_t session_count = server->session_count;
	const struct pollfd *session_fds = fds + 2 + pending_count;

	if (fds[0].revents)
		read_signals(server);
	if (server->exit_now)
		return;
	for (size_t i = 0; i < session_count; i++) {
		if (session_fds[i].revents)
			handle_session(server, &server->sessions[i],
				       session_fds[i].revents);
	}
	for (size_t i = 0; i < pending_count; i++) {
		if (fds[2 + i].revents)
			handshake_advance(&server->pending[i],
					  fds[2 + i].revents);
	}
	if (fds[1].fd >= 0 && server->socket.fd >= 0 && fds[1].revents)
		accept_connections(server);
}

static bool is_finished(const struct server *server)
{
	return server->exit_now ||
	       (server->stopping && server->session_count == 0 &&
		server->pending_count == 0);
}

static int serve_loop(struct server *server)
{
	struct supervise_upkeep upkeep;
	size_t count;
	int ready, err;

	supervise_upkeep_init(&upkeep);
	while (!is_finished(server)) {
		err = build_poll_set(server, &count);
		if (err < 0) {
			log_error_errno(-err, "cannot grow the poll set");
			return err;
		}
		ready = poll(server->fds, count, poll_timeout(server));
		if (ready < 0 && errno != EINTR) {
			log_error_errno(errno, "poll failed");
			return -errno;
		}
		if (server->accept_resume_ms &&
		    handshake_now_ms() >= server->accept_resume_ms)
			server->accept_resume_ms = 0;
		if (ready > 0)
			dispatch(server);
		if (server->exit_now)
			break;
		settle_pending(server);
		drop_ended_sessions(server);
		supervise_upkeep_run(&upkeep, &server->monitor, server->sink);
	}
	return 0;
}

static void release(struct server *server)
{
	for (size_t i = 0; i < server->pending_count; i++)
		handshake_fini(&server->pending[i]);
	for (size_t i = 0; i < server->session_count; i++)
		close(server->sessions[i].listener);
	free(server->sessions);
	free(server->fds);
	handshake_socket_close(&server->socket);
	monitor_fini(&server->monitor);
	filter_program_fini(&server->program);
	if (server->signal_fd >= 0)
		close(server->signal_fd);
}

int serve_command(const struct serve_options *options)
{
	struct server server = { .signal_fd = -1 };
	int status = RUN_EXIT_FAILURE;

	server.socket.fd = -1;
	if (prepare(&server, options) == 0 && serve_loop(&server) == 0)
		status = EXIT_SUCCESS;
	supervise_report_failures(&server.monitor);
	log_info("exiting with status %d after %lu sessions and %lu "
		 "notifications",
		 status, server.last_session, server.monitor.notifications);
	release(&server);
	supervise_sink_close(server.sink, options->log_path);
	return status;
}
