/* SPDX-License-Identifier: MIT */
/*
 * The state-directory store for QEMU/KVM hosts (no XenStore).
 *
 *   STATE/lock        flock()ed exclusively around every reservation and
 *                     release, so scan-then-create is atomic across processes
 *   STATE/cat/cA[,cB] one file per reserved label, created O_CREAT|O_EXCL
 *                     (a second guard: two creators can never both succeed)
 *                     holding the domid
 *   STATE/dom/DOMID   "range=s0:..." then one "disk=PATH" line per labelled
 *                     disk, so release can reset them
 *
 * Limits: a dom file is at most SVIRT_DISKS_MAX disk lines.
 */
#include "svirt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measured/error.h"

#define DOMFILE_MAX (SVIRT_DISKS_MAX * (SVIRT_PATH_MAX + 8) + 64)

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int mkdir_p1(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return m_err(-errno, "%s: %s", path, strerror(errno));
	return 0;
}

/* Take the store's lock; the returned fd holds it until closed. */
static int lock_store(const struct svirt_config *c, bool create, int *ret_fd)
{
	char p[SVIRT_PATH_MAX + 16];
	int r;
	if (create) {
		if ((r = mkdir_p1(c->state_dir)) < 0)
			return r;
		snprintf(p, sizeof(p), "%s/cat", c->state_dir);
		if ((r = mkdir_p1(p)) < 0)
			return r;
		snprintf(p, sizeof(p), "%s/dom", c->state_dir);
		if ((r = mkdir_p1(p)) < 0)
			return r;
	}
	snprintf(p, sizeof(p), "%s/lock", c->state_dir);
	int fd = open(p, (create ? O_CREAT : 0) | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return m_err(-errno, "%s: %s", p, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = m_err(-errno, "%s: flock: %s", p, strerror(errno));
			close(fd);
			return r;
		}
	}
	*ret_fd = fd;
	return 0;
}

static int read_small(const char *path, char *buf, size_t max, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, max - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == max) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r == 0) {
		buf[len] = '\0';
		*ret_len = len;
	}
	return r;
}

static int create_excl(const char *path, const char *content)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, content, strlen(content));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

int svirt_dir_reserve(const struct svirt_config *c, unsigned domid, svirt_rng_fn rng,
		      void *ctx, bool dry_run, char *range, size_t rlen, bool *ret_reused)
{
	struct svirt_mcs m;
	char p[SVIRT_PATH_MAX + 64], buf[64], *dom = NULL;
	size_t len;
	int lockfd = -1, r;
	DIR *d = NULL;

	r = svirt_mcs_init(&m, c->cat_lo, c->cat_hi, c->pairs);
	if (r < 0)
		return r;
	r = lock_store(c, !dry_run, &lockfd);
	if (r < 0 && !(dry_run && r == -ENOENT))
		goto out;
	snprintf(p, sizeof(p), "%s/dom/%u", c->state_dir, domid);
	dom = malloc(DOMFILE_MAX + 1);
	if (!dom) {
		r = m_err(-ENOMEM, "out of memory");
		goto out;
	}
	if ((r = read_small(p, dom, DOMFILE_MAX, &len)) != -ENOENT) {
		/* Another QEMU of the same domain: it shares the VM's label
		 * (existing-label=reuse), which stays reserved to this domain. */
		char *nl = strchr(dom, '\n');
		unsigned a, b;
		bool pair;
		if (nl)
			*nl = '\0';
		if (r < 0)
			r = m_err(r, "%s: %s", p, strerror(-r));
		else if (c->existing == SVIRT_EXISTING_REFUSE)
			r = m_err(-EEXIST, "%s: domain %u already holds a label (existing-label=refuse)",
				  p, domid);
		else if (strncmp(dom, "range=", 6) || svirt_range_parse(dom + 6, &a, &b, &pair) < 0 ||
			 snprintf(range, rlen, "%s", dom + 6) >= (int)rlen)
			r = m_err(-EINVAL, "%s: no valid range= line", p);
		else
			*ret_reused = true;
		goto out;
	}
	snprintf(p, sizeof(p), "%s/cat", c->state_dir);
	d = opendir(p);
	if (!d && !(dry_run && errno == ENOENT)) {
		r = m_err(-errno, "%s: %s", p, strerror(errno));
		goto out;
	}
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char rs[SVIRT_RANGE_MAX];
		if (m_snprintf(rs, sizeof(rs), "s0:%s", e->d_name) < 0 ||
		    svirt_mcs_mark_range(&m, rs) < 0) {
			/* Unknown names cannot be ours; ignore rather than fail
			 * every launch, and leave it to the admin. */
			continue;
		}
	}
	uint32_t idx;
	if ((r = svirt_mcs_choose(&m, rng, ctx, &idx)) < 0)
		goto out;
	if ((r = svirt_mcs_range_str(&m, idx, range, rlen)) < 0)
		goto out;
	*ret_reused = false;
	if (dry_run)
		goto out;
	snprintf(p, sizeof(p), "%s/cat/%s", c->state_dir, range + 3);
	snprintf(buf, sizeof(buf), "%u\n", domid);
	r = create_excl(p, buf);
	if (r < 0) {
		r = m_err(r, "%s: %s", p, strerror(-r));
		goto out;
	}
	char dp[SVIRT_PATH_MAX + 64];
	snprintf(dp, sizeof(dp), "%s/dom/%u", c->state_dir, domid);
	snprintf(buf, sizeof(buf), "range=%s\n", range);
	r = create_excl(dp, buf);
	if (r < 0) {
		unlink(p);
		r = m_err(r, "%s: %s", dp, strerror(-r));
	}
