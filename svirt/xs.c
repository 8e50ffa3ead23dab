/* SPDX-License-Identifier: MIT */
/*
 * The XenStore store and disk list, through libxenstore (which honours
 * XENSTORED_PATH, so tests can point it at a socket).
 *
 * The label is /local/domain/<domid>/selinux-mcs.  Reading every domain's
 * key and writing ours happen inside one XenStore transaction: if another
 * launch commits in between, ours ends with EAGAIN and is retried, so two
 * VMs can never both take the same label (the original interposer read,
 * then wrote, outside any transaction).
 */
#include "svirt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "measured/error.h"

#define XS_TX_RETRIES 64
/* A value we read (mode, params, a label) is at most this long. */
#define XS_VALUE_MAX SVIRT_PATH_MAX

int svirt_xs_open(struct xs_handle **ret)
{
	struct xs_handle *h = xs_open(0);
	if (!h)
		return m_err(-errno ? -errno : -EIO, "cannot connect to XenStore: %s", strerror(errno));
	*ret = h;
	return 0;
}

void svirt_xs_close(struct xs_handle *h)
{
	if (h)
		xs_close(h);
}

/* Read @path as a C string; -ENOENT if absent. */
static int xs_get(struct xs_handle *h, xs_transaction_t t, const char *path, char **ret)
{
	unsigned len = 0;
	char *v = xs_read(h, t, path, &len);
	if (!v) {
		if (errno == ENOENT)
			return -ENOENT;
		return m_err(errno ? -errno : -EIO, "XenStore read %s: %s", path, strerror(errno));
	}
	if (len > XS_VALUE_MAX || strlen(v) != len) {
		free(v);
		return m_err(-EINVAL, "XenStore %s: value too long or contains NUL", path);
	}
	*ret = v;
	return 0;
}

int svirt_xs_disks(struct xs_handle *h, unsigned domid, struct svirt_disklist *l)
{
	char dir[128], p[SVIRT_PATH_MAX];
	unsigned n = 0;
	int r = 0;
	char *backend = NULL, *mode = NULL, *val = NULL;

	if ((r = svirt_xs_path(dir, sizeof(dir), "/local/domain/%u/device/vbd", domid)) < 0)
		return r;
	char **ents = xs_directory(h, XBT_NULL, dir, &n);
	if (!ents) {
		if (errno == ENOENT)
			return 0; /* a VM without disks */
		return m_err(errno ? -errno : -EIO, "XenStore directory %s: %s", dir, strerror(errno));
	}
	for (unsigned i = 0; i < n; i++) {
		free(backend), free(mode), free(val);
		backend = mode = val = NULL;
		if (!svirt_xs_valid_devid(ents[i])) {
			r = m_err(-EINVAL, "XenStore %s: bad device entry '%.32s'", dir, ents[i]);
			break;
		}
		if ((r = svirt_xs_path(p, sizeof(p), "%s/%s/backend", dir, ents[i])) < 0)
			break;
		if ((r = xs_get(h, XBT_NULL, p, &backend)) < 0) {
			if (r == -ENOENT)
				r = m_err(r, "XenStore %s: missing", p);
			break;
		}
		if (!svirt_xs_valid_backend(backend)) {
			r = m_err(-EINVAL, "XenStore %s: bad backend path '%.200s'", p, backend);
			break;
		}
		if ((r = svirt_xs_path(p, sizeof(p), "%s/mode", backend)) < 0)
			break;
		if ((r = xs_get(h, XBT_NULL, p, &mode)) < 0) {
			if (r == -ENOENT)
				r = m_err(r, "XenStore %s: missing", p);
			break;
		}
		/* "r": read-only (a CD-ROM), shared, left alone.  Writable
		 * modes start with 'w' ("w", or "w!" for a disk shared
		 * writable), as the original interposer tested. */
		if (mode[0] == 'r')
			continue;
		if (mode[0] != 'w') {
			r = m_err(-EINVAL, "XenStore %s: unknown mode '%.16s'", p, mode);
			break;
		}
		if ((r = svirt_xs_path(p, sizeof(p), "%s/loop-device", backend)) < 0)
			break;
		r = xs_get(h, XBT_NULL, p, &val);
		if (r == -ENOENT || (r == 0 && !val[0])) {
			free(val);
			val = NULL;
			if ((r = svirt_xs_path(p, sizeof(p), "%s/params", backend)) < 0)
				break;
			r = xs_get(h, XBT_NULL, p, &val);
			if (r == -ENOENT)
				r = m_err(r, "XenStore %s: missing", p);
		}
		if (r < 0)
			break;
		const char *path = svirt_strip_type_prefix(val);
		if (!path) {
			r = m_err(-EINVAL, "XenStore %s: '%.200s' is not a local file or device", p, val);
			break;
		}
		if ((r = svirt_disklist_add(l, path, p)) < 0)
			break;
	}
	free(backend), free(mode), free(val);
	free(ents);
	return r;
}

