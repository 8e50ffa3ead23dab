// SPDX-License-Identifier: MIT
/*
 * Kernel command line for measured-init.  Words are split as the kernel
 * splits them (spaces; double quotes group, and are removed).  Only our
 * own parameters and init= are read; everything else belongs to the
 * kernel or to the real root's init.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "initcore.h"
#include "measured/measure.h"

/*
 * PCRs a root measurement may go to.  0-7 belong to the firmware (PC Client
 * Platform Firmware Profile); 16 (debug) and 23 (application) can be reset
 * from locality 0, and 17-22 are DRTM PCRs that locality 0 cannot extend
 * or that a dynamic launch resets, so a measurement there proves nothing.
 */
static bool pcr_allowed(unsigned long pcr)
{
	return pcr >= 8 && pcr <= 15;
}

static int set_str(char *dst, size_t cap, const char *v, const char *name)
{
	size_t n = strlen(v);

	if (n >= cap)
		return m_err(-ENAMETOOLONG, "%s= is longer than %zu characters", name, cap - 1);
	memcpy(dst, v, n + 1);
	return 0;
}

static int parse_pcr(const char *v, const char *name, unsigned *ret)
{
	char *end;
	unsigned long n;

	if (!*v || *v < '0' || *v > '9')
		return m_err(-EINVAL, "%s=%s is not a PCR number", name, v);
	n = strtoul(v, &end, 10);
	if (*end || n > 23)
		return m_err(-EINVAL, "%s=%s is not a PCR number (0-23)", name, v);
	if (!pcr_allowed(n))
		return m_err(-EINVAL, "%s=%lu refused: PCRs 0-7 are the firmware's and 16-23 can be reset "
			     "or are DRTM; use 8-15", name, n);
	*ret = (unsigned)n;
	return 0;
}

/* measured.root=DEV or DEV:/path/in/it.img.  A ':' followed by '/' starts the
 * path; LABEL= and UUID= values may themselves contain ':'. */
static int parse_root(const char *v, struct mi_params *p)
{
	const char *colon = strstr(v, ":/");
	char dev[MI_PATH_MAX];
	size_t n;

	if (!*v)
		return m_err(-EINVAL, "measured.root= is empty");
	n = colon ? (size_t)(colon - v) : strlen(v);
	if (n >= sizeof(dev))
		return m_err(-ENAMETOOLONG, "measured.root= device is longer than %zu characters", sizeof(dev) - 1);
	memcpy(dev, v, n);
	dev[n] = '\0';
	if (strncmp(dev, "/dev/", 5) != 0 && strncmp(dev, "LABEL=", 6) != 0 && strncmp(dev, "UUID=", 5) != 0)
		return m_err(-EINVAL, "measured.root=%s: expected /dev/..., LABEL=... or UUID=...", v);
	if (strstr(dev, "/../") || (colon && strstr(colon + 1, "/..")))
		return m_err(-EINVAL, "measured.root=%s: '..' is not allowed", v);
	memcpy(p->root, dev, n + 1);
	p->root_file[0] = '\0';
	if (colon)
		return set_str(p->root_file, sizeof(p->root_file), colon + 1, "measured.root path");
	return 0;
}

/* measured.verity.* and measured.copy=; 1 when @w is not one of them. */
static int parse_verity_copy(const char *w, const char *v, struct mi_params *p)
{
	if (strcmp(w, "measured.verity.roothash") == 0) {
		size_t n = strlen(v);

		/* the digest sizes of sha1, sha256, sha384, sha512; the
		 * superblock's algorithm must agree (checked at boot) */
		if ((n != 40 && n != 64 && n != 96 && n != 128) || m_unhex(v, p->verity.root, n / 2) < 0)
			return m_err(-EINVAL, "measured.verity.roothash=%.140s: expected 40, 64, 96 or 128 hex digits", v);
		p->verity.root_len = n / 2;
		p->verity.on = true;
		return 0;
	}
	if (strcmp(w, "measured.verity.hashoffset") == 0) {
		char *end;
		unsigned long long n;

		if (!*v || *v < '0' || *v > '9')
			return m_err(-EINVAL, "measured.verity.hashoffset=%.40s: expected bytes", v);
		errno = 0;
		n = strtoull(v, &end, 10);
		if (*end || errno || n % 512)
			return m_err(-EINVAL, "measured.verity.hashoffset=%.40s: expected bytes, a multiple of 512", v);
		p->verity.hash_offset = n;
		p->verity.hash_offset_set = true;
		return 0;
	}
	if (strcmp(w, "measured.verity.hash") == 0) {
		if (strncmp(v, "/dev/", 5) != 0 && strncmp(v, "LABEL=", 6) != 0 && strncmp(v, "UUID=", 5) != 0)
			return m_err(-EINVAL, "measured.verity.hash=%.40s: expected /dev/..., LABEL=... or UUID=...", v);
		if (strstr(v, "/../"))
			return m_err(-EINVAL, "measured.verity.hash=%.40s: '..' is not allowed", v);
		return set_str(p->verity.hash_dev, sizeof(p->verity.hash_dev), v, w);
	}
	if (strcmp(w, "measured.verity.error") == 0) {
		enum m_verity_error e;
		int r = m_verity_error_parse(v, &e);

		if (r < 0)
			return m_err(r, "measured.verity.error=%.20s: expected eio, restart or panic", v);
		p->verity.error = e;
		return 0;
	}
	if (strncmp(w, "measured.verity.", 16) == 0)
		return m_err(-EINVAL, "%.40s: unknown (measured.verity.roothash, .hashoffset, .hash, .error)", w);
	if (strcmp(w, "measured.copy") == 0) {
		if (strcmp(v, "ram") == 0)
			p->copy_ram = true;
		else if (strcmp(v, "none") == 0)
			p->copy_ram = false;
		else
			return m_err(-EINVAL, "measured.copy=%.20s: expected ram or none", v);
		p->copy_set = true;
		return 0;
	}
	return 1;
}

