// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "measured/pcrs.h"

void m_pcr_initial(enum m_bank b, unsigned pcr, uint8_t locality, uint8_t *out)
{
	size_t n = m_bank_info(b)->size;

	if (pcr >= 17 && pcr <= 22) {
		memset(out, 0xff, n);
		return;
	}
	memset(out, 0, n);
	if (pcr == 0)
		out[n - 1] = locality;
}

int m_pcr_list_parse(const char *list, uint32_t *ret_mask)
{
	uint32_t mask = 0;
	const char *p = list;

	if (!list || !*list)
		return m_err(-EINVAL, "empty PCR list");
	if (strcmp(list, "all") == 0) {
		*ret_mask = (1u << M_PCR_COUNT) - 1;
		return 0;
	}
	while (*p) {
		char *end;
		unsigned long lo, hi;

		if (*p < '0' || *p > '9')
			return m_err(-EINVAL, "bad PCR list '%s' at '%s'", list, p);
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return m_err(-EINVAL, "bad PCR range in '%s'", list);
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo >= M_PCR_COUNT || hi >= M_PCR_COUNT || lo > hi)
			return m_err(-ERANGE, "PCR out of range 0-23 in '%s'", list);
		for (unsigned long i = lo; i <= hi; i++)
			mask |= 1u << i;
		if (*end == ',')
			end++;
		else if (*end)
			return m_err(-EINVAL, "bad PCR list '%s' at '%s'", list, end);
		p = end;
	}
	*ret_mask = mask;
	return 0;
}

void m_pcrs_print(FILE *f, const struct m_pcrs *p, bool json)
{
	char hex[2 * M_DIGEST_MAX + 1];
	bool first_bank = true;

	if (json)
		fputs("{", f);
	for (enum m_bank b = 0; b < M_BANK_COUNT; b++) {
		bool first = true;

		if (!p->present[b])
			continue;
		if (json)
			fprintf(f, "%s\"%s\":{", first_bank ? "" : ",", m_bank_info(b)->name);
		first_bank = false;
		for (unsigned i = 0; i < M_PCR_COUNT; i++) {
			if (!(p->present[b] & (1u << i)))
				continue;
			m_hex(p->v[b][i], m_bank_info(b)->size, hex);
			if (json)
				fprintf(f, "%s\"%u\":\"%s\"", first ? "" : ",", i, hex);
			else
				fprintf(f, "%s %u %s\n", m_bank_info(b)->name, i, hex);
			first = false;
		}
		if (json)
			fputs("}", f);
	}
	if (json)
		fputs("}\n", f);
}
