// SPDX-License-Identifier: MIT
/*
 * The installer's disk writer (docs/agent.md, "Install mode").  A disk
 * boots from its sector 0: the BIOS wants the boot signature 0x55 0xAA at
 * byte 510 there, and a UEFI firmware reads a GPT only behind a protective
 * MBR in sector 0 (UEFI 2.10, 5.2.3).  So the image's first MiB is held
 * back and the target's first MiB cleared before anything else is written;
 * after the rest is written and read back equal to the verifier's digest,
 * bytes 512 to 1 MiB are written, then sector 0 by itself (a sector is the
 * unit a disk writes whole).  Until that last write the disk boots nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include "initcore.h"
#include "install.h"
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/text.h"

#define SECTOR 512u

const char *m_install_stage_name(enum m_install_stage s)
{
	static const char *const names[] = {
		[M_INSTALL_CHECKED] = "checked",
		[M_INSTALL_CLEARED] = "cleared",
		[M_INSTALL_WRITING] = "writing",
		[M_INSTALL_WRITTEN] = "written",
		[M_INSTALL_VERIFIED] = "verified",
		[M_INSTALL_HEAD_REST] = "head-rest",
		[M_INSTALL_BOOTABLE] = "bootable",
		[M_INSTALL_UNPACKED] = "unpacked",
		[M_INSTALL_BUILT] = "built",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- metadata ---- */

static int hex32(const char *s, uint8_t out[32])
{
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -EINVAL;
	if (s[64])
		return -EINVAL;
	return m_unhex(s, out, 32) < 0 ? -EINVAL : 0;
}

int m_install_meta_parse(json_object *payload, struct m_install_meta *ret)
{
	struct m_install_meta m;
	json_object *o, *v;
	const char *s;

	if (!json_object_object_get_ex(payload, "install", &o) || !o)
		return -ENOENT;
	if (!json_object_is_type(o, json_type_object))
		return m_err(-EBADMSG, "payload field 'install': not an object");
	memset(&m, 0, sizeof(m));
	if (!json_object_object_get_ex(o, "kind", &v) || !json_object_is_type(v, json_type_string) ||
	    (strcmp(json_object_get_string(v), "disk-image") != 0 &&
	     strcmp(json_object_get_string(v), "root-archive") != 0)) {
		char *e = m_text_escape_str(v && json_object_is_type(v, json_type_string) ?
					    json_object_get_string(v) : "(not a string)");
		int r = m_err(-EBADMSG, "install.kind '%s': this agent installs \"disk-image\" and "
			      "\"root-archive\" packages", e ? e : "?");

		free(e);
		return r;
	}
	snprintf(m.kind, sizeof(m.kind), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "target", &v) && v) {
		if (!json_object_is_type(v, json_type_string))
			return m_err(-EBADMSG, "install.target: not a string");
		s = json_object_get_string(v);
		if (s[0] != '/' || strlen(s) >= sizeof(m.target))
			return m_err(-EBADMSG, "install.target: not an absolute path of at most %u bytes",
				     M_INSTALL_TARGET_MAX - 1);
		memcpy(m.target, s, strlen(s) + 1);
	}
	if (!json_object_object_get_ex(o, "digest", &v) || !json_object_is_type(v, json_type_string) ||
	    strncmp(json_object_get_string(v), "sha256:", 7) != 0 ||
	    hex32(json_object_get_string(v) + 7, m.sha256) < 0)
		return m_err(-EBADMSG, "install.digest: not \"sha256:\" and 64 lowercase hex digits");
	*ret = m;
	return 0;
}

struct cmdline_ctx {
	char *ret;
	size_t len;
	int r;
};

static int cmdline_word(char *w, void *arg)
{
	static const char key[] = "measured.install.target=";
	struct cmdline_ctx *c = arg;
	const char *v = w + sizeof(key) - 1;

	if (strncmp(w, key, sizeof(key) - 1) != 0 || !*v)
		return 0;
	/* the last one wins, as with the kernel's own parameters */
	if (strlen(v) >= c->len || strlen(v) >= M_INSTALL_TARGET_MAX)
		c->r = m_err(-ENAMETOOLONG, "measured.install.target: over %u bytes", M_INSTALL_TARGET_MAX - 1);
	else if (v[0] != '/')
		c->r = m_err(-EINVAL, "measured.install.target: '%s' is not an absolute path", v);
	else {
		memcpy(c->ret, v, strlen(v) + 1);
		c->r = 0;
	}
	return 0;
}

int m_install_target_from_cmdline(const char *cmdline, char *ret, size_t len)
{
	char buf[M_INSTALL_TARGET_MAX];
	struct cmdline_ctx c = { buf, len < sizeof(buf) ? len : sizeof(buf), -ENOENT };
	int r = mi_cmdline_words(cmdline, cmdline_word, &c);

	if (r < 0)
		return r;
	if (c.r == 0)
		memcpy(ret, buf, strlen(buf) + 1);
	return c.r;
}

