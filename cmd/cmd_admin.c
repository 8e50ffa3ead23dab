// SPDX-License-Identifier: MIT
/*
 * measured admin: the verifier's database (docs/server.md): policies
 * (reference manifests and the PCRs to quote), payloads, machines, the
 * audit log; and MakeCredential for tests (tpm2-tools' file format).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include <tss2/tss2_mu.h>
#include "admin.h"
#include "common.h"
#include "measured/attest.h"
#include "measured/credential.h"
#include "measured/error.h"
#include "measured/text.h"
#include "measured/file.h"
#include "measured/manifest.h"
#include "measured/ustar.h"
#include "store.h"

const char cmd_admin_summary[] = "administer the verifier: policies, payloads, machines, audit log, dashboard tokens";

#define IMPORT_LINE_MAX 4096

static void help(void)
{
	fputs("Usage: measured admin [--db URL] COMMAND ...\n\n"
	      "  policy add NAME --manifest FILE [--pcrs LIST] [--banks LIST] [--label LABEL]\n"
	      "                     a reference manifest (measured predict -o), labelled\n"
	      "                     LABEL (default \"default\"); the PCRs (default: the\n"
	      "                     manifest's) and banks (default sha256) every quote must\n"
	      "                     cover; replaces the policy and all its manifests\n"
	      "  policy manifest add POLICY LABEL --manifest FILE\n"
	      "                     one more manifest for POLICY (a rollout): a machine\n"
	      "                     passes POLICY when it matches any of its manifests\n"
	      "  policy manifest retire POLICY LABEL   (never the last one)\n"
	      "  policy manifest list POLICY [--json]\n"
	      "  policy list [--json]  with each policy's manifest labels\n"
	      "  payload add NAME --file FILE --policy NAME [--kind disk-image|root-archive [--target DEV]]\n"
	      "                     released (encrypted to the TPM) on a pass of NAME;\n"
	      "                     --kind marks an install package (a whole disk, or a\n"
	      "                     ustar archive of a root tree; its SHA-256 is sent\n"
	      "                     along), --target the disk it goes to by default\n"
	      "  machine approve NAME [--policy LIST]   allow attestation under LIST\n"
	      "  machine revoke NAME\n"
	      "  machine list [--json]                  with each one's last result and\n"
	      "                     the manifests it matched (POLICY:LABEL)\n"
	      "  machine import FILE --policy LIST      approved machines, one per line:\n"
	      "                     NAME EK_PUB_B64 AK_PUB_B64 (recorded as trust 'admin')\n"
	      "  audit [--machine NAME] [--limit N] [--json]\n"
	      "  dashboard-token add NAME [--role read|write] [--json]\n"
	      "                     a token for the dashboard (serve --dashboard-listen),\n"
	      "                     printed once; only its SHA-256 is stored.  read (the\n"
	      "                     default) sees everything, write may approve and revoke\n"
	      "  dashboard-token list [--json] | dashboard-token remove NAME\n"
	      "  credential --ek-pub FILE (--name HEX | --ak-pub FILE) --secret FILE -o FILE\n"
	      "                     MakeCredential in software, written as tpm2_makecredential\n"
	      "                     writes it (for tpm2_activatecredential); no database\n\n"
	      "  -d, --db URL   sqlite:PATH, postgresql:CONNINFO or a postgresql:// URI\n"
	      "                 (default: $MEASURED_DB, else sqlite:measured.db)\n\n"
	      "Exit status: 0 done, 2 usage, 3 bad input or database, 5 internal.\n", stdout);
}

static int open_db(const char *url, struct m_store **st)
{
	int r = m_store_open(url, st);

	return r < 0 ? fail(EXIT_INPUT, r, "database") : 0;
}

/* a name given on the command line: the server's rule (m_store_name_ok()), or a usage error */
static int check_name(const char *what, const char *name)
{
	char *e;

	if (m_store_name_ok(name, strlen(name)))
		return 0;
	e = m_text_escape_str(name);
	usage_error("admin", "%s '%s': 1 to %u characters of [A-Za-z0-9._-]", what, e ? e : "", M_STORE_NAME_MAX - 1);
	free(e);
	return EXIT_USAGE;
}

