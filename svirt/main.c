/* SPDX-License-Identifier: MIT */
/*
 * svirt-interpose: run between the toolstack and QEMU.  Takes exactly
 * QEMU's arguments, gives the VM an MCS label nobody else holds, labels
 * its writable disks, and execs QEMU in svirt_t with that label.
 * See man/svirt-interpose.8 and docs/svirt-interpose.md.
 */
#include "svirt.h"

#include <dirent.h>
#include <errno.h>
#include <selinux/selinux.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "measured/error.h"

#ifndef SVIRT_CONF_PATH
#define SVIRT_CONF_PATH "/etc/svirt-interpose.conf"
#endif
#ifndef MEASURED_VERSION
#define MEASURED_VERSION "unknown"
#endif

/* Exit codes (documented in the man page). */
enum { EX_OK_ = 0, EX_USAGE_ = 2, EX_FAIL = 3, EX_REFUSED = 4, EX_EXEC = 126 };

/* Everything built from outside data goes through a format string. */
static void logmsg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: svirt-interpose [--config FILE] [--dry-run] [--domid N] [--] QEMU-ARGUMENTS...\n"
		"       svirt-interpose [--config FILE] release DOMID\n"
		"Gives the VM a free SELinux MCS label, labels its writable disks and\n"
		"execs QEMU as svirt_t with that label.  --domid N names the domain\n"
		"(QEMU/KVM hosts) instead of QEMU's arguments.  Config: %s\n"
		"(or $SVIRT_INTERPOSE_CONFIG).\n",
		SVIRT_CONF_PATH);
}

struct labelled {
	char path[SVIRT_PATH_MAX];
	char *old;
};

struct state {
	struct svirt_config cfg;
	bool dry_run, selinux, enforcing;
	unsigned domid;
	char range[SVIRT_RANGE_MAX];
	bool reserved, reused;
	struct svirt_disklist disks;
	struct labelled *done;
	size_t ndone;
};

static int store_release(struct state *s, char *range, size_t rlen, struct svirt_disklist *disks)
{
	if (s->cfg.store == SVIRT_STORE_DIR)
		return svirt_dir_release(&s->cfg, s->domid, range, rlen, disks);
	struct xs_handle *h;
	int r = svirt_xs_open(&h);
	if (r < 0)
		return r;
	/* The vbds are listed before the key goes, while they still exist. */
	if (s->cfg.disks != SVIRT_DISKS_NONE && s->cfg.disks != SVIRT_DISKS_ARGS)
		r = svirt_xs_disks(h, s->domid, disks);
	if (r == 0)
		r = svirt_xs_release(h, s->domid, range, rlen);
	svirt_xs_close(h);
	return r;
}

/* Undo a half-done launch: old labels back, the reservation returned. */
static void rollback(struct state *s)
{
	for (size_t i = 0; i < s->ndone; i++) {
		if (setfilecon(s->done[i].path, s->done[i].old) < 0)
			logmsg(LOG_ERR, "rollback: %s: cannot restore label %s: %m", s->done[i].path,
			       s->done[i].old);
	}
	if (s->reserved) {
		char range[SVIRT_RANGE_MAX];
		struct svirt_disklist l = { 0 };
		struct svirt_config c = s->cfg;
		c.disks = SVIRT_DISKS_NONE;
		struct state tmp = *s;
		tmp.cfg = c;
		int r = store_release(&tmp, range, sizeof(range), &l);

		if (r < 0)
			logmsg(LOG_ERR, "rollback: cannot release %s of domain %u: %s", s->range,
			       s->domid, m_errmsg(r));
		svirt_disklist_free(&l);
		s->reserved = false;
	}
}

static int reserve(struct state *s)
{
	bool reused = false;
	int r;
	if (s->cfg.store == SVIRT_STORE_DIR) {
		r = svirt_dir_reserve(&s->cfg, s->domid, svirt_rng_getrandom, NULL, s->dry_run,
				      s->range, sizeof(s->range), &reused);
	} else {
		struct xs_handle *h;
		r = svirt_xs_open(&h);
		if (r < 0)
			return r;
		r = svirt_xs_reserve(h, &s->cfg, s->domid, svirt_rng_getrandom, NULL, s->dry_run,
				     s->range, sizeof(s->range), &reused);
		svirt_xs_close(h);
	}
	if (r == 0 && reused)
		logmsg(LOG_NOTICE, "domain %u already holds %s: this QEMU shares it", s->domid,
		       s->range);
	/* A label held before this launch is not ours to return on failure. */
	if (r == 0 && !s->dry_run && !reused)
		s->reserved = true;
	s->reused = r == 0 && reused;
	return r;
}

static int list_disks(struct state *s, int qargc, char **qargv)
{
	enum svirt_disks src = s->cfg.disks;
	if (src == SVIRT_DISKS_AUTO)
		src = s->cfg.store == SVIRT_STORE_XENSTORE ? SVIRT_DISKS_XENSTORE : SVIRT_DISKS_ARGS;
	if (src == SVIRT_DISKS_NONE)
		return 0;
	if (src == SVIRT_DISKS_ARGS)
		return svirt_disks_from_args(qargc, qargv, &s->disks);
	struct xs_handle *h;
	int r = svirt_xs_open(&h);
	if (r < 0)
		return r;
	r = svirt_xs_disks(h, s->domid, &s->disks);
	svirt_xs_close(h);
	return r;
}

