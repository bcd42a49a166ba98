/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replacing a file as a whole. The new contents go to a temporary file in
 * the same directory, which is renamed over the old one once complete, so
 * readers see the old file or the new one and never a part. A symbolic
 * link is followed: the file it names is replaced and the link stays.
 */
#ifndef NATIVEMON_REPLACE_H
#define NATIVEMON_REPLACE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct replacement {
	char *path;	 /* the file replaced, symbolic links resolved */
	char *temporary; /* the file being written, NULL once gone */
	FILE *file;	 /* open on temporary */
	int directory;	 /* the directory of both, open for flock(2) */
	bool exists;	 /* path existed when the replacement started */
	mode_t mode;	 /* of the old file, or 0666 less the umask */
	uid_t uid;	 /* of the old file */
	gid_t gid;
};

/*
 * Starts replacing path: rejects a path that names something other than a
 * regular file (or a link to one) and creates the temporary file. Returns
 * 0, -EINVAL after logging why the path is not usable, or another negative
 * errno after logging the failure.
 */
int replacement_start(struct replacement *replacement, const char *path);

/*
 * Takes an exclusive lock on the directory, so that processes that replace
 * files there one after another do not lose each other's changes when each
 * reads the old file first. Waits for the lock. Returns 0 or -errno.
 */
int replacement_lock(struct replacement *replacement);

/*
 * Closes the temporary file and renames it over the path, with the old
 * file's mode and, for root, its owner. Returns 0 or -errno, after which
 * the path is as it was.
 */
int replacement_finish(struct replacement *replacement);

/* Removes the temporary file and leaves the path as it was. */
void replacement_abort(struct replacement *replacement);

#endif
