// SPDX-License-Identifier: MIT
/*
 * bench_initdeps FILE...: every file an initramfs must carry for FILE...
 * to run, resolved as `measured mkinitramfs` resolves measured-init's
 * (lib/initramfs/elfdeps.c: PT_INTERP, then DT_NEEDED through
 * RPATH/RUNPATH and the system directories, recursively).  Prints one
 * "BYTES PATH" line per distinct file (symlinks resolved, so a library
 * reached as /lib/... and /usr/lib/... counts once).  Libraries a program
 * dlopen()s (tpm2-tss's TCTIs) are passed as FILEs of their own.
 * Used by bench/bench_init.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "measured/error.h"
#include "measured/initramfs.h"

#define MAX_FILES 512u

static char *seen[MAX_FILES];
static size_t nseen;

static int add(const char *path)
{
	struct stat st;
	char *real = realpath(path, NULL);

	if (!real || stat(real, &st) < 0) {
		fprintf(stderr, "bench_initdeps: %s: cannot resolve\n", path);
		free(real);
		return -1;
	}
	for (size_t i = 0; i < nseen; i++)
		if (strcmp(seen[i], real) == 0) {
			free(real);
			return 0;
		}
	if (nseen == MAX_FILES) {
		free(real);
		fprintf(stderr, "bench_initdeps: more than %u files\n", MAX_FILES);
		return -1;
	}
	seen[nseen++] = real;
	printf("%lld %s\n", (long long)st.st_size, real);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		struct m_elf_deps d;
		int err;

		if (add(argv[i]) < 0) {
			status = 1;
			continue;
		}
		err = m_elf_deps(argv[i], NULL, &d);
		if (err < 0) {
			fprintf(stderr, "bench_initdeps: %s\n", m_errmsg(err));
			status = 1;
			continue;
		}
		for (size_t k = 0; k < d.n; k++)
			if (add(d.path[k]) < 0)
				status = 1;
		m_elf_deps_free(&d);
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	return status;
}
