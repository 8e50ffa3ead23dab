// SPDX-License-Identifier: MIT
/*
 * What GRUB 2.06 (Debian 12's signed grubx64.efi) measures while it runs a
 * configuration script (include/measured/chain.h, m_grub_run).
 *
 * GRUB's TPM verifier (grub-core/commands/tpm.c) measures into PCR 8 every
 * command line the script engine executes (grub-core/script/execute.c:
 * the words after expansion, "!" dropped, joined by single spaces; an
 * assignment "a=b" is not a command and is not measured) prefixed
 * "grub_cmd: ", and the kernel command line the linux command builds
 * (grub-core/lib/cmdline.c: each word, in double quotes when it holds a
 * space, with \ ' " escaped by a backslash, joined by spaces) prefixed
 * "kernel_cmdline: "; the digest covers the string without the prefix.
 * Every file it opens for reading (config, kernel, initrd) goes into PCR 9
 * with its name as opened.
 *
 * The interpreter covers what boot configurations use: commands, quoting,
 * $var and ${var} (unquoted values split at blanks), if/elif/else/fi, "!",
 * [ / test, set, source, configfile, menuentry, setparams, linux, initrd,
 * search --file --set=VAR.  Anything else that changes control flow is
 * refused (-ENOTSUP) rather than guessed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/chain.h"
#include "measured/error.h"

#define MAX_VARS 256
#define MAX_ENTRIES 64
#define MAX_STR 65536

struct word { const char *p; size_t n; };	/* raw source text, expanded when run */
struct cmd { struct word w[M_CHAIN_MAX_ARGS]; int n; };

struct m_grub {
	const struct m_grub_ops *ops;
	char *name[MAX_VARS], *value[MAX_VARS];
	int nvars;
	char *title[MAX_ENTRIES], *body[MAX_ENTRIES];
	int nentries;
	int depth;
	bool booted;		/* a kernel is loaded */
	bool stopped;		/* "boot" ran */
};

static const char *var_get(struct m_grub *g, const char *n)
{
	for (int i = 0; i < g->nvars; i++)
		if (!strcmp(g->name[i], n))
			return g->value[i];
	return "";
}

static int var_set(struct m_grub *g, const char *n, size_t nlen, const char *v)
{
	char *nv = strdup(v), *nn;

	if (!nv)
		return -ENOMEM;
	for (int i = 0; i < g->nvars; i++)
		if (strlen(g->name[i]) == nlen && !strncmp(g->name[i], n, nlen)) {
			free(g->value[i]);
			g->value[i] = nv;
			return 0;
		}
	nn = strndup(n, nlen);
	if (!nn || g->nvars >= MAX_VARS) {
		free(nv);
		free(nn);
		return nn ? m_err(-E2BIG, "GRUB script: more than %d variables", MAX_VARS) : -ENOMEM;
	}
	g->name[g->nvars] = nn;
	g->value[g->nvars++] = nv;
	return 0;
}

/* ---- lexing: one command (its raw words) at *pos ---- */

static bool blank(char c) { return c == ' ' || c == '\t'; }

/* the end of the word starting at s[i] (quotes, escapes, a {...} block) */
static size_t word_end(const char *s, size_t len, size_t i, int *err)
{
	if (s[i] == '{') {
		int level = 0;

		for (; i < len; i++) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '\'' || s[i] == '"') {
				char q = s[i++];
				while (i < len && s[i] != q)
					i += (s[i] == '\\' && q == '"') ? 2 : 1;
			} else if (s[i] == '{')
				level++;
			else if (s[i] == '}' && --level == 0)
				return i + 1;
		}
		*err = m_err(-EINVAL, "GRUB script: unterminated { block");
		return len;
	}
	while (i < len && !blank(s[i]) && s[i] != '\n' && s[i] != ';') {
		if (s[i] == '\\')
			i += 2;
		else if (s[i] == '\'' || s[i] == '"') {
			char q = s[i++];
			while (i < len && s[i] != q)
				i += (s[i] == '\\' && q == '"') ? 2 : 1;
			if (i >= len) {
				*err = m_err(-EINVAL, "GRUB script: unterminated quote");
				return len;
			}
			i++;
		} else
			i++;
	}
	return i > len ? len : i;
}

