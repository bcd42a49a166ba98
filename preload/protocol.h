/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the preload shim and the supervisor tell each other. The shim
 * includes this header and nothing else of nativemon.
 *
 * Reports. The shim calls
 *
 *	prctl(NATIVEMON_PRCTL, op, &report, sizeof(report), 0)
 *
 * The filter sends that call to the supervisor, which reads the report
 * from the caller's memory and responds without running the prctl. It
 * responds to HELLO with the pid the shim should allow to trace it (0
 * when the supervisor is an ancestor and needs no such permission), and
 * to the other reports with 0.
 * Without a supervisor the kernel answers: EINVAL where no filter of
 * nativemon is installed (the option is unknown to prctl), ENOSYS where
 * one is but its listener is gone. A success therefore means "monitored".
 *
 * Reports are attribution only. The process writes them and can forge
 * them, so nothing that denies or kills depends on them.
 *
 * Attach. A process started with NATIVEMON_SOCKET=PATH connects to
 * `nativemon serve` over a SOCK_SEQPACKET unix socket and:
 *	1. receives a struct nativemon_attach_offer followed by the filter's
 *	   instructions (struct sock_filter) in one message;
 *	2. installs that filter and sends a struct nativemon_attach_hand_off
 *	   with the listener as SCM_RIGHTS;
 *	3. waits for one byte, NATIVEMON_ATTACH_ACK, sent once the server
 *	   serves the listener.
 * Each side checks the other's credentials (SO_PEERCRED) first.
 */
#ifndef NATIVEMON_PRELOAD_PROTOCOL_H
#define NATIVEMON_PRELOAD_PROTOCOL_H

#include <stdint.h>

/* "nmon": far from every option prctl(2) defines. */
#define NATIVEMON_PRCTL 0x6e6d6f6e

#define NATIVEMON_PROTOCOL_VERSION 1

enum nativemon_report_op {
	NATIVEMON_REPORT_HELLO = 1,	   /* the shim's constructor ran */
	NATIVEMON_REPORT_DLOPEN_BEGIN = 2, /* dlopen or dlmopen was called */
	NATIVEMON_REPORT_DLOPEN_END = 3,   /* and returned */
};

enum nativemon_load_kind {
	NATIVEMON_LOAD_DLOPEN = 0,
	NATIVEMON_LOAD_DLMOPEN = 1,
};

/* dlopen() takes no namespace: the caller's applies. */
#define NATIVEMON_NAMESPACE_CALLER (-2)

struct nativemon_report {
	uint32_t version; /* NATIVEMON_PROTOCOL_VERSION */
	uint32_t op;	  /* enum nativemon_report_op */
	/*
	 * BEGIN: address of the requested file name, 0 for NULL.
	 * END: address of the path of the loaded object, 0 on failure.
	 * Both are NUL-terminated strings in the reporting process.
	 */
	uint64_t name;
	uint64_t caller; /* BEGIN: return address of the call to dlopen */
	uint64_t handle; /* END: the handle returned, 0 on failure */
	/*
	 * BEGIN: dlmopen's namespace argument, or NATIVEMON_NAMESPACE_CALLER.
	 * END: the namespace the object was loaded into, -1 if unknown.
	 */
	int64_t namespace_id;
	int32_t flags; /* the mode argument */
	uint32_t kind; /* enum nativemon_load_kind */
};

/* Step 1, server to shim. error is 0 or why the server refuses. */
struct nativemon_attach_offer {
	uint32_t version;
	int32_t error;	 /* an errno value; EACCES: credentials refused */
	uint32_t length; /* instructions following this header */
	uint32_t reserved;
};

/* Step 2, shim to server. error is 0 with the listener attached. */
struct nativemon_attach_hand_off {
	uint32_t version;
	int32_t error;		 /* an errno value from installing the filter */
	uint32_t killable_recv;	 /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV set */
	uint32_t no_new_privs;	 /* no_new_privs had to be set */
};

#define NATIVEMON_ATTACH_ACK 'A'

#endif
