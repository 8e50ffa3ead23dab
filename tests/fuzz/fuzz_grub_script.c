// SPDX-License-Identifier: MIT
/*
 * GRUB scripts from arbitrary bytes: the interpreter returns 0 or an error,
 * never crashes or loops.  Every file it reads is the input itself (so
 * "source" nests up to the depth limit), every path exists when its length
 * is even.
 */
#include <stdlib.h>
#include <string.h>
#include "measured/chain.h"

static const uint8_t *in_data;
static size_t in_len;

static int rd(void *arg, const char *name, uint8_t **ret, size_t *ret_len)
{
	(void)arg;
	(void)name;
	*ret = malloc(in_len + 1);
	if (!*ret)
		return -12;
	memcpy(*ret, in_data, in_len);
	*ret_len = in_len;
	return 0;
}

static bool ex(void *arg, const char *name) { (void)arg; return strlen(name) % 2 == 0; }
static int ms(void *arg, const char *p, const char *s) { (void)arg; (void)p; (void)s; return 0; }
static int lk(void *arg, const char *name) { (void)arg; (void)name; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_grub_ops ops = { rd, ex, ms, lk, NULL };
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	in_data = data;
	in_len = size;
	m_grub_run(s, size, "hd0,gpt1", "(hd0,gpt1)/EFI/debian", "(hd0,gpt1)/EFI/BOOT", &ops);
	free(s);
	return 0;
}
