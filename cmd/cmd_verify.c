// SPDX-License-Identifier: MIT
/*
 * measured verify --evidence FILE --ak-pub FILE --nonce HEX [--pcrs LIST] [--json]
 * measured verify -u AKPUB -m MSG -s SIG [-f PCRS] [-g HASH] -q HEX [-e LOG]...
 *
 * Offline verification; the second form takes tpm2_checkquote's files.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "common.h"
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/text.h"

const char cmd_verify_summary[] = "verify attestation evidence (a TPM quote) offline";

#define SMALL_FILE_MAX (64u << 10)	/* keys, messages, signatures, PCR files */

static void help(void)
{
	fputs("Usage: measured verify --evidence FILE --ak-pub FILE --nonce HEX\n"
	      "                       [--pcrs LIST [--bank LIST]] [--json]\n"
	      "       measured verify -u AKPUB -m MSG -s SIG -q HEX [-f PCRFILE] [-g HASH]\n"
	      "                       [-e LOG]... [--pcrs LIST [--bank LIST]] [--json]\n\n"
	      "Check a TPM quote: TPMS_ATTEST structure and TPM_GENERATED magic, quote type,\n"
	      "signature with the AK, AK attributes (restricted signing key), nonce, the\n"
	      "PCR digest against the reported values, the required PCRs, and the replay\n"
	      "of the event logs.  The first failed check is printed as a stable reason\n"
	      "code (docs/evidence.md) and a message.\n\n"
	      "  -E, --evidence FILE  evidence from `measured quote` or the verifier's agent\n"
	      "                       (a TPM 1.2 quote too: give its AIK as PEM with -u)\n"
	      "  -u, --ak-pub FILE    the trusted AK: TPM2B_PUBLIC/TPMT_PUBLIC bytes\n"
	      "                       (attributes checked) or a PEM public key (not)\n"
	      "  -q, --nonce HEX      the expected nonce (required; '' for none)\n"
	      "  -m, --message FILE   TPMS_ATTEST (tpm2_quote -m)\n"
	      "  -s, --signature FILE TPMT_SIGNATURE (tpm2_quote -s)\n"
	      "  -f, --pcr FILE       PCR values (tpm2_quote -o)\n"
	      "  -g, --hash-algorithm H  the signature's hash must be H (tpm2_checkquote -g)\n"
	      "  -e, --eventlog FILE  an event log to replay (with -m); up to 4\n"
	      "  -p, --pcrs LIST      PCRs that must be in the quote, in every bank of\n"
	      "  -b, --bank LIST      (default sha256)\n"
	      "      --tpm-quote-tools  TPM 1.2, tpm-quote-tools' files: -u tpm_mkaik's public\n"
	      "                       key, -s tpm_getquote's quote, -f its -p PCR values,\n"
	      "                       -q the 20-byte nonce (no -m)\n"
	      "  -j, --json           the result as JSON\n"
	      "  -h, --help           this text\n\n"
	      "Exit: 0 verified, 1 a check failed, 2 usage, 3 unreadable or malformed input.\n",
	      stdout);
}

struct ak {
	TPMT_PUBLIC pub;
	bool have_pub;
	EVP_PKEY *key;
};

static int load_ak(const char *path, struct ak *ak)
{
	uint8_t *d;
	size_t n;
	int r;

	r = m_read_file(path, SMALL_FILE_MAX, &d, &n);
	if (r < 0)
		return r;
	if (n >= 10 && !memcmp(d, "-----BEGIN", 10)) {
		r = m_pkey_from_pem(d, n, &ak->key);
	} else {
		r = m_tpm_public_parse(d, n, &ak->pub);
		if (r >= 0) {
			ak->have_pub = true;
			r = m_tpm_public_to_pkey(&ak->pub, &ak->key);
		}
	}
	free(d);
	return r < 0 ? m_err_prefix(r, "%s", path) : 0;
}

