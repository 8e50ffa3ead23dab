// SPDX-License-Identifier: MIT
/*
 * SeaBIOS booting a hard disk's MBR (src/tcgbios.c tpm_add_bcv; TCG PC
 * Client Implementation Specification for Conventional BIOS, 8.2.3 and
 * 11.3.3): before handing over it logs into PCR 4 the EV_ACTION "Booting
 * BCV device 80h (HDD)" and EV_IPL "MBR" = H(bytes 0..439, the boot code),
 * and into PCR 5 EV_IPL_PARTITION_DATA "MBR PARTITION_TABLE" = H(bytes
 * 440..511).  Before them PCR 4 has the EV_ACTION "Calling INT 19h"
 * (tpm_add_action at the boot) and both PCRs their EV_SEPARATOR, whose
 * data SeaBIOS writes as ff ff ff ff (tpm_prepboot); with a golden log
 * these come from it.  The
 * rest of the disk is not measured: GRUB i386-pc in Debian 12 has no TPM
 * module, so nothing after the MBR is.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "measured/chain.h"
#include "measured/error.h"

#define EV_SEPARATOR 0x4
#define EV_ACTION 0x5
#define EV_IPL 0xd
#define EV_IPL_PARTITION_DATA 0xe

static int add(struct m_manifest *m, unsigned pcr, uint32_t type, const void *data, size_t len, const char *desc)
{
	return m_chain_add_data(m, pcr, type, data, len, desc, "bios-disk");
}

/* the platform's events of PCR 4/5 before the boot device's */
static int prologue(struct m_manifest *m, unsigned pcr, const struct m_log *golden)
{
	static const uint8_t sep[4] = { 0xff, 0xff, 0xff, 0xff };
	static const char int19[] = "Calling INT 19h", bcv[] = "Booting BCV device 80h (HDD)";
	int r = 0;

	if (!golden) {
		if (pcr == 4)
			r = add(m, pcr, EV_ACTION, int19, strlen(int19), int19);
		if (r == 0)
			r = add(m, pcr, EV_SEPARATOR, sep, 4, "separator");
		if (r == 0 && pcr == 4)
			r = add(m, pcr, EV_ACTION, bcv, strlen(bcv), bcv);
		return r;
	}
	return m_chain_golden_events(m, golden, pcr, EV_IPL, EV_IPL_PARTITION_DATA);
}

int m_predict_bios_mbr(struct m_manifest *m, const char *disk, const struct m_log *golden)
{
	uint8_t mbr[512];
	ssize_t n;
	int fd = open(disk, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return m_err(-errno, "%s: %s", disk, strerror(errno));
	n = pread(fd, mbr, sizeof(mbr), 0);
	close(fd);
	if (n != (ssize_t)sizeof(mbr) || mbr[510] != 0x55 || mbr[511] != 0xaa)
		return m_err(-EINVAL, "%s: no MBR (a 512-byte sector ending 55 aa)", disk);
	r = prologue(m, 4, golden);
	if (r == 0)
		r = add(m, 4, EV_IPL, mbr, 440, "MBR");
	if (r == 0)
		r = prologue(m, 5, golden);
	if (r == 0)
		r = add(m, 5, EV_IPL_PARTITION_DATA, mbr + 440, 72, "MBR PARTITION_TABLE");
	return r;
}
