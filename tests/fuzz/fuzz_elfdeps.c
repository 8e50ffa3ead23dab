// SPDX-License-Identifier: MIT
/*
 * ELF program headers and dynamic section as `measured mkinitramfs` reads
 * them (lib/initramfs/elfdeps.c, m_elf_parse): any file named as the init
 * or met as a library.  Whatever is accepted has NUL-terminated strings
 * and at most M_ELF_MAX_NEEDED entries.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "measured/initramfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct m_elf_dyn d;

	if (m_elf_parse(data, size, "fuzz", &d) == 0) {
		if (d.nneeded > M_ELF_MAX_NEEDED || strnlen(d.interp, sizeof(d.interp)) == sizeof(d.interp) ||
		    strnlen(d.rpath, sizeof(d.rpath)) == sizeof(d.rpath) ||
		    strnlen(d.runpath, sizeof(d.runpath)) == sizeof(d.runpath))
			__builtin_trap();
		for (size_t i = 0; i < d.nneeded; i++)
			if (strnlen(d.needed[i], sizeof(d.needed[i])) == sizeof(d.needed[i]))
				__builtin_trap();
	}
	return 0;
}
