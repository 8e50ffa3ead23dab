// SPDX-License-Identifier: MIT
/*
 * measured mkinitramfs -o FILE [--init PATH] [--kernel-modules DIR]
 *                      [--module NAME]... [--no-compress] [--json]
 * The work is in lib/initramfs (cpio, gzip, ELF dependencies) and
 * lib/initcore/moddep.c (module order); this file only gathers the members.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common.h"
#include "measured/error.h"
#include "initcore.h"
#include "measured/initramfs.h"

#ifndef MEASURED_INIT_DEFAULT
#define MEASURED_INIT_DEFAULT "/usr/local/libexec/measured/measured-init"
#endif
#define MAX_MODULES 256u

const char cmd_mkinitramfs_summary[] = "build a reproducible initramfs around measured-init";

static void help(void)
{
	fputs("Usage: measured mkinitramfs -o FILE [--init PATH] [--kernel-modules DIR]\n"
	      "                            [--module NAME]... [--no-compress] [--json]\n\n"
	      "Build a newc cpio (gzip) holding measured-init as /init, the shared libraries\n"
	      "it needs (none for the static build), the kernel modules NAME and their\n"
	      "dependencies from DIR (a lib/modules/VERSION tree with modules.dep, as\n"
	      "`depmod -b` makes it) and /dev/console.  Entries are sorted, times are 0 and\n"
	      "owners 0:0: the same inputs give the same bytes.\n\n"
	      "  -o, --output FILE          where to write the image\n"
	      "  -i, --init PATH            the init (default $MEASURED_INIT, else\n"
	      "                             " MEASURED_INIT_DEFAULT ")\n"
	      "  -k, --kernel-modules DIR   lib/modules/VERSION of the target kernel\n"
	      "  -m, --module NAME          a module to carry (repeatable; needs -k)\n"
	      "  -n, --no-compress          write the cpio uncompressed\n"
	      "  -j, --json                 print {\"output\",\"bytes\",\"modules\",\"libraries\"}\n"
	      "  -h, --help                 this text\n", stdout);
}

static int read_text(const char *path, char **ret, size_t *ret_len)
{
	struct mbuf_writer w;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return m_err(-errno, "%s: %m", path);
	mbw_init_heap(&w, MI_MODDEP_MAX_BYTES);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		mbw_bytes(&w, buf, (size_t)n);
	close(fd);
	if (n < 0 || !mbw_ok(&w)) {
		mbw_free(&w);
		return m_err(n < 0 ? -EIO : -EFBIG, "%s: unreadable or over %u bytes", path, MI_MODDEP_MAX_BYTES);
	}
	mbw_u8(&w, 0);
	*ret = (char *)w.data;
	*ret_len = w.len - 1;
	return 0;
}

/* Modules: each requested one and its dependencies, plus a modules.dep
 * naming only what the image carries, so the init loads exactly those. */
static int add_modules(struct m_cpio *c, const char *dir, const char *const *names, size_t n, size_t *ret_count)
{
	char path[1200], prefix[600], member[1200], *text = NULL;
	const char *base = strrchr(dir, '/');
	struct mi_moddep *m = NULL;
	const char **order = NULL;
	struct mbuf_writer dep;
	size_t len, count = 0;
	int err;

	base = base && base[1] ? base + 1 : dir;
	mbw_init_heap(&dep, MI_MODDEP_MAX_BYTES);
	if ((err = m_snprintf(prefix, sizeof(prefix), "lib/modules/%s", base)) < 0 ||
	    (err = m_snprintf(path, sizeof(path), "%s/modules.dep", dir)) < 0 ||
	    (err = read_text(path, &text, &len)) < 0 || (err = mi_moddep_parse(text, len, &m)) < 0 ||
	    (err = mi_moddep_closure(m, names, n, &order, &count)) < 0)
		goto out;
	for (size_t i = 0; i < count; i++) {
		const char **deps = NULL;
		size_t ndeps = 0;

		if ((err = m_snprintf(path, sizeof(path), "%s/%s", dir, order[i])) < 0 ||
		    (err = m_snprintf(member, sizeof(member), "%s/%s", prefix, order[i])) < 0 ||
		    (err = m_cpio_add_file(c, member, 0644, path)) < 0 ||
		    (err = mi_moddep_closure(m, (const char *const *)&order[i], 1, &deps, &ndeps)) < 0)
			goto out;
		mbw_str(&dep, order[i]);
		mbw_u8(&dep, ':');
		for (size_t k = 0; k + 1 < ndeps; k++) {	/* the last is the module itself */
			mbw_u8(&dep, ' ');
			mbw_str(&dep, deps[k]);
		}
		mbw_u8(&dep, '\n');
		free(deps);
	}
	if ((err = m_snprintf(path, sizeof(path), "%s/modules.dep", prefix)) < 0)
		goto out;
	err = mbw_ok(&dep) ? m_cpio_add_data(c, path, 0644, dep.data, dep.len)
			   : m_err(-EFBIG, "modules.dep over %u bytes", MI_MODDEP_MAX_BYTES);
	*ret_count = count;
out:
	mbw_free(&dep);
	free(order);
	mi_moddep_free(m);
	free(text);
	return err;
}

