// SPDX-License-Identifier: MIT
/*
 * Root tree archives (docs/agent.md, "Root tree archives"): the released
 * package is a POSIX ustar archive of the system's root tree, with the
 * EFI System Partition's content under boot/efi/.
 *
 * The archive is read in-process by the bounded reader in
 * lib/archive/ustar.c (fuzzed; it refuses absolute paths, "..", escaping
 * links, devices and every format extension before any entry is unpacked)
 * rather than by tar(1): the installer runs as root, and tar's own checks
 * depend on its version and options.  Unpacking opens every directory
 * O_NOFOLLOW, so no path leads out of the staging directory through a
 * link the archive made.  The file systems are made by the tools made for
 * that, run without a shell on files in the staging directory only:
 * sfdisk (util-linux) writes the GPT, mkfs.vfat (dosfstools) and mcopy
 * (mtools) the ESP, mke2fs -d (e2fsprogs) the ext4 root, all inside one
 * image file.  Writing FAT or ext4 here would duplicate them.  The image
 * then takes the disk image's path (install.c): the target's first MiB
 * cleared, the rest written, read back against the image's SHA-256, the
 * first MiB last.  A cut before that leaves a disk that boots nothing; a
 * cut before the first write leaves the disk as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "install.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/text.h"
#include "measured/ustar.h"

extern char **environ;

#define MIB (1ull << 20)
#define ESP_DIR "boot/efi"
#define ESP_LOADER "boot/efi/EFI/BOOT/BOOTX64.EFI"
/* GPT partition type GUIDs: the EFI System Partition (UEFI 2.10, 5.3.3) and
 * the x86-64 root (the Discoverable Partitions Specification) */
#define GUID_ESP  "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define GUID_ROOT "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"

struct scan {
	uint64_t esp_bytes, root_bytes, entries;
	bool loader;
};

static int refuse(const struct m_ustar_entry *e, const char *why)
{
	char *p = m_text_escape_str(e->path);
	int r = m_err(-EBADMSG, "root archive entry '%s': %s; nothing written", p ? p : "?", why);

	free(p);
	return r;
}

static bool on_esp(const char *path)
{
	return !strncmp(path, ESP_DIR "/", sizeof(ESP_DIR));
}

static int scan_entry(void *arg, const struct m_ustar_entry *e)
{
	struct scan *s = arg;
	/* what a file takes on disk: its blocks, and an inode's worth */
	uint64_t b = ((e->size + 4095) & ~4095ull) + 4096;

	if (on_esp(e->path)) {
		if (e->type == M_USTAR_SYMLINK)
			return refuse(e, "a symbolic link on the EFI System Partition (FAT has none)");
		if (!strcmp(e->path, ESP_LOADER) && e->type == M_USTAR_FILE)
			s->loader = true;
		s->esp_bytes += b;
	} else {
		s->root_bytes += b;
	}
	s->entries++;
	return 0;
}

/* ---- unpacking ---- */

struct unpack {
	int esp, root;	/* the staging directories */
};

/* the directory holding @path's last component under @dir, made as needed; *@ret_base its last component */
static int parent_dir(int dir, const char *path, const char **ret_base)
{
	char comp[M_USTAR_PATH_MAX];
	const char *p = path, *s;
	int fd = dup(dir);

	if (fd < 0)
		return -errno;
	while ((s = strchr(p, '/'))) {
		int nfd;

		memcpy(comp, p, (size_t)(s - p));
		comp[s - p] = 0;
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			int r = -errno;

			close(fd);
			return r;
		}
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0)
			return errno == ELOOP || errno == ENOTDIR ? -ENOTDIR : -errno;
		fd = nfd;
		p = s + 1;
	}
	*ret_base = p;
	return fd;
}

