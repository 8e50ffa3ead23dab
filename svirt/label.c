/* SPDX-License-Identifier: MIT */
/*
 * File labels and QEMU's exec context, through libselinux.
 */
#include "svirt.h"

#include <errno.h>
#include <fcntl.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "measured/error.h"

int svirt_label_file(const char *path, const char *range, char *newctx, size_t nlen)
{
	char *old = NULL;
	if (getfilecon(path, &old) < 0)
		return m_err(-errno, "%s: cannot read SELinux label: %s", path, strerror(errno));
	int r = svirt_ctx_set_range(old, range, newctx, nlen);
	freecon(old);
	if (r < 0)
		return m_err_prefix(r, "%s", path);
	if (setfilecon(path, newctx) < 0)
		return m_err(-errno, "%s: cannot set SELinux label %s: %s", path, newctx,
			     strerror(errno));
	return 0;
}

/* The type comes from the policy's virtual_domain_context file (Debian:
 * system_u:system_r:svirt_t:s0), the range is the VM's. */
int svirt_qemu_context(const char *range, char *out, size_t outlen)
{
	const char *path = selinux_virtual_domain_context_path();
	char text[1024], base[SVIRT_CTX_MAX];
	if (!path)
		return m_err(-ENOENT, "libselinux names no virtual_domain_context file");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return m_err(-errno, "%s: %s", path, strerror(errno));
	ssize_t n;
	do
		n = read(fd, text, sizeof(text));
	while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0)
		return m_err(-e, "%s: %s", path, strerror(e));
	/* The file holds a few short lines; more than 1 KiB is not one. */
	if ((size_t)n == sizeof(text))
		return m_err(-EFBIG, "%s: longer than %zu bytes", path, sizeof(text) - 1);
	int r = svirt_ctx_first_line(text, (size_t)n, base, sizeof(base));
	if (r == 0)
		r = svirt_ctx_set_range(base, range, out, outlen);
	return r < 0 ? m_err_prefix(r, "%s", path) : 0;
}