static int check_policies(struct m_store *st, const char *list)
{
	char buf[M_STORE_POLICY_LIST_MAX], *save = NULL;
	struct m_policy p;
	int r;

	/* refused whole when too long or too many: a list is never stored cut */
	r = m_store_policy_list_check(list);
	if (r < 0)
		return fail(EXIT_INPUT, r, "policy");
	memcpy(buf, list, strlen(list) + 1);
	if (!buf[0] || buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,"))
		return usage_error("admin", "--policy: NAME[,NAME...]");
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if ((r = check_name("policy", t)) != 0)
			return r;
		r = m_store_policy_head(st, t, &p);
		if (r == -ENOENT)
			return fail(EXIT_INPUT, m_err(-ENOENT, "no policy '%s' (see `admin policy list`)", t),
				    "policy");
		if (r < 0)
			return fail(EXIT_INPUT, r, "policy");
	}
	return 0;
}

/* stored text printed: made printable, for rows written before the store escaped them */
static void text_str(const char *s)
{
	char *e = m_text_printable(s);

	fputs(e ? e : "?", stdout);
	free(e);
}

static void json_str(const char *s)
{
	char *e = m_text_printable(s);
	json_object *o = json_object_new_string(e ? e : "?");

	free(e);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), stdout);
	json_object_put(o);
}

/* ---- policy ---- */

static int policy_add(struct m_store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "manifest", required_argument, NULL, 'm' }, { "pcrs", required_argument, NULL, 'p' },
		{ "banks", required_argument, NULL, 'b' }, { "label", required_argument, NULL, 'l' }, { 0 } };
	const char *mf = NULL, *pcrs = NULL, *banks = "sha256";
	struct m_manifest *m = NULL;
	struct m_policy pol = { 0 };
	uint8_t *text = NULL;
	size_t len;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:p:b:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'l': pol.label = optarg; break;
		case 'm': mf = optarg; break;
		case 'p': pcrs = optarg; break;
		case 'b': banks = optarg; break;
		default: return usage_error("admin", "policy add: unknown option");
		}
	}
	if (optind + 1 != argc || !mf)
		return usage_error("admin", "policy add NAME --manifest FILE [--pcrs LIST] [--banks LIST] [--label LABEL]");
	if ((r = check_name("policy", argv[optind])) != 0)
		return r;
	if (pol.label && (r = check_name("manifest label", pol.label)) != 0)
		return r;
	snprintf(pol.name, sizeof(pol.name), "%s", argv[optind]);
	r = m_read_file(mf, M_STORE_MANIFEST_MAX, &text, &len);
	if (r < 0)
		return fail(EXIT_INPUT, r, "%s", mf);
	r = m_manifest_parse((const char *)text, len, mf, &m);
	if (r < 0) {
		free(text);
		return fail(EXIT_INPUT, r, "manifest");
	}
	if (m_bank_list_parse(banks, &pol.banks) < 0 || !pol.banks) {
		r = usage_error("admin", "--banks: %s", m_errmsg(-EINVAL));
		goto out;
	}
	if (pcrs) {
		if (m_pcr_list_parse(pcrs, &pol.pcrs) < 0) {
			r = usage_error("admin", "--pcrs: %s", m_errmsg(-EINVAL));
			goto out;
		}
	} else {
		pol.pcrs = m->pcrs;
	}
	if (!pol.pcrs) {
		r = usage_error("admin", "the policy quotes no PCR");
		goto out;
	}
	if ((r = admin_manifest_fits(m, mf, &pol, "give --pcrs and --banks that cover it")))
		goto out;
	pol.manifest = realloc(text, len + 1);
	if (!pol.manifest) {
		r = fail(EXIT_INTERNAL, -ENOMEM, "manifest");
		goto out;
	}
	pol.manifest[len] = 0;
	text = NULL;
	r = m_store_policy_put(st, &pol);
	if (r < 0) {
		r = fail(EXIT_INPUT, r, "policy add");
		goto out;
	}
	m_store_audit(st, "", "policy-add", "ok", "", pol.name);
	if (m_store_policy_weak(pol.pcrs))
		fprintf(stderr, "measured admin: warning: policy '%s' covers only PCRs software can extend at will"
			" (15, 16, 23): it proves nothing about the boot chain\n", pol.name);
	r = EXIT_OK;
