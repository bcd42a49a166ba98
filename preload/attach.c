/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Placeholder of the attach-mode client until the real one lands: no
 * process attaches to `nativemon serve` yet, and the ptrace exception for
 * the supervisor is set through Yama's PR_SET_PTRACER.
 */
#include <sys/prctl.h>

#include "preload/shim.h"

bool shim_attach(const char *socket_path, pid_t *supervisor)
{
	(void)socket_path;
	(void)supervisor;
	return false;
}

void shim_allow_tracer(pid_t supervisor)
{
	if (supervisor > 0)
		prctl(PR_SET_PTRACER, (unsigned long)supervisor, 0UL, 0UL, 0UL);
}
