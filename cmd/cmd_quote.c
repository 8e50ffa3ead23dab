// SPDX-License-Identifier: MIT
/*
 * measured quote [-T TCTI] --nonce HEX --pcrs LIST [--bank LIST]
 *                [--ak rsa|ecc | --ak-handle HANDLE] [--eventlog FILE]...
 *                [-o EVIDENCE] [--ak-public FILE] [--tpm2-tools PREFIX]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tss2/tss2_mu.h>
#include "common.h"
#include "tpm_opts.h"
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "measured/file.h"

const char cmd_quote_summary[] = "make attestation evidence: a TPM quote, PCR values, event logs";

static void help(void)
{
	fputs("Usage: measured quote [-T TCTI] --nonce HEX --pcrs LIST [--bank LIST]\n"
	      "                      [--ak rsa|ecc | --ak-handle HANDLE] [--eventlog FILE]...\n"
	      "                      [-o EVIDENCE] [--ak-public FILE] [--tpm2-tools PREFIX]\n\n"
	      "Quote PCRS in every bank of LIST with the attestation key and write the\n"
	      "evidence document (docs/evidence.md): nonce, TPMS_ATTEST, signature, the\n"
	      "quoted PCR values, the AK's public area and the event logs given.\n"
	      "Without --ak-handle the AK is the TPM's primary restricted signing key in\n"
	      "the endorsement hierarchy (the same key every time on the same TPM).\n\n"
	      TPM_OPTS_HELP
	      "  -n, --nonce HEX        the verifier's nonce (qualifying data, at most 64 bytes)\n"
	      "  -p, --pcrs LIST        PCRs to quote: \"0,1,4-7\" or \"all\"\n"
	      "  -b, --bank LIST        banks (default: every allocated bank)\n"
	      "      --ak ALG           primary AK: rsa (RSA-2048 RSASSA-SHA256, default) or\n"
	      "                         ecc (P-256 ECDSA-SHA256)\n"
	      "      --ak-handle H      use the persistent AK at H (e.g. 0x81010002)\n"
	      "  -e, --eventlog FILE    add an event log (TCG, CEL-JSON, IMA); up to 4\n"
	      "  -o, --output FILE      the evidence (default: standard output)\n"
	      "      --ak-public FILE   also write the AK's TPM2B_PUBLIC (for verify --ak-pub)\n"
	      "      --tpm2-tools PREFIX  also write PREFIX.msg, .sig, .pcrs, .pub (PEM) for\n"
	      "                         tpm2_checkquote -m -s -f -u\n"
	      "TPM 1.2 (found by itself; the sha1 bank; TPM_Quote2 with an AIK from\n"
	      "`measured aik create`):\n"
	      "      --aik FILE         the AIK's key blob\n"
	      TPM12_SECRETS_HELP
	      "      --legacy-quote     TPM_Quote (the 1.1 quote) instead of TPM_Quote2\n"
	      "      --tpm-quote-tools PREFIX  also write PREFIX.pub, .hash, .nonce, .quote\n"
	      "                         for tpm_verifyquote PUBKEY HASH NONCE QUOTE\n"
	      "  With a TPM 1.2, --ak-public writes the AIK as a PEM public key.\n"
	      "  -h, --help             this text\n\n"
	      "Exit: 0 written, 2 usage, 3 input/output error, 4 TPM error.\n", stdout);
}

static int write_file(const char *path, const void *data, size_t len)
{
	const uint8_t *p = data;
	int fd;

	if (!strcmp(path, "-"))
		fd = dup(STDOUT_FILENO);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return m_err(-errno, "%s: %m", path);
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return m_err(-errno, "%s: %m", path);
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		return m_err(-errno, "%s: %m", path);
	return 0;
}

static int write_prefixed(const char *prefix, const char *ext, const void *data, size_t len)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s%s", prefix, ext) >= sizeof(path))
		return m_err(-ENAMETOOLONG, "%s%s: name too long", prefix, ext);
	return write_file(path, data, len);
}

/* PREFIX.msg/.sig are the TPM's bytes as tpm2_quote writes them (-m, -s). */
static int write_tpm2tools(const char *prefix, const struct m_evidence *ev)
{
	TPMS_ATTEST a;
	TPMT_PUBLIC pub;
	EVP_PKEY *key = NULL;
	uint8_t *pcrs = NULL;
	size_t off = 0, plen;
	char *pem = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(ev->attest, ev->attest_len, &off, &a) != TSS2_RC_SUCCESS)
		return m_err(-EINVAL, "the quote does not unmarshal");
	r = write_prefixed(prefix, ".msg", ev->attest, ev->attest_len);
	if (r < 0)
		return r;
	r = write_prefixed(prefix, ".sig", ev->sig, ev->sig_len);
	if (r < 0)
		return r;
	r = m_tpm2tools_pcrs_write(&a.attested.quote.pcrSelect, &ev->pcrs, &pcrs, &plen);
	if (r < 0)
		return r;
	r = write_prefixed(prefix, ".pcrs", pcrs, plen);
	free(pcrs);
	if (r < 0)
		return r;
	r = m_tpm_public_parse(ev->ak_pub, ev->ak_pub_len, &pub);
	if (r >= 0)
		r = m_tpm_public_to_pkey(&pub, &key);
	if (r >= 0)
		r = m_pkey_to_pem(key, &pem);
	if (r >= 0)
		r = write_prefixed(prefix, ".pub", pem, strlen(pem));
	free(pem);
	EVP_PKEY_free(key);
	return r;
}

