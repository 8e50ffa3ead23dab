/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_STORE_DASH_H
#define MEASURED_STORE_DASH_H

/*
 * What the operators' dashboard reads and keeps (server/dashboard.c,
 * docs/server.md "Dashboard"): its access tokens (only their SHA-256 is
 * stored), a page of machines with failures first, the fleet's counts,
 * the audit log a page at a time, and each machine's last first
 * difference (the verifier's answer to a failed attestation).  Every
 * query here has an index (store_dash.c's schema).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define M_DASH_PAGE_MAX      500u	/* rows in one page */
#define M_DASH_DIFF_MAX      (64u << 10)	/* a stored first difference (JSON text) */
#define M_DASH_HASH_HEX      65u	/* SHA-256 in lowercase hex, with its NUL */

enum m_dash_role { M_DASH_READ = 0, M_DASH_WRITE = 1 };

/** m_store_dash_schema() - the dashboard's tables and indexes (called by m_store_open()). */
int m_store_dash_schema(struct m_store *s, bool pg);

/** m_store_dash_token_add() - -EEXIST when @name is taken. */
int m_store_dash_token_add(struct m_store *s, const char *name, const char *hash_hex, int role);
/** m_store_dash_token_remove() - -ENOENT when there is no such token. */
int m_store_dash_token_remove(struct m_store *s, const char *name);
/** m_store_dash_token_find() - the token whose hash is @hash_hex: its name and role; -ENOENT if none. */
int m_store_dash_token_find(struct m_store *s, const char *hash_hex, char *ret_name, size_t name_len,
			    int *ret_role);
int m_store_dash_token_list(struct m_store *s,
			    int (*cb)(const char *name, int role, int64_t created, void *arg), void *arg);

/* a machine as the dashboard lists it (no keys) */
struct m_dash_machine {
	const char *name, *policy, *tpm, *last_result, *last_reason;
	int state;
	int64_t enrolled_at, last_at;
};

/** m_store_dash_counts() - one callback per (state, last result) with its number of machines. */
int m_store_dash_counts(struct m_store *s, int (*cb)(int state, const char *result, int64_t n, void *arg),
			void *arg);
/**
 * m_store_dash_machines() - machines whose name contains @filter (NULL or
 * "": all; [A-Za-z0-9._-] only, else -EINVAL; case matters, as in
 * names), failures first, then by
 * name; @limit (1 to M_DASH_PAGE_MAX) from @offset; @ret_total the
 * number that match (NULL: not counted, when there is no filter).
 */
int m_store_dash_machines(struct m_store *s, const char *filter, int64_t offset, int64_t limit,
			  int (*cb)(const struct m_dash_machine *m, void *arg), void *arg, int64_t *ret_total);
/**
 * m_store_dash_audit() - audit records, newest first, with id below
 * @before (0: from the newest), at most @limit (1 to M_DASH_PAGE_MAX),
 * of @machine and/or with @result ("pass" or "fail") when given.
 */
int m_store_dash_audit(struct m_store *s, const char *machine, const char *result, int64_t before, int64_t limit,
		       int (*cb)(const struct m_audit *a, void *arg), void *arg);
/** m_store_dash_difference_put() - @machine's last first difference (JSON text, at most M_DASH_DIFF_MAX). */
int m_store_dash_difference_put(struct m_store *s, const char *machine, const char *json, int64_t at);
/** m_store_dash_difference_get() - the JSON text (malloc'd) and when; -ENOENT if none. */
int m_store_dash_difference_get(struct m_store *s, const char *machine, char **ret_json, int64_t *ret_at);

#endif
