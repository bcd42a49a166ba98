/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration tests of attach mode: the real `nativemon serve` with
 * programs that the preload shim of this build (preload/libnativemon.so)
 * attaches through NATIVEMON_SOCKET, with servers that are missing,
 * stopped or of another user, and with hand-made peers that break the
 * protocol.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <libgen.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "preload/fd_passing.h"
#include "preload/protocol.h"
#include "preload/shim.h"

/* Deadline for each wait on nativemon, well below the Criterion timeout. */
#define DEADLINE_MS 20000
#define TEST_TIMEOUT_S 30

/* NATIVEMON_TIMEOUT_MS of the tests in which the shim has to give up. */
#define SHIM_WAIT_MS 300

/*
 * How long a program may take to start when the shim gives up: without
 * a server it should not wait at all, and with a stopped one it waits
 * SHIM_WAIT_MS once. Both stay well below SHIM_TIMEOUT_DEFAULT_MS, so
 * they also show that NATIVEMON_TIMEOUT_MS took effect.
 */
#define PROMPT_START_MAX_MS 1000
#define STOPPED_START_MAX_MS (SHIM_WAIT_MS + 1200)

/*
 * nativemon's limit on a connection that never hands its listener over
 * (HANDSHAKE_TIMEOUT_MS in supervisor/handshake.h), and the slack allowed
 * on top of it.
 */
#define SERVER_HANDSHAKE_MS 5000
#define SERVER_SLACK_MS 3000

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The resources of the current test. They are static so that the suite's
 * fini can still release them after a failed assertion.
 */
static struct harness_test test;
static struct harness_session server;
static struct harness_session targets[2];
static pid_t fake_server;

static void end_test(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		if (targets[i].pid > 0)
			harness_session_end(&targets[i]);
	}
	if (server.pid > 0)
		harness_session_end(&server);
	if (fake_server > 0) {
		kill(fake_server, SIGKILL);
		waitpid(fake_server, NULL, 0);
		fake_server = 0;
	}
	harness_test_fini(&test);
}

TestSuite(serve, .init = harness_require_user_notification, .fini = end_test);
TestSuite(shim, .init = harness_require_user_notification, .fini = end_test);

/* Where the files of a server live, and which binaries it runs. */
struct setup {
	const char *dir;
	const char *socket;
	const char *log;
	const char *nativemon;
	const char *shim;
	bool unprivileged; /* server and files belong to the nobody user */
};

/* The shim of this build: preload/libnativemon.so next to $NATIVEMON. */
static const char *build_shim_path(void)
{
	char *copy = harness_test_own(&test, strdup(harness_nativemon_path()));
	const char *path = harness_test_format(
		&test, "%s/preload/libnativemon.so", dirname(copy));

	cr_assert(access(path, R_OK) == 0,
		  "the shim %s is not readable: %s; 'make' builds it", path,
		  strerror(errno));
	return path;
}

/*
 * Creates a scratch directory with the paths of a server's socket and log.
 * An unprivileged setup lives under /tmp, belongs to the nobody user and
 * has its own copies of nativemon and the shim, so that the run does not
 * depend on the permissions of the build directory.
 */
static void make_setup(struct setup *setup, bool unprivileged)
{
	memset(setup, 0, sizeof(*setup));
	setup->unprivileged = unprivileged;
	setup->dir =
		harness_test_scratch_new(&test, unprivileged ? "/tmp" : NULL);
	setup->socket = harness_test_format(&test, "%s/sock", setup->dir);
	setup->log = harness_test_format(&test, "%s/events.jsonl", setup->dir);
	setup->nativemon = harness_nativemon_path();
	setup->shim = build_shim_path();
	test.log = setup->log;
	if (!unprivileged)
		return;
	cr_assert(chown(setup->dir, HARNESS_UNPRIVILEGED_ID,
			HARNESS_UNPRIVILEGED_ID) == 0,
		  "cannot chown %s: %s", setup->dir, strerror(errno));
	setup->nativemon =
		harness_test_format(&test, "%s/nativemon", setup->dir);
	harness_copy_file(harness_nativemon_path(), setup->nativemon, 0755);
	setup->shim =
		harness_test_format(&test, "%s/libnativemon.so", setup->dir);
	harness_copy_file(build_shim_path(), setup->shim, 0755);
}

/* Returns the path of target name, copied into an unprivileged setup. */
static const char *setup_target(const struct setup *setup, const char *name)
{
	const char *built = harness_test_target(&test, name);
	const char *copy;

	if (!setup->unprivileged)
		return built;
	copy = harness_test_format(&test, "%s/%s", setup->dir, name);
	harness_copy_file(built, copy, 0755);
	return copy;
}

/*
 * Waits until the session's stderr contains needle. Returns false if the
 * deadline passes or the session exits first.
 */
static bool wait_for_stderr(struct harness_session *session, const char *needle,
			    long long deadline)
{
	for (;;) {
		bool running = harness_session_is_running(session);

		if (strstr(harness_capture_text(&session->err), needle))
			return true;
		if (!running || harness_now_ms() >= deadline)
			return false;
		harness_wait_poll_interval();
	}
}

/* Waits until count lines of the session's stderr contain needle. */
static bool wait_for_lines(struct harness_session *session, const char *needle,
			   size_t count, long long deadline)
{
	for (;;) {
		bool running = harness_session_is_running(session);
		const char *text = harness_capture_text(&session->err);

		if (harness_count_lines_with(text, needle) >= count)
			return true;
		if (!running || harness_now_ms() >= deadline)
			return false;
		harness_wait_poll_interval();
	}
}

