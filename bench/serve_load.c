// SPDX-License-Identifier: MIT
/*
 * Load generator for `measured serve` (bench/bench_serve.sh): N simulated
 * machines, each a software P-256 AK imported with `measured admin machine
 * import`; T threads, each with one keep-alive TLS connection (libcurl),
 * loop over nonce + attest pairs for S seconds.  Each quote is a real
 * TPMS_ATTEST (libtss2-mu) with the server's nonce, the PCR 16 value a
 * one-event CEL log replays to, and an ECDSA signature: the server runs
 * every check it runs for a TPM.  Prints attestations/s, p50/p99 latency
 * of the pair, and errors.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>
#include "measured/attest.h"
#include "measured/digest.h"
#include "measured/store.h"

struct sim {
	char name[32];
	EVP_PKEY *key;
	TPM2B_PUBLIC pub;
	uint8_t pubm[sizeof(TPM2B_PUBLIC)];
	size_t publen;
	uint64_t clock;
};

static struct sim *sims;
static unsigned nsims, nthreads, seconds;
static const char *url, *ca, *celpath;
static uint8_t *cel;
static size_t cellen;
static uint8_t pcr16[32];
static volatile int stop;

struct tstat {
	unsigned idx;	/* thread t drives machines t, t+T, ...: a TPM quotes one at a time */
	double *lat;
	size_t n, cap, errors;
	char err[256];
};

struct buf { char d[16384]; size_t n; };

static size_t sink(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t k = sz * n;

	if (k > sizeof(b->d) - 1 - b->n)
		k = sizeof(b->d) - 1 - b->n;
	memcpy(b->d + b->n, p, k);
	b->n += k;
	b->d[b->n] = 0;
	return sz * n;
}

static int post(CURL *c, const char *path, const char *body, struct buf *b)
{
	char u[256];
	long code = 0;

	snprintf(u, sizeof(u), "%s%s", url, path);
	b->n = 0;
	b->d[0] = 0;
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return (int)code;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* TPM2_Quote's output, made in software (Part 2, 10.12.12 TPMS_ATTEST). */
static char *evidence(struct sim *s, const uint8_t *nonce, size_t nlen)
{
	struct m_evidence *ev = m_evidence_new();
	TPMS_ATTEST a = { 0 };
	TPMT_SIGNATURE sig = { 0 };
	uint8_t dig[32], der[80];
	size_t off = 0, dl = sizeof(der);
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	const unsigned char *p = der;
	ECDSA_SIG *es;
	char *json = NULL;

	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_QUOTE;
	a.extraData.size = (uint16_t)nlen;
	memcpy(a.extraData.buffer, nonce, nlen);
	a.clockInfo.clock = __atomic_add_fetch(&s->clock, 1, __ATOMIC_RELAXED);
	a.clockInfo.resetCount = 1;
	a.clockInfo.safe = TPM2_YES;
	a.attested.quote.pcrSelect.count = 1;
	a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
	a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
	a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[2] = 0x01;	/* PCR 16 */
	m_digest_one(M_SHA256, pcr16, 32, a.attested.quote.pcrDigest.buffer);
	a.attested.quote.pcrDigest.size = 32;
	Tss2_MU_TPMS_ATTEST_Marshal(&a, ev->attest, sizeof(ev->attest), &off);
	ev->attest_len = off;
	EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, s->key);
	EVP_DigestSign(mc, der, &dl, ev->attest, ev->attest_len);
	EVP_MD_CTX_free(mc);
	es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
	sig.sigAlg = TPM2_ALG_ECDSA;
	sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
	sig.signature.ecdsa.signatureR.size = (uint16_t)BN_bn2binpad(ECDSA_SIG_get0_r(es),
								     sig.signature.ecdsa.signatureR.buffer, 32);
	sig.signature.ecdsa.signatureS.size = (uint16_t)BN_bn2binpad(ECDSA_SIG_get0_s(es),
								     sig.signature.ecdsa.signatureS.buffer, 32);
	ECDSA_SIG_free(es);
	off = 0;
	Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, ev->sig, sizeof(ev->sig), &off);
	ev->sig_len = off;
	memcpy(ev->nonce, nonce, nlen);
	ev->nonce_len = nlen;
	ev->sel[M_SHA256] = 1u << 16;
	memcpy(ev->ak_pub, s->pubm, s->publen);
	ev->ak_pub_len = s->publen;
	ev->pcrs.present[M_SHA256] = 1u << 16;
	memcpy(ev->pcrs.v[M_SHA256][16], pcr16, 32);
	m_evidence_add_log(ev, "cel-json", cel, cellen);
	(void)dig;
	m_evidence_to_json(ev, &json);
	m_evidence_free(ev);
	return json;
}