/* A TPM 1.2 AIK as a PEM public key: what `measured verify --ak-pub` trusts. */
static int write_aik_pem(const char *path, const struct m_evidence *ev)
{
	struct m_t12_pubkey k;
	EVP_PKEY *key = NULL;
	char *pem = NULL;
	int r = m_t12_pubkey_parse(ev->ak_pub, ev->ak_pub_len, &k);

	if (r >= 0)
		r = m_t12_pubkey_to_pkey(&k, &key);
	if (r >= 0)
		r = m_pkey_to_pem(key, &pem);
	if (r >= 0)
		r = write_file(path, pem, strlen(pem));
	free(pem);
	EVP_PKEY_free(key);
	return r;
}

/*
 * tpm-quote-tools' files: the AIK as a DER TssBlob (tpm_mkaik's public key
 * file), the signed TPM_QUOTE_INFO2 (tpm_getpcrhash's "hash" file), the
 * 20-byte externalData, the signature (tpm_getquote's quote file).
 */
static int write_tpm_quote_tools(const char *prefix, const struct m_evidence *ev)
{
	uint8_t der[M_T12_PUBKEY_MAX + 32];
	struct m_t12_pubkey k;
	struct m_t12_quote_info q;
	size_t len;
	int r = m_t12_pubkey_parse(ev->ak_pub, ev->ak_pub_len, &k);

	if (r >= 0)
		r = m_t12_quote_info_parse(ev->attest, ev->attest_len, &q);
	if (r >= 0)
		r = m_t12_tssblob_pubkey(&k, der, sizeof(der), &len);
	if (r >= 0)
		r = write_prefixed(prefix, ".pub", der, len);
	if (r >= 0)
		r = write_prefixed(prefix, ".hash", ev->attest, ev->attest_len);
	if (r >= 0)
		r = write_prefixed(prefix, ".nonce", q.external, 20);
	if (r >= 0)
		r = write_prefixed(prefix, ".quote", ev->sig, ev->sig_len);
	return r;
}

static int add_logs(struct m_evidence *ev, char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = m_evidence_add_log_file(ev, paths[i], 0);

		if (r < 0)
			return r;
	}
	return 0;
}

struct quote_opts {
	const char *tcti, *nonce_hex, *pcrlist, *banklist, *out, *akpub_out, *prefix, *aik_path, *tqt_prefix;
	char *logs[M_EVIDENCE_MAX_LOGS];
	size_t nlogs;
	uint8_t nonce[M_NONCE_MAX], srk_secret[20], aik_secret[20];
	struct m_quote_params qp;
};

/* Options -> struct quote_opts (the quote parameters parsed); EXIT_OK, or
 * the exit code to return. */
