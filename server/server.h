/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_SERVER_H
#define MEASURED_SERVER_H

/*
 * measured serve: the verifier (docs/api.md, docs/server.md).  http.c runs
 * libmicrohttpd with TLS and routes requests; enroll.c and attest.c are the
 * endpoints; policy.c caches parsed manifests; slog.c writes structured
 * logs.  Request threads share one SQLite connection, or have a PostgreSQL one each.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_tpm2_types.h>
#include "measured/attest.h"
#include "measured/manifest.h"
#include "store.h"

#define SRV_BODY_MAX         (64u << 10)	/* every endpoint but /v1/attest */
#define SRV_ATTEST_BODY_MAX  (1u << 20)		/* default for /v1/attest */
#define SRV_JSON_DEPTH       16
#define SRV_CONN_MEMORY      (16u << 10)	/* a connection's request line, headers and read buffer */
#define SRV_MAX_EK_CA        16
#define SRV_ENROL_TTL        300		/* seconds to complete an activation */
#define SRV_MAX_POLICIES     M_STORE_POLICIES_MAX	/* policies per machine */

struct srv_config {
	const char *listen;		/* HOST:PORT */
	const char *tls_cert, *tls_key, *client_ca;
	const char *db;
	const char *ek_ca[SRV_MAX_EK_CA];
	size_t n_ek_ca;
	bool tofu;
	const char *approve_policy;	/* NULL: new machines wait for `admin machine approve` */
	unsigned threads;		/* 0: srv_default_threads() */
	unsigned nonce_ttl;		/* seconds */
	unsigned timeout;		/* seconds of client inactivity */
	unsigned request_deadline;	/* seconds for a connection's request, from accept or the previous one */
	unsigned max_conns;		/* connections at once */
	unsigned max_conns_per_ip;	/* from one address */
	bool allow_shared_db;		/* open a SQLite file others can read */
	bool bind_client_name;		/* a client certificate's CN must be the request's machine */
	size_t attest_body_max;
	bool quiet;			/* no per-request log lines */
	const char *dashboard_listen;	/* HOST:PORT of the dashboard (dashboard.c); NULL: none */
	const char *dashboard_client_ca;	/* the dashboard also needs client certificates under this CA */
};

struct srv_cached_policy;
struct srv_policy_head;

struct srv {
	struct srv_config cfg;
	X509_STORE *ek_store;		/* NULL: no EK CA configured */
	pthread_mutex_t lock;		/* the lists below */
	struct m_store *stores[256];	/* the request threads', closed at exit */
	size_t nstores;
	struct m_store *shared_store;	/* the one all request threads use, if shareable */
	struct srv_cached_policy *policies;
	struct srv_policy_head *heads;
	uint8_t nonce_key[M_NONCE_KEY_LEN];	/* shared by the verifiers of one database */
	uint32_t decoy_pcrs;		/* srv_decoy_selection()'s cache, under lock */
	unsigned decoy_banks;
	int64_t decoy_ms;
	double audit_t, audit_tokens;	/* the unproven requests' audit bucket (audit.c), under lock */
	unsigned long audit_dropped;
	uint8_t dash_key[32];		/* the dashboard's CSRF key, shared by the verifiers of one database */
};

/* An answer: HTTP status and a JSON body (owned). */
struct srv_reply {
	unsigned status;
	json_object *body;
	const char *reason;	/* for the log: the reason code, or NULL on success */
	char machine[M_STORE_NAME_MAX];
};

int srv_run(const struct srv_config *cfg, volatile int *stop);
/*
 * Request threads unless --threads says: SQLite writes one transaction at
 * a time, and its statements wait on no network; on PostgreSQL each thread
 * waits for its exchanges, and passes waiting at once go in one statement
 * (group.c), which takes threads to wait together.
 */
#define SRV_THREADS_SQLITE 2
#define SRV_THREADS_PG 8
unsigned srv_default_threads(const char *db);

/* the calling worker thread's store connection */
struct m_store *srv_store(struct srv *s);

/* endpoints: @req is the parsed request object */
void srv_enroll(struct srv *s, json_object *req, struct srv_reply *rep);
void srv_activate(struct srv *s, json_object *req, struct srv_reply *rep);
void srv_nonce(struct srv *s, json_object *req, struct srv_reply *rep);
void srv_attest(struct srv *s, json_object *req, struct srv_reply *rep);
/** srv_nonce_key_load() - the database's nonce key, made on first use. */
int srv_nonce_key_load(struct srv *s, struct m_store *st);