/* Returns 1 with a command, 0 at the end of the script. */
static int next_cmd(const char *s, size_t len, size_t *pos, struct cmd *c)
{
	size_t i = *pos;
	int err = 0;

	c->n = 0;
	for (;;) {
		while (i < len && (blank(s[i]) || (c->n == 0 && (s[i] == '\n' || s[i] == ';'))))
			i++;
		if (i < len && s[i] == '#' ) {
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		if (i >= len || s[i] == '\n' || s[i] == ';') {
			if (i < len)
				i++;
			if (c->n || i >= len)
				break;
			continue;
		}
		if (c->n >= M_CHAIN_MAX_ARGS)
			return m_err(-E2BIG, "GRUB script: more than %d words in a command", M_CHAIN_MAX_ARGS);
		size_t e = word_end(s, len, i, &err);
		if (err)
			return err;
		c->w[c->n++] = (struct word){ s + i, e - i };
		i = e;
	}
	*pos = i;
	return c->n > 0;
}

/* ---- expansion ---- */

struct argv { char *a[M_CHAIN_MAX_ARGS]; int n; char cur[MAX_STR]; size_t len; bool have; };

static int arg_push(struct argv *v)
{
	if (!v->have)
		return 0;
	if (v->n >= M_CHAIN_MAX_ARGS)
		return m_err(-E2BIG, "GRUB script: more than %d arguments", M_CHAIN_MAX_ARGS);
	v->a[v->n] = strndup(v->cur, v->len);
	if (!v->a[v->n])
		return -ENOMEM;
	v->n++;
	v->len = 0;
	v->have = false;
	return 0;
}

static int arg_putc(struct argv *v, char c)
{
	if (v->len + 1 >= MAX_STR)
		return m_err(-E2BIG, "GRUB script: a word over %d bytes", MAX_STR);
	v->cur[v->len++] = c;
	v->have = true;
	return 0;
}

static void argv_free(struct argv *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->a[i]);
	v->n = 0;
}

/* $name or ${name} at p[*i]; returns the value */
static const char *expand_var(struct m_grub *g, const char *p, size_t n, size_t *i)
{
	char name[128];
	size_t k = 0, j = *i + 1;

	if (j < n && p[j] == '{') {
		for (j++; j < n && p[j] != '}' && k < sizeof(name) - 1; j++)
			name[k++] = p[j];
		j++;
	} else {
		for (; j < n && k < sizeof(name) - 1 && (p[j] == '_' || (p[j] >= '0' && p[j] <= '9') ||
							 ((p[j] | 0x20) >= 'a' && (p[j] | 0x20) <= 'z')); j++)
			name[k++] = p[j];
	}
	name[k] = '\0';
	*i = j;
	return k ? var_get(g, name) : "$";
}

static int expand_word(struct m_grub *g, const struct word *w, struct argv *v)
{
	const char *p = w->p;
	size_t n = w->n;
	int e = 0;

	if (n && p[0] == '{') {		/* a block is passed as its source text */
		for (size_t i = 0; i < n && !e; i++)
			e = arg_putc(v, p[i]);
		return e ? e : arg_push(v);
	}
	for (size_t i = 0; i < n && !e;) {
		if (p[i] == '\\' && i + 1 < n) {
			e = arg_putc(v, p[i + 1]);
			i += 2;
		} else if (p[i] == '\'') {
			v->have = true;
			for (i++; i < n && p[i] != '\'' && !e; i++)
				e = arg_putc(v, p[i]);
			i++;
		} else if (p[i] == '"') {
			v->have = true;
			for (i++; i < n && p[i] != '"' && !e;) {
				if (p[i] == '\\' && i + 1 < n && strchr("\\\"$\n", p[i + 1])) {
					e = arg_putc(v, p[i + 1]);
					i += 2;
				} else if (p[i] == '$') {
					for (const char *s = expand_var(g, p, n, &i); *s && !e; s++)
						e = arg_putc(v, *s);
				} else
					e = arg_putc(v, p[i++]);
			}
			i++;
		} else if (p[i] == '$') {
			/* unquoted: the value splits into words at blanks */
			for (const char *s = expand_var(g, p, n, &i); *s && !e; s++)
				e = blank(*s) || *s == '\n' ? arg_push(v) : arg_putc(v, *s);
		} else
			e = arg_putc(v, p[i++]);
	}
	return e ? e : arg_push(v);
}

