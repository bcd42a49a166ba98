/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The baseline object, shared by baseline.c, which notes and loads rules,
 * and baseline_write.c, which sorts, writes and compares them.
 */
#ifndef NATIVEMON_POLICY_BASELINE_INTERNAL_H
#define NATIVEMON_POLICY_BASELINE_INTERNAL_H

#include "policy/baseline.h"
#include "policy/internal.h"

struct baseline_entry {
	char *text; /* one statement, without a line break */
	unsigned long count;
	char *example;			/* NULL for none */
	const struct policy_rule *rule; /* set while writing or comparing */
};

struct baseline {
	struct baseline_entry *entries;
	size_t count, capacity;
	struct string_map index; /* text to entry index */
	enum policy_mode mode;
	char *mode_file; /* where the mode was set, for messages */
	unsigned int mode_line;
	struct policy *parsed; /* the entries' rules, see parse_entries() */
};

/*
 * Appends a diagnostic at line of file and returns -EINVAL, or -ENOMEM.
 */
int baseline_report(struct policy_diagnostics *diagnostics, const char *file,
		    unsigned int line, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Replaces each entry's text with its rule's written form, merges the
 * entries that then have the same text, and links each entry to its rule
 * in baseline->parsed. Returns 0, -EINVAL after adding diagnostics, or
 * -ENOMEM.
 */
int baseline_canonicalize(struct baseline *baseline,
			  struct policy_diagnostics *diagnostics);

#endif