static void print_result(const struct m_verify_result *res, bool json)
{
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "verified", json_object_new_boolean(res->reason == M_V_OK));
		json_object_object_add(o, "reason", json_object_new_string(m_verify_reason_name(res->reason)));
		json_object_object_add(o, "message", json_object_new_string(res->msg));
		json_object_object_add(o, "ak_attributes_checked",
				       json_object_new_boolean(res->ak_attributes_checked));
		json_object_object_add(o, "clock", json_object_new_int64((int64_t)res->clock));
		json_object_object_add(o, "reset_count", json_object_new_int64(res->reset_count));
		json_object_object_add(o, "restart_count", json_object_new_int64(res->restart_count));
		json_object_object_add(o, "safe", json_object_new_boolean(res->safe));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return;
	}
	if (res->reason == M_V_OK) {
		printf("verified: %s\n", res->msg);
		if (res->tpm_family == 12) {
			puts("note: a TPM 1.2 quote (sha1): no clock; the AIK is an identity key if it was activated (measured aik)");
			return;
		}
		printf("clock %" PRIu64 " reset_count %u restart_count %u safe %s\n", res->clock,
		       res->reset_count, res->restart_count, res->safe ? "yes" : "no");
		if (!res->ak_attributes_checked)
			puts("note: AK attributes not checked (the AK is a bare key, not a TPM public area)");
	} else {
		char *msg = m_text_printable(res->msg);	/* it may quote a log's text */

		printf("FAILED %s: %s\n", m_verify_reason_name(res->reason), msg ? msg : "");
		free(msg);
	}
}

/* tpm-quote-tools' files as evidence (lib/attest/quote12_tqt.c), then the usual checks. */
static int verify_quote_tools(const char *akpath, const char *sigp, const char *pcrf, const char *nonce_hex,
			      const char *pcrlist, bool json)
{
	uint8_t *der = NULL, *sig = NULL, *vals = NULL, nonce[20];
	size_t dlen, slen, vlen;
	uint32_t mask, required[M_BANK_COUNT] = { 0 };
	struct m_t12_pubkey aik;
	struct m_pcrs *p = calloc(1, sizeof(*p));
	struct m_evidence *ev = NULL;
	struct m_verify_result res;
	EVP_PKEY *key = NULL;
	int r, rc;

	r = p ? m_unhex(nonce_hex, nonce, 20) : -ENOMEM;
	if (r == 0 && pcrlist)
		r = m_pcr_list_parse(pcrlist, &required[M_SHA1]);
	if (r == 0)
		r = m_read_file(akpath, SMALL_FILE_MAX, &der, &dlen);
	if (r == 0)
		r = m_read_file(sigp, SMALL_FILE_MAX, &sig, &slen);
	if (r == 0)
		r = m_read_file(pcrf, SMALL_FILE_MAX, &vals, &vlen);
	if (r == 0 && (r = m_t12_tssblob_parse(der, dlen, &aik)) < 0)
		m_err_prefix(r, "%s", akpath);
	if (r == 0 && (r = m_t12_pcrvals_parse((const char *)vals, vlen, p, &mask)) < 0)
		m_err_prefix(r, "%s", pcrf);
	if (r == 0)
		r = m_t12_pubkey_to_pkey(&aik, &key);
	if (r == 0)
		r = m_t12_evidence_from_quote_tools(&aik, p, mask, nonce, sig, slen, &ev);
	if (r == 0)
		r = m_evidence_verify(ev, NULL, key, nonce, 20, pcrlist ? required : NULL, &res);
	if (r < 0) {
		rc = fail(exit_from_errno(r), r, NULL);
	} else {
		print_result(&res, json);
		rc = res.reason == M_V_OK ? EXIT_OK : EXIT_MISMATCH;
	}
	EVP_PKEY_free(key);
	m_evidence_free(ev);
	free(p);
	free(der);
	free(sig);
	free(vals);
	return rc;
}

/* the command line */
struct vopts {
	const char *evpath, *akpath, *nonce_hex, *msg, *sigp, *pcrf, *hash, *pcrlist, *banklist;
	const char *logpaths[M_EVIDENCE_MAX_LOGS];
	size_t nlogpaths, nonce_len;
	uint8_t nonce[M_NONCE_MAX];
	uint32_t required[M_BANK_COUNT];
	bool json, tqt;
};

