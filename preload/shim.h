/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal interfaces of the preload shim. Nothing here is exported from
 * libnativemon.so: the version script exports the interposed functions
 * only.
 */
#ifndef NATIVEMON_PRELOAD_SHIM_H
#define NATIVEMON_PRELOAD_SHIM_H

#include <stdbool.h>
#include <sys/types.h>

/* Environment variables the shim reads. */
#define SHIM_ENV_SOCKET "NATIVEMON_SOCKET"	   /* attach to this server */
#define SHIM_ENV_REQUIRED "NATIVEMON_REQUIRED"	   /* "1": no server, no start */
#define SHIM_ENV_TIMEOUT "NATIVEMON_TIMEOUT_MS"   /* bound of each wait */

/* How long each step of an attach waits for the server by default. */
#define SHIM_TIMEOUT_DEFAULT_MS 2000

/*
 * Exit status of a process that NATIVEMON_REQUIRED=1 stops because it
 * could not attach: 125, as `nativemon run` exits when it cannot start
 * the command under its filter.
 */
#define SHIM_EXIT_REQUIRED 125

/*
 * Attaches the calling process to `nativemon serve` listening at
 * socket_path (attach.c): installs the filter the server sends, hands the
 * listener over and waits for the acknowledgement, each wait bounded by
 * NATIVEMON_TIMEOUT_MS. Returns true once the server serves the process,
 * with *supervisor set to the server's pid. Otherwise writes one warning
 * on stderr and returns false: the process runs unmonitored, unless the
 * failure came after the listener was sent, when the filter stays
 * installed and the warning states it. With NATIVEMON_REQUIRED=1 it exits
 * the process with SHIM_EXIT_REQUIRED and a message instead. An invalid
 * NATIVEMON_TIMEOUT_MS adds a warning of its own.
 */
bool shim_attach(const char *socket_path, pid_t *supervisor);

/*
 * Allows the supervisor to read this process's memory and /proc files
 * where Yama restricts ptrace to ancestors (attach.c). A no-op for pid 0.
 */
void shim_allow_tracer(pid_t supervisor);

#endif
