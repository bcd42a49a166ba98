/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Asks for a new user namespace with unshare(CLONE_NEWUSER) and prints its
 * pid and the outcome. seccomp notifies the supervisor before the kernel
 * runs the call, so the call is reported even where a sysctl or a missing
 * capability makes it fail. Only other errors make this program fail.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	int err = 0;

	if (unshare(CLONE_NEWUSER) < 0)
		err = errno;
	printf("pid=%d\nunshare: %s\n", (int)getpid(),
	       err ? strerror(err) : "new user namespace");
	/* EPERM: not permitted. ENOSPC or EUSERS: user.max_user_namespaces. */
	return err == 0 || err == EPERM || err == ENOSPC || err == EUSERS ? 0
									  : 1;
}
