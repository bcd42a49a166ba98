/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ECS records for findings: the JSON object, the fold key that identifies
 * repeats of the same event, and the one-line summary for stderr.
 */
#ifndef NATIVEMON_RECORD_H
#define NATIVEMON_RECORD_H

#include "call.h"

/*
 * Reads from /proc the caller's facts that records contain beyond
 * call->ids: its working directory, the executable of a parent outside
 * its lineage, and its command line. A parent that is the supervisor
 * itself is named from table without a read. Call it while the caller
 * waits.
 */
void record_read_facts(struct call *call, const struct proc_table *table);

/*
 * Fills finding->summary and returns a draft of the finding's record for
 * the event sink, which builds the record on its writer thread. The draft
 * copies from the call, the facts read for records and the rule that
 * matched, and takes over the finding's argv. Reads nothing from /proc, so
 * it may run after the response. Returns NULL without memory, and the
 * record is then lost.
 */
struct event_draft *record_draft_new(const struct call *call,
				     struct finding *finding);

/*
 * Fills finding->fold_key, the identity of repeats of this event; leaves
 * it empty for events that are never folded.
 */
void record_fold_key(const struct call *call, struct finding *finding);

/* Returns the name of a verdict as nativemon.verdict writes it. */
const char *record_verdict_name(enum call_verdict verdict);

#endif
