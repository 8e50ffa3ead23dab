/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_MANIFEST_H
#define MEASURED_MANIFEST_H

/*
 * Reference manifests: for each predicted PCR and bank, the expected final
 * value and the ordered events that produce it, so a verifier can name the
 * first event that differs.  The JSON format is documented in
 * docs/manifest.md; m_manifest_load() refuses a manifest whose values do
 * not follow from its events.
 */

#include <stdio.h>
#include "measured/digest.h"
#include "measured/eventlog.h"
#include "measured/pcrs.h"

#define M_MANIFEST_VERSION 1
#define M_MANIFEST_MAX_SIZE (16u << 20)	/* bytes of one manifest file */
#define M_MANIFEST_MAX_EVENTS 100000u

struct m_ref_event {
	uint32_t pcr;
	uint32_t type;		/* TCG event type (0 for our own records) */
	struct m_digests d;
	char *description;
	char *source;		/* which input predicted it: "rootfs", "kernel", "firmware-log", ... */
};

struct m_manifest {
	unsigned banks;
	uint8_t startup_locality;
	bool dynamic_launch;		/* a DRTM launch reset PCRs 17-22 to 0 (tboot/TXT) */
	uint32_t pcrs;			/* PCRs this manifest predicts */
	char *pcr_source[M_PCR_COUNT];	/* where each PCR's events came from */
	struct m_ref_event *ev;		/* all events, in extend order */
	size_t count, cap;
	struct m_pcrs values;		/* expected final values (m_manifest_finish) */
};

struct m_manifest *m_manifest_new(unsigned banks);
void m_manifest_free(struct m_manifest *m);
/** m_manifest_add() - append an event; @d must carry at least one of the manifest's banks. */
int m_manifest_add(struct m_manifest *m, uint32_t pcr, uint32_t type, const struct m_digests *d,
		   const char *description, const char *source);
/** m_manifest_add_log() - append every extending event of @log for the PCRs in @pcrs. */
int m_manifest_add_log(struct m_manifest *m, const struct m_log *log, uint32_t pcrs, const char *source);
/** m_manifest_finish() - compute the expected values by replaying the events. */
int m_manifest_finish(struct m_manifest *m);
/** m_manifest_pcr_banks() - the banks PCR @pcr is predicted in: those all its events carry. */
unsigned m_manifest_pcr_banks(const struct m_manifest *m, unsigned pcr);
int m_manifest_write(const struct m_manifest *m, FILE *f);
int m_manifest_load(const char *path, struct m_manifest **ret);
int m_manifest_parse(const char *json, size_t len, const char *name, struct m_manifest **ret);

/* The outcome for one PCR of a comparison. */
enum m_check_status {
	M_CHECK_MATCH,
	M_CHECK_EVENT_DIFFERS,	/* event i differs */
	M_CHECK_EVENT_MISSING,	/* the evidence has fewer events */
	M_CHECK_EVENT_EXTRA,	/* the evidence has more events */
	M_CHECK_VALUE_DIFFERS,	/* the live/quoted value differs */
	M_CHECK_NOT_COVERED,	/* the evidence says nothing about this PCR */
};

struct m_check_item {
	uint32_t pcr;
	enum m_bank bank;
	enum m_check_status status;
	size_t index;			/* position among this PCR's events */
	const struct m_ref_event *expected;	/* NULL if none */
	const struct m_event *found;		/* NULL if none */
	const struct m_log *found_log;
};

struct m_check_result {
	bool match;
	struct m_check_item *items;	/* one per PCR that does not match, and one per matching PCR */
	size_t count;
};

/**
 * m_manifest_check_logs() - compare the manifest's events with @n logs,
 * PCR by PCR (logs in boot order), naming the first event that differs.
 */
int m_manifest_check_logs(const struct m_manifest *m, struct m_log *const *logs, size_t n,
			  struct m_check_result *ret);
/** m_manifest_check_pcrs() - compare the expected values with @actual. */
int m_manifest_check_pcrs(const struct m_manifest *m, const struct m_pcrs *actual,
			  struct m_check_result *ret);
void m_check_result_free(struct m_check_result *r);
const char *m_check_status_name(enum m_check_status s);
/** m_check_describe() - one human line for an item into @buf. */
void m_check_describe(const struct m_check_item *it, char *buf, size_t len);

#endif
