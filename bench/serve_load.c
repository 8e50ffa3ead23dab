// SPDX-License-Identifier: MIT
/*
 * Load generator for `measured serve` (bench/bench_serve.sh): N simulated
 * machines, each a software P-256 AK imported with `measured admin machine
 * import`; T threads, each with one keep-alive TLS connection (libcurl),
 * loop over nonce + attest pairs for S seconds.  Each quote is a real
 * TPMS_ATTEST (libtss2-mu) with the server's nonce, the PCR 16 value a
 * one-event CEL log replays to, and an ECDSA signature: the server runs
 * every check it runs for a TPM.  Prints attestations/s, p50/p99 latency
 * of the pair, errors, and its own CPU time (it shares the cores with the
 * server, so the server's figure is read next to it).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>
#include "measured/base64.h"
#include "measured/attest.h"
#include "measured/digest.h"
#include "measured/store.h"

struct sim {
	char name[32];
	EVP_PKEY *key;
	TPM2B_PUBLIC pub;
	uint8_t pubm[sizeof(TPM2B_PUBLIC)];
	size_t publen;
	char *pub_b64;
	uint64_t clock;
};

static struct sim *sims;
static unsigned nsims, nthreads, seconds;
static const char *url, *ca, *celpath;
static uint8_t *cel;
static size_t cellen;
static uint8_t pcr16[32], pcr16_digest[32];
static char pcr16_hex[65], *cel_b64;
static size_t body_max;
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

/*
 * TPM2_Quote's output, made in software (Part 2, 10.12.12 TPMS_ATTEST),
 * signed for this nonce as a TPM would, and the evidence document
 * (docs/evidence.md) written straight into @out: the parts that do not
 * change between quotes (AK public, log) were encoded once, so the load
 * generator spends its share of the two cores on TLS and the signature.
 */
static int evidence(struct sim *s, const uint8_t *nonce, size_t nlen, char *out, size_t outlen)
{
	TPMS_ATTEST a = { 0 };
	TPMT_SIGNATURE sig = { 0 };
	uint8_t att[sizeof(TPMS_ATTEST)], sigm[sizeof(TPMT_SIGNATURE)], der[80];
	char nh[2 * 64 + 1], atb[4 * sizeof(att) / 3 + 4], sgb[4 * sizeof(sigm) / 3 + 4];
	size_t off = 0, attlen, dl = sizeof(der);
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	const unsigned char *p = der;
	ECDSA_SIG *es;
	int n;

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
	memcpy(a.attested.quote.pcrDigest.buffer, pcr16_digest, 32);
	a.attested.quote.pcrDigest.size = 32;
	Tss2_MU_TPMS_ATTEST_Marshal(&a, att, sizeof(att), &off);
	attlen = off;
	if (!mc || EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, s->key) != 1 ||
	    EVP_DigestSign(mc, der, &dl, att, attlen) != 1) {
		EVP_MD_CTX_free(mc);
		return -1;
	}
	EVP_MD_CTX_free(mc);
	es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
	if (!es)
		return -1;
	sig.sigAlg = TPM2_ALG_ECDSA;
	sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
	sig.signature.ecdsa.signatureR.size = (uint16_t)BN_bn2binpad(ECDSA_SIG_get0_r(es),
								     sig.signature.ecdsa.signatureR.buffer, 32);
	sig.signature.ecdsa.signatureS.size = (uint16_t)BN_bn2binpad(ECDSA_SIG_get0_s(es),
								     sig.signature.ecdsa.signatureS.buffer, 32);
	ECDSA_SIG_free(es);
	off = 0;
	Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sigm, sizeof(sigm), &off);
	for (size_t i = 0; i < nlen; i++)
		sprintf(nh + 2 * i, "%02x", nonce[i]);
	EVP_EncodeBlock((unsigned char *)atb, att, (int)attlen);
	EVP_EncodeBlock((unsigned char *)sgb, sigm, (int)off);
	n = snprintf(out, outlen,
		     "{\"machine\":\"%s\",\"evidence\":{\"version\":%d,\"nonce\":\"%s\","
		     "\"pcr_selection\":{\"sha256\":[16]},\"ak_public\":\"%s\","
		     "\"quote\":{\"attest\":\"%s\",\"signature\":\"%s\"},"
		     "\"pcrs\":{\"sha256\":{\"16\":\"%s\"}},"
		     "\"eventlogs\":[{\"format\":\"cel-json\",\"data\":\"%s\"}]}}",
		     s->name, M_EVIDENCE_VERSION, nh, s->pub_b64, atb, sgb, pcr16_hex, cel_b64);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static void *worker(void *arg)
{
	struct tstat *st = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct buf *b = malloc(sizeof(*b));
	char *body = malloc(body_max);
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
		char req[256], *q;
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
		if (evidence(s, nonce, 32, body, body_max) < 0) {
			st->errors++;
			snprintf(st->err, sizeof(st->err), "cannot sign");
			continue;
		}
		code = post(c, "/v1/attest", body, b);
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
	free(body);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

/* this process's CPU seconds (all threads, user + system) */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
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
		b = m_b64_encode(s->pubm, s->publen);
		/* the EK is never used without a payload: the AK's public area stands in */
		fprintf(f, "%s %s %s\n", s->name, b, b);
		s->pub_b64 = b;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	pthread_t *th;
	struct tstat *st;
	double *all, t0, c0;
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
	cel_b64 = m_b64_encode(cel, cellen);
	body_max = strlen(cel_b64) + 4096;
	m_digest_one(M_SHA256, pcr16, 32, pcr16_digest);
	for (int k = 0; k < 32; k++)
		sprintf(pcr16_hex + 2 * k, "%02x", pcr16[k]);
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
	c0 = cpu_s();
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
	c0 = cpu_s() - c0;
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
	/* the load shares the cores with the server: say how much it took */
	printf("load generator CPU %.1f s (%.0f%% of one core, %.2f ms per attestation)\n", c0, 100.0 * c0 / t0,
	       n ? 1e3 * c0 / (double)n : 0.0);
	return errors ? 1 : 0;
}
