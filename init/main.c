// SPDX-License-Identifier: MIT
/*
 * measured-init: PID 1 of the initramfs.  Measures the root file system
 * into a TPM PCR before anything uses it, logs the measurement as a CEL
 * record, mounts the root read-only (under a tmpfs overlay by default) and
 * hands over.  Fails closed: any error stops the boot with a message and
 * the measured.fail= action; it never hands over to an unmeasured root.
 * PID 1 never exits (the kernel would panic with an unhelpful message).
 * Parameters: docs/measured-init.md, man/measured-init.8.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "hash.h"
#include "init.h"
#include "measured/cel.h"
#include "measured/error.h"

#define NEWROOT "/newroot"
#define RUNDIR "/run/measured"
#define LOWER RUNDIR "/ro"
#define MEDIUM RUNDIR "/medium"
#define RW RUNDIR "/rw"
/* Same format and directory convention as systemd's tpm2-measure.log, so
 * tools reading one read the other. */
#define CEL_LOG "/run/log/measured/measure.log"

static enum mi_fail fail_action = MI_FAIL_HALT;

void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dprintf(2, "measured-init: %s\n", line);
}

double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double init_t_start;

/* Fail closed.  Never returns: PID 1 must not exit. */
static void __attribute__((noreturn)) die(int err, const char *what)
{
	say("FATAL: %s: %s", what, m_errmsg(err));
	say("the root file system was not handed over");
	if (fail_action == MI_FAIL_SHELL && access("/bin/sh", X_OK) == 0) {
		pid_t pid = fork();

		say("starting /bin/sh; the boot stops when it exits");
		if (pid == 0) {
			execl("/bin/sh", "sh", (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
	} else if (fail_action == MI_FAIL_SHELL) {
		say("no /bin/sh in the initramfs: halting instead");
	}
	sync();
	if (fail_action == MI_FAIL_REBOOT) {
		say("rebooting");
		reboot(RB_AUTOBOOT);
	} else {
		say("halting");
		/* Power off where the machine can; a halted machine that keeps
		 * running is no safer and ties up a virtual host. */
		reboot(RB_POWER_OFF);
		reboot(RB_HALT_SYSTEM);
	}
	for (;;)
		pause();
}

static void must(int err, const char *what)
{
	if (err < 0)
		die(err, what);
}

static int mount_api(void)
{
	static const struct { const char *src, *dir, *type; unsigned long flags; } m[] = {
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV },
	};

	for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dir, 0755);
		if (mount(m[i].src, m[i].dir, m[i].type, m[i].flags, i == 3 ? "mode=0755" : NULL) < 0 &&
		    errno != EBUSY)
			return m_err(-errno, "mounting %s: %m", m[i].dir);
	}
	return 0;
}

static void console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	close(fd);
}

static int read_cmdline(char *buf, size_t cap)
{
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return m_err(-errno, "/proc/cmdline: %m");
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return m_err(-errno, "/proc/cmdline: %m");
	buf[n] = '\0';
	return 0;
}

static int mount_ro(const char *dev, const char *dir, const char *fstype_opt, char *ret_type, size_t cap)
{
	char type[32];
	int err;

	if (fstype_opt && *fstype_opt) {
		if ((err = m_snprintf(type, sizeof(type), "%s", fstype_opt)) < 0)
			return err;
	} else {
		err = detect_fstype(dev, type, sizeof(type));
		if (err < 0)
			return err;
	}
	mkdir(dir, 0755);
	/* noload: ext3/4 must not replay a journal on a device we measured
	 * (ext2 has no journal, and the driver refuses the option for it). */
	if (mount(dev, dir, type, MS_RDONLY,
		  strcmp(type, "ext3") == 0 || strcmp(type, "ext4") == 0 ? "noload" : NULL) < 0)
		return m_err(-errno, "mounting %s (%s) read-only on %s: %m", dev, type, dir);
	if (ret_type)
		snprintf(ret_type, cap, "%s", type);
	return 0;
}