out:
	free(text);
	free(pol.manifest);
	m_manifest_free(m);
	return r;
}

/* ---- payload ---- */

static int payload_add(struct m_store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' }, { "policy", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'k' }, { "target", required_argument, NULL, 't' }, { 0 } };
	const char *file = NULL, *policy = NULL, *kind = NULL, *target = NULL;
	struct m_payload_meta meta = { 0 };
	uint8_t *d, md[32];
	size_t n;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:p:k:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'p': policy = optarg; break;
		case 'k': kind = optarg; break;
		case 't': target = optarg; break;
		default: return usage_error("admin", "payload add: unknown option");
		}
	}
	if (optind + 1 != argc || !file || !policy || strchr(policy, ','))
		return usage_error("admin", "payload add NAME --file FILE --policy NAME [--kind disk-image|root-archive [--target DEV]]");
	if (kind && strcmp(kind, "disk-image") != 0 && strcmp(kind, "root-archive") != 0)
		return usage_error("admin", "payload add: --kind '%s' (disk-image or root-archive)", kind);
	if (target && !kind)
		return usage_error("admin", "payload add: --target needs --kind");
	if (target && (target[0] != '/' || strlen(target) >= sizeof(meta.target) || strpbrk(target, " \t\n")))
		return usage_error("admin", "payload add: --target: an absolute device path of at most %zu bytes, no blanks",
				   sizeof(meta.target) - 1);
	if ((r = check_name("payload", argv[optind])) != 0)
		return r;
	if ((r = check_policies(st, policy)) != 0)
		return r;
	r = m_read_file(file, M_STORE_PAYLOAD_MAX, &d, &n);
	if (r < 0)
		return fail(EXIT_INPUT, r, "%s", file);
	/* an archive the agent would refuse is refused here, before any machine asks for it */
	if (r >= 0 && kind && !strcmp(kind, "root-archive") && (r = m_ustar_walk(d, n, NULL, NULL, NULL)) < 0) {
		explicit_bzero(d, n);
		free(d);
		return fail(EXIT_INPUT, r, "%s", file);
	}
	if (kind) {
		/* the digest the agent checks what it wrote against */
		snprintf(meta.kind, sizeof(meta.kind), "%s", kind);
		snprintf(meta.target, sizeof(meta.target), "%s", target ? target : "");
		r = m_digest_one(M_SHA256, d, n, md);
		memcpy(meta.digest, "sha256:", 7);
		m_hex(md, sizeof(md), meta.digest + 7);
	}
	/* the payload and its metadata change together: an agent never gets one without the other */
	if (r >= 0)
		r = m_store_begin(st);
	if (r >= 0) {
		r = m_store_payload_put(st, argv[optind], policy, d, n);
		if (r >= 0)
			r = m_store_payload_meta_put(st, argv[optind], kind ? &meta : NULL);
		if (r >= 0)
			r = m_store_commit(st);
		else
			m_store_rollback(st);
	}
	explicit_bzero(d, n);
	free(d);
	if (r < 0)
		return fail(EXIT_INPUT, r, "payload add");
	m_store_audit(st, "", "payload-add", "ok", "", argv[optind]);
	return EXIT_OK;
}

/* ---- machines ---- */

static const char *state_name(int s)
{
	return s == M_MACHINE_APPROVED ? "approved" : s == M_MACHINE_REVOKED ? "revoked" : "pending";
}

struct machine_print {
	bool json;
	const struct admin_matches *matches;
};