static void expect_stderr(struct harness_session *session, const char *needle)
{
	cr_assert(wait_for_stderr(session, needle,
				  harness_now_ms() + DEADLINE_MS),
		  "nativemon did not print '%s'; stderr: %s", needle,
		  harness_capture_text(&session->err));
}

/* Starts `nativemon serve` and waits until it listens. */
/* Starts the server, with the rules of policy first unless it is NULL. */
static void start_server_with(const struct setup *setup, const char *policy)
{
	char *argv[] = { (char *)setup->nativemon,
			 "serve",
			 "--socket",
			 (char *)setup->socket,
			 "--log",
			 (char *)setup->log,
			 "--verbose",
			 policy ? "--policy" : NULL,
			 (char *)policy,
			 NULL };
	const struct harness_session_options options = {
		.set_ids = setup->unprivileged,
		.uid = HARNESS_UNPRIVILEGED_ID,
		.gid = HARNESS_UNPRIVILEGED_ID,
	};

	harness_session_start(&server, argv, &options);
	expect_stderr(&server, "listening on");
}

static void start_server(const struct setup *setup)
{
	start_server_with(setup, NULL);
}

/* Stops the server with SIGTERM and reads its log. */
static void stop_server(void)
{
	cr_assert_eq(kill(server.pid, SIGTERM), 0, "SIGTERM: %s",
		     strerror(errno));
	cr_assert(harness_session_wait(&server, harness_now_ms() + DEADLINE_MS),
		  "nativemon serve did not exit after SIGTERM; stderr: %s",
		  harness_capture_text(&server.err));
	harness_session_expect_exit_code(&server, 0);
	harness_test_read_log(&test);
}

/*
 * Returns the environment that attaches a program to the setup's server:
 * the shim, the socket, PATH, and up to two more NAME=value entries.
 */
static char **shim_env(const struct setup *setup, const char *extra,
		       const char *more)
{
	char **env =
		(char **)harness_test_own(&test, calloc(6, sizeof(char *)));
	size_t count = 0;

	env[count++] = harness_test_format(&test, "LD_PRELOAD=%s", setup->shim);
	env[count++] = harness_test_format(&test, "%s=%s", SHIM_ENV_SOCKET,
					   setup->socket);
	env[count++] = "PATH=/usr/bin:/bin";
	if (extra)
		env[count++] = (char *)extra;
	if (more)
		env[count++] = (char *)more;
	env[count] = NULL;
	return env;
}

/*
 * Runs a target with the shim in the foreground, as the nobody user in an
 * unprivileged setup unless as_root, and returns how long it took in ms.
 */
static long long run_attached(const struct setup *setup, const char *target,
			      char **env, bool as_root)
{
	const struct harness_options options = {
		.env = env,
		.set_ids = setup->unprivileged && !as_root,
		.uid = HARNESS_UNPRIVILEGED_ID,
		.gid = HARNESS_UNPRIVILEGED_ID,
		.timeout_ms = DEADLINE_MS,
	};
	long long start = harness_now_ms();

	harness_result_fini(&test.result);
	harness_run((char *[]){ (char *)target, NULL }, &options, &test.result);
	cr_assert(!test.result.timed_out, "%s timed out; stderr: %s", target,
		  test.result.err);
	return harness_now_ms() - start;
}

/* Returns the pid that a target printed as "pid=N" on its first line. */
static int printed_pid(const char *out)
{
	int pid = 0;

	cr_assert_eq(sscanf(out, "pid=%d", &pid), 1,
		     "the target did not print its pid; stdout: %s", out);
	return pid;
}

/* Fails the test unless the last run printed exactly one shim line. */
static const char *expect_one_shim_line(const char *level)
{
	const char *err = test.result.err;
	const char *line = strstr(err, "libnativemon[");

	cr_assert_eq(harness_count_lines_with(err, "libnativemon["), 1,
		     "expected one line of the shim on stderr, got: %s", err);
	cr_assert(strstr(line, level), "the shim's line is not at level %s: %s",
		  level, line);
	return line;
}

static void expect_no_shim_line(void)
{
	cr_assert_eq(harness_count_lines_with(test.result.err, "libnativemon["),
		     0, "the shim printed: %s", test.result.err);
}

/*
 * Starts target name in the background with the shim, stdin on a pipe,
 * and returns the pid it printed once it runs attached.
 */
static int start_attached(struct harness_session *session,
			  const struct setup *setup, const char *name)
{
	char *argv[] = { "/usr/bin/env",
			 "-i",
			 harness_test_format(&test, "LD_PRELOAD=%s",
					     setup->shim),
			 harness_test_format(&test, "%s=%s", SHIM_ENV_SOCKET,
					     setup->socket),
			 (char *)setup_target(setup, name),
			 NULL };
	const struct harness_session_options options = { .pipe_input = true };
	char line[64];

	harness_session_start(session, argv, &options);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    harness_now_ms() + DEADLINE_MS),
		  "%s did not start; stderr: %s", name,
		  harness_capture_text(&session->err));
	return printed_pid(line);
}

/* Ends the input of a target from start_attached() and waits for it. */
static void finish_attached(struct harness_session *session, int expected)
{
	harness_session_close_input(session);
	cr_assert(harness_session_wait(session, harness_now_ms() + DEADLINE_MS),
		  "the target did not exit; stderr: %s",
		  harness_capture_text(&session->err));
	harness_session_expect_exit_code(session, expected);
}

/* Waits until the server logged the end of session number of pid. */
static void expect_session_end(unsigned long number, int pid)
{
	char text[96];

	snprintf(text, sizeof(text), "session %lu of pid %d ended", number,
		 pid);
	expect_stderr(&server, text);
}

