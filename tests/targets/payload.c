/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A harmless shared library that load_module copies to suspicious places
 * and loads. Its one function lets the loader check that the right code
 * was mapped.
 */

int nm_payload_answer(void);

int nm_payload_answer(void)
{
	return 42;
}
