// SPDX-License-Identifier: MIT
/*
 * Handing over to the real root, as util-linux's switch_root and
 * busybox's switch_root do it in substance: move the API file systems into
 * the new root, delete the initramfs contents (it is RAM that would
 * otherwise stay allocated for the life of the system), move the new root
 * onto /, chroot into it and exec its init.  The initramfs cannot be
 * unmounted (it is the rootfs), only emptied.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"

int move_mounts(const char *newroot)
{
	static const char *const api[] = { "/dev", "/proc", "/sys", "/run" };

	for (unsigned i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		char dst[300];

		snprintf(dst, sizeof(dst), "%s%s", newroot, api[i]);
		if (mount(api[i], dst, NULL, MS_MOVE, NULL) < 0)
			return m_err(-errno, "moving %s to %s: %m (does the root have %s?)", api[i], dst, api[i]);
	}
	return 0;
}

/* Remove everything under @dirfd that is on device @dev (never crossing
 * into another mount, such as the new root). */
static void delete_tree(int dirfd, dev_t dev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				delete_tree(sub, dev);
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

int switch_root(const char *newroot, const char *init)
{
	struct stat root, nr;
	int fd;

	if (stat("/", &root) < 0 || stat(newroot, &nr) < 0)
		return m_err(-errno, "stat: %m");
	if (root.st_dev == nr.st_dev)
		return m_err(-EINVAL, "%s is not a mount point", newroot);
	if (chdir(newroot) < 0)
		return m_err(-errno, "chdir %s: %m", newroot);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		delete_tree(fd, root.st_dev);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return m_err(-errno, "moving %s to /: %m", newroot);
	if (chroot(".") < 0)
		return m_err(-errno, "chroot: %m");
	if (chdir("/") < 0)
		return m_err(-errno, "chdir /: %m");
	{
		char *const argv[] = { (char *)init, NULL };

		/* The last moment measured-init owns: the benchmark's "init start
		 * to switch_root" (bench/bench_init.sh). */
		say("exec %s %.3f s after init start", init, now_s() - init_t_start);
		execv(init, argv);
	}
	return m_err(-errno, "exec %s in the new root: %m", init);
}
