/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_DIGEST_H
#define MEASURED_DIGEST_H

/*
 * Digest banks: the hash algorithms a TPM 2.0 PCR bank can use, named as
 * tpm2-tools names them, with their TPM_ALG_ID (TCG Algorithm Registry).
 * A set of banks is a bit mask of enum m_bank values, so "every allocated
 * bank" is one unsigned int.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum m_bank {
	M_SHA1 = 0,
	M_SHA256,
	M_SHA384,
	M_SHA512,
	M_SM3_256,
	M_BANK_COUNT,
};

#define M_DIGEST_MAX 64u
#define M_BANK_BIT(b) (1u << (b))
#define M_BANKS_ALL ((1u << M_BANK_COUNT) - 1)
#define for_each_bank(b, mask) \
	for (enum m_bank b = 0; b < M_BANK_COUNT; b++) if ((mask) & M_BANK_BIT(b))

struct m_bank_info {
	const char *name;     /* "sha256" */
	uint16_t tpm_alg;     /* TPM_ALG_SHA256 = 0x000b */
	uint16_t size;        /* digest size in bytes */
	const char *ossl;     /* OpenSSL's name */
};

const struct m_bank_info *m_bank_info(enum m_bank b);
/** m_bank_by_name() - "sha256" -> M_SHA256; returns -1 if unknown. */
int m_bank_by_name(const char *name);
/** m_bank_by_alg() - TPM_ALG_ID -> bank; returns -1 if unknown. */
int m_bank_by_alg(uint16_t alg);
/** m_bank_supported() - whether this OpenSSL can compute the bank. */
bool m_bank_supported(enum m_bank b);
struct evp_md_st;
/**
 * m_bank_md() - the bank's OpenSSL digest (an EVP_MD), fetched once per
 * process; NULL if this OpenSSL cannot compute it or @b is out of range.
 */
const struct evp_md_st *m_bank_md(enum m_bank b);
/** m_alg_md() - the same for a TPM_ALG_ID; NULL if unknown or not computable. */
const struct evp_md_st *m_alg_md(uint16_t alg);
/**
 * m_bank_list_parse() - parse "sha1,sha256" (or "all") into a mask.
 * Errors name the unknown word.
 */
int m_bank_list_parse(const char *list, unsigned *ret_mask);
/** m_bank_list_format() - "sha1,sha256" into @buf. */
void m_bank_list_format(unsigned mask, char *buf, size_t len);

/* One digest per bank. */
struct m_digests {
	unsigned banks;
	uint8_t d[M_BANK_COUNT][M_DIGEST_MAX];
};

/* Streaming hash in several banks at once. */
struct m_hash;
int m_hash_new(unsigned banks, struct m_hash **ret);
int m_hash_update(struct m_hash *h, const void *data, size_t len);
/** m_hash_update_bank() - feed one bank only (each bank's context is independent, so threads may feed different banks at once). */
int m_hash_update_bank(struct m_hash *h, enum m_bank b, const void *data, size_t len);
int m_hash_final(struct m_hash *h, struct m_digests *ret);
void m_hash_free(struct m_hash *h);

/** m_digest_buf() - every bank in @banks over one buffer. */
int m_digest_buf(unsigned banks, const void *data, size_t len, struct m_digests *ret);
/** m_digest_one() - one bank over one buffer into @out (m_bank_info(b)->size bytes). */
int m_digest_one(enum m_bank b, const void *data, size_t len, uint8_t *out);

/**
 * m_extend() - PCR extend in software: pcr = H(pcr || digest), in bank @b
 * (TPM 2.0 Part 1, 17.5 "PCR Extend").
 */
int m_extend(enum m_bank b, uint8_t *pcr, const uint8_t *digest);

/*
 * Hashing a file or block device: the input is read once and every bank is
 * hashed in its own thread, so two banks cost about one on two cores.
 */
typedef void (*m_progress_fn)(uint64_t done, uint64_t total, void *arg);
int m_digest_fd(int fd, unsigned banks, m_progress_fn progress, void *arg,
		struct m_digests *ret, uint64_t *ret_size);
/** m_digest_path() - open @path (O_NOFOLLOW) and hash it; messages name the path. */
int m_digest_path(const char *path, unsigned banks, m_progress_fn progress, void *arg,
		  struct m_digests *ret, uint64_t *ret_size);

/**
 * m_digest_arg_parse() - a command-line digest "BANK:HEX" (sha256:9f86...)
 * added to @d; an unknown bank, a bank given twice or a wrong number of hex
 * digits is -EINVAL with a message.
 */
int m_digest_arg_parse(const char *arg, struct m_digests *d);

/* Hex helpers (lowercase, as every output of this project). */
void m_hex(const uint8_t *data, size_t len, char *out); /* out: 2*len+1 */
/** m_unhex() - exactly @len bytes from @hex; -EINVAL on bad length or digit. */
int m_unhex(const char *hex, uint8_t *out, size_t len);

#endif
