/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_EVENTLOG_H
#define MEASURED_EVENTLOG_H

/*
 * Event logs of every kind the project reads, behind one representation:
 *  - TCG PC Client firmware logs, SHA-1 format (TCG_PCR_EVENT) and
 *    crypto-agile format (Spec ID Event03 header + TCG_PCR_EVENT2);
 *  - Linux IMA measurement lists, binary and ASCII;
 *  - TCG Canonical Event Log in JSON (CEL-JSON, systemd's tpm2-measure.log).
 * m_log_parse() detects the format.  A log is parsed whole or not at all:
 * on any error no events are returned, and the message names the file,
 * the record number and its byte offset (or line, for text formats).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "measured/digest.h"
#include "measured/pcrs.h"

/* Documented limits (docs/eventlog.md); over them is an error. */
#define M_LOG_MAX_SIZE   (64u << 20)	/* bytes in one log file */
#define M_LOG_MAX_EVENTS 1000000u	/* records in one log */
#define M_LOG_MAX_EVENT  (16u << 20)	/* bytes of one record's data */

enum m_log_format {
	M_LOG_TCG_SHA1,		/* TCG_PCR_EVENT only (TPM 1.2 style) */
	M_LOG_TCG_AGILE,	/* Spec ID Event03 + TCG_PCR_EVENT2 */
	M_LOG_IMA_BINARY,
	M_LOG_IMA_ASCII,
	M_LOG_CEL_JSON,
};

struct m_event {
	uint32_t recnum;	/* 0-based record number in the log */
	uint64_t offset;	/* byte offset of the record (text formats: too) */
	uint32_t line;		/* 1-based line for text formats, else 0 */
	uint32_t pcr;
	uint32_t type;		/* TCG event type; 0 where the format has none */
	bool extends;		/* false for EV_NO_ACTION: never extended */
	unsigned banks;		/* banks with a digest below */
	/* the digest this record extends into each bank (for IMA: the template
	 * hash; for a violation, all 0xFF, as the kernel extends) */
	uint8_t digest[M_BANK_COUNT][M_DIGEST_MAX];
	const uint8_t *data;	/* event data, inside m_log.raw */
	uint32_t data_len;
	char *desc;		/* malloc'd human description, or NULL */
};

/* m_log_parse_flags() flags */
#define M_LOG_NO_DESC 0x1u	/* leave m_event.desc NULL (a verifier's fast path); see m_event_describe() */
/*
 * IMA lists: template digests for the banks of @mask only (SHA-1, which
 * the list carries, always).  Without it, every bank OpenSSL computes:
 * each costs a hash of every entry's template data.  A verifier passes
 * the banks it compares; m_log.banks and m_event.banks say what a log
 * covers, and a replay (m_log_replay_into()) extends no other bank.
 */
#define M_LOG_IMA_BANKS(mask) (0x2u | (((unsigned)(mask) & M_BANKS_ALL) << 8))
#define M_LOG_IMA_BANKS_OF(flags) (((flags) >> 8) & M_BANKS_ALL)

struct m_log {
	enum m_log_format format;
	unsigned flags;		/* M_LOG_* given to m_log_parse_flags() */
	char *name;		/* for messages: the file name */
	uint8_t *raw;		/* owned copy of the input */
	size_t raw_len;
	unsigned banks;		/* banks the log declares (TCG header) or carries */
	uint8_t startup_locality;	/* from a StartupLocality EV_NO_ACTION, else 0 */
	/* TCG crypto-agile header fields */
	uint8_t spec_major, spec_minor, spec_errata, uintn_size;
	struct m_event *ev;
	size_t count;
};

/** m_log_parse() - detect the format of @data and parse it; @name is used in messages. */
int m_log_parse(const void *data, size_t len, const char *name, struct m_log **ret);
/** m_log_parse_flags() - m_log_parse() with M_LOG_* @flags. */
int m_log_parse_flags(const void *data, size_t len, const char *name, unsigned flags, struct m_log **ret);
/**
 * m_event_describe() - @e's description, malloc'd: the parsed one, or for a
 * log parsed with M_LOG_NO_DESC computed now from the event data; NULL if
 * none.
 */
char *m_event_describe(const struct m_log *log, const struct m_event *e);
/** m_log_load() - read @path (at most M_LOG_MAX_SIZE, O_NOFOLLOW) and parse it. */
int m_log_load(const char *path, struct m_log **ret);
void m_log_free(struct m_log *log);

/* Format-specific parsers, called by m_log_parse(); same contract. */
int m_tcg_parse(struct m_log *log);
int m_ima_parse(struct m_log *log);
int m_cel_parse(struct m_log *log);

/**
 * m_log_replay() - the PCR values @log produces from a TPM's initial state
 * (m_pcr_initial(): StartupLocality for PCR 0, 0xFF... for 17-22).  Only
 * the PCRs and banks the log extends are present in @ret.
 */
int m_log_replay(const struct m_log *log, struct m_pcrs *ret);

/**
 * m_log_replay_into() - replay @log on top of @acc, for several logs that
 * extend one TPM in order (firmware log, then CEL, then IMA).  A PCR not
 * yet present in @acc starts at its initial value.
 */
int m_log_replay_into(const struct m_log *log, struct m_pcrs *acc);

const char *m_log_format_name(enum m_log_format f);
/** m_tcg_event_type_name() - "EV_SEPARATOR", or NULL if unknown. */
const char *m_tcg_event_type_name(uint32_t type);

#endif
