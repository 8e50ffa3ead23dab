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
 *
 * URL may be a comma-separated list of verifiers sharing one database (no
 * load balancer: the generator spreads the requests).  Thread t starts on
 * verifier t mod V and fetches its nonces there and, with V > 1, attests
 * at the next one, so every attestation crosses two verifiers.  With
 * V > 1, a pair that fails on a lost connection or a 503 is retried with a
 * fresh nonce on the next verifiers (for up to LOAD_RETRY_MS), and the
 * time between the first and the last such failure is the error window
 * printed; with one verifier it is an error.
 * Environment, for the fleet tests (tests/integration/fleet*.sh):
 *   SERVE_LOAD_PREFIX=NAME   the machines' names (default sim000000, ...);
 *   SERVE_LOAD_PASSLOG=FILE  one line per pass seen: nonce, machine,
 *                            wall-clock ms, verifier index;
 *   SERVE_LOAD_DOUBTLOG=FILE one line per attest sent whose answer was
 *                            lost or a 503 (the verifier's commit may have
 *                            reached the database all the same): machine;
 *   SERVE_LOAD_PAYLOAD=NAME  ask for this payload in every attestation;
 *   SERVE_LOAD_BAD_EVERY=K   every K-th machine's log and PCR 16 are of a
 *                            different event (manifest-mismatch expected,
 *                            and never a payload);
 *   SERVE_LOAD_RACE=1        each nonce's attestation is sent to every
 *                            verifier at once: one pass, the others
 *                            nonce-reused;
 *   SERVE_LOAD_RACE=turns    each nonce's attestation is sent to one
 *                            verifier, the next in turn (with
 *                            SERVE_LOAD_ANSWERLOG): every verifier judges
 *                            every machine, without its nonce raced;
 *   SERVE_LOAD_ANSWERLOG=FILE with SERVE_LOAD_RACE: every answer logged
 *                            (wall-clock ms the attestation was sent,
 *                            machine, verifier, status, first 40 bytes of
 *                            the reason), not judged;
 *   SERVE_LOAD_WARMUP=1      after the first line on stdin, every machine
 *                            attests once (not counted; any error ends
 *                            the run), "warm ..." is printed, and the
 *                            measured run waits for a second line: the
 *                            figures are then those of a fleet whose
 *                            machines have attested before, not of each
 *                            machine's first attestation;
 *   SERVE_LOAD_RATE=R        R attestations a second over all threads
 *                            (each thread starts one every THREADS/R s;
 *                            one that is late starts the next at once),
 *                            not as fast as the server answers: the CPU
 *                            a given fleet costs (not during SERVE_LOAD_WARMUP);
 *   SERVE_LOAD_PROBE=1       the floor under an attestation (bench_serve.sh):
 *                            first the CPU time of one ECDSA P-256 check
 *                            of a quote-sized message (the one the server
 *                            makes), timed here on one core; then each
 *                            round is the two exchanges of an attestation
 *                            with no work behind them: a nonce request and
 *                            an attestation of their real sizes, each with
 *                            its first byte spoilt, so the server reads
 *                            the body and answers 400 from the JSON
 *                            parser's first byte; counted as the
 *                            attestations are.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
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
#include <sys/time.h>
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

#define MAX_VERIFIERS 8
#define LOAD_TIMEOUT_S 10	/* one request's answer */
#define LOAD_RETRY_MS 30000	/* how long one attestation is retried before it counts as an error */
static unsigned nverifiers;
static char *cel_bad_b64, pcr16_bad_hex[65];
static uint8_t pcr16_bad_digest[32];
static unsigned bad_every;	/* 0: every machine is good */
static const char *payload;
static int race;		/* 1: every verifier at once; 2: one each round, in turn */
static bool probe;		/* SERVE_LOAD_PROBE: the exchanges alone */
static double rate;		/* SERVE_LOAD_RATE: attestations/s over all threads; 0: as fast as answered */
static char *probe_body[2];	/* its nonce request and attestation, spoilt */
static FILE *passlog, *doubtlog, *answerlog;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static double t_start;

