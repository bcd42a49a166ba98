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
 * The objects of stack frames that recent records contained, which later
 * records with the same frames share instead of building them again.
 * Belongs to the thread that builds records.
 */
struct record_frames;

/* Returns an empty set of shared frames, or NULL without memory. */
struct record_frames *record_frames_new(void);
void record_frames_free(struct record_frames *shared);

/*
 * Fills finding->record and summary from the call, the facts read for
 * records and the rule that matched, sharing frame objects through shared
 * unless it is NULL. Reads nothing from /proc, so it may run after the
 * response. On allocation failure finding->record stays NULL and the
 * finding is dropped.
 */
void record_build(const struct call *call, struct finding *finding,
		  struct record_frames *shared);

/*
 * Fills finding->fold_key, the identity of repeats of this event; leaves
 * it empty for events that are never folded.
 */
void record_fold_key(const struct call *call, struct finding *finding);

/* Returns the name of a verdict as nativemon.verdict writes it. */
const char *record_verdict_name(enum call_verdict verdict);

#endif
