// SPDX-License-Identifier: MIT
/*
 * Load generator for `measured serve` (bench/bench_serve.sh): N simulated
 * machines, each a software P-256 AK imported with `measured admin machine
 * import`; T threads, each with one keep-alive TLS connection (OpenSSL,
 * HTTP/1.1 written and read here: the client's own cost is kept small, as
 * it shares the cores with the server),
 * loop over nonce + attest pairs for S seconds.  Each quote is a real
 * TPMS_ATTEST (libtss2-mu) with the server's nonce, the PCR 16 value a
 * one-event CEL log replays to, and an ECDSA signature: the server runs
 * every check it runs for a TPM.  Prints attestations/s, p50/p99 latency
 * of the pair, errors, and its own CPU time (it shares the cores with the
 * server, so the server's figure is read next to it).
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>
#include "measured/base64.h"
#include "measured/attest.h"
#include "measured/digest.h"
#include "store.h"

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

struct buf { char d[16384]; };

/* one keep-alive HTTPS connection to the server */
struct conn {
	int fd;
	SSL *ssl;
	char *out;		/* request head + body */
	size_t out_max;
	char in[16384];		/* the answer being read */
	size_t in_len;
};

static SSL_CTX *tls;
static struct sockaddr_in server_addr;
static char server_host[64];

static void conn_close(struct conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

static int conn_open(struct conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(tls);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
	    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), server_host) || SSL_connect(c->ssl) != 1)
		goto fail;
	return 0;
fail:
	conn_close(c);
	return -1;
}

static int write_all(struct conn *c, const char *p, size_t n)
{
	while (n) {
		int k = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* POST @body to @path; the answer's body (cut to fit) in @ans; the HTTP status, or -1 */
static int post(struct conn *c, const char *path, const char *body, char *ans, size_t ans_max)
{
	size_t bl = strlen(body), head = 0, want;
	int n, code;
	char *end, *cl;

	if (c->fd < 0 && conn_open(c) < 0)
		return -1;
	n = snprintf(c->out, c->out_max, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n", path, server_host, bl);
	if (n < 0 || (size_t)n + bl > c->out_max)
		return -1;
	memcpy(c->out + n, body, bl);	/* one write: the head and the body in one TLS record */
	if (write_all(c, c->out, (size_t)n + bl) < 0)
		goto broken;
	c->in_len = 0;
	for (;;) {
		c->in[c->in_len] = 0;
		if (!head && (end = strstr(c->in, "\r\n\r\n"))) {
			head = (size_t)(end - c->in) + 4;
			cl = strcasestr(c->in, "\r\nContent-Length:");
			if (!cl || cl > end)
				goto broken;
			want = head + strtoul(cl + 17, NULL, 10);
			if (want >= sizeof(c->in))
				goto broken;
		}
		if (head && c->in_len >= want)
			break;
		n = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - 1 - c->in_len));
		if (n <= 0)
			goto broken;
		c->in_len += (size_t)n;
	}
	if (sscanf(c->in, "HTTP/1.1 %d", &code) != 1)
		goto broken;
	snprintf(ans, ans_max, "%.*s", (int)(want - head), c->in + head);
	if (strcasestr(c->in, "\r\nConnection: close"))
		conn_close(c);
	return code;
broken:
	conn_close(c);	/* the next request connects again */
	return -1;
}

/* https://IPV4:PORT, verified against @ca for that address */
static int tls_setup(void)
{
	unsigned port;

	if (sscanf(url, "https://%63[0-9.]:%u", server_host, &port) != 2 || port > 65535 ||
	    inet_pton(AF_INET, server_host, &server_addr.sin_addr) != 1) {
		fprintf(stderr, "serve_load: %s: expected https://IPV4:PORT\n", url);
		return -1;
	}
	server_addr.sin_family = AF_INET;
	server_addr.sin_port = htons((uint16_t)port);
	tls = SSL_CTX_new(TLS_client_method());
	if (!tls || SSL_CTX_load_verify_locations(tls, ca, NULL) != 1) {
		fprintf(stderr, "serve_load: %s: cannot load the CA certificate\n", ca);
		return -1;
	}
	SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, NULL);
	return 0;
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
	struct conn *c = calloc(1, sizeof(*c));
	struct buf *b = malloc(sizeof(*b));
	char *body = malloc(body_max);
	unsigned i = st->idx;

	c->fd = -1;
	c->out_max = body_max + 512;
	c->out = malloc(c->out_max);
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
		code = post(c, "/v1/nonce", req, b->d, sizeof(b->d));
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
		code = post(c, "/v1/attest", body, b->d, sizeof(b->d));
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
	conn_close(c);
	free(c->out);
	free(c);
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
	signal(SIGPIPE, SIG_IGN);
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
	if (tls_setup() < 0)
		return 1;
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
