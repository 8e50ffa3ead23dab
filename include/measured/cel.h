/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CEL_H
#define MEASURED_CEL_H

/*
 * Writing our own measurements as TCG Canonical Event Log records in JSON
 * (CEL-JSON), the format systemd writes to /run/log/systemd/tpm2-measure.log,
 * so tools that read one read the other.  Reading goes through
 * m_log_parse() (eventlog.h).
 *
 * The writer needs no JSON library (measured-init links it statically):
 * records are formatted with the bounded writer.
 */

#include "measured/digest.h"

/**
 * m_cel_append() - append one record to the log at @path: recnum (one more
 * than the last record), @pcr, every bank's digest in @d, and a content
 * object describing what was measured (@description, free text).  The
 * record reaches the file in a single write() with O_APPEND and is
 * fsync()ed, so a crash can at worst lose or cut this record, never an
 * earlier one; a cut last record is detected and skipped on the next
 * append.
 */
int m_cel_append(const char *path, unsigned pcr, const struct m_digests *d, const char *description);

#endif
