/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_STORE_H
#define MEASURED_STORE_H

/*
 * The verifier's storage: machines, pending enrolments, nonces, policies,
 * payloads and the audit log, behind one interface with two back ends:
 * SQLite ("sqlite:PATH", the default, WAL) and PostgreSQL
 * ("postgresql:CONNINFO", shared by several verifier processes).  The
 * schema is in docs/server.md.
 *
 * A handle is one database connection.  A PostgreSQL handle serves one
 * thread at a time (the server keeps one per worker thread); a SQLite
 * handle any number (m_store_shareable(); the server's request threads
 * share one).  Every write is committed before the function returns, or,
 * between m_store_begin() and m_store_commit(), when m_store_commit()
 * returns, so a killed server loses nothing it answered for.  Single use
 * and races are settled by the database itself (primary keys, INSERT ...
 * ON CONFLICT, DELETE ... RETURNING), so several processes may share one
 * PostgreSQL database.
 *
 * Binary values are stored base64 (text), so both back ends share one
 * schema and one set of statements.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define M_STORE_NAME_MAX     128u		/* machine, policy and payload names */
#define M_STORE_PAYLOAD_MAX  (64u << 20)	/* one payload */
#define M_STORE_MANIFEST_MAX (16u << 20)	/* one manifest (M_MANIFEST_MAX_SIZE) */
#define M_STORE_POLICIES_MAX 8u			/* policies in one machine's list */
/* a machine's comma-separated policy list: M_STORE_POLICIES_MAX names and their commas, and the NUL */
#define M_STORE_POLICY_LIST_MAX (M_STORE_POLICIES_MAX * M_STORE_NAME_MAX)

struct m_store;

enum m_machine_state {
	M_MACHINE_PENDING = 0,	/* enrolled and activated, waiting for approval */
	M_MACHINE_APPROVED = 1,
	M_MACHINE_REVOKED = 2,
};

struct m_machine {
	char name[M_STORE_NAME_MAX];
	char *ek_pub;		/* base64 TPM2B_PUBLIC (TPM 1.2: TPM_PUBKEY) */
	char *ak_pub;		/* base64 TPM2B_PUBLIC (TPM 1.2: the AIK's TPM_PUBKEY) */
	char ek_trust[16];	/* "ca", "tofu" or "admin" */
	char tpm[4];		/* TPM family: "2.0" or "1.2" ("" is written as "2.0") */
	int state;		/* enum m_machine_state */
	char policy[M_STORE_POLICY_LIST_MAX];	/* comma-separated policy names; "" none */
	int64_t enrolled_at;
	bool have_clock;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	char last_result[8];	/* "pass", "fail" or "" */
	char last_reason[40];
	int64_t last_at;
};

void m_machine_clear(struct m_machine *m);

struct m_enrolment {
	char id[65];
	char machine[M_STORE_NAME_MAX];
	char *ek_pub, *ak_pub;	/* TPM 2.0: TPM2B_PUBLIC; TPM 1.2: TPM_PUBKEY (base64) */
	char ek_trust[16];
	char tpm[4];		/* "2.0" or "1.2" ("" is written as "2.0") */
	char secret_hash[65];	/* hex SHA-256 of the expected secret: never the secret */
	int64_t expires;
};

void m_enrolment_clear(struct m_enrolment *e);

struct m_policy {
	char name[M_STORE_NAME_MAX];
	char *manifest;		/* JSON text (docs/manifest.md) */
	uint32_t pcrs;		/* PCRs that must be quoted */
	unsigned banks;		/* in these banks (enum m_bank mask) */
	int64_t version;	/* changes whenever the policy is replaced */
	const char *label;	/* m_store_policy_put(): its manifest's label (NULL: "default") */
};

void m_policy_clear(struct m_policy *p);

struct m_audit {
	int64_t id, at;
	const char *machine, *event, *result, *reason, *detail;
};

/**
 * m_store_open() - "sqlite:PATH" or "postgresql:CONNINFO"; creates the
 * schema if missing.  A SQLite file is created 0600, and one that others
 * may read or write is refused (-EACCES) unless m_store_open_flags() is
 * given M_STORE_OPEN_SHARED_FILE.
 */