struct tstat {
	unsigned idx;	/* thread t drives machines t, t+T, ...: a TPM quotes one at a time */
	bool once;	/* stop after the last of them (SERVE_LOAD_WARMUP) */
	bool wrapped;
	double *lat;
	size_t n, cap, errors, retries, doubts, bad_failed, race_rounds, race_reused, turn;
	double first_fail, last_fail;	/* ms since the start; 0: none */
	char err[640];
};

struct buf { char d[16384]; };

/* one keep-alive HTTPS connection to the server */
struct conn {
	unsigned v;		/* which verifier */
	int fd;
	SSL *ssl;
	char *out;		/* request head + body */
	size_t out_max;
	char in[16384];		/* the answer being read */
	size_t in_len;
};

static SSL_CTX *tls;
static struct sockaddr_in server_addr[MAX_VERIFIERS];
static char server_host[MAX_VERIFIERS][64];

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
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&server_addr[c->v], sizeof(server_addr[c->v])) < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* a verifier that hangs (its database waits) costs a request LOAD_TIMEOUT_S, then the next one is tried */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ LOAD_TIMEOUT_S, 0 }, sizeof(struct timeval));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ LOAD_TIMEOUT_S, 0 }, sizeof(struct timeval));
	c->ssl = SSL_new(tls);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
	    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), server_host[c->v]) || SSL_connect(c->ssl) != 1)
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

/* send POST @body to @path (connecting first if need be); 0, or -1 with the connection closed */
static int post_send(struct conn *c, const char *path, const char *body)
{
	size_t bl = strlen(body);
	int n;

	if (c->fd < 0 && conn_open(c) < 0)
		return -1;
	n = snprintf(c->out, c->out_max, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n", path, server_host[c->v], bl);
	if (n < 0 || (size_t)n + bl > c->out_max)
		return -1;
	memcpy(c->out + n, body, bl);	/* one write: the head and the body in one TLS record */
	if (write_all(c, c->out, (size_t)n + bl) < 0) {
		conn_close(c);	/* the next request connects again */
		return -1;
	}
	return 0;
}

/* the answer to post_send(): its body (cut to fit) in @ans; the HTTP status, or -1 */
static int post_recv(struct conn *c, char *ans, size_t ans_max)
{
	size_t head = 0, want = 0;
	int n, code;
	char *end, *cl;

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
	/* the body, cut to fit: the generator looks only at its first fields */
	n = (int)(want - head < ans_max - 1 ? want - head : ans_max - 1);
	memcpy(ans, c->in + head, (size_t)n);
	ans[n] = 0;
	if (strcasestr(c->in, "\r\nConnection: close"))
		conn_close(c);
	return code;
broken:
	conn_close(c);	/* the next request connects again */
	return -1;
}

/* POST @body to @path; the answer's body (cut to fit) in @ans; the HTTP status, or -1 (-2: never sent) */
static int post(struct conn *c, const char *path, const char *body, char *ans, size_t ans_max)
{
	*ans = 0;
	if (post_send(c, path, body) < 0)
		return -2;
	return post_recv(c, ans, ans_max);
}

/* https://IPV4:PORT[,https://IPV4:PORT...], each verified against @ca for its address */
static int tls_setup(void)
{
	const char *u = url;
	unsigned port;
	int used;

	for (nverifiers = 0; *u; nverifiers++) {
		struct sockaddr_in *a = &server_addr[nverifiers];

		if (nverifiers == MAX_VERIFIERS ||
		    sscanf(u, "https://%63[0-9.]:%u%n", server_host[nverifiers], &port, &used) != 2 || port > 65535 ||
		    (u[used] && u[used] != ',') || inet_pton(AF_INET, server_host[nverifiers], &a->sin_addr) != 1) {
			fprintf(stderr, "serve_load: %s: expected https://IPV4:PORT[,...] (at most %d)\n", url,
				MAX_VERIFIERS);
			return -1;
		}
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		u += used + (u[used] == ',');
	}
	if (!nverifiers) {
		fprintf(stderr, "serve_load: no verifier URL\n");
		return -1;
	}
	tls = SSL_CTX_new(TLS_client_method());
	if (!tls || SSL_CTX_load_verify_locations(tls, ca, NULL) != 1) {
		fprintf(stderr, "serve_load: %s: cannot load the CA certificate\n", ca);
		return -1;
	}
	SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, NULL);
	return 0;
}

