/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's core: for each notification on the listener, find the
 * caller and the origin of its syscall instruction, derive the events the
 * policy judges, respond to the notification, and hand records to the
 * sink.
 */
#ifndef NATIVEMON_MONITOR_H
#define NATIVEMON_MONITOR_H

#include "call.h"
#include "digest.h"
#include "event.h"
#include "policy/baseline.h"
#include "notify.h"
#include "policy/policy.h"
#include "proc.h"
#include "profile.h"
#include "program.h"
#include "unwind.h"

/* 64 KiB of stack, as much as one unwind reads by default. */
#define STACK_SCAN_WORDS (64 * 1024 / 8)

struct monitor {
	const struct policy *policy;
	enum policy_mode mode; /* the policy's, unless the caller overrides */
	unsigned int needs;    /* POLICY_NEEDS_* facts read for each call */
	struct baseline *learning; /* NULL unless `nativemon learn` runs */
	/* NULL unless `nativemon learn --all-syscalls` runs */
	struct syscall_profile *profile;
	bool profile_failed; /* a count was lost for want of memory */
	pid_t launcher;	/* nativemon's child that execs the command, or 0 */
	char *own_exe;	/* nativemon's executable, as /proc shows it */
	struct event_sink *sink;
	struct proc_table processes;
	struct module_cache *modules; /* unwind tables and symbols */
	struct digest_cache *digests; /* of files reported as module loads */
	struct program_cache programs; /* static checks of executed programs */
	uint64_t *stack_words;	      /* STACK_SCAN_WORDS, see monitor.c */
	struct unwinder *unwinder;
	struct notify_buffers buffers;
	struct call call; /* of the notification being handled */
	unsigned long notifications;
	unsigned long answer_errors;
	unsigned long untracked; /* calls let through for want of resources */
};

/* Takes no ownership of policy or sink. Returns 0 or -errno. */
int monitor_init(struct monitor *monitor, const struct policy *policy,
		 struct event_sink *sink);
void monitor_fini(struct monitor *monitor);

/*
 * Names nativemon's child that installed the filter and now execs the
 * command. Its exec calls are nativemon's own, so they raise no native-api
 * finding, because that would tie baselines to nativemon's build. The exec
 * finding of the command stays. Returns 0 or -errno.
 */
int monitor_set_launcher(struct monitor *monitor, pid_t pid);

/*
 * Makes the monitor note every finding in baseline (see learn_note()) and
 * carry out no deny or kill rule, which it then reports as would-deny or
 * would-kill. Takes no ownership of baseline.
 */
void monitor_learn(struct monitor *monitor, struct baseline *baseline);

/*
 * Makes the monitor count every call in profile by the module that made it
 * (the file of the first caller frame outside libc and the loader) and
 * syscall, for a filter of filter_build_all(). Calls that the policy's
 * watch set would not have routed to the supervisor are only counted and
 * then allowed, so they yield no findings and match no rules. Takes no
 * ownership of profile.
 */
void monitor_profile(struct monitor *monitor, struct syscall_profile *profile);

/*
 * Receives one notification from listener, responds to it exactly once
 * (denying the call or killing the caller when a rule requires it and the
 * mode is enforce) and emits its events, marked with session when it is
 * not 0.
 * Returns 0, including when the target died meanwhile, or a negative errno
 * when the listener itself failed.
 */
int monitor_handle_one(struct monitor *monitor, int listener,
		       unsigned long session);

#endif
