/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CEL_H
#define MEASURED_CEL_H

/*
 * TCG Canonical Event Log records in JSON (CEL-JSON), in the flavour
 * systemd writes to /run/log/systemd/tpm2-measure.log: RFC 7464 JSON text
 * sequences (0x1E, one JSON object, "\n"), recnum optional.  Tools that
 * read one read the other.  docs/cel.md describes the format, its limits
 * and the crash-safety guarantees.
 *
 * Reading goes through m_log_parse() (eventlog.h, strict) or
 * m_cel_parse_buf() (with the choice to skip records cut by a crash).
 *
 * The writer needs no JSON library (measured-init links it statically):
 * records are formatted with the bounded writer, and the existing log is
 * only skimmed for its record count.
 */

#include <stdbool.h>
#include <stddef.h>
#include "measured/digest.h"
#include "measured/eventlog.h"

/* Documented limits (docs/cel.md); over them is an error. */
#define M_CEL_MAX_RECORD  (64u << 10)	/* bytes of one record's JSON text */
#define M_CEL_MAX_DEPTH   16		/* JSON nesting levels in one record */
#define M_CEL_MAX_DIGESTS 16		/* entries in one record's "digests" */

/* The content_type of records this project writes. */
#define M_CEL_CONTENT_TYPE "measured"

/**
 * m_cel_parse_opts() - parse the CEL-JSON text in @log->raw, as
 * m_cel_parse() does, but with @allow_torn_tail records whose JSON text is
 * incomplete (what a crash in the middle of a write leaves: the last record
 * of the file, or one a later writer terminated with "\n") are skipped
 * instead of failing the whole log, and a last record that lacks only its
 * final "\n" is accepted.  Garbage is an error either way.
 */
int m_cel_parse_opts(struct m_log *log, bool allow_torn_tail);

/**
 * m_cel_parse_buf() - m_log_parse() for CEL-JSON only, with the torn-tail
 * choice of m_cel_parse_opts().  @name is used in messages.  Free the
 * result with m_log_free().
 */
int m_cel_parse_buf(const void *data, size_t len, const char *name, bool allow_torn_tail,
		    struct m_log **ret);

/*
 * An open, locked log, for a caller that extends the TPM under the same
 * lock as systemd-pcrextend does (lock, extend, write, unlock), so that the
 * order of records equals the order of extends.
 */
struct m_cel_writer {
	int fd;
	char *path;
	unsigned mode;		/* permission bits without S_ISVTX */
	bool was_dirty;		/* the sticky "incomplete" mark was already set */
	bool need_newline;	/* the file does not end in "\n" (a cut record) */
	uint32_t next_recnum;
	bool have_records;
};

/**
 * m_cel_open() - create (mode 0600, parent directories 0755) or open the
 * log at @path (O_NOFOLLOW, regular files only), take an exclusive BSD
 * lock (flock, as systemd does), skim the existing records (at most
 * M_LOG_MAX_SIZE bytes) for the next recnum, and set the S_ISVTX mark that
 * says "a writer is between extend and record" (systemd's convention; a
 * mark already set stays set).  Release with m_cel_close().
 */
int m_cel_open(const char *path, struct m_cel_writer *ret);

/**
 * m_cel_write() - append one record: recnum, @pcr, every bank's digest in
 * @d (bank order), content_type "measured", content {"description": ...}.
 * One write() with O_APPEND, then fsync().  A record is at most
 * M_CEL_MAX_RECORD bytes; bytes of @description that are not valid UTF-8
 * are written as \u00XX (read back as U+0080..U+00FF).
 */
int m_cel_write(struct m_cel_writer *w, unsigned pcr, const struct m_digests *d,
		const char *description);

/**
 * m_cel_close() - fsync, clear the S_ISVTX mark unless it was set before
 * m_cel_open() (a record may be missing then, and the mark keeps saying
 * so), unlock and close.  Returns the first error, 0 otherwise.
 */
int m_cel_close(struct m_cel_writer *w);

/**
 * m_cel_append() - m_cel_open(), m_cel_write(), m_cel_close(): append one
 * record to the log at @path: recnum (one more than the last record), @pcr,
 * every bank's digest in @d, and a content object describing what was
 * measured (@description, free text).  The record reaches the file in a
 * single write() with O_APPEND and is fsync()ed, so a crash can at worst
 * lose or cut this record, never an earlier one; a cut last record is
 * terminated with "\n" on the next append so the new record starts
 * cleanly, and readers skip it (m_cel_parse_opts()).
 */
int m_cel_append(const char *path, unsigned pcr, const struct m_digests *d, const char *description);

#endif