int m_store_open(const char *url, struct m_store **ret);
#define M_STORE_OPEN_SHARED_FILE 1u
int m_store_open_flags(const char *url, unsigned flags, struct m_store **ret);
void m_store_close(struct m_store *s);
/** m_store_kind() - "sqlite" or "postgresql". */
const char *m_store_kind(const struct m_store *s);
/** m_store_url_kind() - the kind m_store_open() makes of @url: "sqlite", "postgresql", or NULL. */
const char *m_store_url_kind(const char *url);
/**
 * m_store_shareable() - may threads use this handle at once?  SQLite: yes
 * (statements take turns; a transaction holds the handle from begin to
 * commit), and one shared handle keeps its page cache where a handle per
 * thread loses it to the others' writes.  PostgreSQL: no.
 */
bool m_store_shareable(const struct m_store *s);

/**
 * m_store_begin() - the statements until m_store_commit() are one
 * transaction: committed together, or (m_store_rollback(), or a failed
 * commit) not at all.  Not nested.  On SQLite it holds the write lock
 * throughout: keep it short, with no computation inside.
 */
int m_store_begin(struct m_store *s);
int m_store_commit(struct m_store *s);
void m_store_rollback(struct m_store *s);

/**
 * m_store_defer_checkpoints() - SQLite: this handle's commits leave copying
 * the WAL back into the database (and its fsyncs) to m_store_checkpoint(),
 * which the caller runs from a thread that answers no one.  PostgreSQL:
 * nothing to do.
 */
void m_store_defer_checkpoints(struct m_store *s);
/** m_store_checkpoint() - SQLite: a passive checkpoint if the WAL has grown enough; PostgreSQL: nothing. */
int m_store_checkpoint(struct m_store *s);

/* enrolment */
int m_store_enrolment_add(struct m_store *s, const struct m_enrolment *e);
/** m_store_enrolment_take() - remove and return a pending enrolment (once); -ENOENT if none. */
int m_store_enrolment_take(struct m_store *s, const char *id, struct m_enrolment *ret);

/* machines */
/** m_store_machine_get() - -ENOENT when unknown. */
int m_store_machine_get(struct m_store *s, const char *name, struct m_machine *ret);
/**
 * m_store_machine_enrol() - record an activated machine.  A new name is
 * inserted (state @state); an existing one keeps its state and policy and
 * only takes the new AK when its EK is the same: -EEXIST when another EK
 * holds the name (settled by the primary key, so two racing enrolments
 * cannot both win).
 */
int m_store_machine_enrol(struct m_store *s, const struct m_machine *m);
/**
 * m_store_name_ok() - a machine, policy or payload name: 1 to
 * M_STORE_NAME_MAX - 1 characters of [A-Za-z0-9._-] (@n bytes, so an
 * embedded NUL fails).  The server and `measured admin` take no other.
 */
bool m_store_name_ok(const char *s, size_t n);
/**
 * m_store_policy_list_check() - -E2BIG (message says why) for a policy list
 * longer than M_STORE_POLICY_LIST_MAX - 1 characters or with more than
 * M_STORE_POLICIES_MAX names: refused when written, so none is ever cut.
 */
int m_store_policy_list_check(const char *list);
/*
 * PCRs any software on the machine can extend at will: 16 (debug) and 23
 * (application) are resettable, and no boot component measures into 15.
 */
#define M_STORE_SOFTWARE_PCRS ((1u << 15) | (1u << 16) | (1u << 23))
/** m_store_policy_weak() - true when @pcrs holds no PCR outside M_STORE_SOFTWARE_PCRS. */
bool m_store_policy_weak(uint32_t pcrs);
/** m_store_machine_set() - change state (-1: keep) and policy (NULL: keep); -ENOENT if unknown. */
int m_store_machine_set(struct m_store *s, const char *name, int state, const char *policy);
/**
 * m_store_machine_attested() - record a quote's clock and the attestation's
 * result for the machine @seen (its name, AK and policy list as the
 * caller's checks read them), if the clock does not go backwards,
 * lexicographically (resetCount, restartCount, clock); -ERANGE (and no
 * change) when it does; -EPERM (no change) when the machine is no longer
 * approved (revoked since it was read); -ESTALE (no change) when it is
 * approved with another AK or policy list than @seen's (re-enrolled or
 * given other policies since it was read: check again with the row as it
 * is).  One statement, so concurrent quotes cannot both pass with one
 * older, and no result is recorded after a revocation committed.
 */