static int expand(struct m_grub *g, const struct cmd *c, int from, struct argv *v)
{
	int e = 0;

	v->n = 0;
	v->len = 0;
	v->have = false;
	for (int i = from; i < c->n && !e; i++)
		e = expand_word(g, &c->w[i], v);
	if (e)
		argv_free(v);
	return e;
}

/* ---- commands ---- */

static int run_script(struct m_grub *g, const char *s, size_t len);

static int measure_cmd(struct m_grub *g, char **a, int n)
{
	size_t len = 0, o = 0;
	char *str;
	int e;

	for (int i = 0; i < n; i++)
		len += strlen(a[i]) + 1;
	str = malloc(len + 1);
	if (!str)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(a[i]);

		memcpy(str + o, a[i], l);
		o += l;
		if (i + 1 < n)
			str[o++] = ' ';
	}
	str[o] = '\0';
	e = g->ops->measure_string(g->ops->arg, "grub_cmd: ", str);
	free(str);
	return e;
}

/* grub-core/lib/cmdline.c grub_create_loader_cmdline */
static int measure_kernel_cmdline(struct m_grub *g, char **a, int n)
{
	size_t len = 1, o = 0;
	char *s;
	int e;

	for (int i = 0; i < n; i++)
		len += 2 * strlen(a[i]) + 3;
	if (!(s = malloc(len)))
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		bool space = strchr(a[i], ' ') != NULL;

		if (space)
			s[o++] = '"';
		for (const char *c = a[i]; *c; c++) {
			if (*c == '\\' || *c == '\'' || *c == '"')
				s[o++] = '\\';
			s[o++] = *c;
		}
		if (space)
			s[o++] = '"';
		s[o++] = ' ';
	}
	if (o)
		o--;
	s[o] = '\0';
	e = g->ops->measure_string(g->ops->arg, "kernel_cmdline: ", s);
	free(s);
	return e;
}

static int run_file(struct m_grub *g, const char *name)
{
	uint8_t *data;
	size_t len;
	int e;

	if (g->depth >= M_CHAIN_MAX_DEPTH)
		return m_err(-ELOOP, "GRUB script: source nested deeper than %d", M_CHAIN_MAX_DEPTH);
	e = g->ops->read(g->ops->arg, name, &data, &len);
	if (e < 0)
		return e;
	g->depth++;
	e = run_script(g, (const char *)data, len);
	g->depth--;
	free(data);
	return e;
}

/* grub-core/commands/test.c, left to right; returns 1 true, 0 false */
static int test_expr(struct m_grub *g, char **a, int n)
{
	int result = 0, i = 0;
	bool have = false, or_pending = false, and_pending = false;

	while (i < n) {
		bool neg = false, v;

		while (i < n && !strcmp(a[i], "!")) {
			neg = !neg;
			i++;
		}
		if (i >= n)
			return m_err(-EINVAL, "GRUB test: missing operand");
		if (i + 1 < n && (!strcmp(a[i], "-z") || !strcmp(a[i], "-n") || !strcmp(a[i], "-e") ||
				  !strcmp(a[i], "-f") || !strcmp(a[i], "-d"))) {
			if (a[i][1] == 'z')
				v = a[i + 1][0] == '\0';
			else if (a[i][1] == 'n')
				v = a[i + 1][0] != '\0';
			else
				v = g->ops->exists(g->ops->arg, a[i + 1]);
			i += 2;
		} else if (i + 2 < n && (!strcmp(a[i + 1], "=") || !strcmp(a[i + 1], "==") || !strcmp(a[i + 1], "!="))) {
			v = !strcmp(a[i], a[i + 2]) == (a[i + 1][0] != '!');
			i += 3;
		} else if (i + 2 < n && a[i + 1][0] == '-' && strchr("eqnltgle", a[i + 1][1])) {
			long x = strtol(a[i], NULL, 10), y = strtol(a[i + 2], NULL, 10);
			const char *op = a[i + 1] + 1;

			v = !strcmp(op, "eq") ? x == y : !strcmp(op, "ne") ? x != y : !strcmp(op, "lt") ? x < y :
			    !strcmp(op, "le") ? x <= y : !strcmp(op, "gt") ? x > y : x >= y;
			i += 3;
		} else {
			v = a[i][0] != '\0';
			i++;
		}
		v = v != neg;
		result = !have ? v : or_pending ? (result || v) : and_pending ? (result && v) : v;
		have = true;
		or_pending = and_pending = false;
		if (i < n && !strcmp(a[i], "-o"))
			or_pending = true, i++;
		else if (i < n && !strcmp(a[i], "-a"))
			and_pending = true, i++;
	}
	return result;
}