static int write_out(const char *path, const uint8_t *data, size_t len)
{
	char tmp[1200];
	size_t off = 0;
	int fd;

	if (m_snprintf(tmp, sizeof(tmp), "%s.tmp", path) < 0)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return m_err(-errno, "%s: %m", tmp);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n <= 0) {
			close(fd);
			unlink(tmp);
			return m_err(-errno, "%s: %m", tmp);
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return m_err(-errno, "%s: %m", path);
	}
	return 0;
}

int cmd_mkinitramfs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "init", required_argument, NULL, 'i' },
		{ "kernel-modules", required_argument, NULL, 'k' },
		{ "module", required_argument, NULL, 'm' },
		{ "no-compress", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *out = NULL, *init = getenv("MEASURED_INIT"), *kdir = NULL;
	const char *mods[MAX_MODULES];
	size_t nmods = 0, nloaded = 0;
	bool compress = true, json = false;
	struct m_elf_deps libs = { 0 };
	struct mbuf_writer cpio, gz;
	struct m_cpio *c = NULL;
	int opt, err, rc = EXIT_OK;

	if (!init || !*init)
		init = MEASURED_INIT_DEFAULT;
	while ((opt = getopt_long(argc, argv, "o:i:k:m:njh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'i': init = optarg; break;
		case 'k': kdir = optarg; break;
		case 'm':
			if (nmods >= MAX_MODULES)
				return usage_error("mkinitramfs", "more than %u --module", MAX_MODULES);
			mods[nmods++] = optarg;
			break;
		case 'n': compress = false; break;
		case 'j': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("mkinitramfs", "bad option");
		}
	}
	if (!out)
		return usage_error("mkinitramfs", "no -o FILE given");
	if (optind < argc)
		return usage_error("mkinitramfs", "unexpected argument '%s'", argv[optind]);
	if (nmods && !kdir)
		return usage_error("mkinitramfs", "--module needs --kernel-modules DIR");

	mbw_init_heap(&cpio, M_CPIO_TOTAL_MAX);
	mbw_init_heap(&gz, M_CPIO_TOTAL_MAX);
	if ((err = m_cpio_new(&c)) < 0)
		goto fail;
	/* Mount points the init uses, and the console it writes to. */
	static const char *const dirs[] = { "dev", "proc", "sys", "run", "newroot" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((err = m_cpio_add_dir(c, dirs[i], 0755)) < 0)
			goto fail;
	if ((err = m_cpio_add_chardev(c, "dev/console", 0600, 5, 1)) < 0 ||
	    (err = m_cpio_add_file(c, "init", 0755, init)) < 0 ||
	    (err = m_elf_deps(init, NULL, &libs)) < 0)
		goto fail;
	for (size_t i = 0; i < libs.n; i++)
		if ((err = m_cpio_add_file(c, libs.path[i] + 1, 0755, libs.path[i])) < 0)
			goto fail;
	if (kdir && (err = add_modules(c, kdir, nmods ? mods : NULL, nmods, &nloaded)) < 0)
		goto fail;
	if ((err = m_cpio_write(c, &cpio)) < 0)
		goto fail;
	if (compress && (err = m_gzip(cpio.data, cpio.len, &gz)) < 0)
		goto fail;
	err = compress ? write_out(out, gz.data, gz.len) : write_out(out, cpio.data, cpio.len);
	if (err < 0)
		goto fail;
	if (json)
		printf("{\"output\":\"%s\",\"bytes\":%zu,\"modules\":%zu,\"libraries\":%zu}\n", out,
		       compress ? gz.len : cpio.len, nloaded, libs.n);
	else
		printf("%s: %zu bytes, %zu module(s), %zu shared librar%s\n", out, compress ? gz.len : cpio.len,
		       nloaded, libs.n, libs.n == 1 ? "y" : "ies");
	goto out;
fail:
	rc = fail(exit_from_errno(err), err, NULL);
out:
	m_elf_deps_free(&libs);
	m_cpio_free(c);
	mbw_free(&cpio);
	mbw_free(&gz);
	return rc;
}