static int print_machine(const struct m_machine *m, void *arg)
{
	const struct machine_print *mp = arg;
	bool json = mp->json;
	const char *matched = admin_matches_get(mp->matches, m->name);

	if (json) {
		static bool first = true;

		fputs(first ? "" : ",", stdout);
		first = false;
		printf("{\"name\":");
		json_str(m->name);
		printf(",\"state\":\"%s\",\"policy\":", state_name(m->state));
		json_str(m->policy);
		printf(",\"ek_trust\":\"%s\",\"enrolled_at\":%" PRId64 ",\"last_result\":\"%s\","
		       "\"last_reason\":\"%s\",\"last_at\":%" PRId64 ",\"tpm\":\"%s\",\"matched\":", m->ek_trust,
		       m->enrolled_at, m->last_result, m->last_reason, m->last_at, m->tpm);
		json_str(matched);
		fputs("}", stdout);
	} else {
		printf("%s %s policy=%s trust=%s last=%s%s%s tpm=%s matched=", m->name, state_name(m->state),
		       m->policy[0] ? m->policy : "-", m->ek_trust, m->last_result[0] ? m->last_result : "-",
		       m->last_reason[0] ? ":" : "", m->last_reason, m->tpm);
		text_str(matched[0] ? matched : "-");
		putchar('\n');
	}
	return 0;
}

/*
 * One transaction for the whole file, its audit record included: a bad
 * line or a name enrolled with another EK imports nothing (never half a
 * fleet), and 100,000 machines commit once rather than twice each.
 */
static int machine_import(struct m_store *st, const char *file, const char *policy)
{
	FILE *f = fopen(file, "re");
	char line[IMPORT_LINE_MAX], d[64];
	size_t n = 0, lineno = 0;
	int r;

	if (!f)
		return fail(EXIT_INPUT, m_err(-errno, "%s: %m", file), "import");
	r = m_store_begin(st);
	if (r < 0) {
		fclose(f);
		return fail(EXIT_INPUT, r, "import");
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *name = strtok_r(line, " \t\n", &save);
		char *ek = strtok_r(NULL, " \t\n", &save), *ak = strtok_r(NULL, " \t\n", &save);
		struct m_machine m = { 0 };

		lineno++;
		if (!name || name[0] == '#')
			continue;
		if (!ek || !ak || !m_store_name_ok(name, strlen(name))) {
			r = m_err(-EINVAL, "%s: line %zu: NAME EK_PUB AK_PUB", file, lineno);
			break;
		}
		snprintf(m.name, sizeof(m.name), "%s", name);
		m.ek_pub = ek;
		m.ak_pub = ak;
		snprintf(m.ek_trust, sizeof(m.ek_trust), "admin");
		m.state = M_MACHINE_APPROVED;
		snprintf(m.policy, sizeof(m.policy), "%s", policy);
		r = m_store_machine_enrol(st, &m);
		if (r == 0)
			r = m_store_machine_set(st, name, M_MACHINE_APPROVED, policy);
		if (r < 0) {
			r = m_err_prefix(r, "%s: line %zu", file, lineno);
			break;
		}
		n++;
	}
	fclose(f);
	if (r < 0) {
		m_store_rollback(st);
		return fail(EXIT_INPUT, r, "import (nothing imported)");
	}
	snprintf(d, sizeof(d), "%zu machines", n);
	r = m_store_audit_commit(st, "", "machine-import", "ok", "", d);
	if (r < 0)
		return fail(EXIT_INPUT, r, "import (nothing imported)");
	return 0;
}