static double wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
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
static int evidence(struct sim *s, bool bad, const uint8_t *nonce, size_t nlen, char *out, size_t outlen)
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
	memcpy(a.attested.quote.pcrDigest.buffer, bad ? pcr16_bad_digest : pcr16_digest, 32);
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
		     s->name, M_EVIDENCE_VERSION, nh, s->pub_b64, atb, sgb, bad ? pcr16_bad_hex : pcr16_hex,
		     bad ? cel_bad_b64 : cel_b64);
	if (n <= 0 || (size_t)n >= outlen)
		return -1;
	/* the request's end: the evidence object closed, then the payload asked for, if any */
	if (payload) {
		int k = snprintf(out + n - 1, outlen - (size_t)n + 1, ",\"payload\":\"%s\"}", payload);

		if (k <= 0 || (size_t)k >= outlen - (size_t)n + 1)
			return -1;
	}
	return 0;
}

static void fail_at(struct tstat *st)
{
	double t = now_ms() - t_start;

	if (!st->first_fail)
		st->first_fail = t;
	st->last_fail = t;
}

static bool is_bad(const struct sim *s)
{
	return bad_every && (unsigned)(s - sims) % bad_every == bad_every - 1;
}

/* a nonce for @s from @c's verifier: 0, 1 (retry elsewhere), -1 (an error) */
static int get_nonce(struct tstat *st, struct conn *c, struct sim *s, struct buf *b, uint8_t nonce[32])
{
	char req[256], *q;
	int code;

	snprintf(req, sizeof(req), "{\"machine\":\"%s\"}", s->name);
	code = post(c, "/v1/nonce", req, b->d, sizeof(b->d));
	if (code < 0 || code == 503)
		return 1;
	q = strstr(b->d, "\"nonce\":\"");
	if (code != 200 || !q) {
		snprintf(st->err, sizeof(st->err), "nonce %d %.200s", code, b->d);
		return -1;
	}
	for (int k = 0; k < 32; k++)
		sscanf(q + 9 + 2 * k, "%2hhx", &nonce[k]);
	return 0;
}

static void log_pass(const uint8_t nonce[32], const struct sim *s, unsigned v)
{
	char nh[65];

	if (!passlog)
		return;
	for (int k = 0; k < 32; k++)
		sprintf(nh + 2 * k, "%02x", nonce[k]);
	pthread_mutex_lock(&log_lock);
	fprintf(passlog, "%s %s %.0f %u\n", nh, s->name, wall_ms(), v);
	pthread_mutex_unlock(&log_lock);
}

/*
 * The answer to one attestation: 0 as expected (a good machine passes,
 * with its payload if one was asked for; a bad one fails with
 * manifest-mismatch and nothing else), 1 retry (503 or a lost answer), -1
 * an error.
 */
static int judge(struct tstat *st, struct sim *s, const uint8_t nonce[32], unsigned v, int code, const char *ans)
{
	if (code < 0 || code == 503) {
		/* sent, and the answer lost or "unavailable": it may have been committed all the same */
		if (code != -2 && doubtlog) {
			pthread_mutex_lock(&log_lock);
			fprintf(doubtlog, "%s\n", s->name);
			pthread_mutex_unlock(&log_lock);
		}
		st->doubts += code != -2;
		return 1;
	}
	if (is_bad(s)) {
		if (code == 403 && strstr(ans, "\"manifest-mismatch\"") && !strstr(ans, "\"payload\"") &&
		    !strstr(ans, "ciphertext")) {
			st->bad_failed++;
			return 0;
		}
		snprintf(st->err, sizeof(st->err), "a failing machine's attest answered %d %.200s", code, ans);
		return -1;
	}
	if (code != 200 || !strstr(ans, "\"pass\"") || (payload && !strstr(ans, "\"ciphertext\""))) {
		snprintf(st->err, sizeof(st->err), "attest %d %.200s", code, ans);
		return -1;
	}
	log_pass(nonce, s, v);
	return 0;
}

