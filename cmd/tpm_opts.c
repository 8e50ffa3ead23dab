// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "tpm_opts.h"

int tpm_connect(const char *opt, struct m_tpm **ret)
{
	const char *tcti = tcti_choose(opt);
	int r;

	/*
	 * tpm2-tss logs its own errors to stderr by default; our message
	 * already says what failed, with the decoded response code.  A user
	 * who wants tpm2-tss's trace sets TSS2_LOG, which wins.
	 */
	setenv("TSS2_LOG", "all+none", 0);
	r = m_tpm_open(tcti, ret);
	if (r < 0)
		return fail(tpm_exit_code(r), r, NULL);
	return 0;
}

int tpm_connect_banks(const char *opt, struct m_tpm **ret, unsigned *ret_allocated)
{
	int rc = tpm_connect(opt, ret), r;

	if (rc)
		return rc;
	r = m_tpm_banks(*ret, ret_allocated);
	if (r < 0)
		return fail(tpm_exit_code(r), r, NULL);
	return 0;
}

int tpm_exit_code(int err)
{
	return err == -ENOMEM ? EXIT_INTERNAL : EXIT_TPM;
}

int tpm12_secret_arg(const char *sub, const char *opt, const char *hex, uint8_t out[20])
{
	if (strlen(hex) != 40 || m_unhex(hex, out, 20) < 0)
		return usage_error(sub, "%s takes 40 hex digits (a 20-byte secret)", opt);
	return 0;
}
