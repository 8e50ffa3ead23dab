// SPDX-License-Identifier: MIT
/*
 * TCG PC Client firmware event logs (TCG PC Client Platform Firmware
 * Profile, section 10 "Event Logging"):
 *  - SHA-1 format: TCG_PCR_EVENT records only (10.2.1): le32 pcrIndex,
 *    le32 eventType, 20-byte SHA-1 digest, le32 eventSize, event data;
 *  - crypto-agile format (10.2.2): a first TCG_PCR_EVENT of type
 *    EV_NO_ACTION holding TCG_EfiSpecIDEvent "Spec ID Event03" (10.4.5.1),
 *    which declares the digest algorithms and their sizes, then
 *    TCG_PCR_EVENT2 records: le32 pcrIndex, le32 eventType,
 *    TPML_DIGEST_VALUES (le32 count, {le16 hashAlg, digest}), le32
 *    eventSize, event data.
 *
 * Policy, chosen to fail closed:
 *  - every record carries exactly the header's algorithms, each once; an
 *    undeclared algorithm, a repeated one or another count is an error.
 *    Algorithms we don't know are parsed past with the header's size, but
 *    can't be replayed, so only banks known to digest.h are in log->banks;
 *  - a record cut short is an error, never a shorter log;
 *  - a first record of type EV_NO_ACTION must be a Spec ID event: a log
 *    that starts with anything else of that type is malformed;
 *  - trailing padding: a firmware buffer copied whole ends in 0x00 or
 *    0xFF bytes.  A tail of at least TCG_PAD_MIN bytes that are all 0x00
 *    or all 0xFF ends the log (as a record it would be PCR 0xFFFFFFFF, or
 *    type 0 with size 0, which Linux also takes as the end).  A shorter
 *    tail is a truncated record;
 *  - EV_NO_ACTION (10.4.5) is never extended; StartupLocality
 *    (10.4.5.3) sets the initial value of PCR 0 and must come before any
 *    extend of PCR 0, at most once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "log_priv.h"
#include "tcg_desc.h"

#define TCG_SHA1_DIGEST 20u
#define TCG_MAX_ALGS 16u	/* numberOfAlgorithms in a Spec ID event (the registry has fewer hashes) */
#define TCG_PAD_MIN 8u		/* pcrIndex + eventType */
#define TCG_SPECID_SIG "Spec ID Event03"	/* 16 bytes with its NUL */

struct tcg_alg {
	uint16_t alg;
	uint16_t size;
	int bank;		/* enum m_bank, or -1 if unknown here */
};

struct tcg_ctx {
	struct m_log *log;
	struct mbuf_reader r;
	struct tcg_alg algs[TCG_MAX_ALGS];
	uint32_t nalgs;
	struct m_event *ev;
	size_t count, cap;
	/* the record being parsed, for messages */
	uint32_t recnum;
	size_t recoff;
};

