/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "file_key.h"

#include <linux/magic.h>
#include <stdint.h>
#include <sys/statfs.h>

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

/*
 * A change stamps ctime from the kernel's coarse clock, which moves in
 * steps of one jiffy: 10 ms at the slowest (HZ=100). File systems that
 * keep whole seconds, such as ext4 with 128-byte inodes, or steps of two,
 * such as FAT, leave the nanoseconds 0.
 */
#define FINE_MARGIN_NS (20 * NS_PER_MS)
#define COARSE_MARGIN_NS (2 * NS_PER_S)

bool file_key_is_settled(const struct stat *st)
{
	const struct timespec *change = &st->st_ctim;
	int64_t age_ns, margin_ns;
	struct timespec now;

	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	age_ns = ((int64_t)now.tv_sec - change->tv_sec) * NS_PER_S +
		 (now.tv_nsec - change->tv_nsec);
	margin_ns = change->tv_nsec != 0 ? FINE_MARGIN_NS : COARSE_MARGIN_NS;
	return age_ns >= margin_ns;
}

bool file_is_on_fuse(int fd)
{
	struct statfs fs;

	return fstatfs(fd, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC;
}
