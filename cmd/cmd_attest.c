// SPDX-License-Identifier: MIT
/*
 * measured attest --server URL --machine NAME [-T TCTI] [--ca-cert F]
 *                 [--client-cert F --client-key F] [--pcrs LIST] [--bank LIST]
 *                 [--eventlog FILE]... [--payload NAME -o FILE]
 *                 [--ak-alg rsa|ecc] [--state DIR] [--json]
 *                 [--owner-secret HEX] [--srk-secret HEX] [--aik-secret HEX]
 *                 [--payload NAME --install [--target DEV] [--reboot]]
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common.h"
#include "tpm_opts.h"
#include "agent.h"
#include "install.h"
#include "measured/file.h"
#include "measured/error.h"
#include "measured/text.h"

const char cmd_attest_summary[] = "attest this machine to a verifier and receive its payload";

#define DEFAULT_STATE "/var/lib/measured/agent"

/* the logs sent when no --eventlog is given, each only if it is there */
static const char *const default_logs[] = {
	"/sys/kernel/security/tpm0/binary_bios_measurements",	/* firmware (TCG PC Client) */
	"/run/log/measured/measure.log",			/* measured-init's CEL-JSON */
	"/sys/kernel/security/ima/binary_runtime_measurements",	/* IMA */
};

static void help(void)
{
	fputs("Usage: measured attest --server URL --machine NAME [-T TCTI] [--ca-cert FILE]\n"
	      "                       [--client-cert FILE --client-key FILE] [--pcrs LIST]\n"
	      "                       [--bank LIST] [--eventlog FILE]... [--payload NAME -o FILE]\n"
	      "                       [--ak-alg rsa|ecc] [--state DIR] [--json]\n"
	      "                       [--owner-secret HEX] [--srk-secret HEX] [--aik-secret HEX]\n"
	      "                       [--payload NAME --install [--target DEV] [--reboot]]\n\n"
	      "Prove this machine's boot state to the verifier at URL (docs/api.md): enrol\n"
	      "the TPM on first use (EK, AK, credential activation), quote the PCRs the\n"
	      "server names with its nonce, send the quote with the event logs, and on a\n"
	      "pass recover the payload with the TPM and write it to a new file.\n"
	      "A TPM 2.0 or a TPM 1.2 (the kernel's tpm_version_major, else a probe):\n"
	      "on a TPM 1.2 the AIK is made with TPM_MakeIdentity and proven with\n"
	      "TPM_ActivateIdentity (it needs the owner's secret), and the quote is TPM_Quote2.\n\n"
	      TPM_OPTS_HELP
	      "  -s, --server URL       the verifier, https:// only (TLS is always verified)\n"
	      "  -m, --machine NAME     this machine's name at the verifier\n"
	      "      --ca-cert FILE     PEM CA certificate(s) the server's certificate must\n"
	      "                         chain to: the verifier's own CA, pinned (required\n"
	      "                         unless --system-ca)\n"
	      "      --system-ca        trust the system's CA store for the server instead\n"
	      "                         (any public CA could then vouch for a verifier)\n"
	      "      --client-cert FILE PEM client certificate for mutual TLS (with --client-key)\n"
	      "      --client-key FILE  its PEM private key\n"
	      "  -p, --pcrs LIST        PCRs to quote (default: the ones the server names)\n"
	      "  -b, --bank LIST        banks to quote (default: the server's, else all)\n"
	      "  -e, --eventlog FILE    an event log to send (up to 4); default: the firmware\n"
	      "                         log, /run/log/measured/measure.log and the IMA list,\n"
	      "                         each if present and extending a quoted PCR;\n"
	      "                         \"none\" sends none\n"
	      "      --payload NAME     ask for this payload\n"
	      "  -o, --output FILE      write it here (created, mode 0600; never overwritten)\n"
	      "      --install          install it instead: a disk image written to the target\n"
	      "                         disk (a root tree archive made into one first),\n"
	      "                         read back against the verifier's digest, made\n"
	      "                         bootable last (docs/agent.md, \"Install mode\")\n"
	      "      --target DEV       the disk (default: measured.install.target= on the\n"
	      "                         kernel command line, else the verifier's metadata)\n"
	      "      --reboot           reboot once installed\n"
	      "      --ak-alg ALG       TPM 2.0: EK and AK algorithm: rsa (default) or ecc (P-256)\n"
	      "      --owner-secret HEX TPM 1.2: the TPM owner's 20-byte secret (default 20 zero bytes)\n"
	      TPM12_SECRETS_HELP
	      "      --state DIR        enrolment record (default " DEFAULT_STATE ")\n"
	      "      --timeout SECONDS  per HTTP request (default 60)\n"
	      "      --json             print the outcome as JSON\n"
	      "  -h, --help             this text\n\n"
	      "Exit: 0 pass, 1 refused by the verifier, 2 usage, 3 input, network or\n"
	      "protocol error, 4 TPM error.\n", stdout);
}

