// SPDX-License-Identifier: MIT
/*
 * modules.dep as depmod(8) writes it: one line per module,
 * "PATH: DEP DEP ...", paths relative to lib/modules/VERSION, each line
 * listing the module's whole dependency closure.  We still order by
 * depth-first search over the lines rather than trust the list order, so a
 * hand-written or filtered file works too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "initcore.h"

#define NAME_MAX_LEN 64u

struct mod {
	char *path;
	char name[NAME_MAX_LEN];
	size_t ndeps;
	size_t deps[MI_MODDEP_MAX_DEPS];	/* indexes into mods; SIZE_MAX = not in this file */
	char *dep_paths[MI_MODDEP_MAX_DEPS];
};

struct mi_moddep {
	char *text;
	struct mod *mods;
	struct mod **by_path;	/* mods sorted by path */
	size_t n;
};

void mi_module_name(const char *path, char *out, size_t outlen)
{
	const char *base = strrchr(path, '/');
	size_t k = 0;

	base = base ? base + 1 : path;
	for (; *base && k + 1 < outlen; base++) {
		if (strncmp(base, ".ko", 3) == 0 && (base[3] == '\0' || base[3] == '.'))
			break;
		out[k++] = *base == '-' ? '_' : *base;
	}
	if (outlen)
		out[k] = '\0';
}

void mi_moddep_free(struct mi_moddep *m)
{
	if (!m)
		return;
	free(m->text);
	free(m->mods);
	free(m->by_path);
	free(m);
}

size_t mi_moddep_count(const struct mi_moddep *m)
{
	return m->n;
}

static int cmp_mod_path(const void *a, const void *b)
{
	const struct mod *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* Binary search in the path-sorted index: a full kernel's modules.dep has
 * thousands of lines with up to MI_MODDEP_MAX_DEPS entries each. */
static size_t find_path(const struct mi_moddep *m, const char *path)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->by_path[mid]->path, path);

		if (c == 0)
			return (size_t)(m->by_path[mid] - m->mods);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

int mi_moddep_parse(const char *text, size_t len, struct mi_moddep **ret)
{
	struct mi_moddep *m;
	size_t lines = 0, line = 0;
	char *p, *save = NULL;
	int err = 0;

	if (len > MI_MODDEP_MAX_BYTES)
		return m_err(-EFBIG, "modules.dep: %zu bytes, at most %u accepted", len, MI_MODDEP_MAX_BYTES);
	if (memchr(text, '\0', len))
		return m_err(-EINVAL, "modules.dep: NUL byte in text");
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->text = malloc(len + 1);
	if (!m->text) {
		free(m);
		return -ENOMEM;
	}
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (lines >= MI_MODDEP_MAX_MODULES)
		lines = MI_MODDEP_MAX_MODULES - 1;
	m->mods = calloc(lines + 1, sizeof(*m->mods));
	if (!m->mods) {
		mi_moddep_free(m);
		return -ENOMEM;
	}
	for (p = strtok_r(m->text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(p, ':'), *dsave = NULL, *d;
		struct mod *mod;

		line++;
		if (*p == '#' || *p == '\0')
			continue;
		if (!colon || colon == p) {
			err = m_err(-EINVAL, "modules.dep line %zu: no 'path:'", line);
			goto out;
		}
		if (m->n > lines) {
			err = m_err(-E2BIG, "modules.dep line %zu: more than %u modules", line, MI_MODDEP_MAX_MODULES);
			goto out;
		}
		*colon = '\0';
		mod = &m->mods[m->n];
		mod->path = p;
		mi_module_name(p, mod->name, sizeof(mod->name));
		for (d = strtok_r(colon + 1, " \t", &dsave); d; d = strtok_r(NULL, " \t", &dsave)) {
			if (mod->ndeps >= MI_MODDEP_MAX_DEPS) {
				err = m_err(-E2BIG, "modules.dep line %zu: more than %u dependencies", line,
					    MI_MODDEP_MAX_DEPS);
				goto out;
			}
			mod->dep_paths[mod->ndeps++] = d;
		}
		m->n++;
	}
	/* Resolve dependency paths to entries once all lines are known; a
	 * path with two lines would be loaded twice. */
	m->by_path = malloc((m->n + 1) * sizeof(*m->by_path));
	if (!m->by_path) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->n; i++)
		m->by_path[i] = &m->mods[i];
	qsort(m->by_path, m->n, sizeof(*m->by_path), cmp_mod_path);
	for (size_t i = 1; i < m->n; i++)
		if (strcmp(m->by_path[i - 1]->path, m->by_path[i]->path) == 0) {
			err = m_err(-EINVAL, "modules.dep: %s has more than one line", m->by_path[i]->path);
			goto out;
		}
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < m->mods[i].ndeps; k++)
			m->mods[i].deps[k] = find_path(m, m->mods[i].dep_paths[k]);
out:
	if (err < 0) {
		mi_moddep_free(m);
		return err;
	}
	*ret = m;
	return 0;
}

/* Depth-first, dependencies before the module; state 1 = on the stack.
 * The depth is bounded so a crafted chain cannot exhaust PID 1's stack. */
static int visit(const struct mi_moddep *m, size_t i, unsigned char *state, const char **out, size_t *n,
		 unsigned depth)
{
	const struct mod *mod = &m->mods[i];

	if (state[i] == 2)
		return 0;
	if (state[i] == 1)
		return m_err(-ELOOP, "modules.dep: dependency loop through %s", mod->path);
	if (depth >= MI_MODDEP_MAX_DEPTH)
		return m_err(-ELOOP, "modules.dep: dependency chain through %s deeper than %u", mod->path,
			     MI_MODDEP_MAX_DEPTH);
	state[i] = 1;
	for (size_t k = 0; k < mod->ndeps; k++) {
		int err;

		if (mod->deps[k] == SIZE_MAX)
			return m_err(-ENOENT, "modules.dep: %s needs %s, which has no line of its own",
				     mod->path, mod->dep_paths[k]);
		err = visit(m, mod->deps[k], state, out, n, depth + 1);
		if (err < 0)
			return err;
	}
	state[i] = 2;
	out[(*n)++] = mod->path;
	return 0;
}

int mi_moddep_closure(const struct mi_moddep *m, const char *const *names, size_t n_names,
		      const char ***ret_paths, size_t *ret_n)
{
	unsigned char *state = calloc(m->n + 1, 1);
	const char **out = calloc(m->n + 1, sizeof(*out));
	size_t n = 0;
	int err = 0;

	if (!state || !out) {
		err = -ENOMEM;
		goto out;
	}
	if (!names) {
		for (size_t i = 0; i < m->n && err == 0; i++)
			err = visit(m, i, state, out, &n, 0);
	} else {
		for (size_t j = 0; j < n_names && err == 0; j++) {
			char want[NAME_MAX_LEN];
			size_t i;

			mi_module_name(names[j], want, sizeof(want));
			for (i = 0; i < m->n; i++)
				if (strcmp(m->mods[i].name, want) == 0)
					break;
			if (i == m->n) {
				err = m_err(-ENOENT, "module %s is not in modules.dep", names[j]);
				break;
			}
			err = visit(m, i, state, out, &n, 0);
		}
	}
out:
	free(state);
	if (err < 0) {
		free(out);
		return err;
	}
	*ret_paths = out;
	*ret_n = n;
	return 0;
}
