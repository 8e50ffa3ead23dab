// SPDX-License-Identifier: MIT
/*
 * Reading tboot.gz and boot modules: whole files with a maximum, gzip
 * (RFC 1952) decompressed by zlib when asked, as GRUB's multiboot loader
 * does for modules and tb_polgen's hash_file() does for --image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "measured/error.h"
#include "measured/file.h"
#include "measured/tboot.h"

static int gunzip(const char *path, const uint8_t *in, size_t inlen, size_t max, uint8_t **ret,
		  size_t *ret_len)
{
	z_stream z = { 0 };
	size_t cap = inlen * 4 < max ? inlen * 4 + 4096 : max;
	uint8_t *out = NULL;
	int zr, e = 0;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)	/* 16: gzip framing only */
		return m_err(-ENOMEM, "%s: zlib init failed", path);
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)inlen;	/* inlen <= M_TBOOT_MAX_MODULE < 4 GiB */
	for (;;) {
		uint8_t *n = realloc(out, cap ? cap : 1);

		if (!n) {
			e = m_err(-ENOMEM, "out of memory");
			goto out;
		}
		out = n;
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			e = m_err(-EINVAL, "%s: corrupt gzip data at compressed offset %lu: %s", path,
				  z.total_in, z.msg ? z.msg : "inflate failed");
			goto out;
		}
		if (z.avail_in == 0 && z.avail_out != 0) {
			e = m_err(-EINVAL, "%s: gzip data truncated at offset %lu", path, z.total_in);
			goto out;
		}
		if (z.avail_out == 0) {
			if (cap >= max) {
				e = m_err(-EFBIG, "%s: decompresses to over %zu bytes", path, max);
				goto out;
			}
			cap = cap > max / 2 ? max : cap * 2;
		}
	}
	*ret = out;
	*ret_len = z.total_out;
	out = NULL;
out:
	inflateEnd(&z);
	free(out);
	return e;
}

int m_tboot_read_file(const char *path, size_t max, bool unzip, uint8_t **ret_data, size_t *ret_len)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	int e;

	e = m_read_file(path, max, &raw, &len);
	if (e < 0)
		return e;
	if (unzip && len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
		uint8_t *plain = NULL;
		size_t plen = 0;

		e = gunzip(path, raw, len, max, &plain, &plen);
		free(raw);
		if (e < 0)
			return e;
		raw = plain;
		len = plen;
	}
	*ret_data = raw;
	*ret_len = len;
	return 0;
}
