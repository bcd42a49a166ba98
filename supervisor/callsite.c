/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Call-instruction decoding. Only the forms a compiler emits in 64-bit
 * mode are recognized: E8 rel32 and FF /2 with any ModRM addressing. A REX
 * or segment prefix in front of FF changes nothing about where the
 * instruction ends, so prefixes are not decoded.
 */
#include "callsite.h"

#include <string.h>

#define OPCODE_CALL_REL32 0xe8
#define OPCODE_GROUP5 0xff
#define GROUP5_CALL 2 /* the ModRM reg field of FF /2 */
#define CALL_REL32_LENGTH 5

/* Returns the length of FF ModRM [SIB] [disp], given its ModRM and SIB. */
static size_t group5_length(uint8_t modrm, uint8_t sib)
{
	unsigned int mod = modrm >> 6;
	unsigned int rm = modrm & 7;
	size_t length = 2;

	if (mod == 3)
		return length;
	if (rm == 4)
		length++;
	if (mod == 1)
		return length + 1;
	if (mod == 2)
		return length + 4;
	/* mod 0: rm 5 is RIP-relative, and SIB base 5 means disp32 only. */
	if (rm == 5 || (rm == 4 && (sib & 7) == 5))
		return length + 4;
	return length;
}

static bool is_group5_call(const uint8_t *start, size_t length)
{
	uint8_t modrm, sib;

	if (length < 2 || start[0] != OPCODE_GROUP5)
		return false;
	modrm = start[1];
	if (((modrm >> 3) & 7) != GROUP5_CALL)
		return false;
	sib = length > 2 ? start[2] : 0;
	return group5_length(modrm, sib) == length;
}

static bool decode_direct(const uint8_t *before, size_t length,
			  uint64_t return_address, struct callsite *site)
{
	const uint8_t *start;
	int32_t displacement;

	if (length < CALL_REL32_LENGTH)
		return false;
	start = before + length - CALL_REL32_LENGTH;
	if (start[0] != OPCODE_CALL_REL32)
		return false;
	memcpy(&displacement, start + 1, sizeof(displacement));
	site->kind = CALLSITE_DIRECT;
	site->length = CALL_REL32_LENGTH;
	site->target = return_address + (uint64_t)(int64_t)displacement;
	return true;
}

bool callsite_decode(const uint8_t *before, size_t length,
		     uint64_t return_address, struct callsite *site)
{
	static const size_t group5_lengths[] = { 2, 3, 4, 6, 7 };

	memset(site, 0, sizeof(*site));
	if (length > CALLSITE_BYTES_MAX) {
		before += length - CALLSITE_BYTES_MAX;
		length = CALLSITE_BYTES_MAX;
	}
	if (decode_direct(before, length, return_address, site))
		return true;
	for (size_t i = 0; i < sizeof(group5_lengths) / sizeof(*group5_lengths);
	     i++) {
		size_t candidate = group5_lengths[i];

		if (candidate > length)
			break;
		if (is_group5_call(before + length - candidate, candidate)) {
			site->kind = CALLSITE_INDIRECT;
			site->length = (uint8_t)candidate;
			return true;
		}
	}
	return false;
}
