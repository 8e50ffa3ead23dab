// SPDX-License-Identifier: MIT
/*
 * Authenticode digest of PE/COFF images (see include/measured/pe.h).
 *
 * Structures from the Microsoft PE/COFF specification: MS-DOS stub with
 * the PE header offset at 0x3c (section 2), "PE\0\0" and the COFF file
 * header (3.3), the optional header (3.4: CheckSum at offset 64 for both
 * PE32 and PE32+, data directories at 96 / 112), section table (4),
 * attribute certificate table (5.7: a file offset, quadword aligned).
 * The order of hashing is Authenticode's "Calculating the PE Image Hash".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/file.h"
#include "measured/pe.h"

#define PE_OFF_LFANEW     0x3c
#define COFF_HDR_SIZE     20
#define OPT_MAGIC_PE32    0x10b
#define OPT_MAGIC_PE32P   0x20b
#define OPT_OFF_SIZEOFHDRS 60
#define OPT_OFF_CHECKSUM  64
#define SECTION_HDR_SIZE  40
#define DIR_CERT_TABLE    4	/* "Certificate Table" is data directory 4 */
#define DIR_ENTRY_SIZE    8

struct pe_section {
	uint32_t ptr;	/* PointerToRawData */
	uint32_t size;	/* SizeOfRawData */
	unsigned index;	/* in the section table, for messages */
};

struct pe_layout {
	size_t checksum_off;
	size_t certdir_off;	/* 0 if the image has no certificate directory entry */
	uint32_t size_of_headers;
	uint32_t cert_off, cert_size;
	unsigned nsect;
	struct pe_section sect[M_PE_MAX_SECTIONS];
};

