// SPDX-License-Identifier: MIT
/*
 * Full-image mode, held from hash to mount.  The root device is opened
 * once; that descriptor is set read-only, hashed, and kept.  Before the
 * mount, the name must still lead to the same disk: the same device
 * number (st_rdev) and the same disk sequence number (BLKGETDISKSEQ,
 * Linux 5.15: a number the kernel gives each disk it creates and raises
 * on every media change, never reused while it runs), and the device is
 * still read-only.  After the mount, the disk the mount holds (whose
 * number cannot be reused while it is mounted) must carry the hashed
 * sequence number.  A disk removed and another attached under the same
 * name, or the same loop device pointed at another file, is refused.
 *
 * What this does not stop: a device that answers the same read twice
 * with different bytes (its firmware, a network block device, a storage
 * back end).  The page cache was dropped behind the hash, so the mount
 * reads the medium again.  Only a dm-verity root (every block checked
 * when read) or measured.copy=ram (the mount reads the hashed RAM copy)
 * closes that; docs/measured-init.md has the table.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"

static int diskseq(int fd, const char *name, uint64_t *ret)
{
	if (ioctl(fd, BLKGETDISKSEQ, ret) < 0)
		return m_err(-errno, "%s: BLKGETDISKSEQ: %m (the kernel is older than 5.15?)", name);
	return 0;
}

int held_open(const char *dev, struct held *h)
{
	struct stat st;
	int one = 1, err;

	h->fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (h->fd < 0)
		return m_err(-errno, "%s: %m", dev);
	if (fstat(h->fd, &st) < 0 || !S_ISBLK(st.st_mode)) {
		err = m_err(-ENOTBLK, "%s is not a block device", dev);
		goto fail;
	}
	if (ioctl(h->fd, BLKROSET, &one) < 0) {
		err = m_err(-errno, "%s: BLKROSET: %m", dev);
		goto fail;
	}
	err = diskseq(h->fd, dev, &h->seq);
	if (err < 0)
		goto fail;
	h->rdev = st.st_rdev;
	snprintf(h->path, sizeof(h->path), "%s", dev);
	return 0;
fail:
	close(h->fd);
	h->fd = -1;
	return err;
}

/* The disk now behind @path (or @rdev, through a node of our own) is the held one. */
static int same_disk(const struct held *h, const char *path, const char *when)
{
	struct stat st;
	uint64_t seq;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return m_err(-errno, "%s %s: %m", path, when);
	if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != h->rdev) {
		close(fd);
		return m_err(-ENXIO, "%s %s is another device than the one hashed; refusing it", h->path, when);
	}
	err = diskseq(fd, path, &seq);
	close(fd);
	if (err < 0)
		return err;
	if (seq != h->seq)
		return m_err(-ENXIO, "%s %s is another disk than the one hashed (disk sequence %llu, hashed %llu): "
			     "refusing it", h->path, when, (unsigned long long)seq, (unsigned long long)h->seq);
	return 0;
}

int held_check(const struct held *h)
{
	int ro = 0;

	if (ioctl(h->fd, BLKROGET, &ro) < 0 || !ro)
		return m_err(-EROFS, "%s is no longer read-only; refusing it", h->path);
	return same_disk(h, h->path, "before the mount");
}

int held_check_mounted(const struct held *h, const char *mnt)
{
	struct stat st;
	char node[64];
	int err;

	if (stat(mnt, &st) < 0)
		return m_err(-errno, "%s: %m", mnt);
	if (st.st_dev != h->rdev)
		return m_err(-ENXIO, "%s holds another device than the one hashed; refusing it", mnt);
	/* the mount pins its disk: a node for its number opens that disk (in
	 * /dev: /run is mounted nodev) */
	snprintf(node, sizeof(node), "/dev/.measured-held-%u", (unsigned)h->rdev);
	unlink(node);
	if (mknod(node, S_IFBLK | 0400, h->rdev) < 0)
		return m_err(-errno, "mknod %s: %m", node);
	err = same_disk(h, node, "as mounted");
	unlink(node);
	return err;
}

void held_close(struct held *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}