static int machine_cmd(struct m_store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *policy = NULL;
	bool json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:j", opts, NULL)) != -1) {
		switch (c) {
		case 'p': policy = optarg; break;
		case 'j': json = true; break;
		default: return usage_error("admin", "machine: unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("admin", "machine approve|revoke|list|import");
	if (!strcmp(argv[optind], "list")) {
		struct machine_print mp = { json, NULL };
		struct admin_matches *matches = NULL;

		r = admin_matches_load(st, &matches);
		if (r < 0)
			return fail(EXIT_INPUT, r, "machine list");
		mp.matches = matches;
		if (json)
			fputs("[", stdout);
		r = m_store_machine_list(st, print_machine, &mp);
		if (json)
			fputs("]\n", stdout);
		admin_matches_free(matches);
		return r < 0 ? fail(EXIT_INPUT, r, "machine list") : EXIT_OK;
	}
	if (optind + 2 != argc)
		return usage_error("admin", "machine %s NAME|FILE", argv[optind]);
	if (policy && (r = check_policies(st, policy)) != 0)
		return r;
	if (!strcmp(argv[optind], "import")) {
		if (!policy)
			return usage_error("admin", "machine import FILE --policy LIST");
		return machine_import(st, argv[optind + 1], policy);
	}
	if (!strcmp(argv[optind], "approve") || !strcmp(argv[optind], "revoke")) {
		bool approve = argv[optind][0] == 'a';

		if ((r = check_name("machine", argv[optind + 1])) != 0)
			return r;
		r = m_store_machine_set(st, argv[optind + 1], approve ? M_MACHINE_APPROVED : M_MACHINE_REVOKED,
					approve ? policy : NULL);
		if (r < 0)
			return fail(EXIT_INPUT, r, "machine %s", argv[optind]);
		m_store_audit(st, argv[optind + 1], approve ? "approve" : "revoke", "ok", "", policy ? policy : "");
		return EXIT_OK;
	}
	return usage_error("admin", "machine approve|revoke|list|import");
}

/* ---- audit ---- */

static int print_audit(const struct m_audit *a, void *arg)
{
	bool json = *(bool *)arg;
	char t[32];
	time_t tt = (time_t)a->at;
	struct tm tm;

	if (json) {
		static bool first = true;

		fputs(first ? "" : ",", stdout);
		first = false;
		printf("{\"id\":%" PRId64 ",\"at\":%" PRId64 ",\"machine\":", a->id, a->at);
		json_str(a->machine);
		fputs(",\"event\":", stdout);
		json_str(a->event);
		fputs(",\"result\":", stdout);
		json_str(a->result);
		fputs(",\"reason\":", stdout);
		json_str(a->reason);
		fputs(",\"detail\":", stdout);
		json_str(a->detail);
		fputs("}", stdout);
	} else {
		gmtime_r(&tt, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%" PRId64 " %s ", a->id, t);
		text_str(a->machine[0] ? a->machine : "-");
		putchar(' ');
		text_str(a->event);
		putchar(' ');
		text_str(a->result);
		putchar(' ');
		text_str(a->reason[0] ? a->reason : "-");
		putchar(' ');
		text_str(a->detail);
		putchar('\n');
	}
	return 0;
}

static int audit_cmd(struct m_store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "machine", required_argument, NULL, 'm' }, { "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' }, { 0 } };
	const char *machine = NULL;
	size_t limit = 0;
	bool json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:n:j", opts, NULL)) != -1) {
		switch (c) {
		case 'm': machine = optarg; break;
		case 'n': limit = strtoul(optarg, NULL, 10); break;
		case 'j': json = true; break;
		default: return usage_error("admin", "audit: unknown option");
		}
	}
	if (machine && (r = check_name("machine", machine)) != 0)
		return r;
	if (json)
		fputs("[", stdout);
	r = m_store_audit_list(st, machine, limit, print_audit, &json);
	if (json)
		fputs("]\n", stdout);
	return r < 0 ? fail(EXIT_INPUT, r, "audit") : EXIT_OK;
}

/* ---- credential (tpm2-tools' file: magic, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET) ---- */

static int load_public(const char *path, TPMT_PUBLIC *ret)
{
	uint8_t *d;
	size_t n;
	int r = m_read_file(path, M_AKPUB_MAX, &d, &n);

	if (r < 0)
		return r;
	r = m_tpm_public_parse(d, n, ret);
	free(d);
	return r < 0 ? m_err_prefix(r, "%s", path) : 0;
}

static int credential_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ek-pub", required_argument, NULL, 'e' }, { "ak-pub", required_argument, NULL, 'a' },
		{ "name", required_argument, NULL, 'n' }, { "secret", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' }, { 0 } };
	const char *ekf = NULL, *akf = NULL, *namehex = NULL, *secf = NULL, *out = NULL;
	TPMT_PUBLIC ek, ak;
	uint8_t name[M_NAME_MAX], *sec = NULL, hdr[8] = { 0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1 };
	size_t nl = 0, sl;
	struct m_credential cred;
	FILE *f;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "e:a:n:s:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'e': ekf = optarg; break;
		case 'a': akf = optarg; break;
		case 'n': namehex = optarg; break;
		case 's': secf = optarg; break;
		case 'o': out = optarg; break;
		default: return usage_error("admin", "credential: unknown option");
		}
	}
	if (!ekf || !secf || !out || !!akf == !!namehex)
		return usage_error("admin", "credential --ek-pub FILE (--name HEX | --ak-pub FILE) --secret FILE -o FILE");
	if ((r = load_public(ekf, &ek)) < 0)
		return fail(EXIT_INPUT, r, "ek");
	if (akf) {
		if ((r = load_public(akf, &ak)) < 0 || (r = m_tpm_public_name(&ak, name, &nl)) < 0)
			return fail(EXIT_INPUT, r, "ak");
	} else {
		size_t hl = strlen(namehex);

		if (hl % 2 || hl / 2 > sizeof(name) || hl < 4)
			return usage_error("admin", "--name: the object's Name in hex");
		for (size_t i = 0; i < hl / 2; i++) {
			unsigned v;

			if (sscanf(namehex + 2 * i, "%2x", &v) != 1)
				return usage_error("admin", "--name: not hex");
			name[i] = (uint8_t)v;
		}
		nl = hl / 2;
	}
	if ((r = m_read_file(secf, M_CRED_SECRET_MAX, &sec, &sl)) < 0)
		return fail(EXIT_INPUT, r, "%s", secf);
	r = m_make_credential(&ek, name, nl, sec, sl, &cred);
	explicit_bzero(sec, sl);
	free(sec);
	if (r < 0)
		return fail(EXIT_INPUT, r, "MakeCredential");
	f = fopen(out, "we");
	if (!f || fwrite(hdr, 1, 8, f) != 8 || fwrite(cred.blob, 1, cred.blob_len, f) != cred.blob_len ||
	    fwrite(cred.secret, 1, cred.secret_len, f) != cred.secret_len) {
		if (f)
			fclose(f);
		return fail(EXIT_INPUT, m_err(-EIO, "%s: cannot write", out), "credential");
	}
	if (fclose(f) != 0)
		return fail(EXIT_INPUT, m_err(-EIO, "%s: cannot write", out), "credential");
	return EXIT_OK;
}