/* Two labels let one VM open the other's files when they are equal, or
 * when one is a single category contained in the other's pair. */
static bool labels_conflict(const char *r1, const char *r2)
{
	unsigned a1, b1, a2, b2;
	bool p1, p2;
	if (svirt_range_parse(r1, &a1, &b1, &p1) < 0 || svirt_range_parse(r2, &a2, &b2, &p2) < 0)
		return true;
	if (p1 == p2)
		return a1 == a2 && b1 == b2;
	if (p1)
		return a2 == a1 || a2 == b1;
	return a1 == a2 || a1 == b2;
}

static int reserve_once(struct xs_handle *h, xs_transaction_t t, const struct svirt_config *c,
			unsigned domid, svirt_rng_fn rng, void *ctx, char *range, size_t rlen,
			bool *ret_reused)
{
	struct svirt_mcs m;
	char p[128], own_key[128], own[SVIRT_RANGE_MAX], rs[SVIRT_RANGE_MAX], *v = NULL;
	unsigned n = 0;
	char **ents = NULL;
	bool have_own = false;
	int r = svirt_mcs_init(&m, c->cat_lo, c->cat_hi, c->pairs);
	if (r < 0)
		return r;
	svirt_xs_path(p, sizeof(p), "/local/domain/%u", domid);
	if ((r = xs_get(h, t, p, &v)) < 0) {
		if (r == -ENOENT)
			r = m_err(r, "XenStore %s: no such domain", p);
		goto out;
	}
	free(v);
	v = NULL;
	/*
	 * A label already there belongs to this domain (another QEMU of the
	 * same VM, or a restarted one).  The original interposer drew a new
	 * category and overwrote it, which freed the old one while a QEMU
	 * might still run with it; keeping it keeps the VM's QEMUs and disks
	 * together and never frees a label in use.
	 */
	svirt_xs_path(own_key, sizeof(own_key), "/local/domain/%u/selinux-mcs", domid);
	if ((r = xs_get(h, t, own_key, &v)) == 0) {
		if (c->existing == SVIRT_EXISTING_REFUSE) {
			r = m_err(-EEXIST, "XenStore %s: already set to '%.32s' (existing-label=refuse)",
				  own_key, v);
			goto out;
		}
		if ((r = svirt_label_value_parse(v, own, sizeof(own))) < 0) {
			r = m_err_prefix(r, "XenStore %s", own_key);
			goto out;
		}
		have_own = true;
	} else if (r != -ENOENT) {
		goto out;
	}
	ents = xs_directory(h, t, "/local/domain", &n);
	if (!ents) {
		r = m_err(errno ? -errno : -EIO, "XenStore directory /local/domain: %s", strerror(errno));
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned d;
		if (svirt_parse_domid(ents[i], &d) < 0 || d == domid)
			continue;
		svirt_xs_path(p, sizeof(p), "/local/domain/%u/selinux-mcs", d);
		free(v);
		v = NULL;
		r = xs_get(h, t, p, &v);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			goto out;
		/* Fail closed: an unreadable label might be one we'd
		 * otherwise hand out twice. */
		if ((r = svirt_label_value_parse(v, rs, sizeof(rs))) < 0 ||
		    (r = svirt_mcs_mark_range(&m, rs)) < 0) {
			r = m_err_prefix(r, "XenStore %s", p);
			goto out;
		}
		if (have_own && labels_conflict(own, rs)) {
			r = m_err(-EEXIST, "XenStore %s: '%s' collides with %s ('%.32s'): refusing to run two VMs with one label",
				  own_key, own, p, v);
			goto out;
		}
	}
	if (have_own) {
		if (snprintf(range, rlen, "%s", own) >= (int)rlen) {
			r = m_err(-ENAMETOOLONG, "range buffer too small");
			goto out;
		}
		*ret_reused = true;
		r = 0;
		goto out;
	}
	uint32_t idx;
	if ((r = svirt_mcs_choose(&m, rng, ctx, &idx)) < 0)
		goto out;
	r = svirt_mcs_range_str(&m, idx, range, rlen);
	*ret_reused = false;
out:
	free(ents);
	free(v);
	svirt_mcs_free(&m);
	return r;
}

