/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding the preload shim, libnativemon.so, and handing it to the
 * programs nativemon starts through LD_PRELOAD.
 */
#ifndef NATIVEMON_PRELOAD_H
#define NATIVEMON_PRELOAD_H

/*
 * Returns the path of the shim: the one next to nativemon in its build
 * tree when nativemon runs uninstalled, else the installed one. Returns
 * NULL, after one warning, when neither exists or LD_PRELOAD cannot
 * contain the path. The string is static.
 */
const char *preload_find_shim(void);

/*
 * Appends shim to LD_PRELOAD in nativemon's environment, which the
 * command inherits, unless it is listed already. Returns 0 or -ENOMEM.
 */
int preload_export(const char *shim);

#endif
