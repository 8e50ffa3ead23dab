// SPDX-License-Identifier: MIT
/*
 * newc cpio writer ("070701": thirteen 8-digit hex fields, then the name
 * with its NUL padded to 4 bytes, then the data padded to 4 bytes; the
 * archive ends with the entry TRAILER!!!).  Reproducible by construction:
 * members are sorted by path (a parent sorts before its children), inode
 * numbers follow that order, times are 0 and owners 0:0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "measured/error.h"
#include "measured/initramfs.h"

struct member {
	char *path;
	mode_t mode;
	unsigned rmajor, rminor;
	uint8_t *data;
	size_t len;
};

struct m_cpio {
	struct member *m;
	size_t n, cap;
	size_t total;
};

int m_cpio_new(struct m_cpio **ret)
{
	struct m_cpio *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

void m_cpio_free(struct m_cpio *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->m[i].path);
		free(c->m[i].data);
	}
	free(c->m);
	free(c);
}

static struct member *find(struct m_cpio *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->m[i].path, path) == 0)
			return &c->m[i];
	return NULL;
}

static int check_path(const char *path)
{
	size_t n = strlen(path);

	if (n == 0 || n >= M_CPIO_PATH_MAX || path[0] == '/' || path[n - 1] == '/')
		return m_err(-EINVAL, "cpio: bad member path '%s'", path);
	if (strstr(path, "//") || strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 ||
	    strstr(path, "/../") || (n >= 3 && strcmp(path + n - 3, "/..") == 0))
		return m_err(-EINVAL, "cpio: bad member path '%s'", path);
	return 0;
}

static int add(struct m_cpio *c, const char *path, mode_t mode, const void *data, size_t len,
	       unsigned rmajor, unsigned rminor);

static int add_parents(struct m_cpio *c, const char *path)
{
	char buf[M_CPIO_PATH_MAX];
	char *slash;

	if (m_snprintf(buf, sizeof(buf), "%s", path) < 0)
		return -ENAMETOOLONG;
	for (slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
		struct member *m;
		int err;

		*slash = '\0';
		m = find(c, buf);
		if (m && !S_ISDIR(m->mode))
			return m_err(-ENOTDIR, "cpio: %s is not a directory (needed for %s)", buf, path);
		if (!m && (err = add(c, buf, S_IFDIR | 0755, NULL, 0, 0, 0)) < 0)
			return err;
		*slash = '/';
	}
	return 0;
}

static int add(struct m_cpio *c, const char *path, mode_t mode, const void *data, size_t len,
	       unsigned rmajor, unsigned rminor)
{
	struct member *m;
	int err;

	if ((err = check_path(path)) < 0)
		return err;
	if (len > M_CPIO_FILE_MAX)
		return m_err(-EFBIG, "cpio: %s is %zu bytes, at most %u per member", path, len, M_CPIO_FILE_MAX);
	if (len > M_CPIO_TOTAL_MAX - c->total)
		return m_err(-EFBIG, "cpio: archive would exceed %u bytes", M_CPIO_TOTAL_MAX);
	m = find(c, path);
	if (m) {
		if (S_ISDIR(m->mode) && S_ISDIR(mode))
			return 0;
		return m_err(-EEXIST, "cpio: %s added twice", path);
	}
	if ((err = add_parents(c, path)) < 0)
		return err;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct member *nm = realloc(c->m, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		c->m = nm;
		c->cap = cap;
	}
	m = &c->m[c->n];
	memset(m, 0, sizeof(*m));
	m->path = strdup(path);
	if (!m->path)
		return -ENOMEM;
	if (len) {
		m->data = malloc(len);
		if (!m->data) {
			free(m->path);
			return -ENOMEM;
		}
		memcpy(m->data, data, len);
	}
	m->len = len;
	m->mode = mode;
	m->rmajor = rmajor;
	m->rminor = rminor;
	c->n++;
	c->total += len;
	return 0;
}

int m_cpio_add_dir(struct m_cpio *c, const char *path, mode_t perm)
{
	return add(c, path, S_IFDIR | (perm & 07777), NULL, 0, 0, 0);
}

int m_cpio_add_data(struct m_cpio *c, const char *path, mode_t perm, const void *data, size_t len)
{
	return add(c, path, S_IFREG | (perm & 07777), data, len, 0, 0);
}

int m_cpio_add_symlink(struct m_cpio *c, const char *path, const char *target)
{
	return add(c, path, S_IFLNK | 0777, target, strlen(target), 0, 0);
}

int m_cpio_add_chardev(struct m_cpio *c, const char *path, mode_t perm, unsigned major, unsigned minor)
{
	return add(c, path, S_IFCHR | (perm & 07777), NULL, 0, major, minor);
}

int m_cpio_add_file(struct m_cpio *c, const char *path, mode_t perm, const char *src)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t off = 0;
	int fd, err;

	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return m_err(-errno, "%s: %m", src);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return m_err(-EINVAL, "%s: not a regular file", src);
	}
	if ((uint64_t)st.st_size > M_CPIO_FILE_MAX) {
		close(fd);
		return m_err(-EFBIG, "%s: %lld bytes, at most %u per member", src, (long long)st.st_size,
			     M_CPIO_FILE_MAX);
	}
	if (st.st_size > 0 && !(buf = malloc((size_t)st.st_size))) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n <= 0) {
			err = n < 0 ? m_err(-errno, "%s: %m", src) : m_err(-EIO, "%s: changed while read", src);
			close(fd);
			free(buf);
			return err;
		}
		off += (size_t)n;
	}
	close(fd);
	err = m_cpio_add_data(c, path, perm, buf, off);
	free(buf);
	return err;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->path, ((const struct member *)b)->path);
}

static void header(struct mbuf_writer *w, uint32_t ino, const struct member *m, const char *name, size_t len)
{
	char h[128];	/* 110 used; room for the compiler's worst case */
	size_t nlen = strlen(name) + 1;

	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ino, (unsigned)m->mode, 0u, 0u, S_ISDIR(m->mode) ? 2u : 1u, 0u, (unsigned)len, 0u, 0u,
		 m->rmajor & 0xffffffffu, m->rminor & 0xffffffffu, (unsigned)nlen, 0u);
	mbw_bytes(w, h, 110);
	mbw_bytes(w, name, nlen);
	while (w->len % 4 && mbw_ok(w))
		mbw_u8(w, 0);
}

