// SPDX-License-Identifier: MIT
/*
 * tboot / Intel TXT events for the manifest (docs/predict-formulas.md,
 * "tboot / Intel TXT", and the mapping sections).
 *
 * Legacy mapping (TPM 1.2; SHA-1 only):
 *   PCR 17: SINIT ACM hash (CPU), SinitMleData details (SINIT), policy
 *           control digest (tboot)          -- only with the SINIT inputs
 *   PCR 18: MLE hash (SINIT), module 0 (tboot)
 *   then every module i into the PCR its policy entry names.
 * Details/Authorities mapping (what tboot forces with TPM 2.0; every bank):
 *   PCR 17: the SINIT's own events (given), MLE hash, policy control
 *           digest, module 0
 *   PCR 18: the SINIT's own events (given), policy control digest
 *   then every module i into the PCR its policy entry names.
 * PCRs 17 and 18 start at 0 here: the dynamic launch's locality-4 reset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "measured/file.h"
#include "measured/predict.h"
#include "measured/tboot.h"

#define SINIT_FILE_MAX 65536
#define SINIT_MAX_EVENTS 64

struct sinit_info {
	bool legacy_fields;
	struct m_txt_legacy_sinit legacy;
	struct { unsigned pcr; struct m_digests d; } ev[SINIT_MAX_EVENTS];
	size_t nev;
};

static int parse_hex_field(const char *v, uint8_t *out, size_t n, const char *path, unsigned line,
			   const char *key)
{
	if (m_unhex(v, out, n) < 0)
		return m_err(-EINVAL, "%s:%u: %s must be %zu hex digits", path, line, key, 2 * n);
	return 0;
}

static int parse_num(const char *v, uint64_t *out, const char *path, unsigned line, const char *key)
{
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 0);
	if (errno || end == v || *end)
		return m_err(-EINVAL, "%s:%u: %s: bad number '%s'", path, line, key, v);
	return 0;
}

/*
 * The SINIT description, key=value lines (docs/predict-formulas.md):
 * sinit_hash, bios_acm_id, stm_hash, lcp_policy_hash (40 hex digits),
 * edx_senter_flags, mseg_valid, lcp_policy_control, os_sinit_caps,
 * proc_scrtm_status (numbers) for the legacy mapping; pcr17=BANK:HEX and
 * pcr18=BANK:HEX (repeatable, in extend order; one line per bank of an
 * event, the banks of one event on consecutive lines) for the DA mapping.
 */
