/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The program of the $ORIGIN plugin test. It lets libplugin_host.so, which
 * it finds through its own DT_RUNPATH $ORIGIN, load the plugins, and exits
 * with 0 only if every load succeeded.
 */
#include "plugin_host.h"

int main(void)
{
	return plugin_host_load_all() == 0 ? 0 : 1;
}