static int cmp_section(const void *a, const void *b)
{
	const struct pe_section *x = a, *y = b;

	if (x->ptr != y->ptr)
		return x->ptr < y->ptr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int read_at(const uint8_t *img, size_t len, size_t off, size_t n, struct mbuf_reader *r)
{
	mbr_init(r, img, len);
	if (!mbr_skip(r, off) || mbr_remaining(r) < n)
		return m_err(-EINVAL, "truncated: %zu bytes needed at offset %zu, file has %zu",
			     n, off, len);
	return 0;
}

/* Headers: where the two skipped fields are, and the section table. */
static int pe_parse_headers(const uint8_t *img, size_t len, struct pe_layout *l)
{
	struct mbuf_reader r;
	uint32_t lfanew, ndirs;
	uint16_t nsect, optsize, magic;
	size_t opt, dirs, sectab;
	int e;

	if ((e = read_at(img, len, 0, 64, &r)) < 0)
		return m_err_prefix(e, "MS-DOS header");
	if (mbr_u8(&r) != 'M' || mbr_u8(&r) != 'Z')
		return m_err(-EINVAL, "not a PE image: no 'MZ' at offset 0");
	mbr_skip(&r, PE_OFF_LFANEW - 2);
	lfanew = mbr_le32(&r);

	if ((e = read_at(img, len, lfanew, 4 + COFF_HDR_SIZE + 2, &r)) < 0)
		return m_err_prefix(e, "PE header (offset 0x3c says %u)", lfanew);
	if (memcmp(mbr_ptr(&r, 4), "PE\0\0", 4) != 0)
		return m_err(-EINVAL, "not a PE image: no 'PE\\0\\0' signature at offset %u", lfanew);
	mbr_skip(&r, 2);		/* Machine */
	nsect = mbr_le16(&r);
	mbr_skip(&r, 12);		/* TimeDateStamp, symbol table, symbols */
	optsize = mbr_le16(&r);
	mbr_skip(&r, 2);		/* Characteristics */
	opt = (size_t)lfanew + 4 + COFF_HDR_SIZE;
	magic = mbr_le16(&r);

	if (nsect > M_PE_MAX_SECTIONS)
		return m_err(-EINVAL, "too many sections: %u in the COFF header at offset %zu (limit %u)",
			     nsect, (size_t)lfanew + 6, M_PE_MAX_SECTIONS);
	if (magic == OPT_MAGIC_PE32)
		dirs = 96;
	else if (magic == OPT_MAGIC_PE32P)
		dirs = 112;
	else
		return m_err(-EINVAL, "unknown optional header magic 0x%x at offset %zu", magic, opt);
	if (optsize < dirs)
		return m_err(-EINVAL, "optional header at offset %zu too small (%u bytes) for its magic 0x%x",
			     opt, optsize, magic);
	if ((e = read_at(img, len, opt, optsize, &r)) < 0)
		return m_err_prefix(e, "optional header");
	mbr_skip(&r, OPT_OFF_SIZEOFHDRS);
	l->size_of_headers = mbr_le32(&r);
	mbr_skip(&r, dirs - 4 - OPT_OFF_SIZEOFHDRS - 4);
	ndirs = mbr_le32(&r);
	if (ndirs > (optsize - dirs) / DIR_ENTRY_SIZE)
		return m_err(-EINVAL, "NumberOfRvaAndSizes %u at offset %zu does not fit the optional header (%u bytes)",
			     ndirs, opt + dirs - 4, optsize);

	l->checksum_off = opt + OPT_OFF_CHECKSUM;
	l->certdir_off = 0;
	l->cert_off = l->cert_size = 0;
	if (ndirs > DIR_CERT_TABLE) {
		l->certdir_off = opt + dirs + DIR_CERT_TABLE * DIR_ENTRY_SIZE;
		mbr_skip(&r, DIR_CERT_TABLE * DIR_ENTRY_SIZE);
		l->cert_off = mbr_le32(&r);
		l->cert_size = mbr_le32(&r);
	}

	if (l->size_of_headers > len)
		return m_err(-EINVAL, "SizeOfHeaders %u (offset %zu) is beyond the end of the file (%zu bytes)",
			     l->size_of_headers, opt + OPT_OFF_SIZEOFHDRS, len);
	sectab = opt + optsize;
	if (sectab + (size_t)nsect * SECTION_HDR_SIZE > l->size_of_headers)
		return m_err(-EINVAL, "section table at offset %zu (%u sections) extends past SizeOfHeaders %u",
			     sectab, nsect, l->size_of_headers);

	l->nsect = 0;
	for (unsigned i = 0; i < nsect; i++) {
		size_t off = sectab + (size_t)i * SECTION_HDR_SIZE;
		uint32_t size, ptr;

		read_at(img, len, off, SECTION_HDR_SIZE, &r);	/* inside SizeOfHeaders, checked above */
		mbr_skip(&r, 16);	/* Name, VirtualSize, VirtualAddress */
		size = mbr_le32(&r);
		ptr = mbr_le32(&r);
		if (size == 0)
			continue;	/* nothing in the file to hash (.bss) */
		if (ptr > len || size > len - ptr)
			return m_err(-EINVAL, "section %u (header at offset %zu): raw data %u+%u is outside the file (%zu bytes)",
				     i, off, ptr, size, len);
		if (ptr < l->size_of_headers)
			return m_err(-EINVAL, "section %u (header at offset %zu): raw data at %u overlaps the headers (SizeOfHeaders %u)",
				     i, off, ptr, l->size_of_headers);
		l->sect[l->nsect++] = (struct pe_section){ .ptr = ptr, .size = size, .index = i };
	}
	return 0;
}

static int pe_check_layout(size_t len, struct pe_layout *l, uint64_t *ret_sum)
{
	uint64_t sum = l->size_of_headers;

	qsort(l->sect, l->nsect, sizeof(l->sect[0]), cmp_section);
	for (unsigned i = 0; i < l->nsect; i++) {
		if (i > 0 && l->sect[i].ptr < (uint64_t)l->sect[i - 1].ptr + l->sect[i - 1].size)
			return m_err(-EINVAL, "section %u (raw data at offset %u) overlaps section %u (%u+%u)",
				     l->sect[i].index, l->sect[i].ptr, l->sect[i - 1].index,
				     l->sect[i - 1].ptr, l->sect[i - 1].size);
		sum += l->sect[i].size;
	}
	if (l->cert_size != 0) {
		uint64_t end_of_data = l->nsect ? (uint64_t)l->sect[l->nsect - 1].ptr + l->sect[l->nsect - 1].size
						 : l->size_of_headers;

		if (l->cert_off % 8 != 0)
			return m_err(-EINVAL, "certificate table at offset %u (directory entry at %zu) is not 8-byte aligned",
				     l->cert_off, l->certdir_off);
		if (l->cert_off > len || l->cert_size > len - l->cert_off)
			return m_err(-EINVAL, "certificate table %u+%u (directory entry at %zu) is outside the file (%zu bytes)",
				     l->cert_off, l->cert_size, l->certdir_off, len);
		if ((size_t)l->cert_off + l->cert_size != len)
			return m_err(-EINVAL, "certificate table %u+%u (directory entry at %zu) is not at the end of the file (%zu bytes)",
				     l->cert_off, l->cert_size, l->certdir_off, len);
		if (l->cert_off < end_of_data || l->cert_off < sum)
			return m_err(-EINVAL, "certificate table at offset %u (directory entry at %zu) overlaps the image data",
				     l->cert_off, l->certdir_off);
	}
	*ret_sum = sum;
	return 0;
}

int m_pe_authenticode(const uint8_t *img, size_t len, unsigned banks, struct m_digests *ret)
{
	struct pe_layout *l;
	struct m_hash *h = NULL;
	uint64_t sum = 0;
	int e;

	l = malloc(sizeof(*l));
	if (!l)
		return m_err(-ENOMEM, "out of memory");
	if ((e = pe_parse_headers(img, len, l)) < 0 || (e = pe_check_layout(len, l, &sum)) < 0)
		goto out;
	if ((e = m_hash_new(banks, &h)) < 0)
		goto out;

	/* Headers, without CheckSum and the Certificate Table entry. */
	m_hash_update(h, img, l->checksum_off);
	if (l->certdir_off) {
		m_hash_update(h, img + l->checksum_off + 4, l->certdir_off - l->checksum_off - 4);
		m_hash_update(h, img + l->certdir_off + DIR_ENTRY_SIZE,
			      l->size_of_headers - l->certdir_off - DIR_ENTRY_SIZE);
	} else {
		m_hash_update(h, img + l->checksum_off + 4, l->size_of_headers - l->checksum_off - 4);
	}
	/* Sections in file order. */
	for (unsigned i = 0; i < l->nsect; i++)
		m_hash_update(h, img + l->sect[i].ptr, l->sect[i].size);
	/* Trailing data: everything after SUM_OF_BYTES_HASHED but the certificates. */
	if (len > sum + l->cert_size)
		m_hash_update(h, img + sum, len - sum - l->cert_size);
	e = m_hash_final(h, ret);
out:
	m_hash_free(h);
	free(l);
	return e;
}

int m_pe_authenticode_path(const char *path, unsigned banks, struct m_digests *ret)
{
	uint8_t *buf;
	size_t len;
	int e = m_read_file(path, M_PE_MAX_FILE, &buf, &len);

	if (e < 0)
		return e;
	e = m_pe_authenticode(buf, len, banks, ret);
	free(buf);
	if (e < 0)
		return m_err_prefix(e, "%s", path);
	return 0;
}
