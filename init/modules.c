// SPDX-License-Identifier: MIT
/*
 * Load the modules `measured mkinitramfs` put in the initramfs, in the
 * order modules.dep gives (dependencies first), with finit_module(2): the
 * initramfs has no modprobe.  A module that is already there (built in,
 * or loaded as a dependency) is fine.
 *
 * Device drivers (kernel/drivers/..., with what they depend on) load
 * first, then the rest (file systems, overlay), and all of it in a thread
 * of its own: the root device appears as soon as its driver is in, and
 * the init hashes it while the file system modules, which only the mount
 * needs, are still loading.  Under TCG the modules take over a second;
 * see docs/measured-init.md, "Timing".  modules_wait() collects the
 * result; the init fails closed on any error there, before it mounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
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

static struct {
	pthread_t tid;
	bool running;
	int err;
	char msg[300];		/* m_err() messages are per thread */
	unsigned loaded;
	double t_done;		/* now_s() when the last one was in */
} ml;

static bool is_driver(const char *path)
{
	return strncmp(path, "kernel/drivers/", 15) == 0 || strstr(path, "/drivers/") != NULL;
}

static int load_one(const char *dir, const char *rel)
{
	char path[600];
	int fd;

	if (m_snprintf(path, sizeof(path), "%s/%s", dir, rel) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return m_err(-errno, "%s: %m", path);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) {
		int err = m_err(-errno, "loading %s: %m", path);

		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

static int load_all(unsigned *ret_loaded)
{
	struct utsname u;
	char dir[300], path[600], *text = NULL;
	struct mi_moddep *m = NULL;
	const char **order = NULL, **drivers = NULL, **first = NULL;
	size_t len, n = 0, nfirst = 0, ndrivers = 0;
	unsigned loaded = 0;
	int err;

	if (uname(&u) < 0)
		return m_err(-errno, "uname: %m");
	if ((err = m_snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release)) < 0 ||
	    (err = m_snprintf(path, sizeof(path), "%s/modules.dep", dir)) < 0)
		return err;
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
	/* Drivers and their dependencies first, in dependency order. */
	drivers = calloc(n + 1, sizeof(*drivers));
	if (!drivers) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (is_driver(order[i]))
			drivers[ndrivers++] = order[i];
	if (ndrivers) {
		err = mi_moddep_closure(m, drivers, ndrivers, &first, &nfirst);
		if (err < 0)
			goto out;
	}
	for (size_t i = 0; i < nfirst; i++) {
		if ((err = load_one(dir, first[i])) < 0)
			goto out;
		loaded++;
	}
	for (size_t i = 0; i < n; i++) {
		bool done = false;

		for (size_t k = 0; k < nfirst && !done; k++)
			done = first[k] == order[i];	/* both point into @m */
		if (done)
			continue;
		if ((err = load_one(dir, order[i])) < 0)
			goto out;
		loaded++;
	}
	*ret_loaded = loaded;
out:
	free(first);
	free(drivers);
	free(order);
	mi_moddep_free(m);
	free(text);
	return err;
}

static void *loader(void *arg)
{
	(void)arg;
	ml.err = load_all(&ml.loaded);
	if (ml.err < 0)
		snprintf(ml.msg, sizeof(ml.msg), "%s", m_errmsg(ml.err));
	ml.t_done = now_s();
	return NULL;
}

int modules_start(void)
{
	int e = pthread_create(&ml.tid, NULL, loader, NULL);

	if (e != 0) {
		/* no thread: load them here, the boot is only slower */
		say("warning: loading modules without a thread: %s", strerror(e));
		ml.err = load_all(&ml.loaded);
		ml.t_done = now_s();
		return ml.err;
	}
	ml.running = true;
	return 0;
}

int modules_wait(unsigned *ret_loaded, double *ret_t_done)
{
	if (ml.running) {
		pthread_join(ml.tid, NULL);
		ml.running = false;
		if (ml.err < 0)
			m_err(ml.err, "%s", ml.msg);
	}
	if (ml.err < 0)
		return ml.err;
	*ret_loaded = ml.loaded;
	if (ret_t_done)
		*ret_t_done = ml.t_done;
	return 0;
}
