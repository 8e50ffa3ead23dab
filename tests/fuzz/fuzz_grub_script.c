// SPDX-License-Identifier: MIT
/*
 * GRUB scripts from arbitrary bytes: the interpreter returns 0 or an error,
 * never crashes or loops.  Every file it reads is the input itself (so
 * "source" nests up to the depth limit); whether a path exists (a file or a
 * directory), a UUID is found, a module is built in, depends on lengths.
 */
#include <stdlib.h>
#include <string.h>
#include "measured/chain.h"

static const uint8_t *in_data;
static size_t in_len;

static int rd(void *arg, const char *dev, const char *path, const char *name, uint8_t **ret, size_t *ret_len)
{
	(void)arg;
	(void)dev;
	(void)path;
	(void)name;
	*ret = malloc(in_len + 1);
	if (!*ret)
		return -12;
	memcpy(*ret, in_data, in_len);
	*ret_len = in_len;
	return 0;
}

static int kd(void *arg, const char *dev, const char *path) { (void)arg; return (int)((strlen(dev) + strlen(path)) % 3); }
static int ms(void *arg, const char *p, const char *s) { (void)arg; (void)p; (void)s; return 0; }
static int lk(void *arg, const char *dev, const char *path) { (void)arg; (void)dev; (void)path; return 0; }
static const char *uu(void *arg, const char *uuid) { (void)arg; return strlen(uuid) % 2 ? "hd0,gpt2" : NULL; }
static bool bi(void *arg, const char *name) { (void)arg; return name[0] != 'z'; }
static bool md(void *arg, const char *path) { (void)arg; return strlen(path) % 2; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_grub_ops ops = { rd, kd, ms, lk, NULL, uu, bi, md };
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
