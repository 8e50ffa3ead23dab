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

int m_predict_tboot(struct m_manifest *m, const struct m_tboot_inputs *in)
{
	struct sinit_info *si = NULL;
	struct m_tb_policy *pol = NULL;
	uint8_t defpol[M_TB_POLICY_DEFAULT_SIZE], *raw = NULL, *elf = NULL;
	size_t rawlen = 0, elflen;
	unsigned banks = in->legacy ? M_BANK_BIT(M_SHA1) : m->banks;
	struct m_digests mle, pcd = { .banks = banks }, *mods = NULL;
	enum m_bank cur = M_SHA1;
	bool have17;
	int r;

	if (!(banks & m->banks))
		return m_err(-EINVAL, "the legacy tboot mapping is SHA-1 only: add sha1 to --bank");
	if (!in->tboot)
		return m_err(-EINVAL, "tboot prediction needs --tboot");
	if (!in->legacy && (r = tboot_extpol(in->cmdline, &cur)) < 0)
		return r;
	si = calloc(1, sizeof(*si));
	pol = calloc(1, sizeof(*pol));
	mods = calloc(in->nmodules ? in->nmodules : 1, sizeof(*mods));
	if (!si || !pol || !mods) {
		r = -ENOMEM;
		goto out;
	}
	if (in->sinit && (r = parse_sinit(in->sinit, si)) < 0)
		goto out;
	if (in->legacy && in->sinit && !si->legacy_fields) {
		r = m_err(-EINVAL, "%s: the legacy mapping needs sinit_hash, bios_acm_id, ...", in->sinit);
		goto out;
	}
	if (!in->legacy && in->sinit && (si->legacy_fields || !si->nev)) {
		r = m_err(-EINVAL, "%s: the DA mapping needs pcr17=/pcr18= events, not legacy fields", in->sinit);
		goto out;
	}
	have17 = in->sinit != NULL;
	m->dynamic_launch = true;

	/* the MLE as SINIT measures it */
	if ((r = m_tboot_read_file(in->tboot, M_TBOOT_MAX_FILE, true, &elf, &elflen)) < 0 ||
	    (r = m_tboot_mlehash(elf, elflen, in->cmdline, banks, &mle)) < 0)
		goto out;
	/* the policy: the file, or tboot's built-in one */
	if (in->policy) {
		if ((r = m_read_file(in->policy, M_TB_POLICY_MAX_SIZE, &raw, &rawlen)) < 0)
			goto out;
		r = m_tb_policy_parse(raw, rawlen, pol);
	} else {
		m_tb_policy_default(in->legacy, !in->legacy, defpol);
		r = m_tb_policy_parse(defpol, sizeof(defpol), pol);
	}
	if (r < 0) {
		r = m_err_prefix(r, "%s", in->policy ? in->policy : "tboot's default policy");
		goto out;
	}
	for_each_bank(b, banks)
		if ((r = m_tb_policy_control_digest(pol, in->legacy ? M_SHA1 : cur, b, pcd.d[b])) < 0)
			goto out;
	for (size_t i = 0; i < in->nmodules; i++) {
		uint8_t *img;
		size_t len;
		const char *cl = in->modules[i].cmdline;

		if ((r = m_tboot_read_file(in->modules[i].path, M_TBOOT_MAX_MODULE, true, &img, &len)) < 0)
			goto out;
		r = m_tboot_module_hash(in->strip_filename ? m_tboot_skip_filename(cl) : cl, img, len, banks,
					&mods[i]);
		free(img);
		if (r < 0)
			goto out;
	}

	if (in->legacy) {
		if (have17) {
			struct m_digests h = { .banks = M_BANK_BIT(M_SHA1) }, det = h;

			memcpy(h.d[M_SHA1], si->legacy.sinit_hash, 20);
			if ((r = m_txt_legacy_sinit_details(&si->legacy, det.d[M_SHA1])) < 0 ||
			    (r = add(m, 17, banks, &h, "SINIT ACM")) < 0 ||
			    (r = add(m, 17, banks, &det, "SINIT details (SinitMleData)")) < 0 ||
			    (r = add(m, 17, banks, &pcd, "tboot policy control")) < 0)
				goto out;
		}
		if ((r = add(m, 18, banks, &mle, "MLE (tboot)")) < 0)
			goto out;
		if (in->nmodules && (r = add(m, 18, banks, &mods[0], in->modules[0].path)) < 0)
			goto out;
	} else if (have17) {
		for (size_t i = 0; i < si->nev; i++)
			if (si->ev[i].pcr == 17 && (r = add(m, 17, banks, &si->ev[i].d, "SINIT")) < 0)
				goto out;
		if ((r = add(m, 17, banks, &mle, "MLE (tboot)")) < 0 ||
		    (r = add(m, 17, banks, &pcd, "tboot policy control")) < 0)
			goto out;
		if (in->nmodules && (r = add(m, 17, banks, &mods[0], in->modules[0].path)) < 0)
			goto out;
		for (size_t i = 0; i < si->nev; i++)
			if (si->ev[i].pcr == 18 && (r = add(m, 18, banks, &si->ev[i].d, "SINIT")) < 0)
				goto out;
		if ((r = add(m, 18, banks, &pcd, "tboot policy control")) < 0)
			goto out;
	}
	/* then every module into the PCR its policy entry names (policy.c verify_all_modules) */
	for (size_t i = 0; i < in->nmodules; i++) {
		const struct m_tb_policy_entry *e = m_tb_policy_find(pol, (unsigned)i);

		if (!e || e->pcr == M_TB_PCR_NONE)
			continue;
		if ((e->pcr == 17 || e->pcr == 18) && !have17 && !in->legacy)
			continue;	/* not predictable without the SINIT part */
		if (in->legacy && e->pcr == 17 && !have17)
			continue;
		if ((r = add(m, e->pcr, banks, &mods[i], in->modules[i].path)) < 0)
			goto out;
	}
	r = 0;
out:
	free(si);
	free(pol);
	free(mods);
	free(raw);
	free(elf);
	return r;
}