/* answers */
void srv_fail(struct srv_reply *rep, unsigned status, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void srv_ok(struct srv_reply *rep, json_object *body);

/* request fields: 0, or a bad-request answer already set in @rep */
int srv_get_name(json_object *req, const char *key, struct srv_reply *rep, char *out, size_t len);
int srv_get_b64(json_object *req, const char *key, size_t max, bool optional, struct srv_reply *rep,
		uint8_t **ret, size_t *ret_len);
json_object *srv_b64_obj(const uint8_t *d, size_t n);

/*
 * policies: the machine's policy list (all must pass), each with its named
 * manifests (any one may match: a rollout), parsed once per version
 */
#define SRV_POLICY_RECHECK_MS 1000	/* a replaced policy or manifest is in force within this */
#define SRV_MAX_MANIFESTS (SRV_MAX_POLICIES * M_STORE_MANIFESTS_MAX)
struct srv_policy_set {
	size_t n;			/* policies */
	char names[SRV_MAX_POLICIES][M_STORE_NAME_MAX];
	size_t nm;			/* manifests of them all, each policy's adjacent, oldest first */
	const struct m_manifest *m[SRV_MAX_MANIFESTS];
	const char *label[SRV_MAX_MANIFESTS];	/* kept as long as the process */
	unsigned group[SRV_MAX_MANIFESTS];	/* the policy: an index into names */
	uint32_t required[M_BANK_COUNT];	/* PCRs to quote, per bank */
	uint32_t pcrs;
	unsigned banks;
};
/** srv_policies() - -ENOENT (message names it) when a policy does not exist or the list is empty. */
int srv_policies(struct srv *s, struct m_store *st, const char *list, struct srv_policy_set *ret);
void srv_policies_free(struct srv *s);
/**
 * srv_decoy_selection() - the PCRs and banks /v1/nonce names for a name
 * that is not an approved machine: every policy's together (in a fleet of
 * one policy, what an approved machine is told), read again at most once
 * per SRV_POLICY_RECHECK_MS.
 */
#define SRV_DECOY_PCRS 0xffu	/* with no policy at all: PCRs 0-7, sha256 */
int srv_decoy_selection(struct srv *s, struct m_store *st, uint32_t *ret_pcrs, unsigned *ret_banks);

/*
 * A bounded table of values keyed by text, shared by the request threads
 * (keycache.c): at most @max entries, in as many chains.
 */
struct srv_kc_entry;
struct srv_kcache {
	pthread_mutex_t lock;
	size_t max, n;
	struct srv_kc_entry **b;	/* the chains; NULL until the first put */
	void (*free_val)(void *val);
};
#define SRV_KCACHE_INIT(max, free_val) { PTHREAD_MUTEX_INITIALIZER, (max), 0, NULL, (free_val) }
/** srv_kcache_get() - if @key is there, @copy(its value, @arg) runs with the table locked: true. */
bool srv_kcache_get(struct srv_kcache *c, const char *key, void (*copy)(const void *val, void *arg), void *arg);
/** srv_kcache_put() - @val (the table's now, freed by it) under @key, replacing what was there. */
void srv_kcache_put(struct srv_kcache *c, const char *key, void *val);
void srv_kcache_del(struct srv_kcache *c, const char *key);
void srv_kcache_clear(struct srv_kcache *c);

/* enrolled AKs as OpenSSL keys, converted once (akcache.c) */
#define SRV_AK_CACHE 131072	/* converted keys kept (a 100,000-machine fleet fits) */
/** srv_ak_key() - a reference to @ak's key (EVP_PKEY_free it), or NULL if it does not convert. */
EVP_PKEY *srv_ak_key(const char *ak_pub, const TPMT_PUBLIC *ak);
/** srv_ak_key12() - the same for a TPM 1.2 AIK (its base64 TPM_PUBKEY text and its parse). */
struct m_t12_pubkey;
EVP_PKEY *srv_ak_key12(const char *ak_pub, const struct m_t12_pubkey *aik);
void srv_ak_cache_free(void);

/* approved machines' rows as last read (machine_cache.c): never trusted alone, see there */
#define SRV_MACHINE_CACHE 131072	/* machines kept (a 100,000-machine fleet fits) */
/** srv_machine_recall() - @name's remembered row (approved), copied into @ret (m_machine_clear() it). */
bool srv_machine_recall(const char *name, struct m_machine *ret);
/** srv_machine_remember() - keep @m's row if it is approved, forget the name's otherwise. */
void srv_machine_remember(const struct m_machine *m);
void srv_machine_forget(const char *name);
/** srv_machine_same() - the fields the endpoints use (state, policy list, TPM, EK, AK, trust) are equal. */
bool srv_machine_same(const struct m_machine *a, const struct m_machine *b);
void srv_machine_cache_free(void);

/* enrolment of a TPM 1.2 (enroll12.c): srv_enroll() passes a request with "tpm":"1.2" */
void srv_enroll12(struct srv *s, struct m_store *st, json_object *req, struct srv_reply *rep);
/* attestation of a TPM 1.2 (attest12.c) */
/** srv_aik12_key() - the enrolled AIK (base64 TPM_PUBKEY) as a key (srv_ak_key12()), or NULL. */
EVP_PKEY *srv_aik12_key(const char *ak_pub);
/** srv_wrap_key12() - @k (16 bytes) in an activation blob to @m's EK for its AIK: "activation_blob" in @o. */
int srv_wrap_key12(const struct m_machine *m, const uint8_t k[16], json_object *o);
/** srv_enrol_name_check() - -1 ("ek-mismatch") when another EK or TPM family holds the name, -2 database. */
int srv_enrol_name_check(struct m_store *st, struct srv_reply *rep, const char *ek_pub, const char *tpm,
			 bool *ret_known);

/* EK certificates */
int srv_ek_store_load(struct srv *s);
/** srv_ek_trust() - "ca" (certificate verified) or "tofu" (configured) in @ret_trust; -1 with the answer set. */
int srv_ek_trust(struct srv *s, const uint8_t *cert, size_t cert_len, EVP_PKEY *ekkey, struct srv_reply *rep,
		 const char **ret_trust);
/** srv_ek_cert_check() - chain to a configured CA and certify the EK @ekkey (either family); message says why not. */
int srv_ek_cert_check(struct srv *s, const uint8_t *der, size_t len, EVP_PKEY *ekkey, char *why,
		      size_t why_len);

/*
 * Audit records (audit.c).  @proven: the request proved a TPM (a verified
 * quote, an activated credential); others are rate-limited, and what the
 * limit drops is summed up by srv_audit_flush() (main thread, every
 * SRV_AUDIT_FLUSH_S seconds).  A database failure is logged, never fatal.
 */
#define SRV_AUDIT_UNAUTH_RATE  10.0	/* records a second */
#define SRV_AUDIT_UNAUTH_BURST 60.0
#define SRV_AUDIT_FLUSH_S      30
void srv_audit(struct srv *s, struct m_store *st, bool proven, const char *machine, const char *event,
	       const char *result, const char *reason, const char *detail);
void srv_audit_flush(struct srv *s, struct m_store *st);

/*
 * The dashboard (dashboard.c): its own TLS listener on cfg.dashboard_listen,
 * started by srv_run() after the API's (the nonce key loaded: its CSRF key
 * is derived from it); srv_dash_stop() takes NULL.
 */
struct MHD_Daemon;
int srv_dash_start(struct srv *s, const char *cert, const char *key, struct MHD_Daemon **ret);
void srv_dash_stop(struct MHD_Daemon *d);
/** srv_dash_record_difference() - @rep's "first_difference" (if any) as @rep->machine's last. */
int srv_dash_record_difference(struct m_store *st, const struct srv_reply *rep);
/**
 * srv_client_verified() - the connection's client certificate verified
 * against the listener's CA and is for TLS client authentication; with
 * @ret_cn, its subject CN (whole) is copied there.
 */
struct MHD_Connection;
bool srv_client_verified(struct MHD_Connection *c, char *ret_cn, size_t cn_len);
/** srv_read_pem() - a PEM file (at most 256 KiB), NUL-terminated, malloc'd. */
int srv_read_pem(const char *path, char **ret);
/** srv_parse_listen() - IPv4 "ADDRESS:PORT" of option @opt. */
struct sockaddr_in;
int srv_parse_listen(const char *opt, const char *spec, struct sockaddr_in *sa);
extern const char srv_tls_priorities[];

/* structured log: one JSON object per line on stderr */
/* @fields (may be NULL) is consumed; an object's members are merged, anything else is kept as "message" */
void slog(const char *level, const char *event, json_object *fields);
/* a failure @err with m_errmsg()'s text, escaped (include/measured/text.h) */
void slog_error(const char *event, int err);

/*
 * group.c: @p settled with the passes other request threads settle at the
 * same time, in one statement (m_store_pass_settle_many()); its answer,
 * also in p->result.
 */
#define SRV_GROUP_MAX 32	/* passes per statement: a bound on its text (~1 KB each) and on a wait */
int srv_pass_group(struct m_store *st, struct m_store_pass *p);
/* the statements sent so far, and the passes they carried */
void srv_pass_group_stats(unsigned long *statements, unsigned long *passes);

#endif