/* Returns the direct-syscall records of pid in session (0: any). */
static long long count_direct_syscalls(int pid, unsigned long session)
{
	char pid_text[16], session_text[24];

	snprintf(pid_text, sizeof(pid_text), "%d", pid);
	snprintf(session_text, sizeof(session_text), "%lu", session);
	if (session == 0)
		return harness_events_count(test.events, "event.action",
					    "direct-syscall", "process.pid",
					    pid_text, NULL);
	return harness_events_count(test.events, "event.action",
				    "direct-syscall", "process.pid", pid_text,
				    "nativemon.session", session_text, NULL);
}

/* Reads the state letter of a process from /proc/PID/stat. */
static char read_state(pid_t pid)
{
	char path[64], stat[512];
	const char *end;
	FILE *file;
	size_t length;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	file = fopen(path, "r");
	cr_assert_not_null(file, "cannot open %s: %s", path, strerror(errno));
	length = fread(stat, 1, sizeof(stat) - 1, file);
	fclose(file);
	stat[length] = '\0';
	/* The command name may contain spaces: the state follows the ')'. */
	end = strrchr(stat, ')');
	cr_assert(end && end[1] == ' ', "cannot parse %s: %s", path, stat);
	return end[2];
}

static void stop_process(pid_t pid)
{
	long long deadline = harness_now_ms() + DEADLINE_MS;

	cr_assert_eq(kill(pid, SIGSTOP), 0, "SIGSTOP: %s", strerror(errno));
	while (read_state(pid) != 'T') {
		cr_assert_lt(harness_now_ms(), deadline, "pid %d did not stop",
			     (int)pid);
		harness_wait_poll_interval();
	}
}

/* Binds a SOCK_SEQPACKET socket at path, listening or not. */
static int bind_socket(const char *path, bool listening)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert_lt(strlen(path), sizeof(address.sun_path),
		     "socket path too long: %s", path);
	strcpy(address.sun_path, path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&address, sizeof(address)), 0,
		     "bind %s: %s", path, strerror(errno));
	if (listening)
		cr_assert_eq(listen(fd, 8), 0, "listen: %s", strerror(errno));
	return fd;
}

/* Connects a hand-made peer to the server. */
static int connect_peer(const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	strcpy(address.sun_path, path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&address, sizeof(address)),
		     0, "connect %s: %s", path, strerror(errno));
	return fd;
}

/*
 * Receives one message within the deadline. Returns its length, 0 at the
 * end of the connection, or -1 if the deadline passed.
 */
static ssize_t receive_message(int fd, void *buffer, size_t size,
			       long long deadline)
{
	struct pollfd entry = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		long long left = deadline - harness_now_ms();

		if (left <= 0)
			return -1;
		if (poll(&entry, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buffer, size, MSG_DONTWAIT);
		if (n < 0 && errno == ECONNRESET)
			return 0;
		if (n >= 0)
			return n;
	}
}

/* Receives the server's offer and checks its header. */
static void receive_offer(int fd, int expected_error)
{
	static struct {
		struct nativemon_attach_offer header;
		struct sock_filter instructions[BPF_MAXINSNS];
	} offer;
	ssize_t n = receive_message(fd, &offer, sizeof(offer),
				    harness_now_ms() + DEADLINE_MS);

	cr_assert_geq(n, (ssize_t)sizeof(offer.header),
		      "no offer from the server: %zd bytes", n);
	cr_assert_eq(offer.header.version, NATIVEMON_PROTOCOL_VERSION,
		     "offer of version %u", offer.header.version);
	cr_assert_eq(offer.header.error, expected_error,
		     "offer with error %d, expected %d", offer.header.error,
		     expected_error);
	if (expected_error) {
		cr_assert_eq(offer.header.length, 0,
			     "a rejection offered %u instructions",
			     offer.header.length);
		return;
	}
	cr_assert_gt(offer.header.length, 0, "the offer has no filter");
	cr_assert_eq((size_t)n,
		     sizeof(offer.header) +
			     offer.header.length * sizeof(struct sock_filter),
		     "offer of %zd bytes for %u instructions", n,
		     offer.header.length);
}

/*
 * Waits for the server to close the connection, failing the test if it
 * acknowledges instead. Returns how long the wait took in ms.
 */
static long long expect_closed(int fd, long long deadline)
{
	long long start = harness_now_ms();
	char buffer[64];
	ssize_t n;

	for (;;) {
		n = receive_message(fd, buffer, sizeof(buffer), deadline);
		cr_assert_geq(n, 0, "the server kept the connection open");
		if (n == 0)
			return harness_now_ms() - start;
		cr_assert(!(n == 1 && buffer[0] == NATIVEMON_ATTACH_ACK),
			  "the server acknowledged a bad hand-off");
	}
}

/* Sends a hand-off with fd attached, or bytes of garbage if fd is -1. */
static void send_hand_off(int socket, int fd, size_t garbage)
{
	struct nativemon_attach_hand_off hand_off = {
		.version = NATIVEMON_PROTOCOL_VERSION,
	};
	union fd_passing_control control;
	struct iovec iov = { .iov_base = &hand_off,
			     .iov_len = fd >= 0 ? sizeof(hand_off) : garbage };
	struct msghdr header = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0)
		fd_passing_attach(&header, &control, fd);
	cr_assert_geq(sendmsg(socket, &header, MSG_NOSIGNAL), 0, "sendmsg: %s",
		      strerror(errno));
}

/* Attaching. */

/*
 * Runs program attached to the server, expects it to exit 0 without a
 * line from the shim and its session to end as number session. Returns
 * the pid the program printed.
 */
