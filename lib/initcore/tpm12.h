/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TPM12_H
#define MEASURED_TPM12_H
/*
 * TPM 1.2 wire format: the commands measured-init and the library send to a
 * TPM 1.2, marshalled with the bounded writer and parsed with the bounded
 * reader (TPM Main Specification 1.2 rev 116: Part 2 structures, Part 3
 * commands).  No library in Debian speaks TPM 1.2 without trousers' tcsd
 * daemon; docs/tpm12.md says why this layer is written here.  The init links
 * these functions statically: nothing here uses OpenSSL, tpm2-tss or json-c.
 *
 * All integers are big-endian.  A command is tag (UINT16), paramSize
 * (UINT32, the whole command), ordinal (UINT32), then its parameters; a
 * response is tag, paramSize, returnCode (TPM_RESULT), then its outputs
 * (Part 1, section 6; Part 2, 6.0 TPM_TAG).
 */
#include <stddef.h>
#include <stdint.h>
#include "measured/buf.h"

/* Part 2, 6.0: command and response tags. */
#define MI_T12_TAG_RQU_COMMAND 0x00c1
#define MI_T12_TAG_RQU_AUTH1 0x00c2
#define MI_T12_TAG_RQU_AUTH2 0x00c3
#define MI_T12_TAG_RSP_COMMAND 0x00c4
#define MI_T12_TAG_RSP_AUTH1 0x00c5
#define MI_T12_TAG_RSP_AUTH2 0x00c6

/* Part 2, 17: ordinals. */
#define MI_T12_ORD_EXTEND 0x00000014
#define MI_T12_ORD_PCRREAD 0x00000015
#define MI_T12_ORD_GETCAPABILITY 0x00000065
#define MI_T12_ORD_STARTUP 0x00000099

/* Part 2, 16: return codes named in messages and handled by the callers. */
#define MI_T12_BADINDEX 0x002
#define MI_T12_DEACTIVATED 0x006
#define MI_T12_DISABLED 0x007
#define MI_T12_BAD_ORDINAL 0x00a
#define MI_T12_BADTAG 0x01e
#define MI_T12_INVALID_POSTINIT 0x026

/* Part 2, 21.1: capability areas; 21.2: TPM_CAP_PROPERTY subcaps. */
#define MI_T12_CAP_PROPERTY 0x00000005
#define MI_T12_CAP_VERSION_VAL 0x0000001a
#define MI_T12_CAP_PROP_PCR 0x00000101

/* Part 2, 4.5 TPM_STARTUP_TYPE. */
#define MI_T12_ST_CLEAR 0x0001

#define MI_T12_DIGEST_LEN 20u
/* The PC Client specification for 1.2 has 24 PCRs; a TPM claiming more
 * than this is answered with an error rather than trusted with an index. */
#define MI_T12_PCR_MAX 64u

/**
 * mi_tpm_family() - which TPM family wrote the response @rsp: 12 for a
 * TPM 1.2 (tags 0x00c4-0x00c6, which a TPM 2.0 uses only to refuse a 1.2
 * command), 20 for a TPM 2.0 (0x8001, 0x8002).  Anything else is -EPROTO
 * with a message saying the device answers neither protocol.  A TPM 2.0
 * command sent to a TPM 1.2 is answered with a 1.2 error (TPM_BADTAG or
 * TPM_BAD_ORDINAL), so the first TPM 2.0 command doubles as the probe.
 */
int mi_tpm_family(const void *rsp, size_t len);

/**
 * mi_tpm_sysfs_family() - what the kernel says TPM number @n is:
 * /sys/class/tpm/tpmN/tpm_version_major "1" is 12, "2" is 20; 0 when the
 * file is absent (kernels before 5.x) or says something else.
 */
int mi_tpm_sysfs_family(unsigned n);

/** mi_t12_rcname() - the Part 2 name of a TPM 1.2 return code, or NULL. */
const char *mi_t12_rcname(uint32_t rc);

/**
 * mi_t12_rsp_begin() - check a response header: enough bytes, the size
 * field equal to @len, a 1.2 response tag, return code 0.  A non-zero code
 * is -EIO with "WHAT: TPM 1.2 error 0xRC (NAME)"; @ret_rc (may be NULL)
 * gets it either way.  On success @r is positioned at the first output.
 */
int mi_t12_rsp_begin(struct mbuf_reader *r, const void *rsp, size_t len, const char *what, uint32_t *ret_rc);

/**
 * mi_tpm_hdr_begin() - a command header: tag and ordinal (TPM 1.2) or
 * command code (TPM 2.0), the same layout in both; returns where the size
 * goes.
 */
uint8_t *mi_tpm_hdr_begin(struct mbuf_writer *w, uint16_t tag, uint32_t ordinal);
/** mi_tpm_hdr_end() - write the final size into the field from mi_tpm_hdr_begin(). */
void mi_tpm_hdr_end(struct mbuf_writer *w, uint8_t *size);

/** TPM_Startup(TPM_ST_CLEAR) (Part 3, 3.2). */
void mi_t12_startup_cmd(struct mbuf_writer *w);
int mi_t12_startup_rsp(const void *rsp, size_t len);

/** TPM_GetCapability(TPM_CAP_PROPERTY, TPM_CAP_PROP_PCR) (Part 3, 7.1): the number of PCRs. */
void mi_t12_getcap_npcr_cmd(struct mbuf_writer *w);
int mi_t12_getcap_npcr_rsp(const void *rsp, size_t len, unsigned *ret_npcr);

/** TPM_Extend (Part 3, 16.1): SHA-1 @digest into PCR @pcr; the new value in @ret_pcr (may be NULL). */
void mi_t12_extend_cmd(struct mbuf_writer *w, unsigned pcr, const uint8_t digest[MI_T12_DIGEST_LEN]);
int mi_t12_extend_rsp(const void *rsp, size_t len, uint8_t ret_pcr[MI_T12_DIGEST_LEN]);

/** TPM_PCRRead (Part 3, 16.2) of PCR @pcr. */
void mi_t12_pcrread_cmd(struct mbuf_writer *w, unsigned pcr);
int mi_t12_pcrread_rsp(const void *rsp, size_t len, uint8_t ret_pcr[MI_T12_DIGEST_LEN]);

#endif
