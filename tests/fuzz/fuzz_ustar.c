// SPDX-License-Identifier: MIT
/*
 * The ustar reader (lib/archive/ustar.c) over arbitrary bytes: 0 or
 * -EBADMSG, never a crash; every entry handed out lies inside the input
 * and has a path no longer than M_USTAR_PATH_MAX - 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/ustar.h"

struct span {
	const uint8_t *d;
	size_t len;
};

static int entry(void *arg, const struct m_ustar_entry *e)
{
	const struct span *s = arg;

	if (strlen(e->path) >= M_USTAR_PATH_MAX || strlen(e->link) >= M_USTAR_PATH_MAX || !e->path[0] ||
	    e->path[0] == '/')
		abort();
	if (e->size && (e->data < s->d || e->size > s->len || (size_t)(e->data - s->d) > s->len - e->size))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span s = { data, size };
	int r = m_ustar_walk(data, size, entry, &s, NULL);

	if (r != 0 && r != -EBADMSG)
		abort();
	return 0;
}