static int label_disks(struct state *s)
{
	char ctx[SVIRT_CTX_MAX];
	s->done = calloc(s->disks.n ? s->disks.n : 1, sizeof(*s->done));
	if (!s->done)
		return m_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < s->disks.n; i++) {
		const struct svirt_disk *d = &s->disks.d[i];
		if (!s->selinux) {
			if (s->dry_run)
				printf("label %s %s\n", d->path, s->range);
			continue;
		}
		char *old = NULL;
		if (getfilecon(d->path, &old) < 0)
			return m_err(-errno, "%s (from %s): cannot read SELinux label: %s", d->path,
				     d->origin, strerror(errno));
		int r = svirt_ctx_set_range(old, s->range, ctx, sizeof(ctx));
		if (r < 0) {
			freecon(old);
			return m_err_prefix(r, "%s", d->path);
		}
		if (s->dry_run) {
			printf("label %s %s %s\n", d->path, s->range, ctx);
			freecon(old);
			continue;
		}
		if (setfilecon(d->path, ctx) < 0) {
			int e = errno;
			freecon(old);
			return m_err(-e, "%s (from %s): cannot set label %s: %s", d->path, d->origin,
				     ctx, strerror(e));
		}
		snprintf(s->done[s->ndone].path, sizeof(s->done[s->ndone].path), "%s", d->path);
		s->done[s->ndone++].old = old;
		logmsg(LOG_INFO, "domain %u: labelled %s %s", s->domid, d->path, ctx);
	}
	return 0;
}

/* close-fds=yes: every inherited descriptor but 0-2 goes.  Not the
 * default: toolstacks hand QEMU descriptors (libxl passes its QMP socket
 * as "-chardev socket,...,fd=N"), and the original kept them. */
static void close_inherited(void)
{
	if (close_range(3, ~0U, 0) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int self = dirfd(d);
		for (struct dirent *e; (e = readdir(d));) {
			int fd = atoi(e->d_name);
			if (fd > 2 && fd != self)
				close(fd);
		}
		closedir(d);
		return;
	}
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = 3; fd < (max > 0 ? max : 65536); fd++)
		close((int)fd);
}

static int do_exec(struct state *s, int qargc, char **qargv)
{
	char **av = calloc((size_t)qargc + 2, sizeof(*av));
	if (!av) {
		logmsg(LOG_ERR, "out of memory");
		return EX_FAIL;
	}
	av[0] = s->cfg.qemu;
	for (int i = 0; i < qargc; i++)
		av[i + 1] = qargv[i];
	fflush(NULL);
	closelog();
	if (s->cfg.close_fds)
		close_inherited();
	/* The environment is kept by default: libxl passes
	 * XEN_QEMU_CONSOLE_LIMIT and XEN_DOMAIN_ID this way.  The original
	 * interposer passed an empty one (environment=clear). */
	static char *const empty_env[] = { NULL };
	execve(s->cfg.qemu, av, s->cfg.clear_env ? empty_env : environ);
	int e = errno;
	logmsg(LOG_ERR, "cannot execute %s: %s", s->cfg.qemu, strerror(e));
	free(av);
	return EX_EXEC;
}

/* The original's install puts the interposer where QEMU was: a qemu=
 * naming this very program would exec itself forever. */
static int check_not_self(const char *qemu)
{
	struct stat a, b;
	if (stat(qemu, &a) < 0 || stat("/proc/self/exe", &b) < 0)
		return 0; /* execve reports a missing QEMU */
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return m_err(-ELOOP, "qemu=%s is svirt-interpose itself: set qemu= to the real QEMU",
			     qemu);
	return 0;
}

