// SPDX-License-Identifier: MIT
/*
 * m_elf_parse() (lib/initramfs/elfdeps.c) on an ELF-64 little-endian image
 * laid out here by hand from the ELF gABI: 64-byte header, 56-byte program
 * headers (PT_LOAD, PT_INTERP, PT_DYNAMIC), 16-byte dynamic entries, and a
 * string table found through DT_STRTAB's address.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "measured/initramfs.h"

#define VBASE 0x400000u
#define PH_OFF 64u
#define INTERP_OFF 512u
#define DYN_OFF 600u
#define STR_OFF 800u
#define SIZE 1024u

static uint8_t f[SIZE];

static void put(size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		f[off + i] = (uint8_t)(v >> (8 * i));
}

static void phdr(unsigned i, uint32_t type, uint64_t off, uint64_t vaddr, uint64_t filesz)
{
	size_t p = PH_OFF + 56u * i;

	put(p, type, 4);
	put(p + 8, off, 8);		/* p_offset */
	put(p + 16, vaddr, 8);		/* p_vaddr */
	put(p + 24, vaddr, 8);		/* p_paddr */
	put(p + 32, filesz, 8);		/* p_filesz */
	put(p + 40, filesz, 8);		/* p_memsz */
}

static void dyn(unsigned i, uint64_t tag, uint64_t val)
{
	put(DYN_OFF + 16u * i, tag, 8);
	put(DYN_OFF + 16u * i + 8, val, 8);
}

static void build(void)
{
	static const char strtab[] = "\0libfoo.so.1\0libbar.so.2\0/opt/x/lib:$ORIGIN\0";
	static const char interp[] = "/lib64/ld-linux-x86-64.so.2";

	memset(f, 0, sizeof(f));
	memcpy(f, "\177ELF", 4);
	f[4] = 2, f[5] = 1, f[6] = 1;	/* ELFCLASS64, ELFDATA2LSB, EV_CURRENT */
	put(16, 3, 2);			/* ET_DYN */
	put(18, 62, 2);			/* EM_X86_64 */
	put(32, PH_OFF, 8);		/* e_phoff */
	put(52, 64, 2);			/* e_ehsize */
	put(54, 56, 2);			/* e_phentsize */
	put(56, 3, 2);			/* e_phnum */
	phdr(0, 1, 0, VBASE, SIZE);				/* PT_LOAD: the whole file */
	phdr(1, 3, INTERP_OFF, VBASE + INTERP_OFF, sizeof(interp));	/* PT_INTERP */
	phdr(2, 2, DYN_OFF, VBASE + DYN_OFF, 6 * 16);		/* PT_DYNAMIC */
	memcpy(f + INTERP_OFF, interp, sizeof(interp));
	memcpy(f + STR_OFF, strtab, sizeof(strtab));
	dyn(0, 1, 1);			/* DT_NEEDED "libfoo.so.1" */
	dyn(1, 1, 13);			/* DT_NEEDED "libbar.so.2" */
	dyn(2, 5, VBASE + STR_OFF);	/* DT_STRTAB (an address) */
	dyn(3, 10, sizeof(strtab));	/* DT_STRSZ */
	dyn(4, 29, 25);			/* DT_RUNPATH */
	dyn(5, 0, 0);			/* DT_NULL */
}

static void test_parse(void **state)
{
	(void)state;
	static struct m_elf_dyn d;

	build();
	assert_int_equal(m_elf_parse(f, sizeof(f), "t", &d), 0);
	assert_string_equal(d.interp, "/lib64/ld-linux-x86-64.so.2");
	assert_int_equal(d.nneeded, 2);
	assert_string_equal(d.needed[0], "libfoo.so.1");
	assert_string_equal(d.needed[1], "libbar.so.2");
	assert_string_equal(d.runpath, "/opt/x/lib:$ORIGIN");
	assert_string_equal(d.rpath, "");
}

static void test_static(void **state)
{
	(void)state;
	static struct m_elf_dyn d;

	build();
	put(56, 1, 2);			/* only the PT_LOAD: a static program */
	assert_int_equal(m_elf_parse(f, sizeof(f), "t", &d), 0);
	assert_int_equal(d.nneeded, 0);
	assert_string_equal(d.interp, "");
}

static void test_bad(void **state)
{
	(void)state;
	static struct m_elf_dyn d;

	/* every cut through the headers or the dynamic section is an error */
	build();
	for (size_t n = 0; n < DYN_OFF + 6 * 16; n++)
		assert_int_equal(m_elf_parse(f, n, "t", &d), -ENOEXEC);
	build();
	f[4] = 1;			/* ELFCLASS32 */
	assert_int_equal(m_elf_parse(f, sizeof(f), "t", &d), -ENOEXEC);
	build();
	dyn(1, 1, 5000);		/* DT_NEEDED beyond DT_STRSZ */
	assert_int_equal(m_elf_parse(f, sizeof(f), "t", &d), -ENOEXEC);
	build();
	dyn(2, 5, VBASE + SIZE + 16);	/* DT_STRTAB outside every PT_LOAD */
	assert_int_equal(m_elf_parse(f, sizeof(f), "t", &d), -ENOEXEC);
	build();
	dyn(3, 10, SIZE);		/* DT_STRSZ past the end of the file */
	assert_int_equal(m_elf_parse(f, sizeof(f), "t", &d), -ENOEXEC);
	build();
	put(54, 32, 2);			/* ELF-32 program header size */
	assert_int_equal(m_elf_parse(f, sizeof(f), "t", &d), -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
