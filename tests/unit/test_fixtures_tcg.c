// SPDX-License-Identifier: MIT
/*
 * Every log named in $MEASURED_FIXTURES/eventlogs/expected-pcrs.tsv is
 * replayed and compared with every row listed for it.  The values in the
 * TSV come from the fixtures' own projects or an independent replay, never
 * from this code.  The rows checked are counted, so a TSV row that goes
 * unchecked (a file that silently fails to load, a PCR missing from the
 * replay) fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "measured/error.h"
#include "measured/eventlog.h"
#include "test_data.h"

/* expected-pcrs.tsv has 227 rows: 226 of TCG logs, one of the IMA list below (lib/eventlog/ima_*.c). */
#define TSV_ROWS 227
#define IMA_FILE "measured-boot-tools/binary_runtime_measurements"

static char *fixture(const char *rel)
{
	const char *base = test_data_dir();
	char *p;

	assert_true(asprintf(&p, "%s/eventlogs/%s", base, rel) > 0);
	return p;
}

struct loaded {
	char file[256];
	struct m_log *log;
	struct m_pcrs pcrs;
};

static void load(struct loaded *l, const char *file)
{
	char *path;
	int r;

	if (l->log && strcmp(l->file, file) == 0)
		return;
	m_log_free(l->log);
	l->log = NULL;
	snprintf(l->file, sizeof(l->file), "%s", file);
	path = fixture(file);
	r = m_log_load(path, &l->log);
	if (r < 0)
		fail_msg("%s: %s", file, m_errmsg(r));
	free(path);
	r = m_log_replay(l->log, &l->pcrs);
	if (r < 0)
		fail_msg("%s: replay: %s", file, m_errmsg(r));
}

static void test_expected_pcrs(void **state)
{
	(void)state;
	char *path = fixture("expected-pcrs.tsv"), line[512];
	FILE *f = fopen(path, "r");
	struct loaded l = { .log = NULL };
	unsigned rows = 0, tcg_rows = 0, ima_rows = 0;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char file[256], bank[16], hex[2 * M_DIGEST_MAX + 2], got[2 * M_DIGEST_MAX + 1];
		unsigned pcr;
		int b;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%255s %15s %u %129s", file, bank, &pcr, hex), 4);
		rows++;
		b = m_bank_by_name(bank);
		assert_true(b >= 0);
		assert_true(pcr < M_PCR_COUNT);
		load(&l, file);
		if (strcmp(file, IMA_FILE) == 0) {
			assert_int_equal(l.log->format, M_LOG_IMA_BINARY);
			ima_rows++;
		} else {
			assert_true(l.log->format == M_LOG_TCG_AGILE || l.log->format == M_LOG_TCG_SHA1);
			tcg_rows++;
		}
		if (!(l.pcrs.present[b] & (1u << pcr)))
			fail_msg("%s: replay has no %s PCR %u", file, bank, pcr);
		m_hex(l.pcrs.v[b][pcr], m_bank_info(b)->size, got);
		if (strcmp(got, hex) != 0)
			fail_msg("%s: %s PCR %u: replay %s, expected %s", file, bank, pcr, got, hex);
	}
	fclose(f);
	free(path);
	m_log_free(l.log);
	assert_int_equal(rows, TSV_ROWS);
	assert_int_equal(tcg_rows, 226);
	assert_int_equal(ima_rows, 1);
	print_message("checked %u TCG rows and %u IMA row\n", tcg_rows, ima_rows);
}

/* go-attestation's short_no_action_eventlog: a lone StartupLocality where the Spec ID event must be. */
static void test_short_no_action_rejected(void **state)
{
	(void)state;
	char *path = fixture("go-attestation/short_no_action_eventlog");
	struct m_log *log = NULL;
	int r = m_log_load(path, &log);

	assert_int_equal(r, -EBADMSG);
	assert_null(log);
	assert_non_null(strstr(m_errmsg(r), "short_no_action_eventlog"));
	assert_non_null(strstr(m_errmsg(r), "record 0 at offset 0x0"));
	free(path);
}

/*
 * tpm2-tools' specid-vendordata.bin declares eventSize 37 for a Spec ID
 * event whose 4 vendorInfo bytes lie beyond it.  Where the next record
 * starts is then ambiguous, so we refuse it (tpm2_eventlog accepts it).
 */
static void test_vendordata_past_event_rejected(void **state)
{
	(void)state;
	char *path = fixture("tpm2-tools/specid-vendordata.bin");
	struct m_log *log = NULL;
	int r = m_log_load(path, &log);

	assert_int_equal(r, -EBADMSG);
	assert_non_null(strstr(m_errmsg(r), "vendorInfoSize 4"));
	free(path);
}

/* Facts about single fixtures, from their READMEs and tpm2-tools' YAML. */
static void test_fixture_shapes(void **state)
{
	(void)state;
	struct {
		const char *file;
		enum m_log_format fmt;
		unsigned banks;
		size_t count;
		uint8_t locality;
	} want[] = {
		{ "tpm2-tools/event.bin", M_LOG_TCG_AGILE,
		  M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256) | M_BANK_BIT(M_SHA384) | M_BANK_BIT(M_SHA512), 2, 0 },
		{ "tpm2-tools/event-uefi-sha1-log.bin", M_LOG_TCG_SHA1, M_BANK_BIT(M_SHA1), 17, 0 },
		{ "keylime/binary_bios_measurements", M_LOG_TCG_AGILE,
		  M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256), 121, 3 },
		{ "go-attestation/windows_gcp_shielded_vm.eventlog.bin", M_LOG_TCG_SHA1, M_BANK_BIT(M_SHA1), 21, 0 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *path = fixture(want[i].file);
		struct m_log *log;
		int r = m_log_load(path, &log);

		if (r < 0)
			fail_msg("%s", m_errmsg(r));
		assert_int_equal(log->format, want[i].fmt);
		assert_int_equal(log->banks, want[i].banks);
		assert_int_equal(log->count, want[i].count);
		assert_int_equal(log->startup_locality, want[i].locality);
		/* records are numbered in order and their offsets increase */
		for (size_t k = 0; k < log->count; k++) {
			assert_int_equal(log->ev[k].recnum, k);
			if (k)
				assert_true(log->ev[k].offset > log->ev[k - 1].offset);
		}
		m_log_free(log);
		free(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_pcrs),
		cmocka_unit_test(test_short_no_action_rejected),
		cmocka_unit_test(test_vendordata_past_event_rejected),
		cmocka_unit_test(test_fixture_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