int m_cpio_write(const struct m_cpio *c, struct mbuf_writer *w)
{
	struct member *sorted = NULL, trailer = { .mode = 0 };
	size_t start = w->len;

	if (c->n) {
		sorted = malloc(c->n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, c->m, c->n * sizeof(*sorted));
		qsort(sorted, c->n, sizeof(*sorted), cmp_member);
	}
	/* The archive's data must be 4-aligned relative to its own start. */
	if (start % 4)
		return m_err(-EINVAL, "cpio: archive must start 4-byte aligned");
	for (size_t i = 0; i < c->n; i++) {
		header(w, (uint32_t)(i + 1), &sorted[i], sorted[i].path, sorted[i].len);
		mbw_bytes(w, sorted[i].data, sorted[i].len);
		while (w->len % 4 && mbw_ok(w))
			mbw_u8(w, 0);
	}
	header(w, 0, &trailer, "TRAILER!!!", 0);
	free(sorted);
	if (!mbw_ok(w))
		return m_err(-EFBIG, "cpio: archive larger than the output buffer's maximum");
	return 0;
}

int m_gzip(const void *data, size_t len, struct mbuf_writer *w)
{
	z_stream z;
	uint8_t out[65536];
	int zr;

	memset(&z, 0, sizeof(z));
	/* windowBits 16+15: a gzip wrapper with mtime 0 and no name, so
	 * the header is the same on every run. */
	if (deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return m_err(-ENOMEM, "gzip: deflateInit2 failed");
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	if ((size_t)z.avail_in != len) {
		deflateEnd(&z);
		return m_err(-EFBIG, "gzip: input of %zu bytes too large", len);
	}
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			deflateEnd(&z);
			return m_err(-EIO, "gzip: deflate failed");
		}
		mbw_bytes(w, out, sizeof(out) - z.avail_out);
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	if (!mbw_ok(w))
		return m_err(-EFBIG, "gzip: output larger than the buffer's maximum");
	return 0;
}
