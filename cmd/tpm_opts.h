/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CMD_TPM_OPTS_H
#define MEASURED_CMD_TPM_OPTS_H

/* What the subcommands that talk to a TPM share: opening it, exit codes. */

#include "measured/tpm.h"

/* the -T/--tcti line of every such command's --help */
#define TPM_OPTS_HELP \
	"  -T, --tcti TCTI   the TPM, in tctildr syntax (default $MEASURED_TCTI,\n" \
	"                    else " "device:/dev/tpmrm0" ")\n"

/**
 * tpm_connect() - open the TPM chosen by -T (@opt, may be NULL),
 * $MEASURED_TCTI or the default.  On failure prints the reason (naming the
 * TCTI) and returns the exit code; 0 on success.
 */
int tpm_connect(const char *opt, struct m_tpm **ret);

/**
 * tpm_connect_banks() - tpm_connect() and ask which banks the TPM has
 * allocated.  Prints the reason and returns the exit code on failure
 * (*@ret is then NULL or still to be closed by the caller: always call
 * m_tpm_close()); 0 on success.
 */
int tpm_connect_banks(const char *opt, struct m_tpm **ret, unsigned *ret_allocated);

/* TPM 1.2 secrets: 40 hex digits; the default is the TSS well-known secret (20 zero bytes). */
#define TPM12_SECRETS_HELP \
	"      --srk-secret HEX   TPM 1.2: the SRK's 20-byte secret (default 20 zero bytes)\n" \
	"      --aik-secret HEX   TPM 1.2: the AIK's 20-byte secret (default 20 zero bytes)\n"
/** tpm12_secret_arg() - 40 hex digits into @out; usage message and EXIT_USAGE on error, else 0. */
int tpm12_secret_arg(const char *sub, const char *opt, const char *hex, uint8_t out[20]);

/** tpm_exit_code() - exit code for an error from an m_tpm_*() call. */
int tpm_exit_code(int err);

#endif