int m_store_machine_attested(struct m_store *s, const struct m_machine *seen, uint64_t clock, uint32_t reset,
			     uint32_t restart, const char *result, const char *reason, int64_t at);
/**
 * m_store_machine_result() - record an attestation's result without a
 * clock: a TPM 1.2 quote carries none (docs/api.md).  Only while the
 * machine is approved as @seen: -EPERM if it is not (any more), -ESTALE
 * as m_store_machine_attested(), -ENOENT if unknown.
 */
int m_store_machine_result(struct m_store *s, const struct m_machine *seen, const char *result, const char *reason,
			   int64_t at);
int m_store_machine_list(struct m_store *s, int (*cb)(const struct m_machine *m, void *arg), void *arg);

/* nonces */
/**
 * m_store_nonce_use() - record the single use of a nonce (m_nonce_check()
 * vouches for the rest): 0 the first time, -EALREADY every other time,
 * atomically, across all the processes sharing the database.  The record
 * is kept until @expires is past (m_store_expire()).
 */
int m_store_nonce_use(struct m_store *s, const char *nonce_hex, const char *machine, int64_t expires);
/**
 * m_store_nonce_use_attested() - in the open transaction, m_store_nonce_use()
 * and, when the nonce was fresh, m_store_machine_attested() for @seen:
 * -EALREADY (neither done) for a used nonce, else what
 * m_store_machine_attested() returns (the nonce used up either way).  On
 * PostgreSQL one statement: one exchange fewer per attestation.
 */
int m_store_nonce_use_attested(struct m_store *s, const char *nonce_hex, int64_t expires, const struct m_machine *seen,
			       uint64_t clock, uint32_t reset, uint32_t restart, const char *result, const char *reason,
			       int64_t at);
/**
 * struct m_store_pass - what a passing TPM 2.0 attestation writes: the
 * nonce's use (@nonce_hex, @expires), the machine's clock and result (as
 * m_store_nonce_use_attested() with result "pass", guarded by @seen), the
 * manifests it @matched and the audit record ("attest", "pass", "",
 * @detail); its answer in @result.
 */
struct m_store_pass {
	const char *nonce_hex;
	int64_t expires;
	const struct m_machine *seen;
	uint64_t clock;
	uint32_t reset, restart;
	const char *matched, *detail;
	int64_t at;
	int result;
};
/**
 * m_store_pass_settle_many() - @n passes of distinct machines settled at
 * once, outside any transaction: on PostgreSQL one statement, one
 * exchange.  Each @result: 0, all written; -EALREADY, the nonce was used,
 * nothing written; -EAGAIN, not settled here, nothing written (some row of
 * the statement refused its result, as the machine's row holds something
 * else; this pass's values are out of range; or the store is SQLite, where
 * this saves no exchange): the caller settles it the long way, which finds
 * and names what stood in the way.  A negative return: the database's
 * error, in each @result too (the statement may have committed if its
 * answer was lost).
 */
int m_store_pass_settle_many(struct m_store *s, struct m_store_pass *const *p, size_t n);
/** m_store_expire() - drop used nonces and pending enrolments that expired before @before. */
int m_store_expire(struct m_store *s, int64_t before);

/**
 * m_store_secret() - the value stored under @name, or, if there is none
 * yet, @candidate stored and returned: processes sharing a database
 * agree on one (the nonce key).  @ret (malloc'd) is what the database holds.
 */
int m_store_secret(struct m_store *s, const char *name, const char *candidate, char **ret);

/* policies and payloads */
int m_store_policy_put(struct m_store *s, const struct m_policy *p);
int m_store_policy_get(struct m_store *s, const char *name, struct m_policy *ret);
/** m_store_policy_head() - the policy without its manifest (for caches keyed by version). */
int m_store_policy_head(struct m_store *s, const char *name, struct m_policy *ret);
int m_store_policy_list(struct m_store *s, int (*cb)(const struct m_policy *p, void *arg), void *arg);
int m_store_payload_put(struct m_store *s, const char *name, const char *policy, const uint8_t *data,
			size_t len);
