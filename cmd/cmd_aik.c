// SPDX-License-Identifier: MIT
/*
 * measured aik create|challenge|activate: a TPM 1.2 attestation identity
 * key and its proof to a verifier, as a privacy CA does it (TPM Main 1.2
 * Part 3, 15.1 TPM_MakeIdentity, 15.2 TPM_ActivateIdentity).  `create` runs
 * on the machine, `challenge` on the verifier (no TPM), `activate` on the
 * machine again: only the TPM holding the EK named in the challenge, with
 * the AIK it made, recovers the challenge's secret.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/rand.h>
#include "common.h"
#include "tpm_opts.h"
#include "measured/json.h"
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/base64.h"
#include "measured/error.h"
#include "measured/file.h"

const char cmd_aik_summary[] = "TPM 1.2: make an attestation identity key, challenge it, activate it";

#define REQUEST_MAX (16u << 10)

static void help(void)
{
	fputs("Usage: measured aik create [-T TCTI] -o AIK [--request FILE] [--label TEXT]\n"
	      "                           [--owner-secret HEX] [--srk-secret HEX] [--aik-secret HEX]\n"
	      "       measured aik challenge --request FILE [--ek-public FILE | --ek-ca FILE...]\n"
	      "                              -o CHALLENGE --secret-out FILE\n"
	      "       measured aik activate [-T TCTI] --aik AIK [--owner-secret HEX]\n"
	      "                             [--srk-secret HEX] [--aik-secret HEX] CHALLENGE\n\n"
	      "A TPM 1.2 attestation identity key (AIK) for `measured quote --aik`.\n"
	      "create    TPM_MakeIdentity: write the AIK's key blob (wrapped by the SRK) to\n"
	      "          AIK and the identity request (JSON: EK and AIK public keys, the\n"
	      "          label's SHA-1, the AIK's identity binding, the EK certificate from NV\n"
	      "          if the TPM has one) to --request or stdout\n"
	      "challenge check the request's identity binding, draw a 16-byte secret and\n"
	      "          encrypt it with the AIK's digest to the EK (TPM_ASYM_CA_CONTENTS,\n"
	      "          RSA-OAEP); --ek-public FILE (a TPM_PUBKEY) names the EK to trust\n"
	      "          instead of the request's; --ek-ca FILE (repeatable: root and\n"
	      "          intermediate CAs, PEM) requires the request's EK certificate to\n"
	      "          chain to them and certify its EK; the secret goes to --secret-out\n"
	      "activate  TPM_ActivateIdentity: print the challenge's secret as hex\n\n"
	      TPM_OPTS_HELP
	      "      --owner-secret HEX the TPM owner's 20-byte secret (default 20 zero bytes)\n"
	      TPM12_SECRETS_HELP
	      "  -h, --help             this text\n\n"
	      "Exit: 0 done, 1 the identity binding or the EK certificate does not verify,\n"
	      "2 usage, 3 input/output,\n"
	      "4 TPM error (a challenge for another TPM or AIK is refused by the TPM).\n", stdout);
}

static int write_out(const char *path, const void *data, size_t len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "we") : stdout;
	int r = 0;

	if (!f)
		return m_err(-errno, "%s: %m", path);
	if (fwrite(data, 1, len, f) != len)
		r = m_err(-EIO, "%s: write failed", path);
	if (f != stdout && fclose(f) != 0 && r == 0)
		r = m_err(-EIO, "%s: write failed", path);
	return r;
}

static void add_b64(json_object *o, const char *key, const uint8_t *d, size_t n)
{
	char *s = m_b64_encode(d, n);

	json_object_object_add(o, key, json_object_new_string(s ? s : ""));
	free(s);
}

static int get_b64(json_object *o, const char *key, uint8_t *out, size_t max, size_t *ret_len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return m_err(-EINVAL, "request: no \"%s\"", key);
	if (m_b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), max, out, NULL,
			 ret_len) < 0)
		return m_err(-EINVAL, "request: \"%s\" is not base64 of at most %zu bytes", key, max);
	return 0;
}

static int create(const char *tcti, const char *out, const char *request, const char *label,
		  const uint8_t owner[20], const uint8_t srk[20], const uint8_t aik[20])
{
	uint8_t blob[M_T12_KEYBLOB_MAX], binding[M_T12_SIG_MAX], digest[20];
	size_t blob_len, binding_len;
	struct m_t12_pubkey ek, pub;
	struct m_tpm *tpm = NULL;
	json_object *o = NULL;
	const char *text;
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	int r, rc;

	rc = tpm_connect(tcti, &tpm);
	if (rc)
		return rc;
	if (m_tpm_family(tpm) != 12) {
		rc = fail(EXIT_TPM, m_err(-EOPNOTSUPP, "this is a TPM 2.0: its AK needs no identity (see measured-quote(1))"), NULL);
		goto out;
	}
	r = m_digest_one(M_SHA1, label, strlen(label), digest);
	if (r == 0)
		r = m_tpm12_ek_public(tpm, owner, &ek);
	if (r == 0) {
		/* the certificate is optional: without it the verifier trusts on first use */
		r = m_tpm12_ek_cert_read(tpm, owner, &cert, &cert_len);
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0)
		r = m_tpm12_make_identity(tpm, owner, srk, aik, digest, blob, &blob_len, binding, &binding_len);
	if (r == 0)
		r = m_t12_key_pubkey(blob, blob_len, &pub);
	if (r < 0) {
		rc = fail(tpm_exit_code(r), r, NULL);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "tpm", json_object_new_string("1.2"));
	add_b64(o, "ek_public", ek.raw, ek.raw_len);
	add_b64(o, "aik_public", pub.raw, pub.raw_len);
	add_b64(o, "label_digest", digest, 20);
	add_b64(o, "identity_binding", binding, binding_len);
	if (cert)
		add_b64(o, "ek_certificate", cert, cert_len);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	r = write_out(out, blob, blob_len);
	if (r == 0) {
		char *doc = NULL;

		r = asprintf(&doc, "%s\n", text) < 0 ? -ENOMEM : write_out(request ? request : "-", doc, strlen(doc));
		free(doc);
	}
	rc = r < 0 ? fail(EXIT_INPUT, r, NULL) : EXIT_OK;