static int cmd_menuentry(struct m_grub *g, char **a, int n)
{
	const char *title = NULL;

	if (g->nentries >= MAX_ENTRIES)
		return m_err(-E2BIG, "GRUB script: more than %d menu entries", MAX_ENTRIES);
	for (int i = 1; i + 1 < n; i++) {
		if (!strcmp(a[i], "--class") || !strcmp(a[i], "--users") || !strcmp(a[i], "--hotkey") ||
		    !strcmp(a[i], "--id"))
			i++;
		else if (a[i][0] != '-' && !title)
			title = a[i];
	}
	if (!title || a[n - 1][0] != '{')
		return m_err(-EINVAL, "GRUB script: menuentry without a title or a { block }");
	g->title[g->nentries] = strdup(title);
	g->body[g->nentries] = strndup(a[n - 1] + 1, strlen(a[n - 1]) - 2);
	if (!g->title[g->nentries] || !g->body[g->nentries])
		return -ENOMEM;
	g->nentries++;
	return 0;
}

static int cmd_search(struct m_grub *g, char **a, int n)
{
	const char *var = "root", *file = NULL;
	bool by_file = false;

	for (int i = 1; i < n; i++) {
		if (!strcmp(a[i], "--file") || !strcmp(a[i], "-f"))
			by_file = true;
		else if (!strncmp(a[i], "--set=", 6))
			var = a[i] + 6;
		else if (!strcmp(a[i], "--no-floppy"))
			;
		else if (a[i][0] != '-')
			file = a[i];
		else
			return m_err(-ENOTSUP, "GRUB script: cannot predict search %s", a[i]);
	}
	if (!by_file || !file)
		return m_err(-ENOTSUP, "GRUB script: only search --file can be predicted");
	if (!g->ops->exists(g->ops->arg, file))
		return 0;
	return var_set(g, var, strlen(var), var_get(g, "root")) < 0 ? -ENOMEM : 1;
}