/* ---- the target ---- */

/* open @path for writing; a block device exclusively (EBUSY while mounted or held) */
static int target_open(const char *path, uint64_t need, int *ret_fd, uint64_t *ret_size)
{
	struct stat st;
	uint64_t size;
	int fd, r;

	if (lstat(path, &st) < 0)
		return m_err(-errno, "target %s: %s", path, errno == ENOENT ? "no such disk" : strerror(errno));
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return m_err(-ENOTBLK, "target %s: not a block device (nor a regular file)", path);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (S_ISBLK(st.st_mode) ? O_EXCL : 0));
	if (fd < 0) {
		if (errno == EBUSY)
			return m_err(-EBUSY, "target %s: in use (mounted, a partition of it mounted, or held)", path);
		return m_err(-errno, "target %s: %s", path, strerror(errno));
	}
	if (S_ISBLK(st.st_mode)) {
		int ro = 0;

		if (ioctl(fd, BLKROGET, &ro) == 0 && ro) {
			close(fd);
			return m_err(-EROFS, "target %s: a read-only device", path);
		}
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			r = m_err(-errno, "target %s: size: %s", path, strerror(errno));
			close(fd);
			return r;
		}
	} else {
		size = (uint64_t)st.st_size;
	}
	if (size < need) {
		close(fd);
		return m_err(-ENOSPC, "target %s: %llu bytes, the package needs %llu", path,
			     (unsigned long long)size, (unsigned long long)need);
	}
	*ret_fd = fd;
	if (ret_size)
		*ret_size = size;
	return 0;
}

int m_install_target_check(const char *path, uint64_t need, uint64_t *ret_size)
{
	int fd, r = target_open(path, need, &fd, ret_size);

	if (r == 0)
		close(fd);
	return r;
}

/* ---- writing ---- */

static int pwrite_all(int fd, const char *path, const uint8_t *d, size_t n, uint64_t off)
{
	size_t done;
	int r = m_pwrite_full(fd, d, n, off, &done);

	if (r < 0)
		return m_err(r, "target %s: write at %llu: %s", path, (unsigned long long)(off + done),
			     r == -EIO ? "short write" : strerror(-r));
	return 0;
}

static int pread_all(int fd, const char *path, uint8_t *d, size_t n, uint64_t off)
{
	size_t done;
	int r = m_pread_full(fd, d, n, off, &done);

	if (r < 0)
		return m_err(r == -ENODATA ? -EIO : r, "target %s: read back at %llu: %s", path,
			     (unsigned long long)(off + done), r == -ENODATA ? "end of disk" : strerror(-r));
	return 0;
}

/* written through to the disk, and the page cache dropped so that a read comes from the disk */
static int sync_drop(int fd, const char *path)
{
	if (fsync(fd) < 0)
		return m_err(-errno, "target %s: fsync: %s", path, strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return 0;
}

static int stage(const struct m_install_hooks *h, enum m_install_stage s, uint64_t off)
{
	if (h && h->stage && h->stage(h->arg, s, off))
		return m_err(-ECANCELED, "install stopped after stage %s", m_install_stage_name(s));
	return 0;
}

/* SHA-256 of @head (from memory) and of the target's bytes from @hlen to @len (read back) */
static int readback_digest(int fd, const char *path, const uint8_t *head, size_t hlen, size_t len, uint8_t *buf,
			   uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int dl = 0;
	int r = 0;

	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(c, head, hlen) != 1) {
		EVP_MD_CTX_free(c);
		return -ENOMEM;
	}
	for (size_t off = hlen; off < len && r == 0;) {
		size_t n = len - off < M_INSTALL_CHUNK ? len - off : M_INSTALL_CHUNK;

		r = pread_all(fd, path, buf, n, off);
		if (r == 0 && EVP_DigestUpdate(c, buf, n) != 1)
			r = -EIO;
		off += n;
	}
	if (r == 0 && EVP_DigestFinal_ex(c, out, &dl) != 1)
		r = -EIO;
	EVP_MD_CTX_free(c);
	return r;
}

int m_install_check_digest(const uint8_t *d, size_t len, const uint8_t sha256[32])
{
	uint8_t md[32];

	if (EVP_Digest(d, len, md, NULL, EVP_sha256(), NULL) != 1)
		return m_err(-EIO, "SHA-256 failed");
	if (memcmp(md, sha256, 32) != 0) {
		char h[65], w[65];

		m_hex(md, 32, h);
		m_hex(sha256, 32, w);
		return m_err(-EBADMSG, "package digest mismatch: sha256 %s, the verifier says %s; nothing written",
			     h, w);
	}
	return 0;
}

