// SPDX-License-Identifier: MIT
/*
 * A dm-verity image at build time: its superblock, its hash tree computed
 * here from the data (not read from the image), the stored tree checked
 * against it, and the event measured-init will extend for it.
 *
 * The tree, as the kernel walks it (Documentation/admin-guide/
 * device-mapper/verity.rst; drivers/md/dm-verity-target.c, verity_ctr()
 * and verity_hash_at_level()), format version 1:
 *  - each block's digest is H(salt || block);
 *  - a hash block holds 2^b digests, b = floor(log2(hash block / digest
 *    size)), each in a slot of (hash block >> b) bytes, zero-padded;
 *  - level 0 holds the data blocks' digests, level i+1 the digests of
 *    level i's blocks; there are as many levels as it takes to bring
 *    data_blocks - 1 to zero by shifting b bits at a time;
 *  - on the hash device the top level comes first (at hash_start), level
 *    0 last;
 *  - the root hash is the digest of the top level's one block (of data
 *    block 0 itself when there is one data block and no level).
 * The whole tree is held in memory: about 1/128 of the data with 4 KiB
 * blocks and SHA-256 (M_VERITY_TREE_MAX bounds it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "measured/error.h"
#include "measured/file.h"
#include "measured/measure.h"
#include "measured/predict.h"

struct tree_hasher {
	EVP_MD_CTX *salted, *ctx;
	size_t size;
};

static int th_init(struct tree_hasher *t, const struct m_verity *v)
{
	const EVP_MD *md = m_bank_md(v->alg);

	t->size = m_bank_info(v->alg)->size;
	t->salted = EVP_MD_CTX_new();
	t->ctx = EVP_MD_CTX_new();
	if (!md || !t->salted || !t->ctx || !EVP_DigestInit_ex(t->salted, md, NULL) ||
	    !EVP_DigestUpdate(t->salted, v->salt, v->salt_len))
		return m_err(-ENOMEM, "no %s context", m_bank_info(v->alg)->name);
	return 0;
}

static void th_free(struct tree_hasher *t)
{
	EVP_MD_CTX_free(t->salted);
	EVP_MD_CTX_free(t->ctx);
}

/* H(salt || block) */
static int th_block(struct tree_hasher *t, const uint8_t *block, size_t len, uint8_t *out)
{
	if (!EVP_MD_CTX_copy_ex(t->ctx, t->salted) || !EVP_DigestUpdate(t->ctx, block, len) ||
	    !EVP_DigestFinal_ex(t->ctx, out, NULL))
		return m_err(-EIO, "hashing a verity block failed");
	return 0;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off, const char *name)
{
	size_t done;
	int r = m_pread_full(fd, buf, len, off, &done);

	if (r == -ENODATA)
		return m_err(r, "%s: ends at byte %llu, before the %zu bytes needed there", name,
			     (unsigned long long)(off + done), len - done);
	if (r < 0)
		return m_err(r, "%s: reading at byte %llu: %s", name, (unsigned long long)(off + done), strerror(-r));
	return 0;
}

