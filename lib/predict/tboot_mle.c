// SPDX-License-Identifier: MIT
/*
 * MLE hash of tboot: the digest SINIT takes of the measured launch
 * environment (Intel TXT MLE Developer's Guide, "MLE Header" and
 * "Measured Launch Environment"), computed from tboot's ELF image as
 * tboot's lcp2_mlehash does, so the two can be compared.
 *
 * tboot is a 32-bit little-endian ELF executable (ELF specification,
 * "ELF Header" and "Program Header").  Its loaded image is its PT_LOAD
 * segments placed one after another, each p_filesz bytes from the file and
 * zeros up to p_memsz.  The MLE header is found by its UUID on a 16-byte
 * boundary of that image; its offsets are relative to the image start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/tboot.h"

#define PT_LOAD 1
#define MLE_HDR_SIZE 52		/* UUID + 9 u32, MLE header version 2.1 */

/* MLE_HDR_UUID 9082ac5a-476f-74a7-5c0f-55a2cb51b642, stored as tboot's uuid_t (LE fields). */
static const uint8_t mle_uuid[16] = {
	0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74,
	0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42,
};

struct phdr {
	uint32_t offset, filesz, memsz;
};

/* The PT_LOAD segments of a 32-bit ELF, and the size of the image they make. */
static int elf_segments(const uint8_t *elf, size_t len, struct phdr *ph, unsigned *ret_n,
			size_t *ret_size)
{
	struct mbuf_reader r;
	uint32_t phoff;
	uint16_t phentsize, phnum;
	size_t size = 0;
	unsigned n = 0;
	const uint8_t *id;

	mbr_init(&r, elf, len);
	id = mbr_ptr(&r, 16);
	if (!id || memcmp(id, "\x7f" "ELF", 4) != 0)
		return m_err(-EINVAL, "not an ELF image (no \\x7fELF at offset 0)");
	if (id[4] != 1 || id[5] != 1)
		return m_err(-EINVAL, "ELF class %u / data %u at offset 4: tboot is 32-bit little-endian",
			     id[4], id[5]);
	mbr_skip(&r, 12);	/* e_type, e_machine, e_version, e_entry */
	phoff = mbr_le32(&r);
	mbr_skip(&r, 10);	/* e_shoff, e_flags, e_ehsize */
	phentsize = mbr_le16(&r);
	phnum = mbr_le16(&r);
	if (!mbr_ok(&r))
		return m_err(-EINVAL, "ELF header truncated (%zu bytes)", len);
	if (phnum > M_TBOOT_MAX_PHDRS)
		return m_err(-EINVAL, "%u program headers (offset 44), limit %u", phnum, M_TBOOT_MAX_PHDRS);
	if (phentsize < 32)
		return m_err(-EINVAL, "program header size %u at offset 42 is below 32", phentsize);

	for (unsigned i = 0; i < phnum; i++) {
		size_t off = (size_t)phoff + (size_t)i * phentsize;
		uint32_t type;

		mbr_init(&r, elf, len);
		if (!mbr_skip(&r, off) || mbr_remaining(&r) < 32)
			return m_err(-EINVAL, "program header %u at offset %zu is outside the file (%zu bytes)",
				     i, off, len);
		type = mbr_le32(&r);
		if (type != PT_LOAD)
			continue;
		ph[n].offset = mbr_le32(&r);
		mbr_skip(&r, 8);	/* p_vaddr, p_paddr */
		ph[n].filesz = mbr_le32(&r);
		ph[n].memsz = mbr_le32(&r);
		if (ph[n].offset > len || ph[n].filesz > len - ph[n].offset)
			return m_err(-EINVAL, "segment %u (header at offset %zu): file bytes %u+%u outside the file (%zu bytes)",
				     i, off, ph[n].offset, ph[n].filesz, len);
		if (ph[n].filesz > ph[n].memsz)
			return m_err(-EINVAL, "segment %u (header at offset %zu): p_filesz %u > p_memsz %u",
				     i, off, ph[n].filesz, ph[n].memsz);
		if (ph[n].memsz > M_TBOOT_MAX_IMAGE - size)
			return m_err(-EINVAL, "loaded image over the limit of %u bytes at segment %u",
				     M_TBOOT_MAX_IMAGE, i);
		size += ph[n].memsz;
		n++;
	}
	if (n == 0 || size == 0)
		return m_err(-EINVAL, "ELF image has no loadable segment");
	*ret_n = n;
	*ret_size = size;
	return 0;
}

int m_tboot_mlehash(const uint8_t *elf, size_t len, const char *cmdline, unsigned banks,
		    struct m_digests *ret)
{
	struct phdr ph[M_TBOOT_MAX_PHDRS];
	struct mbuf_reader r;
	uint32_t start, end, cl_start, cl_end;
	size_t size = 0, pos = 0, hdr;
	uint8_t *img;
	unsigned n = 0;
	int e;

	if ((e = elf_segments(elf, len, ph, &n, &size)) < 0)
		return e;
	img = calloc(1, size);
	if (!img)
		return m_err(-ENOMEM, "out of memory for a %zu-byte image", size);
	for (unsigned i = 0; i < n; i++) {
		memcpy(img + pos, elf + ph[i].offset, ph[i].filesz);
		pos += ph[i].memsz;	/* the rest stays zero: bss */
	}

	for (hdr = 0; hdr + MLE_HDR_SIZE <= size; hdr += 16)
		if (memcmp(img + hdr, mle_uuid, 16) == 0)
			break;
	if (hdr + MLE_HDR_SIZE > size) {
		e = m_err(-EINVAL, "no MLE header (UUID 9082ac5a-476f-74a7-5c0f-55a2cb51b642) in the loaded image");
		goto out;
	}
	mbr_init(&r, img + hdr, MLE_HDR_SIZE);
	mbr_skip(&r, 16 + 16);	/* UUID, length, version, entry_point, first_valid_page */
	start = mbr_le32(&r);
	end = mbr_le32(&r);
	mbr_skip(&r, 4);	/* capabilities */
	cl_start = mbr_le32(&r);
	cl_end = mbr_le32(&r);
	if (start > end || end > size) {
		e = m_err(-EINVAL, "MLE header at image offset %zu: mle_start_off 0x%x / mle_end_off 0x%x outside the %zu-byte image",
			  hdr, start, end, size);
		goto out;
	}
	if (cmdline && cl_end > cl_start) {
		size_t room = cl_end - cl_start;

		if (cl_end > size) {
			e = m_err(-EINVAL, "MLE header at image offset %zu: command line field 0x%x-0x%x outside the image",
				  hdr, cl_start, cl_end);
			goto out;
		}
		/* tboot keeps a NUL terminator inside the field */
		if (strlen(cmdline) >= room) {
			e = m_err(-E2BIG, "command line of %zu bytes does not fit tboot's %zu-byte field",
				  strlen(cmdline), room);
			goto out;
		}
		memset(img + cl_start, 0, room);
		memcpy(img + cl_start, cmdline, strlen(cmdline));
	}
	e = m_digest_buf(banks, img + start, end - start, ret);
out:
	free(img);
	return e;
}
