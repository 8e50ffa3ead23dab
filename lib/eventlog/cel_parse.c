// SPDX-License-Identifier: MIT
/*
 * Reader of the TCG Canonical Event Log Format, JSON encoding (CEL-JSON,
 * TCG "Canonical Event Log Format" v1.0, section 5 "CEL-JSON"), as systemd
 * writes it to /run/log/systemd/tpm2-measure.log (docs/TPM2_PCR_MEASUREMENTS
 * in systemd): a JSON object per record with "recnum" (systemd leaves it
 * out), "pcr" (or "nv_index"), "digests" [{"hashAlg", "digest"}],
 * "content_type" and "content".
 *
 * Three framings are accepted, since tools emit all three:
 *  - RFC 7464 JSON text sequences: 0x1E, a JSON text, "\n" (systemd, us);
 *  - JSON objects one after the other (newline-delimited JSON);
 *  - one top-level JSON array of record objects (the CEL spec's own form).
 * docs/cel.md has every field, the limits and what counts as a torn record.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "measured/cel.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "log_priv.h"

#define RS 0x1e
#define EV_NO_ACTION 3u	/* TCG PC Client PFP, 10.4.1: never extended */

struct cel_ctx {
	struct m_log *log;
	bool allow_torn;
	size_t cap;		/* of log->ev */
	size_t index;		/* position of the record being read, torn ones included */
	bool have_prev;
	uint32_t prev_recnum;
	unsigned banks;		/* banks present in every record that extends */
	bool any_extends;
	size_t line_off;	/* line counting: newlines before line_off ... */
	uint32_t line;		/* ... make this the line of line_off */
};

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const struct m_log *log, size_t off, size_t end)
{
	while (off < end && is_ws(log->raw[off]))
		off++;
	return off;
}

/* 1-based line of @off; offsets only grow while a log is read, so this is linear overall. */
static uint32_t line_at(struct cel_ctx *c, size_t off)
{
	if (off < c->line_off) {
		c->line_off = 0;
		c->line = 1;
	}
	for (; c->line_off < off && c->line_off < c->log->raw_len; c->line_off++)
		if (c->log->raw[c->line_off] == '\n')
			c->line++;
	return c->line;
}

/* Every message names the file, the record's position, byte offset and line. */
__attribute__((format(printf, 4, 5)))
static int rec_err(struct cel_ctx *c, size_t off, int err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return m_err(err, "%s: record %zu (offset %zu, line %u): %s", c->log->name, c->index, off,
		     line_at(c, off), what);
}

/* Parse results besides 0 and -errno. */
#define VALUE_CUT 1

/*
 * One JSON value at @off (no further than @end): 0 with *ret_obj and the
 * bytes it took in *ret_len; VALUE_CUT if the input ends inside a value
 * that starts like a record (a prefix of an object: what a crash leaves);
 * -errno with a message otherwise.  The tokener never sees more than
 * M_CEL_MAX_RECORD bytes, so a record over the limit fails there.
 */
static int parse_value(struct cel_ctx *c, size_t off, size_t end, json_object **ret_obj, size_t *ret_len)
{
	const struct m_log *log = c->log;
	size_t avail = end - off, lim = avail > M_CEL_MAX_RECORD ? M_CEL_MAX_RECORD : avail;
	size_t first = skip_ws(log, off, off + lim);
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *obj;
	size_t used;
	char *text;

	/*
	 * json-c looks at the byte after the given length in some states (a
	 * text cut right after a backslash is judged by what follows it), so
	 * it gets a NUL-terminated copy of exactly the record's bytes.
	 */
	text = malloc(lim + 1);
	tok = json_tokener_new_ex(M_CEL_MAX_DEPTH);
	if (!tok || !text) {
		json_tokener_free(tok);
		free(text);
		return -ENOMEM;
	}
	memcpy(text, log->raw + off, lim);
	text[lim] = '\0';
	/* standard JSON only, valid UTF-8, and we find the record's end ourselves */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
				    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)lim);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	free(text);

	if (jerr == json_tokener_continue) {
		if (lim < avail)
			return rec_err(c, off, -E2BIG, "record longer than %u bytes", M_CEL_MAX_RECORD);
		if (first < off + lim && log->raw[first] != '{')
			return rec_err(c, off, -EBADMSG, "incomplete JSON that is not an object");
		return VALUE_CUT;
	}
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		if (jerr == json_tokener_error_depth)
			return rec_err(c, off, -EBADMSG, "JSON nested deeper than %d levels", M_CEL_MAX_DEPTH);
		return rec_err(c, off, -EBADMSG, "bad JSON at offset %zu: %s", off + used,
			       json_tokener_error_desc(jerr));
	}
	*ret_obj = obj;
	*ret_len = used;
	return 0;
}