int m_verity_tree(int data_fd, int hash_fd, struct m_verity *v, const char *data_name, const char *hash_name)
{
	struct tree_hasher t = { 0 };
	unsigned bits = 0, levels = 0;
	uint64_t per, stride, nblk[64], first[64], total = 0, total_before = 0;
	uint8_t *tree = NULL, *buf = NULL, *stored = NULL, root[M_DIGEST_MAX];
	const size_t chunk = 1u << 20;
	int r;

	if ((unsigned)v->alg >= M_BANK_COUNT || v->alg == M_SM3_256 || !v->data_blocks || !v->data_block ||
	    !v->hash_block || v->hash_block < m_bank_info(v->alg)->size || chunk % v->data_block)
		return m_err(-EINVAL, "verity parameters out of range");
	while ((v->hash_block / m_bank_info(v->alg)->size) >> (bits + 1))
		bits++;
	if (bits == 0)	/* fewer than two digests per hash block: no tree the kernel builds */
		return m_err(-EINVAL, "verity hash block of %u bytes holds fewer than two %s digests", v->hash_block,
			     m_bank_info(v->alg)->name);
	per = 1ull << bits;
	stride = v->hash_block >> bits;
	while (bits * levels < 64 && ((v->data_blocks - 1) >> (bits * levels)))
		levels++;
	/* level i has ceil(data_blocks / per^(i+1)) blocks; computed level 0 first */
	for (unsigned i = 0; i < levels; i++) {
		nblk[i] = ((v->data_blocks - 1) >> (bits * (i + 1))) + 1;
		total += nblk[i];
	}
	if (total > M_VERITY_TREE_MAX / v->hash_block)
		return m_err(-EFBIG, "%s: a verity tree over %llu data blocks is larger than %llu bytes", data_name,
			     (unsigned long long)v->data_blocks, (unsigned long long)M_VERITY_TREE_MAX);
	/* where each level sits in memory: the device's order, top level first */
	for (unsigned i = levels; i-- > 0;) {
		first[i] = total_before;
		total_before += nblk[i];
	}
	r = th_init(&t, v);
	if (r < 0)
		goto out;
	tree = calloc(total ? total : 1, v->hash_block);
	buf = malloc(chunk);
	if (!tree || !buf) {
		r = m_err(-ENOMEM, "no memory for a verity tree of %llu blocks", (unsigned long long)total);
		goto out;
	}

	/* level 0 from the data, read once */
	for (uint64_t blk = 0; blk < v->data_blocks;) {
		uint64_t n = v->data_blocks - blk;

		if (n > chunk / v->data_block)
			n = chunk / v->data_block;
		r = pread_all(data_fd, buf, n * v->data_block, blk * v->data_block, data_name);
		if (r < 0)
			goto out;
		for (uint64_t k = 0; k < n; k++, blk++) {
			uint8_t *slot = root;

			if (levels)
				slot = tree + (first[0] + (blk >> bits)) * v->hash_block + (blk & (per - 1)) * stride;
			r = th_block(&t, buf + k * v->data_block, v->data_block, slot);
			if (r < 0)
				goto out;
		}
	}
	/* each level from the one below; the top's one block gives the root */
	for (unsigned i = 0; i < levels; i++) {
		for (uint64_t blk = 0; blk < nblk[i]; blk++) {
			uint8_t *slot = root;

			if (i + 1 < levels)
				slot = tree + (first[i + 1] + (blk >> bits)) * v->hash_block + (blk & (per - 1)) * stride;
			r = th_block(&t, tree + (first[i] + blk) * v->hash_block, v->hash_block, slot);
			if (r < 0)
				goto out;
		}
	}

	/* the tree the kernel will read must be this one */
	if (hash_fd >= 0 && total) {
		stored = malloc(v->hash_block);
		if (!stored) {
			r = -ENOMEM;
			goto out;
		}
		for (uint64_t b = 0; b < total; b++) {
			r = pread_all(hash_fd, stored, v->hash_block, (v->hash_start + b) * v->hash_block, hash_name);
			if (r < 0)
				goto out;
			if (memcmp(stored, tree + b * v->hash_block, v->hash_block) != 0) {
				r = m_err(-EBADMSG, "%s: the stored verity tree differs from the data's at hash block %llu",
					  hash_name, (unsigned long long)(v->hash_start + b));
				goto out;
			}
		}
	}
	memcpy(v->root, root, m_bank_info(v->alg)->size);
	r = 0;
out:
	th_free(&t);
	free(tree);
	free(buf);
	free(stored);
	return r;
}

int m_verity_image_read(const struct m_verity_image *img, struct m_verity *ret)
{
	const char *hash_path = img->hash ? img->hash : img->data;
	int dfd = -1, hfd = -1, r;
	uint8_t sb[M_VERITY_SB_SIZE];
	struct m_verity v;

	dfd = open(img->data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (dfd < 0)
		return m_err(-errno, "%s: %m", img->data);
	hfd = open(hash_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (hfd < 0) {
		r = m_err(-errno, "%s: %m", hash_path);
		goto out;
	}
	r = pread_all(hfd, sb, sizeof(sb), img->hash_offset, hash_path);
	if (r < 0)
		goto out;
	r = m_verity_sb_parse(sb, sizeof(sb), img->hash_offset, &v);
	if (r < 0) {
		m_err_prefix(r, "%s", hash_path);
		goto out;
	}
	if (!img->hash && img->hash_offset < v.data_blocks * v.data_block) {
		r = m_err(-EINVAL, "%s: the hash area at byte %llu overlaps the %llu data bytes", hash_path,
			  (unsigned long long)img->hash_offset, (unsigned long long)(v.data_blocks * v.data_block));
		goto out;
	}
	v.data_major = img->data_major;
	v.data_minor = img->data_minor;
	v.hash_major = img->hash ? img->hash_major : img->data_major;
	v.hash_minor = img->hash ? img->hash_minor : img->data_minor;
	v.error = img->error;
	r = m_verity_tree(dfd, hfd, &v, img->data, hash_path);
	if (r == 0)
		*ret = v;
out:
	if (dfd >= 0)
		close(dfd);
	if (hfd >= 0)
		close(hfd);
	return r;
}

int m_predict_rootfs_verity(struct m_manifest *m, unsigned pcr, const struct m_verity *v)
{
	char table[M_VERITY_TABLE_MAX], what[M_VERITY_TABLE_MAX + 16];
	struct m_digests d;
	int r;

	r = m_verity_table(v, table, sizeof(table));
	if (r < 0)
		return r;
	r = m_verity_extend_digests(m_hash_backend_evp(), m->banks, table, &d);
	if (r < 0)
		return r;
	r = m_verity_event_description(table, what, sizeof(what));
	if (r < 0)
		return r;
	return m_manifest_add(m, pcr, 0, &d, what, "rootfs-verity");
}
