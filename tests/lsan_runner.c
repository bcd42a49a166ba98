/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LeakSanitizer hook linked into every Criterion test program. Criterion's
 * runner process leaves one allocation of its own at exit, which would fail
 * every program, so leak checking is off in the runner. The test workers,
 * which Criterion starts by executing this same program, keep it: their
 * reports land in the test logs, where .ci/run looks for them, because
 * Criterion ignores a worker's exit status once its test has reported.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Called by the sanitizer runtime at exit; unused in other builds. */
int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
	struct stat self, parent;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)getppid());
	if (stat("/proc/self/exe", &self) < 0 || stat(path, &parent) < 0)
		return 0;
	/* A worker's parent is the runner, which is this same program. */
	return self.st_dev != parent.st_dev || self.st_ino != parent.st_ino;
}
