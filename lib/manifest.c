// SPDX-License-Identifier: MIT
/* Reference manifest: building, writing and loading.  Format: docs/manifest.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json.h>
#include "measured/json.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/manifest.h"

struct m_manifest *m_manifest_new(unsigned banks)
{
	struct m_manifest *m = calloc(1, sizeof(*m));

	if (m)
		m->banks = banks;
	return m;
}

void m_manifest_free(struct m_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->count; i++) {
		free(m->ev[i].description);
		free(m->ev[i].source);
	}
	for (unsigned p = 0; p < M_PCR_COUNT; p++)
		free(m->pcr_source[p]);
	free(m->ev);
	free(m);
}

static int note_source(struct m_manifest *m, uint32_t pcr, const char *source)
{
	char *s;

	if (!m->pcr_source[pcr])
		return (m->pcr_source[pcr] = strdup(source)) ? 0 : -ENOMEM;
	if (strcmp(m->pcr_source[pcr], source) == 0 || strstr(m->pcr_source[pcr], source))
		return 0;
	if (asprintf(&s, "%s+%s", m->pcr_source[pcr], source) < 0)
		return -ENOMEM;
	free(m->pcr_source[pcr]);
	m->pcr_source[pcr] = s;
	return 0;
}

int m_manifest_add(struct m_manifest *m, uint32_t pcr, uint32_t type, const struct m_digests *d,
		   const char *description, const char *source)
{
	struct m_ref_event *e;

	if (pcr >= M_PCR_COUNT)
		return m_err(-ERANGE, "PCR %u out of range", pcr);
	if (!(d->banks & m->banks)) {
		char want[64], have[64];
		m_bank_list_format(m->banks, want, sizeof(want));
		m_bank_list_format(d->banks, have, sizeof(have));
		return m_err(-EINVAL, "event for PCR %u has banks %s, none of the manifest's %s", pcr, have, want);
	}
	if (m->count >= M_MANIFEST_MAX_EVENTS)
		return m_err(-E2BIG, "more than %u events", M_MANIFEST_MAX_EVENTS);
	if (m->count == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 32;
		struct m_ref_event *n = realloc(m->ev, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->ev = n;
		m->cap = ncap;
	}
	e = &m->ev[m->count];
	memset(e, 0, sizeof(*e));
	e->pcr = pcr;
	e->type = type;
	e->d = *d;
	e->d.banks = d->banks & m->banks;
	e->description = strdup(description ? description : "");
	e->source = strdup(source ? source : "");
	if (!e->description || !e->source) {
		free(e->description);
		free(e->source);
		return -ENOMEM;
	}
	m->count++;
	m->pcrs |= 1u << pcr;
	return note_source(m, pcr, source ? source : "");
}

int m_manifest_add_log(struct m_manifest *m, const struct m_log *log, uint32_t pcrs, const char *source)
{
	if (!(log->banks & m->banks)) {
		char want[64], have[64];
		m_bank_list_format(m->banks, want, sizeof(want));
		m_bank_list_format(log->banks, have, sizeof(have));
		return m_err(-EINVAL, "%s carries banks %s, none of the manifest's %s", log->name, have, want);
	}
	if (log->format == M_LOG_TCG_SHA1 || log->format == M_LOG_TCG_AGILE)
		m->startup_locality = log->startup_locality;
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];
		struct m_digests d = { .banks = e->banks };
		int r;

		if (!e->extends || e->pcr >= M_PCR_COUNT || !(pcrs & (1u << e->pcr)))
			continue;
		memcpy(d.d, e->digest, sizeof(d.d));
		r = m_manifest_add(m, e->pcr, e->type, &d, e->desc, source);
		if (r < 0)
			return m_err_prefix(r, "%s: record %u", log->name, e->recnum);
	}
	return 0;
}

/*
 * A PCR is predicted in the banks every one of its events carries (the
 * compatibility mode of measured-init extends the SHA-1 bank only).
 */
