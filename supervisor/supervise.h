/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The steps that the event loops of `nativemon run` and `nativemon serve`
 * share: building the filter, opening and closing the event sink, starting the
 * monitor with the policy's mode, and the periodic upkeep between
 * notifications.
 */
#ifndef NATIVEMON_SUPERVISE_H
#define NATIVEMON_SUPERVISE_H

#include <stdbool.h>
#include <time.h>

#include "event.h"
#include "filter.h"
#include "monitor.h"
#include "policy/policy.h"

/* How often the process table drops entries of processes that exited. */
#define SUPERVISE_SWEEP_INTERVAL_MS 10000

/*
 * Builds the seccomp filter of the policy as filter_build() does and logs
 * a failure, naming the watch that libseccomp rejected. Returns 0 or a
 * negative errno.
 */
int supervise_filter_build(const struct policy *policy,
			   struct filter_program *program);

/*
 * Opens the event sink as event_sink_new() does and logs a failure.
 * Returns 0 or a negative errno.
 */
int supervise_sink_open(struct event_sink **sink, const char *log_path,
			bool quiet);

/*
 * Writes the pending folded records, warns of any records lost on the way
 * to log_path, and frees the sink. Accepts NULL.
 */
void supervise_sink_close(struct event_sink *sink, const char *log_path);

/*
 * Initializes the monitor, sets mode unless it is POLICY_MODE_UNSET, and
 * logs the policy's size and the effective mode. Logs a failure. Returns 0
 * or a negative errno.
 */
int supervise_monitor_init(struct monitor *monitor, const struct policy *policy,
			   enum policy_mode mode, struct event_sink *sink);

/* When the upkeep last swept the process table. */
struct supervise_upkeep {
	struct timespec last_sweep;
};

void supervise_upkeep_init(struct supervise_upkeep *upkeep);

/*
 * Returns the poll(2) timeout in milliseconds until the next upkeep is
 * due: the next folded record to write, at most the sweep interval.
 */
int supervise_upkeep_timeout_ms(const struct event_sink *sink);

/*
 * Writes the folded records whose window has closed, and drops the
 * process table's entries of exited processes when proc_table_needs_sweep()
 * returns true. Once per sweep interval it also sweeps and returns freed memory
 * to the system. Call after each poll(2).
 */
void supervise_upkeep_run(struct supervise_upkeep *upkeep,
			  struct monitor *monitor, struct event_sink *sink);

/*
 * Raises the soft limit on open descriptors to the hard limit. The process
 * table keeps a pidfd and a /proc file open for each live thread, and a
 * server keeps a listener for each session. A thread whose files cannot be
 * opened goes unchecked. `nativemon run` calls this once the command has
 * started, so that the command keeps the limit it was given.
 */
void supervise_raise_descriptor_limit(void);

/* Warns of failed notification responses and of calls left unchecked. */
void supervise_report_failures(const struct monitor *monitor);

#endif
