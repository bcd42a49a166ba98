/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plugins/libplugin.so: loaded by libplugin_host.so through
 * "$ORIGIN/plugins/libplugin.so". Its own load of a sibling resolves
 * $ORIGIN to the plugins directory, not to the program's.
 */
#include <dlfcn.h>
#include <stddef.h>

#include "plugin_host.h"

int plugin_load_sibling(void)
{
	/*
	 * The call to dlopen() must not be a tail call: the loader would
	 * then take the return address into libplugin_host.so as the
	 * caller's.
	 */
	void *handle = dlopen("$ORIGIN/libplugin_dep.so", RTLD_NOW);
	int (*answer)(void);

	if (!handle)
		return -1;
	answer = (int (*)(void))dlsym(handle, "plugin_dep_answer");
	return answer ? answer() : -1;
}
