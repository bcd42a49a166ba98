/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loads libm.so.6 into a new link-map namespace with dlmopen() and exits
 * with 0, or prints dlerror() and exits with 1.
 */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
	void *handle = dlmopen(LM_ID_NEWLM, "libm.so.6", RTLD_NOW);

	if (!handle) {
		fprintf(stderr, "dlmopen_load: %s\n", dlerror());
		return 1;
	}
	return 0;
}