#define rec_err(c, err, fmt, ...) \
	m_err(err, "%s: record %u at offset 0x%zx: " fmt, (c)->log->name, (c)->recnum, (c)->recoff, ##__VA_ARGS__)

static int truncated(struct tcg_ctx *c, const char *what)
{
	return rec_err(c, -EBADMSG, "truncated %s (log ends at 0x%zx)", what, c->r.len);
}

static struct m_event *new_event(struct tcg_ctx *c)
{
	struct m_event *e;
	int err;

	e = m_events_append(&c->ev, c->count, &c->cap, &err);
	if (!e) {
		if (err == -E2BIG)
			rec_err(c, -E2BIG, "more than %u records", M_LOG_MAX_EVENTS);
		else
			m_err(-ENOMEM, "%s: out of memory at record %u", c->log->name, c->recnum);
		return NULL;
	}
	e->recnum = c->recnum;
	e->offset = c->recoff;
	return e;
}

/* Event size and data, common to both record layouts. */
static int read_data(struct tcg_ctx *c, struct m_event *e)
{
	uint32_t size = mbr_le32(&c->r);

	if (!mbr_ok(&c->r))
		return truncated(c, "record header");
	if (size > M_LOG_MAX_EVENT)
		return rec_err(c, -EFBIG, "eventSize %u over the limit of %u", size, M_LOG_MAX_EVENT);
	if (size > mbr_remaining(&c->r))
		return rec_err(c, -EBADMSG, "eventSize %u but only %zu bytes left", size, mbr_remaining(&c->r));
	e->data = mbr_ptr(&c->r, size);
	e->data_len = size;
	return 0;
}

/* What applies to every record once read: extends, description (how
 * PCRs start, StartupLocality and H-CRTM, is log.c's m_log_start_rules()). */
static int finish_event(struct tcg_ctx *c, struct m_event *e)
{
	e->extends = e->type != TCG_EV_NO_ACTION;
	if (e->extends && e->pcr >= M_PCR_COUNT)
		return rec_err(c, -ERANGE, "PCR %u out of range 0-%u", e->pcr, M_PCR_COUNT - 1);
	if (!(c->log->flags & M_LOG_NO_DESC))
		e->desc = m_tcg_describe(e->type, e->data, e->data_len);
	c->count++;
	return 0;
}

/* TCG_PCR_EVENT (PFP 10.2.1): the SHA-1 format, and the first record of every log. */
static int parse_pcr_event(struct tcg_ctx *c, struct m_event **ret)
{
	struct m_event *e = new_event(c);
	int r;

	if (!e)
		return c->count >= M_LOG_MAX_EVENTS ? -E2BIG : -ENOMEM;
	e->pcr = mbr_le32(&c->r);
	e->type = mbr_le32(&c->r);
	mbr_copy(&c->r, e->digest[M_SHA1], TCG_SHA1_DIGEST);
	e->banks = M_BANK_BIT(M_SHA1);
	r = read_data(c, e);
	if (r < 0)
		return r;
	*ret = e;
	return 0;
}

/* TCG_EfiSpecIDEvent (PFP 10.4.5.1), the data of the crypto-agile log's first record. */
static int parse_spec_id(struct tcg_ctx *c, const struct m_event *e)
{
	struct m_log *log = c->log;
	struct mbuf_reader r;
	uint8_t vlen;

	mbr_init(&r, e->data, e->data_len);
	mbr_skip(&r, sizeof(TCG_SPECID_SIG));
	mbr_le32(&r);	/* platformClass: client or server, nothing to check */
	log->spec_minor = mbr_u8(&r);
	log->spec_major = mbr_u8(&r);
	log->spec_errata = mbr_u8(&r);
	log->uintn_size = mbr_u8(&r);
	c->nalgs = mbr_le32(&r);
	if (!mbr_ok(&r))
		return rec_err(c, -EBADMSG, "Spec ID event truncated");
	if (c->nalgs == 0 || c->nalgs > TCG_MAX_ALGS)
		return rec_err(c, -EBADMSG, "Spec ID event declares %u algorithms (1-%u allowed)",
			       c->nalgs, TCG_MAX_ALGS);
	for (uint32_t i = 0; i < c->nalgs; i++) {
		struct tcg_alg *a = &c->algs[i];

		a->alg = mbr_le16(&r);
		a->size = mbr_le16(&r);
		if (!mbr_ok(&r))
			return rec_err(c, -EBADMSG, "Spec ID event truncated in algorithm %u", i);
		for (uint32_t j = 0; j < i; j++)
			if (c->algs[j].alg == a->alg)
				return rec_err(c, -EBADMSG, "Spec ID event declares algorithm 0x%04x twice", a->alg);
		a->bank = m_bank_by_alg(a->alg);
		if (a->bank >= 0 && a->size != m_bank_info(a->bank)->size)
			return rec_err(c, -EBADMSG, "Spec ID event: %s digest size %u, should be %u",
				       m_bank_info(a->bank)->name, a->size, m_bank_info(a->bank)->size);
		if (a->bank >= 0)
			log->banks |= M_BANK_BIT(a->bank);
	}
	vlen = mbr_u8(&r);
	if (!mbr_ok(&r))
		return rec_err(c, -EBADMSG, "Spec ID event truncated before vendorInfoSize");
	/* vendorInfo: opaque, any bytes, but inside eventSize: past it, record bounds are ambiguous */
	if (vlen > mbr_remaining(&r))
		return rec_err(c, -EBADMSG, "Spec ID vendorInfoSize %u runs past eventSize %u", vlen, e->data_len);
	mbr_skip(&r, vlen);
	if (mbr_remaining(&r))
		return rec_err(c, -EBADMSG, "Spec ID event has %zu bytes after vendorInfo", mbr_remaining(&r));
	return 0;
}

/* TCG_PCR_EVENT2 (PFP 10.2.2) with TPML_DIGEST_VALUES checked against the header. */
static int parse_pcr_event2(struct tcg_ctx *c)
{
	struct m_event *e = new_event(c);
	uint32_t count, seen = 0;
	int r;

	if (!e)
		return c->count >= M_LOG_MAX_EVENTS ? -E2BIG : -ENOMEM;
	e->pcr = mbr_le32(&c->r);
	e->type = mbr_le32(&c->r);
	count = mbr_le32(&c->r);
	if (!mbr_ok(&c->r))
		return truncated(c, "record header");
	if (count != c->nalgs)
		return rec_err(c, -EBADMSG, "digest count %u but header declares %u banks", count, c->nalgs);
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg = mbr_le16(&c->r);
		uint32_t k;

		if (!mbr_ok(&c->r))
			return truncated(c, "digest list");
		for (k = 0; k < c->nalgs && c->algs[k].alg != alg; k++)
			;
		if (k == c->nalgs)
			return rec_err(c, -EBADMSG, "digest %u has algorithm 0x%04x, not declared in the header", i, alg);
		if (seen & (1u << k))
			return rec_err(c, -EBADMSG, "digest %u repeats algorithm 0x%04x", i, alg);
		seen |= 1u << k;
		if (c->algs[k].bank >= 0) {
			mbr_copy(&c->r, e->digest[c->algs[k].bank], c->algs[k].size);
			e->banks |= M_BANK_BIT(c->algs[k].bank);
		} else {
			mbr_skip(&c->r, c->algs[k].size);
		}
		if (!mbr_ok(&c->r))
			return truncated(c, "digest");
	}
	r = read_data(c, e);
	if (r < 0)
		return r;
	return finish_event(c, e);
}

