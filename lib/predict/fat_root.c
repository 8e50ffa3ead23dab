// SPDX-License-Identifier: MIT
/*
 * Reading one file of a FAT12/16 image (the root directory or one level down) (Microsoft "FAT:
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

struct fat { uint32_t bps, datasec, clusters, rootents; size_t rootoff, clsize, fatoff, fatlen; };

static int fat_geometry(const uint8_t *img, size_t len, struct fat *f)
{
	struct mbuf_reader r;
	uint16_t bps, rsvd, rootents, fatsz, tot16;
	uint32_t tot32, tot, rootsecs;
	uint8_t spc, nfats;

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
	f->bps = bps;
	f->rootents = rootents;
	f->datasec = rsvd + (uint32_t)nfats * fatsz + rootsecs;
	f->rootoff = (size_t)(rsvd + (uint32_t)nfats * fatsz) * bps;
	f->fatoff = (size_t)rsvd * bps;
	f->fatlen = (size_t)fatsz * bps;
	if (tot < f->datasec || (uint64_t)tot * bps > len || f->rootoff + (size_t)rootents * 32 > len)
		return m_err(-EINVAL, "FAT image: layout outside the image");
	f->clusters = (tot - f->datasec) / spc;
	f->clsize = (size_t)spc * bps;
	return 0;
}

/* the entry named @want in @n entries at @dir; NULL if none */
static const uint8_t *dir_find(const uint8_t *dir, size_t n, const char want[11], bool *end)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = dir + 32 * i;

		if (e[0] == 0) {
			*end = true;
			return NULL;
		}
		if (e[0] != 0xe5 && !(e[11] & 0x08) && !memcmp(e, want, 11))
			return e;
	}
	return NULL;
}

/* "NAME" in the root or "DIR/NAME" one level down: its directory entry */
static int fat_lookup(const uint8_t *img, size_t len, const struct fat *f, const char *path, const uint8_t **ret)
{
	char want[11], comp[64];
	const char *slash;
	const uint8_t *e;
	bool end = false;

	while (*path == '/')
		path++;
	slash = strchr(path, '/');
	if (m_snprintf(comp, sizeof(comp), "%.*s", slash ? (int)(slash - path) : (int)strlen(path), path) < 0)
		return -ENAMETOOLONG;
	name83(comp, want);
	if (!(e = dir_find(img + f->rootoff, f->rootents, want, &end)))
		return -ENOENT;
	if (!slash) {
		*ret = e;
		return (e[11] & 0x10) ? -EISDIR : 0;
	}
	if (!(e[11] & 0x10) || strchr(slash + 1, '/'))
		return -ENOENT;
	name83(slash + 1, want);
	uint32_t cl = e[26] | (uint32_t)e[27] << 8;

	for (uint32_t hops = 0; cl >= 2 && cl < f->clusters + 2 && hops <= f->clusters && !end; hops++) {
		size_t off = (size_t)f->datasec * f->bps + (size_t)(cl - 2) * f->clsize;

		if (off + f->clsize > len)
			return -EINVAL;
		if ((e = dir_find(img + off, f->clsize / 32, want, &end)) && !(e[11] & 0x10)) {
			*ret = e;
			return 0;
		}
		cl = fat_next(img + f->fatoff, f->fatlen, cl, f->clusters < 4085);
	}
	return -ENOENT;
}

bool m_fat_has(const uint8_t *img, size_t len, const char *path)
{
	struct fat f;
	const uint8_t *e;

	return fat_geometry(img, len, &f) == 0 && fat_lookup(img, len, &f, path, &e) == 0;
}

int m_fat_root_file(const uint8_t *img, size_t len, const char *name, uint8_t **ret, size_t *ret_len)
{
	struct fat f;
	const uint8_t *e;
	uint32_t cl, size;
	size_t o = 0;
	uint8_t *out;
	int r = fat_geometry(img, len, &f);

	if (r < 0)
		return r;
	if (strchr(name, '/') || fat_lookup(img, len, &f, name, &e) < 0)
		return m_err(-ENOENT, "FAT image: no %s in the root directory", name);
	cl = e[26] | (uint32_t)e[27] << 8;
	size = e[28] | (uint32_t)e[29] << 8 | (uint32_t)e[30] << 16 | (uint32_t)e[31] << 24;
	if (size > len || !(out = malloc((size_t)size + 1)))
		return size > len ? m_err(-EINVAL, "FAT image: %s larger than the image", name) : -ENOMEM;
	for (uint32_t hops = 0; o < size; hops++) {
		size_t off = (size_t)f.datasec * f.bps + (size_t)(cl - 2) * f.clsize, n = size - o < f.clsize ? size - o : f.clsize;

		if (cl < 2 || cl >= f.clusters + 2 || hops > f.clusters || off + n > len) {
			free(out);
			return m_err(-EINVAL, "FAT image: %s has a broken cluster chain", name);
		}
		memcpy(out + o, img + off, n);
		o += n;
		cl = fat_next(img + f.fatoff, f.fatlen, cl, f.clusters < 4085);
	}
	out[size] = '\0';
	*ret = out;
	*ret_len = size;
	return 0;
}
