/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TBOOT_H
#define MEASURED_TBOOT_H

/*
 * tboot / Intel TXT arithmetic: the values a measured launch through tboot
 * extends into the dynamic-root PCRs 17-19, computed from build artifacts.
 * Every formula, with the tboot source or Intel document it comes from, is
 * in docs/predict-formulas.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "measured/digest.h"

/* Largest tboot.gz (compressed or not) and its decompressed ELF we read. */
#define M_TBOOT_MAX_FILE   (256u << 20)
/* Largest loaded MLE image (sum of PT_LOAD p_memsz); tboot's is ~36 MiB. */
#define M_TBOOT_MAX_IMAGE  (256u << 20)
#define M_TBOOT_MAX_PHDRS  64u
/* Module files (a kernel, an initrd) hashed for module-hash. */
#define M_TBOOT_MAX_MODULE (2048u << 20)

/**
 * m_tboot_read_file() - read @path (O_NOFOLLOW) whole, at most @max bytes
 * after decompression; if @gunzip and the file is gzip, its decompressed
 * content (as GRUB's multiboot loader and tb_polgen's hash_file() do).
 * *@ret_data is malloc'd.
 */
int m_tboot_read_file(const char *path, size_t max, bool gunzip, uint8_t **ret_data, size_t *ret_len);

/**
 * m_tboot_mlehash() - the MLE hash of a tboot ELF image (decompressed),
 * as SINIT measures it and as `lcp2_mlehash --create --cmdline` prints:
 * the PT_LOAD segments laid out one after another (bss zero-filled), the
 * command-line field of the MLE header zeroed and @cmdline (if not NULL)
 * copied into it, then the bytes mle_start_off..mle_end_off hashed.
 */
int m_tboot_mlehash(const uint8_t *elf, size_t len, const char *cmdline, unsigned banks,
		    struct m_digests *ret);

/**
 * m_tboot_skip_filename() - old tboot's command-line rule for modules:
 * skip leading spaces, the first word (the file name) and the spaces after
 * it ("  /foo/bar   baz" -> "baz", "/foo/bar" -> "").
 */
const char *m_tboot_skip_filename(const char *cmdline);

/**
 * m_tboot_module_hash() - H(H(cmdline) || H(image)) in each bank (tboot
 * common/policy.c hash_module(), tb_polgen commands.c do_add()).
 */
int m_tboot_module_hash(const char *cmdline, const uint8_t *img, size_t len, unsigned banks,
			struct m_digests *ret);

/* tboot include/tb_policy.h: the verified-launch policy, as tb_polgen writes it. */
#define M_TB_POLICY_VERSION     2
#define M_TB_POLICY_HDR_SIZE    12
#define M_TB_POLICY_ENTRY_SIZE  8
/* tboot's MAX_TB_POLICY_SIZE: header + 8 entries of 4 64-byte hashes. */
#define M_TB_POLICY_MAX_SIZE    (M_TB_POLICY_HDR_SIZE + 8 * (M_TB_POLICY_ENTRY_SIZE + 4 * 64))
#define M_TB_POLCTL_EXTEND_PCR17 0x1u
#define M_TB_MOD_NUM_MAX        127
#define M_TB_MOD_NUM_ANY        129
#define M_TB_MOD_NUM_NV         130
#define M_TB_MOD_NUM_NV_RAW     131
#define M_TB_PCR_MAX            23
#define M_TB_PCR_NONE           255
#define M_TB_HTYPE_ANY          0
#define M_TB_HTYPE_IMAGE        1

struct m_tb_policy_entry {
	uint8_t mod_num, pcr, hash_type, num_hashes;
	uint32_t nv_index;
	const uint8_t *hashes;		/* num_hashes * hash size, inside the parsed buffer */
	size_t offset;			/* of the entry in the file */
};

struct m_tb_policy {
	uint8_t version, policy_type, hash_alg;	/* hash_alg: TPM_ALG_ID (0 = legacy SHA-1) */
	enum m_bank bank;			/* the bank hash_alg names */
	uint32_t policy_control;
	unsigned num_entries;
	struct m_tb_policy_entry entries[255];
	const uint8_t *raw;			/* the policy bytes tboot hashes */
	size_t size;
};

/**
 * m_tb_policy_parse() - parse a tboot policy (tb_policy_t) in @data; the
 * whole buffer must be the policy (no bytes left over) and at most
 * M_TB_POLICY_MAX_SIZE.  @ret keeps pointers into @data.
 */
int m_tb_policy_parse(const uint8_t *data, size_t len, struct m_tb_policy *ret);

/**
 * m_tb_policy_control_digest() - what tboot extends into PCR 17 (and, with
 * the DA mapping, also PCR 18) for its policy: H_bank(policy_control as 4
 * little-endian bytes || H_cur(policy)), H_cur(policy) replaced by zeros if
 * EXTEND_PCR17 is clear.  @cur is tboot's cur_alg (the extpol= bank,
 * sha256 by default, sha1 with TPM 1.2); @bank the PCR bank (tboot's
 * "fixed" policy uses @bank == @cur).  A hash_alg of 0 is hashed as 4
 * (SHA-1): tboot rewrites it in memory before hashing (policy.c,
 * "compatible with tb_policy tools for TPM 1.2").
 */
int m_tb_policy_control_digest(const struct m_tb_policy *pol, enum m_bank cur,
			       enum m_bank bank, uint8_t *out);

#define M_TB_POLICY_DEFAULT_SIZE (M_TB_POLICY_HDR_SIZE + 3 * M_TB_POLICY_ENTRY_SIZE)
/**
 * m_tb_policy_default() - tboot's built-in policy (common/policy.c), used
 * when the TPM holds none: _def_policy_12 for TPM 1.2 (@tpm12), else
 * _def_policy_da (@da, what TPM 2.0 always gets) or _def_policy.  Writes
 * M_TB_POLICY_DEFAULT_SIZE bytes to @buf; parse them with m_tb_policy_parse().
 */
void m_tb_policy_default(bool tpm12, bool da, uint8_t buf[M_TB_POLICY_DEFAULT_SIZE]);

/**
 * m_tb_policy_find() - the policy entry tboot uses for module @mod (the
 * first whose mod_num is @mod or ANY), NULL if none.
 */
const struct m_tb_policy_entry *m_tb_policy_find(const struct m_tb_policy *pol, unsigned mod);

/*
 * What SINIT extends into PCR 17 with the legacy (TPM 1.2) mapping, after
 * the CPU's extend of the SINIT ACM hash: SHA-1 over these SinitMleData /
 * OsSinitData fields in this order (Intel TXT MLE Developer's Guide,
 * "Legacy PCR usage", PCR 17).
 */
struct m_txt_legacy_sinit {
	uint8_t sinit_hash[20];		/* SHA-1 of the SINIT ACM (extended by the CPU) */
	uint8_t bios_acm_id[20];
	uint32_t edx_senter_flags;
	uint64_t mseg_valid;
	uint8_t stm_hash[20];
	uint32_t lcp_policy_control;
	uint8_t lcp_policy_hash[20];
	bool has_os_sinit_caps;		/* OsSinitData version >= 5 */
	uint32_t os_sinit_caps;
	bool has_scrtm_status;		/* SinitMleData version >= 8 */
	uint32_t proc_scrtm_status;
};

/** m_txt_legacy_sinit_details() - the SHA-1 SINIT extends after the ACM hash. */
int m_txt_legacy_sinit_details(const struct m_txt_legacy_sinit *s, uint8_t out[20]);

#endif