int cmd_admin(int argc, char **argv)
{
	const char *db = getenv("MEASURED_DB");
	struct m_store *st = NULL;
	int i = 1, r;

	if (!db || !*db)
		db = "sqlite:measured.db";
	while (i < argc && argv[i][0] == '-') {
		if ((!strcmp(argv[i], "--db") || !strcmp(argv[i], "-d")) && i + 1 < argc) {
			db = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--db=", 5)) {
			db = argv[i] + 5;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			help();
			return EXIT_OK;
		} else {
			return usage_error("admin", "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc)
		return usage_error("admin", "a command is needed (see --help)");
	if (!strcmp(argv[i], "credential"))
		return credential_cmd(argc - i, argv + i);
	if (strcmp(argv[i], "policy") && strcmp(argv[i], "payload") && strcmp(argv[i], "machine") &&
	    strcmp(argv[i], "audit") && strcmp(argv[i], "dashboard-token"))
		return usage_error("admin", "unknown command '%s'", argv[i]);
	if ((r = open_db(db, &st)) != 0)
		return r;
	if (!strcmp(argv[i], "policy") && i + 1 < argc && !strcmp(argv[i + 1], "add"))
		r = policy_add(st, argc - i - 1, argv + i + 1);
	else if (!strcmp(argv[i], "policy") && i + 1 < argc && !strcmp(argv[i + 1], "list"))
		r = admin_policy_list(st, i + 2 < argc && !strcmp(argv[i + 2], "--json"));
	else if (!strcmp(argv[i], "policy") && i + 1 < argc && !strcmp(argv[i + 1], "manifest"))
		r = admin_policy_manifest(st, argc - i - 1, argv + i + 1);
	else if (!strcmp(argv[i], "payload") && i + 1 < argc && !strcmp(argv[i + 1], "add"))
		r = payload_add(st, argc - i - 1, argv + i + 1);
	else if (!strcmp(argv[i], "machine"))
		r = machine_cmd(st, argc - i, argv + i);
	else if (!strcmp(argv[i], "audit"))
		r = audit_cmd(st, argc - i, argv + i);
	else if (!strcmp(argv[i], "dashboard-token"))
		r = admin_dashboard_token(st, argc - i, argv + i);
	else
		r = usage_error("admin", "policy add|list|manifest, payload add");
	m_store_close(st);
	return r;
}
