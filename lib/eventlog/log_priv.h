/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_LOG_PRIV_H
#define MEASURED_LOG_PRIV_H
/* What the log parsers share (lib/eventlog/log.c); not installed. */
#include <stddef.h>
#include "measured/eventlog.h"

/**
 * m_events_append() - a zeroed slot after the @count events of *@ev,
 * growing the array (doubling, never past M_LOG_MAX_EVENTS; *@cap is its
 * size).  The caller counts the slot.  NULL with *@ret_err = -E2BIG when
 * the log already holds M_LOG_MAX_EVENTS, or -ENOMEM.  The one way every
 * parser grows its events.
 */
struct m_event *m_events_append(struct m_event **ev, size_t count, size_t *cap, int *ret_err);

/**
 * m_log_start_rules() - how the log's PCRs start, from its events
 * (PC Client PFP 10.4.5.3; TPM 2.0 Library Part 1, H-CRTM): a
 * StartupLocality EV_NO_ACTION event sets PCR 0's start to 0...0L, L one
 * of 0, 3 or 4; an EV_EFI_HCRTM_EVENT means an H-CRTM sequence ran before
 * TPM2_Startup, which starts PCR 0 at 0...04 (locality 4) whether or not a
 * StartupLocality event says so, and must come before any other PCR 0
 * extend.  Sets @log->startup_locality; -EBADMSG naming the record when
 * the events contradict the rules.  Every parser calls it, so every
 * replay (eventlog replay, verify, check, the verifier) follows it.
 */
int m_log_start_rules(struct m_log *log);
#endif