static int attach_program(struct setup *setup, const char *program,
			  unsigned int session)
{
	int pid;

	run_attached(setup, program, shim_env(setup, NULL, NULL), false);
	harness_test_expect_exit_code(&test, 0);
	expect_no_shim_line();
	pid = printed_pid(test.result.out);
	expect_session_end(session, pid);
	return pid;
}

Test(serve, reports_attached_process, .timeout = TEST_TIMEOUT_S)
{
	struct setup setup;
	char attached[96];
	int pid;

	make_setup(&setup, false);
	start_server(&setup);

	run_attached(&setup, harness_test_target(&test, "raw_memfd"),
		     shim_env(&setup, NULL, NULL), false);
	harness_test_expect_exit_code(&test, 0);
	expect_no_shim_line();
	pid = printed_pid(test.result.out);
	snprintf(attached, sizeof(attached), "attached pid %d (", pid);
	expect_stderr(&server, attached);
	expect_stderr(&server, "raw_memfd) as session 1");
	expect_session_end(1, pid);
	stop_server();

	cr_assert_eq(count_direct_syscalls(pid, 1), 1,
		     "no direct-syscall record of pid %d in session 1; %s", pid,
		     test.seen);
	cr_assert_not_null(harness_events_find(
				   test.events, "process.pid",
				   harness_test_format(&test, "%d", pid),
				   "nativemon.origin.kind", "executable", NULL),
			   "the call of pid %d is not from its executable; %s",
			   pid, test.seen);
}

Test(serve, keeps_sessions_apart, .timeout = TEST_TIMEOUT_S)
{
	struct setup setup;
	int first, second;

	make_setup(&setup, false);
	start_server(&setup);

	/* The second starts once the first runs, so both are attached. */
	first = start_attached(&targets[0], &setup, "raw_memfd_twice");
	second = start_attached(&targets[1], &setup, "raw_memfd_twice");
	expect_stderr(&server,
		      harness_test_format(&test, "attached pid %d (", first));
	expect_stderr(&server,
		      harness_test_format(&test, "attached pid %d (", second));
	finish_attached(&targets[0], 0);
	finish_attached(&targets[1], 0);
	expect_session_end(1, first);
	expect_session_end(2, second);
	stop_server();

	cr_assert_eq(count_direct_syscalls(first, 1), 2,
		     "pid %d made 2 calls in session 1; %s", first, test.seen);
	cr_assert_eq(count_direct_syscalls(second, 2), 2,
		     "pid %d made 2 calls in session 2; %s", second, test.seen);
	cr_assert_eq(count_direct_syscalls(first, 2), 0,
		     "a call of pid %d is in session 2; %s", first, test.seen);
	cr_assert_eq(count_direct_syscalls(second, 1), 0,
		     "a call of pid %d is in session 1; %s", second, test.seen);
}

/*
 * A server of another user must not get the listener of a root process:
 * the shim rejects it, and the server, which runs unprivileged, rejects
 * the root peer on its side too.
 */
Test(serve, rejects_other_user, .timeout = TEST_TIMEOUT_S)
{
	struct setup setup;
	const char *line;
	int pid, peer;

	cr_assert_eq(geteuid(), 0, "this test switches users and needs root");
	make_setup(&setup, true);
	start_server(&setup);

	run_attached(&setup, harness_test_target(&test, "raw_memfd"),
		     shim_env(&setup, NULL, NULL), true);
	harness_test_expect_exit_code(&test, 0);
	pid = printed_pid(test.result.out);
	line = expect_one_shim_line("warning");
	cr_assert(strstr(line, "server uid 65534"),
		  "the warning does not name the server's uid: %s", line);
	cr_assert(strstr(line, "runs unmonitored"),
		  "the warning does not say that it runs unmonitored: %s",
		  line);
	expect_stderr(&server, harness_test_format(&test, "pid %d (", pid));
	expect_stderr(&server, "of uid 0 rejected");

	/* A peer that ignores the shim's check gets the rejection itself. */
	peer = connect_peer(setup.socket);
	receive_offer(peer, EACCES);
	close(peer);
	cr_assert(
		wait_for_lines(&server,
			       "of uid 0 rejected: nativemon runs as uid 65534",
			       2, harness_now_ms() + DEADLINE_MS),
		"expected two rejections; stderr: %s",
		harness_capture_text(&server.err));
	stop_server();

	cr_assert_eq(count_direct_syscalls(pid, 0), 0,
		     "the rejected pid %d was monitored; %s", pid, test.seen);
}

/*
 * Where Yama limits ptrace to ancestors, the server, which is no ancestor
 * of the attached process, reads its stack only through the exception the
 * shim grants with PR_SET_PTRACER. Both run as the nobody user, so that
 * no capability bypasses Yama.
 */
Test(serve, reads_stack_under_yama, .timeout = TEST_TIMEOUT_S)
{
	char scope[16] = "";
	struct setup setup;
	const json_t *record;
	FILE *file = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int pid;

	if (!file)
		cr_skip_test("Yama is not enabled in this kernel, so "
			     "PR_SET_PTRACER grants nothing to check");
	cr_assert_not_null(fgets(scope, sizeof(scope), file),
			   "cannot read ptrace_scope");
	fclose(file);
	if (atoi(scope) != 1)
		cr_skip_test("Yama's ptrace_scope is %d; PR_SET_PTRACER "
			     "matters only at 1",
			     atoi(scope));
	cr_assert_eq(geteuid(), 0, "this test switches users and needs root");
	make_setup(&setup, true);
	start_server(&setup);

	pid = attach_program(&setup, setup_target(&setup, "raw_memfd"), 1);
	stop_server();

	record = harness_events_find(
		test.events, "event.action", "direct-syscall", "process.pid",
		harness_test_format(&test, "%d", pid), NULL);
	cr_assert_not_null(record, "no direct-syscall record of pid %d; %s",
			   pid, test.seen);
	harness_event_expect_string(record, "nativemon.origin.kind",
				    "executable");
	harness_event_expect_string(record, "nativemon.stack_status",
				    "complete");
}

