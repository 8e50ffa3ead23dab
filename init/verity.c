// SPDX-License-Identifier: MIT
/*
 * A dm-verity root: read veritysetup's superblock from the hash device,
 * build the verity target's table line with the root hash from the
 * kernel command line (never from the device), load it through the
 * device-mapper ioctls (include/uapi/linux/dm-ioctl.h, interface 4) and
 * read it back from the kernel: the line measured is the line the kernel
 * prints for the device it checks every read against.
 *
 * The ioctls are issued here directly, not through libdevmapper or
 * libcryptsetup: three commands (DM_DEV_CREATE, DM_TABLE_LOAD,
 * DM_DEV_SUSPEND to resume) and DM_TABLE_STATUS to read the table back
 * need a few hundred bytes of code, where libcryptsetup links OpenSSL's
 * EVP, libdevmapper, libblkid, libuuid, json-c and libargon2 (Debian ships
 * no static libcryptsetup at all) and libdevmapper alone expects udev to
 * create its device nodes.  measured-init stays one static binary under
 * its footprint target (docs/init-footprint.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"

#define DM_CONTROL "/dev/mapper/control"
#define DM_NAME "measured-root"
/* one dm_ioctl, one target spec and its parameter line */
#define DM_BUF (sizeof(struct dm_ioctl) + sizeof(struct dm_target_spec) + M_VERITY_TABLE_MAX + 64)

static void dm_init(struct dm_ioctl *io, size_t size, uint32_t flags)
{
	memset(io, 0, size);
	io->version[0] = DM_VERSION_MAJOR;	/* 4: the kernel takes any minor up to its own */
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	io->flags = flags;
	snprintf(io->name, sizeof(io->name), "%s", DM_NAME);
}

static int dm_call(int ctl, unsigned long cmd, struct dm_ioctl *io, const char *what)
{
	if (ioctl(ctl, cmd, io) < 0)
		return m_err(-errno, "device-mapper %s: %m", what);
	return 0;
}

/* Load @params as a read-only verity target of @sectors and activate it. */
static int dm_verity_load(int ctl, uint64_t sectors, const char *params, dev_t *ret_dev)
{
	union { struct dm_ioctl io; uint8_t b[DM_BUF]; } u;
	struct dm_target_spec spec;
	size_t plen = strlen(params) + 1, next = (sizeof(spec) + plen + 7) & ~(size_t)7;
	int err;

	if (sizeof(u.io) + next > sizeof(u))
		return m_err(-E2BIG, "verity table too long");
	dm_init(&u.io, sizeof(u), 0);
	err = dm_call(ctl, DM_DEV_CREATE, &u.io, "create " DM_NAME);
	if (err < 0)
		return err;

	dm_init(&u.io, sizeof(u.io) + next, DM_READONLY_FLAG);
	u.io.target_count = 1;
	memset(&spec, 0, sizeof(spec));
	spec.sector_start = 0;
	spec.length = sectors;
	spec.next = (uint32_t)next;
	snprintf(spec.target_type, sizeof(spec.target_type), "verity");
	memcpy(u.b + sizeof(u.io), &spec, sizeof(spec));
	memcpy(u.b + sizeof(u.io) + sizeof(spec), params, plen);
	err = dm_call(ctl, DM_TABLE_LOAD, &u.io, "load the verity table (is dm-verity in the initramfs?)");
	if (err < 0)
		goto remove;

	dm_init(&u.io, sizeof(u.io), 0);	/* no DM_SUSPEND_FLAG: resume, making the loaded table live */
	err = dm_call(ctl, DM_DEV_SUSPEND, &u.io, "resume " DM_NAME);
	if (err < 0)
		goto remove;
	*ret_dev = (dev_t)u.io.dev;
	return 0;
remove:
	dm_init(&u.io, sizeof(u.io), 0);
	ioctl(ctl, DM_DEV_REMOVE, &u.io);
	return err;
}

/* The live table's verity line, as the kernel prints it. */
static int dm_table_read(int ctl, char *ret, size_t cap)
{
	union { struct dm_ioctl io; uint8_t b[DM_BUF]; } u;
	struct dm_target_spec spec;
	const char *line;
	size_t room;
	int err;

	dm_init(&u.io, sizeof(u), DM_STATUS_TABLE_FLAG);
	err = dm_call(ctl, DM_TABLE_STATUS, &u.io, "read the table back");
	if (err < 0)
		return err;
	if ((u.io.flags & DM_BUFFER_FULL_FLAG) || u.io.target_count != 1 || u.io.data_start > sizeof(u) ||
	    sizeof(u) - u.io.data_start < sizeof(spec) + 1)
		return m_err(-EPROTO, "device-mapper: %u targets in " DM_NAME "'s table, expected one", u.io.target_count);
	memcpy(&spec, u.b + u.io.data_start, sizeof(spec));
	line = (const char *)u.b + u.io.data_start + sizeof(spec);
	room = sizeof(u) - u.io.data_start - sizeof(spec);
	if (strncmp(spec.target_type, "verity", sizeof(spec.target_type)) != 0 || !memchr(line, 0, room))
		return m_err(-EPROTO, "device-mapper: " DM_NAME " is not a verity target");
	if (strlen(line) >= cap)
		return m_err(-E2BIG, "device-mapper: table line longer than %zu bytes", cap - 1);
	strcpy(ret, line);
	return 0;
}

