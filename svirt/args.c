/* SPDX-License-Identifier: MIT */
/*
 * QEMU's command line, read but never changed: the domain id (unless
 * --domid gives it) and, on QEMU/KVM hosts, the writable disks.
 */
#include "svirt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measured/error.h"

int svirt_parse_domid(const char *s, unsigned *ret_domid)
{
	size_t n = strlen(s);
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > SVIRT_DOMID_MAX)
		return -ERANGE;
	*ret_domid = v;
	return 0;
}

/* QEMU accepts "-opt" and "--opt" alike. */
static bool is_opt(const char *arg, const char *name)
{
	if (arg[0] != '-')
		return false;
	if (arg[1] == '-')
		arg++;
	return !strcmp(arg + 1, name);
}

/* The value of option @name; -ENOENT if absent, -EINVAL if it is the
 * last argument or given twice with different values. */
static int opt_value(int qargc, char *const *qargv, const char *name, const char **ret)
{
	const char *found = NULL;
	for (int i = 0; i < qargc; i++) {
		if (!is_opt(qargv[i], name))
			continue;
		if (i + 1 >= qargc)
			return m_err(-EINVAL, "QEMU option -%s has no value", name);
		if (found && strcmp(found, qargv[i + 1]) != 0)
			return m_err(-EINVAL, "QEMU option -%s given twice with different values", name);
		found = qargv[++i];
	}
	if (!found)
		return -ENOENT;
	*ret = found;
	return 0;
}

static int domid_of(const char *v, const char *where, unsigned *ret)
{
	int r = svirt_parse_domid(v, ret);
	if (r < 0)
		return m_err(-EINVAL, "%s: '%.32s' is not a domain id (0-%u)", where, v,
			     SVIRT_DOMID_MAX);
	return 0;
}

int svirt_find_domid(const struct svirt_config *c, int qargc, char *const *qargv,
		     unsigned *ret_domid)
{
	const char *v;
	int r;
	switch (c->domid_mode) {
	case SVIRT_DOMID_POS:
		if (c->domid_pos > qargc)
			return m_err(-EINVAL, "domid-arg=%d but QEMU has %d arguments", c->domid_pos,
				     qargc);
		return domid_of(qargv[c->domid_pos - 1], "domain id argument", ret_domid);
	case SVIRT_DOMID_XEN_DOMID:
		r = opt_value(qargc, qargv, "xen-domid", &v);
		if (r == -ENOENT)
			return m_err(-EINVAL, "QEMU arguments have no -xen-domid");
		return r < 0 ? r : domid_of(v, "-xen-domid", ret_domid);
	case SVIRT_DOMID_D:
		r = opt_value(qargc, qargv, "d", &v);
		if (r == -ENOENT)
			return m_err(-EINVAL, "QEMU arguments have no -d");
		return r < 0 ? r : domid_of(v, "-d", ret_domid);
	case SVIRT_DOMID_GIVEN:
		/* On Xen the device model's -xen-domid is the truth: a --domid
		 * naming another domain would label the wrong one's disks. */
		r = opt_value(qargc, qargv, "xen-domid", &v);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0) {
			unsigned x;
			r = domid_of(v, "-xen-domid", &x);
			if (r < 0)
				return r;
			if (x != c->domid_given)
				return m_err(-EINVAL, "--domid %u but QEMU's -xen-domid is %u",
					     c->domid_given, x);
		}
		*ret_domid = c->domid_given;
		return 0;
	case SVIRT_DOMID_AUTO:
		break;
	}
	/* auto: -xen-domid (upstream QEMU), then a numeric -d (qemu-dm; in
	 * upstream QEMU -d takes log items), then the first argument (the
	 * original interposer's convention). */
	r = opt_value(qargc, qargv, "xen-domid", &v);
	if (r == 0)
		return domid_of(v, "-xen-domid", ret_domid);
	if (r != -ENOENT)
		return r;
	r = opt_value(qargc, qargv, "d", &v);
	if (r == 0 && svirt_parse_domid(v, ret_domid) == 0)
		return 0;
	if (r < 0 && r != -ENOENT)
		return r;
	if (qargc >= 1 && svirt_parse_domid(qargv[0], ret_domid) == 0)
		return 0;
	return m_err(-EINVAL, "no domain id in QEMU arguments (-xen-domid N, -d N or first argument)");
}

