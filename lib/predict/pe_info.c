// SPDX-License-Identifier: MIT
/*
 * Sections and the signature of a PE/COFF image (Microsoft PE/COFF
 * specification: 3.3 COFF header, 3.4 optional header data directories,
 * 4 section table, 5.7 attribute certificate table; WIN_CERTIFICATE =
 * dwLength u32 | wRevision u16 | wCertificateType u16 | bCertificate,
 * entries 8-byte aligned).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/chain.h"
#include "measured/error.h"

#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002

struct pe_hdr {
	size_t sectab;
	uint32_t symtab, nsyms;		/* long section names: "/N" into the string table after the symbols */
	unsigned nsect;
	uint32_t cert_off, cert_size;
};

static int pe_hdr(const uint8_t *img, size_t len, struct pe_hdr *h)
{
	struct mbuf_reader r;
	uint32_t lfanew, ndirs;
	uint16_t nsect, optsize, magic;
	size_t opt;

	mbr_init(&r, img, len);
	mbr_skip(&r, 0x3c);
	lfanew = mbr_le32(&r);
	if (!mbr_ok(&r) || len < 2 || img[0] != 'M' || img[1] != 'Z' || lfanew > len || len - lfanew < 24 ||
	    memcmp(img + lfanew, "PE\0\0", 4))
		return m_err(-EINVAL, "not a PE image");
	mbr_init(&r, img + lfanew + 4, len - lfanew - 4);
	mbr_skip(&r, 2);
	nsect = mbr_le16(&r);
	mbr_skip(&r, 4);
	h->symtab = mbr_le32(&r);
	h->nsyms = mbr_le32(&r);
	optsize = mbr_le16(&r);
	opt = lfanew + 24;
	if (optsize > len - opt)
		return m_err(-EINVAL, "PE optional header past the end");
	mbr_init(&r, img + opt, optsize);
	magic = mbr_le16(&r);
	if (magic != 0x10b && magic != 0x20b)
		return m_err(-EINVAL, "PE optional header magic 0x%x", magic);
	mbr_skip(&r, (magic == 0x20b ? 108 : 92) - 2);
	ndirs = mbr_le32(&r);
	h->cert_off = h->cert_size = 0;
	if (ndirs > 4) {
		mbr_skip(&r, 4 * 8);
		h->cert_off = mbr_le32(&r);
		h->cert_size = mbr_le32(&r);
	}
	if (!mbr_ok(&r))
		return m_err(-EINVAL, "PE optional header truncated");
	h->sectab = opt + optsize;
	h->nsect = nsect;
	if (nsect > 96 || (size_t)nsect * 40 > len - h->sectab)
		return m_err(-EINVAL, "PE section table past the end");
	return 0;
}

int m_pe_section(const uint8_t *img, size_t len, const char *name, size_t *ret_off, size_t *ret_size)
{
	struct pe_hdr h;
	int e = pe_hdr(img, len, &h);

	if (e < 0)
		return e;
	for (unsigned i = 0; i < h.nsect; i++) {
		const uint8_t *s = img + h.sectab + 40 * i;
		struct mbuf_reader r;
		uint32_t vsize, rawsize, rawptr;
		char nm[9] = { 0 };

		memcpy(nm, s, 8);
		if (nm[0] == '/') {	/* PE/COFF 4: "/N", N the offset in the COFF string table */
			unsigned long so = strtoul(nm + 1, NULL, 10);
			uint64_t st = (uint64_t)h.symtab + (uint64_t)h.nsyms * 18 + so;

			if (!h.symtab || st >= len || strnlen((const char *)img + st, len - st) != strlen(name) ||
			    memcmp(img + st, name, strlen(name)))
				continue;
		} else if (strcmp(nm, name))
			continue;
		mbr_init(&r, s + 8, 32);
		vsize = mbr_le32(&r);
		mbr_skip(&r, 4);
		rawsize = mbr_le32(&r);
		rawptr = mbr_le32(&r);
		if (rawptr > len || rawsize > len - rawptr)
			return m_err(-EINVAL, "PE section %s outside the file", name);
		*ret_off = rawptr;
		*ret_size = vsize && vsize < rawsize ? vsize : rawsize;
		return 0;
	}
	return m_err(-ENOENT, "no PE section %s", name);
}

int m_pe_signature(const uint8_t *img, size_t len, const uint8_t **ret, size_t *ret_len)
{
	struct pe_hdr h;
	size_t off;
	int e = pe_hdr(img, len, &h);

	if (e < 0)
		return e;
	if (!h.cert_size)
		return m_err(-ENOENT, "the image is not signed (no certificate table)");
	if (h.cert_off > len || h.cert_size > len - h.cert_off)
		return m_err(-EINVAL, "certificate table outside the file");
	for (off = h.cert_off; off + 8 <= (size_t)h.cert_off + h.cert_size;) {
		struct mbuf_reader r;
		uint32_t dwlen;
		uint16_t type;

		mbr_init(&r, img + off, (size_t)h.cert_off + h.cert_size - off);
		dwlen = mbr_le32(&r);
		mbr_skip(&r, 2);
		type = mbr_le16(&r);
		if (dwlen < 8 || dwlen > (size_t)h.cert_off + h.cert_size - off)
			return m_err(-EINVAL, "WIN_CERTIFICATE at 0x%zx: bad length %u", off, dwlen);
		if (type == WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
			*ret = img + off + 8;
			*ret_len = dwlen - 8;
			return 0;
		}
		off += (dwlen + 7) & ~7u;
	}
	return m_err(-ENOENT, "no PKCS#7 signature in the certificate table");
}