/* Peers that break the protocol. */

/*
 * A peer that never sends a hand-off, one that hands over a pipe instead of a
 * listener, and one that sends a short message: none of them holds up a
 * real attach, and the server closes each connection.
 */
Test(serve, survives_hostile_peers, .timeout = TEST_TIMEOUT_S)
{
	struct setup setup;
	int silent, piped, garbled, pipe_fds[2], pid;
	long long deadline, waited;

	make_setup(&setup, false);
	start_server(&setup);
	silent = connect_peer(setup.socket);

	piped = connect_peer(setup.socket);
	receive_offer(piped, 0);
	harness_open_pipe(pipe_fds);
	send_hand_off(piped, pipe_fds[0], 0);
	expect_closed(piped, harness_now_ms() + DEADLINE_MS);

	garbled = connect_peer(setup.socket);
	receive_offer(garbled, 0);
	send_hand_off(garbled, -1, 3);
	expect_closed(garbled, harness_now_ms() + DEADLINE_MS);
	cr_assert(wait_for_lines(&server, "sent an invalid hand-off", 2,
				 harness_now_ms() + DEADLINE_MS),
		  "expected two invalid hand-offs in: %s",
		  harness_capture_text(&server.err));

	pid = attach_program(&setup, harness_test_target(&test, "raw_memfd"),
			     1);

	receive_offer(silent, 0);
	deadline = harness_now_ms() + SERVER_HANDSHAKE_MS + SERVER_SLACK_MS;
	waited = expect_closed(silent, deadline);
	cr_assert_lt(waited, SERVER_HANDSHAKE_MS + SERVER_SLACK_MS,
		     "the server kept a silent peer for %lld ms", waited);
	expect_stderr(&server, "did not hand its listener over within");
	close(silent);
	close(piped);
	close(garbled);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	stop_server();

	cr_assert_eq(count_direct_syscalls(pid, 1), 1,
		     "no record of the attached pid %d; %s", pid, test.seen);
}

/*
 * One user's idle connections cannot hold every handshake slot: the
 * server turns that user's next attach down before it has a filter, and
 * the shim tries again until its timeout.
 */
Test(serve, bounds_attaches_per_user, .timeout = TEST_TIMEOUT_S)
{
	char *timeout = harness_test_format(&test, "%s=%d", SHIM_ENV_TIMEOUT,
					    SHIM_WAIT_MS);
	struct setup setup;
	int idle[32];
	long long took;
	const char *line;

	make_setup(&setup, false);
	start_server(&setup);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		idle[i] = connect_peer(setup.socket);
		receive_offer(idle[i], 0);
	}

	took = run_attached(&setup, harness_test_target(&test, "raw_memfd"),
			    shim_env(&setup, timeout, NULL), false);
	harness_test_expect_exit_code(&test, 0);
	line = expect_one_shim_line("warning");
	cr_assert(strstr(line, "rejected the attach"),
		  "the 33rd attach was not rejected: %s", line);
	cr_assert_geq(took, SHIM_WAIT_MS - 50,
		      "the shim gave up after %lld ms without asking again",
		      took);
	cr_assert_lt(took, STOPPED_START_MAX_MS,
		     "the rejected attach waited %lld ms", took);
	expect_stderr(&server, "attaches under way");

	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		close(idle[i]);
	attach_program(&setup, harness_test_target(&test, "raw_memfd"), 1);
	stop_server();
}

/*
 * Yama is off on many machines, so this checks the shim's side instead:
 * once attached, it allows the server's pid to trace it. The server
 * watches PR_SET_PTRACER (0x59616d61) to see the call.
 */
Test(serve, shim_allows_server_to_trace, .timeout = TEST_TIMEOUT_S)
{
	const char *directory = harness_test_scratch_new(&test, NULL);
	char *policy = harness_test_format(&test, "%s/ptracer.policy",
					   directory);
	char *server_pid;
	json_t *record, *args;
	struct setup setup;
	FILE *file;
	int pid;

	file = fopen(policy, "w");
	cr_assert_not_null(file, "cannot create %s", policy);
	fputs("watch prctl if arg0 == 0x59616d61\n"
	      "log syscall prctl id ptracer\n",
	      file);
	fclose(file);
	make_setup(&setup, false);
	start_server_with(&setup, policy);

	pid = attach_program(&setup, harness_test_target(&test, "raw_memfd"),
			     1);
	stop_server();
	record = harness_events_find(test.events, "rule.id", "ptracer",
				     "process.pid",
				     harness_test_format(&test, "%d", pid), NULL);
	cr_assert_not_null(record, "no PR_SET_PTRACER call of pid %d; %s", pid,
			   test.seen);
	args = harness_event_get(record, "nativemon.syscall.args");
	server_pid = harness_test_format(&test, "0x%x", (unsigned int)server.pid);
	cr_assert(json_is_array(args) &&
			  strcmp(json_string_value(json_array_get(args, 1)),
				 server_pid) == 0,
		  "PR_SET_PTRACER named %s, not the server %s",
		  json_string_value(json_array_get(args, 1)), server_pid);
}

/* Stopping. */

/*
 * Starts a server, attaches raw_memfd_twice to it and sends the server its
 * first SIGTERM. Returns the attached pid.
 */
