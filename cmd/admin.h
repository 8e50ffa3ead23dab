/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CMD_ADMIN_H
#define MEASURED_CMD_ADMIN_H

/* `measured admin`'s rollout commands (cmd/admin_rollout.c), called from cmd/cmd_admin.c. */

#include <stdbool.h>
#include "measured/manifest.h"
#include "store.h"

/** admin_policy_manifest() - `policy manifest add|retire|list ...`; @argv[0] is "manifest". */
int admin_policy_manifest(struct m_store *st, int argc, char **argv);
/**
 * admin_manifest_fits() - 0 if manifest @m (read from @file) predicts no PCR
 * policy @pol leaves unquoted (such a PCR is never covered: every
 * attestation would fail) and shares a bank with it; else an exit code,
 * the message naming both and ending with @hint.
 */
int admin_manifest_fits(const struct m_manifest *m, const char *file, const struct m_policy *pol,
			const char *hint);
/** admin_policy_list() - `policy list [--json]`, each policy with its manifests' labels. */
int admin_policy_list(struct m_store *st, bool json);

/* what each machine's last attestation matched, read before listing the machines */
struct admin_matches;
int admin_matches_load(struct m_store *st, struct admin_matches **ret);
/** admin_matches_get() - "POLICY:LABEL,..." or "" (none recorded, or a failure). */
const char *admin_matches_get(const struct admin_matches *m, const char *machine);
void admin_matches_free(struct admin_matches *m);

/** admin_dashboard_token() - `dashboard-token add|list|remove ...` (cmd/admin_dashboard.c); @argv[0] is "dashboard-token". */
int admin_dashboard_token(struct m_store *st, int argc, char **argv);

#endif
