// SPDX-License-Identifier: MIT
/*
 * The agent's TPM 1.2 steps (docs/agent.md, docs/api.md "TPM 1.2"): the
 * identity request (TPM_OwnerReadInternalPub, the EK certificate from NV,
 * TPM_MakeIdentity), TPM_ActivateIdentity of the verifier's activation
 * blob (enrolment and payload), and the AIK's key blob kept in the state
 * directory.  An AIK of a TPM 1.2 is not derived from a seed as the 2.0 AK
 * is: each enrolment makes one, and its blob (wrapped by the SRK, useless
 * outside this TPM) is what later quotes load.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agent.h"
#include "measured/attest12.h"
#include "measured/base64.h"
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/file.h"

#define AIK_FILE "aik12.blob"
#define LABEL "measured"

static const uint8_t well_known[M_T12_AUTH_LEN];

static const uint8_t *auth(const uint8_t *a)
{
	return a ? a : well_known;
}

static int aik_path(const char *dir, const char *prefix, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/%s" AIK_FILE "%s", dir, prefix, *prefix ? ".tmp" : "") >= len)
		return m_err(-ENAMETOOLONG, "%s: name too long", dir);
	return 0;
}

int m_agent12_aik_name(const uint8_t *blob, size_t len, char ret[2 * 20 + 1])
{
	struct m_t12_pubkey pub;
	uint8_t d[20];
	int r = m_t12_key_pubkey(blob, len, &pub);

	if (r == 0)
		r = m_digest_one(M_SHA1, pub.raw, pub.raw_len, d);
	if (r == 0)
		m_hex(d, sizeof(d), ret);
	return r;
}

int m_agent12_aik_load(const char *dir, uint8_t *blob, size_t *ret_len)
{
	char path[4096];
	uint8_t *d = NULL;
	size_t n;
	int r = aik_path(dir, "", path, sizeof(path));

	if (r == 0)
		r = m_read_file(path, M_T12_KEYBLOB_MAX, &d, &n);
	if (r < 0)
		return r;
	memcpy(blob, d, n);
	*ret_len = n;
	free(d);
	return 0;
}

int m_agent12_aik_save(const char *dir, const uint8_t *blob, size_t len)
{
	char path[4096], tmp[4096];
	int fd, r;

	if ((r = aik_path(dir, "", path, sizeof(path))) < 0 || (r = aik_path(dir, ".", tmp, sizeof(tmp))) < 0)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return m_err(-errno, "%s: %s", dir, strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return m_err(-errno, "%s: %s", tmp, strerror(errno));
	errno = 0;
	if (write(fd, blob, len) != (ssize_t)len || fsync(fd) < 0)
		r = m_err(-errno ? -errno : -EIO, "%s: %s", tmp, strerror(errno ? errno : EIO));
	if (close(fd) < 0 && r == 0)
		r = m_err(-errno, "%s: %s", tmp, strerror(errno));
	if (r == 0 && rename(tmp, path) < 0)
		r = m_err(-errno, "%s: %s", path, strerror(errno));
	if (r < 0)
		unlink(tmp);
	return r;
}

static int add_b64(json_object *o, const char *key, const uint8_t *d, size_t n)
{
	char *s = m_b64_encode(d, n);
	json_object *v = s ? json_object_new_string(s) : NULL;

	free(s);
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int m_agent12_enroll_request(struct m_tpm *tpm, const struct m_agent_config *cfg, uint8_t *blob, size_t *blob_len,
			     json_object **ret)
{
	uint8_t binding[M_T12_SIG_MAX], digest[20], *cert = NULL;
	size_t binding_len, cert_len = 0;
	struct m_t12_pubkey ek, aik;
	json_object *req = NULL;
	int r;

	r = m_digest_one(M_SHA1, LABEL, strlen(LABEL), digest);
	if (r == 0)
		r = m_tpm12_ek_public(tpm, auth(cfg->owner_auth), &ek);
	if (r == 0) {
		/* no certificate: the server decides (trust on first use, if configured) */
		r = m_tpm12_ek_cert_read(tpm, auth(cfg->owner_auth), &cert, &cert_len);
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0)
		r = m_tpm12_make_identity(tpm, auth(cfg->owner_auth), auth(cfg->srk_auth), auth(cfg->aik_auth), digest,
					  blob, blob_len, binding, &binding_len);
	if (r == 0)
		r = m_t12_key_pubkey(blob, *blob_len, &aik);
	if (r < 0)
		goto out;
	req = json_object_new_object();
	r = req ? 0 : -ENOMEM;
	if (r == 0) {
		json_object_object_add(req, "machine", json_object_new_string(cfg->machine));
		json_object_object_add(req, "tpm", json_object_new_string("1.2"));
		r = add_b64(req, "ek_pub", ek.raw, ek.raw_len);
	}
	if (r == 0)
		r = add_b64(req, "ak_pub", aik.raw, aik.raw_len);
	if (r == 0)
		r = add_b64(req, "label_digest", digest, sizeof(digest));
	if (r == 0)
		r = add_b64(req, "identity_binding", binding, binding_len);
	if (r == 0 && cert)
		r = add_b64(req, "ek_cert", cert, cert_len);
	else if (r == 0)
		json_object_object_add(req, "ek_cert", NULL);
	if (r == 0) {
		*ret = req;
		req = NULL;
	}
out:
	json_object_put(req);
	free(cert);
	return r;
}

int m_agent12_activate(struct m_tpm *tpm, const struct m_agent_config *cfg, const uint8_t *aik_blob,
		       size_t aik_len, const uint8_t *act, size_t act_len, uint8_t ret_key[16])
{
	uint32_t h = 0;
	int r;

	r = m_tpm12_load_key(tpm, auth(cfg->srk_auth), aik_blob, aik_len, &h);
	if (r == 0)
		r = m_tpm12_activate_identity(tpm, h, auth(cfg->aik_auth), auth(cfg->owner_auth), act, act_len,
					      ret_key);
	if (h)
		m_tpm12_flush_key(tpm, h);
	return r;
}