static const char *type_name(json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

/* An unsigned integer up to UINT32_MAX (json-c keeps larger ones as uint64 or clamps). */
static bool get_u32(json_object *v, uint32_t *ret)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return false;
	n = json_object_get_int64(v);
	if (n < 0 || n > UINT32_MAX)
		return false;
	*ret = (uint32_t)n;
	return true;
}

/* A string without embedded NUL (\u0000 would cut it silently). */
static const char *get_str(json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

static int read_digests(struct cel_ctx *c, size_t off, json_object *rec, struct m_event *e)
{
	json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(rec, "digests", &arr))
		return rec_err(c, off, -EBADMSG, "no \"digests\"");
	if (!json_object_is_type(arr, json_type_array))
		return rec_err(c, off, -EBADMSG, "\"digests\" is %s, not an array", type_name(arr));
	n = json_object_array_length(arr);
	if (n > M_CEL_MAX_DIGESTS)
		return rec_err(c, off, -E2BIG, "%zu digests, over the limit of %d", n, M_CEL_MAX_DIGESTS);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(arr, i), *alg, *hex;
		const char *name = NULL, *h;
		uint32_t id;
		int b;

		if (!json_object_is_type(d, json_type_object))
			return rec_err(c, off, -EBADMSG, "digests[%zu] is %s, not an object", i, type_name(d));
		if (!json_object_object_get_ex(d, "hashAlg", &alg))
			return rec_err(c, off, -EBADMSG, "digests[%zu] has no \"hashAlg\"", i);
		/* names as systemd and tpm2-tools write them; a TPM_ALG_ID number is accepted too */
		if ((name = get_str(alg)))
			b = m_bank_by_name(name);
		else if (get_u32(alg, &id) && id <= UINT16_MAX)
			b = m_bank_by_alg((uint16_t)id);
		else
			return rec_err(c, off, -EBADMSG, "digests[%zu].hashAlg is %s, not an algorithm name",
				       i, type_name(alg));
		if (b < 0)
			continue;	/* an algorithm we have no bank for: its PCRs are not replayed */
		if (e->banks & M_BANK_BIT(b))
			return rec_err(c, off, -EBADMSG, "two %s digests", m_bank_info(b)->name);
		if (!json_object_object_get_ex(d, "digest", &hex))
			return rec_err(c, off, -EBADMSG, "digests[%zu] has no \"digest\"", i);
		if (!(h = get_str(hex)))
			return rec_err(c, off, -EBADMSG, "digests[%zu].digest is not a string", i);
		if (strlen(h) != 2u * m_bank_info(b)->size)
			return rec_err(c, off, -EBADMSG, "%s digest has %zu hex digits, expected %u",
				       m_bank_info(b)->name, strlen(h), 2u * m_bank_info(b)->size);
		if (m_unhex(h, e->digest[b], m_bank_info(b)->size) < 0)
			return rec_err(c, off, -EBADMSG, "%s digest is not hex", m_bank_info(b)->name);
		e->banks |= M_BANK_BIT(b);
	}
	return 0;
}

/* A member of @content that must be a string if present; NULL if absent. */
static int content_str(struct cel_ctx *c, size_t off, json_object *content, const char *key,
		       const char **ret)
{
	json_object *v;

	*ret = NULL;
	if (!content || !json_object_object_get_ex(content, key, &v))
		return 0;
	if (!(*ret = get_str(v)))
		return rec_err(c, off, -EBADMSG, "content.%s is %s, not a string", key, type_name(v));
	return 0;
}