/* The modes exclude each other: one root, one way of measuring it. */
static int check_modes(const struct mi_params *p)
{
	bool verity_words = p->verity.hash_dev[0] || p->verity.hash_offset_set || p->verity.error;

	if (verity_words && !p->verity.on)
		return m_err(-EINVAL, "measured.verity.* needs measured.verity.roothash=");
	if (p->verity.on && p->compat)
		return m_err(-EINVAL, "measured.verity.roothash= and measureroot exclude each other");
	if (p->verity.on && p->copy_ram && p->copy_set)
		return m_err(-EINVAL, "measured.verity.roothash= and measured.copy=ram exclude each other");
	if (p->verity.on && !p->verity.hash_dev[0] && !p->verity.hash_offset_set)
		return m_err(-EINVAL, "a verity root on one device needs measured.verity.hashoffset= "
			     "(where veritysetup put the hash area)");
	return 0;
}

static int parse_one(char *w, struct mi_params *p, bool *have_rootimg)
{
	char *eq = strchr(w, '=');
	const char *v = eq ? eq + 1 : "";

	int r;

	if (eq)
		*eq = '\0';
	r = parse_verity_copy(w, v, p);
	if (r <= 0)
		return r;
	if (strcmp(w, "measured.root") == 0)
		return parse_root(v, p);
	if (strcmp(w, "measured.pcr") == 0)
		return parse_pcr(v, w, &p->pcr);
	if (strcmp(w, "measured.overlay") == 0) {
		if (strcmp(v, "tmpfs") == 0)
			p->overlay = true;
		else if (strcmp(v, "none") == 0)
			p->overlay = false;
		else
			return m_err(-EINVAL, "measured.overlay=%s: expected tmpfs or none", v);
		return 0;
	}
	if (strcmp(w, "measured.fstype") == 0) {
		if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(v))
			return m_err(-EINVAL, "measured.fstype=%s is not a file system type name", v);
		return set_str(p->fstype, sizeof(p->fstype), v, w);
	}
	if (strcmp(w, "measured.timeout") == 0) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);

		if (!*v || *end || n > 3600)
			return m_err(-EINVAL, "measured.timeout=%s: expected seconds (0-3600)", v);
		p->timeout = (unsigned)n;
		return 0;
	}
	if (strcmp(w, "measured.debug") == 0) {
		p->debug = true;
		return 0;
	}
	if (strcmp(w, "init") == 0) {
		if (*v != '/')
			return m_err(-EINVAL, "init=%s is not an absolute path", v);
		return set_str(p->init, sizeof(p->init), v, w);
	}
	if (strcmp(w, "measureroot") == 0 && !eq) {
		p->compat = true;
		return 0;
	}
	if (strcmp(w, "rootimg") == 0) {
		/* The original looked NAME up on the mounted boot medium. */
		if (!*v || strstr(v, ".."))
			return m_err(-EINVAL, "rootimg=%s is not a file name", v);
		*have_rootimg = true;
		return set_str(p->root_file, sizeof(p->root_file), v, w);
	}
	if (strcmp(w, "rootimgpcr") == 0) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);

		/* The original accepted any PCR; the same bounds keep the compat
		 * mode from writing where a measurement proves nothing. */
		if (!*v || *end || n > 23 || !pcr_allowed(n))
			return m_err(-EINVAL, "rootimgpcr=%s: expected a PCR in 8-15", v);
		p->pcr = (unsigned)n;
		return 0;
	}
	return 0;	/* not ours */
}