/* text from the server, printed escaped (include/measured/text.h) */
static void put_text(const char *prefix, const char *s)
{
	char *e = m_text_escape_str(s);

	printf("%s%s", prefix, e ? e : "?");
	free(e);
}

static void print_difference(json_object *d)
{
	json_object *v;

	printf("first difference:");
	if (json_object_object_get_ex(d, "pcr", &v))
		put_text(" pcr ", json_object_get_string(v));
	if (json_object_object_get_ex(d, "bank", &v))
		put_text(" bank ", json_object_get_string(v));
	if (json_object_object_get_ex(d, "status", &v))
		put_text(" ", json_object_get_string(v));
	if (json_object_object_get_ex(d, "index", &v))
		put_text(" event ", json_object_get_string(v));
	putchar('\n');
	if (json_object_object_get_ex(d, "expected", &v))
		printf("  expected: %s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (json_object_object_get_ex(d, "found", &v))
		printf("  found:    %s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* the answer's "matched": POLICY:LABEL for each policy, comma-separated, escaped as any outside text */
static void print_matched(json_object *m)
{
	size_t n = json_object_is_type(m, json_type_array) ? json_object_array_length(m) : 0;

	if (!n)
		return;
	fputs("matched ", stdout);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(m, i);
		const char *p = m_json_str(e, "policy"), *l = m_json_str(e, "manifest");

		put_text(i ? "," : "", p ? p : "?");
		put_text(":", l ? l : "?");
	}
	putchar('\n');
}

static void report(const struct m_agent_config *cfg, const struct m_agent_result *res,
		   const struct m_install_job *job, bool json)
{
	json_object *a = res->answer, *d = NULL, *matched = NULL;
	const char *reason = m_json_str(a, "reason"), *msg = m_json_str(a, "message");

	if (a) {
		json_object_object_get_ex(a, "first_difference", &d);
		json_object_object_get_ex(a, "matched", &matched);
	}
	if (json) {
		json_object *o = json_object_new_object(), *p;

		json_object_object_add(o, "result", json_object_new_string(res->pass ? "pass" : "fail"));
		json_object_object_add(o, "machine", json_object_new_string(cfg->machine));
		json_object_object_add(o, "enrolled", json_object_new_boolean(res->enrolled));
		if (res->pass)
			json_object_object_add(o, "matched", matched ? json_object_get(matched) : json_object_new_array());
		if (!res->pass) {
			json_object_object_add(o, "http_status", json_object_new_int64(res->http_status));
			json_object_object_add(o, "reason", json_object_new_string(reason ? reason : ""));
			json_object_object_add(o, "message", json_object_new_string(msg ? msg : ""));
			json_object_object_add(o, "first_difference", d ? json_object_get(d) : NULL);
		} else if (job) {
			char h[65];

			m_hex(job->meta.sha256, sizeof(job->meta.sha256), h);
			p = json_object_new_object();
			json_object_object_add(p, "payload", json_object_new_string(cfg->payload));
			json_object_object_add(p, "kind", json_object_new_string(job->meta.kind));
			json_object_object_add(p, "target", json_object_new_string(job->target_used));
			json_object_object_add(p, "target_from", json_object_new_string(job->target_from));
			json_object_object_add(p, "size", json_object_new_int64((int64_t)job->len));
			json_object_object_add(p, "sha256", json_object_new_string(h));
			json_object_object_add(o, "install", p);
		} else if (cfg->payload) {
			p = json_object_new_object();
			json_object_object_add(p, "name", json_object_new_string(cfg->payload));
			json_object_object_add(p, "file", json_object_new_string(cfg->output));
			json_object_object_add(p, "size", json_object_new_int64((int64_t)res->payload_len));
			json_object_object_add(o, "payload", p);
		}
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	if (res->enrolled)
		printf("enrolled %s\n", cfg->machine);
	if (res->pass) {
		printf("pass %s\n", cfg->machine);
		print_matched(matched);
		if (job) {
			char h[65];

			m_hex(job->meta.sha256, sizeof(job->meta.sha256), h);
			printf("installed %s %zu %s sha256 %s\n", cfg->payload, job->len, job->target_used, h);
		} else if (cfg->payload) {
			printf("payload %s %zu %s\n", cfg->payload, res->payload_len, cfg->output);
		}
		return;
	}
	printf("fail %s ", cfg->machine);
	put_text("", reason ? reason : "no-reason");
	put_text(": ", msg ? msg : "");
	putchar('\n');
	if (d && json_object_is_type(d, json_type_object))
		print_difference(d);
}

/* the command line */
struct aopts {
	struct m_agent_config cfg;
	struct m_http_opts ho;
	const char *tcti, *logs[M_EVIDENCE_MAX_LOGS], *target;
	bool json, no_logs, system_ca, install, reboot;
	uint8_t owner[20], srk[20], aik[20];	/* TPM 1.2 secrets */
};

/* options: -1 to go on, else the exit code */
static int attest_options(int argc, char **argv, struct aopts *o)
{
	enum { OPT_CA = 256, OPT_CCERT, OPT_CKEY, OPT_PAYLOAD, OPT_AKALG, OPT_STATE, OPT_JSON, OPT_TIMEOUT,
	       OPT_SYSCA, OPT_OWNER12, OPT_SRK12, OPT_AIK12, OPT_INSTALL, OPT_TARGET, OPT_REBOOT };
	static const struct option opts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "server", required_argument, NULL, 's' },
		{ "machine", required_argument, NULL, 'm' },
		{ "ca-cert", required_argument, NULL, OPT_CA },
		{ "system-ca", no_argument, NULL, OPT_SYSCA },
		{ "client-cert", required_argument, NULL, OPT_CCERT },
		{ "client-key", required_argument, NULL, OPT_CKEY },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "bank", required_argument, NULL, 'b' },
		{ "eventlog", required_argument, NULL, 'e' },
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "output", required_argument, NULL, 'o' },
		{ "ak-alg", required_argument, NULL, OPT_AKALG },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "owner-secret", required_argument, NULL, OPT_OWNER12 },
		{ "srk-secret", required_argument, NULL, OPT_SRK12 },
		{ "aik-secret", required_argument, NULL, OPT_AIK12 },
		{ "install", no_argument, NULL, OPT_INSTALL },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "reboot", no_argument, NULL, OPT_REBOOT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct m_agent_config *cfg = &o->cfg;
	char *end;
	int c, rc;

	cfg->alg = M_KEY_RSA2048;
	cfg->state_dir = DEFAULT_STATE;
	cfg->logs = o->logs;
	while ((c = getopt_long(argc, argv, "T:s:m:p:b:e:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'T': o->tcti = optarg; break;
		case 's': cfg->server = o->ho.server = optarg; break;
		case 'm': cfg->machine = optarg; break;
		case 'o': cfg->output = optarg; break;
		case OPT_CA: o->ho.ca_cert = optarg; break;
		case OPT_SYSCA: o->system_ca = true; break;
		case OPT_CCERT: o->ho.client_cert = optarg; break;
		case OPT_CKEY: o->ho.client_key = optarg; break;
		case OPT_PAYLOAD: cfg->payload = optarg; break;
		case OPT_STATE: cfg->state_dir = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_INSTALL: o->install = true; break;
		case OPT_TARGET: o->target = optarg; break;
		case OPT_REBOOT: o->reboot = true; break;
		case 'p':
			if (m_pcr_list_parse(optarg, &cfg->pcrs) < 0 || !cfg->pcrs)
				return usage_error("attest", "--pcrs: '%s' is not a PCR list", optarg);
			break;
		case 'b':
			if (m_bank_list_parse(optarg, &cfg->banks) < 0 || !cfg->banks)
				return usage_error("attest", "--bank: '%s' is not a bank list", optarg);
			break;
		case 'e':
			if (!strcmp(optarg, "none")) {
				o->no_logs = true;
				break;
			}
			if (cfg->nlogs == M_EVIDENCE_MAX_LOGS)
				return usage_error("attest", "at most %u event logs", M_EVIDENCE_MAX_LOGS);
			o->logs[cfg->nlogs++] = optarg;
			break;
		case OPT_AKALG:
			if (m_key_alg_parse(optarg, &cfg->alg) < 0)
				return usage_error("attest", "--ak-alg: '%s' (rsa or ecc)", optarg);
			break;
		case OPT_TIMEOUT:
			errno = 0;
			o->ho.timeout_s = strtol(optarg, &end, 10);
			if (errno || *end || o->ho.timeout_s < 1 || o->ho.timeout_s > 3600)
				return usage_error("attest", "--timeout: 1 to 3600 seconds");
			break;
		case OPT_OWNER12:
			if ((rc = tpm12_secret_arg("attest", "--owner-secret", optarg, o->owner)))
				return rc;
			cfg->owner_auth = o->owner;
			break;
		case OPT_SRK12:
			if ((rc = tpm12_secret_arg("attest", "--srk-secret", optarg, o->srk)))
				return rc;
			cfg->srk_auth = o->srk;
			break;
		case OPT_AIK12:
			if ((rc = tpm12_secret_arg("attest", "--aik-secret", optarg, o->aik)))
				return rc;
			cfg->aik_auth = o->aik;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("attest", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("attest", "unexpected argument '%s'", argv[optind]);
	if (!cfg->server || !cfg->machine)
		return usage_error("attest", "--server and --machine are required");
	/* the payload is released over this TLS session: its CA is the verifier's, pinned, by default */
	if (!o->ho.ca_cert && !o->system_ca)
		return usage_error("attest", "--ca-cert FILE (the verifier's CA) is required; --system-ca to trust"
				   " the system's CA store instead");
	if (o->ho.ca_cert && o->system_ca)
		return usage_error("attest", "--ca-cert or --system-ca, not both");
	if (o->install && (!cfg->payload || cfg->output))
		return usage_error("attest", "--install needs --payload, and no --output");
	if ((o->target || o->reboot) && !o->install)
		return usage_error("attest", "--target and --reboot go with --install");
	if (o->target && (o->target[0] != '/' || strlen(o->target) >= M_INSTALL_TARGET_MAX))
		return usage_error("attest", "--target: an absolute path of at most %u bytes", M_INSTALL_TARGET_MAX - 1);
	if (!o->install && !cfg->payload != !cfg->output)
		return usage_error("attest", "--payload and --output go together");
	if (!!o->ho.client_cert != !!o->ho.client_key)
		return usage_error("attest", "--client-cert and --client-key go together");
	if (o->no_logs && cfg->nlogs)
		return usage_error("attest", "--eventlog none with other event logs");
	return -1;
}

/* the installer's steps on the console, as they happen (a cut shows where it came) */
static int install_progress(void *arg, enum m_install_stage s, uint64_t off)
{
	const struct m_install_job *j = arg;

	if (s == M_INSTALL_WRITING && off != M_INSTALL_HEAD)
		return 0;
	printf("install: %s %s\n", m_install_stage_name(s), j->target_used);
	fflush(stdout);
	return 0;
}

/* install mode: the local target (--target, else the kernel's), checked before anything is asked */
static int install_prepare(struct aopts *o, struct m_install_job *job, char *buf, size_t len)
{
	uint8_t *cmdline = NULL;
	size_t n;
	int r;

	job->target = o->target;
	job->target_from = "--target";
	/* a root archive's staging directory: $TMPDIR, as other programs' temporary files */
	job->workdir = getenv("TMPDIR");
	if (!job->workdir || job->workdir[0] != '/')
		job->workdir = "/tmp";
	if (!job->target) {
		r = m_read_file("/proc/cmdline", M_INSTALL_CMDLINE_MAX, &cmdline, &n);
		if (r == 0)
			r = m_install_target_from_cmdline((const char *)cmdline, buf, len);
		free(cmdline);
		if (r < 0 && r != -ENOENT)
			return fail(EXIT_INPUT, r, "kernel command line");
		if (r == 0) {
			job->target = buf;
			job->target_from = "measured.install.target";
		}
	}
	if (job->target && (r = m_install_target_check(job->target, 0, NULL)) < 0)
		return fail(EXIT_INPUT, r, NULL);
	if (!o->json) {
		job->hooks.stage = install_progress;
		job->hooks.arg = job;
	}
	o->cfg.deliver = m_install_deliver;
	o->cfg.deliver_arg = job;
	return -1;
}

int cmd_attest(int argc, char **argv)
{
	struct aopts o = { 0 };
	struct m_agent_config *cfg = &o.cfg;
	struct m_agent_result res = { 0 };
	struct m_http *http = NULL;
	struct m_tpm *tpm = NULL;
	struct m_install_job job = { 0 };
	char target[M_INSTALL_TARGET_MAX];
	struct stat st;
	int r, rc;

	progname_sub = "attest";
	rc = attest_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.install && (rc = install_prepare(&o, &job, target, sizeof(target))) >= 0)
		return rc;
	/* inputs: the default logs that exist; the output must not */
	if (!o.no_logs && !cfg->nlogs) {
		for (size_t i = 0; i < sizeof(default_logs) / sizeof(default_logs[0]); i++)
			if (access(default_logs[i], R_OK) == 0)
				o.logs[cfg->nlogs++] = default_logs[i];
		cfg->logs_by_default = true;
	}
	/* refuse before asking: the payload is never written over anything */
	if (cfg->output && lstat(cfg->output, &st) == 0)
		return fail(EXIT_INPUT, m_err(-EEXIST, "%s: exists; the payload is never written over a file",
					      cfg->output), NULL);

	/* run */
	r = m_http_new(&o.ho, &http);
	if (r < 0)
		return r == -EINVAL ? usage_error("attest", "%s", m_errmsg(r)) : fail(EXIT_INPUT, r, NULL);
	rc = tpm_connect(o.tcti, &tpm);
	if (rc)
		goto out;
	r = m_agent_run(tpm, http, cfg, &res);
	if (r < 0) {
		rc = fail(res.fault == M_AGENT_FAULT_TPM ? tpm_exit_code(r) : exit_from_errno(r), r, NULL);
		goto out;
	}
	/* output */
	report(cfg, &res, o.install ? &job : NULL, o.json);
	rc = res.pass ? EXIT_OK : EXIT_MISMATCH;
	if (res.pass && o.reboot) {
		fflush(stdout);
		sync();
		reboot(RB_AUTOBOOT);
		rc = fail(EXIT_INPUT, m_err(-errno, "reboot: %s", strerror(errno)), NULL);
	}
out:
	json_object_put(res.answer);
	m_tpm_close(tpm);
	m_http_free(http);
	explicit_bzero(o.owner, sizeof(o.owner));
	explicit_bzero(o.srk, sizeof(o.srk));
	explicit_bzero(o.aik, sizeof(o.aik));
	return rc;
}