static int set_desc(struct m_event *e, const char *s)
{
	if (!s)
		return 0;
	e->desc = strdup(s);
	return e->desc ? 0 : -ENOMEM;
}

/*
 * The content: what the record says was measured.  Only the types whose
 * content we know are looked into; unknown members and types are kept as
 * they are (forward compatible), but a member we read must have its type.
 */
static int read_content(struct cel_ctx *c, size_t off, json_object *rec, struct m_event *e)
{
	json_object *v, *content = NULL;
	const char *ct = NULL, *s = NULL, *s2 = NULL;
	char buf[96];
	int r;

	if (json_object_object_get_ex(rec, "content_type", &v) && !(ct = get_str(v)))
		return rec_err(c, off, -EBADMSG, "\"content_type\" is %s, not a string", type_name(v));
	if (json_object_object_get_ex(rec, "content", &v))
		content = v;
	if (!ct)
		return 0;
	if (content && !json_object_is_type(content, json_type_object) &&
	    (!strcmp(ct, "systemd") || !strcmp(ct, M_CEL_CONTENT_TYPE) || !strcmp(ct, "pcclient_std")))
		return rec_err(c, off, -EBADMSG, "\"content\" is %s, not an object", type_name(content));

	if (!strcmp(ct, M_CEL_CONTENT_TYPE)) {
		if ((r = content_str(c, off, content, "description", &s)) < 0)
			return r;
		return set_desc(e, s);
	}
	if (!strcmp(ct, "systemd")) {
		/* systemd's content: {"string": what was measured, "eventType": "phase", ...} */
		if ((r = content_str(c, off, content, "string", &s)) < 0 ||
		    (r = content_str(c, off, content, "eventType", &s2)) < 0)
			return r;
		return set_desc(e, s ? s : s2 ? s2 : "systemd");
	}
	if (!strcmp(ct, "pcclient_std")) {
		/* a firmware event: its type decides whether it was extended (EV_NO_ACTION never is) */
		const char *name;

		if (content && json_object_object_get_ex(content, "event_type", &v)) {
			if (!get_u32(v, &e->type))
				return rec_err(c, off, -EBADMSG, "content.event_type is not an unsigned integer");
			e->extends = e->type != EV_NO_ACTION;
		}
		name = m_tcg_event_type_name(e->type);
		if (!name) {
			snprintf(buf, sizeof(buf), "event type 0x%08x", e->type);
			name = buf;
		}
		return set_desc(e, name);
	}
	if (!strcmp(ct, "cel") && content && json_object_is_type(content, json_type_object) &&
	    json_object_object_get_ex(content, "type", &v) && (s = get_str(v))) {
		snprintf(buf, sizeof(buf), "cel %s", s);
		return set_desc(e, buf);
	}
	return set_desc(e, ct);
}

