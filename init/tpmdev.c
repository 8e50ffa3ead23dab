// SPDX-License-Identifier: MIT
/*
 * The TPM character device: one write() of a whole command, one read() of
 * the whole response (the kernel's TPM driver contract).  /dev/tpmrm0 is
 * preferred (the resource manager), /dev/tpm0 is the fallback when the
 * kernel has no resource manager; the init needs no objects either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"

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

int itpm_banks(struct itpm *t, unsigned *ret_banks, unsigned *ret_unknown)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err;

	mbw_init_fixed(&w, c, sizeof(c));
	mi_tpm_getcap_pcrs_cmd(&w);
	err = transmit(t, &w, r, &n);
	return err < 0 ? err : mi_tpm_getcap_pcrs_rsp(r, n, ret_banks, ret_unknown);
}

int itpm_extend(struct itpm *t, unsigned pcr, const struct m_digests *d)
{
	uint8_t c[MI_TPM_BUF_MAX], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err;

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

	mbw_init_fixed(&w, c, sizeof(c));
	mi_tpm_pcrread_cmd(&w, pcr, banks);
	err = transmit(t, &w, r, &n);
	return err < 0 ? err : mi_tpm_pcrread_rsp(r, n, pcr, banks, ret);
}