out:
	free(cert);
	json_object_put(o);
	m_tpm_close(tpm);
	return rc;
}

/* The request's EK certificate must chain to @cas and certify @ek. */
static int check_ek_cert(json_object *o, const char *const *cas, size_t n_ca, const struct m_t12_pubkey *ek)
{
	uint8_t cert[M_EK_CERT_MAX];
	size_t len;
	EVP_PKEY *key = NULL;
	int r = get_b64(o, "ek_certificate", cert, sizeof(cert), &len);

	if (r < 0)
		return m_err(-EACCES, "--ek-ca: the request has no EK certificate");
	r = m_t12_pubkey_to_pkey(ek, &key);
	if (r == 0)
		r = m_ek_cert_check(cas, n_ca, cert, len, key);
	EVP_PKEY_free(key);
	return r;
}

static int challenge(const char *request, const char *ek_path, const char *const *cas, size_t n_ca,
		     const char *out, const char *secret_out)
{
	uint8_t raw[M_T12_PUBKEY_MAX], label[20], binding[M_T12_SIG_MAX], secret[16], blob[M_T12_MODULUS_MAX];
	uint8_t *text = NULL, *ekraw = NULL;
	size_t n, label_len, binding_len, blob_len, eklen;
	char hex[33];
	struct m_t12_pubkey ek, aik;
	struct m_json_error err;
	json_object *o = NULL;
	int r, rc = EXIT_INPUT;

	r = m_read_file(request, REQUEST_MAX, &text, &n);
	if (r < 0)
		return fail(exit_from_errno(r), r, NULL);
	o = m_json_parse((const char *)text, n, 8, 0, &err);
	if (!o || !json_object_is_type(o, json_type_object)) {
		r = m_err(-EINVAL, "%s: not a JSON object", request);
		goto out;
	}
	r = get_b64(o, "aik_public", raw, sizeof(raw), &n);
	if (r == 0)
		r = m_t12_pubkey_parse(raw, n, &aik);
	if (r == 0)
		r = get_b64(o, "label_digest", label, sizeof(label), &label_len);
	if (r == 0 && label_len != 20)
		r = m_err(-EINVAL, "request: label_digest is not 20 bytes");
	if (r == 0)
		r = get_b64(o, "identity_binding", binding, sizeof(binding), &binding_len);
	if (r == 0 && ek_path) {
		/* the EK the verifier enrolled, not the one the request names */
		r = m_read_file(ek_path, M_T12_PUBKEY_MAX, &ekraw, &eklen);
		if (r == 0)
			r = m_t12_pubkey_parse(ekraw, eklen, &ek);
	} else if (r == 0) {
		r = get_b64(o, "ek_public", raw, sizeof(raw), &n);
		if (r == 0)
			r = m_t12_pubkey_parse(raw, n, &ek);
	}
	if (r < 0)
		goto out;
	r = m_t12_identity_verify(&aik, label, binding, binding_len);
	if (r == 0 && n_ca)
		r = check_ek_cert(o, cas, n_ca, &ek);
	if (r < 0) {
		rc = r == -ENOMEM ? EXIT_INTERNAL : r == -EINVAL ? EXIT_INPUT : EXIT_MISMATCH;
		goto out;
	}
	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		r = m_err(-EIO, "no random bytes");
		goto out;
	}
	r = m_t12_activation_blob(&ek, &aik, secret, blob, &blob_len);
	if (r == 0)
		r = write_out(out, blob, blob_len);
	m_hex(secret, sizeof(secret), hex);
	hex[32] = '\n';
	if (r == 0)
		r = write_out(secret_out, hex, 33);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(hex, sizeof(hex));
	if (r == 0)
		rc = EXIT_OK;
out:
	json_object_put(o);
	free(text);
	free(ekraw);
	return r < 0 ? fail(rc, r, NULL) : rc;
}