static int open_ro(const char *dev, int *ret_fd, struct stat *ret_st, uint64_t *ret_size)
{
	int one = 1, fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return m_err(-errno, "%s: %m", dev);
	if (fstat(fd, ret_st) < 0 || !S_ISBLK(ret_st->st_mode) || ioctl(fd, BLKGETSIZE64, ret_size) < 0) {
		close(fd);
		return m_err(-ENOTBLK, "%s is not a block device", dev);
	}
	/* this kernel writes nothing to either device from now on */
	if (ioctl(fd, BLKROSET, &one) < 0) {
		int e = -errno;

		close(fd);
		return m_err(e, "%s: BLKROSET: %s", dev, strerror(-e));
	}
	*ret_fd = fd;
	return 0;
}

int verity_setup(const struct mi_params *p, const char *data_dev, const char *hash_dev, char *ret_dev,
		 size_t dev_cap, char *ret_table, size_t table_cap)
{
	struct stat dst, hst;
	struct m_verity v;
	uint64_t dsize, hsize;
	uint8_t sb[M_VERITY_SB_SIZE];
	char table[M_VERITY_TABLE_MAX], back[M_VERITY_TABLE_MAX];
	int dfd = -1, hfd = -1, ctl = -1, err;
	ssize_t n;
	dev_t dm;

	err = open_ro(data_dev, &dfd, &dst, &dsize);
	if (err < 0)
		return err;
	err = open_ro(hash_dev, &hfd, &hst, &hsize);
	if (err < 0)
		goto out;
	n = pread(hfd, sb, sizeof(sb), (off_t)p->verity.hash_offset);
	if (n != (ssize_t)sizeof(sb)) {
		err = m_err(n < 0 ? -errno : -ENODATA, "%s: no verity superblock at byte %llu", hash_dev,
			    (unsigned long long)p->verity.hash_offset);
		goto out;
	}
	err = m_verity_sb_parse(sb, sizeof(sb), p->verity.hash_offset, &v);
	if (err < 0) {
		m_err_prefix(err, "%s", hash_dev);
		goto out;
	}
	if (p->verity.root_len != m_bank_info(v.alg)->size) {
		err = m_err(-EINVAL, "measured.verity.roothash= has %zu bytes; the superblock's %s has %u",
			    p->verity.root_len, m_bank_info(v.alg)->name, m_bank_info(v.alg)->size);
		goto out;
	}
	if (v.data_blocks > dsize / v.data_block) {
		err = m_err(-EINVAL, "%s: %llu bytes, fewer than the superblock's %llu data blocks of %u", data_dev,
			    (unsigned long long)dsize, (unsigned long long)v.data_blocks, v.data_block);
		goto out;
	}
	if (dst.st_rdev == hst.st_rdev && p->verity.hash_offset < v.data_blocks * v.data_block) {
		err = m_err(-EINVAL, "measured.verity.hashoffset=%llu is inside the %llu data bytes",
			    (unsigned long long)p->verity.hash_offset,
			    (unsigned long long)(v.data_blocks * v.data_block));
		goto out;
	}
	v.data_major = major(dst.st_rdev);
	v.data_minor = minor(dst.st_rdev);
	v.hash_major = major(hst.st_rdev);
	v.hash_minor = minor(hst.st_rdev);
	memcpy(v.root, p->verity.root, p->verity.root_len);
	v.error = (enum m_verity_error)p->verity.error;
	err = m_verity_table(&v, table, sizeof(table));
	if (err < 0)
		goto out;

	ctl = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		err = m_err(-errno, DM_CONTROL ": %m (is dm-mod in the initramfs?)");
		goto out;
	}
	err = dm_verity_load(ctl, v.data_blocks * (v.data_block / 512), table, &dm);
	if (err < 0)
		goto out;
	err = dm_table_read(ctl, back, sizeof(back));
	if (err < 0)
		goto out;
	/* What is measured must be what the kernel enforces, byte for byte. */
	if (strcmp(back, table) != 0) {
		err = m_err(-EPROTO, "the kernel's verity table differs from the one loaded: \"%s\"", back);
		goto out;
	}
	if (strlen(back) >= table_cap) {
		err = -E2BIG;
		goto out;
	}
	snprintf(ret_dev, dev_cap, "/dev/dm-%u", minor(dm));
	/* devtmpfs names the node when the disk is added; make our own if not */
	{
		struct stat st;

		if (stat(ret_dev, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dm) {
			snprintf(ret_dev, dev_cap, "/dev/.measured-verity");
			unlink(ret_dev);
			if (mknod(ret_dev, S_IFBLK | 0400, dm) < 0) {
				err = m_err(-errno, "mknod %s: %m", ret_dev);
				goto out;
			}
		}
	}
	strcpy(ret_table, back);
out:
	if (ctl >= 0)
		close(ctl);
	if (dfd >= 0)
		close(dfd);
	if (hfd >= 0)
		close(hfd);
	return err;
}

int verity_check_first_block(const char *dev)
{
	uint8_t buf[4096];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return m_err(-errno, "%s: %m", dev);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0 && errno == EIO)
		return m_err(-EIO, "%s: the first block fails verification: the root hash does not match the "
			     "device's hash tree (a wrong measured.verity.roothash=, or a changed device)", dev);
	if (n < 0)
		return m_err(-errno, "%s: %m", dev);
	return 0;
}
