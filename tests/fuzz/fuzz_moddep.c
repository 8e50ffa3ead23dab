// SPDX-License-Identifier: MIT
/*
 * modules.dep parsing and load ordering (lib/initcore/moddep.c): the file
 * comes from the initramfs (or, for mkinitramfs, a kernel tree), at most
 * MI_MODDEP_MAX_BYTES; inputs here stop at 64 KiB so the fuzzer spends its
 * time on structure, not on megabytes (the size limits have unit tests in
 * tests/unit/test_init_moddep.c).  Every module's closure is computed; a
 * closure lists each path once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "initcore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mi_moddep *m = NULL;
	const char **paths = NULL;
	size_t n = 0;
	char *text;

	if (size > (64u << 10))
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mi_moddep_parse(text, size, &m) == 0) {
		if (mi_moddep_closure(m, NULL, 0, &paths, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				char name[64];

				for (size_t k = i + 1; k < n; k++)
					if (strcmp(paths[i], paths[k]) == 0)
						__builtin_trap();
				mi_module_name(paths[i], name, sizeof(name));
			}
			free(paths);
		}
		{
			const char *names[] = { "virtio_blk", "ext4", "a-b" };

			if (mi_moddep_closure(m, names, 3, &paths, &n) == 0)
				free(paths);
		}
		mi_moddep_free(m);
	}
	free(text);
	return 0;
}