static int activate(const char *tcti, const char *aik_path, const char *chal, const uint8_t owner[20],
		    const uint8_t srk[20], const uint8_t aik[20])
{
	uint8_t *blob = NULL, *c = NULL, key[16];
	size_t blob_len, clen;
	char hex[33];
	struct m_tpm *tpm = NULL;
	uint32_t h = 0;
	int r, rc;

	r = m_read_file(aik_path, M_T12_KEYBLOB_MAX, &blob, &blob_len);
	if (r == 0)
		r = m_read_file(chal, M_T12_MODULUS_MAX, &c, &clen);
	if (r < 0) {
		rc = fail(exit_from_errno(r), r, NULL);
		goto out;
	}
	rc = tpm_connect(tcti, &tpm);
	if (rc)
		goto out;
	r = m_tpm12_load_key(tpm, srk, blob, blob_len, &h);
	if (r == 0)
		r = m_tpm12_activate_identity(tpm, h, aik, owner, c, clen, key);
	if (h)
		m_tpm12_flush_key(tpm, h);
	if (r < 0) {
		rc = fail(tpm_exit_code(r), r, NULL);
		goto out;
	}
	m_hex(key, sizeof(key), hex);
	printf("%s\n", hex);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(hex, sizeof(hex));
	rc = EXIT_OK;
out:
	free(blob);
	free(c);
	m_tpm_close(tpm);
	return rc;
}

int cmd_aik(int argc, char **argv)
{
	enum { OPT_REQUEST = 256, OPT_LABEL, OPT_OWNER, OPT_SRK, OPT_AIKS, OPT_EK, OPT_SECRET_OUT, OPT_AIK, OPT_EK_CA };
	static const struct option opts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "request", required_argument, NULL, OPT_REQUEST },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "owner-secret", required_argument, NULL, OPT_OWNER },
		{ "srk-secret", required_argument, NULL, OPT_SRK },
		{ "aik-secret", required_argument, NULL, OPT_AIKS },
		{ "ek-public", required_argument, NULL, OPT_EK },
		{ "secret-out", required_argument, NULL, OPT_SECRET_OUT },
		{ "aik", required_argument, NULL, OPT_AIK },
		{ "ek-ca", required_argument, NULL, OPT_EK_CA },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *tcti = NULL, *out = NULL, *request = NULL, *label = "measured", *ek = NULL, *secret_out = NULL;
	const char *aik_path = NULL, *sub, *cas[4];
	size_t n_ca = 0;
	uint8_t owner[20] = { 0 }, srk[20] = { 0 }, aik[20] = { 0 };
	int c, rc;

	progname_sub = "aik";
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		help();
		return EXIT_OK;
	}
	if (argc < 2)
		return usage_error("aik", "create, challenge or activate expected");
	sub = argv[1];
	argc--, argv++;
	while ((c = getopt_long(argc, argv, "T:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'T': tcti = optarg; break;
		case 'o': out = optarg; break;
		case OPT_REQUEST: request = optarg; break;
		case OPT_LABEL: label = optarg; break;
		case OPT_EK: ek = optarg; break;
		case OPT_SECRET_OUT: secret_out = optarg; break;
		case OPT_AIK: aik_path = optarg; break;
		case OPT_EK_CA:
			if (n_ca == sizeof(cas) / sizeof(cas[0]))
				return usage_error("aik", "at most %zu --ek-ca", sizeof(cas) / sizeof(cas[0]));
			cas[n_ca++] = optarg;
			break;
		case OPT_OWNER:
			if ((rc = tpm12_secret_arg("aik", "--owner-secret", optarg, owner)))
				return rc;
			break;
		case OPT_SRK:
			if ((rc = tpm12_secret_arg("aik", "--srk-secret", optarg, srk)))
				return rc;
			break;
		case OPT_AIKS:
			if ((rc = tpm12_secret_arg("aik", "--aik-secret", optarg, aik)))
				return rc;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("aik", "bad option");
		}
	}
	if (!strcmp(sub, "create")) {
		if (!out || optind < argc)
			return usage_error("aik", "create: -o AIK (and no other argument) expected");
		rc = create(tcti, out, request, label, owner, srk, aik);
	} else if (!strcmp(sub, "challenge")) {
		if (!request || !out || !secret_out || optind < argc)
			return usage_error("aik", "challenge: --request, -o and --secret-out are required");
		if (ek && n_ca)
			return usage_error("aik", "challenge: --ek-public and --ek-ca exclude each other");
		rc = challenge(request, ek, cas, n_ca, out, secret_out);
	} else if (!strcmp(sub, "activate")) {
		if (!aik_path || argc - optind != 1)
			return usage_error("aik", "activate: --aik AIK and one CHALLENGE file expected");
		rc = activate(tcti, aik_path, argv[optind], owner, srk, aik);
	} else {
		return usage_error("aik", "unknown '%s': create, challenge or activate", sub);
	}
	explicit_bzero(owner, sizeof(owner));
	explicit_bzero(srk, sizeof(srk));
	explicit_bzero(aik, sizeof(aik));
	return rc;
}
