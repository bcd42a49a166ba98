/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pieces of the supervisor's event loop that `nativemon run` and
 * `nativemon serve` share, so that both open the event sink, report the
 * policy and keep the process table small the same way.
 */
#include "supervise.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"

int supervise_filter_build(const struct policy *policy,
			   struct filter_program *program)
{
	const struct policy_watch *bad_watch;
	int err = filter_build(policy, program, &bad_watch);

	if (err < 0)
		log_error_errno(-err, "cannot build the seccomp filter%s%s",
				bad_watch ? " for syscall " : "",
				bad_watch ? bad_watch->syscall : "");
	return err;
}

int supervise_sink_open(struct event_sink **sink, const char *log_path,
			bool quiet)
{
	int err = event_sink_new(sink, log_path, quiet);

	if (err < 0)
		log_error_errno(-err, "cannot open the event log '%s'",
				log_path);
	return err;
}

void supervise_sink_close(struct event_sink *sink, const char *log_path)
{
	unsigned long lost;

	if (!sink)
		return;
	event_sink_flush_all(sink);
	lost = event_sink_lost(sink);
	/* A folded record that is lost counts once, whatever its count. */
	if (lost > 0)
		log_warn("%lu %s could not be written to '%s'", lost,
			 lost == 1 ? "record" : "records", log_path);
	event_sink_free(sink);
}

int supervise_monitor_init(struct monitor *monitor, const struct policy *policy,
			   enum policy_mode mode, struct event_sink *sink)
{
	int err = monitor_init(monitor, policy, sink);

	if (err < 0) {
		log_error_errno(-err, "cannot set up the supervisor");
		return err;
	}
	if (mode != POLICY_MODE_UNSET)
		monitor->mode = mode;
	log_info("policy: %zu rules, %zu watches, mode %s", policy->rule_count,
		 policy->watch_count, policy_mode_name(monitor->mode));
	return 0;
}

void supervise_upkeep_init(struct supervise_upkeep *upkeep)
{
	clock_gettime(CLOCK_MONOTONIC, &upkeep->last_sweep);
}

int supervise_upkeep_timeout_ms(const struct event_sink *sink)
{
	int flush = event_sink_next_flush_ms(sink);

	return flush >= 0 && flush < SUPERVISE_SWEEP_INTERVAL_MS
		       ? flush
		       : SUPERVISE_SWEEP_INTERVAL_MS;
}

void supervise_upkeep_run(struct supervise_upkeep *upkeep,
			  struct monitor *monitor, struct event_sink *sink)
{
	struct timespec now;

	event_sink_flush_expired(sink);
	if (proc_table_needs_sweep(&monitor->processes))
		proc_table_sweep(&monitor->processes);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - upkeep->last_sweep.tv_sec <
	    SUPERVISE_SWEEP_INTERVAL_MS / 1000)
		return;
	proc_table_sweep(&monitor->processes);
	/*
	 * After a burst of short-lived processes the freed entries would
	 * otherwise stay in nativemon's RSS.
	 */
	malloc_trim(0);
	upkeep->last_sweep = now;
}

void supervise_raise_descriptor_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0 ||
	    limit.rlim_cur == limit.rlim_max)
		return;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
		log_debug("cannot raise the descriptor limit: %s",
			  strerror(errno));
}

void supervise_report_failures(const struct monitor *monitor)
{
	if (monitor->answer_errors)
		log_warn("%lu notification responses failed",
			 monitor->answer_errors);
	if (monitor->untracked)
		log_warn("%lu watched calls went unchecked because nativemon "
			 "could not track their threads; the first warning "
			 "names the cause",
			 monitor->untracked);
}
