/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libplugin_host.so, whose DT_RUNPATH is $ORIGIN/plugins. The loader
 * expands $ORIGIN and searches DT_RUNPATH of the module that called
 * dlopen(), so each load below succeeds only if the loader takes this
 * library, and then the plugin, as the caller. The program's own
 * DT_RUNPATH ($ORIGIN) does not lead to the plugins.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "plugin_host.h"

static int report_load(const char *name, void *handle)
{
	if (!handle) {
		printf("failed %s: %s\n", name, dlerror());
		return 1;
	}
	printf("loaded %s\n", name);
	return 0;
}

/* Lets the plugin load its sibling; returns 1 if that failed. */
static int load_sibling(void *plugin)
{
	const char *name = "$ORIGIN/libplugin_dep.so from the plugin";
	int (*load)(void);

	load = (int (*)(void))dlsym(plugin, "plugin_load_sibling");
	if (!load) {
		printf("failed %s: %s\n", name, dlerror());
		return 1;
	}
	if (load() != PLUGIN_DEP_ANSWER) {
		printf("failed %s: %s\n", name, dlerror());
		return 1;
	}
	printf("loaded %s\n", name);
	return 0;
}

int plugin_host_load_all(void)
{
	void *plugin, *dep;
	int failures = 0;

	plugin = dlopen("$ORIGIN/plugins/libplugin.so", RTLD_NOW);
	failures += report_load("$ORIGIN/plugins/libplugin.so", plugin);
	dep = dlopen("libplugin_dep.so", RTLD_NOW);
	failures += report_load("libplugin_dep.so", dep);
	if (plugin)
		failures += load_sibling(plugin);
	else
		failures++;
	fflush(stdout);
	return failures;
}
