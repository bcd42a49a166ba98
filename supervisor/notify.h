/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seccomp user-notification protocol on a listener fd: receive a
 * notification, check that it is still valid, send the response.
 */
#ifndef NATIVEMON_NOTIFY_H
#define NATIVEMON_NOTIFY_H

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct notify_buffers {
	struct seccomp_notif *request;
	struct seccomp_notif_resp *response;
	size_t request_size;
	size_t response_size;
};

/*
 * Allocates buffers of the sizes this kernel uses, which may be larger than
 * the structures in the headers. Returns 0 or a negative errno.
 */
int notify_buffers_init(struct notify_buffers *buffers);
void notify_buffers_fini(struct notify_buffers *buffers);

/*
 * Asks the kernel to wake the target on the supervisor's CPU when a
 * response arrives (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6), which
 * shortens the round trip. Returns 0 or a negative errno.
 */
int notify_set_sync_wakeup(int listener);

/*
 * Receives one notification into buffers->request. Returns 0, -ENOENT when
 * the target died before it could be received, or another negative errno.
 */
int notify_receive(int listener, struct notify_buffers *buffers);

/* Returns true while the notification's target is still blocked in it. */
bool notify_id_valid(int listener, uint64_t id);

/*
 * Sends buffers->response. Returns 0, -ENOENT when the target went away
 * (not an error), or another negative errno.
 */
int notify_respond(int listener, struct notify_buffers *buffers);

/* Fills buffers->response to let the syscall run in the kernel. */
void notify_prepare_continue(struct notify_buffers *buffers);

/*
 * Fills buffers->response so that the syscall does not run and returns
 * value in the caller.
 */
void notify_prepare_value(struct notify_buffers *buffers, int64_t value);

/*
 * Fills buffers->response so that the syscall does not run and fails with
 * the positive errno error in the caller.
 */
void notify_prepare_error(struct notify_buffers *buffers, int error);

#endif
