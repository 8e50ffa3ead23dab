// SPDX-License-Identifier: MIT
/*
 * /v1/attest for a machine with a TPM 1.2 (docs/api.md, "TPM 1.2"): its
 * enrolled AIK as a key, and the payload key wrapped so that only that TPM
 * recovers it: TPM_ASYM_CA_CONTENTS to the EK, naming the AIK
 * (m_t12_activation_blob()), opened by TPM_ActivateIdentity with that AIK
 * loaded, as at enrolment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/attest12.h"
#include "measured/base64.h"
#include "measured/error.h"
#include "server.h"

static int pubkey_of(const char *b64, struct m_t12_pubkey *ret)
{
	uint8_t raw[M_T12_PUBKEY_MAX];
	size_t n;
	int r = m_b64_decode(b64, strlen(b64), sizeof(raw), raw, NULL, &n);

	return r < 0 ? r : m_t12_pubkey_parse(raw, n, ret);
}

EVP_PKEY *srv_aik12_key(const char *ak_pub)
{
	struct m_t12_pubkey aik;

	if (pubkey_of(ak_pub, &aik) < 0)
		return NULL;
	return srv_ak_key12(ak_pub, &aik);
}

int srv_wrap_key12(const struct m_machine *m, const uint8_t k[16], json_object *o)
{
	struct m_t12_pubkey ek, aik;
	uint8_t blob[M_T12_MODULUS_MAX];
	size_t len;
	int r;

	r = pubkey_of(m->ek_pub, &ek);
	if (r == 0)
		r = pubkey_of(m->ak_pub, &aik);
	if (r == 0)
		r = m_t12_activation_blob(&ek, &aik, k, blob, &len);
	if (r == 0)
		json_object_object_add(o, "activation_blob", srv_b64_obj(blob, len));
	return r;
}