/* what was read for the second form (tpm2-tools' files) */
struct vinputs {
	struct m_evidence *ev;
	struct m_pcrs *vals;
	struct m_log *logs[M_EVIDENCE_MAX_LOGS];
	uint8_t *mdata, *sdata, *fdata;
	size_t mlen, slen, flen, nlogs;
};

/* options: -1 to go on, else the exit code */
static int verify_options(int argc, char **argv, struct vopts *o)
{
	static const struct option opts[] = {
		{ "evidence", required_argument, NULL, 'E' },
		{ "ak-pub", required_argument, NULL, 'u' },
		{ "public", required_argument, NULL, 'u' },
		{ "nonce", required_argument, NULL, 'q' },
		{ "qualification", required_argument, NULL, 'q' },
		{ "message", required_argument, NULL, 'm' },
		{ "signature", required_argument, NULL, 's' },
		{ "pcr", required_argument, NULL, 'f' },
		{ "hash-algorithm", required_argument, NULL, 'g' },
		{ "eventlog", required_argument, NULL, 'e' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "bank", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "tpm-quote-tools", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t pcrs_req = 0;
	unsigned banks = 0;
	int c, r;

	o->banklist = "sha256";
	while ((c = getopt_long(argc, argv, "E:u:q:m:s:f:g:e:p:b:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'E': o->evpath = optarg; break;
		case 'u': o->akpath = optarg; break;
		case 'q': o->nonce_hex = optarg; break;
		case 'm': o->msg = optarg; break;
		case 's': o->sigp = optarg; break;
		case 'f': o->pcrf = optarg; break;
		case 'g': o->hash = optarg; break;
		case 'p': o->pcrlist = optarg; break;
		case 'b': o->banklist = optarg; break;
		case 'j': o->json = true; break;
		case 'Q': o->tqt = true; break;
		case 'e':
			if (o->nlogpaths == M_EVIDENCE_MAX_LOGS)
				return usage_error("verify", "at most %u event logs", M_EVIDENCE_MAX_LOGS);
			o->logpaths[o->nlogpaths++] = optarg;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("verify", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("verify", "unexpected argument '%s'", argv[optind]);
	if (!o->akpath || !o->nonce_hex)
		return usage_error("verify", "--ak-pub and --nonce are required");
	if (o->tqt) {
		if (o->evpath || o->msg || !o->sigp || !o->pcrf || strlen(o->nonce_hex) != 40)
			return usage_error("verify", "--tpm-quote-tools takes -u, -s, -f and a 20-byte -q");
		return verify_quote_tools(o->akpath, o->sigp, o->pcrf, o->nonce_hex, o->pcrlist, o->json);
	}
	if (!o->evpath == !o->msg)
		return usage_error("verify", "give either --evidence or -m/-s");
	if (o->msg && !o->sigp)
		return usage_error("verify", "-m needs -s");
	if (o->evpath && (o->sigp || o->pcrf || o->nlogpaths || o->hash))
		return usage_error("verify", "-s, -f, -g and -e go with -m, not --evidence");
	if (o->nlogpaths && !o->pcrf)
		return usage_error("verify", "-e needs the PCR values (-f)");
	o->nonce_len = strlen(o->nonce_hex) / 2;
	if (strlen(o->nonce_hex) % 2 || o->nonce_len > M_NONCE_MAX ||
	    (o->nonce_len && m_unhex(o->nonce_hex, o->nonce, o->nonce_len) < 0))
		return usage_error("verify", "--nonce: not hex of at most %zu bytes", M_NONCE_MAX);
	if (o->pcrlist) {
		r = m_pcr_list_parse(o->pcrlist, &pcrs_req);
		if (r < 0)
			return usage_error("verify", "--pcrs: %s", m_errmsg(r));
		r = m_bank_list_parse(o->banklist, &banks);
		if (r < 0)
			return usage_error("verify", "--bank: %s", m_errmsg(r));
		for_each_bank(b, banks)
			o->required[b] = pcrs_req;
	}
	if (o->hash && m_bank_by_name(o->hash) < 0)
		return usage_error("verify", "-g: unknown hash '%s'", o->hash);
	return -1;
}

/* inputs: the evidence, or tpm2-tools' message, signature, PCR values and logs */
static int verify_inputs(const struct vopts *o, struct vinputs *in)
{
	int r;

	if (o->evpath)
		return m_evidence_load(o->evpath, &in->ev);
	r = m_read_file(o->msg, SMALL_FILE_MAX, &in->mdata, &in->mlen);
	if (r >= 0)
		r = m_read_file(o->sigp, SMALL_FILE_MAX, &in->sdata, &in->slen);
	if (r >= 0 && o->pcrf)
		r = m_read_file(o->pcrf, SMALL_FILE_MAX, &in->fdata, &in->flen);
	if (r >= 0 && o->pcrf) {
		in->vals = calloc(1, sizeof(*in->vals));
		r = in->vals ? m_tpm2tools_pcrs_read(in->fdata, in->flen, in->vals) : -ENOMEM;
		if (r < 0)
			m_err_prefix(r, "%s", o->pcrf);
	}
	for (size_t i = 0; r >= 0 && i < o->nlogpaths; i++) {
		r = m_log_load(o->logpaths[i], &in->logs[i]);
		if (r >= 0)
			in->nlogs++;
	}
	return r;
}

/* run: the library's one evidence check, or the quote check over tpm2-tools' files */
static int verify_run(const struct vopts *o, const struct ak *ak, const struct vinputs *in,
		      struct m_verify_result *res)
{
	struct m_quote_check qc = { 0 };

	if (in->ev)
		return m_evidence_verify(in->ev, ak->have_pub ? &ak->pub : NULL, ak->key, o->nonce, o->nonce_len,
					 o->pcrlist ? o->required : NULL, res);
	qc.attest = in->mdata;
	qc.attest_len = in->mlen;
	qc.sig = in->sdata;
	qc.sig_len = in->slen;
	qc.ak = ak->have_pub ? &ak->pub : NULL;
	qc.ak_key = ak->key;
	qc.nonce = o->nonce;
	qc.nonce_len = o->nonce_len;
	qc.pcrs = in->vals;
	qc.required = o->pcrlist ? o->required : NULL;
	qc.logs = in->logs;
	qc.nlogs = in->nlogs;
	return m_quote_verify(&qc, res);
}

int cmd_verify(int argc, char **argv)
{
	struct vopts o = { 0 };
	struct vinputs in = { 0 };
	struct ak ak = { 0 };
	struct m_verify_result res;
	int r, rc;

	progname_sub = "verify";
	rc = verify_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	r = load_ak(o.akpath, &ak);
	if (r >= 0)
		r = verify_inputs(&o, &in);
	if (r < 0) {
		rc = fail(exit_from_errno(r), r, NULL);
		goto out;
	}
	r = verify_run(&o, &ak, &in, &res);
	if (r < 0) {
		rc = fail(EXIT_INTERNAL, r, NULL);
		goto out;
	}
	if (res.reason == M_V_OK && o.hash && m_bank_by_alg(res.sig_hash_alg) != m_bank_by_name(o.hash)) {
		res.reason = M_V_BAD_SIGNATURE;
		snprintf(res.msg, sizeof(res.msg), "the signature's hash is not %s", o.hash);
	}
	print_result(&res, o.json);
	rc = res.reason == M_V_OK ? EXIT_OK : EXIT_MISMATCH;
out:
	for (size_t i = 0; i < in.nlogs; i++)
		m_log_free(in.logs[i]);
	free(in.mdata);
	free(in.sdata);
	free(in.fdata);
	free(in.vals);
	EVP_PKEY_free(ak.key);
	m_evidence_free(in.ev);
	return rc;
}
