// SPDX-License-Identifier: MIT
/*
 * measured serve: the verifier (server/, docs/server.md, docs/api.md).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "measured/error.h"
#include "../server/server.h"

const char cmd_serve_summary[] = "run the attestation verifier (HTTPS JSON API)";

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void help(void)
{
	fputs("Usage: measured serve --listen ADDR:PORT --tls-cert FILE --tls-key FILE\n"
	      "                      [--db sqlite:PATH|postgresql:CONNINFO] [OPTIONS]\n\n"
	      "Run the verifier: enrolment with credential activation, nonces, quote and\n"
	      "event log verification against reference manifests, payload release\n"
	      "(docs/api.md).  Logs are JSON lines on stderr.\n\n"
	      "  -l, --listen ADDR:PORT   IPv4 address and port (e.g. 127.0.0.1:8443)\n"
	      "      --tls-cert FILE      server certificate (PEM)\n"
	      "      --tls-key FILE       its private key (PEM)\n"
	      "      --client-ca FILE     require client certificates signed by this CA\n"
	      "                           (mutual TLS) on every endpoint but /v1/health\n"
	      "      --client-cert-binds-machine\n"
	      "                           with --client-ca: a request naming a machine needs\n"
	      "                           a client certificate whose subject CN is that name\n"
	      "  -d, --db URL             sqlite:PATH (default sqlite:measured.db) or\n"
	      "                           postgresql:CONNINFO (libpq syntax) or a\n"
	      "                           postgresql:// URI\n"
	      "      --ek-ca FILE         a CA certificate (PEM) for EK certificates\n"
	      "                           (repeatable, at most 16)\n"
	      "      --tofu               trust an EK without a certificate on first use\n"
	      "                           (only when no --ek-ca is given for certified EKs;\n"
	      "                           recorded as such in the audit log)\n"
	      "      --approve POLICY     approve newly enrolled machines with POLICY[,...]\n"
	      "                           (default: they wait for `measured admin machine approve`);\n"
	      "                           refused with --tofu: nothing would prove a real TPM\n"
	      "      --insecure-tofu-approve\n"
	      "                           allow --tofu with --approve: any TPM, swtpm or\n"
	      "                           software key that enrols a new name gets the payload\n"
	      "  -t, --threads N          worker threads (default 2 with SQLite, 8 with\n"
	      "                           PostgreSQL; at most 256)\n"
	      "      --nonce-ttl S        nonce lifetime in seconds (default 60)\n"
	      "      --timeout S          disconnect clients idle for S seconds (default 10)\n"
	      "      --request-deadline S disconnect a connection whose request (TLS handshake,\n"
	      "                           headers, body) takes longer, counted from accept or\n"
	      "                           from its previous request (default 30)\n"
	      "      --max-connections N  connections at once (default 1024, at most 4096)\n"
	      "      --max-connections-per-ip N\n"
	      "                           from one address (default 32)\n"
	      "      --allow-readable-db  open a SQLite file others may read (default: refused)\n"
	      "      --attest-body-max N  /v1/attest body limit in bytes (default 1048576)\n"
	      "      --dashboard-listen ADDR:PORT\n"
	      "                           also serve the operators' dashboard (HTTPS, same\n"
	      "                           certificate) on this IPv4 address and port; its\n"
	      "                           tokens: `measured admin dashboard-token add`\n"
	      "      --dashboard-client-ca FILE\n"
	      "                           the dashboard also requires a client certificate\n"
	      "                           signed by this CA (clientAuth), on every request\n"
	      "  -q, --quiet              log only errors and life-cycle events\n"
	      "  -h, --help               this text\n\n"
	      "Runs until SIGINT or SIGTERM.  Exit status: 0 stopped, 2 usage, 3 bad\n"
	      "configuration or database, 5 internal error.\n", stdout);
}

enum { OPT_CERT = 0x100, OPT_KEY, OPT_CA, OPT_EKCA, OPT_TOFU, OPT_TTL, OPT_TIMEOUT, OPT_DEADLINE, OPT_BODY,
       OPT_APPROVE, OPT_INSECURE_TOFU, OPT_MAXCONN, OPT_MAXIP, OPT_SHAREDDB, OPT_BINDNAME, OPT_DASHBOARD, OPT_DASHCA };

static int num(const char *s, unsigned long lo, unsigned long hi, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	*ret = v;
	return 0;
}

/* Options -> @cfg; EXIT_OK, or the exit code to return. */
static int serve_options(int argc, char **argv, struct srv_config *cfg, bool *insecure_tofu, bool *ret_done)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, OPT_CERT },
		{ "tls-key", required_argument, NULL, OPT_KEY },
		{ "client-ca", required_argument, NULL, OPT_CA },
		{ "db", required_argument, NULL, 'd' },
		{ "ek-ca", required_argument, NULL, OPT_EKCA },
		{ "tofu", no_argument, NULL, OPT_TOFU },
		{ "approve", required_argument, NULL, OPT_APPROVE },
		{ "threads", required_argument, NULL, 't' },
		{ "nonce-ttl", required_argument, NULL, OPT_TTL },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "request-deadline", required_argument, NULL, OPT_DEADLINE },
		{ "attest-body-max", required_argument, NULL, OPT_BODY },
		{ "insecure-tofu-approve", no_argument, NULL, OPT_INSECURE_TOFU },
		{ "max-connections", required_argument, NULL, OPT_MAXCONN },
		{ "max-connections-per-ip", required_argument, NULL, OPT_MAXIP },
		{ "allow-readable-db", no_argument, NULL, OPT_SHAREDDB },
		{ "client-cert-binds-machine", no_argument, NULL, OPT_BINDNAME },
		{ "dashboard-listen", required_argument, NULL, OPT_DASHBOARD },
		{ "dashboard-client-ca", required_argument, NULL, OPT_DASHCA },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "l:d:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': cfg->listen = optarg; break;
		case OPT_CERT: cfg->tls_cert = optarg; break;
		case OPT_KEY: cfg->tls_key = optarg; break;
		case OPT_CA: cfg->client_ca = optarg; break;
		case 'd': cfg->db = optarg; break;
		case OPT_EKCA:
			if (cfg->n_ek_ca == SRV_MAX_EK_CA)
				return usage_error("serve", "at most %u --ek-ca", SRV_MAX_EK_CA);
			cfg->ek_ca[cfg->n_ek_ca++] = optarg;
			break;
		case OPT_TOFU: cfg->tofu = true; break;
		case OPT_APPROVE: cfg->approve_policy = optarg; break;
		case 't':
			if (num(optarg, 1, 256, &v) < 0)
				return usage_error("serve", "--threads: 1 to 256");
			cfg->threads = (unsigned)v;
			break;
		case OPT_TTL:
			if (num(optarg, 1, 86400, &v) < 0)
				return usage_error("serve", "--nonce-ttl: 1 to 86400 seconds");
			cfg->nonce_ttl = (unsigned)v;
			break;
		case OPT_TIMEOUT:
			if (num(optarg, 1, 3600, &v) < 0)
				return usage_error("serve", "--timeout: 1 to 3600 seconds");
			cfg->timeout = (unsigned)v;
			break;
		case OPT_DEADLINE:
			if (num(optarg, 1, 3600, &v) < 0)
				return usage_error("serve", "--request-deadline: 1 to 3600 seconds");
			cfg->request_deadline = (unsigned)v;
			break;
		case OPT_BODY:
			if (num(optarg, 1024, 96ul << 20, &v) < 0)
				return usage_error("serve", "--attest-body-max: 1024 to 100663296 bytes");
			cfg->attest_body_max = v;
			break;
		case OPT_INSECURE_TOFU: *insecure_tofu = true; break;
		case OPT_MAXCONN:
			if (num(optarg, 1, 4096, &v) < 0)
				return usage_error("serve", "--max-connections: 1 to 4096");
			cfg->max_conns = (unsigned)v;
			break;
		case OPT_MAXIP:
			if (num(optarg, 1, 4096, &v) < 0)
				return usage_error("serve", "--max-connections-per-ip: 1 to 4096");
			cfg->max_conns_per_ip = (unsigned)v;
			break;
		case OPT_SHAREDDB: cfg->allow_shared_db = true; break;
		case OPT_BINDNAME: cfg->bind_client_name = true; break;
		case OPT_DASHBOARD: cfg->dashboard_listen = optarg; break;
		case OPT_DASHCA: cfg->dashboard_client_ca = optarg; break;
		case 'q': cfg->quiet = true; break;
		case 'h': help(); *ret_done = true; return EXIT_OK;
		default: return usage_error("serve", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("serve", "unexpected argument '%s'", argv[optind]);
	return EXIT_OK;
}