void svirt_disklist_free(struct svirt_disklist *l)
{
	free(l->d);
	l->d = NULL;
	l->n = 0;
}

int svirt_disklist_add(struct svirt_disklist *l, const char *path, const char *origin)
{
	if (l->n >= SVIRT_DISKS_MAX)
		return m_err(-E2BIG, "more than %d disks", SVIRT_DISKS_MAX);
	if (path[0] != '/' || strlen(path) >= SVIRT_PATH_MAX)
		return m_err(-EINVAL, "%s: '%.200s' is not an absolute local path", origin, path);
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->d[i].path, path))
			return 0;
	struct svirt_disk *d = realloc(l->d, (l->n + 1) * sizeof(*d));
	if (!d)
		return m_err(-ENOMEM, "out of memory");
	l->d = d;
	snprintf(d[l->n].path, sizeof(d[l->n].path), "%s", path);
	snprintf(d[l->n].origin, sizeof(d[l->n].origin), "%s", origin);
	l->n++;
	return 0;
}

/*
 * One -drive value: comma-separated key=value, ",," is a literal comma
 * (QEMU's QemuOpts syntax).  Writable unless readonly=on/yes/true or
 * media=cdrom; a drive without file= is an empty slot.
 */
static int drive_spec(const char *spec, struct svirt_disklist *l, int argi)
{
	char file[SVIRT_PATH_MAX] = "", key[32], val[SVIRT_PATH_MAX];
	bool ro = false, have_file = false;
	const char *p = spec;
	while (*p) {
		size_t kn = 0, vn = 0;
		while (*p && *p != '=' && *p != ',') {
			if (kn + 1 >= sizeof(key))
				return m_err(-EINVAL, "argument %d: -drive key too long", argi);
			key[kn++] = *p++;
		}
		key[kn] = '\0';
		if (*p == '=')
			p++;
		while (*p) {
			if (*p == ',') {
				if (p[1] != ',')
					break;
				p++;
			}
			if (vn + 1 >= sizeof(val))
				return m_err(-EINVAL, "argument %d: -drive value too long", argi);
			val[vn++] = *p++;
		}
		val[vn] = '\0';
		if (*p == ',')
			p++;
		if (!strcmp(key, "file")) {
			snprintf(file, sizeof(file), "%s", val);
			have_file = true;
		} else if (!strcmp(key, "readonly") || !strcmp(key, "read-only")) {
			ro = !strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true");
		} else if (!strcmp(key, "media")) {
			if (!strcmp(val, "cdrom"))
				ro = true;
		}
	}
	if (!have_file || !file[0] || ro)
		return 0;
	char origin[64];
	snprintf(origin, sizeof(origin), "QEMU argument %d (-drive file=)", argi);
	return svirt_disklist_add(l, file, origin);
}

int svirt_disks_from_args(int qargc, char *const *qargv, struct svirt_disklist *l)
{
	static const char *const hd[] = { "hda", "hdb", "hdc", "hdd" };
	for (int i = 0; i < qargc; i++) {
		const char *a = qargv[i];
		if (is_opt(a, "blockdev"))
			return m_err(-EOPNOTSUPP,
				     "QEMU argument %d: -blockdev is not parsed; use disks=none and label the images",
				     i + 1);
		bool is_drive = is_opt(a, "drive"), is_hd = false;
		for (size_t k = 0; k < 4; k++)
			is_hd |= is_opt(a, hd[k]);
		if (!is_drive && !is_hd)
			continue;
		if (i + 1 >= qargc)
			return m_err(-EINVAL, "QEMU argument %d: %.16s has no value", i + 1, a);
		int r;
		if (is_drive) {
			r = drive_spec(qargv[i + 1], l, i + 2);
		} else {
			char origin[64];
			snprintf(origin, sizeof(origin), "QEMU argument %d (%.8s)", i + 2, a);
			r = svirt_disklist_add(l, qargv[i + 1], origin);
		}
		if (r < 0)
			return r;
		i++;
	}
	return 0;
}
