// SPDX-License-Identifier: MIT
/*
 * measured eventlog verify [-T TCTI] [--json] FILE...
 *
 * Replays the logs in order onto one set of PCRs (firmware log, then CEL,
 * then IMA, as they extended one TPM), reads the TPM's PCRs in the banks
 * the logs carry, and compares.  For a PCR that differs it says what can be
 * known: when the TPM holds the value of a prefix of the log's records for
 * that PCR, the records after it never reached the TPM; when no prefix
 * matches, either a record's digest was changed or something extended the
 * PCR without logging it, and a log cannot tell which.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "eventlog_verify.h"
#include "tpm_opts.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "measured/pcrs.h"
#include "measured/tpm.h"

#define DETAIL_MAX 2048	/* two record positions of at most 512 bytes, and the words */

/* The position of one record, for messages. */
struct where {
	const struct m_log *log;
	const struct m_event *ev;
};

struct analysis {
	size_t records;		/* records extending this PCR in this bank */
	size_t reflected;	/* how many of them the TPM value reflects */
	bool prefix_match;	/* the TPM equals the value after `reflected` records */
	struct where first, last, last_reflected, first_missing;
};

static void help(void)
{
	fputs("Usage: measured eventlog verify [-T TCTI] [--json] FILE...\n\n"
	      "Replay the event logs FILE... in order (as they extended one TPM: firmware\n"
	      "log first, then CEL or IMA) and compare every PCR they extend, in every bank\n"
	      "they carry, with the TPM's value.  Prints 'BANK PCR match' or\n"
	      "'BANK PCR MISMATCH' followed by the TPM's and the log's values and what\n"
	      "can be told about the difference.\n\n"
	      "Exit status: 0 all match, 1 a mismatch, 3 an unreadable or bad log, or logs\n"
	      "that extend no PCR (nothing verified is not a pass), 4 a TPM error.\n\n"
	      TPM_OPTS_HELP
	      "  -j, --json        one JSON object: {\"result\",\"pcrs\":[...]}\n"
	      "  -h, --help        this text\n", stdout);
}

static void where_str(const struct where *w, char *buf, size_t len)
{
	if (w->ev->line)
		snprintf(buf, len, "record %u (%s, line %u)", w->ev->recnum, w->log->name, w->ev->line);
	else
		snprintf(buf, len, "record %u (%s, offset %llu)", w->ev->recnum, w->log->name,
			 (unsigned long long)w->ev->offset);
}

/*
 * Replay PCR @pcr of bank @b record by record, as m_log_replay_into() does,
 * and find the prefix whose value the TPM holds, if any.
 */
static int analyse(struct m_log *const *logs, size_t nlogs, enum m_bank b, unsigned pcr, const uint8_t *tpm,
		   struct analysis *a)
{
	size_t n = m_bank_info(b)->size;
	uint8_t v[M_DIGEST_MAX];
	bool started = false;

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < nlogs; i++) {
		for (size_t j = 0; j < logs[i]->count; j++) {
			const struct m_event *e = &logs[i]->ev[j];
			struct where w = { logs[i], e };
			int r;

			if (!e->extends || e->pcr != pcr || !(e->banks & M_BANK_BIT(b)))
				continue;
			if (!started) {
				m_pcr_initial(b, pcr, logs[i]->startup_locality, v);
				started = true;
				a->first = w;
				a->prefix_match = memcmp(v, tpm, n) == 0;
			}
			if (a->prefix_match && a->reflected == a->records)
				a->first_missing = w;
			r = m_extend(b, v, e->digest[b]);
			if (r < 0)
				return r;
			a->records++;
			a->last = w;
			if (memcmp(v, tpm, n) == 0) {
				a->prefix_match = true;
				a->reflected = a->records;
				a->last_reflected = w;
			}
		}
	}
	return 0;
}