/* SERVE_LOAD_RACE: one nonce, its attestation sent to every verifier at once */
static int race_round(struct tstat *st, struct conn *c, struct sim *s, struct buf *b, char *body)
{
	uint8_t nonce[32];
	int code[MAX_VERIFIERS], pass = 0, reused = 0, r;
	unsigned first = 0, end = nverifiers;
	char seen[MAX_VERIFIERS * 96] = "";	/* each verifier's answer, for the error */
	bool bad = false;
	double sent;

	if ((r = get_nonce(st, &c[0], s, b, nonce)) != 0)
		return r < 0 ? -1 : 1;
	if (evidence(s, false, nonce, 32, body, body_max) < 0)
		return -1;
	if (race == 2) {
		first = (unsigned)(st->turn++ % nverifiers);
		end = first + 1;
	}
	sent = wall_ms();
	for (unsigned v = first; v < end; v++)
		code[v] = post_send(&c[v], "/v1/attest", body) < 0 ? -2 : 0;
	for (unsigned v = first; v < end; v++) {
		if (code[v] == 0)
			code[v] = post_recv(&c[v], b->d, sizeof(b->d));
		if (answerlog) {
			const char *why = strstr(b->d, "\"reason\":\"");

			pthread_mutex_lock(&log_lock);
			fprintf(answerlog, "%.0f %s %u %d %.40s\n", sent, s->name, v, code[v],
				why ? why + 10 : strstr(b->d, "\"pass\"") ? "pass" : "-");
			pthread_mutex_unlock(&log_lock);
			continue;
		}
		/* each answer's start, for the error below (under 96 bytes each) */
		sprintf(seen + strlen(seen), " [%u: %d %.60s]", v, code[v], b->d);
		if (code[v] == 200 && strstr(b->d, "\"pass\"")) {
			pass++;
			log_pass(nonce, s, v);
		} else if (code[v] == 403 && strstr(b->d, "\"nonce-reused\"")) {
			reused++;
		} else if (!bad) {
			/* the others' answers are read all the same: left unread, the next round would take them */
			snprintf(st->err, sizeof(st->err), "race: verifier %u answered %d %.200s", v, code[v], b->d);
			bad = true;
		}
	}
	if (answerlog)
		return 0;
	if (bad)
		return -1;
	if (pass != 1) {
		snprintf(st->err, sizeof(st->err), "race: %d passes for one nonce (%s):%s", pass, s->name, seen);
		return -1;
	}
	st->race_rounds++;
	st->race_reused += (size_t)reused;
	return 0;
}

/* SERVE_LOAD_PROBE: an attestation's two exchanges, with nothing asked of the server */
static int probe_round(struct tstat *st, struct conn *c, struct buf *b)
{
	static const char *const path[2] = { "/v1/nonce", "/v1/attest" };

	for (int k = 0; k < 2; k++) {
		int code = post(c, path[k], probe_body[k], b->d, sizeof(b->d));

		if (code != 400) {
			snprintf(st->err, sizeof(st->err), "%s, spoilt: %d, not 400", path[k], code);
			return -1;
		}
	}
	return 0;
}

