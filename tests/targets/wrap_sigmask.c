/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target for the signal mask test. It prints the SigBlk line of
 * /proc/self/status, which is the mask it started with because it changes
 * no mask itself.
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
	FILE *status = fopen("/proc/self/status", "r");
	char line[256];

	if (!status) {
		perror("wrap_sigmask: /proc/self/status");
		return 2;
	}
	while (fgets(line, sizeof(line), status)) {
		if (strncmp(line, "SigBlk:", 7) == 0) {
			fputs(line, stdout);
			fclose(status);
			return 0;
		}
	}
	fclose(status);
	fprintf(stderr, "wrap_sigmask: no SigBlk line in /proc/self/status\n");
	return 2;
}
