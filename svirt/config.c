/* SPDX-License-Identifier: MIT */
/*
 * The configuration file: "key = value" lines, '#' comments, blank lines
 * ignored; an unknown key or bad value is an error naming file:line.
 * Limits: SVIRT_CONF_MAX bytes per file, SVIRT_CONF_LINE_MAX per line.
 * Keys are documented in docs/svirt-interpose.md.
 */
#include "svirt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measured/error.h"

#ifndef SVIRT_DEFAULT_QEMU
/* Where the original interposer's install moved QEMU: a host that swaps
 * this one in keeps working unchanged. */
#define SVIRT_DEFAULT_QEMU "/opt/xensource/libexec/qemu-dm-wrapper-old"
#endif
#ifndef SVIRT_DEFAULT_STATE_DIR
#define SVIRT_DEFAULT_STATE_DIR "/run/svirt-interpose"
#endif

void svirt_config_defaults(struct svirt_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->qemu, sizeof(c->qemu), "%s", SVIRT_DEFAULT_QEMU);
	c->domid_mode = SVIRT_DOMID_AUTO;
	c->store = SVIRT_STORE_XENSTORE;
	c->disks = SVIRT_DISKS_AUTO;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", SVIRT_DEFAULT_STATE_DIR);
	c->cat_lo = 1;
	c->cat_hi = SVIRT_CAT_MAX;
	c->pairs = false;
	c->refuse_if_disabled = false;
	c->mcs_format = SVIRT_MCS_NUMBER;
	c->existing = SVIRT_EXISTING_REUSE;
	c->close_fds = false;
	c->clear_env = false;
}

