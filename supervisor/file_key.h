/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The identity of a file's content as the caches of nativemon key it:
 * device and inode name the file, and size, mtime and ctime change when
 * it is written. A write of the same size in the same clock tick as the
 * change before it keeps the key, so caches keep only what they read from
 * files whose key is settled.
 */
#ifndef NATIVEMON_FILE_KEY_H
#define NATIVEMON_FILE_KEY_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct file_key {
	dev_t dev;
	ino_t inode;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
};

static inline void file_key_from_stat(struct file_key *key,
				      const struct stat *st)
{
	key->dev = st->st_dev;
	key->inode = st->st_ino;
	key->size = st->st_size;
	key->mtime = st->st_mtim;
	key->ctime = st->st_ctim;
}

static inline int file_key_compare_time(const struct timespec *a,
					const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/* Orders keys for a search tree; 0 means the same content. */
static inline int file_key_compare(const struct file_key *a,
				   const struct file_key *b)
{
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->inode != b->inode)
		return a->inode < b->inode ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (file_key_compare_time(&a->mtime, &b->mtime) != 0)
		return file_key_compare_time(&a->mtime, &b->mtime);
	return file_key_compare_time(&a->ctime, &b->ctime);
}

/*
 * Returns true if facts read now from the file that st describes may be
 * kept under its key. Its ctime must lie far enough back that a later
 * change gets another one, however coarse the timestamps. git treats
 * "racily clean" index entries the same way. The margin is 20 ms for a
 * ctime with nanoseconds and two seconds for one without. Only ctime
 * counts, because utimensat(2) sets mtime to anything but ctime to the
 * present.
 * NOTE: writes through a shared writable mapping to pages that are
 * already dirty change a file's content without its ctime, and so do
 * writes to the block device under it. Only a read of the content would
 * show them.
 */
bool file_key_is_settled(const struct stat *st);

/* Returns true if the file open at fd is on a FUSE file system. */
bool file_is_on_fuse(int fd);

#endif
