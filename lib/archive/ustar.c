// SPDX-License-Identifier: MIT
/*
 * POSIX ustar archives (POSIX.1-2017, XCU pax, "ustar Interchange
 * Format"): 512-byte headers, each followed by its data padded to 512
 * bytes, two zero blocks at the end.  Header fields (offset, width):
 * name 0/100, mode 100/8, uid 108/8, gid 116/8, size 124/12, mtime 136/12,
 * chksum 148/8, typeflag 156, linkname 157/100, magic 257/6 ("ustar\0"),
 * version 263/2 ("00"), uname, gname, devmajor, devminor, prefix 345/155.
 * Numbers are octal text; the checksum is the sum of the header's bytes
 * with the chksum field counted as eight spaces.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/text.h"
#include "measured/ustar.h"

/* an octal field: spaces, digits, then NUL or spaces to its end */
static int octal(const uint8_t *f, size_t w, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0, digits = 0;

	if (f[0] & 0x80)
		return -ERANGE;		/* base-256, a GNU extension */
	while (i < w && f[i] == ' ')
		i++;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (v > (UINT64_MAX >> 3))
			return -EOVERFLOW;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < w; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -EINVAL;
	if (!digits)
		return -EINVAL;
	*ret = v;
	return 0;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* a fixed-width text field, NUL-terminated or filling its width */
static size_t field_len(const uint8_t *f, size_t w)
{
	const uint8_t *z = memchr(f, 0, w);

	return z ? (size_t)(z - f) : w;
}

static int bad(size_t off, const char *path, const char *why)
{
	char *e = m_text_escape_str(path);
	int r = m_err(-EBADMSG, "ustar entry at offset %zu ('%s'): %s", off, e ? e : "?", why);

	free(e);
	return r;
}

/*
 * @raw (the stored path) into @out: a leading "." component dropped, a
 * trailing "/" allowed for a directory; no empty, "." or ".." component
 * elsewhere, not absolute.  *@depth: its number of components.
 */
static int norm_path(const char *raw, bool dir, char out[M_USTAR_PATH_MAX], size_t off, int *depth)
{
	size_t n = strlen(raw);
	const char *p = raw;
	int d = 0;

	if (!n)
		return bad(off, raw, "an empty path");
	if (raw[0] == '/')
		return bad(off, raw, "an absolute path");
	if (raw[n - 1] == '/') {
		if (!dir)
			return bad(off, raw, "a path ending in '/' for something not a directory");
		n--;
	}
	if (n >= 1 && raw[0] == '.' && (n == 1 || raw[1] == '/')) {
		p = raw + (n == 1 ? 1 : 2);
		n -= (size_t)(p - raw);
	}
	memcpy(out, p, n);
	out[n] = 0;
	for (const char *c = out; *out;) {
		const char *s = strchr(c, '/');
		size_t l = s ? (size_t)(s - c) : strlen(c);

		if (l == 0)
			return bad(off, raw, "an empty path component ('//')");
		if (l == 1 && c[0] == '.')
			return bad(off, raw, "a '.' path component");
		if (l == 2 && c[0] == '.' && c[1] == '.')
			return bad(off, raw, "a '..' path component");
		d++;
		if (!s)
			break;
		c = s + 1;
	}
	*depth = d;
	return 0;
}

/* a relative target seen from a link @depth components deep: does it climb above the root? */
static bool escapes(const char *target, int depth)
{
	int d = depth - 1;	/* the link's directory */

	if (target[0] == '/')
		return false;	/* resolved inside the installed system */
	for (const char *c = target; *c;) {
		const char *s = strchr(c, '/');
		size_t l = s ? (size_t)(s - c) : strlen(c);

		if (l == 2 && c[0] == '.' && c[1] == '.') {
			if (--d < 0)
				return true;
		} else if (l && !(l == 1 && c[0] == '.')) {
			d++;
		}
		if (!s)
			break;
		c = s + 1;
	}
	return false;
}

static int header(const uint8_t *h, size_t off, struct m_ustar_entry *e)
{
	static const uint8_t magic[8] = { 'u', 's', 't', 'a', 'r', 0, '0', '0' };
	char raw[M_USTAR_PATH_MAX];
	uint64_t sum = 0, ssum = 0, want, v;
	size_t nl, pl;
	int depth = 0, r;

	for (size_t i = 0; i < M_USTAR_BLOCK; i++) {
		uint8_t b = (i >= 148 && i < 156) ? ' ' : h[i];

		sum += b;
		ssum += (uint64_t)(int64_t)(int8_t)b;	/* some old tars summed signed chars */
	}
	if (octal(h + 148, 8, &want) < 0)
		return m_err(-EBADMSG, "ustar header at offset %zu: the checksum field is not octal", off);
	if (want != sum && want != (ssum & 0777777))
		return m_err(-EBADMSG, "ustar header at offset %zu: checksum %llo, the header sums to %llo", off,
			     (unsigned long long)want, (unsigned long long)sum);
	if (memcmp(h + 257, magic, 8) != 0)
		return m_err(-EBADMSG, "ustar header at offset %zu: not a POSIX ustar header (magic and version "
			     "\"ustar\\0\" \"00\"; GNU and old tar formats are refused: tar --format=ustar)", off);
	memset(e, 0, sizeof(*e));
	e->offset = off;
	pl = field_len(h + 345, 155);
	nl = field_len(h, 100);
	if (pl) {
		memcpy(raw, h + 345, pl);
		raw[pl] = '/';
		memcpy(raw + pl + 1, h, nl);
		raw[pl + 1 + nl] = 0;
	} else {
		memcpy(raw, h, nl);
		raw[nl] = 0;
	}
	switch (h[156]) {
	case '0': case 0: e->type = M_USTAR_FILE; break;
	case '5': e->type = M_USTAR_DIR; break;
	case '2': e->type = M_USTAR_SYMLINK; break;
	case '1': return bad(off, raw, "a hard link (type '1'): store the file itself");
	case '3': case '4': return bad(off, raw, "a device node (type '3' or '4')");
	case '6': return bad(off, raw, "a FIFO (type '6')");
	case 'x': case 'g': return bad(off, raw, "a pax extended header (type 'x' or 'g'): tar --format=ustar");
	case 'L': case 'K': return bad(off, raw, "a GNU long name header (type 'L' or 'K')");
	default: {
		char why[64];

		snprintf(why, sizeof(why), "entry type 0x%02x: not a file, directory or symlink", h[156]);
		return bad(off, raw, why);
	}
	}
	if ((r = norm_path(raw, e->type == M_USTAR_DIR, e->path, off, &depth)) < 0)
		return r;
	if (!e->path[0] && e->type != M_USTAR_DIR)
		return bad(off, raw, "the archive's root is not a directory");
	if (octal(h + 100, 8, &v) < 0)
		return bad(off, raw, "the mode field is not octal");
	e->mode = (uint32_t)(v & 07777);
	if (octal(h + 108, 8, &v) < 0 || v > UINT32_MAX)
		return bad(off, raw, "the uid field is not octal");
	e->uid = (uint32_t)v;
	if (octal(h + 116, 8, &v) < 0 || v > UINT32_MAX)
		return bad(off, raw, "the gid field is not octal");
	e->gid = (uint32_t)v;
	if (octal(h + 136, 12, &v) < 0 || v > INT64_MAX)
		return bad(off, raw, "the mtime field is not octal");
	e->mtime = (int64_t)v;
	if (octal(h + 124, 12, &e->size) < 0)
		return bad(off, raw, "the size field is not octal (a base-256 size is a GNU extension)");
	if (e->type != M_USTAR_FILE && e->size)
		return bad(off, raw, "a directory or symbolic link with data");
	if (e->type == M_USTAR_SYMLINK) {
		size_t ll = field_len(h + 157, 100);

		memcpy(e->link, h + 157, ll);
		e->link[ll] = 0;
		if (!ll)
			return bad(off, raw, "a symbolic link without a target");
		if (escapes(e->link, depth))
			return bad(off, raw, "a symbolic link whose target climbs above the archive's root");
	}
	return 0;
}

static int walk(const uint8_t *d, size_t len, int (*cb)(void *arg, const struct m_ustar_entry *e), void *arg,
		size_t *ret_entries)
{
	struct mbuf_reader rd;
	struct m_ustar_entry e;
	size_t n = 0;
	int r;

	mbr_init(&rd, d, len);
	for (;;) {
		size_t off = rd.off;
		const uint8_t *h = mbr_ptr(&rd, M_USTAR_BLOCK);

		if (!h)
			return m_err(-EBADMSG, "ustar archive of %zu bytes: ends at offset %zu without the "
				     "end-of-archive marker (two zero blocks)", len, off);
		if (all_zero(h, M_USTAR_BLOCK)) {
			const uint8_t *h2 = mbr_ptr(&rd, M_USTAR_BLOCK);

			if (!h2 || !all_zero(h2, M_USTAR_BLOCK))
				return m_err(-EBADMSG, "ustar archive: a zero block at offset %zu not followed by "
					     "another (the end-of-archive marker is two)", off);
			break;	/* what follows (a tar's record padding) is not read */
		}
		if ((r = header(h, off, &e)) < 0)
			return r;
		if (e.size > mbr_remaining(&rd))
			return bad(off, e.path, "its data runs past the end of the archive");
		e.data = mbr_ptr(&rd, (size_t)e.size);
		if (e.size % M_USTAR_BLOCK && !mbr_skip(&rd, M_USTAR_BLOCK - e.size % M_USTAR_BLOCK))
			return bad(off, e.path, "its data's padding runs past the end of the archive");
		if (!e.path[0])
			continue;	/* "./": the tree's root */
		if (++n > M_USTAR_ENTRIES_MAX)
			return m_err(-EBADMSG, "ustar archive: over %u entries", M_USTAR_ENTRIES_MAX);
		if (cb && (r = cb(arg, &e)) < 0)
			return r;
	}
	if (ret_entries)
		*ret_entries = n;
	return 0;
}

int m_ustar_walk(const uint8_t *d, size_t len, int (*cb)(void *arg, const struct m_ustar_entry *e), void *arg,
		 size_t *ret_entries)
{
	size_t n;
	int r;

	if (!d && len)
		return -EINVAL;
	/* the whole archive checked before the caller sees its first entry */
	r = walk(d, len, NULL, NULL, &n);
	if (r == 0 && cb)
		r = walk(d, len, cb, arg, NULL);
	if (r == 0 && ret_entries)
		*ret_entries = n;
	return r;
}
