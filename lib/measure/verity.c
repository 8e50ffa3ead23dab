// SPDX-License-Identifier: MIT
/*
 * A dm-verity root's event: the superblock veritysetup writes, the table
 * line the kernel is given (and prints back), and the digests extended
 * for it (include/measured/measure.h).  Compiled into measured-init and
 * libmeasured alike, so `measured predict --rootfs-verity` and the init
 * format the same line.
 *
 * Sources: the kernel's Documentation/admin-guide/device-mapper/verity.rst
 * (table parameters; block sizes are powers of two from the device's
 * logical block size up to the page size), drivers/md/dm-verity-target.c's
 * verity_status() (the order and spelling of the printed table) and
 * cryptsetup's documented superblock (its DMVerity page: 512 bytes,
 * little-endian; the hash area starts at the next hash block).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/measure.h"

static bool block_size_ok(uint32_t n)
{
	/* 4096: the x86 page size, the largest the kernel accepts there */
	return n >= 512 && n <= 4096 && (n & (n - 1)) == 0;
}

int m_verity_sb_parse(const void *sb, size_t len, uint64_t sb_offset, struct m_verity *v)
{
	static const uint8_t sig[8] = { 'v', 'e', 'r', 'i', 't', 'y', 0, 0 };
	struct mbuf_reader r;
	struct m_verity out = { 0 };
	uint8_t magic[8], uuid[16], alg[32], salt[M_VERITY_SALT_MAX];
	uint32_t version;
	uint16_t salt_len;
	int bank;

	mbr_init(&r, sb, len);
	mbr_copy(&r, magic, sizeof(magic));
	version = mbr_le32(&r);
	out.hash_type = mbr_le32(&r);
	mbr_copy(&r, uuid, sizeof(uuid));
	mbr_copy(&r, alg, sizeof(alg));
	out.data_block = mbr_le32(&r);
	out.hash_block = mbr_le32(&r);
	out.data_blocks = mbr_le64(&r);
	salt_len = mbr_le16(&r);
	mbr_skip(&r, 6);
	mbr_copy(&r, salt, sizeof(salt));
	mbr_skip(&r, 168);
	if (!mbr_ok(&r))
		return m_err(-EINVAL, "verity superblock: %zu bytes, expected %u", len, M_VERITY_SB_SIZE);
	if (memcmp(magic, sig, sizeof(sig)) != 0)
		return m_err(-EINVAL, "no verity superblock at byte %llu (no \"verity\" signature)",
			     (unsigned long long)sb_offset);
	if (version != 1)
		return m_err(-EINVAL, "verity superblock version %u (only 1 is defined)", version);
	if (out.hash_type != 1)
		return m_err(-EINVAL, "verity hash type %u: only type 1 (veritysetup's default) is supported",
			     out.hash_type);
	if (!memchr(alg, 0, sizeof(alg)))
		return m_err(-EINVAL, "verity superblock: algorithm name not terminated");
	bank = m_bank_by_name((const char *)alg);
	if (bank < 0 || bank == M_SM3_256)
		return m_err(-EINVAL, "verity algorithm \"%.31s\": expected sha1, sha256, sha384 or sha512",
			     (const char *)alg);
	out.alg = (enum m_bank)bank;
	if (!block_size_ok(out.data_block) || !block_size_ok(out.hash_block))
		return m_err(-EINVAL, "verity block sizes %u/%u: expected powers of two from 512 to 4096",
			     out.data_block, out.hash_block);
	if (out.data_blocks == 0 || out.data_blocks > (UINT64_MAX / out.data_block) / 2)
		return m_err(-EINVAL, "verity superblock: %llu data blocks", (unsigned long long)out.data_blocks);
	if (salt_len > M_VERITY_SALT_MAX)
		return m_err(-EINVAL, "verity salt of %u bytes (at most %u)", salt_len, M_VERITY_SALT_MAX);
	memcpy(out.salt, salt, salt_len);
	out.salt_len = salt_len;
	if (sb_offset > UINT64_MAX - 2 * (uint64_t)out.hash_block)
		return m_err(-EINVAL, "verity superblock offset %llu too large", (unsigned long long)sb_offset);
	/* the tree starts at the first hash block after the 512-byte superblock */
	out.hash_start = (sb_offset + M_VERITY_SB_SIZE + out.hash_block - 1) / out.hash_block;
	*v = out;
	return 0;
}

static const char *const error_names[] = { "eio", "restart", "panic" };

const char *m_verity_error_name(enum m_verity_error e)
{
	return (unsigned)e < 3 ? error_names[e] : "?";
}

int m_verity_error_parse(const char *s, enum m_verity_error *ret)
{
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(s, error_names[i]) == 0) {
			*ret = (enum m_verity_error)i;
			return 0;
		}
	return m_err(-EINVAL, "verity error mode \"%.20s\": expected eio, restart or panic", s);
}

int m_verity_table(const struct m_verity *v, char *buf, size_t cap)
{
	char root[2 * M_DIGEST_MAX + 1], salt[2 * M_VERITY_SALT_MAX + 1];
	const char *opt = v->error == M_VERITY_RESTART ? " 1 restart_on_corruption" :
			  v->error == M_VERITY_PANIC ? " 1 panic_on_corruption" : "";
	int n;

	if ((unsigned)v->alg >= M_BANK_COUNT || v->alg == M_SM3_256 || v->salt_len > M_VERITY_SALT_MAX)
		return m_err(-EINVAL, "verity parameters out of range");
	m_hex(v->root, m_bank_info(v->alg)->size, root);
	if (v->salt_len)
		m_hex(v->salt, v->salt_len, salt);
	else
		strcpy(salt, "-");	/* the kernel's spelling of no salt */
	n = snprintf(buf, cap, "%u %u:%u %u:%u %u %u %llu %llu %s %s %s%s", v->hash_type, v->data_major,
		     v->data_minor, v->hash_major, v->hash_minor, v->data_block, v->hash_block,
		     (unsigned long long)v->data_blocks, (unsigned long long)v->hash_start,
		     m_bank_info(v->alg)->name, root, salt, opt);
	if (n < 0 || (size_t)n >= cap)
		return m_err(-ENAMETOOLONG, "verity table longer than %zu bytes", cap - 1);
	return 0;
}

int m_verity_extend_digests(const struct m_hash_backend *be, unsigned banks, const char *table,
			    struct m_digests *ret)
{
	void *h;
	int r;

	if (!banks || (banks & ~be->banks))
		return m_err(-EINVAL, "a selected bank cannot be computed here");
	h = be->new(banks);
	if (!h)
		return m_err(-ENOMEM, "no hash context");
	r = be->update(h, table, strlen(table));
	if (r < 0) {
		be->release(h);
		return r;
	}
	r = be->final(h, ret);
	if (r == 0)
		ret->banks = banks;
	return r;
}

int m_verity_event_description(const char *table, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "dm-verity %s", table);

	if (n < 0 || (size_t)n >= cap)
		return m_err(-ENAMETOOLONG, "verity event description longer than %zu bytes", cap - 1);
	return 0;
}