/* Runs one command; returns its truth (1/0) or -errno. */
static int run_cmd(struct m_grub *g, const struct cmd *c)
{
	struct argv *v = malloc(sizeof(*v));
	char **a;
	int n, e = 1;
	bool neg = false;

	if (!v)
		return -ENOMEM;
	if ((e = expand(g, c, 0, v)) < 0)
		goto out;
	a = v->a;
	n = v->n;
	if (n && !strcmp(a[0], "!"))
		neg = true, a++, n--;
	e = 1;
	if (n == 0)
		goto out;
	if (n == 1 && strchr(a[0], '=') && a[0][0] != '=') {	/* assignment, not a command */
		e = var_set(g, a[0], (size_t)(strchr(a[0], '=') - a[0]), strchr(a[0], '=') + 1);
		e = e < 0 ? e : 1;
		goto out;
	}
	if ((e = measure_cmd(g, a, n)) < 0)
		goto out;
	e = 1;
	if (!strcmp(a[0], "set")) {
		for (int i = 1; i < n && e >= 0; i++)
			if (strchr(a[i], '='))
				e = var_set(g, a[i], (size_t)(strchr(a[i], '=') - a[i]), strchr(a[i], '=') + 1);
		e = e < 0 ? e : 1;
	} else if (!strcmp(a[0], "[")) {
		if (strcmp(a[n - 1], "]"))
			e = m_err(-EINVAL, "GRUB script: [ without ]");
		else
			e = test_expr(g, a + 1, n - 2);
	} else if (!strcmp(a[0], "test"))
		e = test_expr(g, a + 1, n - 1);
	else if (!strcmp(a[0], "source") || !strcmp(a[0], "configfile"))
		e = n < 2 ? m_err(-EINVAL, "GRUB script: %s without a file", a[0]) : run_file(g, a[1]);
	else if (!strcmp(a[0], "menuentry"))
		e = cmd_menuentry(g, a, n);
	else if (!strcmp(a[0], "search"))
		e = cmd_search(g, a, n);
	else if (!strcmp(a[0], "linux") || !strcmp(a[0], "linuxefi")) {
		uint8_t *d;
		size_t len;

		if (n < 2)
			e = m_err(-EINVAL, "GRUB script: linux without a file");
		else if ((e = g->ops->read(g->ops->arg, a[1], &d, &len)) == 0) {
			free(d);
			e = g->ops->load_kernel(g->ops->arg, a[1]);
			if (e == 0)
				e = measure_kernel_cmdline(g, a + 1, n - 1);
			g->booted = e == 0;
		}
	} else if (!strcmp(a[0], "initrd") || !strcmp(a[0], "initrdefi")) {
		for (int i = 1; i < n && e >= 0; i++) {
			uint8_t *d;
			size_t len;

			if ((e = g->ops->read(g->ops->arg, a[i], &d, &len)) == 0)
				free(d);
		}
	} else if (!strcmp(a[0], "boot"))
		g->stopped = true;
	else if (!strcmp(a[0], "submenu") || !strcmp(a[0], "function") || !strcmp(a[0], "for") ||
		   !strcmp(a[0], "while") || !strcmp(a[0], "until"))
		e = m_err(-ENOTSUP, "GRUB script: '%s' cannot be predicted", a[0]);
	if (e >= 0 && neg)
		e = !e;
out:
	argv_free(v);
	free(v);
	return e;
}

/* ---- control flow ---- */

static bool is_kw(const struct cmd *c, const char *kw)
{
	return c->n && c->w[0].n == strlen(kw) && !strncmp(c->w[0].p, kw, c->w[0].n);
}

/* drop the first word (a keyword) */
static void shift(struct cmd *c)
{
	if (c->n == 0)
		return;
	memmove(c->w, c->w + 1, (size_t)(c->n - 1) * sizeof(c->w[0]));
	c->n--;
}

struct script { const char *s; size_t len, pos; };

static int exec_until(struct m_grub *g, struct script *sc, bool run, struct cmd *stop);

/* if COND; then ... [elif COND; then ...] [else ...] fi  (the "if" word is already dropped) */
static int exec_if(struct m_grub *g, struct script *sc, struct cmd *c, bool run)
{
	struct cmd *stop = malloc(sizeof(*stop));
	bool done = !run;
	int e;

	if (!stop)
		return -ENOMEM;
	for (;;) {
		int truth = 0;

		if (!done && c->n) {
			if ((truth = run_cmd(g, c)) < 0) {
				e = truth;
				break;
			}
		}
		/* "then" may end the condition's line or start the next one */
		e = next_cmd(sc->s, sc->len, &sc->pos, stop);
		if (e <= 0 || !is_kw(stop, "then")) {
			e = e < 0 ? e : m_err(-EINVAL, "GRUB script: if without then");
			break;
		}
		shift(stop);
		e = exec_until(g, sc, !done && truth, stop);
		if (e < 0)
			break;
		done = done || truth;
		if (stop->n == 0) {
			e = m_err(-EINVAL, "GRUB script: if without fi");
			break;
		}
		if (is_kw(stop, "fi")) {
			e = 0;
			break;
		}
		if (is_kw(stop, "else")) {
			shift(stop);
			e = exec_until(g, sc, !done, stop);
			if (e >= 0 && !is_kw(stop, "fi"))
				e = m_err(-EINVAL, "GRUB script: else without fi");
			break;
		}
		shift(stop);	/* elif: the rest is the next condition */
		*c = *stop;
	}
	free(stop);
	return e < 0 ? e : 0;
}

