/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server side of the attach protocol (preload/protocol.h): the
 * listening socket of `nativemon serve`, and the exchange with each
 * process that connects. poll(2) drives the exchange and no call blocks,
 * so a slow or hostile peer cannot delay the notifications of others.
 */
#ifndef NATIVEMON_HANDSHAKE_H
#define NATIVEMON_HANDSHAKE_H

#include <stdbool.h>
#include <sys/types.h>

#include "filter.h"

/*
 * How long a process may take from its connect(2) to the hand-off of its
 * listener. The shim installs the filter within microseconds of receiving
 * the offer, so this only ends peers that are stuck or hostile.
 */
#define HANDSHAKE_TIMEOUT_MS 5000

/* The listening socket and the identity of the file it is bound to. */
struct handshake_socket {
	int fd;
	const char *path; /* not owned */
	dev_t dev;
	ino_t inode;
};

/*
 * Creates a nonblocking SOCK_SEQPACKET socket, binds it to path and
 * listens. A socket file that no process listens on is replaced. Any
 * other file, or a socket in use, is left alone and makes this fail. Logs every
 * failure with what to do about it. Returns 0 or a negative errno.
 */
int handshake_socket_open(struct handshake_socket *socket, const char *path);

/*
 * Closes the socket and removes its file, unless another process has
 * replaced the file meanwhile. Does nothing when fd is -1.
 */
void handshake_socket_close(struct handshake_socket *socket);

enum handshake_state {
	HANDSHAKE_SENDING_OFFER,     /* waits for room in the socket */
	HANDSHAKE_AWAITING_HAND_OFF, /* the offer went out */
	HANDSHAKE_DONE,		     /* the peer's listener is in listener */
	HANDSHAKE_FAILED,	     /* logged; call handshake_fini() */
};

/* One connecting process. */
struct handshake {
	int socket;
	enum handshake_state state;
	long long deadline_ms; /* CLOCK_MONOTONIC */
	pid_t pid; /* from SO_PEERCRED; 0 if in another pid namespace */
	uid_t uid;
	const struct filter_program *program; /* not owned */
	int listener; /* -1 until DONE; handshake_take_listener() */
	bool killable_recv;
	bool no_new_privs;
};

/*
 * Accepts one pending connection from listen_fd and starts its exchange:
 * a peer whose effective uid is not nativemon's, unless nativemon runs as
 * root, gets an offer with error EACCES and a warning in the log, and
 * ends in HANDSHAKE_FAILED. Any other peer waits in
 * HANDSHAKE_SENDING_OFFER until its socket polls writable, so the caller
 * can still reject it. Returns 0, -EAGAIN when no connection is pending,
 * or another negative errno from accept4(2).
 */
int handshake_accept(struct handshake *handshake, int listen_fd,
		     const struct filter_program *program);

/*
 * Rejects an accepted peer whose user has under_way handshakes already,
 * with an offer carrying EAGAIN, and ends in HANDSHAKE_FAILED.
 */
void handshake_reject_busy(struct handshake *handshake, size_t under_way);

/* Returns the poll(2) events the handshake waits for. */
short handshake_poll_events(const struct handshake *handshake);

/* Moves the exchange on after poll(2) reported revents on its socket. */
void handshake_advance(struct handshake *handshake, short revents);

/* Fails the handshake, with a warning, once its deadline has passed. */
void handshake_check_deadline(struct handshake *handshake, long long now_ms);

/*
 * Returns the listener of a DONE handshake and gives up ownership of it,
 * or -1 in any other state.
 */
int handshake_take_listener(struct handshake *handshake);

/*
 * Sends NATIVEMON_ATTACH_ACK, from which the shim learns that its
 * listener is served. Returns 0 or a negative errno.
 */
int handshake_acknowledge(struct handshake *handshake);

/* Closes the socket and a listener that was not taken. */
void handshake_fini(struct handshake *handshake);

/* Enough of a peer's executable path for a log line. */
#define HANDSHAKE_PEER_NAME_MAX 256

/*
 * Copies the path of the executable of pid, made safe for a terminal and
 * cut to fit, into name; "?" when it cannot be read.
 */
void handshake_read_peer_name(pid_t pid, char name[HANDSHAKE_PEER_NAME_MAX]);

/* Returns the CLOCK_MONOTONIC time in milliseconds. */
long long handshake_now_ms(void);

#endif
