// SPDX-License-Identifier: MIT
/*
 * The TPM character device: one write() of a whole command, one read() of
 * the whole response (the kernel's TPM driver contract).  /dev/tpmrm0 is
 * preferred (the resource manager), /dev/tpm0 is the fallback when the
 * kernel has no resource manager (a TPM 1.2 has only /dev/tpm0); the init
 * needs no objects either way.
 *
 * The family comes from the kernel (tpm_version_major in sysfs) or, where
 * the kernel does not say, from the answer to the first TPM 2.0 command
 * (mi_tpm_family()): a TPM 1.2 refuses it with a 1.2 response tag.  On a
 * TPM 1.2 the init extends the SHA-1 PCR with TPM_Extend and reads it back
 * with TPM_PCRRead (lib/initcore/tpm12_wire.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"
#include "tpm12.h"

int itpm_open(struct itpm *t, unsigned wait_ms)
{
	static const char *const paths[] = { "/dev/tpmrm0", "/dev/tpm0" };
	struct timespec step = { 0, 50 * 1000000L };

	for (unsigned waited = 0;; waited += 50) {
		for (unsigned i = 0; i < 2; i++) {
			int fd = open(paths[i], O_RDWR | O_CLOEXEC | O_NOFOLLOW);

			if (fd >= 0) {
				t->fd = fd;
				t->path = paths[i];
				t->family = mi_tpm_sysfs_family(0);
				t->npcr = 0;
				return 0;
			}
		}
		if (waited >= wait_ms)
			break;
		nanosleep(&step, NULL);
	}
	return m_err(-ENODEV, "no TPM: neither /dev/tpmrm0 nor /dev/tpm0 exists");
}

static int transmit(struct itpm *t, struct mbuf_writer *cmd, uint8_t *rsp, size_t *ret_len)
{
	ssize_t n;

	if (!mbw_ok(cmd))
		return m_err(-EOVERFLOW, "TPM command does not fit %u bytes", MI_TPM_BUF_MAX);
	n = write(t->fd, cmd->data, cmd->len);
	if (n < 0)
		return m_err(-errno, "%s: write: %m", t->path);
	if ((size_t)n != cmd->len)
		return m_err(-EIO, "%s: short write (%zd of %zu bytes)", t->path, n, cmd->len);
	n = read(t->fd, rsp, MI_TPM_BUF_MAX);
	if (n < 0)
		return m_err(-errno, "%s: read: %m", t->path);
	*ret_len = (size_t)n;
	return 0;
}

/*
 * TPM 1.2: the number of PCRs, which is also the first 1.2 command.  The
 * firmware normally sends TPM_Startup, and Linux does when the firmware did
 * not; a TPM still waiting for it (TPM_INVALID_POSTINIT) gets
 * TPM_Startup(ST_CLEAR) here, once.
 */
static int banks12(struct itpm *t, unsigned *ret_banks, unsigned *ret_unknown)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	struct mbuf_reader rd;
	uint32_t rc = 0;
	size_t n;
	int err;

	for (int attempt = 0; attempt < 2; attempt++) {
		mbw_init_fixed(&w, c, sizeof(c));
		mi_t12_getcap_npcr_cmd(&w);
		err = transmit(t, &w, r, &n);
		if (err < 0)
			return err;
		(void)mi_t12_rsp_begin(&rd, r, n, "TPM_GetCapability", &rc);
		if (rc != MI_T12_INVALID_POSTINIT || attempt > 0)
			break;
		say("the TPM 1.2 was not started: sending TPM_Startup(ST_CLEAR)");
		mbw_init_fixed(&w, c, sizeof(c));
		mi_t12_startup_cmd(&w);
		err = transmit(t, &w, r, &n);
		if (err == 0)
			err = mi_t12_startup_rsp(r, n);
		if (err < 0)
			return err;
	}
	err = mi_t12_getcap_npcr_rsp(r, n, &t->npcr);
	if (err < 0)
		return err;
	say("TPM 1.2 at %s: %u PCRs, SHA-1", t->path, t->npcr);
	*ret_banks = M_BANK_BIT(M_SHA1);
	*ret_unknown = 0;
	return 0;
}

int itpm_banks(struct itpm *t, unsigned *ret_banks, unsigned *ret_unknown)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err;

	if (t->family == 12)
		return banks12(t, ret_banks, ret_unknown);
	mbw_init_fixed(&w, c, sizeof(c));
	mi_tpm_getcap_pcrs_cmd(&w);
	err = transmit(t, &w, r, &n);
	if (err < 0)
		return err;
	if (t->family == 0) {
		err = mi_tpm_family(r, n);
		if (err < 0)
			return m_err_prefix(err, "%s", t->path);
		t->family = err;
		if (t->family == 12)
			return banks12(t, ret_banks, ret_unknown);
	}
	return mi_tpm_getcap_pcrs_rsp(r, n, ret_banks, ret_unknown);
}

static int check_pcr12(struct itpm *t, unsigned pcr)
{
	if (pcr >= t->npcr)
		return m_err(-ERANGE, "PCR %u: this TPM 1.2 has PCRs 0-%u", pcr, t->npcr - 1);
	return 0;
}

static int extend12(struct itpm *t, unsigned pcr, const struct m_digests *d)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err = check_pcr12(t, pcr);

	if (err < 0)
		return err;
	if (d->banks != M_BANK_BIT(M_SHA1))
		return m_err(-EINVAL, "a TPM 1.2 has only the SHA-1 bank");
	mbw_init_fixed(&w, c, sizeof(c));
	mi_t12_extend_cmd(&w, pcr, d->d[M_SHA1]);
	err = transmit(t, &w, r, &n);
	return err < 0 ? err : mi_t12_extend_rsp(r, n, NULL);
}

static int read12(struct itpm *t, unsigned pcr, unsigned banks, struct m_digests *ret)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX], v[MI_T12_DIGEST_LEN];
	struct mbuf_writer w;
	size_t n;
	int err = check_pcr12(t, pcr);

	if (err < 0)
		return err;
	if (banks != M_BANK_BIT(M_SHA1))
		return m_err(-EINVAL, "a TPM 1.2 has only the SHA-1 bank");
	mbw_init_fixed(&w, c, sizeof(c));
	mi_t12_pcrread_cmd(&w, pcr);
	err = transmit(t, &w, r, &n);
	if (err == 0)
		err = mi_t12_pcrread_rsp(r, n, v);
	if (err < 0)
		return err;
	memset(ret, 0, sizeof(*ret));
	ret->banks = M_BANK_BIT(M_SHA1);
	memcpy(ret->d[M_SHA1], v, sizeof(v));
	return 0;
}

int itpm_extend(struct itpm *t, unsigned pcr, const struct m_digests *d)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err;

	if (t->family == 12)
		return extend12(t, pcr, d);
	mbw_init_fixed(&w, c, sizeof(c));
	mi_tpm_extend_cmd(&w, pcr, d);
	err = transmit(t, &w, r, &n);
	return err < 0 ? err : mi_tpm_extend_rsp(r, n);
}

int itpm_read(struct itpm *t, unsigned pcr, unsigned banks, struct m_digests *ret)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err;

	if (t->family == 12)
		return read12(t, pcr, banks, ret);
	mbw_init_fixed(&w, c, sizeof(c));
	mi_tpm_pcrread_cmd(&w, pcr, banks);
	err = transmit(t, &w, r, &n);
	return err < 0 ? err : mi_tpm_pcrread_rsp(r, n, pcr, banks, ret);
}
