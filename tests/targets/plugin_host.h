/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interfaces between plugin_host, libplugin_host.so and its plugins. */
#ifndef NATIVEMON_TESTS_PLUGIN_HOST_H
#define NATIVEMON_TESTS_PLUGIN_HOST_H

/*
 * Loads the plugins as libplugin_host.so's own code and prints one line
 * per load, "loaded NAME" or "failed NAME: DLERROR". Returns the number
 * of failed loads.
 */
int plugin_host_load_all(void);

/* The value plugin_dep_answer() returns. */
#define PLUGIN_DEP_ANSWER 42

/*
 * Exported by plugins/libplugin.so: loads "$ORIGIN/libplugin_dep.so" from
 * the plugin's own code, so $ORIGIN is the plugins directory. Returns
 * plugin_dep_answer() of the library loaded, or -1 if the load failed.
 */
int plugin_load_sibling(void);

/* Exported by plugins/libplugin_dep.so. */
int plugin_dep_answer(void);

#endif
