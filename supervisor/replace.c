/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replacing a file through a temporary file and rename(2). The temporary
 * file gets a short name of its own, so that a path whose last component
 * is already NAME_MAX bytes long can still be replaced.
 */
#include "replace.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* The umask, which cannot be read without being set. */
static mode_t current_umask(void)
{
	mode_t mask = umask(022);

	umask(mask);
	return mask;
}

/*
 * Resolves path to the file that will be replaced: a symbolic link is
 * followed to its target, which must exist. Sets exists, mode and owner.
 */
static int resolve(struct replacement *replacement, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		int err = errno;

		if (err != ENOENT) {
			log_error_errno(err, "cannot use '%s' for the baseline",
					path);
			return -err;
		}
		replacement->path = strdup(path);
		replacement->mode = 0666 & ~current_umask();
		return replacement->path ? 0 : -ENOMEM;
	}
	if (S_ISLNK(st.st_mode)) {
		replacement->path = realpath(path, NULL);
		if (!replacement->path || stat(replacement->path, &st) < 0) {
			log_error("'%s' is a symbolic link to a missing file; "
				  "give the path of the file with -o",
				  path);
			return -EINVAL;
		}
	} else {
		replacement->path = strdup(path);
		if (!replacement->path)
			return -ENOMEM;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("'%s' is not a regular file; give the path of a file "
			  "for the baseline, or - for standard output",
			  path);
		return -EINVAL;
	}
	replacement->exists = true;
	replacement->mode = st.st_mode & 07777;
	replacement->uid = st.st_uid;
	replacement->gid = st.st_gid;
	return 0;
}

/*
 * In a sticky directory such as /tmp only the owner of a file, of the
 * directory or root may rename over it, and that would fail only once the
 * command has run.
 */
static int check_sticky(const struct replacement *replacement,
			const struct stat *directory)
{
	uid_t uid = geteuid();

	if (!replacement->exists || !(directory->st_mode & S_ISVTX) ||
	    uid == 0 || uid == replacement->uid || uid == directory->st_uid)
		return 0;
	log_error("cannot replace '%s': another user owns it in a sticky "
		  "directory; choose another file with -o",
		  replacement->path);
	return -EINVAL;
}

static int open_temporary(struct replacement *replacement)
{
	char *copy = strdup(replacement->path);
	const char *directory;
	struct stat st;
	int fd, err;

	if (!copy)
		return -ENOMEM;
	directory = dirname(copy);
	if (asprintf(&replacement->temporary, "%s/.nativemon-XXXXXX",
		     directory) < 0) {
		replacement->temporary = NULL;
		free(copy);
		return -ENOMEM;
	}
	replacement->directory =
		open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (replacement->directory < 0)
		return -errno;
	if (fstat(replacement->directory, &st) < 0)
		return -errno;
	err = check_sticky(replacement, &st);
	if (err < 0)
		return err;
	fd = mkostemp(replacement->temporary, O_CLOEXEC);
	if (fd < 0) {
		free(replacement->temporary);
		replacement->temporary = NULL;
		return -errno;
	}
	replacement->file = fdopen(fd, "w");
	if (!replacement->file) {
		close(fd);
		return -errno;
	}
	return 0;
}

int replacement_start(struct replacement *replacement, const char *path)
{
	int err;

	memset(replacement, 0, sizeof(*replacement));
	replacement->directory = -1;
	err = resolve(replacement, path);
	if (err == 0) {
		err = open_temporary(replacement);
		if (err < 0 && err != -EINVAL)
			log_error_errno(-err, "cannot create a file next to "
					      "'%s' for the baseline; choose a "
					      "writable directory with -o",
					replacement->path);
	}
	if (err < 0)
		replacement_abort(replacement);
	return err;
}

int replacement_lock(struct replacement *replacement)
{
	while (flock(replacement->directory, LOCK_EX) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Gives the new file the old one's mode and, where allowed, owner. */
static void copy_attributes(const struct replacement *replacement, int fd)
{
	if (replacement->exists && geteuid() == 0 &&
	    fchown(fd, replacement->uid, replacement->gid) < 0)
		log_warn_errno(errno, "cannot give '%s' its old owner",
			       replacement->path);
	if (fchmod(fd, replacement->mode) < 0)
		log_warn_errno(errno, "cannot give '%s' mode %04o",
			       replacement->path, (unsigned int)replacement->mode);
}

int replacement_finish(struct replacement *replacement)
{
	int err = 0;

	if (fflush(replacement->file) != 0)
		err = -errno;
	if (err == 0)
		copy_attributes(replacement, fileno(replacement->file));
	if (fclose(replacement->file) != 0 && err == 0)
		err = -errno;
	replacement->file = NULL;
	if (err == 0 && rename(replacement->temporary, replacement->path) < 0)
		err = -errno;
	if (err == 0) {
		free(replacement->temporary);
		replacement->temporary = NULL;
	}
	replacement_abort(replacement);
	return err;
}

void replacement_abort(struct replacement *replacement)
{
	if (replacement->file)
		fclose(replacement->file);
	if (replacement->temporary)
		unlink(replacement->temporary);
	if (replacement->directory >= 0)
		close(replacement->directory); /* and so unlocks it */
	free(replacement->temporary);
	free(replacement->path);
	memset(replacement, 0, sizeof(*replacement));
	replacement->directory = -1;
}