static void *worker(void *arg)
{
	struct tstat *st = arg;
	struct conn *c = calloc(nverifiers, sizeof(*c));
	struct buf *b = malloc(sizeof(*b));
	char *body = malloc(body_max);
	unsigned i = st->idx, cur = st->idx % nverifiers;
	double due;	/* SERVE_LOAD_RATE: when this thread's next attestation starts */

	for (unsigned v = 0; v < nverifiers; v++) {
		c[v].v = v;
		c[v].fd = -1;
		c[v].out_max = body_max + 512;
		c[v].out = malloc(c[v].out_max);
	}
	due = now_ms();
	while (!stop && !(st->once && st->wrapped)) {
		struct sim *s = &sims[i % nsims];
		double t0;
		int r = 1;

		if (rate > 0 && !st->once) {
			double wait = due - now_ms();

			if (wait > 0) {
				long long ns = (long long)(wait * 1e6);

				nanosleep(&(struct timespec){ (time_t)(ns / 1000000000), (long)(ns % 1000000000) }, NULL);
			}
			due += 1e3 * nthreads / rate;	/* behind: the next starts at once, the pace is kept on average */
		}
		t0 = now_ms();

		i += nthreads;
		if (i >= nsims) {
			i = st->idx;
			st->wrapped = true;
		}
		if (race) {
			r = race_round(st, c, s, b, body);
			if (r < 0)
				st->errors++;
			continue;
		}
		if (probe)
			r = probe_round(st, &c[cur], b);
		/* on a lost connection or a 503: a fresh nonce, the next verifiers */
		/* one verifier (bench_serve.sh): no retry, a 503 or a lost answer is an error */
		else for (unsigned tries = 0; r == 1 && (nverifiers > 1 || !tries) && now_ms() - t0 < LOAD_RETRY_MS && !stop;
		     tries++) {
			unsigned at = (cur + (nverifiers > 1)) % nverifiers;
			uint8_t nonce[32];
			int code;

			if (tries) {
				st->retries++;
				fail_at(st);
				cur = (cur + 1) % nverifiers;
				at = (cur + (nverifiers > 1)) % nverifiers;
				/* 5 ms, then longer, up to 100 ms: an outage is waited out, not hammered */
				nanosleep(&(struct timespec){ 0, 5000000L * (tries < 20 ? tries : 20) }, NULL);
			}
			if ((r = get_nonce(st, &c[cur], s, b, nonce)) != 0)
				continue;
			if (evidence(s, is_bad(s), nonce, 32, body, body_max) < 0) {
				snprintf(st->err, sizeof(st->err), "cannot sign");
				r = -1;
				break;
			}
			code = post(&c[at], "/v1/attest", body, b->d, sizeof(b->d));
			r = judge(st, s, nonce, at, code, b->d);
		}
		if (r == 1 && !stop)
			snprintf(st->err, sizeof(st->err), nverifiers > 1 ? "no verifier answered in %d ms"
									   : "no answer, or 503 (%d)", nverifiers > 1 ? LOAD_RETRY_MS : 0);
		if (r != 0) {
			st->errors += !stop || r < 0;
			continue;
		}
		if (is_bad(s))
			continue;
		if (st->n == st->cap) {
			st->cap = st->cap ? 2 * st->cap : 4096;
			st->lat = realloc(st->lat, st->cap * sizeof(double));
		}
		st->lat[st->n++] = now_ms() - t0;
	}
	free(b);
	free(body);
	for (unsigned v = 0; v < nverifiers; v++) {
		conn_close(&c[v]);
		free(c[v].out);
	}
	free(c);
	return NULL;
}

/* the environment's options (the header comment); the bad machines' log and PCR 16 */
static int bad_setup(void)
{
	const char *e, *d;
	uint8_t bd[32], z[64];
	char *text, bh[65];

	payload = getenv("SERVE_LOAD_PAYLOAD");
	if ((e = getenv("SERVE_LOAD_RACE")))
		race = !strcmp(e, "1") ? 1 : !strcmp(e, "turns") ? 2 : 0;
	if ((e = getenv("SERVE_LOAD_PASSLOG")) && !(passlog = fopen(e, "w")))
		return -1;
	if ((e = getenv("SERVE_LOAD_DOUBTLOG")) && !(doubtlog = fopen(e, "w")))
		return -1;
	if ((e = getenv("SERVE_LOAD_ANSWERLOG")) && !(answerlog = fopen(e, "w")))
		return -1;
	bad_every = (e = getenv("SERVE_LOAD_BAD_EVERY")) ? (unsigned)atoi(e) : 0;
	if (!bad_every)
		return 0;
	/* the one event's digest replaced by SHA-256("bad"): a log that replays, to a value no policy has */
	text = strndup((const char *)cel, cellen);
	d = text ? strstr(text, "\"digest\":\"") : NULL;
	if (!d || strlen(d) < 10 + 64) {
		fprintf(stderr, "serve_load: the CEL log has no digest to change\n");
		return -1;
	}
	m_digest_one(M_SHA256, (const uint8_t *)"bad", 3, bd);
	for (int k = 0; k < 32; k++)
		sprintf(bh + 2 * k, "%02x", bd[k]);
	memcpy(text + (d - text) + 10, bh, 64);
	cel_bad_b64 = m_b64_encode((const uint8_t *)text, cellen);
	free(text);
	memset(z, 0, 32);
	memcpy(z + 32, bd, 32);
	m_digest_one(M_SHA256, z, 64, z);	/* PCR 16 = SHA-256(0^32 || digest) */
	for (int k = 0; k < 32; k++)
		sprintf(pcr16_bad_hex + 2 * k, "%02x", z[k]);
	m_digest_one(M_SHA256, z, 32, pcr16_bad_digest);
	return cel_bad_b64 ? 0 : -1;
}

