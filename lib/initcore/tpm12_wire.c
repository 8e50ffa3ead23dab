// SPDX-License-Identifier: MIT
/*
 * The TPM 1.2 commands measured-init sends (and the library reuses), on
 * the bounded writer and reader.  TPM Main Specification 1.2 rev 116:
 * Part 3 sections 3.2 (TPM_Startup), 7.1 (TPM_GetCapability), 16.1
 * (TPM_Extend), 16.2 (TPM_PCRRead); Part 2 section 6 (tags), 16 (return
 * codes), 17 (ordinals), 21 (capabilities).  None of these four takes an
 * authorization session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "measured/error.h"
#include "tpm12.h"

#define HDR_LEN 10u

int mi_tpm_family(const void *rsp, size_t len)
{
	struct mbuf_reader r;
	uint16_t tag;

	mbr_init(&r, rsp, len);
	tag = mbr_be16(&r);
	if (!mbr_ok(&r))
		return m_err(-EPROTO, "the TPM device answered with %zu bytes: neither a TPM 2.0 nor a TPM 1.2 response",
			     len);
	switch (tag) {
	case MI_T12_TAG_RSP_COMMAND:
	case MI_T12_TAG_RSP_AUTH1:
	case MI_T12_TAG_RSP_AUTH2:
		return 12;
	case 0x8001:	/* TPM_ST_NO_SESSIONS */
	case 0x8002:	/* TPM_ST_SESSIONS */
		return 20;
	default:
		return m_err(-EPROTO, "the TPM device answered with tag 0x%04x: neither a TPM 2.0 nor a TPM 1.2 response",
			     tag);
	}
}

int mi_tpm_sysfs_family(unsigned n)
{
	char path[64], c = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/tpm/tpm%u/tpm_version_major", n);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1' ? 12 : c == '2' ? 20 : 0;
}

const char *mi_t12_rcname(uint32_t rc)
{
	/* Part 2, 16: TPM_BASE + n; only the codes a user of this project meets. */
	static const struct { uint16_t rc; const char *name; } tab[] = {
		{ 0x001, "TPM_AUTHFAIL: authorization failed" },
		{ 0x002, "TPM_BADINDEX: no such PCR or index" },
		{ 0x003, "TPM_BAD_PARAMETER" },
		{ 0x006, "TPM_DEACTIVATED: the TPM is deactivated" },
		{ 0x007, "TPM_DISABLED: the TPM is disabled" },
		{ 0x008, "TPM_DISABLED_CMD: the command is disabled" },
		{ 0x009, "TPM_FAIL" },
		{ 0x00a, "TPM_BAD_ORDINAL: unknown command" },
		{ 0x00d, "TPM_KEYNOTFOUND" },
		{ 0x010, "TPM_INVALID_PCR_INFO" },
		{ 0x012, "TPM_NOSRK: the TPM has no owner" },
		{ 0x014, "TPM_OWNER_SET: the TPM already has an owner" },
		{ 0x015, "TPM_RESOURCES" },
		{ 0x018, "TPM_WRONGPCRVAL" },
		{ 0x019, "TPM_BAD_PARAM_SIZE" },
		{ 0x01c, "TPM_FAILEDSELFTEST" },
		{ 0x01e, "TPM_BADTAG" },
		{ 0x021, "TPM_DECRYPT_ERROR: the blob is not for this TPM's EK" },
		{ 0x022, "TPM_INVALID_AUTHHANDLE" },
		{ 0x023, "TPM_NO_ENDORSEMENT: the TPM has no endorsement key" },
		{ 0x026, "TPM_INVALID_POSTINIT: the TPM was not started" },
		{ 0x03d, "TPM_BAD_LOCALITY" },
		{ 0x800, "TPM_RETRY" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].rc == rc)
			return tab[i].name;
	return NULL;
}

uint8_t *mi_tpm_hdr_begin(struct mbuf_writer *w, uint16_t tag, uint32_t ordinal)
{
	uint8_t *size;

	mbw_be16(w, tag);
	size = mbw_reserve(w, 4);
	mbw_be32(w, ordinal);
	return size;
}

void mi_tpm_hdr_end(struct mbuf_writer *w, uint8_t *size)
{
	uint32_t n = (uint32_t)w->len;

	if (!mbw_ok(w) || !size)
		return;
	size[0] = n >> 24;
	size[1] = n >> 16;
	size[2] = n >> 8;
	size[3] = n;
}

