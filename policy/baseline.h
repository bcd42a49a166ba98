/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Baselines: the policies that `nativemon learn` writes. A baseline has one
 * allow or log rule for each call site, module and program that learning
 * runs saw. A comment above each rule counts the sightings and names an
 * example process. Closing rules at the end raise an alert on (or deny)
 * everything else. Rules are sorted and grouped by the file they concern,
 * so the same sightings always give the same bytes, and merging adds the
 * counts up.
 */
#ifndef NATIVEMON_POLICY_BASELINE_H
#define NATIVEMON_POLICY_BASELINE_H

#include <stdio.h>

#include "policy/policy.h"

/* The ids of the rules that end every baseline start with this. */
#define BASELINE_ID_PREFIX "baseline-"

struct baseline;

/* Returns an empty baseline without a mode, or NULL without memory. */
struct baseline *baseline_new(void);
void baseline_free(struct baseline *baseline);

/*
 * Counts count sightings of the rule written as text, one statement of the
 * policy language such as policy_rule_format() writes, seen in the process
 * that example describes (NULL for none). Sightings of the same text add
 * up, and the example that sorts first is kept, so the order of the
 * sightings does not change the file. Returns 0 or -ENOMEM.
 */
int baseline_note(struct baseline *baseline, const char *text,
		  unsigned long count, const char *example);

/*
 * Notes every rule of from in baseline, with its count and example, as
 * baseline_note() does. Returns 0 or -ENOMEM.
 */
int baseline_merge(struct baseline *baseline, const struct baseline *from);

/*
 * Sets how the baseline ends: with alert rules for POLICY_MODE_UNSET, or
 * with deny rules after a `mode monitor` or `mode enforce` statement.
 */
void baseline_set_mode(struct baseline *baseline, enum policy_mode mode);
enum policy_mode baseline_mode(const struct baseline *baseline);

/* Returns the number of rules noted, before the closing rules. */
size_t baseline_rule_count(const struct baseline *baseline);

/* Returns the sum of the rules' sighting counts, saturating. */
unsigned long baseline_sighting_count(const struct baseline *baseline);

/*
 * Adds the rules of the baseline file at path with the counts and examples
 * of their comments. A baseline file contains allow and log rules, the
 * rules whose id starts with BASELINE_ID_PREFIX (which are written again
 * from the mode), comments and at most one mode. Anything else is a problem
 * reported as FILE:LINE, and so is a mode that differs from one loaded
 * before. Returns 0, -EINVAL after adding diagnostics, or -ENOMEM.
 */
int baseline_load_file(struct baseline *baseline, const char *path,
		       struct policy_diagnostics *diagnostics);

/*
 * Writes the baseline as a policy file to out, starting with the lines of
 * header (NULL-terminated, may be NULL) as comments. Returns 0, -EINVAL
 * after adding diagnostics when a noted text is not one allow or log rule
 * on one line, -ENOMEM, or -EIO when out failed.
 */
int baseline_write(struct baseline *baseline, const char *const *header,
		   FILE *out, struct policy_diagnostics *diagnostics);

/*
 * Writes the rules and the mode that new adds to old with a leading '+',
 * and those it no longer has with a leading '-', grouped as
 * baseline_write() groups them. Returns the number of changes (one for
 * each rule added or removed, and one for a changed mode, which may take
 * two lines), -EINVAL after adding diagnostics, -ENOMEM, or -EIO when out
 * failed.
 */
long baseline_diff(struct baseline *old, struct baseline *new, FILE *out,
		   struct policy_diagnostics *diagnostics);

#endif