static int add_record(struct cel_ctx *c, json_object *rec, size_t off, size_t len)
{
	struct m_log *log = c->log;
	struct m_event *e;
	json_object *v;
	uint32_t recnum;
	int r;

	if (!json_object_is_type(rec, json_type_object))
		return rec_err(c, off, -EBADMSG, "a record is a JSON object, this is %s", type_name(rec));
	e = m_events_append(&log->ev, log->count, &c->cap, &r);
	if (!e)
		return r == -E2BIG ? rec_err(c, off, -E2BIG, "more than %u records", M_LOG_MAX_EVENTS) : r;
	log->count++;	/* counted now, so m_log_free() frees its desc */
	e->offset = off;
	e->line = line_at(c, off);
	e->data = log->raw + off;
	e->data_len = (uint32_t)len;
	e->extends = true;

	/* recnum: optional (systemd omits it); absent means one more than the record before */
	if (json_object_object_get_ex(rec, "recnum", &v)) {
		if (!get_u32(v, &recnum))
			return rec_err(c, off, -EBADMSG, "\"recnum\" is not an unsigned 32-bit integer");
		if (c->have_prev && recnum <= c->prev_recnum)
			return rec_err(c, off, -EBADMSG, "recnum %u after %u: record numbers must increase",
				       recnum, c->prev_recnum);
	} else if (c->have_prev) {
		if (c->prev_recnum == UINT32_MAX)
			return rec_err(c, off, -EOVERFLOW, "record number past %u", UINT32_MAX);
		recnum = c->prev_recnum + 1;
	} else {
		recnum = 0;
	}
	e->recnum = recnum;
	c->prev_recnum = recnum;
	c->have_prev = true;

	/* "pcr", or "nv_index" for a record that extends an NV index (not a PCR: never replayed) */
	if (json_object_object_get_ex(rec, "pcr", &v)) {
		if (!get_u32(v, &e->pcr))
			return rec_err(c, off, -EBADMSG, "\"pcr\" is not an unsigned integer");
		if (e->pcr >= M_PCR_COUNT)
			return rec_err(c, off, -ERANGE, "PCR %u out of range 0-%u", e->pcr, M_PCR_COUNT - 1);
	} else if (json_object_object_get_ex(rec, "nv_index", &v)) {
		uint32_t nv;

		if (!get_u32(v, &nv))
			return rec_err(c, off, -EBADMSG, "\"nv_index\" is not an unsigned integer");
		e->extends = false;
	} else {
		return rec_err(c, off, -EBADMSG, "neither \"pcr\" nor \"nv_index\"");
	}

	if ((r = read_digests(c, off, rec, e)) < 0)
		return r;
	if ((r = read_content(c, off, rec, e)) < 0)
		return r;
	if (e->extends) {
		c->banks = c->any_extends ? c->banks & e->banks : e->banks;
		c->any_extends = true;
	}
	return 0;
}

static int value_record(struct cel_ctx *c, json_object *obj, size_t off, size_t len)
{
	int r = add_record(c, obj, off, len);

	json_object_put(obj);
	c->index++;
	return r;
}

static int torn(struct cel_ctx *c, size_t off, bool last)
{
	if (!c->allow_torn)
		return rec_err(c, off, -EBADMSG, "record cut short%s (a writer crashed?)",
			       last ? " at the end of the log" : "");
	c->index++;
	return 0;
}

/* RFC 7464: every record is 0x1E, one JSON text, "\n" (section 2.2). */
static int parse_seq(struct cel_ctx *c, size_t off)
{
	const struct m_log *log = c->log;
	size_t len = log->raw_len;

	while (off < len) {
		const uint8_t *next = memchr(log->raw + off + 1, RS, len - off - 1);
		size_t start = off + 1, end = next ? (size_t)(next - log->raw) : len, used, rest, tend;
		json_object *obj;
		int r;

		/*
		 * The tokener sees the text without its trailing whitespace: a
		 * record cut inside a string and then terminated by a later
		 * writer's "\n" is still a prefix of JSON, so still "cut".
		 */
		for (tend = end; tend > start && is_ws(log->raw[tend - 1]); tend--)
			;
		r = parse_value(c, start, tend, &obj, &used);
		if (r < 0)
			return r;
		if (r == VALUE_CUT) {
			if ((r = torn(c, start, !next)) < 0)
				return r;
			off = end;
			continue;
		}
		rest = skip_ws(log, start + used, end);	/* json-c stops at the value's end */
		if (rest != end) {
			json_object_put(obj);
			return rec_err(c, start, -EBADMSG, "data after the JSON text at offset %zu", rest);
		}
		/* the "\n" after the text tells a whole record from a cut one (RFC 7464, 2.4) */
		if (log->raw[end - 1] != '\n' && !(c->allow_torn && !next)) {
			json_object_put(obj);
			return rec_err(c, start, -EBADMSG, "record not terminated by a newline%s",
				       next ? "" : " at the end of the log (a writer crashed?)");
		}
		if ((r = value_record(c, obj, start, used)) < 0)
			return r;
		off = end;
	}
	return 0;
}

