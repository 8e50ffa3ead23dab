// SPDX-License-Identifier: MIT
/*
 * A libmeasured consumer built only from the installed headers, library and
 * pkg-config file (tests/integration/install_pkgconfig.sh).  Including every
 * public header checks that each compiles with `pkg-config --cflags
 * measured` alone.  Prints "BANK HEX" for each bank over argv[1]'s bytes.
 */
#include <stdio.h>
#include <string.h>
#include <measured/attest.h>
#include <measured/buf.h>
#include <measured/cel.h>
#include <measured/credential.h>
#include <measured/digest.h>
#include <measured/error.h>
#include <measured/eventlog.h>
#include <measured/file.h>
#include <measured/initramfs.h>
#include <measured/manifest.h>
#include <measured/pcrs.h>
#include <measured/pe.h>
#include <measured/predict.h>
#include <measured/tboot.h>
#include <measured/tpm.h>

int main(int argc, char **argv)
{
	unsigned banks;
	struct m_digests d;
	char hex[2 * M_DIGEST_MAX + 1];
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: consumer BANKS STRING\n");
		return 2;
	}
	r = m_bank_list_parse(argv[1], &banks);
	if (r == 0)
		r = m_digest_buf(banks, argv[2], strlen(argv[2]), &d);
	if (r < 0) {
		fprintf(stderr, "consumer: %s\n", m_errmsg(r));
		return 1;
	}
	for_each_bank(b, banks) {
		m_hex(d.d[b], m_bank_info(b)->size, hex);
		printf("%s %s\n", m_bank_info(b)->name, hex);
	}
	return 0;
}
