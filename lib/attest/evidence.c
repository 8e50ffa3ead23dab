// SPDX-License-Identifier: MIT
/*
 * The evidence document (docs/evidence.md): JSON with the TPM structures as
 * base64 of their TPM wire form, exactly as the TPM returned them, so the
 * signature can be checked over the same bytes.  json-c parses, with a
 * depth limit; every error names the field.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "measured/attest.h"
#include "measured/base64.h"
#include "measured/json.h"
#include "measured/error.h"
#include "measured/file.h"

#define JSON_MAX_DEPTH 8	/* the document nests 3 deep */

struct m_evidence *m_evidence_new(void)
{
	struct m_evidence *ev = calloc(1, sizeof(*ev));

	if (ev) {
		ev->version = M_EVIDENCE_VERSION;
		ev->tpm_family = 20;
	}
	return ev;
}

void m_evidence_free(struct m_evidence *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->nlogs; i++)
		free(ev->log[i].data);
	free(ev);
}

/* the checks of m_evidence_add_log(); @data (malloc'd) becomes the log's, on success only */
static int add_log_owned(struct m_evidence *ev, const char *format, uint8_t *data, size_t len)
{
	struct m_evidence_log *l;

	if (ev->nlogs >= M_EVIDENCE_MAX_LOGS)
		return m_err(-E2BIG, "evidence: more than %u event logs", M_EVIDENCE_MAX_LOGS);
	if (len == 0 || len > M_LOG_MAX_SIZE)
		return m_err(-EINVAL, "evidence: event log of %zu bytes (1 to %u)", len, M_LOG_MAX_SIZE);
	if (strlen(format) >= sizeof(l->format))
		return m_err(-EINVAL, "evidence: a log format name of %zu characters (at most %zu)", strlen(format),
			     sizeof(l->format) - 1);
	l = &ev->log[ev->nlogs];
	l->data = data;
	l->len = len;
	snprintf(l->format, sizeof(l->format), "%s", format);
	ev->nlogs++;
	return 0;
}

int m_evidence_add_log(struct m_evidence *ev, const char *format, const void *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	r = add_log_owned(ev, format, copy, len);
	if (r < 0)
		free(copy);
	return r;
}

/* ---- writing ---- */

static json_object *b64_obj(const uint8_t *d, size_t n)
{
	char *s = m_b64_encode(d, n);
	json_object *o;

	if (!s)
		return NULL;
	o = json_object_new_string(s);
	free(s);
	return o;
}

static json_object *hex_obj(const uint8_t *d, size_t n)
{
	char s[2 * 128 + 1];

	m_hex(d, n, s);
	return json_object_new_string(s);
}

int m_evidence_to_json_object(const struct m_evidence *ev, struct json_object **ret)
{
	json_object *root = json_object_new_object(), *q, *sel, *pcrs, *logs;

	if (!root)
		return -ENOMEM;
	json_object_object_add(root, "version", json_object_new_int((int)ev->version));
	if (ev->tpm_family == 12)
		json_object_object_add(root, "tpm", json_object_new_string("1.2"));
	json_object_object_add(root, "nonce", hex_obj(ev->nonce, ev->nonce_len));
	sel = json_object_new_object();
	pcrs = json_object_new_object();
	q = json_object_new_object();
	logs = json_object_new_array();
	json_object_object_add(root, "pcr_selection", sel);
	json_object_object_add(root, "ak_public", b64_obj(ev->ak_pub, ev->ak_pub_len));
	json_object_object_add(root, "quote", q);
	json_object_object_add(root, "pcrs", pcrs);
	json_object_object_add(root, "eventlogs", logs);
	if (!sel || !pcrs || !q || !logs) {
		json_object_put(root);
		return -ENOMEM;
	}
	json_object_object_add(q, "attest", b64_obj(ev->attest, ev->attest_len));
	json_object_object_add(q, "signature", b64_obj(ev->sig, ev->sig_len));
	for_each_bank(b, M_BANKS_ALL) {
		json_object *list, *vals;

		if (ev->sel[b]) {
			list = json_object_new_array();
			for (unsigned p = 0; p < M_PCR_COUNT; p++)
				if (ev->sel[b] & (1u << p))
					json_object_array_add(list, json_object_new_int((int)p));
			json_object_object_add(sel, m_bank_info(b)->name, list);
		}
		if (ev->pcrs.present[b]) {
			vals = json_object_new_object();
			for (unsigned p = 0; p < M_PCR_COUNT; p++) {
				char k[4];

				if (!(ev->pcrs.present[b] & (1u << p)))
					continue;
				snprintf(k, sizeof(k), "%u", p);
				json_object_object_add(vals, k, hex_obj(ev->pcrs.v[b][p], m_bank_info(b)->size));
			}
			json_object_object_add(pcrs, m_bank_info(b)->name, vals);
		}
	}
	for (size_t i = 0; i < ev->nlogs; i++) {
		json_object *l = json_object_new_object();

		json_object_object_add(l, "format", json_object_new_string(ev->log[i].format));
		json_object_object_add(l, "data", b64_obj(ev->log[i].data, ev->log[i].len));
		json_object_array_add(logs, l);
	}
	*ret = root;
	return 0;
}