int m_manifest_finish(struct m_manifest *m)
{
	unsigned pb[M_PCR_COUNT];

	for (unsigned p = 0; p < M_PCR_COUNT; p++)
		pb[p] = m->banks;
	for (size_t i = 0; i < m->count; i++)
		pb[m->ev[i].pcr] &= m->ev[i].d.banks;
	memset(&m->values, 0, sizeof(m->values));
	for (unsigned p = 0; p < M_PCR_COUNT; p++) {
		if (!(m->pcrs & (1u << p)))
			continue;
		if (!pb[p])
			return m_err(-EINVAL, "PCR %u: its events share no bank", p);
		for_each_bank(b, pb[p]) {
			m_pcr_initial(b, p, m->startup_locality, m->values.v[b][p]);
			/* GETSEC[SENTER]'s locality-4 reset: the DRTM PCRs start at 0 */
			if (m->dynamic_launch && p >= 17 && p <= 22)
				memset(m->values.v[b][p], 0, m_bank_info(b)->size);
			m->values.present[b] |= 1u << p;
		}
	}
	for (size_t i = 0; i < m->count; i++) {
		const struct m_ref_event *e = &m->ev[i];

		for_each_bank(b, pb[e->pcr]) {
			int r = m_extend(b, m->values.v[b][e->pcr], e->d.d[b]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/** m_manifest_pcr_banks() - the banks PCR @pcr is predicted in (after finish). */
unsigned m_manifest_pcr_banks(const struct m_manifest *m, unsigned pcr)
{
	unsigned banks = 0;

	for_each_bank(b, m->banks)
		if (m->values.present[b] & (1u << pcr))
			banks |= M_BANK_BIT(b);
	return banks;
}

static json_object *digests_json(unsigned banks, const struct m_digests *d)
{
	json_object *o = json_object_new_object();
	char hex[2 * M_DIGEST_MAX + 1];

	for_each_bank(b, banks) {
		m_hex(d->d[b], m_bank_info(b)->size, hex);
		json_object_object_add(o, m_bank_info(b)->name, json_object_new_string(hex));
	}
	return o;
}

int m_manifest_write(const struct m_manifest *m, FILE *f)
{
	json_object *root = json_object_new_object(), *banks = json_object_new_array();
	json_object *pcrs = json_object_new_array();
	const char *s;
	int r = 0;

	json_object_object_add(root, "format", json_object_new_string("measured-manifest"));
	json_object_object_add(root, "version", json_object_new_int(M_MANIFEST_VERSION));
	json_object_object_add(root, "generator", json_object_new_string("measured " MEASURED_VERSION));
	for_each_bank(b, m->banks)
		json_object_array_add(banks, json_object_new_string(m_bank_info(b)->name));
	json_object_object_add(root, "banks", banks);
	json_object_object_add(root, "startup_locality", json_object_new_int(m->startup_locality));
	json_object_object_add(root, "dynamic_launch", json_object_new_boolean(m->dynamic_launch));
	for (unsigned p = 0; p < M_PCR_COUNT; p++) {
		json_object *po, *evs;
		unsigned pb = m_manifest_pcr_banks(m, p);
		struct m_digests vals = { .banks = pb };
		size_t k = 0;

		if (!(m->pcrs & (1u << p)))
			continue;
		po = json_object_new_object();
		evs = json_object_new_array();
		json_object_object_add(po, "pcr", json_object_new_int((int)p));
		json_object_object_add(po, "source", json_object_new_string(m->pcr_source[p] ? m->pcr_source[p] : ""));
		for_each_bank(b, pb)
			memcpy(vals.d[b], m->values.v[b][p], m_bank_info(b)->size);
		json_object_object_add(po, "values", digests_json(pb, &vals));
		for (size_t i = 0; i < m->count; i++) {
			const struct m_ref_event *e = &m->ev[i];
			json_object *eo;
			const char *tn;

			if (e->pcr != p)
				continue;
			eo = json_object_new_object();
			json_object_object_add(eo, "index", json_object_new_int64((int64_t)k++));
			json_object_object_add(eo, "type", json_object_new_int64(e->type));
			tn = m_tcg_event_type_name(e->type);
			if (tn && e->type)
				json_object_object_add(eo, "type_name", json_object_new_string(tn));
			json_object_object_add(eo, "description", json_object_new_string(e->description));
			json_object_object_add(eo, "source", json_object_new_string(e->source));
			json_object_object_add(eo, "digests", digests_json(e->d.banks, &e->d));
			json_object_array_add(evs, eo);
		}
		json_object_object_add(po, "events", evs);
		json_object_array_add(pcrs, po);
	}
	json_object_object_add(root, "pcrs", pcrs);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (fputs(s, f) < 0 || fputs("\n", f) < 0)
		r = m_err(-EIO, "writing the manifest failed");
	json_object_put(root);
	return r;
}

/* ---- loading ---- */

static int get_field(json_object *o, const char *key, json_type t, json_object **ret, const char *where)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return m_err(-EINVAL, "%s: missing field \"%s\"", where, key);
	if (!json_object_is_type(v, t))
		return m_err(-EINVAL, "%s: field \"%s\" has the wrong type", where, key);
	*ret = v;
	return 0;
}

/* {"sha256": "hex", ...}: known banks of @allowed only, at least one. */
static int parse_digests(json_object *o, unsigned allowed, struct m_digests *ret, const char *where)
{
	struct m_digests d = { .banks = 0 };

	json_object_object_foreach(o, key, val) {
		int b = m_bank_by_name(key), r;

		if (b < 0 || !(allowed & M_BANK_BIT(b)))
			return m_err(-EINVAL, "%s: bank \"%s\" is not one of the manifest's banks", where, key);
		if (!json_object_is_type(val, json_type_string))
			return m_err(-EINVAL, "%s: %s digest is not a string", where, key);
		r = m_unhex(json_object_get_string(val), d.d[b], m_bank_info(b)->size);
		if (r < 0)
			return m_err(r, "%s: %s digest: %s", where, key, m_errmsg(r));
		d.banks |= M_BANK_BIT(b);
	}
	if (!d.banks)
		return m_err(-EINVAL, "%s: no digests", where);
	*ret = d;
	return 0;
}

/* "format", "version" and "banks": what every manifest starts with. */
static int parse_header(json_object *root, const char *name, unsigned *ret_banks)
{
	json_object *v, *banks;
	unsigned bmask = 0;
	int r;

	if (!json_object_is_type(root, json_type_object))
		return m_err(-EINVAL, "%s: not a JSON object", name);
	if ((r = get_field(root, "format", json_type_string, &v, name)) < 0)
		return r;
	if (strcmp(json_object_get_string(v), "measured-manifest") != 0)
		return m_err(-EINVAL, "%s: format is \"%s\", not \"measured-manifest\"", name, json_object_get_string(v));
	if ((r = get_field(root, "version", json_type_int, &v, name)) < 0)
		return r;
	if (json_object_get_int(v) != M_MANIFEST_VERSION)
		return m_err(-EPROTONOSUPPORT, "%s: manifest version %d, this build reads version %d", name,
			     json_object_get_int(v), M_MANIFEST_VERSION);
	if ((r = get_field(root, "banks", json_type_array, &banks, name)) < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(banks); i++) {
		json_object *b = json_object_array_get_idx(banks, i);
		int bi = json_object_is_type(b, json_type_string) ? m_bank_by_name(json_object_get_string(b)) : -1;
		if (bi < 0)
			return m_err(-EINVAL, "%s: banks[%zu] is not a known bank", name, i);
		bmask |= M_BANK_BIT(bi);
	}
	if (!bmask)
		return m_err(-EINVAL, "%s: no banks", name);
	*ret_banks = bmask;
	return 0;
}

/* How the PCRs start: "startup_locality" (0, 3 or 4, as in event logs:
 * docs/eventlog.md) and "dynamic_launch". */
static int parse_start(json_object *root, const char *name, struct m_manifest *m)
{
	json_object *v;

	if (json_object_object_get_ex(root, "startup_locality", &v)) {
		int loc = json_object_get_int(v);

		if (!json_object_is_type(v, json_type_int) || (loc != 0 && loc != 3 && loc != 4))
			return m_err(-EINVAL, "%s: startup_locality must be 0, 3 or 4", name);
		m->startup_locality = (uint8_t)loc;
	}
	if (json_object_object_get_ex(root, "dynamic_launch", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return m_err(-EINVAL, "%s: dynamic_launch must be true or false", name);
		m->dynamic_launch = json_object_get_boolean(v);
	}
	return 0;
}

/* One of pcrs[].events[]: digests, type, description, source. */
static int parse_event(json_object *eo, const char *ewhere, struct m_manifest *m, uint32_t pcr)
{
	json_object *dj, *t, *dsc, *es;
	struct m_digests d;
	int r;

	if (!json_object_is_type(eo, json_type_object))
		return m_err(-EINVAL, "%s: not an object", ewhere);
	if ((r = get_field(eo, "digests", json_type_object, &dj, ewhere)) < 0 ||
	    (r = parse_digests(dj, m->banks, &d, ewhere)) < 0 ||
	    (r = get_field(eo, "type", json_type_int, &t, ewhere)) < 0)
		return r;
	if (json_object_get_int64(t) < 0 || json_object_get_int64(t) > UINT32_MAX)
		return m_err(-EINVAL, "%s: type out of range", ewhere);
	dsc = json_object_object_get_ex(eo, "description", &dsc) ? dsc : NULL;
	es = json_object_object_get_ex(eo, "source", &es) ? es : NULL;
	return m_manifest_add(m, pcr, (uint32_t)json_object_get_int64(t), &d, dsc ? json_object_get_string(dsc) : "",
			      es ? json_object_get_string(es) : "");
}

/* The values are a summary of the events: they must agree. */
static int check_values(struct m_manifest *m, unsigned pcr, const struct m_digests *want, const char *where)
{
	struct m_manifest tmp = *m;
	unsigned pb;
	int r;

	r = m_manifest_finish(&tmp);
	if (r < 0)
		return r;
	m->values = tmp.values;
	pb = m_manifest_pcr_banks(m, pcr);
	if (want->banks != pb)
		return m_err(-EINVAL, "%s: values must list exactly the banks all its events carry", where);
	for_each_bank(b, pb)
		if (memcmp(m->values.v[b][pcr], want->d[b], m_bank_info(b)->size) != 0)
			return m_err(-EINVAL, "%s: %s value does not follow from its events", where,
				     m_bank_info(b)->name);
	return 0;
}

/* One of pcrs[]: its number, events, optional source, and values. */
static int parse_pcr(json_object *po, const char *where, struct m_manifest *m)
{
	json_object *v, *evs, *vals, *src;
	struct m_digests want;
	int64_t pcr;
	int r;

	if (!json_object_is_type(po, json_type_object))
		return m_err(-EINVAL, "%s: not an object", where);
	if ((r = get_field(po, "pcr", json_type_int, &v, where)) < 0)
		return r;
	pcr = json_object_get_int64(v);
	if (pcr < 0 || pcr >= M_PCR_COUNT || (m->pcrs & (1u << pcr)))
		return m_err(-EINVAL, "%s: pcr %lld out of range or repeated", where, (long long)pcr);
	if ((r = get_field(po, "events", json_type_array, &evs, where)) < 0 ||
	    (r = get_field(po, "values", json_type_object, &vals, where)) < 0 ||
	    (r = parse_digests(vals, m->banks, &want, where)) < 0)
		return r;
	if (json_object_array_length(evs) == 0)
		return m_err(-EINVAL, "%s: no events", where);
	for (size_t k = 0; k < json_object_array_length(evs); k++) {
		char ewhere[300];

		if ((r = m_snprintf(ewhere, sizeof(ewhere), "%s.events[%zu]", where, k)) < 0 ||
		    (r = parse_event(json_object_array_get_idx(evs, k), ewhere, m, (uint32_t)pcr)) < 0)
			return r;
	}
	if (json_object_object_get_ex(po, "source", &src) && json_object_is_type(src, json_type_string)) {
		free(m->pcr_source[pcr]);
		m->pcr_source[pcr] = strdup(json_object_get_string(src));
		if (!m->pcr_source[pcr])
			return m_err(-ENOMEM, "%s: out of memory", where);
	}
	return check_values(m, (unsigned)pcr, &want, where);
}

/* A manifest (docs/manifest.md): header, how PCRs start, each PCR. */
static int parse_root(json_object *root, const char *name, struct m_manifest **ret)
{
	json_object *pcrs;
	struct m_manifest *m = NULL;
	unsigned bmask = 0;
	int r;

	if ((r = parse_header(root, name, &bmask)) < 0 ||
	    (r = get_field(root, "pcrs", json_type_array, &pcrs, name)) < 0)
		return r;
	m = m_manifest_new(bmask);
	if (!m)
		return -ENOMEM;
	r = parse_start(root, name, m);
	for (size_t i = 0; r == 0 && i < json_object_array_length(pcrs); i++) {
		char where[256];

		r = m_snprintf(where, sizeof(where), "%.200s: pcrs[%zu]", name, i);
		if (r >= 0)
			r = parse_pcr(json_object_array_get_idx(pcrs, i), where, m);
	}
	if (r >= 0)
		r = m_manifest_finish(m);
	if (r < 0) {
		m_manifest_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int m_manifest_parse(const char *json, size_t len, const char *name, struct m_manifest **ret)
{
	struct m_json_error err;
	json_object *root;
	int r;

	if (len > M_MANIFEST_MAX_SIZE)
		return m_err(-EFBIG, "%s: over the limit of %u bytes", name, M_MANIFEST_MAX_SIZE);
	root = m_json_parse(json, len, 32, 0, &err);	/* a manifest is 5 levels deep */
	if (!root)
		return m_err(-EINVAL, "%s: bad JSON at byte %zu: %s", name, err.offset, err.reason);
	r = parse_root(root, name, ret);
	json_object_put(root);
	return r;
}

int m_manifest_load(const char *path, struct m_manifest **ret)
{
	uint8_t *buf;
	size_t len;
	int r = m_read_file(path, M_MANIFEST_MAX_SIZE, &buf, &len);

	if (r < 0)
		return r;
	r = m_manifest_parse((const char *)buf, len, path, ret);
	free(buf);
	return r;
}