int mi_t12_rsp_begin(struct mbuf_reader *r, const void *rsp, size_t len, const char *what, uint32_t *ret_rc)
{
	uint16_t tag;
	uint32_t size, rc;
	const char *name;

	mbr_init(r, rsp, len);
	tag = mbr_be16(r);
	size = mbr_be32(r);
	rc = mbr_be32(r);
	if (ret_rc)
		*ret_rc = mbr_ok(r) ? rc : 0;
	if (!mbr_ok(r))
		return m_err(-EBADMSG, "%s: response of %zu bytes is shorter than a header", what, len);
	if (size != len)
		return m_err(-EBADMSG, "%s: response size field %u but %zu bytes received", what, size, len);
	if (tag < MI_T12_TAG_RSP_COMMAND || tag > MI_T12_TAG_RSP_AUTH2)
		return m_err(-EBADMSG, "%s: tag 0x%04x is not a TPM 1.2 response", what, tag);
	if (rc != 0) {
		name = mi_t12_rcname(rc);
		return m_err(-EIO, "%s: TPM 1.2 error 0x%03x (%s)", what, rc, name ? name : "see TPM Main Part 2, 16");
	}
	return 0;
}

/* A response whose outputs are exactly @n bytes, copied to @out (may be NULL). */
static int rsp_fixed(const void *rsp, size_t len, const char *what, void *out, size_t n)
{
	struct mbuf_reader r;
	int ret = mi_t12_rsp_begin(&r, rsp, len, what, NULL);

	if (ret < 0)
		return ret;
	if (mbr_remaining(&r) != n)
		return m_err(-EBADMSG, "%s: %zu bytes of output, %zu expected", what, mbr_remaining(&r), n);
	if (out)
		mbr_copy(&r, out, n);
	return 0;
}

void mi_t12_startup_cmd(struct mbuf_writer *w)
{
	uint8_t *size = mi_tpm_hdr_begin(w, MI_T12_TAG_RQU_COMMAND, MI_T12_ORD_STARTUP);

	mbw_be16(w, MI_T12_ST_CLEAR);
	mi_tpm_hdr_end(w, size);
}

int mi_t12_startup_rsp(const void *rsp, size_t len)
{
	return rsp_fixed(rsp, len, "TPM_Startup", NULL, 0);
}

void mi_t12_getcap_npcr_cmd(struct mbuf_writer *w)
{
	uint8_t *size = mi_tpm_hdr_begin(w, MI_T12_TAG_RQU_COMMAND, MI_T12_ORD_GETCAPABILITY);

	mbw_be32(w, MI_T12_CAP_PROPERTY);
	mbw_be32(w, 4);		/* subCapSize */
	mbw_be32(w, MI_T12_CAP_PROP_PCR);
	mi_tpm_hdr_end(w, size);
}

int mi_t12_getcap_npcr_rsp(const void *rsp, size_t len, unsigned *ret_npcr)
{
	const char *what = "TPM_GetCapability(TPM_CAP_PROP_PCR)";
	uint8_t out[8];
	struct mbuf_reader r;
	uint32_t n;
	int ret = rsp_fixed(rsp, len, what, out, sizeof(out));

	if (ret < 0)
		return ret;
	/* respSize (4), then the UINT32 property */
	mbr_init(&r, out, sizeof(out));
	if (mbr_be32(&r) != 4)
		return m_err(-EBADMSG, "%s: respSize is not 4", what);
	n = mbr_be32(&r);
	if (n == 0 || n > MI_T12_PCR_MAX)
		return m_err(-EBADMSG, "%s: the TPM claims %u PCRs", what, n);
	*ret_npcr = n;
	return 0;
}

void mi_t12_extend_cmd(struct mbuf_writer *w, unsigned pcr, const uint8_t digest[MI_T12_DIGEST_LEN])
{
	uint8_t *size = mi_tpm_hdr_begin(w, MI_T12_TAG_RQU_COMMAND, MI_T12_ORD_EXTEND);

	mbw_be32(w, pcr);
	mbw_bytes(w, digest, MI_T12_DIGEST_LEN);
	mi_tpm_hdr_end(w, size);
}

int mi_t12_extend_rsp(const void *rsp, size_t len, uint8_t ret_pcr[MI_T12_DIGEST_LEN])
{
	return rsp_fixed(rsp, len, "TPM_Extend", ret_pcr, MI_T12_DIGEST_LEN);
}

void mi_t12_pcrread_cmd(struct mbuf_writer *w, unsigned pcr)
{
	uint8_t *size = mi_tpm_hdr_begin(w, MI_T12_TAG_RQU_COMMAND, MI_T12_ORD_PCRREAD);

	mbw_be32(w, pcr);
	mi_tpm_hdr_end(w, size);
}

int mi_t12_pcrread_rsp(const void *rsp, size_t len, uint8_t ret_pcr[MI_T12_DIGEST_LEN])
{
	return rsp_fixed(rsp, len, "TPM_PCRRead", ret_pcr, MI_T12_DIGEST_LEN);
}