/** m_store_payload_get() - the payload and the policy it is bound to; -ENOENT if unknown. */
int m_store_payload_get(struct m_store *s, const char *name, char *ret_policy, size_t policy_len,
			uint8_t **ret_data, size_t *ret_len);

/*
 * A payload's install metadata (server/store/payload_meta.c, docs/api.md):
 * what the agent installs it as, on which disk by default, and its digest.
 */
#define M_STORE_TARGET_MAX 256u		/* a target path, with its NUL */
struct m_payload_meta {
	char kind[16];				/* "disk-image" */
	char target[M_STORE_TARGET_MAX];	/* "": the machine names its disk */
	char digest[8 + 64];			/* "sha256:" and 64 lowercase hex */
};
/** m_store_payload_meta_put() - set, or with @m NULL remove, the metadata of payload @name. */
int m_store_payload_meta_put(struct m_store *s, const char *name, const struct m_payload_meta *m);
/** m_store_payload_meta_get() - -ENOENT when the payload has none. */
int m_store_payload_meta_get(struct m_store *s, const char *name, struct m_payload_meta *ret);

/* audit log: every text field is stored escaped (m_text_escape()) */
int m_store_audit(struct m_store *s, const char *machine, const char *event, const char *result,
		  const char *reason, const char *detail);
/**
 * m_store_audit_commit() - m_store_audit() as the last statement of the open
 * transaction, then its commit (on PostgreSQL both in one exchange); on
 * failure the transaction is rolled back, nothing of it committed.
 */
int m_store_audit_commit(struct m_store *s, const char *machine, const char *event, const char *result,
			 const char *reason, const char *detail);
/** m_store_audit_list() - oldest first; @machine NULL for all; at most @limit (0: all). */
int m_store_audit_list(struct m_store *s, const char *machine, size_t limit,
		       int (*cb)(const struct m_audit *a, void *arg), void *arg);

/*
 * A policy's named manifests (rollouts; store_manifests.c): a machine
 * passes a policy when its evidence matches any one of them.  A policy
 * that never had one added has one, labelled "default" (`policy add`).
 */
#define M_STORE_MANIFESTS_MAX 8u		/* named manifests in one policy */
#define M_STORE_DEFAULT_LABEL "default"
/* what a machine matched: "POLICY:LABEL[,POLICY:LABEL...]", one per policy of its list */
#define M_STORE_MATCHED_MAX (M_STORE_POLICIES_MAX * 2 * M_STORE_NAME_MAX)

struct m_policy_manifest {
	char label[M_STORE_NAME_MAX];
	const char *manifest;	/* JSON text; "" when not asked for */
	int64_t added_at;	/* seconds since the epoch; 0 for a policy add's */
};

/**
 * m_store_policy_manifest_add() - one more manifest for @policy under
 * @label (m_store_name_ok()): -ENOENT no such policy, -EEXIST the label is
 * taken, -E2BIG the policy has M_STORE_MANIFESTS_MAX; a new version.
 */
int m_store_policy_manifest_add(struct m_store *s, const char *policy, const char *label, const char *manifest);
/**
 * m_store_policy_manifest_retire() - drop @label from @policy: -ENOENT no
 * such policy or label, -EBUSY it is the policy's last manifest.
 */
int m_store_policy_manifest_retire(struct m_store *s, const char *policy, const char *label);
/** m_store_policy_manifests() - @policy's manifests, oldest first (with their text if @with_text). */
int m_store_policy_manifests(struct m_store *s, const char *policy, bool with_text,
			     int (*cb)(const struct m_policy_manifest *pm, void *arg), void *arg);
/**
 * m_store_machine_matched() - record what @machine's last attestation matched
 * ("" for a failure); @at is when that list was first recorded: the same
 * list again leaves the row as it is.
 */
int m_store_machine_matched(struct m_store *s, const char *machine, const char *matched, int64_t at);
int m_store_machine_matched_list(struct m_store *s, int (*cb)(const char *machine, const char *matched, void *arg),
				 void *arg);

#endif
