// SPDX-License-Identifier: MIT
/*
 * The bank table and hex helpers, apart from the hashing (lib/digest.c)
 * so that measured-init links them without OpenSSL's EVP layer.  TPM_ALG_ID
 * values are from the TCG Algorithm Registry (sha1 0x0004, sha256 0x000b,
 * sha384 0x000c, sha512 0x000d, sm3_256 0x0012).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "measured/digest.h"
#include "measured/error.h"

static const struct m_bank_info banks[M_BANK_COUNT] = {
	[M_SHA1]    = { "sha1",    0x0004, 20, "SHA1" },
	[M_SHA256]  = { "sha256",  0x000b, 32, "SHA256" },
	[M_SHA384]  = { "sha384",  0x000c, 48, "SHA384" },
	[M_SHA512]  = { "sha512",  0x000d, 64, "SHA512" },
	[M_SM3_256] = { "sm3_256", 0x0012, 32, "SM3" },
};

const struct m_bank_info *m_bank_info(enum m_bank b)
{
	return (unsigned)b < M_BANK_COUNT ? &banks[b] : NULL;
}

int m_bank_by_name(const char *name)
{
	for (int b = 0; b < M_BANK_COUNT; b++)
		if (strcmp(name, banks[b].name) == 0)
			return b;
	/* tpm2-tools also accepts "sm3" */
	if (strcmp(name, "sm3") == 0)
		return M_SM3_256;
	return -1;
}

int m_bank_by_alg(uint16_t alg)
{
	for (int b = 0; b < M_BANK_COUNT; b++)
		if (banks[b].tpm_alg == alg)
			return b;
	return -1;
}

void m_bank_list_format(unsigned mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for_each_bank(b, mask) {
		int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", banks[b].name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += n;
	}
}

void m_hex(const uint8_t *data, size_t len, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = x[data[i] >> 4];
		out[2 * i + 1] = x[data[i] & 15];
	}
	out[2 * len] = '\0';
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int m_unhex(const char *hex, uint8_t *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return m_err(-EINVAL, "expected %zu hex digits, got %zu", 2 * len, strlen(hex));
	for (size_t i = 0; i < len; i++) {
		int hi = unhex_digit(hex[2 * i]), lo = unhex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return m_err(-EINVAL, "bad hex digit at position %zu", 2 * i + (hi < 0 ? 0 : 1));
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int m_digest_arg_parse(const char *arg, struct m_digests *d)
{
	const char *colon = strchr(arg, ':');
	char name[16];
	size_t n;
	int b;

	if (!colon || (size_t)(colon - arg) >= sizeof(name))
		return m_err(-EINVAL, "expected BANK:HEX, got '%s'", arg);
	n = (size_t)(colon - arg);
	memcpy(name, arg, n);
	name[n] = '\0';
	b = m_bank_by_name(name);
	if (b < 0)
		return m_err(-EINVAL, "unknown bank '%s'", name);
	if (d->banks & M_BANK_BIT(b))
		return m_err(-EINVAL, "bank %s given twice", name);
	if (strlen(colon + 1) != 2u * m_bank_info(b)->size || m_unhex(colon + 1, d->d[b], m_bank_info(b)->size) < 0)
		return m_err(-EINVAL, "%s wants %u hex digits, got '%s'", name, 2u * m_bank_info(b)->size, colon + 1);
	d->banks |= M_BANK_BIT(b);
	return 0;
}
