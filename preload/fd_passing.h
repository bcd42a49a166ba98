/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Passing one descriptor over a unix socket as SCM_RIGHTS, as the shim,
 * `nativemon run` and the tests do with seccomp listeners. Header-only, so
 * that the shim links none of the supervisor's code.
 */
#ifndef NATIVEMON_PRELOAD_FD_PASSING_H
#define NATIVEMON_PRELOAD_FD_PASSING_H

#include <string.h>
#include <sys/socket.h>

/* Control space for one descriptor, aligned as struct cmsghdr needs. */
union fd_passing_control {
	char buffer[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/*
 * Makes header carry fd as SCM_RIGHTS through control, which must live as
 * long as header is used.
 */
static inline void fd_passing_attach(struct msghdr *header,
				     union fd_passing_control *control,
				     int fd)
{
	struct cmsghdr *cmsg;

	memset(control, 0, sizeof(*control));
	header->msg_control = control->buffer;
	header->msg_controllen = sizeof(control->buffer);
	cmsg = CMSG_FIRSTHDR(header);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
}

#endif