static void report(const struct tstat *st)
{
	size_t retries = 0, doubts = 0, bad = 0, rounds = 0, reused = 0;
	double first = 0, last = 0;

	for (unsigned i = 0; i < nthreads; i++) {
		retries += st[i].retries;
		doubts += st[i].doubts;
		bad += st[i].bad_failed;
		rounds += st[i].race_rounds;
		reused += st[i].race_reused;
		if (st[i].first_fail && (!first || st[i].first_fail < first))
			first = st[i].first_fail;
		if (st[i].last_fail > last)
			last = st[i].last_fail;
	}
	if (nverifiers > 1 || retries)
		printf("verifiers %u, retries %zu, answers lost or 503 after sending %zu, error window %.0f ms "
		       "(first failure at %.0f ms, last at %.0f ms)\n", nverifiers, retries, doubts, last - first, first, last);
	if (bad_every)
		printf("failing machines refused %zu (manifest-mismatch, no payload)\n", bad);
	if (race)
		printf("race rounds %zu: one pass each, nonce-reused %zu\n", rounds, reused);
	if (passlog)
		fclose(passlog);
	if (doubtlog)
		fclose(doubtlog);
	if (answerlog)
		fclose(answerlog);
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
	const char *prefix = getenv("SERVE_LOAD_PREFIX") ? getenv("SERVE_LOAD_PREFIX") : "sim";

	FILE *f = fopen(out, "w");

	for (unsigned i = 0; i < nsims; i++) {
		struct sim *s = &sims[i];
		BIGNUM *x = NULL, *y = NULL;
		char *b;
		size_t off = 0;

		snprintf(s->name, sizeof(s->name), "%.16s%06u", prefix, i);
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
		s->pub_b64 = b;
		if (getenv("SERVE_LOAD_PAYLOAD")) {
			/*
			 * A payload is sealed to the EK (MakeCredential): an EK
			 * template (a storage key) around the AK's point, which is
			 * never asked to decrypt here.
			 */
			TPM2B_PUBLIC ek;
			uint8_t ekm[sizeof(TPM2B_PUBLIC)];

			m_ek_template(M_KEY_ECC_P256, &ek);
			ek.publicArea.unique.ecc = s->pub.publicArea.unique.ecc;
			off = 0;
			Tss2_MU_TPM2B_PUBLIC_Marshal(&ek, ekm, sizeof(ekm), &off);
			b = m_b64_encode(ekm, off);
		}
		/* without a payload the EK is never used: the AK's public area stands in */
		fprintf(f, "%s %s %s\n", s->name, b, s->pub_b64);
		if (b != s->pub_b64)
			free(b);
	}
	fclose(f);
}

/*
 * SERVE_LOAD_PROBE, before the load starts: one ECDSA P-256 check of a
 * quote-sized message with SHA-256, as the server makes it
 * (EVP_DigestVerify, the key converted once), for 3 s on this thread, its
 * CPU time each printed; then the probe's two requests, spoilt.
 */
