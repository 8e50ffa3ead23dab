// SPDX-License-Identifier: MIT
/*
 * measured eventlog show [--json] FILE
 * measured eventlog replay [--json] [--bank LIST] FILE...
 * measured eventlog verify ...   (cmd/eventlog_verify.c)
 *
 * Reads any log m_log_load() detects (TCG firmware logs, IMA, CEL-JSON).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "common.h"
#include "eventlog_verify.h"
#include "measured/error.h"
#include "measured/eventlog.h"

const char cmd_eventlog_summary[] = "show, replay or verify firmware, IMA and CEL event logs";

static void help(void)
{
	fputs("Usage: measured eventlog show [--json] FILE\n"
	      "       measured eventlog replay [--json] [--bank LIST] FILE...\n"
	      "       measured eventlog verify [OPTIONS] FILE...\n\n"
	      "Read TCG PC Client firmware event logs (SHA-1 or crypto-agile), IMA\n"
	      "measurement lists and CEL-JSON logs.\n\n"
	      "  show     list every record: number, offset, PCR, type, digests, description\n"
	      "  replay   compute the PCR values the logs produce, replayed in order\n"
	      "  verify   compare a replay with the TPM's PCRs\n\n"
	      "Run 'measured eventlog SUBCOMMAND --help' for its options; see\n"
	      "measured-eventlog(1).\n", stdout);
}

static void help_show(void)
{
	fputs("Usage: measured eventlog show [--json] FILE\n\n"
	      "Print each record of the event log FILE: record number, byte offset, PCR,\n"
	      "event type, whether it is extended, its digest in each bank and a short\n"
	      "description of the event data.\n\n"
	      "  -j, --json   one JSON object: {\"file\",\"format\",\"banks\",\"events\":[...]}\n"
	      "  -h, --help   this text\n", stdout);
}

static void help_replay(void)
{
	fputs("Usage: measured eventlog replay [--json] [--bank LIST] FILE...\n\n"
	      "Replay the event logs, in the order given, onto one set of PCRs that start\n"
	      "at their TPM2_Startup values (PCR 0 from a StartupLocality event, PCRs\n"
	      "17-22 all 0xff), and print 'BANK PCR HEX' lines sorted by bank and PCR.\n\n"
	      "  -b, --bank LIST   only these banks (sha1,sha256,sha384,sha512,sm3_256)\n"
	      "  -j, --json        one JSON object {BANK:{PCR:HEX}}\n"
	      "  -h, --help        this text\n", stdout);
}

/* IMA and CEL records without a TCG type carry 0, which is not EV_PREBOOT_CERT. */
static const char *type_name(const struct m_log *log, const struct m_event *e)
{
	if (log->format != M_LOG_TCG_SHA1 && log->format != M_LOG_TCG_AGILE && e->type == 0)
		return NULL;
	return m_tcg_event_type_name(e->type);
}

static json_object *event_json(const struct m_log *log, const struct m_event *e)
{
	json_object *o = json_object_new_object(), *d = json_object_new_object();
	const char *name = type_name(log, e);
	char hex[2 * M_DIGEST_MAX + 1];

	json_object_object_add(o, "recnum", json_object_new_int64(e->recnum));
	json_object_object_add(o, "offset", json_object_new_int64((int64_t)e->offset));
	if (e->line)
		json_object_object_add(o, "line", json_object_new_int64(e->line));
	json_object_object_add(o, "pcr", json_object_new_int64(e->pcr));
	json_object_object_add(o, "type", json_object_new_int64(e->type));
	json_object_object_add(o, "type_name", name ? json_object_new_string(name) : NULL);
	json_object_object_add(o, "extends", json_object_new_boolean(e->extends));
	for_each_bank(b, e->banks) {
		m_hex(e->digest[b], m_bank_info(b)->size, hex);
		json_object_object_add(d, m_bank_info(b)->name, json_object_new_string(hex));
	}
	json_object_object_add(o, "digests", d);
	json_object_object_add(o, "description", e->desc ? json_object_new_string(e->desc) : NULL);
	return o;
}

static int show_json(const char *path, const struct m_log *log)
{
	json_object *o = json_object_new_object(), *banks = json_object_new_array(), *evs = json_object_new_array();
	int r = 0;

	if (!o || !banks || !evs) {
		r = -ENOMEM;
		goto out;
	}
	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "format", json_object_new_string(m_log_format_name(log->format)));
	for_each_bank(b, log->banks)
		json_object_array_add(banks, json_object_new_string(m_bank_info(b)->name));
	json_object_object_add(o, "banks", banks);
	banks = NULL;
	if (log->format == M_LOG_TCG_AGILE || log->format == M_LOG_TCG_SHA1)
		json_object_object_add(o, "startup_locality", json_object_new_int(log->startup_locality));
	for (size_t i = 0; i < log->count; i++)
		json_object_array_add(evs, event_json(log, &log->ev[i]));
	json_object_object_add(o, "events", evs);
	evs = NULL;
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(banks);
	json_object_put(evs);
	json_object_put(o);
	return r;
}