static int unpack_entry(void *arg, const struct m_ustar_entry *e)
{
	struct unpack *u = arg;
	bool esp = on_esp(e->path);
	const char *path = esp ? e->path + sizeof(ESP_DIR) : e->path, *base = NULL;
	struct timespec t[2] = { { e->mtime, 0 }, { e->mtime, 0 } };
	int dir, fd = -1, r = 0;
	bool raw = true;	/* r a bare -errno, not yet a message */

	dir = parent_dir(esp ? u->esp : u->root, path, &base);
	if (dir < 0)
		return dir == -ENOTDIR ? refuse(e, "its path leads through a symbolic link or a file")
				       : m_err(dir, "unpacking '%s': %s", e->path, strerror(-dir));
	switch (e->type) {
	case M_USTAR_FILE:
		fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = errno == EEXIST ? (raw = false, refuse(e, "twice in the archive")) : -errno;
			break;
		}
		r = m_pwrite_full(fd, e->data, (size_t)e->size, 0, NULL);	/* in memory: it fits */
		/* owner first: chown clears set-user-ID bits */
		if (r == 0 && !esp && fchown(fd, e->uid, e->gid) < 0)
			r = -errno;
		if (r == 0 && fchmod(fd, e->mode) < 0)
			r = -errno;
		if (r == 0 && futimens(fd, t) < 0)
			r = -errno;
		break;
	case M_USTAR_DIR:
		if (mkdirat(dir, base, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		fd = openat(dir, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = errno == ELOOP || errno == ENOTDIR ?
				(raw = false, refuse(e, "a directory where the archive has something else")) : -errno;
			break;
		}
		if (!esp && fchown(fd, e->uid, e->gid) < 0)
			r = -errno;
		if (r == 0 && fchmod(fd, e->mode) < 0)
			r = -errno;
		break;
	case M_USTAR_SYMLINK:
		if (symlinkat(e->link, dir, base) < 0) {
			r = errno == EEXIST ? (raw = false, refuse(e, "twice in the archive")) : -errno;
			break;
		}
		if (fchownat(dir, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    utimensat(dir, base, t, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		break;
	}
	if (fd >= 0)
		close(fd);
	close(dir);
	if (r < 0 && raw)
		r = m_err(r, "unpacking '%s': %s", e->path, strerror(-r));
	return r;
}

/* ---- the tools ---- */

/* run @argv (found in PATH, no shell), stdin from @in (NULL: /dev/null), output appended to @log */
static int run(const char *const argv[], const char *in, const char *log)
{
	static char skip[] = "MTOOLS_SKIP_CHECK=1";	/* mtools: an image file's geometry is its own */
	posix_spawn_file_actions_t fa;
	char **env;
	size_t n = 0;
	pid_t pid;
	int st, r;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return -ENOMEM;
	memcpy(env, environ, n * sizeof(*env));
	env[n] = skip;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (r)
		return m_err(-r, "%s: %s (packages util-linux, dosfstools, mtools, e2fsprogs)", argv[0], strerror(r));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return m_err(-errno, "%s: waitpid: %s", argv[0], strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		/* the tool's last line says why */
		char last[160] = "", line[160];
		FILE *f = fopen(log, "re");
		char *e;

		while (f && fgets(line, sizeof(line), f))
			if (line[0] != '\n')
				memcpy(last, line, sizeof(last));
		if (f)
			fclose(f);
		last[strcspn(last, "\n")] = 0;
		e = m_text_escape_str(last);
		r = m_err(-EIO, "%s exited with %s %d: %s", argv[0], WIFEXITED(st) ? "status" : "signal",
			  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), e ? e : "?");
		free(e);
		return r;
	}
	return 0;
}

/* every top-level entry of @dir (the ESP tree) copied into the FAT at @img's @off, one mcopy each */
static int esp_copy(const char *dir, const char *img, uint64_t off, const char *log)
{
	char spec[4200], path[4200];
	const char *argv[] = { "mcopy", "-s", "-p", "-m", "-Q", "-i", spec, path, "::/", NULL };
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	/* -s: directories whole; -m: modification times kept; -Q: stop at the first error */
	if (!d)
		return m_err(-errno, "%s: %s", dir, strerror(errno));
	r = m_snprintf(spec, sizeof(spec), "%s@@%llu", img, (unsigned long long)off);
	while (r >= 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = m_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (r >= 0)
			r = run(argv, NULL, log);
	}
	if (r > 0)
		r = 0;
	closedir(d);
	return r;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

/* the disk image from the staging trees: GPT, ESP from 1 MiB, root after it, 1 MiB for the backup GPT */
static int build_image(const char *stage, const struct scan *s, char *img, size_t imglen, uint64_t *ret_len)
{
	char script[512], sp[4200], log[4200], esp[4200], root[4200], off[32], size[32];
	uint64_t esp_mib, root_mib, total;
	int fd, r;

	/* room for the files and the file systems' own structures (ext4's journal, FAT's tables) */
	esp_mib = s->esp_bytes * 5 / 4 / MIB + 2;
	if (esp_mib < M_INSTALL_ESP_MIN_MIB)
		esp_mib = M_INSTALL_ESP_MIN_MIB;
	root_mib = s->root_bytes * 5 / 4 / MIB + 24;
	total = (1 + esp_mib + root_mib + 1) * MIB;
	snprintf(img, imglen, "%s/disk.img", stage);
	snprintf(sp, sizeof(sp), "%s/gpt.sfdisk", stage);
	snprintf(log, sizeof(log), "%s/tools.log", stage);
	snprintf(esp, sizeof(esp), "%s/esp", stage);
	snprintf(root, sizeof(root), "%s/root", stage);
	fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return m_err(-errno, "%s: %s", img, strerror(errno));
	r = ftruncate(fd, (off_t)total) < 0 ? m_err(-errno, "%s: %s", img, strerror(errno)) : 0;
	close(fd);
	if (r < 0)
		return r;
	snprintf(script, sizeof(script),
		 "label: gpt\n"
		 "start=2048, size=%llu, type=" GUID_ESP ", name=\"ESP\"\n"
		 "start=%llu, size=%llu, type=" GUID_ROOT ", name=\"root\"\n",
		 (unsigned long long)(esp_mib * 2048), (unsigned long long)((1 + esp_mib) * 2048),
		 (unsigned long long)(root_mib * 2048));
	fd = open(sp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return m_err(-errno, "%s: %s", sp, strerror(errno));
	r = m_pwrite_full(fd, script, strlen(script), 0, NULL);
	close(fd);
	if (r < 0)
		return m_err(r, "%s: %s", sp, strerror(-r));
	{
		const char *argv[] = { "sfdisk", "--no-reread", "--no-tell-kernel", "-q", img, NULL };

		if ((r = run(argv, sp, log)) < 0)
			return r;
	}
	snprintf(size, sizeof(size), "%llu", (unsigned long long)(esp_mib * 1024));
	{
		const char *argv[] = { "mkfs.vfat", "--offset", "2048", "-n", "ESP", img, size, NULL };

		if ((r = run(argv, NULL, log)) < 0)
			return r;
	}
	if ((r = esp_copy(esp, img, MIB, log)) < 0)
		return r;
	snprintf(off, sizeof(off), "offset=%llu", (unsigned long long)((1 + esp_mib) * MIB));
	snprintf(size, sizeof(size), "%llum", (unsigned long long)root_mib);
	{
		const char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-L", "root", "-E", off, "-d", root, img,
				       size, NULL };

		if ((r = run(argv, NULL, log)) < 0)
			return r;
	}
	*ret_len = total;
	return 0;
}

int m_install_archive(const char *target, const uint8_t *tar, size_t len, const uint8_t sha256[32],
		      const char *workdir, const struct m_install_hooks *hooks, uint64_t *ret_image_len)
{
	char stage[4096], img[4200], path[4200];
	struct scan s = { 0 };
	struct unpack u = { -1, -1 };
	uint64_t ilen = 0;
	uint8_t md[32];
	void *map = MAP_FAILED;
	int fd, r;

	/* the package, before anything is unpacked or written */
	if ((r = m_install_check_digest(tar, len, sha256)) < 0)
		return r;
	if ((r = m_ustar_walk(tar, len, NULL, NULL, NULL)) < 0)
		return m_err_prefix(r, "root archive");
	if ((r = m_ustar_walk(tar, len, scan_entry, &s, NULL)) < 0)
		return r;
	if (!s.loader)
		return m_err(-EBADMSG, "root archive without " ESP_LOADER " (the removable-media loader an EFI "
			     "System Partition boots): nothing would boot; nothing written");
	if ((r = m_install_target_check(target, 0, NULL)) < 0)
		return r;

	if ((size_t)snprintf(stage, sizeof(stage), "%s/measured-install.XXXXXX", workdir) >= sizeof(stage))
		return m_err(-ENAMETOOLONG, "staging directory under %s: path too long", workdir);
	if (!mkdtemp(stage))
		return m_err(-errno, "staging directory under %s: %s", workdir, strerror(errno));
	snprintf(path, sizeof(path), "%s/esp", stage);
	if (mkdir(path, 0755) == 0)
		u.esp = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/root", stage);
	if (mkdir(path, 0755) == 0)
		u.root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.esp < 0 || u.root < 0) {
		r = m_err(-errno, "staging directory %s: %s", stage, strerror(errno));
		goto out;
	}
	if ((r = m_ustar_walk(tar, len, unpack_entry, &u, NULL)) < 0)
		goto out;
	if (hooks && hooks->stage && hooks->stage(hooks->arg, M_INSTALL_UNPACKED, len)) {
		r = m_err(-ECANCELED, "install stopped after stage unpacked");
		goto out;
	}
	if ((r = build_image(stage, &s, img, sizeof(img), &ilen)) < 0)
		goto out;
	fd = open(img, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = m_err(-errno, "%s: %s", img, strerror(errno));
		goto out;
	}
	map = mmap(NULL, ilen, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		r = m_err(-errno, "%s: mmap: %s", img, strerror(errno));
		goto out;
	}
	/* the image's own digest: what the read-back of the disk is checked against */
	if (EVP_Digest(map, ilen, md, NULL, EVP_sha256(), NULL) != 1) {
		r = m_err(-EIO, "SHA-256 failed");
		goto out;
	}
	if (hooks && hooks->stage && hooks->stage(hooks->arg, M_INSTALL_BUILT, ilen)) {
		r = m_err(-ECANCELED, "install stopped after stage built");
		goto out;
	}
	r = m_install_disk(target, map, ilen, md, hooks);
	if (r == 0 && ret_image_len)
		*ret_image_len = ilen;
out:
	if (map != MAP_FAILED)
		munmap(map, ilen);
	if (u.esp >= 0)
		close(u.esp);
	if (u.root >= 0)
		close(u.root);
	nftw(stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}