static int attach_then_stop(struct setup *setup)
{
	int pid;

	make_setup(setup, false);
	start_server(setup);
	pid = start_attached(&targets[0], setup, "raw_memfd_twice");
	expect_stderr(&server,
		      harness_test_format(&test, "attached pid %d (", pid));

	cr_assert_eq(kill(server.pid, SIGTERM), 0, "SIGTERM: %s",
		     strerror(errno));
	expect_stderr(&server, "no longer accepting");
	return pid;
}

/* The first SIGTERM closes the socket; the attached process is served on. */
Test(serve, drains_sessions_on_sigterm, .timeout = TEST_TIMEOUT_S)
{
	long long deadline = harness_now_ms() + DEADLINE_MS;
	struct setup setup;
	const char *line;
	int pid;

	pid = attach_then_stop(&setup);
	while (access(setup.socket, F_OK) == 0) {
		cr_assert_lt(harness_now_ms(), deadline,
			     "the server did not remove %s", setup.socket);
		harness_wait_poll_interval();
	}
	run_attached(&setup, harness_test_target(&test, "raw_memfd"),
		     shim_env(&setup, NULL, NULL), false);
	harness_test_expect_exit_code(&test, 0);
	line = expect_one_shim_line("warning");
	cr_assert(strstr(line, "No such file or directory"),
		  "a stopping server still accepted: %s", line);
	cr_assert(harness_session_is_running(&server),
		  "the server exited with a session attached; stderr: %s",
		  harness_capture_text(&server.err));

	finish_attached(&targets[0], 0);
	cr_assert(harness_session_wait(&server, deadline),
		  "the server did not exit after its last session; stderr: %s",
		  harness_capture_text(&server.err));
	harness_session_expect_exit_code(&server, 0);
	cr_assert_eq(harness_count_lines_with(harness_capture_text(&server.err),
					      "no longer accepting"),
		     1, "expected one line about stopping; stderr: %s",
		     harness_capture_text(&server.err));
	harness_test_read_log(&test);
	cr_assert_eq(count_direct_syscalls(pid, 1), 2,
		     "pid %d made 2 calls in session 1; %s", pid, test.seen);
}

/* The second signal exits at once; the kernel then fails watched calls. */
Test(serve, exits_on_second_signal, .timeout = TEST_TIMEOUT_S)
{
	long long deadline = harness_now_ms() + DEADLINE_MS;
	struct setup setup;

	attach_then_stop(&setup);
	cr_assert_eq(kill(server.pid, SIGINT), 0, "SIGINT: %s",
		     strerror(errno));
	cr_assert(harness_session_wait(&server, deadline),
		  "the server did not exit after a second signal; stderr: %s",
		  harness_capture_text(&server.err));
	harness_session_expect_exit_code(&server, 0);
	cr_assert(strstr(harness_capture_text(&server.err),
			 "received SIGINT again: exiting with 1 sessions"),
		  "the server did not report the session it left; stderr: %s",
		  harness_capture_text(&server.err));

	finish_attached(&targets[0], 1);
	cr_assert(strstr(harness_capture_text(&targets[0].err),
			 "memfd_create failed: Function not implemented"),
		  "the watched call did not fail with ENOSYS; stderr: %s",
		  harness_capture_text(&targets[0].err));
}

/* The socket path. */

Test(serve, replaces_stale_socket, .timeout = TEST_TIMEOUT_S)
{
	struct setup setup;

	make_setup(&setup, false);
	close(bind_socket(setup.socket, false));
	start_server(&setup);
	cr_assert(strstr(harness_capture_text(&server.err),
			 "replaced the stale socket"),
		  "stderr: %s", harness_capture_text(&server.err));

	attach_program(&setup, harness_test_target(&test, "raw_memfd"), 1);
	stop_server();
	cr_assert_eq(access(setup.socket, F_OK), -1,
		     "the server left its socket %s behind", setup.socket);
}

/* A second server fails, and its probe does not disturb the first. */
Test(serve, rejects_socket_in_use, .timeout = TEST_TIMEOUT_S)
{
	struct harness_result second = { 0 };
	struct setup setup;
	int pid;

	make_setup(&setup, false);
	start_server(&setup);

	harness_run_nativemon(&second, NULL, "serve", "--socket", setup.socket,
			      NULL);
	cr_assert_eq(second.exit_code, 125,
		     "a second server exited with %d; stderr: %s",
		     second.exit_code, second.err);
	cr_assert(strstr(second.err, "another process is listening on"),
		  "stderr: %s", second.err);
	harness_result_fini(&second);

	pid = attach_program(&setup, harness_test_target(&test, "raw_memfd"),
			     1);
	stop_server();
	cr_assert_eq(count_direct_syscalls(pid, 1), 1,
		     "no record of pid %d; %s", pid, test.seen);
}

Test(serve, rejects_non_socket_path, .timeout = TEST_TIMEOUT_S)
{
	struct harness_result result = { 0 };
	const char *dir = harness_test_scratch_new(&test, NULL);
	const char *path = harness_test_format(&test, "%s/file", dir);
	struct stat st;
	FILE *file = fopen(path, "w");

	cr_assert_not_null(file, "cannot create %s: %s", path, strerror(errno));
	fclose(file);

	harness_run_nativemon(&result, NULL, "serve", "--socket", path, NULL);
	cr_assert_eq(result.exit_code, 125, "exit %d; stderr: %s",
		     result.exit_code, result.err);
	cr_assert(strstr(result.err, "exists and is not a socket"),
		  "stderr: %s", result.err);
	cr_assert_eq(stat(path, &st), 0, "%s is gone", path);
	cr_assert(S_ISREG(st.st_mode), "%s is no longer a regular file", path);
	harness_result_fini(&result);
}

