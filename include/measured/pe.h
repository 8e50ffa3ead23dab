/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_PE_H
#define MEASURED_PE_H

/*
 * Authenticode digest of a PE/COFF image: what UEFI firmware extends into
 * PCR 4 for an EFI application it loads (EV_EFI_BOOT_SERVICES_APPLICATION;
 * TCG PC Client Platform Firmware Profile, section 10.4.4 / 3.3.4.4), and
 * what a Secure Boot signature signs.
 *
 * The digest follows Microsoft's "Windows Authenticode Portable Executable
 * Signature Format", "Calculating the PE Image Hash", over the structures
 * of the Microsoft PE/COFF specification: the headers up to SizeOfHeaders
 * without the CheckSum field and the Certificate Table data-directory
 * entry, then every section with raw data in order of PointerToRawData,
 * then any bytes after the last section that are not the attribute
 * certificate table.
 */

#include <stddef.h>
#include <stdint.h>
#include "measured/digest.h"

/* PE/COFF spec 3.3 "COFF File Header": the Windows loader stops at 96. */
#define M_PE_MAX_SECTIONS 96u
/* Largest image m_pe_authenticode_path() reads (a kernel is ~10 MiB). */
#define M_PE_MAX_FILE (256u << 20)

/**
 * m_pe_authenticode() - Authenticode digest of a PE32 or PE32+ image.
 * @img:   the whole file
 * @len:   its size
 * @banks: the digests to compute (mask of M_BANK_BIT())
 * @ret:   the digests, written only on success
 *
 * Returns 0, -EINVAL for a malformed image (truncated, not MZ/PE, sections
 * overlapping or outside the file, a certificate table that is misaligned,
 * outside the file or not at its end, SizeOfHeaders beyond the file, more
 * than M_PE_MAX_SECTIONS sections); the message names the byte offset.
 */
int m_pe_authenticode(const uint8_t *img, size_t len, unsigned banks, struct m_digests *ret);

/**
 * m_pe_authenticode_path() - read @path (O_NOFOLLOW, at most M_PE_MAX_FILE
 * bytes) and compute its Authenticode digest; messages name the path.
 */
int m_pe_authenticode_path(const char *path, unsigned banks, struct m_digests *ret);

#endif