static void explain(const struct analysis *a, enum m_bank b, unsigned pcr, char *buf, size_t len)
{
	char w1[512], w2[512];

	if (a->prefix_match && a->reflected > 0) {
		where_str(&a->last_reflected, w1, sizeof(w1));
		where_str(&a->first_missing, w2, sizeof(w2));
		snprintf(buf, len,
			 "PCR %u (%s): the TPM matches the log up to %s (%zu of its %zu records for this PCR); "
			 "the %zu record(s) from %s on are not reflected in the TPM",
			 pcr, m_bank_info(b)->name, w1, a->reflected, a->records, a->records - a->reflected, w2);
	} else if (a->prefix_match) {
		where_str(&a->first, w1, sizeof(w1));
		snprintf(buf, len,
			 "PCR %u (%s): the TPM holds the PCR's initial value; none of the log's %zu records for it "
			 "is reflected, the first is %s",
			 pcr, m_bank_info(b)->name, a->records, w1);
	} else {
		where_str(&a->first, w1, sizeof(w1));
		where_str(&a->last, w2, sizeof(w2));
		snprintf(buf, len,
			 "PCR %u (%s): no prefix of the log matches the TPM: a record's digest differs from what "
			 "was extended, or the PCR was extended by something not in the log, and the log cannot "
			 "tell which record; its %zu records for this PCR run from %s to %s",
			 pcr, m_bank_info(b)->name, a->records, w1, w2);
	}
}

static json_object *where_json(const struct where *w)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_object_new_string(w->log->name));
	json_object_object_add(o, "record", json_object_new_int64(w->ev->recnum));
	if (w->ev->line)
		json_object_object_add(o, "line", json_object_new_int64(w->ev->line));
	else
		json_object_object_add(o, "offset", json_object_new_int64((int64_t)w->ev->offset));
	return o;
}

struct ctx {
	struct m_log **logs;
	size_t nlogs;
	struct m_pcrs *replay, *tpm;
	unsigned allocated;
	bool json;
	json_object *jpcrs;
	unsigned mismatches, compared;
};

/* Compare one bank/PCR, print the result; <0 only on an internal error. */
static int verify_one(struct ctx *c, enum m_bank b, unsigned pcr)
{
	size_t n = m_bank_info(b)->size;
	char hlog[2 * M_DIGEST_MAX + 1], htpm[2 * M_DIGEST_MAX + 1], detail[DETAIL_MAX];
	const char *status;
	bool have = c->allocated & M_BANK_BIT(b);
	struct analysis a = { 0 };
	json_object *o;
	int r;

	c->compared++;
	m_hex(c->replay->v[b][pcr], n, hlog);
	detail[0] = '\0';
	if (!have) {
		/* the log says this bank was extended; this TPM cannot confirm it */
		status = "MISMATCH";
		snprintf(detail, sizeof(detail), "PCR %u (%s): the TPM has no %s bank", pcr, m_bank_info(b)->name,
			 m_bank_info(b)->name);
	} else if (memcmp(c->replay->v[b][pcr], c->tpm->v[b][pcr], n) == 0) {
		status = "match";
	} else {
		status = "MISMATCH";
		r = analyse(c->logs, c->nlogs, b, pcr, c->tpm->v[b][pcr], &a);
		if (r < 0)
			return r;
		explain(&a, b, pcr, detail, sizeof(detail));
	}
	if (have)
		m_hex(c->tpm->v[b][pcr], n, htpm);
	if (*status == 'M')
		c->mismatches++;

	if (!c->json) {
		printf("%s %u %s\n", m_bank_info(b)->name, pcr, status);
		if (*status == 'M') {
			if (have)
				printf("  tpm %s\n", htpm);
			printf("  log %s\n  %s\n", hlog, detail);
		}
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "bank", json_object_new_string(m_bank_info(b)->name));
	json_object_object_add(o, "pcr", json_object_new_int(pcr));
	json_object_object_add(o, "status", json_object_new_string(*status == 'M' ? "mismatch" : "match"));
	json_object_object_add(o, "log", json_object_new_string(hlog));
	json_object_object_add(o, "tpm", have ? json_object_new_string(htpm) : NULL);
	if (*status == 'M') {
		json_object_object_add(o, "detail", json_object_new_string(detail));
		if (have) {
			json_object_object_add(o, "records", json_object_new_int64((int64_t)a.records));
			json_object_object_add(o, "reflected",
					       a.prefix_match ? json_object_new_int64((int64_t)a.reflected) : NULL);
			if (a.prefix_match && a.reflected < a.records)
				json_object_object_add(o, "first_missing", where_json(&a.first_missing));
		}
	}
	json_object_array_add(c->jpcrs, o);
	return 0;
}