/*
 * Run commands (or skip them when !run) until fi/elif/else, which is left
 * in *stop (n == 0 at the end of the script).  A command line may start
 * with the body's first command after "then"/"else": *stop holds it.
 */
static int exec_until(struct m_grub *g, struct script *sc, bool run, struct cmd *stop)
{
	struct cmd *c = malloc(sizeof(*c));
	bool pending = stop->n > 0;
	int e = 0;

	if (!c)
		return -ENOMEM;
	if (pending)
		*c = *stop;
	for (;;) {
		if (!pending && (e = next_cmd(sc->s, sc->len, &sc->pos, c)) <= 0) {
			stop->n = 0;
			break;
		}
		pending = false;
		if (is_kw(c, "fi") || is_kw(c, "elif") || is_kw(c, "else")) {
			*stop = *c;
			e = 0;
			break;
		}
		if (is_kw(c, "if")) {
			shift(c);
			e = exec_if(g, sc, c, run);
		} else if (is_kw(c, "then"))
			e = m_err(-EINVAL, "GRUB script: then without if");
		else if (run && !g->stopped)
			e = run_cmd(g, c);
		if (e < 0)
			break;
	}
	free(c);
	return e < 0 ? e : 0;
}

static int run_script(struct m_grub *g, const char *s, size_t len)
{
	struct script sc = { s, len, 0 };
	struct cmd *stop = calloc(1, sizeof(*stop));
	int e;

	if (!stop)
		return -ENOMEM;
	if (len > M_CHAIN_MAX_SCRIPT)
		e = m_err(-E2BIG, "GRUB script over %u bytes", M_CHAIN_MAX_SCRIPT);
	else if ((e = exec_until(g, &sc, true, stop)) == 0 && stop->n)
		e = m_err(-EINVAL, "GRUB script: %.*s without if", (int)stop->w[0].n, stop->w[0].p);
	free(stop);
	return e;
}

/* grub-core/normal/menu.c: the default entry runs as "setparams TITLE" + its body */
static int run_default_entry(struct m_grub *g)
{
	const char *def = var_get(g, "default");
	char *end, *a[2];
	long idx = strtol(def, &end, 10);
	int e;

	if (!g->nentries || g->stopped)
		return 0;
	if (*def && *end) {
		idx = -1;
		for (int i = 0; i < g->nentries; i++)
			if (!strcmp(g->title[i], def))
				idx = i;
	}
	if (idx < 0 || idx >= g->nentries)
		idx = 0;
	a[0] = (char *)"setparams";
	a[1] = g->title[idx];
	if ((e = measure_cmd(g, a, 2)) < 0)
		return e;
	return run_script(g, g->body[idx], strlen(g->body[idx]));
}

int m_grub_run(const char *script, size_t len, const char *root, const char *prefix, const char *cmdpath,
	       const struct m_grub_ops *ops)
{
	struct m_grub *g = calloc(1, sizeof(*g));
	int e;

	if (!g)
		return -ENOMEM;
	g->ops = ops;
	e = var_set(g, "root", 4, root);
	if (!e)
		e = var_set(g, "prefix", 6, prefix);
	if (!e)
		e = var_set(g, "cmdpath", 7, cmdpath);
	if (!e)
		e = run_script(g, script, len);
	if (!e)
		e = run_default_entry(g);
	if (!e && !g->booted)
		e = m_err(-EINVAL, "GRUB script: no linux command runs, nothing boots");
	for (int i = 0; i < g->nvars; i++) {
		free(g->name[i]);
		free(g->value[i]);
	}
	for (int i = 0; i < g->nentries; i++) {
		free(g->title[i]);
		free(g->body[i]);
	}
	free(g);
	return e;
}