static int parse_fail(const char *v, enum mi_fail *ret)
{
	if (strcmp(v, "halt") == 0)
		*ret = MI_FAIL_HALT;
	else if (strcmp(v, "reboot") == 0)
		*ret = MI_FAIL_REBOOT;
	else if (strcmp(v, "shell") == 0)
		*ret = MI_FAIL_SHELL;
	else
		return m_err(-EINVAL, "measured.fail=%s: expected halt, reboot or shell", v);
	return 0;
}

int mi_cmdline_words(const char *cmdline, int (*cb)(char *word, void *arg), void *arg)
{
	char word[MI_CMDLINE_MAX];
	size_t n = strlen(cmdline);

	if (n >= sizeof(word))
		return m_err(-E2BIG, "kernel command line longer than %u bytes", MI_CMDLINE_MAX - 1);
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		bool quoted = false;
		int r;

		while (i < n && (cmdline[i] == ' ' || cmdline[i] == '\t' || cmdline[i] == '\n'))
			i++;
		if (i >= n)
			break;
		while (i < n && (quoted || (cmdline[i] != ' ' && cmdline[i] != '\t' && cmdline[i] != '\n'))) {
			if (cmdline[i] == '"')
				quoted = !quoted;
			else
				word[k++] = cmdline[i];
			i++;
		}
		word[k] = '\0';
		/* "--" ends the kernel's parameters; the rest is init's argv. */
		if (strcmp(word, "--") == 0)
			break;
		if ((r = cb(word, arg)) != 0)
			return r;
	}
	return 0;
}

struct parse_ctx {
	struct mi_params *p;
	bool have_rootimg, pcr_set, fail_bad;
	int err, fail_err;
};

static int parse_word(char *word, void *arg)
{
	struct parse_ctx *c = arg;

	if (strncmp(word, "measured.fail=", 14) == 0) {
		int e = parse_fail(word + 14, &c->p->fail);

		if (e < 0 && !c->fail_bad) {
			c->fail_bad = true;
			c->fail_err = e;
		}
		return 0;
	}
	if (strncmp(word, "measured.pcr=", 13) == 0 || strncmp(word, "rootimgpcr=", 11) == 0)
		c->pcr_set = true;
	if (c->err == 0)
		c->err = parse_one(word, c->p, &c->have_rootimg);
	return 0;
}

int mi_params_parse(const char *cmdline, struct mi_params *ret)
{
	struct mi_params p = { .pcr = 0, .timeout = MI_DEFAULT_TIMEOUT, .overlay = true, .fail = MI_FAIL_HALT };
	struct parse_ctx c = { .p = &p };
	bool have_rootimg, pcr_set, fail_bad;
	int err, fail_err;

	strcpy(p.init, "/sbin/init");
	err = mi_cmdline_words(cmdline, parse_word, &c);
	if (err < 0) {
		ret->fail = MI_FAIL_HALT;
		return err;
	}
	have_rootimg = c.have_rootimg;
	pcr_set = c.pcr_set;
	fail_bad = c.fail_bad;
	err = c.err;
	fail_err = c.fail_err;
	if (fail_bad) {
		/* A bad fail action must not weaken the default: halt. */
		p.fail = MI_FAIL_HALT;
		if (err == 0)
			err = m_err(fail_err, "measured.fail= must be halt, reboot or shell");
	}
	/* The original's forms: `measureroot rootimg=NAME` measured NAME;
	 * `rootimg=NAME` alone booted it unmeasured.  Both mean the
	 * compatibility mode here: the image is always measured (fail closed),
	 * with the same value, so a verifier sees one value for both.  With
	 * measured.root=DEV too, rootimg= names the image file on DEV in the
	 * current mode. */
	if (err == 0 && have_rootimg && !p.root[0])
		p.compat = true;
	if (err == 0 && p.compat && !have_rootimg)
		err = m_err(-EINVAL, "measureroot needs rootimg=NAME");
	if (err == 0 && !p.compat && !p.root[0])
		err = m_err(-EINVAL, "no measured.root= on the kernel command line");
	/* A live image (an image file on a boot medium) is copied to RAM
	 * unless told otherwise: the medium is the least trusted device. */
	if (!p.copy_set && p.root_file[0] && !p.verity.on)
		p.copy_ram = true;
	if (err == 0)
		err = check_modes(&p);
	if (!pcr_set)
		p.pcr = m_root_pcr_default(p.compat);
	*ret = p;
	return err;
}