static int mount_overlay(void)
{
	mkdir(RW, 0755);
	if (mount("tmpfs", RW, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return m_err(-errno, "tmpfs on %s: %m", RW);
	mkdir(RW "/upper", 0755);
	mkdir(RW "/work", 0755);
	if (mount("overlay", NEWROOT, "overlay", 0,
		  "lowerdir=" LOWER ",upperdir=" RW "/upper,workdir=" RW "/work") < 0)
		return m_err(-errno, "overlayfs on %s: %m (is the overlay module in the initramfs?)", NEWROOT);
	return 0;
}

/* Compat mode without measured.root=: the first medium holding rootimg=. */
static int find_medium(const struct mi_params *p, char *ret_dev, size_t cap)
{
	char path[600], last[300] = "";
	double end = now_s() + p->timeout;

	do {
		FILE *f = fopen("/proc/partitions", "re");
		char line[256], name[64];

		while (f && fgets(line, sizeof(line), f)) {
			char dev[80];

			if (sscanf(line, " %*u %*u %*u %63s", name) != 1 || strncmp(name, "loop", 4) == 0 ||
			    strncmp(name, "ram", 3) == 0)
				continue;
			snprintf(dev, sizeof(dev), "/dev/%s", name);
			int e = mount_ro(dev, MEDIUM, NULL, NULL, 0);

			if (e < 0) {
				/* kept for the message if nothing is found */
				snprintf(last, sizeof(last), "%s", m_errmsg(e));
				continue;
			}
			if (m_snprintf(path, sizeof(path), MEDIUM "/%s", p->root_file) >= 0 &&
			    access(path, R_OK) == 0) {
				fclose(f);
				snprintf(ret_dev, cap, "%s", dev);
				return 0;
			}
			umount(MEDIUM);
		}
		if (f)
			fclose(f);
		usleep(100000);
	} while (now_s() < end);
	return m_err(-ENODEV, "no medium with %s appeared within %u s%s%s", p->root_file, p->timeout,
		     last[0] ? "; last medium tried: " : "", last);
}

/* The TPM driver is built into Debian's kernel; where it is a module, it
 * is a driver and loads first.  Without a TPM, a failed module is the
 * better message. */
static void wait_tpm(struct itpm *tpm)
{
	unsigned n;
	double t;
	int err = itpm_open(tpm, 1000);

	if (err < 0) {
		must(modules_wait(&n, &t), "kernel modules");
		die(err, "TPM");
	}
}

static void print_digests(const char *label, const struct m_digests *d)
{
	for_each_bank(b, d->banks) {
		char hex[2 * M_DIGEST_MAX + 1];

		m_hex(d->d[b], m_bank_info(b)->size, hex);
		say("%s %s %s", label, m_bank_info(b)->name, hex);
	}
}

/* Locate what to measure: a device, or an image file on a medium (whose
 * mount needs the file system modules) looped into @dev. */
static void locate_root(const struct mi_params *p, char *dev, size_t devcap, char *medium, size_t medcap,
			unsigned *nmod, double *t_mods)
{
	int err;

	if (p->compat && !p->root[0]) {
		must(modules_wait(nmod, t_mods), "kernel modules");
		must(find_medium(p, medium, medcap), "boot medium");
	} else {
		err = find_device(p->root, p->timeout, dev, devcap);
		if (err < 0) {
			/* a driver that failed to load is the better message */
			must(modules_wait(nmod, t_mods), "kernel modules");
			die(err, "root device");
		}
		if (p->root_file[0]) {
			must(modules_wait(nmod, t_mods), "kernel modules");
			must(m_snprintf(medium, medcap, "%s", dev), "root medium");
			must(set_readonly(medium), "root medium");
			must(mount_ro(medium, MEDIUM, NULL, NULL, 0), "root medium");
		}
	}
	if (p->root_file[0]) {
		char file[600];

		must(m_snprintf(file, sizeof(file), MEDIUM "/%s", p->root_file), "root image path");
		must(loop_attach(file, dev, devcap), "root image");
	}
}

int main(void)
{
	double t_start = now_s(), t_mods, t_tpm, t_dev, t_hashed, t_ext, t_meas;
	char cmdline[MI_CMDLINE_MAX], dev[300], medium[300] = "", what[64], fstype[32] = "";
	struct mi_params p;
	struct itpm tpm;
	struct root_measure rm;
	struct m_digests pcr;
	unsigned banks = 0, unknown = 0, nmod = 0;
	int err;

	init_t_start = t_start;
	console();
	if (getpid() != 1)
		say("warning: not PID 1 (pid %d)", (int)getpid());
	must(mount_api(), "early mounts");
	console();
	mkdir(RUNDIR, 0755);
	must(read_cmdline(cmdline, sizeof(cmdline)), "kernel command line");
	err = mi_params_parse(cmdline, &p);
	fail_action = p.fail;
	must(err, "kernel command line");

	/* The modules load in the background; the root device appears as
	 * soon as its driver is in (modules.c). */
	must(modules_start(), "kernel modules");
	wait_tpm(&tpm);
	must(itpm_banks(&tpm, &banks, &unknown), "TPM PCR banks");
	t_tpm = now_s();
	if (unknown)
		say("warning: %u allocated PCR bank(s) of algorithms this init cannot hash are not extended", unknown);

	locate_root(&p, dev, sizeof(dev), medium, sizeof(medium), &nmod, &t_mods);
	must(set_readonly(dev), "root device");
	t_dev = now_s();

	/* What is extended is lib/measure/'s definition, the one `measured
	 * predict` compiles too: the root's digest in every bank, or (the
	 * original's compatibility mode) SHA-1 of its hex text in sha1. */
	if (p.compat && !(banks & M_BANK_BIT(M_SHA1)))
		die(-ENOENT, "measureroot needs an allocated SHA-1 PCR bank");
	if (!p.compat && !(banks & IH_BANKS))
		die(-ENOENT, "the TPM has no allocated sha1/sha256/sha384/sha512 bank");
	banks = p.compat ? M_BANK_BIT(M_SHA1) : banks & IH_BANKS;
	/* verity and the RAM copy need their modules (dm-verity, loop) first */
	if (p.verity.on || p.copy_ram)
		must(modules_wait(&nmod, &t_mods), "kernel modules");
	must(root_measure(&p, dev, banks, &rm), "measuring the root");
	t_hashed = now_s();
	/* Everything the initramfs carries is loaded before anything else
	 * happens: a module that fails stops the boot here. */
	must(modules_wait(&nmod, &t_mods), "kernel modules");
	must(itpm_extend(&tpm, p.pcr, &rm.ext), "extending the PCR");
	t_ext = now_s();
	must(itpm_read(&tpm, p.pcr, rm.ext.banks, &pcr), "reading the PCR back");
	close(tpm.fd);
	t_meas = now_s();

	mkdir("/run/log", 0755);
	mkdir("/run/log/measured", 0755);
	must(m_cel_append(CEL_LOG, p.pcr, &rm.ext, rm.what), "writing the CEL log");

	/* Mount: read-only root, then the writable overlay on top. */
	must(root_before_mount(&rm), "the root device");
	mkdir(NEWROOT, 0755);
	must(mount_ro(rm.dev, p.overlay ? LOWER : NEWROOT, p.fstype, fstype, sizeof(fstype)), "mounting the root");
	must(root_after_mount(&rm, p.overlay ? LOWER : NEWROOT), "the root device");
	if (p.overlay)
		must(mount_overlay(), "mounting the overlay");

	say("root %s%s%s (%s, %llu bytes, %s, %s)", dev, medium[0] ? " from " : "", medium[0] ? p.root_file : "",
	    fstype, (unsigned long long)rm.size, rm.mode,
	    p.overlay ? "read-only under a tmpfs overlay" : "read-only");
	if (p.verity.on)
		say("%s", rm.what);
	else
		print_digests("digest", &rm.image);
	if (p.compat)
		print_digests("extended (compat)", &rm.ext);
	snprintf(what, sizeof(what), "PCR %u", p.pcr);
	print_digests(what, &pcr);
	say("hashed %llu bytes in %.3f s (%u thread(s)); %u module(s); %.3f s from start to switch_root",
	    (unsigned long long)rm.size, rm.secs, rm.threads, nmod, now_s() - t_start);
	/* Phases from init start (CLOCK_MONOTONIC), for bench/bench_init.sh;
	 * switch_root() prints the last mark just before exec. */
	say("timing: modules %.3f tpm %.3f device %.3f hashed %.3f extended %.3f read %.3f mounted %.3f s; hash %.3f s",
	    t_mods - t_start, t_tpm - t_start, t_dev - t_start, t_hashed - t_start, t_ext - t_start,
	    t_meas - t_start, now_s() - t_start, rm.secs);

	must(move_mounts(NEWROOT), "moving /dev /proc /sys /run");
	err = switch_root(NEWROOT, p.init);
	die(err, "switch_root");
}
