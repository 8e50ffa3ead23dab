// SPDX-License-Identifier: MIT
/*
 * measured admin, rollouts: a policy's named manifests (`policy manifest
 * add|retire|list`), `policy list` with each policy's labels, and what each
 * machine matched last, for `machine list` (docs/server.md, "Rollouts").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "admin.h"
#include "common.h"
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/manifest.h"
#include "measured/text.h"

/* a label on the command line: the store's rule for names, or a usage error naming it escaped */
static int check_label(const char *label)
{
	char *e;

	if (m_store_name_ok(label, strlen(label)))
		return 0;
	e = m_text_escape_str(label);
	usage_error("admin", "manifest label '%s': 1 to %u characters of [A-Za-z0-9._-]", e ? e : "",
		    M_STORE_NAME_MAX - 1);
	free(e);
	return EXIT_USAGE;
}

static int check_policy_name(const char *name)
{
	char *e;

	if (m_store_name_ok(name, strlen(name)))
		return 0;
	e = m_text_escape_str(name);
	usage_error("admin", "policy '%s': 1 to %u characters of [A-Za-z0-9._-]", e ? e : "", M_STORE_NAME_MAX - 1);
	free(e);
	return EXIT_USAGE;
}

static int policy_head(struct m_store *st, const char *name, struct m_policy *ret)
{
	int r = m_store_policy_head(st, name, ret);

	if (r == -ENOENT)
		return fail(EXIT_INPUT, m_err(-ENOENT, "no policy '%s' (see `admin policy list`)", name), "policy");
	return r < 0 ? fail(EXIT_INPUT, r, "policy") : 0;
}

int admin_manifest_fits(const struct m_manifest *m, const char *file, const struct m_policy *pol,
			const char *hint)
{
	if (!(m->pcrs & ~pol->pcrs) && (m->banks & pol->banks))
		return 0;
	return fail(EXIT_INPUT, m_err(-EINVAL, "%s predicts PCRs 0x%08" PRIx32 " in banks 0x%x; policy '%s' quotes"
				      " PCRs 0x%08" PRIx32 " in banks 0x%x (%s)", file, m->pcrs, m->banks,
				      pol->name, pol->pcrs, pol->banks, hint),
		    "manifest");
}

/*
 * A manifest the policy can use: it parses, and it fits the policy
 * (admin_manifest_fits()).
 */
static int manifest_load(const char *file, const struct m_policy *pol, char **ret_text)
{
	struct m_manifest *m = NULL;
	uint8_t *text = NULL;
	char *t;
	size_t len;
	int r;

	r = m_read_file(file, M_STORE_MANIFEST_MAX, &text, &len);
	if (r < 0)
		return fail(EXIT_INPUT, r, "%s", file);
	r = m_manifest_parse((const char *)text, len, file, &m);
	if (r < 0) {
		free(text);
		return fail(EXIT_INPUT, r, "manifest");
	}
	if ((r = admin_manifest_fits(m, file, pol, "replace it with `policy add` to change what it quotes"))) {
		m_manifest_free(m);
		free(text);
		return r;
	}
	m_manifest_free(m);
	t = realloc(text, len + 1);
	if (!t) {
		free(text);
		return fail(EXIT_INTERNAL, -ENOMEM, "manifest");
	}
	t[len] = 0;
	*ret_text = t;
	return 0;
}

static int manifest_add(struct m_store *st, const char *policy, const char *label, const char *file)
{
	struct m_policy pol;
	char *text = NULL, detail[2 * M_STORE_NAME_MAX];
	int r;

	if ((r = policy_head(st, policy, &pol)) != 0)
		return r;
	if ((r = manifest_load(file, &pol, &text)) != 0)
		return r;
	r = m_store_policy_manifest_add(st, policy, label, text);
	free(text);
	if (r < 0)
		return fail(EXIT_INPUT, r, "policy manifest add");
	snprintf(detail, sizeof(detail), "%s:%s", policy, label);
	m_store_audit(st, "", "policy-manifest-add", "ok", "", detail);
	return EXIT_OK;
}

