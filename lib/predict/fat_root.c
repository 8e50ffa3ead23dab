// SPDX-License-Identifier: MIT
/*
 * Reading one root-directory file of a FAT12/16 image (Microsoft "FAT:
 * General Overview of On-Disk Format" 1.03: BPB_BytsPerSec at 11,
 * BPB_SecPerClus 13, BPB_RsvdSecCnt 14, BPB_NumFATs 16, BPB_RootEntCnt 17,
 * BPB_TotSec16 19, BPB_FATSz16 22, BPB_TotSec32 32; directory entries of
 * 32 bytes, DIR_Name 11 bytes space padded, DIR_FstClusLO at 26,
 * DIR_FileSize at 28; FAT12 entries are 12 bits, FAT type by cluster count).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/chain.h"
#include "measured/error.h"

static void name83(const char *name, char out[11])
{
	const char *dot = strrchr(name, '.');
	size_t bl = dot ? (size_t)(dot - name) : strlen(name);

	memset(out, ' ', 11);
	for (size_t i = 0; i < bl && i < 8; i++)
		out[i] = (char)toupper((unsigned char)name[i]);
	for (size_t i = 0; dot && dot[1 + i] && i < 3; i++)
		out[8 + i] = (char)toupper((unsigned char)dot[1 + i]);
}

static uint32_t fat_next(const uint8_t *fat, size_t fatlen, uint32_t c, bool fat12)
{
	size_t o = fat12 ? c + c / 2 : 2 * (size_t)c;

	if (o + 1 >= fatlen)
		return 0xffff;
	if (!fat12)
		return fat[o] | (uint32_t)fat[o + 1] << 8;
	uint32_t v = fat[o] | (uint32_t)fat[o + 1] << 8;
	v = (c & 1) ? v >> 4 : v & 0xfff;
	return v >= 0xff8 ? 0xffff : v;
}

int m_fat_root_file(const uint8_t *img, size_t len, const char *name, uint8_t **ret, size_t *ret_len)
{
	struct mbuf_reader r;
	uint16_t bps, rsvd, rootents, fatsz, tot16;
	uint32_t tot32, tot, rootsecs, datasec, clusters, cl = 0, size = 0;
	uint8_t spc, nfats;
	char want[11];
	size_t rootoff, clsize, o = 0;
	bool found = false;
	uint8_t *out;

	mbr_init(&r, img, len);
	mbr_skip(&r, 11);
	bps = mbr_le16(&r);
	spc = mbr_u8(&r);
	rsvd = mbr_le16(&r);
	nfats = mbr_u8(&r);
	rootents = mbr_le16(&r);
	tot16 = mbr_le16(&r);
	mbr_skip(&r, 1);
	fatsz = mbr_le16(&r);
	mbr_skip(&r, 8);
	tot32 = mbr_le32(&r);
	if (!mbr_ok(&r) || (bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) || !spc || !nfats || !fatsz)
		return m_err(-EINVAL, "not a FAT12/16 image");
	tot = tot16 ? tot16 : tot32;
	rootsecs = ((uint32_t)rootents * 32 + bps - 1) / bps;
	datasec = rsvd + (uint32_t)nfats * fatsz + rootsecs;
	rootoff = (size_t)(rsvd + (uint32_t)nfats * fatsz) * bps;
	if (tot < datasec || (uint64_t)tot * bps > len || rootoff + (size_t)rootents * 32 > len)
		return m_err(-EINVAL, "FAT image: layout outside the image");
	clusters = (tot - datasec) / spc;
	clsize = (size_t)spc * bps;
	name83(name, want);
	for (uint32_t i = 0; i < rootents && !found; i++) {
		const uint8_t *e = img + rootoff + 32 * (size_t)i;

		if (e[0] == 0)
			break;
		if (e[0] == 0xe5 || (e[11] & 0x18) || memcmp(e, want, 11))
			continue;
		cl = e[26] | (uint32_t)e[27] << 8;
		size = e[28] | (uint32_t)e[29] << 8 | (uint32_t)e[30] << 16 | (uint32_t)e[31] << 24;
		found = true;
	}
	if (!found)
		return m_err(-ENOENT, "FAT image: no %s in the root directory", name);
	if (size > len || !(out = malloc((size_t)size + 1)))
		return size > len ? m_err(-EINVAL, "FAT image: %s larger than the image", name) : -ENOMEM;
	for (uint32_t hops = 0; o < size; hops++) {
		size_t off = (size_t)datasec * bps + (size_t)(cl - 2) * clsize, n = size - o < clsize ? size - o : clsize;

		if (cl < 2 || cl >= clusters + 2 || hops > clusters || off + n > len) {
			free(out);
			return m_err(-EINVAL, "FAT image: %s has a broken cluster chain", name);
		}
		memcpy(out + o, img + off, n);
		o += n;
		cl = fat_next(img + (size_t)rsvd * bps, (size_t)fatsz * bps, cl, clusters < 4085);
	}
	out[size] = '\0';
	*ret = out;
	*ret_len = size;
	return 0;
}