static bool is_padding(const struct mbuf_reader *r)
{
	size_t n = mbr_remaining(r);
	const uint8_t *p = r->data + r->off;

	if (n < TCG_PAD_MIN || (p[0] != 0x00 && p[0] != 0xff))
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

static void free_events(struct tcg_ctx *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->ev[i].desc);
	free(c->ev);
	c->ev = NULL;
	c->count = c->cap = 0;
}

static int parse(struct tcg_ctx *c)
{
	struct m_log *log = c->log;
	struct m_event *first;
	bool agile = false;
	int r;

	r = parse_pcr_event(c, &first);
	if (r < 0)
		return r;
	if (first->type == TCG_EV_NO_ACTION) {
		if (first->data_len >= sizeof(TCG_SPECID_SIG) &&
		    memcmp(first->data, TCG_SPECID_SIG, sizeof(TCG_SPECID_SIG)) == 0) {
			r = parse_spec_id(c, first);
			if (r < 0)
				return r;
			agile = true;
		} else if (first->data_len < 16 || memcmp(first->data, "Spec ID Event", 13) != 0) {
			/* Spec ID Event00/02 (TPM 1.2 era) head SHA-1 logs; nothing else may */
			return rec_err(c, -EBADMSG, "first record is EV_NO_ACTION but not a Spec ID event");
		}
	}
	log->format = agile ? M_LOG_TCG_AGILE : M_LOG_TCG_SHA1;
	if (!agile)
		log->banks = M_BANK_BIT(M_SHA1);
	r = finish_event(c, first);
	if (r < 0)
		return r;

	while (mbr_remaining(&c->r) > 0) {
		if (is_padding(&c->r))
			break;
		c->recnum++;
		c->recoff = c->r.off;
		if (agile) {
			r = parse_pcr_event2(c);
		} else {
			struct m_event *e;

			r = parse_pcr_event(c, &e);
			if (r == 0)
				r = finish_event(c, e);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int m_tcg_parse(struct m_log *log)
{
	struct tcg_ctx c = { .log = log };
	int r;

	mbr_init(&c.r, log->raw, log->raw_len);
	log->banks = 0;
	log->startup_locality = 0;
	r = parse(&c);
	if (r < 0) {
		free_events(&c);
		log->banks = 0;
		log->startup_locality = 0;
		return r;
	}
	log->ev = c.ev;
	log->count = c.count;
	return 0;
}
