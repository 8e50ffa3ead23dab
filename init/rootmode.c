// SPDX-License-Identifier: MIT
/*
 * The three ways measured-init measures a root (docs/measured-init.md has
 * the table of what each measures and protects against):
 *  - full:     the whole device hashed through one held descriptor
 *              (held.c), the same disk checked before and after the mount;
 *  - copy=ram: the image read once into a sealed RAM copy, the copy hashed
 *              and mounted (ramcopy.c);
 *  - verity:   the dm-verity table measured, the kernel checking every
 *              block read against it (verity.c); boot time independent of
 *              the root's size.
 * What is extended comes from lib/measure/, the definition `measured
 * predict` compiles too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "hash.h"
#include "init.h"
#include "measured/error.h"

static int measure_verity(const struct mi_params *p, const char *dev, unsigned banks, struct root_measure *rm)
{
	char hash_dev[300], table[M_VERITY_TABLE_MAX];
	double t0 = now_s();
	int err;

	snprintf(hash_dev, sizeof(hash_dev), "%s", dev);
	if (p->verity.hash_dev[0]) {
		err = find_device(p->verity.hash_dev, p->timeout, hash_dev, sizeof(hash_dev));
		if (err < 0)
			return m_err_prefix(err, "verity hash device");
	}
	err = verity_setup(p, dev, hash_dev, rm->dev, sizeof(rm->dev), table, sizeof(table));
	if (err < 0)
		return err;
	err = m_verity_extend_digests(ih_backend(), banks, table, &rm->ext);
	if (err < 0)
		return err;
	rm->secs = now_s() - t0;
	return m_verity_event_description(table, rm->what, sizeof(rm->what));
}

int root_measure(const struct mi_params *p, const char *dev, unsigned banks, struct root_measure *rm)
{
	const char *name = p->root_file[0] ? p->root_file : p->root;
	int err;

	memset(rm, 0, sizeof(*rm));
	rm->held.fd = -1;
	rm->threads = 1;
	if (p->verity.on) {
		rm->mode = "verity";
		return measure_verity(p, dev, banks, rm);
	}
	if (p->copy_ram) {
		rm->mode = "copy=ram";
		err = ram_copy(dev, banks, &rm->image, &rm->size, &rm->secs, &rm->threads, rm->dev, sizeof(rm->dev));
	} else {
		rm->mode = "full";
		snprintf(rm->dev, sizeof(rm->dev), "%s", dev);
		err = held_open(dev, &rm->held);
		if (err == 0)
			err = hash_device_fd(rm->held.fd, dev, banks, &rm->image, &rm->size, &rm->secs, &rm->threads);
	}
	if (err < 0)
		return err;
	err = m_root_extend_digests(ih_backend(), p->compat, banks, &rm->image, &rm->ext);
	if (err < 0)
		return err;
	return m_root_event_description(p->compat, name, rm->what, sizeof(rm->what));
}

int root_before_mount(struct root_measure *rm)
{
	if (rm->held.fd >= 0)
		return held_check(&rm->held);
	if (strcmp(rm->mode, "verity") == 0)
		return verity_check_first_block(rm->dev);
	return 0;
}

int root_after_mount(struct root_measure *rm, const char *mnt)
{
	int err = 0;

	if (rm->held.fd >= 0) {
		err = held_check_mounted(&rm->held, mnt);
		held_close(&rm->held);
	}
	return err;
}
