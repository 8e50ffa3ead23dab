// SPDX-License-Identifier: MIT
/*
 * Driver for bench/bench_verify.sh.
 *
 *   bench_verify extend TCTI LOG
 *       extend every event of LOG into the TPM (banks the TPM allocates) so
 *       a quote matches the log; prints "BANKS PCRS" for `measured quote`.
 *   bench_verify run EVIDENCE AKPUB NONCEHEX SECONDS
 *       loop the library's full offline verification (m_evidence_verify:
 *       log parse, signature, AK, nonce, PCR digest, log replay) for
 *       SECONDS of CPU time; prints "verify/s RATE" and, separately, the
 *       rate with the JSON document parsed again every time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "measured/attest.h"
#include "measured/manifest.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/heap.h"

/* CPU time of the process, as `openssl speed` counts its rates (CPU time,
 * not elapsed), so the ratio holds on a loaded machine */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int extend(const char *tcti, const char *path)
{
	struct m_tpm *tpm;
	struct m_log *log;
	unsigned allocated, banks;
	uint32_t pcrs = 0;
	size_t n = 0;
	char bl[64];
	int r;

	if ((r = m_log_load(path, &log)) < 0 || (r = m_tpm_open(tcti, &tpm)) < 0 ||
	    (r = m_tpm_banks(tpm, &allocated)) < 0) {
		fprintf(stderr, "bench_verify: %s\n", m_errmsg(r));
		return 1;
	}
	banks = log->banks & allocated;
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];
		struct m_digests d = { .banks = e->banks & banks };

		if (!e->extends || !d.banks)
			continue;
		memcpy(d.d, e->digest, sizeof(d.d));
		r = m_tpm_pcr_extend(tpm, e->pcr, &d);
		if (r < 0) {
			fprintf(stderr, "bench_verify: %s\n", m_errmsg(r));
			return 1;
		}
		pcrs |= 1u << e->pcr;
		n++;
	}
	m_bank_list_format(banks, bl, sizeof(bl));
	printf("%s ", bl);
	for (unsigned p = 0, first = 1; p < M_PCR_COUNT; p++)
		if (pcrs & (1u << p)) {
			printf("%s%u", first ? "" : ",", p);
			first = 0;
		}
	printf(" %zu\n", n);
	m_tpm_close(tpm);
	m_log_free(log);
	return 0;
}

static int run(const char *evpath, const char *akpath, const char *nonce_hex, double secs)
{
	struct m_evidence *ev;
	struct m_verify_result res;
	struct m_manifest *manifest = NULL;
	TPMT_PUBLIC ak;
	EVP_PKEY *key;
	uint8_t nonce[M_NONCE_MAX], *akd, *text;
	size_t akn, tlen, nl = strlen(nonce_hex) / 2;
	unsigned long count = 0;
	double t0, t;
	int r;

	m_heap_retain();	/* as `measured serve` does: a verifier's loop */
	if ((r = m_evidence_load(evpath, &ev)) < 0 || (r = m_read_file(akpath, 65536, &akd, &akn)) < 0 ||
	    (r = m_tpm_public_parse(akd, akn, &ak)) < 0 || (r = m_tpm_public_to_pkey(&ak, &key)) < 0 ||
	    (r = m_unhex(nonce_hex, nonce, nl)) < 0 || (r = m_read_file(evpath, M_EVIDENCE_MAX_SIZE, &text, &tlen)) < 0) {
		fprintf(stderr, "bench_verify: %s\n", m_errmsg(r));
		return 1;
	}
	/* the reference manifest: the same log's events for the quoted PCRs, as a
	 * server holds one per machine policy */
	{
		struct m_log *log;
		unsigned banks = 0;
		uint32_t pcrs = 0;

		for_each_bank(b, M_BANKS_ALL)
			if (ev->sel[b]) {
				banks |= M_BANK_BIT(b);
				pcrs |= ev->sel[b];
			}
		if (!ev->nlogs || (r = m_log_parse(ev->log[0].data, ev->log[0].len, "log", &log)) < 0 ||
		    !(manifest = m_manifest_new(banks & log->banks)) ||
		    (r = m_manifest_add_log(manifest, log, pcrs, "firmware-log")) < 0 ||
		    (r = m_manifest_finish(manifest)) < 0) {
			fprintf(stderr, "bench_verify: manifest: %s\n", m_errmsg(r));
			return 1;
		}
		m_log_free(log);
	}
	/* the AK's EVP_PKEY is converted once, as a server caches it per machine */
	t0 = now();
	do {
		for (int i = 0; i < 100; i++) {
			r = m_evidence_verify_manifest(ev, &ak, key, nonce, nl, NULL, manifest, &res, NULL);
			if (r < 0 || res.reason != M_V_OK) {
				fprintf(stderr, "bench_verify: not verified: %s %s\n",
					m_verify_reason_name(res.reason), res.msg);
				return 1;
			}
		}
		count += 100;
		t = now() - t0;
	} while (t < secs);
	printf("verify/s %.1f (%lu in %.2f s)\n", count / t, count, t);
	count = 0;
	t0 = now();
	do {
		for (int i = 0; i < 100; i++) {
			struct m_evidence *e2;

			if (m_evidence_from_json((const char *)text, tlen, &e2) < 0)
				return 1;
			r = m_evidence_verify_manifest(e2, &ak, key, nonce, nl, NULL, manifest, &res, NULL);
			m_evidence_free(e2);
			if (r < 0 || res.reason != M_V_OK)
				return 1;
		}
		count += 100;
		t = now() - t0;
	} while (t < secs);
	printf("verify+json/s %.1f (%lu in %.2f s)\n", count / t, count, t);
	EVP_PKEY_free(key);
	m_manifest_free(manifest);
	free(akd);
	free(text);
	m_evidence_free(ev);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "extend"))
		return extend(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], argv[4], atof(argv[5]));
	fprintf(stderr, "usage: bench_verify extend TCTI LOG | run EVIDENCE AKPUB NONCEHEX SECONDS\n");
	return 2;
}