/* The command line. */

Test(serve, requires_socket_option, .timeout = TEST_TIMEOUT_S)
{
	struct harness_result result = { 0 };

	harness_run_nativemon(&result, NULL, "serve", NULL);
	cr_assert_eq(result.exit_code, 2, "exit %d; stderr: %s",
		     result.exit_code, result.err);
	cr_assert(strstr(result.err, "missing --socket PATH"), "stderr: %s",
		  result.err);
	harness_result_fini(&result);
}

Test(serve, rejects_sendmsg_watch, .timeout = TEST_TIMEOUT_S)
{
	struct harness_result result = { 0 };
	const char *dir = harness_test_scratch_new(&test, NULL);
	const char *policy = harness_test_format(&test, "%s/p.policy", dir);
	const char *socket = harness_test_format(&test, "%s/sock", dir);
	FILE *file = fopen(policy, "w");

	cr_assert_not_null(file, "cannot create %s: %s", policy,
			   strerror(errno));
	fputs("# line 1\nwatch sendmsg\n", file);
	fclose(file);

	harness_run_nativemon(&result, NULL, "serve", "--socket", socket,
			      "--policy", policy, NULL);
	cr_assert_eq(result.exit_code, 2, "exit %d; stderr: %s",
		     result.exit_code, result.err);
	cr_assert(
		strstr(result.err, harness_test_format(&test, "%s:2:", policy)),
		"the error does not name the watch's line: %s", result.err);
	cr_assert(strstr(result.err, "watches sendmsg"), "stderr: %s",
		  result.err);
	cr_assert_eq(access(socket, F_OK), -1, "the socket was created");
	harness_result_fini(&result);
}

/* The shim when the server is missing, stopped or silent. */

struct missing_case {
	const char *name;
	bool stale; /* a socket file no process listens on, else none */
	const char *reason;
};

static const struct missing_case missing_cases[] = {
	{ "no socket file", false, "No such file or directory" },
	{ "stale socket", true, "Connection refused" },
};

ParameterizedTestParameters(shim, starts_without_server)
{
	static int indexes[] = { 0, 1 };

	return cr_make_param_array(int, indexes, ARRAY_SIZE(indexes));
}

ParameterizedTest(int *index, shim, starts_without_server,
		  .timeout = TEST_TIMEOUT_S)
{
	const struct missing_case *test_case = &missing_cases[*index];
	const char *target = harness_test_target(&test, "raw_memfd");
	const char *required = SHIM_ENV_REQUIRED "=1";
	struct setup setup;
	const char *line;
	long long took;

	cr_log_info("%s", test_case->name);
	make_setup(&setup, false);
	if (test_case->stale)
		close(bind_socket(setup.socket, false));

	took = run_attached(&setup, target, shim_env(&setup, NULL, NULL),
			    false);
	harness_test_expect_exit_code(&test, 0);
	cr_assert_lt(took, PROMPT_START_MAX_MS, "the program took %lld ms",
		     took);
	line = expect_one_shim_line("warning");
	cr_assert(strstr(line, test_case->reason), "line: %s", line);
	cr_assert(strstr(line, setup.socket), "line: %s", line);
	cr_assert(strstr(line, "raw_memfd runs unmonitored"), "line: %s", line);
	printed_pid(test.result.out);

	run_attached(&setup, target, shim_env(&setup, required, NULL), false);
	harness_test_expect_exit_code(&test, SHIM_EXIT_REQUIRED);
	line = expect_one_shim_line("error");
	cr_assert(strstr(line, harness_test_format(
				       &test, "nativemon serve --socket %s",
				       setup.socket)),
		  "the error does not say how to start the server: %s", line);
	cr_assert_eq(test.result.out_length, 0, "the program ran: %s",
		     test.result.out);
}

/*
 * A stopped server leaves the connection in its backlog. The shim gives
 * up after NATIVEMON_TIMEOUT_MS, and the server serves the next program
 * once it continues.
 */
Test(shim, starts_when_server_stopped, .timeout = TEST_TIMEOUT_S)
{
	const char *target = harness_test_target(&test, "raw_memfd");
	const char *timeout = harness_test_format(
		&test, "%s=%d", SHIM_ENV_TIMEOUT, SHIM_WAIT_MS);
	struct setup setup;
	const char *line;
	long long took;
	int skipped, pid;

	make_setup(&setup, false);
	start_server(&setup);
	stop_process(server.pid);

	took = run_attached(&setup, target, shim_env(&setup, timeout, NULL),
			    false);
	harness_test_expect_exit_code(&test, 0);
	cr_assert_geq(took, SHIM_WAIT_MS, "the shim waited only %lld ms", took);
	cr_assert_lt(took, STOPPED_START_MAX_MS, "the program took %lld ms",
		     took);
	line = expect_one_shim_line("warning");
	cr_assert(strstr(line, "the server sent no filter"), "line: %s", line);
	cr_assert(strstr(line, harness_test_format(&test, "after %d ms",
						   SHIM_WAIT_MS)),
		  "line: %s", line);
	skipped = printed_pid(test.result.out);

	took = run_attached(&setup, target,
			    shim_env(&setup, timeout, SHIM_ENV_REQUIRED "=1"),
			    false);
	harness_test_expect_exit_code(&test, SHIM_EXIT_REQUIRED);
	cr_assert_lt(took, STOPPED_START_MAX_MS, "the program took %lld ms",
		     took);
	expect_one_shim_line("error");

	cr_assert_eq(kill(server.pid, SIGCONT), 0, "SIGCONT: %s",
		     strerror(errno));
	run_attached(&setup, target, shim_env(&setup, NULL, NULL), false);
	harness_test_expect_exit_code(&test, 0);
	expect_no_shim_line();
	pid = printed_pid(test.result.out);
	expect_session_end(1, pid);
	stop_server();
	cr_assert_eq(count_direct_syscalls(pid, 1), 1,
		     "no record of pid %d; %s", pid, test.seen);
	cr_assert_eq(count_direct_syscalls(skipped, 0), 0,
		     "the unattached pid %d was monitored; %s", skipped,
		     test.seen);
}