int svirt_xs_reserve(struct xs_handle *h, const struct svirt_config *c, unsigned domid,
		     svirt_rng_fn rng, void *ctx, bool dry_run, char *range, size_t rlen,
		     bool *ret_reused)
{
	char p[128];
	svirt_xs_path(p, sizeof(p), "/local/domain/%u/selinux-mcs", domid);
	for (int attempt = 0; attempt < XS_TX_RETRIES; attempt++) {
		bool reused = false;
		xs_transaction_t t = xs_transaction_start(h);
		if (t == XBT_NULL)
			return m_err(errno ? -errno : -EIO, "XenStore transaction start: %s",
				     strerror(errno));
		int r = reserve_once(h, t, c, domid, rng, ctx, range, rlen, &reused);
		/* A single category goes in as the bare number by default:
		 * the original interposer reads nothing else, and refuses to
		 * start any VM while a value it cannot read is in the store. */
		const char *val = range;
		if (r == 0 && c->mcs_format == SVIRT_MCS_NUMBER && !strchr(range, ','))
			val = range + 4;
		if (r == 0 && !dry_run && !reused && !xs_write(h, t, p, val, (unsigned)strlen(val)))
			r = m_err(errno ? -errno : -EIO, "XenStore write %s: %s", p, strerror(errno));
		bool abort_tx = r < 0 || dry_run || reused;
		if (!xs_transaction_end(h, t, abort_tx) && !abort_tx) {
			if (errno == EAGAIN)
				continue; /* someone else committed first: look again */
			return m_err(errno ? -errno : -EIO, "XenStore transaction end (%s): %s", p,
				     strerror(errno));
		}
		if (r == 0)
			*ret_reused = reused;
		return r;
	}
	return m_err(-EAGAIN, "XenStore %s: transaction conflicted %d times", p, XS_TX_RETRIES);
}

int svirt_xs_release(struct xs_handle *h, unsigned domid, char *range, size_t rlen)
{
	char p[128], *v = NULL;
	svirt_xs_path(p, sizeof(p), "/local/domain/%u/selinux-mcs", domid);
	int r = xs_get(h, XBT_NULL, p, &v);
	if (r == -ENOENT)
		return m_err(r, "XenStore %s: missing (nothing to release)", p);
	if (r < 0)
		return r;
	if (svirt_label_value_parse(v, range, rlen) < 0) {
		r = m_err(-EINVAL, "XenStore %s: bad label '%.32s'", p, v);
		free(v);
		return r;
	}
	free(v);
	if (!xs_rm(h, XBT_NULL, p))
		return m_err(errno ? -errno : -EIO, "XenStore rm %s: %s", p, strerror(errno));
	return 0;
}