static void *worker(void *arg)
{
	struct tstat *st = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct buf *b = malloc(sizeof(*b));
	unsigned i = st->idx;

	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	while (!stop) {
		struct sim *s = &sims[i % nsims];

		i += nthreads;
		if (i >= nsims)
			i = st->idx;
		char req[256], *ev, *body, *q;
		uint8_t nonce[32];
		double t0 = now_ms();
		int code;

		snprintf(req, sizeof(req), "{\"machine\":\"%s\"}", s->name);
		code = post(c, "/v1/nonce", req, b);
		q = strstr(b->d, "\"nonce\":\"");
		if (code != 200 || !q) {
			st->errors++;
			snprintf(st->err, sizeof(st->err), "nonce %d %.200s", code, b->d);
			continue;
		}
		for (int k = 0; k < 32; k++)
			sscanf(q + 9 + 2 * k, "%2hhx", &nonce[k]);
		ev = evidence(s, nonce, 32);
		body = malloc(strlen(ev) + 128);
		sprintf(body, "{\"machine\":\"%s\",\"evidence\":%s}", s->name, ev);
		code = post(c, "/v1/attest", body, b);
		free(ev);
		free(body);
		if (code != 200 || !strstr(b->d, "\"pass\"")) {
			st->errors++;
			snprintf(st->err, sizeof(st->err), "attest %d %.200s", code, b->d);
			continue;
		}
		if (st->n == st->cap) {
			st->cap = st->cap ? 2 * st->cap : 4096;
			st->lat = realloc(st->lat, st->cap * sizeof(double));
		}
		st->lat[st->n++] = now_ms() - t0;
	}
	free(b);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void make_sims(const char *out)
{
	FILE *f = fopen(out, "w");

	for (unsigned i = 0; i < nsims; i++) {
		struct sim *s = &sims[i];
		BIGNUM *x = NULL, *y = NULL;
		char *b;
		size_t off = 0;

		snprintf(s->name, sizeof(s->name), "sim%06u", i);
		s->key = EVP_EC_gen("P-256");
		EVP_PKEY_get_bn_param(s->key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
		EVP_PKEY_get_bn_param(s->key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
		m_ak_template(M_KEY_ECC_P256, &s->pub);
		s->pub.publicArea.unique.ecc.x.size = (uint16_t)BN_bn2binpad(x, s->pub.publicArea.unique.ecc.x.buffer, 32);
		s->pub.publicArea.unique.ecc.y.size = (uint16_t)BN_bn2binpad(y, s->pub.publicArea.unique.ecc.y.buffer, 32);
		BN_free(x);
		BN_free(y);
		Tss2_MU_TPM2B_PUBLIC_Marshal(&s->pub, s->pubm, sizeof(s->pubm), &off);
		s->publen = off;
		b = m_store_b64_encode(s->pubm, s->publen);
		/* the EK is never used without a payload: the AK's public area stands in */
		fprintf(f, "%s %s %s\n", s->name, b, b);
		free(b);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	pthread_t *th;
	struct tstat *st;
	double *all, t0;
	size_t n = 0, errors = 0;
	FILE *f;

	if (argc != 9) {
		fprintf(stderr, "usage: serve_load URL CA CEL PCR16HEX MACHINES THREADS SECONDS IMPORT_OUT\n"
				"       (writes IMPORT_OUT, waits for a line on stdin once imported)\n");
		return 2;
	}
	url = argv[1];
	ca = argv[2];
	celpath = argv[3];
	for (int k = 0; k < 32; k++)
		sscanf(argv[4] + 2 * k, "%2hhx", &pcr16[k]);
	nsims = (unsigned)atoi(argv[5]);
	nthreads = (unsigned)atoi(argv[6]);
	seconds = (unsigned)atoi(argv[7]);
	f = fopen(celpath, "rb");
	cel = malloc(1 << 20);
	cellen = fread(cel, 1, 1 << 20, f);
	fclose(f);
	sims = calloc(nsims, sizeof(*sims));
	make_sims(argv[8]);
	printf("ready\n");
	fflush(stdout);
	if (!fgets((char[8]){ 0 }, 8, stdin))
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	th = calloc(nthreads, sizeof(*th));
	st = calloc(nthreads, sizeof(*st));
	t0 = now_ms();
	for (unsigned i = 0; i < nthreads; i++)
		st[i].idx = i;
	for (unsigned i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, &st[i]);
	while (now_ms() - t0 < seconds * 1000.0)
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	stop = 1;
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	t0 = (now_ms() - t0) / 1000.0;
	for (unsigned i = 0; i < nthreads; i++)
		n += st[i].n, errors += st[i].errors;
	all = malloc((n + 1) * sizeof(double));
	n = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		memcpy(all + n, st[i].lat, st[i].n * sizeof(double));
		n += st[i].n;
		if (st[i].errors)
			fprintf(stderr, "error example: %s\n", st[i].err);
	}
	qsort(all, n, sizeof(double), cmp);
	printf("attestations %zu in %.1f s: %.0f/s (target 1700/s: ratio %.2f), p50 %.1f ms, p99 %.1f ms, errors %zu\n",
	       n, t0, n / t0, n / t0 / 1700.0, n ? all[n / 2] : 0.0, n ? all[n * 99 / 100] : 0.0, errors);
	return errors ? 1 : 0;
}