/* Options: -T, --json; the files start at *@ret_first. */
static int verify_options(int argc, char **argv, const char **ret_tcti, struct ctx *c, bool *ret_done)
{
	static const struct option opts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "T:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			*ret_tcti = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'h':
			help();
			*ret_done = true;
			return EXIT_OK;
		default:
			return usage_error("eventlog verify", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("eventlog verify", "no FILE given");
	return EXIT_OK;
}

/* Inputs: every log, replayed in order into c->replay; the banks and PCRs
 * they extend. */
static int verify_load(struct ctx *c, char **files, unsigned *ret_banks, uint32_t *ret_pcrs)
{
	unsigned banks = 0;
	uint32_t pcrs = 0;
	int r;

	c->logs = calloc(c->nlogs, sizeof(*c->logs));
	c->replay = calloc(1, sizeof(*c->replay));
	c->tpm = calloc(1, sizeof(*c->tpm));
	if (!c->logs || !c->replay || !c->tpm)
		return fail(EXIT_INTERNAL, -ENOMEM, NULL);
	for (size_t i = 0; i < c->nlogs; i++) {
		r = m_log_load(files[i], &c->logs[i]);
		if (r == 0)
			r = m_log_replay_into(c->logs[i], c->replay);
		if (r < 0)
			return fail(exit_from_errno(r), r, NULL);
	}
	for (enum m_bank b = 0; b < M_BANK_COUNT; b++) {
		if (c->replay->present[b])
			banks |= M_BANK_BIT(b);
		pcrs |= c->replay->present[b];
	}
	if (!banks)
		return fail(EXIT_INPUT, m_err(-ENODATA, "no record extends a PCR"), "%s%s", files[0],
			    c->nlogs > 1 ? " ..." : "");
	*ret_banks = banks;
	*ret_pcrs = pcrs;
	return EXIT_OK;
}

/* Output: the JSON summary (the text lines came from verify_one()), and
 * the verdict. */
static int verify_output(struct ctx *c)
{
	if (c->json) {
		json_object *top = json_object_new_object();

		json_object_object_add(top, "result", json_object_new_string(c->mismatches ? "mismatch" : "match"));
		json_object_object_add(top, "compared", json_object_new_int(c->compared));
		json_object_object_add(top, "mismatches", json_object_new_int(c->mismatches));
		json_object_object_add(top, "pcrs", c->jpcrs);
		c->jpcrs = NULL;
		puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	}
	if (fflush(stdout) != 0)
		return fail(EXIT_INPUT, -errno, "writing output");
	if (c->mismatches) {
		fprintf(stderr, "measured eventlog verify: %u of %u PCR values differ from the logs\n", c->mismatches,
			c->compared);
		return EXIT_MISMATCH;
	}
	return EXIT_OK;
}

int cmd_eventlog_verify(int argc, char **argv)
{
	struct ctx c = { 0 };
	const char *tcti = NULL;
	struct m_tpm *tpm = NULL;
	unsigned log_banks = 0;
	uint32_t pcrs = 0;
	bool done = false;
	int r = 0, rc;

	rc = verify_options(argc, argv, &tcti, &c, &done);
	if (rc || done)
		return rc;
	c.nlogs = (size_t)(argc - optind);
	if ((rc = verify_load(&c, argv + optind, &log_banks, &pcrs)) != EXIT_OK)
		goto out;
	/* the live values of what the logs extend */
	rc = tpm_connect_banks(tcti, &tpm, &c.allocated);
	if (rc)
		goto out;
	if (log_banks & c.allocated)
		r = m_tpm_pcr_read(tpm, log_banks & c.allocated, pcrs, c.tpm);
	if (r < 0) {
		rc = fail(tpm_exit_code(r), r, NULL);
		goto out;
	}
	/* run: each PCR of each bank against the replay */
	if (c.json)
		c.jpcrs = json_object_new_array();
	for_each_bank(b, log_banks)
		for (unsigned p = 0; p < M_PCR_COUNT; p++)
			if ((c.replay->present[b] & (1u << p)) && (r = verify_one(&c, b, p)) < 0) {
				rc = fail(EXIT_INTERNAL, r, NULL);
				goto out;
			}
	rc = verify_output(&c);
out:
	json_object_put(c.jpcrs);
	m_tpm_close(tpm);
	for (size_t i = 0; c.logs && i < c.nlogs; i++)
		m_log_free(c.logs[i]);
	free(c.logs);
	free(c.replay);
	free(c.tpm);
	return rc;
}
