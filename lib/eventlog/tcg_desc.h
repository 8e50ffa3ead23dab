/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TCG_DESC_H
#define MEASURED_TCG_DESC_H

/* Private to lib/eventlog/tcg_*.c: short descriptions of TCG event data. */

#include <stdint.h>

/* Spec IDs, StartupLocality signature (PFP 10.4.5) */
#define TCG_EV_NO_ACTION 0x00000003u
#define TCG_DESC_MAX 160u	/* characters of a description, before "..." */

/**
 * m_tcg_describe() - a malloc'd one-line description of the event data, or
 * NULL when none is cheap to give (or on ENOMEM: descriptions are optional).
 * The result is printable ASCII only.
 */
char *m_tcg_describe(uint32_t type, const uint8_t *data, uint32_t len);

#endif