static int launch(struct state *s, int qargc, char **qargv)
{
	char ctx[SVIRT_CTX_MAX];
	int r;

	if ((r = check_not_self(s->cfg.qemu)) < 0) {
		logmsg(LOG_ERR, "%s", m_errmsg(r));
		return EX_FAIL;
	}

	if (!s->selinux) {
		if (s->cfg.refuse_if_disabled) {
			logmsg(LOG_ERR, "SELinux is disabled and on-selinux-disabled=refuse: not starting %s",
			       s->cfg.qemu);
			return EX_REFUSED;
		}
		logmsg(LOG_WARNING, "SELinux is disabled: starting %s without MCS separation",
		       s->cfg.qemu);
	}
	r = svirt_find_domid(&s->cfg, qargc, qargv, &s->domid);
	if (r == 0)
		r = reserve(s);
	if (r == 0)
		r = list_disks(s, qargc, qargv);
	if (r == 0 && s->dry_run) {
		printf("domid %u\nrange %s\n", s->domid, s->range);
		for (size_t i = 0; i < s->disks.n; i++)
			printf("disk %s %s\n", s->disks.d[i].path, s->disks.d[i].origin);
	}
	if (r == 0)
		r = label_disks(s);
	if (r == 0 && s->selinux) {
		r = svirt_qemu_context(s->range, ctx, sizeof(ctx));
		if (r == 0 && s->dry_run)
			printf("context %s\n", ctx);
		if (r == 0 && !s->dry_run && setexeccon(ctx) < 0)
			r = m_err(-errno, "setexeccon %s: %s", ctx, strerror(errno));
	}
	if (r == 0 && !s->dry_run && (s->reserved || s->reused) && s->cfg.store == SVIRT_STORE_DIR)
		r = svirt_dir_record_disks(&s->cfg, s->domid, &s->disks);
	if (r < 0) {
		if (s->selinux) {
			/* Fail closed (enforcing or permissive alike). */
			logmsg(LOG_ERR, "not starting %s: %s", s->cfg.qemu, m_errmsg(r));
			rollback(s);
			return EX_FAIL;
		}
		logmsg(LOG_WARNING, "SELinux disabled, continuing despite: %s", m_errmsg(r));
	}
	if (s->dry_run) {
		printf("exec %s", s->cfg.qemu);
		for (int i = 0; i < qargc; i++)
			printf(" %s", qargv[i]);
		printf("\n");
		return r < 0 ? EX_FAIL : EX_OK_;
	}
	if (s->selinux)
		logmsg(LOG_INFO, "domain %u: %s as %s (SELinux %s)", s->domid, s->cfg.qemu, ctx,
		       s->enforcing ? "enforcing" : "permissive");
	int ex = do_exec(s, qargc, qargv);
	rollback(s);
	return ex;
}

static int release(struct state *s, const char *domid_s)
{
	char range[SVIRT_RANGE_MAX], ctx[SVIRT_CTX_MAX];
	struct svirt_disklist l = { 0 };
	int ex = EX_OK_;
	if (svirt_parse_domid(domid_s, &s->domid) < 0) {
		fprintf(stderr, "svirt-interpose: '%s' is not a domain id\n", domid_s);
		return EX_USAGE_;
	}
	int r = store_release(s, range, sizeof(range), &l);
	if (r < 0) {
		logmsg(LOG_ERR, "release of domain %u: %s", s->domid, m_errmsg(r));
		svirt_disklist_free(&l);
		return EX_FAIL;
	}
	/* c0 marks the disks of stopped VMs: no running VM holds it. */
	for (size_t i = 0; s->selinux && i < l.n; i++) {
		r = svirt_label_file(l.d[i].path, "s0:c0", ctx, sizeof(ctx));
		if (r < 0) {
			logmsg(LOG_ERR, "release of domain %u: %s", s->domid, m_errmsg(r));
			ex = EX_FAIL;
		}
	}
	logmsg(LOG_INFO, "domain %u: released %s", s->domid, range);
	svirt_disklist_free(&l);
	return ex;
}

int main(int argc, char **argv)
{
	static struct state s;
	const char *conf = getenv("SVIRT_INTERPOSE_CONFIG");
	bool conf_optional = !conf;
	const char *domid_opt = NULL;
	int i = 1;

	openlog("svirt-interpose", LOG_PID | LOG_PERROR, LOG_DAEMON);
	if (!conf)
		conf = SVIRT_CONF_PATH;
	/* Our options come first; everything after them is QEMU's, unchanged. */
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--dry-run")) {
			s.dry_run = true;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			conf = argv[++i];
			conf_optional = false;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			conf = argv[i] + 9;
			conf_optional = false;
		} else if (!strcmp(argv[i], "--domid") && i + 1 < argc) {
			domid_opt = argv[++i];
		} else if (!strncmp(argv[i], "--domid=", 8)) {
			domid_opt = argv[i] + 8;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EX_OK_;
		} else if (!strcmp(argv[i], "--version")) {
			printf("svirt-interpose %s\n", MEASURED_VERSION);
			return EX_OK_;
		} else {
			break;
		}
	}
	unsigned given = 0;
	if (domid_opt && svirt_parse_domid(domid_opt, &given) < 0) {
		fprintf(stderr, "svirt-interpose: --domid '%.32s' is not a domain id (0-%u)\n",
			domid_opt, SVIRT_DOMID_MAX);
		return EX_USAGE_;
	}
	svirt_config_defaults(&s.cfg);
	int r = svirt_config_load(&s.cfg, conf, conf_optional);
	if (r < 0) {
		logmsg(LOG_ERR, "%s", m_errmsg(r));
		return EX_FAIL;
	}
	/* The option overrides the configuration's domid-arg. */
	if (domid_opt) {
		s.cfg.domid_mode = SVIRT_DOMID_GIVEN;
		s.cfg.domid_given = given;
	}
	s.selinux = is_selinux_enabled() > 0;
	s.enforcing = s.selinux && security_getenforce() == 1;

	if (i < argc && !strcmp(argv[i], "release")) {
		if (argc - i != 2 || domid_opt) {
			usage(stderr);
			return EX_USAGE_;
		}
		return release(&s, argv[i + 1]);
	}
	return launch(&s, argc - i, argv + i);
}
