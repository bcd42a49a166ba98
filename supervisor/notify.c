/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin wrappers around the SECCOMP_IOCTL_NOTIF_* ioctls that turn their
 * errno conventions into return values.
 */
#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int notify_buffers_init(struct notify_buffers *buffers)
{
	struct seccomp_notif_sizes sizes;

	memset(buffers, 0, sizeof(*buffers));
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -errno;
	buffers->request_size = (size_t)sizes.seccomp_notif;
	buffers->response_size = (size_t)sizes.seccomp_notif_resp;
	if (buffers->request_size < sizeof(struct seccomp_notif))
		buffers->request_size = sizeof(struct seccomp_notif);
	if (buffers->response_size < sizeof(struct seccomp_notif_resp))
		buffers->response_size = sizeof(struct seccomp_notif_resp);
	buffers->request = calloc(1, buffers->request_size);
	buffers->response = calloc(1, buffers->response_size);
	if (!buffers->request || !buffers->response) {
		notify_buffers_fini(buffers);
		return -ENOMEM;
	}
	return 0;
}

void notify_buffers_fini(struct notify_buffers *buffers)
{
	free(buffers->request);
	free(buffers->response);
	memset(buffers, 0, sizeof(*buffers));
}

int notify_set_sync_wakeup(int listener)
{
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		  SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		return -errno;
	return 0;
}

int notify_receive(int listener, struct notify_buffers *buffers)
{
	/* The kernel rejects a receive buffer that is not zeroed. */
	memset(buffers->request, 0, buffers->request_size);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buffers->request) < 0)
		return -errno;
	return 0;
}

bool notify_id_valid(int listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int notify_respond(int listener, struct notify_buffers *buffers)
{
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, buffers->response) < 0)
		return -errno;
	return 0;
}

void notify_prepare_continue(struct notify_buffers *buffers)
{
	uint64_t id = buffers->request->id;

	memset(buffers->response, 0, buffers->response_size);
	buffers->response->id = id;
	buffers->response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
}

void notify_prepare_value(struct notify_buffers *buffers, int64_t value)
{
	uint64_t id = buffers->request->id;

	memset(buffers->response, 0, buffers->response_size);
	buffers->response->id = id;
	buffers->response->val = value;
}

void notify_prepare_error(struct notify_buffers *buffers, int error)
{
	uint64_t id = buffers->request->id;

	memset(buffers->response, 0, buffers->response_size);
	buffers->response->id = id;
	buffers->response->error = -error;
}