static int manifest_retire(struct m_store *st, const char *policy, const char *label)
{
	char detail[2 * M_STORE_NAME_MAX];
	int r = m_store_policy_manifest_retire(st, policy, label);

	if (r < 0)
		return fail(EXIT_INPUT, r, "policy manifest retire");
	snprintf(detail, sizeof(detail), "%s:%s", policy, label);
	m_store_audit(st, "", "policy-manifest-retire", "ok", "", detail);
	return EXIT_OK;
}

/* ---- listings: collected first (a store handle runs one statement at a time) ---- */

struct labels {
	size_t n;
	char label[M_STORE_MANIFESTS_MAX][M_STORE_NAME_MAX];
	int64_t added_at[M_STORE_MANIFESTS_MAX];
};

static int label_row(const struct m_policy_manifest *pm, void *arg)
{
	struct labels *l = arg;

	if (l->n == M_STORE_MANIFESTS_MAX)
		return m_err(-E2BIG, "more than %u manifests in one policy", M_STORE_MANIFESTS_MAX);
	memcpy(l->label[l->n], pm->label, sizeof(pm->label));
	l->added_at[l->n++] = pm->added_at;
	return 0;
}

static json_object *labels_json(const struct labels *l)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < l->n; i++) {
		json_object *o = json_object_new_object();
		char *e = m_text_printable(l->label[i]);

		json_object_object_add(o, "label", json_object_new_string(e ? e : "?"));
		json_object_object_add(o, "added_at", json_object_new_int64(l->added_at[i]));
		json_object_array_add(a, o);
		free(e);
	}
	return a;
}

static int manifest_list(struct m_store *st, const char *policy, bool json)
{
	struct m_policy pol;
	struct labels l = { 0 };
	int r;

	if ((r = policy_head(st, policy, &pol)) != 0)
		return r;
	r = m_store_policy_manifests(st, policy, false, label_row, &l);
	if (r < 0)
		return fail(EXIT_INPUT, r, "policy manifest list");
	if (json) {
		json_object *a = labels_json(&l);

		puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
		json_object_put(a);
		return EXIT_OK;
	}
	for (size_t i = 0; i < l.n; i++) {
		char t[32] = "-", *e = m_text_printable(l.label[i]);
		time_t tt = (time_t)l.added_at[i];
		struct tm tm;

		if (tt && gmtime_r(&tt, &tm))
			strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%s %s\n", e ? e : "?", t);
		free(e);
	}
	return EXIT_OK;
}

int admin_policy_manifest(struct m_store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "manifest", required_argument, NULL, 'm' }, { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *file = NULL, *what;
	bool json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:j", opts, NULL)) != -1) {
		switch (c) {
		case 'm': file = optarg; break;
		case 'j': json = true; break;
		default: return usage_error("admin", "policy manifest: unknown option");
		}
	}
	if (optind + 2 > argc)
		return usage_error("admin", "policy manifest add|retire|list POLICY [LABEL]");
	what = argv[optind];
	if ((r = check_policy_name(argv[optind + 1])) != 0)
		return r;
	if (!strcmp(what, "list") && optind + 2 == argc)
		return manifest_list(st, argv[optind + 1], json);
	if (optind + 3 != argc)
		return usage_error("admin", "policy manifest add|retire POLICY LABEL");
	if ((r = check_label(argv[optind + 2])) != 0)
		return r;
	if (!strcmp(what, "add")) {
		if (!file)
			return usage_error("admin", "policy manifest add POLICY LABEL --manifest FILE");
		return manifest_add(st, argv[optind + 1], argv[optind + 2], file);
	}
	if (!strcmp(what, "retire") && !file)
		return manifest_retire(st, argv[optind + 1], argv[optind + 2]);
	return usage_error("admin", "policy manifest add|retire|list POLICY [LABEL]");
}

