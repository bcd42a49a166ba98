/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plugins/libplugin_dep.so: found only through libplugin_host.so's
 * DT_RUNPATH or the plugin's $ORIGIN.
 */
#include "plugin_host.h"

int plugin_dep_answer(void)
{
	return PLUGIN_DEP_ANSWER;
}