/* What the fake server learned from one shim. */
struct fake_report {
	struct nativemon_attach_hand_off hand_off;
	ssize_t length;
	bool has_listener;
};

/*
 * Runs in a forked child as a server that offers an allow-all filter to
 * count shims, takes their listeners and never acknowledges. Reports
 * each hand-off on report_fd, then keeps the listeners open until
 * hold_fd reaches end of file.
 */
static void run_fake_server(int listen_fd, int report_fd, int hold_fd,
			    int count)
{
	struct {
		struct nativemon_attach_offer header;
		struct sock_filter allow;
	} offer = {
		.header = { .version = NATIVEMON_PROTOCOL_VERSION,
			    .length = 1 },
		.allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	char byte;

	for (int i = 0; i < count; i++) {
		union {
			char buffer[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct fake_report report = { 0 };
		struct iovec iov = { .iov_base = &report.hand_off,
				     .iov_len = sizeof(report.hand_off) };
		struct msghdr header = { .msg_iov = &iov,
					 .msg_iovlen = 1,
					 .msg_control = control.buffer,
					 .msg_controllen =
						 sizeof(control.buffer) };
		int peer = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (peer < 0 || send(peer, &offer, sizeof(offer), 0) < 0)
			_exit(1);
		report.length = recvmsg(peer, &header, 0);
		report.has_listener = CMSG_FIRSTHDR(&header) != NULL;
		if (write(report_fd, &report, sizeof(report)) < 0)
			_exit(1);
	}
	while (read(hold_fd, &byte, 1) > 0)
		continue;
	_exit(0);
}

static void read_fake_report(int fd, struct fake_report *report)
{
	ssize_t n = read(fd, report, sizeof(*report));

	cr_assert_eq(n, (ssize_t)sizeof(*report),
		     "the fake server reported %zd bytes", n);
}

ParameterizedTestParameters(shim, warns_when_ack_missing)
{
	static bool as_nobody[] = { false, true };

	return cr_make_param_array(bool, as_nobody, ARRAY_SIZE(as_nobody));
}

/*
 * Once the listener is gone, the filter stays: the warning must state it.
 * The hand-off also shows that only an unprivileged process sets
 * no_new_privs, because root can install the filter without it.
 */
ParameterizedTest(bool *as_nobody, shim, warns_when_ack_missing,
		  .timeout = TEST_TIMEOUT_S)
{
	const char *timeout = harness_test_format(
		&test, "%s=%d", SHIM_ENV_TIMEOUT, SHIM_WAIT_MS);
	struct fake_report report;
	struct setup setup;
	const char *line, *target;
	int listen_fd, report_pipe[2], hold_pipe[2];

	cr_log_info("as %s", *as_nobody ? "nobody" : "root");
	cr_assert_eq(geteuid(), 0, "this test switches users and needs root");
	make_setup(&setup, true);
	target = setup_target(&setup, "raw_memfd");
	listen_fd = bind_socket(setup.socket, true);
	cr_assert_eq(chmod(setup.socket, 0666), 0, "chmod: %s",
		     strerror(errno));
	harness_open_pipe(report_pipe);
	harness_open_pipe(hold_pipe);
	fake_server = fork();
	cr_assert_geq(fake_server, 0, "fork: %s", strerror(errno));
	if (fake_server == 0) {
		/* The test's end of hold_pipe must be the only writer. */
		close(report_pipe[0]);
		close(hold_pipe[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		run_fake_server(listen_fd, report_pipe[1], hold_pipe[0], 2);
	}
	close(listen_fd);
	close(report_pipe[1]);
	close(hold_pipe[0]);

	run_attached(&setup, target, shim_env(&setup, timeout, NULL),
		     !*as_nobody);
	harness_test_expect_exit_code(&test, 0);
	line = expect_one_shim_line("warning");
	cr_assert(strstr(line, "the server sent no acknowledgement"),
		  "line: %s", line);
	cr_assert(strstr(line, "the filter cannot be removed"), "line: %s",
		  line);
	read_fake_report(report_pipe[0], &report);
	cr_assert_eq(report.length, (ssize_t)sizeof(report.hand_off),
		     "hand-off of %zd bytes", report.length);
	cr_assert(report.has_listener, "the hand-off has no listener");
	cr_assert_eq(report.hand_off.error, 0, "hand-off error %d",
		     report.hand_off.error);
	cr_assert_eq(report.hand_off.no_new_privs, *as_nobody,
		     "no_new_privs is %u", report.hand_off.no_new_privs);

	run_attached(&setup, target,
		     shim_env(&setup, timeout, SHIM_ENV_REQUIRED "=1"),
		     !*as_nobody);
	harness_test_expect_exit_code(&test, SHIM_EXIT_REQUIRED);
	line = expect_one_shim_line("error");
	cr_assert(strstr(line, "the filter cannot be removed"), "line: %s",
		  line);
	read_fake_report(report_pipe[0], &report);
	close(report_pipe[0]);
	close(hold_pipe[1]);
	cr_assert_eq(waitpid(fake_server, NULL, 0), fake_server, "waitpid: %s",
		     strerror(errno));
	fake_server = 0;
}
