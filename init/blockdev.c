// SPDX-License-Identifier: MIT
/*
 * Finding and freezing the root device, and loop devices.  The device is
 * set read-only with BLKROSET before it is read, so this kernel writes
 * nothing to it between the measurement and the mount.  That alone does not
 * make the bytes mounted the bytes measured (a device may answer a second
 * read differently, or be swapped under its name): see init/rootmode.c for
 * the three modes and what each guarantees.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"

static int probe_dev(const char *dev, struct mi_fsinfo *ret)
{
	static uint8_t buf[MI_PROBE_LEN];
	size_t off = 0;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (off < sizeof(buf)) {
		ssize_t n = pread(fd, buf + off, sizeof(buf) - off, (off_t)off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	return mi_probe(buf, off, ret);
}

/* LABEL=/UUID=: look at every block device the kernel knows. */
static int scan_by(const char *key, const char *want, char *ret_path, size_t cap)
{
	DIR *d = opendir("/sys/class/block");
	struct dirent *e;
	int found = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char dev[300];
		struct mi_fsinfo fs;

		if (e->d_name[0] == '.' || strncmp(e->d_name, "ram", 3) == 0)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		if (probe_dev(dev, &fs) < 0)
			continue;
		if (strcmp(key, "LABEL") == 0 ? strcmp(fs.label, want) == 0 : strcasecmp(fs.uuid, want) == 0) {
			snprintf(ret_path, cap, "%s", dev);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

static int try_find(const char *spec, char *ret_path, size_t cap)
{
	struct stat st;
	uint64_t size = 0;
	int fd;

	if (strncmp(spec, "LABEL=", 6) == 0)
		return scan_by("LABEL", spec + 6, ret_path, cap);
	if (strncmp(spec, "UUID=", 5) == 0)
		return scan_by("UUID", spec + 5, ret_path, cap);
	if (stat(spec, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return m_err(-ENOTBLK, "%s is not a block device", spec);
	/* devtmpfs shows the node while the driver (loading in parallel,
	 * modules.c) is still registering the disk: until it opens with a
	 * size, it has not appeared. */
	fd = open(spec, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || size == 0) {
		close(fd);
		return -ENXIO;
	}
	close(fd);
	snprintf(ret_path, cap, "%s", spec);
	return 0;
}

int find_device(const char *spec, unsigned timeout_s, char *ret_path, size_t cap)
{
	struct timespec start, now, step = { 0, 10 * 1000000L };	/* the device appears while modules load */
	int err;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		err = try_find(spec, ret_path, cap);
		if (err == 0 || err == -ENOTBLK)
			return err;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout_s)
			return m_err(-ENODEV, "root device %s did not appear within %u s", spec, timeout_s);
		nanosleep(&step, NULL);
	}
}

int set_readonly(const char *dev)
{
	int one = 1, fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return m_err(-errno, "%s: %m", dev);
	if (ioctl(fd, BLKROSET, &one) < 0) {
		int e = -errno;

		close(fd);
		return m_err(e, "%s: BLKROSET: %s", dev, strerror(-e));
	}
	close(fd);
	return 0;
}

int detect_fstype(const char *dev, char *ret_type, size_t cap)
{
	struct mi_fsinfo fs;
	int err = probe_dev(dev, &fs);

	if (err < 0)
		return m_err_prefix(err, "%s", dev);
	snprintf(ret_type, cap, "%s", fs.type);
	return 0;
}

/*
 * Loop device over an image file on the medium, read-only and cleared when
 * its last user goes (LOOP_CONFIGURE, Linux 5.8: one call, no race between
 * SET_FD and SET_STATUS).
 */
int loop_attach_fd(int ffd, const char *name, char *ret_dev, size_t cap)
{
	struct loop_config cfg;
	int ctl, n, lfd, err = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return m_err(-errno, "/dev/loop-control: %m (is the loop module in the initramfs?)");
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return m_err(-errno, "LOOP_CTL_GET_FREE: %m");
	snprintf(ret_dev, cap, "/dev/loop%d", n);
	lfd = open(ret_dev, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return m_err(-errno, "%s: %m", ret_dev);
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (unsigned)ffd;
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", name);
	if (ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0) {
		err = m_err(-errno, "%s: LOOP_CONFIGURE on %s: %m", ret_dev, name);
		close(lfd);
	}
	/* On success @lfd stays open: with AUTOCLEAR, closing the last
	 * descriptor before the root is mounted would detach the device.
	 * O_CLOEXEC closes it at the exec of the real init, by which time the
	 * mount holds the device. */
	return err;
}

int loop_attach(const char *file, char *ret_dev, size_t cap)
{
	int ffd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), err;

	if (ffd < 0)
		return m_err(-errno, "%s: %m", file);
	err = loop_attach_fd(ffd, file, ret_dev, cap);
	close(ffd);
	return err;
}
