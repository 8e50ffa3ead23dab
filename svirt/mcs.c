/* SPDX-License-Identifier: MIT */
/*
 * The MCS label space and the uniform choice of a free label.
 *
 * A label is a single category cN (lo <= N <= hi) or, as libvirt does for
 * many VMs, an unordered pair cA,cB with lo <= A < B <= hi.  A process with
 * s0:cA,cB may only open objects whose categories are a subset of {A, B}
 * (MCS dominance), so distinct pairs keep VMs apart as long as every VM
 * holds a pair and its disks carry the whole pair.
 *
 * Free labels are tracked in a bitmap indexed 0..size-1.  The choice draws
 * r uniformly in [0, free) and takes the r-th free label: uniform over the
 * free labels, with one draw and no retry loop over used ones.
 */
#include "svirt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "measured/error.h"

int svirt_rng_getrandom(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return m_err(-errno, "getrandom: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int svirt_uniform(svirt_rng_fn rng, void *ctx, uint32_t bound, uint32_t *ret)
{
	if (bound == 0)
		return m_err(-EINVAL, "empty range for a random choice");
	/*
	 * 2^32 mod bound values at the bottom would make the low results
	 * more likely under `x % bound`; reject them.  (2^32 - bound) % bound
	 * equals 2^32 % bound in 32-bit arithmetic.
	 */
	uint32_t reject_below = (uint32_t)(0u - bound) % bound;
	for (int tries = 0; tries < 1000; tries++) {
		uint8_t b[4];
		int r = rng(ctx, b, sizeof(b));
		if (r < 0)
			return r;
		uint32_t x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			     (uint32_t)b[3] << 24;
		if (x >= reject_below) {
			*ret = x % bound;
			return 0;
		}
	}
	/* Probability below 2^-1000 for a working generator. */
	return m_err(-EIO, "random generator keeps returning rejected values");
}

int svirt_mcs_init(struct svirt_mcs *m, unsigned lo, unsigned hi, bool pairs)
{
	memset(m, 0, sizeof(*m));
	if (lo < 1 || hi > SVIRT_CAT_MAX || lo >= hi)
		return m_err(-EINVAL, "category range c%u-c%u: need 1 <= lo < hi <= %u", lo, hi,
			     SVIRT_CAT_MAX);
	uint32_t n = hi - lo + 1;
	m->lo = lo;
	m->hi = hi;
	m->pairs = pairs;
	m->size = pairs ? n * (n - 1) / 2 : n;
	m->bitmap = calloc((m->size + 7) / 8, 1);
	if (!m->bitmap)
		return m_err(-ENOMEM, "out of memory for %u labels", m->size);
	return 0;
}

void svirt_mcs_free(struct svirt_mcs *m)
{
	free(m->bitmap);
	m->bitmap = NULL;
}

/* Pairs are numbered row by row: (lo,lo+1), (lo,lo+2), ..., (lo+1,lo+2), ... */
int64_t svirt_mcs_index(const struct svirt_mcs *m, unsigned a, unsigned b)
{
	if (a < m->lo || a > m->hi)
		return -ERANGE;
	if (!m->pairs)
		return a - m->lo;
	if (b <= a || b > m->hi)
		return -ERANGE;
	uint32_t n = m->hi - m->lo + 1, i = a - m->lo, j = b - m->lo;
	/* rows 0..i-1 hold (n-1) + (n-2) + ... + (n-i) pairs */
	uint64_t before = (uint64_t)i * n - (uint64_t)i * (i + 1) / 2;
	return (int64_t)(before + (j - i - 1));
}

void svirt_mcs_label(const struct svirt_mcs *m, uint32_t idx, unsigned *ret_a, unsigned *ret_b)
{
	if (!m->pairs) {
		*ret_a = *ret_b = m->lo + idx;
		return;
	}
	uint32_t n = m->hi - m->lo + 1, i = 0;
	while (idx >= n - 1 - i) {
		idx -= n - 1 - i;
		i++;
	}
	*ret_a = m->lo + i;
	*ret_b = m->lo + i + 1 + idx;
}

bool svirt_mcs_in_use(const struct svirt_mcs *m, uint32_t idx)
{
	return idx < m->size && (m->bitmap[idx / 8] >> (idx % 8)) & 1;
}

static void mark(struct svirt_mcs *m, uint32_t idx)
{
	if (!svirt_mcs_in_use(m, idx)) {
		m->bitmap[idx / 8] |= (uint8_t)(1u << (idx % 8));
		m->used++;
	}
}

/* Strict decimal category number "N" up to SVIRT_CAT_MAX, no leading zeros. */
static int parse_cat(const char *s, size_t len, unsigned *ret)
{
	if (len == 0 || len > 4 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > SVIRT_CAT_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

int svirt_range_parse(const char *range, unsigned *ret_a, unsigned *ret_b, bool *ret_pair)
{
	if (strncmp(range, "s0:c", 4) != 0)
		return m_err(-EINVAL, "range '%.40s' does not start with s0:c", range);
	const char *p = range + 4, *comma = strchr(p, ',');
	unsigned a, b;
	if (!comma) {
		if (parse_cat(p, strlen(p), &a) < 0)
			return m_err(-EINVAL, "bad category in range '%.40s'", range);
		*ret_a = *ret_b = a;
		*ret_pair = false;
		return 0;
	}
	if (parse_cat(p, (size_t)(comma - p), &a) < 0 || comma[1] != 'c' ||
	    parse_cat(comma + 2, strlen(comma + 2), &b) < 0 || a >= b)
		return m_err(-EINVAL, "bad category pair in range '%.40s'", range);
	*ret_a = a;
	*ret_b = b;
	*ret_pair = true;
	return 0;
}

int svirt_label_value_parse(const char *v, char *range, size_t rlen)
{
	unsigned a, b;
	bool pair;
	int n;
	/* The original interposer stores the category as a bare decimal
	 * number and refuses anything outside 1..1023 when it reads. */
	if (v[0] >= '0' && v[0] <= '9') {
		if (parse_cat(v, strlen(v), &a) < 0)
			return m_err(-EINVAL, "bad category number '%.40s'", v);
		n = snprintf(range, rlen, "s0:c%u", a);
	} else {
		int r = svirt_range_parse(v, &a, &b, &pair);
		if (r < 0)
			return r;
		n = snprintf(range, rlen, "%s", v);
	}
	if (n < 0 || (size_t)n >= rlen)
		return m_err(-ENAMETOOLONG, "range buffer too small");
	return 0;
}

int svirt_mcs_mark_range(struct svirt_mcs *m, const char *range)
{
	unsigned a, b;
	bool pair;
	int r = svirt_range_parse(range, &a, &b, &pair);
	if (r < 0)
		return r;
	if (!m->pairs) {
		/* A pair elsewhere blocks both its categories: a VM holding
		 * cA alone could open the other VM's cA-only objects. */
		int64_t i = svirt_mcs_index(m, a, a), j = svirt_mcs_index(m, b, b);
		if (i >= 0)
			mark(m, (uint32_t)i);
		if (j >= 0)
			mark(m, (uint32_t)j);
		return 0;
	}
	if (!pair) {
		/* A single cA held elsewhere: every pair containing A would let
		 * us open that VM's cA objects, so block them all. */
		if (a < m->lo || a > m->hi)
			return 0;
		for (unsigned x = m->lo; x <= m->hi; x++) {
			if (x == a)
				continue;
			int64_t i = x < a ? svirt_mcs_index(m, x, a) : svirt_mcs_index(m, a, x);
			mark(m, (uint32_t)i);
		}
		return 0;
	}
	int64_t i = svirt_mcs_index(m, a, b);
	if (i >= 0)
		mark(m, (uint32_t)i);
	return 0;
}

int svirt_mcs_choose(const struct svirt_mcs *m, svirt_rng_fn rng, void *ctx, uint32_t *ret_idx)
{
	uint32_t nfree = m->size - m->used, r;
	if (nfree == 0)
		return m_err(-ENOSPC, "all %u MCS labels in c%u-c%u are in use", m->size, m->lo,
			     m->hi);
	int e = svirt_uniform(rng, ctx, nfree, &r);
	if (e < 0)
		return e;
	for (uint32_t idx = 0; idx < m->size; idx++) {
		if (svirt_mcs_in_use(m, idx))
			continue;
		if (r-- == 0) {
			*ret_idx = idx;
			return 0;
		}
	}
	return m_err(-EFAULT, "label bitmap count is inconsistent");
}

int svirt_mcs_range_str(const struct svirt_mcs *m, uint32_t idx, char *buf, size_t len)
{
	unsigned a, b;
	int n;
	if (idx >= m->size)
		return m_err(-ERANGE, "label index %u out of range", idx);
	svirt_mcs_label(m, idx, &a, &b);
	if (m->pairs)
		n = snprintf(buf, len, "s0:c%u,c%u", a, b);
	else
		n = snprintf(buf, len, "s0:c%u", a);
	if (n < 0 || (size_t)n >= len)
		return m_err(-ENAMETOOLONG, "range buffer too small");
	return 0;
}
