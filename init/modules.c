// SPDX-License-Identifier: MIT
/*
 * Load the modules `measured mkinitramfs` put in the initramfs, in the
 * order modules.dep gives (dependencies first), with finit_module(2): the
 * initramfs has no modprobe.  A module that is already there (built in,
 * or loaded as a dependency) is fine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"
#include "measured/file.h"

int load_modules(unsigned *ret_loaded)
{
	struct utsname u;
	char dir[300], path[600], *text = NULL;
	struct mi_moddep *m = NULL;
	const char **order = NULL;
	size_t len, n = 0;
	unsigned loaded = 0;
	int err;

	if (uname(&u) < 0)
		return m_err(-errno, "uname: %m");
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	err = m_read_file(path, MI_MODDEP_MAX_BYTES, (uint8_t **)&text, &len);
	if (err == -ENOENT) {
		*ret_loaded = 0;	/* an initramfs without modules */
		return 0;
	}
	if (err < 0)
		return m_err_prefix(err, "%s", path);
	err = mi_moddep_parse(text, len, &m);
	if (err < 0)
		goto out;
	err = mi_moddep_closure(m, NULL, 0, &order, &n);
	if (err < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, order[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = m_err(-errno, "%s: %m", path);
			goto out;
		}
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) {
			err = m_err(-errno, "loading %s: %m", path);
			close(fd);
			goto out;
		}
		close(fd);
		loaded++;
	}
	*ret_loaded = loaded;
out:
	free(order);
	mi_moddep_free(m);
	free(text);
	return err;
}