static void show_text(const char *path, const struct m_log *log)
{
	char hex[2 * M_DIGEST_MAX + 1], list[64];

	m_bank_list_format(log->banks, list, sizeof(list));
	printf("# %s: %s, %zu records, banks %s", path, m_log_format_name(log->format), log->count,
	       *list ? list : "none");
	if (log->format == M_LOG_TCG_AGILE)
		printf(", spec %u.%u errata %u, uintn %u", log->spec_major, log->spec_minor, log->spec_errata,
		       log->uintn_size);
	if (log->startup_locality)
		printf(", StartupLocality %u", log->startup_locality);
	putchar('\n');
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];
		const char *name = type_name(log, e);

		printf("%u @0x%llx PCR %u ", e->recnum, (unsigned long long)e->offset, e->pcr);
		if (name)
			printf("%s", name);
		else
			printf("0x%08x", e->type);
		if (!e->extends)
			fputs(" (not extended)", stdout);
		if (e->desc)
			printf(": %s", e->desc);
		putchar('\n');
		for_each_bank(b, e->banks) {
			m_hex(e->digest[b], m_bank_info(b)->size, hex);
			printf("  %s %s\n", m_bank_info(b)->name, hex);
		}
	}
}

static int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct m_log *log;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			help_show();
			return EXIT_OK;
		default:
			return usage_error("eventlog show", "bad option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("eventlog show", "give exactly one FILE");
	r = m_log_load(argv[optind], &log);
	if (r < 0)
		return fail(exit_from_errno(r), r, NULL);
	if (json)
		r = show_json(argv[optind], log);
	else
		show_text(argv[optind], log);
	m_log_free(log);
	if (r < 0)
		return fail(exit_from_errno(r), r, NULL);
	if (fflush(stdout) != 0)
		return fail(EXIT_INPUT, -errno, "writing output");
	return EXIT_OK;
}

static int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bank", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned want = M_BANKS_ALL, declared = 0;
	struct m_pcrs *acc;
	bool json = false;
	int c, r, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "b:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			r = m_bank_list_parse(optarg, &want);
			if (r < 0)
				return usage_error("eventlog replay", "%s", m_errmsg(r));
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help_replay();
			return EXIT_OK;
		default:
			return usage_error("eventlog replay", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("eventlog replay", "no FILE given");
	acc = calloc(1, sizeof(*acc));
	if (!acc)
		return fail(EXIT_INTERNAL, -ENOMEM, NULL);
	/* One TPM, several logs in boot order: a bad one makes the result meaningless. */
	for (int i = optind; i < argc; i++) {
		struct m_log *log;

		r = m_log_load(argv[i], &log);
		if (r < 0) {
			rc = fail(exit_from_errno(r), r, NULL);
			goto out;
		}
		declared |= log->banks;
		r = m_log_replay_into(log, acc);
		m_log_free(log);
		if (r < 0) {
			rc = fail(exit_from_errno(r), r, NULL);
			goto out;
		}
	}
	/* an explicit --bank that no log carries is a mistake, not an empty answer */
	if (want != M_BANKS_ALL) {
		for_each_bank(b, want & ~declared) {
			rc = fail(EXIT_INPUT, m_err(-ENOENT, "no log given has bank %s", m_bank_info(b)->name), NULL);
			goto out;
		}
	}
	for (enum m_bank b = 0; b < M_BANK_COUNT; b++)
		if (!(want & M_BANK_BIT(b)))
			acc->present[b] = 0;
	m_pcrs_print(stdout, acc, json);
	if (fflush(stdout) != 0)
		rc = fail(EXIT_INPUT, -errno, "writing output");
out:
	free(acc);
	return rc;
}

int cmd_eventlog(int argc, char **argv)
{
	const char *sub;

	if (argc < 2) {
		help();
		return EXIT_USAGE;
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		help();
		return EXIT_OK;
	}
	optind = 1;
	if (strcmp(sub, "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(sub, "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(sub, "verify") == 0)
		return cmd_eventlog_verify(argc - 1, argv + 1);
	return usage_error("eventlog", "unknown subcommand '%s'", sub);
}