/* What the options must say together, and the policy names in --approve. */
static int serve_check(const struct srv_config *cfg, bool insecure_tofu)
{
	if (!cfg->listen || !cfg->tls_cert || !cfg->tls_key)
		return usage_error("serve", "--listen, --tls-cert and --tls-key are required");
	if (cfg->dashboard_client_ca && !cfg->dashboard_listen)
		return usage_error("serve", "--dashboard-client-ca needs --dashboard-listen");
	if (cfg->dashboard_listen && !strcmp(cfg->dashboard_listen, cfg->listen))
		return usage_error("serve", "--dashboard-listen needs a port of its own");
	if (cfg->bind_client_name && !cfg->client_ca)
		return usage_error("serve", "--client-cert-binds-machine needs --client-ca");
	if (cfg->approve_policy) {
		char buf[M_STORE_POLICY_LIST_MAX], *save = NULL;

		if (m_store_policy_list_check(cfg->approve_policy) < 0)
			return usage_error("serve", "--approve: %s", m_errmsg(-E2BIG));
		memcpy(buf, cfg->approve_policy, strlen(cfg->approve_policy) + 1);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (!m_store_name_ok(t, strlen(t)))
				return usage_error("serve", "--approve: policy names are 1 to %u characters of"
						   " [A-Za-z0-9._-]", M_STORE_NAME_MAX - 1);
	}
	/* trust on first use proves no TPM: approving what it enrols releases payloads to anyone */
	if (cfg->tofu && cfg->approve_policy && !insecure_tofu)
		return usage_error("serve", "--tofu with --approve approves any key that enrols, a software one"
				   " included; give --insecure-tofu-approve to accept that");
	return EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
	struct srv_config cfg = {
		.db = "sqlite:measured.db", .threads = 0, .nonce_ttl = 60, .timeout = 10,
		.request_deadline = 30, .attest_body_max = SRV_ATTEST_BODY_MAX,
		.max_conns = 1024, .max_conns_per_ip = 32,
	};
	bool insecure_tofu = false, done = false;
	struct sigaction sa = { .sa_handler = on_signal };
	int r, rc;

	rc = serve_options(argc, argv, &cfg, &insecure_tofu, &done);
	if (rc || done || (rc = serve_check(&cfg, insecure_tofu)))
		return rc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = srv_run(&cfg, &stop_flag);
	if (r < 0)
		return fail(r == -ENOMEM ? EXIT_INTERNAL : EXIT_INPUT, r, "cannot serve");
	return EXIT_OK;
}