static int probe_setup(void)
{
	uint8_t msg[145], sig[80];
	size_t sl = sizeof(sig);
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	double t0, c0, n = 0;
	int ok = mc && RAND_bytes(msg, sizeof(msg)) == 1 &&
		 EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, sims[0].key) == 1 &&
		 EVP_DigestSign(mc, sig, &sl, msg, sizeof(msg)) == 1;

	t0 = now_ms();
	c0 = cpu_s();
	while (ok && now_ms() - t0 < 3000)
		for (int k = 0; k < 100 && ok; k++, n++)
			ok = EVP_MD_CTX_reset(mc) == 1 &&
			     EVP_DigestVerifyInit(mc, NULL, EVP_sha256(), NULL, sims[0].key) == 1 &&
			     EVP_DigestVerify(mc, sig, sl, msg, sizeof(msg)) == 1;
	c0 = cpu_s() - c0;
	EVP_MD_CTX_free(mc);
	if (!ok) {
		fprintf(stderr, "serve_load: the ECDSA check of the probe failed\n");
		return -1;
	}
	/* the probe's requests: the sizes of a real pair's */
	probe_body[0] = malloc(64);
	probe_body[1] = malloc(body_max);
	if (!probe_body[0] || !probe_body[1] || RAND_bytes(msg, 32) != 1 ||
	    evidence(&sims[0], false, msg, 32, probe_body[1], body_max) < 0) {
		fprintf(stderr, "serve_load: cannot make the probe's requests\n");
		return -1;
	}
	snprintf(probe_body[0], 64, "{\"machine\":\"%s\"}", sims[0].name);
	probe_body[0][0] = probe_body[1][0] = 'x';
	printf("ecdsa-p256 verify %.4f ms CPU each (%.0f on one thread)\n", 1e3 * c0 / n, n);
	fflush(stdout);
	return 0;
}

/* SERVE_LOAD_WARMUP: every machine attests once, then the measured run waits for its line on stdin */
static int warm_up(pthread_t *th)
{
	struct tstat *st = calloc(nthreads, sizeof(*st));
	double t0 = now_ms();
	size_t n = 0, errors = 0;

	for (unsigned i = 0; i < nthreads; i++) {
		st[i].idx = i;
		st[i].once = true;
		pthread_create(&th[i], NULL, worker, &st[i]);
	}
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		n += st[i].n;
		errors += st[i].errors;
		if (st[i].errors)
			fprintf(stderr, "warm-up error example: %s\n", st[i].err);
		free(st[i].lat);
	}
	free(st);
	printf("warm: %zu attestations in %.1f s, errors %zu\n", n, (now_ms() - t0) / 1000.0, errors);
	fflush(stdout);
	if (errors)
		return -1;
	return fgets((char[8]){ 0 }, 8, stdin) ? 0 : -1;
}

int main(int argc, char **argv)
{
	pthread_t *th;
	struct tstat *st;
	const char *e;
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
	if (bad_setup() < 0)
		return 2;
	sims = calloc(nsims, sizeof(*sims));
	make_sims(argv[8]);
	printf("ready\n");
	fflush(stdout);
	if (!fgets((char[8]){ 0 }, 8, stdin))
		return 1;
	if (tls_setup() < 0)
		return 1;
	rate = (e = getenv("SERVE_LOAD_RATE")) ? strtod(e, NULL) : 0;
	probe = (e = getenv("SERVE_LOAD_PROBE")) && *e == '1';
	if (probe && probe_setup() < 0)
		return 1;
	th = calloc(nthreads, sizeof(*th));
	if ((e = getenv("SERVE_LOAD_WARMUP")) && *e == '1' && warm_up(th) < 0)
		return 1;
	st = calloc(nthreads, sizeof(*st));
	t0 = t_start = now_ms();
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
	report(st);
	printf("attestations %zu in %.1f s: %.0f/s (target 1700/s: ratio %.2f), p50 %.1f ms, p99 %.1f ms, errors %zu\n",
	       n, t0, n / t0, n / t0 / 1700.0, n ? all[n / 2] : 0.0, n ? all[n * 99 / 100] : 0.0, errors);
	/* the load shares the cores with the server: say how much it took */
	printf("load generator CPU %.1f s (%.0f%% of one core, %.2f ms per attestation)\n", c0, 100.0 * c0 / t0,
	       n ? 1e3 * c0 / (double)n : 0.0);
	return errors ? 1 : 0;
}
