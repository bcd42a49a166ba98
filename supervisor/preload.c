/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shim's path, found once at start-up. An uninstalled nativemon sits
 * at the top of its build tree, with the shim it was built with under
 * preload/; an installed one finds the shim in the package's library
 * directory.
 */
#include "preload.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define SHIM_NAME "libnativemon.so"

static char shim_path[PATH_MAX];

/* Copies the directory of nativemon's own executable into buffer. */
static bool own_directory(char *buffer, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buffer, size - 1);
	char *slash;

	if (n <= 0)
		return false;
	buffer[n] = '\0';
	slash = strrchr(buffer, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

/* ld.so splits LD_PRELOAD at spaces and colons. */
static bool fits_ld_preload(const char *path)
{
	return strpbrk(path, " :\t\n") == NULL;
}

const char *preload_find_shim(void)
{
	char directory[PATH_MAX], candidate[PATH_MAX];
	int n = -1;

	if (own_directory(directory, sizeof(directory)))
		n = snprintf(candidate, sizeof(candidate),
			     "%s/preload/" SHIM_NAME, directory);
	if (n < 0 || (size_t)n >= sizeof(candidate) ||
	    access(candidate, R_OK) != 0)
		snprintf(candidate, sizeof(candidate), "%s/" SHIM_NAME,
			 NATIVEMON_PKGLIBDIR);
	/*
	 * The resolved path is the one /proc/PID/maps shows, which the
	 * supervisor compares frames with.
	 */
	if (!realpath(candidate, shim_path) || access(shim_path, R_OK) != 0) {
		log_warn_errno(errno, "cannot use the preload shim '%s', so "
				      "dlopen calls are not attributed and "
				      "signals may interrupt watched calls; "
				      "install nativemon with 'make install'",
			       candidate);
		return NULL;
	}
	if (!fits_ld_preload(shim_path)) {
		log_warn("the preload shim's path '%s' contains a space or a "
			 "colon, which LD_PRELOAD cannot hold; install "
			 "nativemon under another prefix", shim_path);
		return NULL;
	}
	return shim_path;
}

/* Returns true if list, split like ld.so splits it, contains path. */
static bool lists(const char *list, const char *path)
{
	size_t length = strlen(path);

	while (*list) {
		size_t n = strcspn(list, " :");

		if (n == length && strncmp(list, path, n) == 0)
			return true;
		list += n;
		list += strspn(list, " :");
	}
	return false;
}

int preload_export(const char *shim)
{
	const char *current = getenv("LD_PRELOAD");
	char *value;
	int err;

	if (!current || !*current)
		return setenv("LD_PRELOAD", shim, 1) < 0 ? -errno : 0;
	if (lists(current, shim))
		return 0;
	if (asprintf(&value, "%s:%s", current, shim) < 0)
		return -ENOMEM;
	err = setenv("LD_PRELOAD", value, 1) < 0 ? -errno : 0;
	free(value);
	return err;
}