static int quote_options(int argc, char **argv, struct quote_opts *o, bool *ret_done)
{
	enum { OPT_AK = 256, OPT_AK_HANDLE, OPT_AK_PUBLIC, OPT_TPM2TOOLS, OPT_AIK, OPT_SRK_SECRET, OPT_AIK_SECRET,
	       OPT_TQT, OPT_LEGACY };
	static const struct option opts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "bank", required_argument, NULL, 'b' },
		{ "ak", required_argument, NULL, OPT_AK },
		{ "ak-handle", required_argument, NULL, OPT_AK_HANDLE },
		{ "eventlog", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' },
		{ "ak-public", required_argument, NULL, OPT_AK_PUBLIC },
		{ "tpm2-tools", required_argument, NULL, OPT_TPM2TOOLS },
		{ "aik", required_argument, NULL, OPT_AIK },
		{ "tpm-quote-tools", required_argument, NULL, OPT_TQT },
		{ "legacy-quote", no_argument, NULL, OPT_LEGACY },
		{ "srk-secret", required_argument, NULL, OPT_SRK_SECRET },
		{ "aik-secret", required_argument, NULL, OPT_AIK_SECRET },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct m_quote_params *qp = &o->qp;
	char *end;
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "T:n:p:b:e:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'T': o->tcti = optarg; break;
		case 'n': o->nonce_hex = optarg; break;
		case 'p': o->pcrlist = optarg; break;
		case 'b': o->banklist = optarg; break;
		case 'o': o->out = optarg; break;
		case OPT_AK_PUBLIC: o->akpub_out = optarg; break;
		case OPT_TPM2TOOLS: o->prefix = optarg; break;
		case OPT_AIK: o->aik_path = optarg; break;
		case OPT_TQT: o->tqt_prefix = optarg; break;
		case OPT_LEGACY: qp->legacy_quote = true; break;
		case OPT_SRK_SECRET:
			if ((rc = tpm12_secret_arg("quote", "--srk-secret", optarg, o->srk_secret)))
				return rc;
			break;
		case OPT_AIK_SECRET:
			if ((rc = tpm12_secret_arg("quote", "--aik-secret", optarg, o->aik_secret)))
				return rc;
			break;
		case OPT_AK:
			if ((r = m_key_alg_parse(optarg, &qp->ak_alg)) < 0)
				return usage_error("quote", "--ak: %s", m_errmsg(r));
			break;
		case OPT_AK_HANDLE:
			errno = 0;
			qp->ak_handle = (uint32_t)strtoul(optarg, &end, 0);
			if (errno || *end || (qp->ak_handle >> 24) != 0x81)
				return usage_error("quote", "--ak-handle: '%s' is not a persistent handle 0x81xxxxxx",
						   optarg);
			break;
		case 'e':
			if (o->nlogs == M_EVIDENCE_MAX_LOGS)
				return usage_error("quote", "at most %u event logs", M_EVIDENCE_MAX_LOGS);
			o->logs[o->nlogs++] = optarg;
			break;
		case 'h':
			help();
			*ret_done = true;
			return EXIT_OK;
		default:
			return usage_error("quote", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("quote", "unexpected argument '%s'", argv[optind]);
	if (!o->nonce_hex || !o->pcrlist)
		return usage_error("quote", "--nonce and --pcrs are required");
	qp->nonce_len = strlen(o->nonce_hex) / 2;
	if (strlen(o->nonce_hex) % 2 || qp->nonce_len > M_NONCE_MAX ||
	    (qp->nonce_len && m_unhex(o->nonce_hex, o->nonce, qp->nonce_len) < 0))
		return usage_error("quote", "--nonce: not hex of at most %zu bytes", M_NONCE_MAX);
	qp->nonce = o->nonce;
	r = m_pcr_list_parse(o->pcrlist, &qp->pcrs);
	if (r < 0)
		return usage_error("quote", "--pcrs: %s", m_errmsg(r));
	if (o->banklist && strcmp(o->banklist, "all") != 0) {
		r = m_bank_list_parse(o->banklist, &qp->banks);
		if (r < 0)
			return usage_error("quote", "--bank: %s", m_errmsg(r));
	}
	return EXIT_OK;
}

/* The TPM's banks for the quote: --bank, each allocated, else all. */
static int quote_banks(struct quote_opts *o, struct m_tpm *tpm, unsigned allocated)
{
	char b[64];

	if (m_tpm_family(tpm) == 12 && !o->aik_path)
		return usage_error("quote", "a TPM 1.2 quotes with an AIK: give --aik (made by `measured aik create`)");
	if (!o->qp.banks)
		o->qp.banks = allocated;
	if (!(o->qp.banks & ~allocated))
		return EXIT_OK;
	m_bank_list_format(o->qp.banks & ~allocated, b, sizeof(b));
	return fail(EXIT_TPM, m_err(-ENOENT, "banks not allocated in this TPM: %s", b), NULL);
}

/* The quote, with the logs read before it moved into its evidence. */
static int quote_run(struct m_tpm *tpm, const struct m_quote_params *qp, struct m_evidence **ev)
{
	struct m_evidence *q;
	int r = m_attest_quote(tpm, qp, &q);

	if (r < 0)
		return fail(tpm_exit_code(r), r, NULL);
	memcpy(q->log, (*ev)->log, sizeof(q->log));
	q->nlogs = (*ev)->nlogs;
	(*ev)->nlogs = 0;
	m_evidence_free(*ev);
	*ev = q;
	return EXIT_OK;
}

/* The evidence, and the files for other tools. */
static int quote_output(const struct quote_opts *o, const struct m_evidence *ev)
{
	char *json = NULL;
	int r = m_evidence_to_json(ev, &json);

	if (r >= 0)
		r = write_file(o->out, json, strlen(json));
	if (r >= 0 && !strcmp(o->out, "-"))
		r = write_file(o->out, "\n", 1);
	if (r >= 0 && o->akpub_out && ev->tpm_family == 12)
		r = write_aik_pem(o->akpub_out, ev);
	else if (r >= 0 && o->akpub_out)
		r = write_file(o->akpub_out, ev->ak_pub, ev->ak_pub_len);
	if (r >= 0 && o->prefix && ev->tpm_family == 12)
		r = m_err(-EOPNOTSUPP, "--tpm2-tools: tpm2_checkquote reads TPM 2.0 quotes only");
	else if (r >= 0 && o->prefix)
		r = write_tpm2tools(o->prefix, ev);
	if (r >= 0 && o->tqt_prefix && ev->tpm_family != 12)
		r = m_err(-EOPNOTSUPP, "--tpm-quote-tools: tpm_verifyquote reads TPM 1.2 quotes only");
	else if (r >= 0 && o->tqt_prefix)
		r = write_tpm_quote_tools(o->tqt_prefix, ev);
	free(json);
	return r < 0 ? fail(exit_from_errno(r), r, NULL) : EXIT_OK;
}

int cmd_quote(int argc, char **argv)
{
	struct quote_opts o = { .out = "-", .qp = { .ak_alg = M_KEY_RSA2048 } };
	struct m_tpm *tpm = NULL;
	struct m_evidence *ev = NULL;
	uint8_t *aik_blob = NULL;
	size_t aik_len = 0;
	unsigned allocated;
	bool done = false;
	int r, rc;

	progname_sub = "quote";
	rc = quote_options(argc, argv, &o, &done);
	if (rc || done)
		goto out;
	/* inputs: the AIK blob (TPM 1.2), the event logs */
	if (o.aik_path) {
		r = m_read_file(o.aik_path, M_T12_KEYBLOB_MAX, &aik_blob, &aik_len);
		if (r < 0) {
			rc = fail(exit_from_errno(r), r, NULL);
			goto out;
		}
		o.qp.aik_blob = aik_blob;
		o.qp.aik_blob_len = aik_len;
		o.qp.aik_auth = o.aik_secret;
		o.qp.srk_auth = o.srk_secret;
	}
	ev = m_evidence_new();
	if (!ev) {
		rc = fail(EXIT_INTERNAL, -ENOMEM, NULL);
		goto out;
	}
	if ((r = add_logs(ev, o.logs, o.nlogs)) < 0) {
		rc = fail(exit_from_errno(r), r, NULL);
		goto out;
	}
	/* run */
	if ((rc = tpm_connect_banks(o.tcti, &tpm, &allocated)) || (rc = quote_banks(&o, tpm, allocated)) ||
	    (rc = quote_run(tpm, &o.qp, &ev)))
		goto out;
	rc = quote_output(&o, ev);
out:
	free(aik_blob);
	explicit_bzero(o.aik_secret, sizeof(o.aik_secret));
	explicit_bzero(o.srk_secret, sizeof(o.srk_secret));
	m_evidence_free(ev);
	m_tpm_close(tpm);
	return rc;
}