out:
	if (d)
		closedir(d);
	if (lockfd >= 0)
		close(lockfd);
	free(dom);
	svirt_mcs_free(&m);
	return r;
}

/* Is "disk=PATH" already a line of @text? */
static bool has_disk_line(const char *text, const char *path)
{
	size_t n = strlen(path);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "disk=", 5) && !strncmp(l + 5, path, n) && (l[5 + n] == '\n' || !l[5 + n]))
			return true;
	return false;
}

int svirt_dir_record_disks(const struct svirt_config *c, unsigned domid,
			   const struct svirt_disklist *l)
{
	char p[SVIRT_PATH_MAX + 64], tmp[SVIRT_PATH_MAX + 80];
	char *old = NULL;
	size_t len;
	int lockfd, r, fd = -1;
	if ((r = lock_store(c, false, &lockfd)) < 0)
		return r;
	snprintf(p, sizeof(p), "%s/dom/%u", c->state_dir, domid);
	snprintf(tmp, sizeof(tmp), "%s/dom/.%u.tmp", c->state_dir, domid);
	/* The file keeps what earlier QEMUs of the domain recorded (a
	 * reused label): their disks are released with it. */
	old = malloc(DOMFILE_MAX + 1);
	if (!old) {
		r = m_err(-ENOMEM, "out of memory");
		goto out;
	}
	r = read_small(p, old, DOMFILE_MAX, &len);
	if (r < 0) {
		r = m_err(r, "%s: %s", p, strerror(-r));
		goto out;
	}
	if (len > 0 && old[len - 1] != '\n') {
		r = m_err(-EINVAL, "%s: last line is not terminated", p);
		goto out;
	}
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = m_err(-errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	r = write_all(fd, old, len);
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		if (strchr(l->d[i].path, '\n') || has_disk_line(old, l->d[i].path))
			continue; /* newline: cannot be recorded line-wise; never labelled either */
		r = write_all(fd, "disk=", 5);
		if (r == 0)
			r = write_all(fd, l->d[i].path, strlen(l->d[i].path));
		if (r == 0)
			r = write_all(fd, "\n", 1);
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0 && rename(tmp, p) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		r = m_err(r, "%s: %s", p, strerror(-r));
	}
out:
	free(old);
	close(lockfd);
	return r;
}

int svirt_dir_release(const struct svirt_config *c, unsigned domid, char *range,
		      size_t rlen, struct svirt_disklist *ret_disks)
{
	char p[SVIRT_PATH_MAX + 64], cp[SVIRT_PATH_MAX + 64];
	char *buf = NULL;
	size_t len;
	int lockfd, r;
	unsigned a, b;
	bool pair;
	struct svirt_disklist l = { 0 };

	if ((r = lock_store(c, false, &lockfd)) < 0)
		return r;
	snprintf(p, sizeof(p), "%s/dom/%u", c->state_dir, domid);
	buf = malloc(DOMFILE_MAX + 1);
	if (!buf) {
		r = m_err(-ENOMEM, "out of memory");
		goto out;
	}
	r = read_small(p, buf, DOMFILE_MAX, &len);
	if (r < 0) {
		r = m_err(r, "%s: %s", p, r == -ENOENT ? "domain has no reservation" : strerror(-r));
		goto out;
	}
	char *line = buf, *range_v = NULL;
	while (*line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "range=", 6))
			range_v = line + 6;
		else if (!strncmp(line, "disk=", 5) && (r = svirt_disklist_add(&l, line + 5, p)) < 0)
			goto out;
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!range_v || svirt_range_parse(range_v, &a, &b, &pair) < 0 ||
	    snprintf(range, rlen, "%s", range_v) >= (int)rlen) {
		r = m_err(-EINVAL, "%s: no valid range= line", p);
		goto out;
	}
	snprintf(cp, sizeof(cp), "%s/cat/%s", c->state_dir, range_v + 3);
	if (unlink(cp) < 0 && errno != ENOENT) {
		r = m_err(-errno, "%s: %s", cp, strerror(errno));
		goto out;
	}
	if (unlink(p) < 0) {
		r = m_err(-errno, "%s: %s", p, strerror(errno));
		goto out;
	}
	*ret_disks = l;
	l = (struct svirt_disklist){ 0 };
	r = 0;
out:
	svirt_disklist_free(&l);
	free(buf);
	close(lockfd);
	return r;
}