int m_evidence_to_json(const struct m_evidence *ev, char **ret)
{
	json_object *root;
	const char *text;
	int r = m_evidence_to_json_object(ev, &root);

	if (r < 0)
		return r;
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	r = text && (*ret = strdup(text)) ? 0 : -ENOMEM;
	json_object_put(root);
	return r;
}

/* ---- reading ---- */

static int get(json_object *o, const char *key, json_type t, const char *field, json_object **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return m_err(-EINVAL, "%s: missing", field);
	if (!json_object_is_type(v, t))
		return m_err(-EINVAL, "%s: wrong JSON type (%s expected)", field, json_type_to_name(t));
	*ret = v;
	return 0;
}

static int get_b64(json_object *o, const char *key, const char *field, uint8_t *buf, size_t max,
		   size_t *ret_len)
{
	json_object *v;
	int r = get(o, key, json_type_string, field, &v);

	if (r < 0)
		return r;
	r = m_b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), max, buf, NULL,
			 ret_len);
	/* every malformed field is -EINVAL here, named, with the decoder's reason */
	return r == -ENOMEM ? r : r < 0 ? m_err(-EINVAL, "%s: %s", field, m_errmsg(r)) : 0;
}

static int parse_pcrs(json_object *o, struct m_evidence *ev)
{
	json_object_object_foreach(o, bank, vals) {
		int b = m_bank_by_name(bank);

		if (b < 0)
			return m_err(-EINVAL, "pcrs: unknown bank '%s'", bank);
		if (!json_object_is_type(vals, json_type_object))
			return m_err(-EINVAL, "pcrs.%s: wrong JSON type (object expected)", bank);
		json_object_object_foreach(vals, key, val) {
			char *end;
			unsigned long p = strtoul(key, &end, 10);
			size_t n = m_bank_info(b)->size;

			if (!*key || *end || p >= M_PCR_COUNT)
				return m_err(-EINVAL, "pcrs.%s: '%s' is not a PCR number 0-23", bank, key);
			if (!json_object_is_type(val, json_type_string) ||
			    strlen(json_object_get_string(val)) != 2 * n ||
			    m_unhex(json_object_get_string(val), ev->pcrs.v[b][p], n) < 0)
				return m_err(-EINVAL, "pcrs.%s.%s: not %zu bytes of hex", bank, key, n);
			ev->pcrs.present[b] |= 1u << p;
		}
	}
	return 0;
}

static int parse_selection(json_object *o, struct m_evidence *ev)
{
	json_object_object_foreach(o, bank, list) {
		int b = m_bank_by_name(bank);

		if (b < 0)
			return m_err(-EINVAL, "pcr_selection: unknown bank '%s'", bank);
		if (!json_object_is_type(list, json_type_array))
			return m_err(-EINVAL, "pcr_selection.%s: wrong JSON type (array expected)", bank);
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *v = json_object_array_get_idx(list, i);
			int p = json_object_get_int(v);

			if (!json_object_is_type(v, json_type_int) || p < 0 || p >= (int)M_PCR_COUNT)
				return m_err(-EINVAL, "pcr_selection.%s[%zu]: not a PCR number 0-23", bank, i);
			ev->sel[b] |= 1u << p;
		}
	}
	return 0;
}

static int parse_logs(json_object *arr, struct m_evidence *ev)
{
	size_t n = json_object_array_length(arr);

	if (n > M_EVIDENCE_MAX_LOGS)
		return m_err(-E2BIG, "eventlogs: %zu logs (at most %u)", n, M_EVIDENCE_MAX_LOGS);
	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(arr, i), *f, *d;
		char field[48];
		uint8_t *data;
		size_t len;
		int r;

		snprintf(field, sizeof(field), "eventlogs[%zu]", i);
		if (!json_object_is_type(l, json_type_object))
			return m_err(-EINVAL, "%s: wrong JSON type (object expected)", field);
		snprintf(field, sizeof(field), "eventlogs[%zu].format", i);
		r = get(l, "format", json_type_string, field, &f);
		if (r < 0)
			return r;
		snprintf(field, sizeof(field), "eventlogs[%zu].data", i);
		r = get(l, "data", json_type_string, field, &d);
		if (r < 0)
			return r;
		r = m_b64_decode(json_object_get_string(d), (size_t)json_object_get_string_len(d), M_LOG_MAX_SIZE,
				 NULL, &data, &len);
		if (r < 0)
			return r == -ENOMEM ? r : m_err(-EINVAL, "%s: %s", field, m_errmsg(r));
		/* the decoded bytes become the log's: not copied once more */
		r = add_log_owned(ev, json_object_get_string(f), data, len);
		if (r < 0)
			free(data);
		if (r < 0)
			return m_err_prefix(r, "eventlogs[%zu]", i);
	}
	return 0;
}

