/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TPM12_PRIV_H
#define MEASURED_TPM12_PRIV_H
/* Inside lib/tpm12/: authorization sessions and authorized commands. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../tpm_priv.h"

struct t12_session {
	uint32_t handle;
	uint8_t even[20];	/* nonceEven of the TPM's last answer */
	uint8_t odd[20];	/* our nonceOdd for the command, drawn when the session opens */
	uint8_t key[20];	/* HMAC key: the secret (OIAP) or the OSAP shared secret */
};

/* Part 2, 4.9 TPM_ENTITY_TYPE; 4.7 reserved key handles */
#define T12_ET_KEYHANDLE 0x0001
#define T12_ET_OWNER 0x0002
#define T12_KH_SRK 0x40000000
#define T12_KH_OWNER 0x40000001
#define T12_KH_EK 0x40000006
#define T12_RT_KEY 0x00000001
#define T12_RT_AUTH 0x00000002
/* Part 2, 5.8 TPM_KEY_USAGE */
#define T12_KEY_SIGNING 0x0010
#define T12_KEY_IDENTITY 0x0012

/** t12_oiap() - an OIAP session for an entity whose secret is @secret. */
int t12_oiap(struct m_tpm *tpm, const uint8_t secret[20], struct t12_session *ret);
/** t12_osap() - an OSAP session for entity @etype/@evalue: the key becomes the shared secret. */
int t12_osap(struct m_tpm *tpm, uint16_t etype, uint32_t evalue, const uint8_t secret[20], struct t12_session *ret);
/**
 * t12_adip() - a new secret @secret encrypted for an OSAP session
 * (TPM_ENCAUTH); @second for a command's second secret (TPM_CreateWrapKey's
 * migration secret), which is encrypted with the nonceOdd.
 */
int t12_adip(const struct t12_session *s, bool second, const uint8_t secret[20], uint8_t ret_enc[20]);
/**
 * t12_auth_call() - an authorized command: @handles (not in the HMAC), then
 * @params, one or two sessions; the response's HMACs are checked.  On
 * success *@ret_out points into @rsp at the outputs (the first
 * @out_handles_len bytes of them handles), *@ret_out_len long.
 */
int t12_auth_call(struct m_tpm *tpm, const char *what, uint32_t ordinal, const uint8_t *handles, size_t handles_len,
		  const uint8_t *params, size_t params_len, struct t12_session *sess, unsigned nsess,
		  size_t out_handles_len, uint8_t *rsp, size_t cap, const uint8_t **ret_out, size_t *ret_out_len);
/** t12_auth1_call() - t12_auth_call() with one OIAP session for the entity whose secret is @secret. */
int t12_auth1_call(struct m_tpm *tpm, const uint8_t secret[20], const char *what, uint32_t ordinal,
		   const uint8_t *handles, size_t handles_len, const uint8_t *params, size_t params_len,
		   size_t out_handles_len, uint8_t *rsp, size_t cap, const uint8_t **ret_out, size_t *ret_out_len);
/** t12_flush() - TPM_FlushSpecific, best effort. */
void t12_flush(struct m_tpm *tpm, uint32_t handle, uint32_t type);

/**
 * t12_key_info() - the keyInfo of a key to be made (Part 2, 10.2 TPM_KEY,
 * the 1.1 layout TSS 1.2 stacks send): a 2048-bit RSA key of @usage, not
 * migratable, authorized always, RSASSA-PKCS1-v1_5 SHA-1, no PCRs.
 */
void t12_key_info(struct mbuf_writer *w, uint16_t usage);
/** t12_key_read() - one TPM_KEY or TPM_KEY12 from @r (Part 2, 10.2/10.3); its public key into @ret (may be NULL). */
struct m_t12_pubkey;
int t12_key_read(struct mbuf_reader *r, struct m_t12_pubkey *ret);

#endif
