/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Security events: ECS-shaped JSON records built with jansson, written as
 * JSON Lines to the log file, with one short human line per alert on
 * stderr. Identical records that repeat within a second are folded into
 * one record, and its nativemon.count is the number of calls it covers.
 */
#ifndef NATIVEMON_EVENT_H
#define NATIVEMON_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* How long identical records are folded after the first is written. */
#define EVENT_FOLD_WINDOW_MS 1000

struct event_sink;

/*
 * Opens the sink. log_path NULL writes no JSON; quiet drops the stderr
 * lines. Returns 0 or a negative errno from opening log_path.
 */
int event_sink_new(struct event_sink **sink, const char *log_path, bool quiet);

/* Writes every folded record still pending, then frees the sink. */
void event_sink_free(struct event_sink *sink);

/*
 * A record that the writer thread builds. The emitter copies the record's
 * contents into a draft and hands it over. The writer builds the JSON,
 * writes it and frees the draft. Building a record took a fifth of the
 * supervisor's time per alert, and the caller's next syscall waited for
 * it. Embed the draft in a structure of your own.
 */
struct event_draft {
	/*
	 * Returns the record, or NULL without memory. Runs on the writer
	 * thread, so it may read only the draft and data that no thread
	 * changes.
	 */
	json_t *(*build)(const struct event_draft *draft);
	void (*free)(struct event_draft *draft);
	/* Only the writer uses this: the record built, for a later count. */
	json_t *record;
};

/*
 * Takes ownership of draft, which the caller must not touch afterwards: a
 * writer thread builds and writes its record a little later. With a
 * fold_key, a record equal to one written less than EVENT_FOLD_WINDOW_MS
 * ago only increments that record's pending count. summary, if not NULL,
 * is printed on stderr after sanitizing.
 */
void event_sink_emit(struct event_sink *sink, struct event_draft *draft,
		     const char *fold_key, const char *summary);

/* Returns true while the fold window of fold_key is open. */
bool event_sink_is_folding(const struct event_sink *sink, const char *fold_key);

/*
 * Counts one more occurrence into the open fold window of fold_key, which
 * spares building a record that would only be folded. Returns false when
 * no window of that key is open.
 */
bool event_sink_fold(struct event_sink *sink, const char *fold_key);

/* Writes every folded record still pending. */
void event_sink_flush_all(struct event_sink *sink);

/*
 * Writes the folded records whose window has closed, and wakes the writer
 * for records that have waited for it long enough.
 */
void event_sink_flush_expired(struct event_sink *sink);

/*
 * Returns milliseconds until the next window closes or the writer is due,
 * or -1 for neither.
 */
int event_sink_next_flush_ms(const struct event_sink *sink);

/*
 * Returns the number of records the sink failed to write, once the records
 * handed to it so far are written.
 */
unsigned long event_sink_lost(struct event_sink *sink);

/* Waits until every record handed to the sink so far is in the log. */
void event_sink_sync(struct event_sink *sink);

/*
 * Returns a JSON string for bytes taken from a target. Valid UTF-8 is kept
 * as is. Otherwise each invalid byte becomes the text \xNN and each
 * backslash is doubled, so the output is valid UTF-8. Records list such
 * fields in nativemon.escaped, which makes the escaping reversible.
 * Returns NULL only when out of memory.
 */
json_t *event_text(const char *bytes, size_t length);

/*
 * Returns the bytes escaped as event_text() escapes invalid UTF-8, also
 * when they are valid, so that every string of a field listed in
 * nativemon.escaped reads the same way. Returns NULL without memory.
 */
json_t *event_text_escaped(const char *bytes, size_t length);

/* Returns true if event_text() escapes these bytes (not valid UTF-8). */
bool event_text_needs_escape(const char *bytes, size_t length);

/*
 * Writes bytes into out (of size out_size, NUL-terminated) for a terminal:
 * control characters and invalid UTF-8 become \xNN. Truncates silently.
 */
void event_text_for_terminal(const char *bytes, size_t length, char *out,
			     size_t out_size);

/* Formats an RFC 3339 UTC time with microseconds into out[32]. */
void event_format_time(const struct timespec *time, char out[32]);

/*
 * Sets value (taking ownership) at a dotted path such as "process.parent.pid",
 * creating the intermediate objects. Returns 0 or -ENOMEM.
 */
int event_set(json_t *record, const char *dotted_path, json_t *value);

#endif