struct policies {
	size_t n, cap;
	struct m_policy *p;
};

static int policy_row(const struct m_policy *p, void *arg)
{
	struct policies *ps = arg;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;
		struct m_policy *np = realloc(ps->p, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		ps->p = np;
		ps->cap = cap;
	}
	ps->p[ps->n++] = *p;
	return 0;
}

int admin_policy_list(struct m_store *st, bool json)
{
	struct policies ps = { 0 };
	json_object *arr = json_object_new_array();
	int r = m_store_policy_list(st, policy_row, &ps);

	for (size_t i = 0; r == 0 && i < ps.n; i++) {
		const struct m_policy *p = &ps.p[i];
		struct labels l = { 0 };
		char banks[64], *name = m_text_printable(p->name);

		r = m_store_policy_manifests(st, p->name, false, label_row, &l);
		if (r < 0 || !name) {
			free(name);
			r = r < 0 ? r : -ENOMEM;
			break;
		}
		m_bank_list_format(p->banks, banks, sizeof(banks));
		if (json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(name));
			json_object_object_add(o, "pcrs", json_object_new_int64(p->pcrs));
			json_object_object_add(o, "banks", json_object_new_string(banks));
			json_object_object_add(o, "manifests", labels_json(&l));
			json_object_array_add(arr, o);
		} else {
			printf("%s pcrs=", name);
			for (unsigned b = 0, first = 1; b < 32; b++)
				if (p->pcrs & (1u << b)) {
					printf("%s%u", first ? "" : ",", b);
					first = 0;
				}
			printf(" banks=%s manifests=", banks);
			for (size_t k = 0; k < l.n; k++) {
				char *e = m_text_printable(l.label[k]);

				printf("%s%s", k ? "," : "", e ? e : "?");
				free(e);
			}
			putchar('\n');
		}
		free(name);
	}
	if (r == 0 && json)
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	free(ps.p);
	return r < 0 ? fail(EXIT_INPUT, r, "policy list") : EXIT_OK;
}

/* ---- what machines matched ---- */

struct admin_match {
	char name[M_STORE_NAME_MAX];
	char *matched;
};

struct admin_matches {
	size_t n, cap;
	struct admin_match *v;
};

static int match_row(const char *machine, const char *matched, void *arg)
{
	struct admin_matches *m = arg;

	if (strlen(machine) >= M_STORE_NAME_MAX || strlen(matched) >= M_STORE_MATCHED_MAX)
		return m_err(-EOVERFLOW, "a stored match record over its maximum");
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct admin_match *nv = realloc(m->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		m->v = nv;
		m->cap = cap;
	}
	if (!(m->v[m->n].matched = strdup(matched)))
		return -ENOMEM;
	strcpy(m->v[m->n++].name, machine);
	return 0;
}

static int match_cmp(const void *a, const void *b)
{
	return strcmp(((const struct admin_match *)a)->name, ((const struct admin_match *)b)->name);
}

int admin_matches_load(struct m_store *st, struct admin_matches **ret)
{
	struct admin_matches *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	r = m_store_machine_matched_list(st, match_row, m);
	if (r < 0) {
		admin_matches_free(m);
		return r;
	}
	/* the database's collation need not be strcmp's: sorted here */
	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), match_cmp);
	*ret = m;
	return 0;
}

const char *admin_matches_get(const struct admin_matches *m, const char *machine)
{
	struct admin_match key, *f;

	if (!m || !m->n || strlen(machine) >= sizeof(key.name))
		return "";
	strcpy(key.name, machine);
	f = bsearch(&key, m->v, m->n, sizeof(*m->v), match_cmp);
	return f ? f->matched : "";
}

void admin_matches_free(struct admin_matches *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].matched);
	free(m->v);
	free(m);
}