static int parse_doc(json_object *root, struct m_evidence *ev)
{
	json_object *v, *q;
	const char *hex;
	int r;

	if (!json_object_is_type(root, json_type_object))
		return m_err(-EINVAL, "evidence: not a JSON object");
	r = get(root, "version", json_type_int, "version", &v);
	if (r < 0)
		return r;
	if (json_object_get_int(v) != M_EVIDENCE_VERSION)
		return m_err(-EINVAL, "version: %d unsupported (this is version %d)", json_object_get_int(v),
			     M_EVIDENCE_VERSION);
	ev->tpm_family = 20;
	if (json_object_object_get_ex(root, "tpm", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    (strcmp(json_object_get_string(v), "1.2") && strcmp(json_object_get_string(v), "2.0")))
			return m_err(-EINVAL, "tpm: \"1.2\" or \"2.0\" expected");
		if (!strcmp(json_object_get_string(v), "1.2"))
			ev->tpm_family = 12;
	}
	r = get(root, "nonce", json_type_string, "nonce", &v);
	if (r < 0)
		return r;
	hex = json_object_get_string(v);
	ev->nonce_len = strlen(hex) / 2;
	if (strlen(hex) % 2 || ev->nonce_len > M_NONCE_MAX ||
	    (ev->nonce_len && m_unhex(hex, ev->nonce, ev->nonce_len) < 0))
		return m_err(-EINVAL, "nonce: not hex of at most %zu bytes", M_NONCE_MAX);
	r = get_b64(root, "ak_public", "ak_public", ev->ak_pub, M_AKPUB_MAX, &ev->ak_pub_len);
	if (r < 0)
		return r;
	r = get(root, "quote", json_type_object, "quote", &q);
	if (r < 0)
		return r;
	r = get_b64(q, "attest", "quote.attest", ev->attest, M_ATTEST_MAX, &ev->attest_len);
	if (r < 0)
		return r;
	r = get_b64(q, "signature", "quote.signature", ev->sig, M_SIG_MAX, &ev->sig_len);
	if (r < 0)
		return r;
	r = get(root, "pcr_selection", json_type_object, "pcr_selection", &v);
	if (r < 0 || (r = parse_selection(v, ev)) < 0)
		return r;
	r = get(root, "pcrs", json_type_object, "pcrs", &v);
	if (r < 0 || (r = parse_pcrs(v, ev)) < 0)
		return r;
	/* logs are optional */
	if (json_object_object_get_ex(root, "eventlogs", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return m_err(-EINVAL, "eventlogs: wrong JSON type (array expected)");
		r = parse_logs(v, ev);
		if (r < 0)
			return r;
	}
	return 0;
}

int m_evidence_from_json(const char *text, size_t len, struct m_evidence **ret)
{
	struct m_json_error err;
	json_object *root;
	int r;

	if (len > M_EVIDENCE_MAX_SIZE)
		return m_err(-E2BIG, "evidence: %zu bytes (at most %u)", len, M_EVIDENCE_MAX_SIZE);
	root = m_json_parse(text, len, JSON_MAX_DEPTH, 0, &err);
	if (!root)
		return m_err(-EINVAL, "evidence: bad JSON at byte %zu (%s)", err.offset, err.reason);
	r = m_evidence_from_json_object(root, ret);
	json_object_put(root);
	return r;
}

int m_evidence_from_json_object(struct json_object *root, struct m_evidence **ret)
{
	struct m_evidence *ev = m_evidence_new();
	int r;

	if (!ev)
		return -ENOMEM;
	r = parse_doc(root, ev);
	if (r < 0) {
		m_evidence_free(ev);
		return r;
	}
	*ret = ev;
	return 0;
}

int m_evidence_load(const char *path, struct m_evidence **ret)
{
	uint8_t *text;
	size_t len;
	int r = m_read_file(path, M_EVIDENCE_MAX_SIZE, &text, &len);

	if (r < 0)
		return r;
	r = m_evidence_from_json((const char *)text, len, ret);
	if (r < 0)
		m_err_prefix(r, "%s", path);
	free(text);
	return r;
}

int m_evidence_add_log_file(struct m_evidence *ev, const char *path, uint32_t only_pcrs)
{
	struct m_log *log;
	uint8_t *data;
	size_t len;
	int r = m_read_file(path, M_LOG_MAX_SIZE, &data, &len);

	if (r < 0)
		return r;
	r = m_log_parse_flags(data, len, path, M_LOG_NO_DESC, &log);
	if (r >= 0) {
		bool touches = !only_pcrs;

		for (size_t i = 0; i < log->count && !touches; i++)
			touches = log->ev[i].extends && log->ev[i].pcr < M_PCR_COUNT &&
				  (only_pcrs & (1u << log->ev[i].pcr));
		if (touches)
			r = m_evidence_add_log(ev, m_log_format_name(log->format), data, len);
		m_log_free(log);
	}
	free(data);
	return r;
}
