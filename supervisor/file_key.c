/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "file_key.h"

#include <linux/magic.h>
#include <sys/statfs.h>

/* FAT keeps mtime in steps of two seconds. */
#define SETTLED_SECONDS 2

static bool is_older(const struct timespec *time, const struct timespec *now)
{
	return time->tv_sec < now->tv_sec - SETTLED_SECONDS;
}

bool file_key_is_settled(const struct stat *st)
{
	struct timespec now;

	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	return is_older(&st->st_mtim, &now) && is_older(&st->st_ctim, &now);
}

bool file_is_on_fuse(int fd)
{
	struct statfs fs;

	return fstatfs(fd, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC;
}
