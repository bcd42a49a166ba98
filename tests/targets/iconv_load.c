/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Converts a string from ISO-8859-15 to UTF-16 with iconv(3). glibc keeps
 * both charsets in gconv modules (ISO8859-15.so, UTF-16.so) that its own
 * loader maps through __libc_dlopen_mode, which bypasses dlopen() and so
 * every dlopen() interposer. Exits with 0, or with 1 after a message.
 */
#include <iconv.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	/* "Euro: €" in ISO-8859-15, where 0xa4 is the euro sign. */
	char input[] = "Euro: \xa4";
	char output[64];
	char *in = input, *out = output;
	size_t in_left = strlen(input), out_left = sizeof(output);
	iconv_t converter = iconv_open("UTF-16", "ISO-8859-15");

	if (converter == (iconv_t)-1) {
		perror("iconv_load: iconv_open");
		return 1;
	}
	if (iconv(converter, &in, &in_left, &out, &out_left) == (size_t)-1) {
		perror("iconv_load: iconv");
		return 1;
	}
	iconv_close(converter);
	printf("converted %zu bytes\n", sizeof(output) - out_left);
	return 0;
}