/* Two-word choices: *ret = 0 for @a, 1 for @b. */
static int choice(const char *v, const char *a, const char *b, int *ret)
{
	if (!strcmp(v, a))
		*ret = 0;
	else if (!strcmp(v, b))
		*ret = 1;
	else
		return -EINVAL;
	return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *ret)
{
	if (!*s || strlen(s) > 5)
		return -EINVAL;
	unsigned v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int set_path(char *dst, const char *v)
{
	if (v[0] != '/' || strlen(v) >= SVIRT_PATH_MAX)
		return -EINVAL;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_key(struct svirt_config *c, const char *k, const char *v)
{
	unsigned a, b;
	if (!strcmp(k, "qemu"))
		return set_path(c->qemu, v);
	if (!strcmp(k, "state-dir"))
		return set_path(c->state_dir, v);
	if (!strcmp(k, "domid-arg")) {
		if (!strcmp(v, "auto"))
			c->domid_mode = SVIRT_DOMID_AUTO;
		else if (!strcmp(v, "-xen-domid"))
			c->domid_mode = SVIRT_DOMID_XEN_DOMID;
		else if (!strcmp(v, "-d"))
			c->domid_mode = SVIRT_DOMID_D;
		else if (parse_uint(v, 4096, &a) == 0 && a >= 1) {
			c->domid_mode = SVIRT_DOMID_POS;
			c->domid_pos = (int)a;
		} else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "store")) {
		if (!strcmp(v, "xenstore"))
			c->store = SVIRT_STORE_XENSTORE;
		else if (!strcmp(v, "dir"))
			c->store = SVIRT_STORE_DIR;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "disks")) {
		if (!strcmp(v, "auto"))
			c->disks = SVIRT_DISKS_AUTO;
		else if (!strcmp(v, "xenstore"))
			c->disks = SVIRT_DISKS_XENSTORE;
		else if (!strcmp(v, "args"))
			c->disks = SVIRT_DISKS_ARGS;
		else if (!strcmp(v, "none"))
			c->disks = SVIRT_DISKS_NONE;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "categories")) {
		const char *dash = strchr(v, '-');
		char lo[8];
		if (!dash || (size_t)(dash - v) >= sizeof(lo))
			return -EINVAL;
		memcpy(lo, v, (size_t)(dash - v));
		lo[dash - v] = '\0';
		if (parse_uint(lo, SVIRT_CAT_MAX, &a) < 0 || parse_uint(dash + 1, SVIRT_CAT_MAX, &b) < 0 ||
		    a < 1 || a >= b)
			return -EINVAL;
		c->cat_lo = a;
		c->cat_hi = b;
		return 0;
	}
	if (!strcmp(k, "pairs")) {
		if (!strcmp(v, "yes"))
			c->pairs = true;
		else if (!strcmp(v, "no"))
			c->pairs = false;
		else
			return -EINVAL;
		return 0;
	}
	int ch, r;
	if (!strcmp(k, "mcs-format")) {
		if ((r = choice(v, "number", "range", &ch)) == 0)
			c->mcs_format = ch ? SVIRT_MCS_RANGE : SVIRT_MCS_NUMBER;
		return r;
	}
	if (!strcmp(k, "existing-label")) {
		if ((r = choice(v, "reuse", "refuse", &ch)) == 0)
			c->existing = ch ? SVIRT_EXISTING_REFUSE : SVIRT_EXISTING_REUSE;
		return r;
	}
	if (!strcmp(k, "close-fds")) {
		if ((r = choice(v, "no", "yes", &ch)) == 0)
			c->close_fds = ch;
		return r;
	}
	if (!strcmp(k, "environment")) {
		if ((r = choice(v, "keep", "clear", &ch)) == 0)
			c->clear_env = ch;
		return r;
	}
	if (!strcmp(k, "on-selinux-disabled")) {
		if (!strcmp(v, "warn"))
			c->refuse_if_disabled = false;
		else if (!strcmp(v, "refuse"))
			c->refuse_if_disabled = true;
		else
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

static char *trim(char *s, char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

int svirt_config_parse(struct svirt_config *c, const char *text, size_t len, const char *name)
{
	char line[SVIRT_CONF_LINE_MAX + 1];
	size_t i = 0;
	unsigned lineno = 0;
	if (len > SVIRT_CONF_MAX)
		return m_err(-EFBIG, "%s: larger than %d bytes", name, SVIRT_CONF_MAX);
	while (i < len) {
		size_t s = i;
		while (i < len && text[i] != '\n')
			i++;
		size_t n = i - s;
		i++;
		lineno++;
		if (n > SVIRT_CONF_LINE_MAX)
			return m_err(-EINVAL, "%s:%u: line longer than %d bytes", name, lineno,
				     SVIRT_CONF_LINE_MAX);
		if (memchr(text + s, '\0', n))
			return m_err(-EINVAL, "%s:%u: NUL byte", name, lineno);
		memcpy(line, text + s, n);
		char *l = trim(line, line + n);
		if (!*l || *l == '#')
			continue;
		char *eq = strchr(l, '=');
		if (!eq)
			return m_err(-EINVAL, "%s:%u: expected key=value", name, lineno);
		char *v = trim(eq + 1, l + strlen(l));
		*eq = '\0';
		char *k = trim(l, eq);
		int r = set_key(c, k, v);
		if (r == -ENOENT)
			return m_err(-EINVAL, "%s:%u: unknown key '%s'", name, lineno, k);
		if (r < 0)
			return m_err(-EINVAL, "%s:%u: bad value '%s' for %s", name, lineno, v, k);
	}
	return 0;
}

int svirt_config_load(struct svirt_config *c, const char *path, bool optional)
{
	char *buf = NULL;
	size_t len = 0;
	int r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && optional)
			return 0;
		return m_err(-errno, "%s: %s", path, strerror(errno));
	}
	buf = malloc(SVIRT_CONF_MAX + 1);
	if (!buf) {
		r = m_err(-ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, SVIRT_CONF_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = m_err(-errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SVIRT_CONF_MAX) {
			r = m_err(-EFBIG, "%s: larger than %d bytes", path, SVIRT_CONF_MAX);
			goto out;
		}
	}
	r = svirt_config_parse(c, buf, len, path);
out:
	free(buf);
	close(fd);
	return r;
}