static int parse_sinit(const char *path, struct sinit_info *si)
{
	uint8_t *buf;
	size_t len;
	unsigned line = 0, have = 0;
	char *save = NULL, *l;
	int r = m_read_file(path, SINIT_FILE_MAX, &buf, &len);

	if (r < 0)
		return r;
	memset(si, 0, sizeof(*si));
	for (l = strtok_r((char *)buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq, *k, *v;
		uint64_t n;

		line++;
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		eq = strchr(l, '=');
		if (!eq) {
			r = m_err(-EINVAL, "%s:%u: expected key=value", path, line);
			goto out;
		}
		*eq = '\0';
		k = l;
		v = eq + 1;
		v[strcspn(v, " \t\r")] = '\0';
		if (!strcmp(k, "pcr17") || !strcmp(k, "pcr18")) {
			unsigned pcr = k[4] == '7' ? 17 : 18;
			char *colon = strchr(v, ':');
			int b;

			if (!colon || (*colon = '\0', b = m_bank_by_name(v)) < 0) {
				r = m_err(-EINVAL, "%s:%u: %s takes BANK:HEX", path, line, k);
				goto out;
			}
			/* a new event unless this line adds a bank to the previous one */
			if (!si->nev || si->ev[si->nev - 1].pcr != pcr ||
			    (si->ev[si->nev - 1].d.banks & M_BANK_BIT(b))) {
				if (si->nev == SINIT_MAX_EVENTS) {
					r = m_err(-E2BIG, "%s:%u: more than %d events", path, line, SINIT_MAX_EVENTS);
					goto out;
				}
				si->ev[si->nev].pcr = pcr;
				si->ev[si->nev].d.banks = 0;
				si->nev++;
			}
			r = parse_hex_field(colon + 1, si->ev[si->nev - 1].d.d[b], m_bank_info(b)->size, path, line, k);
			if (r < 0)
				goto out;
			si->ev[si->nev - 1].d.banks |= M_BANK_BIT(b);
			continue;
		}
		si->legacy_fields = true;
		if (!strcmp(k, "sinit_hash"))
			r = parse_hex_field(v, si->legacy.sinit_hash, 20, path, line, k), have |= 1;
		else if (!strcmp(k, "bios_acm_id"))
			r = parse_hex_field(v, si->legacy.bios_acm_id, 20, path, line, k), have |= 2;
		else if (!strcmp(k, "stm_hash"))
			r = parse_hex_field(v, si->legacy.stm_hash, 20, path, line, k);
		else if (!strcmp(k, "lcp_policy_hash"))
			r = parse_hex_field(v, si->legacy.lcp_policy_hash, 20, path, line, k);
		else if (!strcmp(k, "edx_senter_flags") && !(r = parse_num(v, &n, path, line, k)))
			si->legacy.edx_senter_flags = (uint32_t)n;
		else if (!strcmp(k, "mseg_valid") && !(r = parse_num(v, &n, path, line, k)))
			si->legacy.mseg_valid = n;
		else if (!strcmp(k, "lcp_policy_control") && !(r = parse_num(v, &n, path, line, k)))
			si->legacy.lcp_policy_control = (uint32_t)n;
		else if (!strcmp(k, "os_sinit_caps") && !(r = parse_num(v, &n, path, line, k))) {
			si->legacy.has_os_sinit_caps = true;
			si->legacy.os_sinit_caps = (uint32_t)n;
		} else if (!strcmp(k, "proc_scrtm_status") && !(r = parse_num(v, &n, path, line, k))) {
			si->legacy.has_scrtm_status = true;
			si->legacy.proc_scrtm_status = (uint32_t)n;
		} else if (r == 0)
			r = m_err(-EINVAL, "%s:%u: unknown key '%s'", path, line, k);
		if (r < 0)
			goto out;
	}
	if (si->legacy_fields && (have & 3) != 3)
		r = m_err(-EINVAL, "%s: the legacy fields need at least sinit_hash and bios_acm_id", path);
out:
	free(buf);
	return r;
}

/* extpol= on tboot's command line picks the policy hash (cmdline.c); default sha256 */
static int tboot_extpol(const char *cmdline, enum m_bank *ret)
{
	const char *p = cmdline;

	*ret = M_SHA256;
	while (p && (p = strstr(p, "extpol=")) != NULL) {
		const char *v = p + 7;
		size_t n = strcspn(v, " ");

		if (p == cmdline || p[-1] == ' ') {
			if (n == 4 && !strncmp(v, "sha1", 4))
				*ret = M_SHA1;
			else if (n == 6 && !strncmp(v, "sha256", 6))
				*ret = M_SHA256;
			else
				return m_err(-ENOTSUP, "tboot extpol=%.*s: only sha1 and sha256 are predicted", (int)n, v);
		}
		p = v;
	}
	return 0;
}

static int add(struct m_manifest *m, unsigned pcr, unsigned banks, const struct m_digests *d,
	       const char *desc)
{
	struct m_digests x = *d;

	x.banks = d->banks & banks;
	return m_manifest_add(m, pcr, 0, &x, desc, "tboot");
}

/* What one tboot prediction computes before it adds events. */
struct tboot_parts {
	unsigned banks;
	enum m_bank cur;		/* the policy's extend algorithm (extpol=) */
	bool have17;			/* the SINIT part is known */
	struct sinit_info *si;
	struct m_tb_policy *pol;
	struct m_digests mle, pcd, *mods;
};

/* Inputs: the SINIT description, checked against the mapping. */
static int tboot_sinit(const struct m_tboot_inputs *in, struct tboot_parts *t)
{
	int r;

	if (!in->sinit)
		return 0;
	if ((r = parse_sinit(in->sinit, t->si)) < 0)
		return r;
	if (in->legacy && !t->si->legacy_fields)
		return m_err(-EINVAL, "%s: the legacy mapping needs sinit_hash, bios_acm_id, ...", in->sinit);
	if (!in->legacy && (t->si->legacy_fields || !t->si->nev))
		return m_err(-EINVAL, "%s: the DA mapping needs pcr17=/pcr18= events, not legacy fields", in->sinit);
	t->have17 = true;
	return 0;
}

/* The MLE as SINIT measures it, and the policy control digest. */
static int tboot_mle_policy(const struct m_tboot_inputs *in, struct tboot_parts *t)
{
	uint8_t defpol[M_TB_POLICY_DEFAULT_SIZE], *raw = NULL, *elf = NULL;
	size_t rawlen = 0, elflen;
	int r;

	if ((r = m_tboot_read_file(in->tboot, M_TBOOT_MAX_FILE, true, &elf, &elflen)) < 0 ||
	    (r = m_tboot_mlehash(elf, elflen, in->cmdline, t->banks, &t->mle)) < 0)
		goto out;
	/* the policy: the file, or tboot's built-in one */
	if (in->policy) {
		if ((r = m_read_file(in->policy, M_TB_POLICY_MAX_SIZE, &raw, &rawlen)) < 0)
			goto out;
		r = m_tb_policy_parse(raw, rawlen, t->pol);
	} else {
		m_tb_policy_default(in->legacy, !in->legacy, defpol);
		r = m_tb_policy_parse(defpol, sizeof(defpol), t->pol);
	}
	if (r < 0) {
		r = m_err_prefix(r, "%s", in->policy ? in->policy : "tboot's default policy");
		goto out;
	}
	t->pcd.banks = t->banks;
	for_each_bank(b, t->banks)
		if ((r = m_tb_policy_control_digest(t->pol, in->legacy ? M_SHA1 : t->cur, b, t->pcd.d[b])) < 0)
			goto out;
out:
	free(raw);
	free(elf);
	return r;
}

/* Each module's hash: H(H(cmdline) || H(image)). */
static int tboot_module_hashes(const struct m_tboot_inputs *in, struct tboot_parts *t)
{
	for (size_t i = 0; i < in->nmodules; i++) {
		const char *cl = in->modules[i].cmdline;
		uint8_t *img;
		size_t len;
		int r;

		if ((r = m_tboot_read_file(in->modules[i].path, M_TBOOT_MAX_MODULE, true, &img, &len)) < 0)
			return r;
		r = m_tboot_module_hash(in->strip_filename ? m_tboot_skip_filename(cl) : cl, img, len, t->banks,
					&t->mods[i]);
		free(img);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Legacy mapping (TPM 1.2 style, SHA-1): 17 SINIT + details + policy
 * control; 18 MLE and the first module. */
static int tboot_add_legacy(struct m_manifest *m, const struct m_tboot_inputs *in, const struct tboot_parts *t)
{
	int r;

	if (t->have17) {
		struct m_digests h = { .banks = M_BANK_BIT(M_SHA1) }, det = h;

		memcpy(h.d[M_SHA1], t->si->legacy.sinit_hash, 20);
		if ((r = m_txt_legacy_sinit_details(&t->si->legacy, det.d[M_SHA1])) < 0 ||
		    (r = add(m, 17, t->banks, &h, "SINIT ACM")) < 0 ||
		    (r = add(m, 17, t->banks, &det, "SINIT details (SinitMleData)")) < 0 ||
		    (r = add(m, 17, t->banks, &t->pcd, "tboot policy control")) < 0)
			return r;
	}
	if ((r = add(m, 18, t->banks, &t->mle, "MLE (tboot)")) < 0)
		return r;
	if (in->nmodules && (r = add(m, 18, t->banks, &t->mods[0], in->modules[0].path)) < 0)
		return r;
	return 0;
}

/* Details/authorities mapping (TPM 2.0): 17 SINIT events, MLE, policy
 * control, first module; 18 SINIT events, policy control. */
static int tboot_add_da(struct m_manifest *m, const struct m_tboot_inputs *in, const struct tboot_parts *t)
{
	int r;

	if (!t->have17)
		return 0;
	for (size_t i = 0; i < t->si->nev; i++)
		if (t->si->ev[i].pcr == 17 && (r = add(m, 17, t->banks, &t->si->ev[i].d, "SINIT")) < 0)
			return r;
	if ((r = add(m, 17, t->banks, &t->mle, "MLE (tboot)")) < 0 ||
	    (r = add(m, 17, t->banks, &t->pcd, "tboot policy control")) < 0)
		return r;
	if (in->nmodules && (r = add(m, 17, t->banks, &t->mods[0], in->modules[0].path)) < 0)
		return r;
	for (size_t i = 0; i < t->si->nev; i++)
		if (t->si->ev[i].pcr == 18 && (r = add(m, 18, t->banks, &t->si->ev[i].d, "SINIT")) < 0)
			return r;
	return add(m, 18, t->banks, &t->pcd, "tboot policy control");
}

/* Then every module into the PCR its policy entry names (tboot's
 * policy.c verify_all_modules). */
static int tboot_add_policy_modules(struct m_manifest *m, const struct m_tboot_inputs *in,
				    const struct tboot_parts *t)
{
	for (size_t i = 0; i < in->nmodules; i++) {
		const struct m_tb_policy_entry *e = m_tb_policy_find(t->pol, (unsigned)i);
		int r;

		if (!e || e->pcr == M_TB_PCR_NONE)
			continue;
		if ((e->pcr == 17 || e->pcr == 18) && !t->have17 && !in->legacy)
			continue;	/* not predictable without the SINIT part */
		if (in->legacy && e->pcr == 17 && !t->have17)
			continue;
		if ((r = add(m, e->pcr, t->banks, &t->mods[i], in->modules[i].path)) < 0)
			return r;
	}
	return 0;
}

int m_predict_tboot(struct m_manifest *m, const struct m_tboot_inputs *in)
{
	struct tboot_parts t = { .banks = in->legacy ? M_BANK_BIT(M_SHA1) : m->banks, .cur = M_SHA1 };
	int r;

	if (!(t.banks & m->banks))
		return m_err(-EINVAL, "the legacy tboot mapping is SHA-1 only: add sha1 to --bank");
	if (!in->tboot)
		return m_err(-EINVAL, "tboot prediction needs --tboot");
	if (!in->legacy && (r = tboot_extpol(in->cmdline, &t.cur)) < 0)
		return r;
	t.si = calloc(1, sizeof(*t.si));
	t.pol = calloc(1, sizeof(*t.pol));
	t.mods = calloc(in->nmodules ? in->nmodules : 1, sizeof(*t.mods));
	if (!t.si || !t.pol || !t.mods) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = tboot_sinit(in, &t)) < 0 || (r = tboot_mle_policy(in, &t)) < 0 ||
	    (r = tboot_module_hashes(in, &t)) < 0)
		goto out;
	m->dynamic_launch = true;
	r = in->legacy ? tboot_add_legacy(m, in, &t) : tboot_add_da(m, in, &t);
	if (r == 0)
		r = tboot_add_policy_modules(m, in, &t);
out:
	free(t.si);
	free(t.pol);
	free(t.mods);
	return r;
}