int m_install_disk(const char *target, const uint8_t *img, size_t len, const uint8_t sha256[32],
		   const struct m_install_hooks *hooks)
{
	uint8_t d[32], *buf = NULL;
	size_t hlen;
	int fd = -1, r;

	/* the package itself, before the disk is touched */
	if (len < SECTOR)
		return m_err(-EINVAL, "disk image of %zu bytes: not even one sector", len);
	if (img[510] != 0x55 || img[511] != 0xaa)
		return m_err(-EINVAL, "disk image without a boot signature (0x55 0xAA at byte 510): no MBR or "
			     "protective MBR, so not a bootable disk");
	if ((r = m_install_check_digest(img, len, sha256)) < 0)
		return r;
	r = target_open(target, len, &fd, NULL);
	if (r < 0)
		return r;
	buf = calloc(1, M_INSTALL_CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	hlen = len < M_INSTALL_HEAD ? len : M_INSTALL_HEAD;
	if ((r = stage(hooks, M_INSTALL_CHECKED, 0)) < 0)
		goto out;

	/* 1. whatever booted from this disk before boots no more */
	r = pwrite_all(fd, target, buf, hlen, 0);
	if (r == 0)
		r = sync_drop(fd, target);
	if (r < 0 || (r = stage(hooks, M_INSTALL_CLEARED, 0)) < 0)
		goto out;

	/* 2. the rest of the image */
	for (size_t off = hlen; off < len;) {
		size_t n = len - off < M_INSTALL_CHUNK ? len - off : M_INSTALL_CHUNK;

		r = pwrite_all(fd, target, img + off, n, off);
		if (r < 0 || (r = stage(hooks, M_INSTALL_WRITING, off)) < 0)
			goto out;
		off += n;
	}
	r = sync_drop(fd, target);
	if (r < 0 || (r = stage(hooks, M_INSTALL_WRITTEN, len)) < 0)
		goto out;

	/* 3. read back: the held-back head (memory) and the disk's rest hash to the verifier's digest */
	r = readback_digest(fd, target, img, hlen, len, buf, d);
	if (r < 0)
		goto out;
	if (memcmp(d, sha256, 32) != 0) {
		r = m_err(-EBADMSG, "read back from %s: digest mismatch (the disk does not hold what was written); "
			  "sector 0 left zero, the disk does not boot", target);
		goto out;
	}
	if ((r = stage(hooks, M_INSTALL_VERIFIED, len)) < 0)
		goto out;

	/* 4. bootable: the head without sector 0, then sector 0 alone */
	r = pwrite_all(fd, target, img + SECTOR, hlen - SECTOR, SECTOR);
	if (r == 0)
		r = sync_drop(fd, target);
	if (r < 0 || (r = stage(hooks, M_INSTALL_HEAD_REST, hlen)) < 0)
		goto out;
	r = pwrite_all(fd, target, img, SECTOR, 0);
	if (r == 0)
		r = sync_drop(fd, target);
	if (r == 0)
		r = pread_all(fd, target, buf, hlen, 0);
	if (r < 0)
		goto out;
	if (memcmp(buf, img, hlen) != 0) {
		/* the last write did not land as written: take the boot sector away again */
		memset(buf, 0, SECTOR);
		if (pwrite_all(fd, target, buf, SECTOR, 0) == 0)
			fsync(fd);
		r = m_err(-EBADMSG, "read back from %s: the first MiB differs from the image; sector 0 cleared again",
			  target);
		goto out;
	}
	r = stage(hooks, M_INSTALL_BOOTABLE, len);
out:
	free(buf);
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = m_err(-errno, "target %s: close: %s", target, strerror(errno));
	return r;
}

/* ---- the released payload, installed (the agent's delivery step) ---- */

int m_install_deliver(void *arg, const char *name, json_object *payload, const uint8_t *data, size_t len)
{
	struct m_install_job *j = arg;
	const char *t;
	int r;

	r = m_install_meta_parse(payload, &j->meta);
	if (r == -ENOENT)
		return m_err(-EPROTO, "payload '%s' carries no install metadata (measured admin payload add "
			     "--kind disk-image or root-archive); nothing written", name);
	if (r < 0)
		return r;
	t = j->target ? j->target : j->meta.target[0] ? j->meta.target : NULL;
	if (!t)
		return m_err(-EINVAL, "no install target: neither measured.install.target= (or --target) nor the "
			     "verifier's payload names one; nothing written");
	j->target_from = j->target ? j->target_from : "verifier";
	snprintf(j->target_used, sizeof(j->target_used), "%s", t);
	if (!strcmp(j->meta.kind, "root-archive"))
		r = m_install_archive(t, data, len, j->meta.sha256, j->workdir ? j->workdir : "/tmp", &j->hooks,
				      NULL);
	else
		r = m_install_disk(t, data, len, j->meta.sha256, &j->hooks);
	if (r == 0)
		j->len = len;
	return r;
}