/* JSON objects one after another, whitespace (newlines) between them. */
static int parse_concat(struct cel_ctx *c, size_t off)
{
	const struct m_log *log = c->log;

	for (off = skip_ws(log, off, log->raw_len); off < log->raw_len; off = skip_ws(log, off, log->raw_len)) {
		json_object *obj;
		size_t used;
		int r;

		if (log->raw[off] != '{')
			return rec_err(c, off, -EBADMSG, "expected a JSON object, found byte 0x%02x",
				       log->raw[off]);
		r = parse_value(c, off, log->raw_len, &obj, &used);
		if (r < 0)
			return r;
		if (r == VALUE_CUT)
			return torn(c, off, true);
		if ((r = value_record(c, obj, off, used)) < 0)
			return r;
		off += used;
	}
	return 0;
}

/* One top-level array of records; each element is parsed on its own for its offset and limit. */
static int parse_array(struct cel_ctx *c, size_t off)
{
	const struct m_log *log = c->log;
	size_t len = log->raw_len;
	bool first = true;

	off++;	/* '[' */
	for (;;) {
		json_object *obj;
		size_t used;
		int r;

		off = skip_ws(log, off, len);
		if (off == len)
			return torn(c, off, true);	/* the array never closes */
		if (log->raw[off] == ']' && first)
			break;
		if (!first) {
			if (log->raw[off] == ']')
				break;
			if (log->raw[off] != ',')
				return rec_err(c, off, -EBADMSG, "expected ',' or ']' in the array");
			off = skip_ws(log, off + 1, len);
			if (off == len)
				return torn(c, off, true);
		}
		first = false;
		r = parse_value(c, off, len, &obj, &used);
		if (r < 0)
			return r;
		if (r == VALUE_CUT)
			return torn(c, off, true);
		if ((r = value_record(c, obj, off, used)) < 0)
			return r;
		off += used;
	}
	off = skip_ws(log, off + 1, len);
	if (off != len)
		return rec_err(c, off, -EBADMSG, "data after the array");
	return 0;
}

int m_cel_parse_opts(struct m_log *log, bool allow_torn_tail)
{
	struct cel_ctx c = { .log = log, .allow_torn = allow_torn_tail, .line = 1 };
	const uint8_t *nul;
	size_t off;
	int r;

	log->format = M_LOG_CEL_JSON;
	/* JSON has no raw NUL anywhere; refusing it up front keeps json-c's string view exact */
	nul = memchr(log->raw, 0, log->raw_len);
	if (nul)
		return m_err(-EBADMSG, "%s: NUL byte at offset %zu", log->name, (size_t)(nul - log->raw));
	off = skip_ws(log, 0, log->raw_len);
	if (off == log->raw_len)
		return m_err(-EINVAL, "%s: empty event log", log->name);
	switch (log->raw[off]) {
	case RS:  r = parse_seq(&c, off); break;
	case '{': r = parse_concat(&c, off); break;
	case '[': r = parse_array(&c, off); break;
	default:
		return m_err(-EBADMSG, "%s: not CEL-JSON (first byte 0x%02x at offset %zu)", log->name,
			     log->raw[off], off);
	}
	if (r < 0)
		return r;
	/* A bank missing from one extending record cannot be replayed: keep only the banks all have. */
	log->banks = c.any_extends ? c.banks : 0;
	for (size_t i = 0; i < log->count; i++)
		if (log->ev[i].extends)
			log->ev[i].banks &= log->banks;
	return 0;
}

int m_cel_parse(struct m_log *log)
{
	return m_cel_parse_opts(log, false);
}

int m_cel_parse_buf(const void *data, size_t len, const char *name, bool allow_torn_tail,
		    struct m_log **ret)
{
	struct m_log *log;
	int r;

	if (len > M_LOG_MAX_SIZE)
		return m_err(-EFBIG, "%s: %zu bytes, over the limit of %u", name, len, M_LOG_MAX_SIZE);
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->name = strdup(name);
	log->raw = malloc(len ? len : 1);
	if (!log->name || !log->raw) {
		m_log_free(log);
		return -ENOMEM;
	}
	memcpy(log->raw, data, len);
	log->raw_len = len;
	r = m_cel_parse_opts(log, allow_torn_tail);
	if (r < 0) {
		m_log_free(log);
		return r;
	}
	*ret = log;
	return 0;
}
