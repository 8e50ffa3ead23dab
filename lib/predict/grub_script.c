// SPDX-License-Identifier: MIT
/*
 * What GRUB 2.06 (Debian 12's signed grubx64.efi) measures while it runs its
 * configuration (include/measured/chain.h, m_grub_run): the script engine
 * of grub-core/script/ (yylex.l, parser.y, execute.c, argv.c), the menu of
 * grub-core/normal/menu.c and the environment contexts of
 * grub-core/kern/env.c.  The commands themselves are in grub_cmds.c.
 *
 * execute.c grub_script_execute_cmdline() expands a command's words, joins
 * every one of them ("!" and an assignment "a=b" included) with single
 * spaces, and hands the string to the verifiers (GRUB_VERIFY_COMMAND: the
 * TPM module measures "grub_cmd: " + it into PCR 8) before it looks the
 * command up.  "if", "function" definitions and "}" are syntax, not
 * commands: only the commands they run are measured.  A block argument
 * ("menuentry ... { ... }") is its source text, braces included
 * (parser.y: the lexer's recording between the braces).
 *
 * Words (yylex.l, execute.c grub_script_arglist_to_argv, argv.c): '...' is
 * literal; in "..." only \$ \\ \" and \<newline> are escapes and $var is
 * one piece; unquoted, \c is c and $var splits at blanks
 * (grub_script_argv_split_append); a word that expands to nothing is no
 * argument, a quoted empty string is one.  Unquoted * and ? would be
 * wildcards matched against the disk: refused.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "grub_int.h"

/* ---- errors: "GRUB script FILE line N: ..." ---- */

int grub_err(struct m_grub *g, int e, const char *fmt, ...)
{
	char msg[512];
	unsigned line = g->line0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)	/* outside text: printable only */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	if (!g->base || g->at < g->base || g->at > g->end)	/* the menu, after its script */
		return m_err(e, "GRUB menu of %s: %s", g->file ? g->file : "?", msg);
	for (const char *p = g->base; p < g->at; p++)
		line += *p == '\n';
	return m_err(e, "GRUB script %s line %u: %s", g->file ? g->file : "?", line, msg);
}

/* ---- variables (kern/env.c) ---- */

struct grub_var *grub_var_find(struct m_grub *g, const char *name, size_t len)
{
	for (int i = 0; i < g->ctx->nv; i++)
		if (strlen(g->ctx->v[i].name) == len && !strncmp(g->ctx->v[i].name, name, len))
			return &g->ctx->v[i];
	return NULL;
}

const char *grub_var_get(struct m_grub *g, const char *name)
{
	struct grub_var *v = grub_var_find(g, name, strlen(name));

	return v ? v->value : "";
}

int grub_var_set(struct m_grub *g, const char *name, size_t nlen, const char *value)
{
	struct grub_var *v = grub_var_find(g, name, nlen);
	char *nv = strdup(value);

	if (!nv)
		return -ENOMEM;
	if (v) {
		free(v->value);
		v->value = nv;
		return 0;
	}
	if (g->ctx->nv >= GRUB_MAX_VARS) {
		free(nv);
		return grub_err(g, -E2BIG, "more than %d variables", GRUB_MAX_VARS);
	}
	v = &g->ctx->v[g->ctx->nv];
	if (!(v->name = strndup(name, nlen))) {
		free(nv);
		return -ENOMEM;
	}
	v->value = nv;
	v->exported = false;
	g->ctx->nv++;
	return 0;
}

static void entries_free(struct grub_ctx *c)
{
	for (int i = 0; i < c->ne; i++) {
		struct grub_entry *e = &c->e[i];

		free(e->title);
		free(e->id);
		free(e->src);
		free(e->file);
		for (int k = 0; k < e->argc; k++)
			free(e->args[k]);
		free(e->args);
	}
	free(c->e);
	c->e = NULL;
	c->ne = 0;
}

/* grub_env_context_open(): a new context holds the exported variables and an empty menu */
int grub_ctx_open(struct m_grub *g)
{
	struct grub_ctx *c;

	if (g->nest >= GRUB_MAX_NEST)
		return grub_err(g, -ELOOP, "contexts nested deeper than %d", GRUB_MAX_NEST);
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	for (int i = 0; g->ctx && i < g->ctx->nv; i++) {
		const struct grub_var *v = &g->ctx->v[i];

		if (!v->exported)
			continue;
		c->v[c->nv].name = strdup(v->name);
		c->v[c->nv].value = strdup(v->value);
		c->v[c->nv].exported = true;
		if (!c->v[c->nv].name || !c->v[c->nv].value) {
			free(c->v[c->nv].name);
			free(c->v[c->nv].value);
			for (int k = 0; k < c->nv; k++) {
				free(c->v[k].name);
				free(c->v[k].value);
			}
			free(c);
			return -ENOMEM;
		}
		c->nv++;
	}
	c->up = g->ctx;
	g->ctx = c;
	g->nest++;
	return 0;
}

void grub_ctx_close(struct m_grub *g)
{
	struct grub_ctx *c = g->ctx;

	if (!c)
		return;
	for (int i = 0; i < c->nv; i++) {
		free(c->v[i].name);
		free(c->v[i].value);
	}
	entries_free(c);
	g->ctx = c->up;
	free(c);
	g->nest--;
}

/* ---- lexing: one command's raw words ---- */

struct word { const char *p; size_t n; };
struct cmd { struct word w[M_CHAIN_MAX_ARGS]; int n; };
struct script { const char *s; size_t len, pos; };

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* skip a quoted string starting at s[i] (a quote); returns the index after it */
static size_t skip_quote(const char *s, size_t len, size_t i)
{
	char q = s[i++];

	while (i < len && s[i] != q)
		i += (s[i] == '\\' && q == '"' && i + 1 < len) ? 2 : 1;
	return i < len ? i + 1 : len + 1;
}

/* the end of the word at s[i] (quotes, escapes, a { block }) */
static size_t word_end(struct m_grub *g, const char *s, size_t len, size_t i, int *err)
{
	if (s[i] == '{') {
		int level = 0;

		for (; i < len; i++) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '\'' || s[i] == '"') {
				i = skip_quote(s, len, i) - 1;
			} else if (s[i] == '#' && (s[i - 1] == '\n' || blank(s[i - 1]) || s[i - 1] == ';')) {
				while (i + 1 < len && s[i + 1] != '\n')
					i++;
			} else if (s[i] == '{')
				level++;
			else if (s[i] == '}' && --level == 0)
				return i + 1;
		}
		g->at = s + len;
		*err = grub_err(g, -EINVAL, "a { block without its }");
		return len;
	}
	if (s[i] == '}') {
		g->at = s + i;
		*err = grub_err(g, -EINVAL, "a } without its {");
		return len;
	}
	while (i < len && !blank(s[i]) && s[i] != '\n' && s[i] != ';') {
		if (s[i] == '\\')
			i += 2;
		else if (s[i] == '\'' || s[i] == '"') {
			size_t e = skip_quote(s, len, i);

			if (e > len) {
				g->at = s + i;
				*err = grub_err(g, -EINVAL, "a quote without its end");
				return len;
			}
			i = e;
		} else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			while (i < len && s[i] != '}' && s[i] != '\n')
				i++;
			i++;
		} else if (strchr("|&<>{}", s[i])) {
			/* GRUB's lexer makes these tokens its grammar has no rule for */
			g->at = s + i;
			*err = grub_err(g, -EINVAL, "'%c' is not GRUB script syntax here", s[i]);
			return len;
		} else
			i++;
	}
	return i > len ? len : i;
}

/* Returns 1 with a command, 0 at the end of the script. */
static int next_cmd(struct m_grub *g, struct script *sc, struct cmd *c)
{
	const char *s = sc->s;
	size_t len = sc->len, i = sc->pos;
	int err = 0;

	c->n = 0;
	for (;;) {
		while (i < len && (blank(s[i]) || (c->n == 0 && (s[i] == '\n' || s[i] == ';'))))
			i++;
		if (i + 1 < len && s[i] == '\\' && s[i + 1] == '\n') {	/* continuation */
			i += 2;
			continue;
		}
		if (i < len && s[i] == '#') {
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
		if (c->n >= M_CHAIN_MAX_ARGS) {
			g->at = s + i;
			return grub_err(g, -E2BIG, "more than %d words in a command", M_CHAIN_MAX_ARGS);
		}
		size_t e = word_end(g, s, len, i, &err);
		if (err)
			return err;
		c->w[c->n++] = (struct word){ s + i, e - i };
		i = e;
	}
	sc->pos = i;
	return c->n > 0;
}

/* ---- expansion ---- */

struct argv {
	char *a[M_CHAIN_MAX_ARGS];
	int n;
	char *cur;
	size_t len;
	bool have;	/* the current argument exists (grub_script_argv: slot not NULL) */
	bool glob;	/* an unquoted * or ? */
};

static int arg_next(struct m_grub *g, struct argv *v)
{
	if (!v->have)
		return 0;
	if (v->n >= M_CHAIN_MAX_ARGS)
		return grub_err(g, -E2BIG, "more than %d arguments", M_CHAIN_MAX_ARGS);
	if (!(v->a[v->n] = strndup(v->cur, v->len)))
		return -ENOMEM;
	v->n++;
	v->len = 0;
	v->have = false;
	return 0;
}

static int arg_put(struct m_grub *g, struct argv *v, const char *s, size_t n)
{
	if (n >= GRUB_MAX_WORD - v->len)
		return grub_err(g, -E2BIG, "a word over %d bytes", GRUB_MAX_WORD);
	memcpy(v->cur + v->len, s, n);
	v->len += n;
	v->have = true;
	return 0;
}

static void argv_free(struct argv *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->a[i]);
	v->n = 0;
}

static bool name_char(char c, bool first)
{
	return c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (!first && c >= '0' && c <= '9');
}

/* an unquoted value: split at blanks (argv.c grub_script_argv_split_append) */
static int put_split(struct m_grub *g, struct argv *v, const char *s)
{
	int e = 0;

	while (*s && strchr(" \t\n\r\f\v", *s))
		s++;
	while (*s && !e) {
		size_t n = strcspn(s, " \t\n\r\f\v");

		if (memchr(s, '*', n) || memchr(s, '?', n))
			v->glob = true;
		e = arg_put(g, v, s, n);
		s += n;
		while (*s && strchr(" \t\n\r\f\v", *s))
			s++;
		if (*s && !e)
			e = arg_next(g, v);
	}
	return e;
}

/* $name / ${name} at p[*i] (just after the $); execute.c grub_script_env_get */
static int put_var(struct m_grub *g, struct argv *v, const char *p, size_t n, size_t *i, bool quoted)
{
	char name[128];
	size_t k = 0, j = *i;
	bool brace = j < n && p[j] == '{';

	if (brace)
		j++;
	if (j < n && strchr("?#*@", p[j]))
		name[k++] = p[j++];
	else if (j < n && p[j] >= '0' && p[j] <= '9')
		while (j < n && p[j] >= '0' && p[j] <= '9' && k < sizeof(name) - 1)
			name[k++] = p[j++];
	else
		while (j < n && name_char(p[j], k == 0) && k < sizeof(name) - 1)
			name[k++] = p[j++];
	name[k] = '\0';
	if (k == sizeof(name) - 1 && j < n && name_char(p[j], false))
		return grub_err(g, -E2BIG, "a variable name over %zu bytes", sizeof(name) - 2);
	if (!k || (brace && (j >= n || p[j] != '}')))
		return grub_err(g, -EINVAL, "a $ that names no variable");
	*i = j + brace;
	if (!strcmp(name, "?") || !strcmp(name, "lockdown") || !strcmp(name, "shim_lock"))
		return grub_err(g, -ENOTSUP, "the value of $%s depends on the machine, not predicted", name);
	if (name[0] >= '0' && name[0] <= '9') {
		long idx = strtol(name, NULL, 10);

		if (idx < 1 || idx > g->npos)
			return 0;
		return quoted ? arg_put(g, v, g->pos[idx - 1], strlen(g->pos[idx - 1])) : put_split(g, v, g->pos[idx - 1]);
	}
	if (!strcmp(name, "#")) {
		char num[16];

		snprintf(num, sizeof(num), "%d", g->npos);
		return arg_put(g, v, num, strlen(num));
	}
	if (!strcmp(name, "*") || !strcmp(name, "@")) {
		int e = 0;

		for (int a = 0; a < g->npos && !e; a++) {
			if (a && (!quoted || name[0] == '@'))
				e = arg_next(g, v);
			else if (a)
				e = arg_put(g, v, " ", 1);
			if (!e)
				e = quoted ? arg_put(g, v, g->pos[a], strlen(g->pos[a])) : put_split(g, v, g->pos[a]);
		}
		return e;
	}
	const char *val = grub_var_get(g, name);

	if (!*val)
		return 0;
	return quoted ? arg_put(g, v, val, strlen(val)) : put_split(g, v, val);
}

static int expand_word(struct m_grub *g, const struct word *w, struct argv *v)
{
	const char *p = w->p;
	size_t n = w->n, i = 0;
	int e = 0;

	if (n && p[0] == '{') {		/* a block is passed as its source text */
		e = arg_put(g, v, p, n);
		return e ? e : arg_next(g, v);
	}
	while (i < n && !e) {
		if (p[i] == '\\') {
			if (i + 1 < n && p[i + 1] != '\n')
				e = arg_put(g, v, p + i + 1, 1);
			i += 2;
		} else if (p[i] == '\'') {
			size_t j = i + 1;

			while (j < n && p[j] != '\'')
				j++;
			e = arg_put(g, v, p + i + 1, j - i - 1);
			i = j + 1;
		} else if (p[i] == '"') {
			v->have = true;
			for (i++; i < n && p[i] != '"' && !e;) {
				if (p[i] == '\\' && i + 1 < n && strchr("$\\\"\n", p[i + 1])) {
					if (p[i + 1] != '\n')
						e = arg_put(g, v, p + i + 1, 1);
					i += 2;
				} else if (p[i] == '$') {
					i++;
					e = put_var(g, v, p, n, &i, true);
				} else
					e = arg_put(g, v, p + i++, 1);
			}
			i++;
		} else if (p[i] == '$') {
			if (i + 1 < n && p[i + 1] == '"')
				return grub_err(g, -ENOTSUP, "$\"...\" (translated text) is not predicted");
			i++;
			e = put_var(g, v, p, n, &i, false);
		} else {
			if (p[i] == '*' || p[i] == '?')
				v->glob = true;
			e = arg_put(g, v, p + i++, 1);
		}
	}
	return e ? e : arg_next(g, v);
}

static int expand(struct m_grub *g, const struct cmd *c, struct argv *v)
{
	int e = 0;

	v->n = 0;
	v->len = 0;
	v->have = v->glob = false;
	for (int i = 0; i < c->n && !e; i++)
		e = expand_word(g, &c->w[i], v);
	if (!e && v->glob)
		e = grub_err(g, -ENOTSUP, "an unquoted * or ? is a wildcard GRUB expands against the disk");
	if (e)
		argv_free(v);
	return e;
}

/* ---- running commands ---- */

static struct grub_func *func_find(struct m_grub *g, const char *name)
{
	for (int i = 0; i < g->nf; i++)
		if (!strcmp(g->f[i].name, name))
			return &g->f[i];
	return NULL;
}

/* execute.c grub_script_function_call: the body with $1... the arguments */
static int call_function(struct m_grub *g, struct grub_func *f, char **a, int n)
{
	char **opos = g->pos;
	int onpos = g->npos, e;

	if (g->nest >= GRUB_MAX_NEST)
		return grub_err(g, -ELOOP, "function calls nested deeper than %d", GRUB_MAX_NEST);
	/* a copy: the body may define the function anew while it runs */
	char *body = strdup(f->body), *file = strdup(f->file);

	if (!body || !file) {
		free(body);
		free(file);
		return -ENOMEM;
	}
	g->pos = a;
	g->npos = n;
	g->nest++;
	g->scopes++;
	e = grub_run_text(g, body, strlen(body), file, f->line);
	g->scopes--;
	g->nest--;
	free(body);
	free(file);
	g->pos = opos;
	g->npos = onpos;
	g->returning = false;
	return e < 0 ? e : 1;
}

/* Runs one command; returns its truth (1/0) or -errno. */
static int run_cmd(struct m_grub *g, const struct cmd *c, bool need_truth)
{
	struct argv *v = calloc(1, sizeof(*v));
	char **a;
	int n, e;
	bool neg = false;
	struct grub_func *f;

	if (!v || !(v->cur = malloc(GRUB_MAX_WORD))) {
		free(v);
		return -ENOMEM;
	}
	g->at = c->w[0].p;
	if (++g->ncmds > GRUB_MAX_CMDS) {
		e = grub_err(g, -ELOOP, "more than %d commands run", GRUB_MAX_CMDS);
		goto out;
	}
	if ((e = expand(g, c, v)) < 0)
		goto out;
	a = v->a;
	n = v->n;
	e = 1;
	if (n == 0)
		goto out;
	if ((e = grub_measure_cmd(g, a, n)) < 0)
		goto out;
	if (!strcmp(a[0], "!")) {
		if (n < 2) {
			e = grub_err(g, -EINVAL, "! without a command");
			goto out;
		}
		neg = true, a++, n--;
		need_truth = true;
	}
	if ((f = func_find(g, a[0])))
		e = call_function(g, f, a + 1, n - 1);
	else
		e = grub_command(g, a, n, need_truth);
	if (e >= 0 && neg)
		e = !e;
out:
	argv_free(v);
	free(v->cur);
	free(v);
	return e;
}

/* ---- control flow ---- */

static bool is_kw(const struct cmd *c, const char *kw)
{
	return c->n && c->w[0].n == strlen(kw) && !strncmp(c->w[0].p, kw, c->w[0].n);
}

static void shift(struct cmd *c)
{
	if (c->n == 0)
		return;
	memmove(c->w, c->w + 1, (size_t)(c->n - 1) * sizeof(c->w[0]));
	c->n--;
}

static int exec_until(struct m_grub *g, struct script *sc, bool run, struct cmd *stop);

/* if COND; then ... [elif COND; then ...] [else ...] fi  (the "if" word is already dropped) */
static int exec_if(struct m_grub *g, struct script *sc, struct cmd *c, bool run)
{
	struct cmd *stop = malloc(sizeof(*stop));
	bool done = !run;
	const char *if_at = g->at;
	int e;

	if (!stop)
		return -ENOMEM;
	if (g->nest >= GRUB_MAX_NEST) {
		free(stop);
		return grub_err(g, -ELOOP, "if nested deeper than %d", GRUB_MAX_NEST);
	}
	g->nest++;
	for (;;) {
		int truth = 0;

		if (!c->n) {
			e = grub_err(g, -EINVAL, "if without a condition");
			break;
		}
		if (!done && !g->stopped && !g->returning) {
			if ((truth = run_cmd(g, c, true)) < 0) {
				e = truth;
				break;
			}
		}
		/* "then" may end the condition's line or start the next one */
		e = next_cmd(g, sc, stop);
		if (e <= 0 || !is_kw(stop, "then")) {
			g->at = if_at;
			e = e < 0 ? e : grub_err(g, -EINVAL, "if without then");
			break;
		}
		shift(stop);
		e = exec_until(g, sc, !done && truth, stop);
		if (e < 0)
			break;
		done = done || truth;
		if (stop->n == 0) {
			g->at = if_at;
			e = grub_err(g, -EINVAL, "if without fi");
			break;
		}
		if (is_kw(stop, "fi")) {
			e = 0;
			break;
		}
		if (is_kw(stop, "else")) {
			shift(stop);
			e = exec_until(g, sc, !done, stop);
			if (e >= 0 && !is_kw(stop, "fi")) {
				g->at = if_at;
				e = grub_err(g, -EINVAL, "else without fi");
			}
			break;
		}
		shift(stop);	/* elif: the rest is the next condition */
		*c = *stop;
	}
	g->nest--;
	free(stop);
	return e < 0 ? e : 0;
}

/* function NAME { BODY } (parser.y "function": defined, not run, not measured) */
static int define_function(struct m_grub *g, struct script *sc, struct cmd *c)
{
	struct grub_func *f;
	const struct word *body;
	char *name, *text, *file;
	unsigned line = g->line0;

	if (c->n == 2) {	/* parser.y: newlines may come before the "{" */
		struct cmd *b = malloc(sizeof(*b));
		int e = b ? next_cmd(g, sc, b) : -ENOMEM;

		if (e > 0 && b->n == 1 && b->w[0].p[0] == '{')
			c->w[c->n++] = b->w[0];
		free(b);
		if (e < 0)
			return e;
	}
	if (c->n != 3 || c->w[2].p[0] != '{')
		return grub_err(g, -EINVAL, "function without a name and a { body }");
	for (const char *p = g->base; p < c->w[2].p; p++)
		line += *p == '\n';
	body = &c->w[2];
	name = strndup(c->w[1].p, c->w[1].n);
	text = strndup(body->p + 1, body->n - 2);
	file = strdup(g->file ? g->file : "?");
	if (!name || !text || !file) {
		free(name);
		free(text);
		free(file);
		return -ENOMEM;
	}
	if ((f = func_find(g, name))) {
		free(name);
		free(f->body);
		free(f->file);
	} else if (g->nf >= GRUB_MAX_FUNCS) {
		free(name);
		free(text);
		free(file);
		return grub_err(g, -E2BIG, "more than %d functions", GRUB_MAX_FUNCS);
	} else {
		f = &g->f[g->nf++];
		f->name = name;
	}
	f->body = text;
	f->file = file;
	f->line = line;
	return 0;
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
		if (!pending && (e = next_cmd(g, sc, c)) <= 0) {
			stop->n = 0;
			break;
		}
		pending = false;
		g->at = c->w[0].p;
		if (is_kw(c, "fi") || is_kw(c, "elif") || is_kw(c, "else")) {
			*stop = *c;
			e = 0;
			break;
		}
		if (is_kw(c, "if")) {
			shift(c);
			e = exec_if(g, sc, c, run);
		} else if (is_kw(c, "then"))
			e = grub_err(g, -EINVAL, "then without if");
		else if (is_kw(c, "function"))
			e = run ? define_function(g, sc, c) : 0;
		else if (is_kw(c, "for") || is_kw(c, "while") || is_kw(c, "until") || is_kw(c, "do") ||
			 is_kw(c, "done") || is_kw(c, "case") || is_kw(c, "select"))
			e = grub_err(g, -ENOTSUP, "'%.*s' loops are not predicted", (int)c->w[0].n, c->w[0].p);
		else if (run && !g->stopped && !g->returning)
			e = run_cmd(g, c, false);
		if (e < 0)
			break;
	}
	free(c);
	return e < 0 ? e : 0;
}

int grub_run_text(struct m_grub *g, const char *s, size_t len, const char *file, unsigned line0)
{
	struct script sc = { s, len, 0 };
	struct cmd *stop = calloc(1, sizeof(*stop));
	const char *ofile = g->file, *obase = g->base, *oat = g->at, *oend = g->end;
	unsigned oline = g->line0;
	int e;

	if (!stop)
		return -ENOMEM;
	g->file = file;
	g->base = s;
	g->end = s + len;
	g->line0 = line0;
	g->at = s;
	if (len > M_CHAIN_MAX_SCRIPT)
		e = grub_err(g, -E2BIG, "over %u bytes", M_CHAIN_MAX_SCRIPT);
	else if ((e = exec_until(g, &sc, true, stop)) == 0 && stop->n) {
		g->at = stop->w[0].p;
		e = grub_err(g, -EINVAL, "%.*s without if", (int)stop->w[0].n, stop->w[0].p);
	}
	g->file = ofile;
	g->base = obase;
	g->end = oend;
	g->line0 = oline;
	g->at = oat;
	free(stop);
	return e;
}

/* ---- the menu (normal/menu.c) ---- */

/* menuentry_eq: ID equals SPEC up to SPEC's first single '>' ('>>' is a '>') */
static bool entry_eq(const char *id, const char *spec)
{
	for (;;) {
		if (*spec == '>' && spec[1] != '>')
			return *id == '\0';
		if (*spec == '>')
			spec++;
		if (*id != *spec)
			return false;
		if (!*id)
			return true;
		id++;
		spec++;
	}
}

static int entry_number(struct m_grub *g)
{
	const char *val = grub_var_get(g, "default");
	char *end;
	long n;

	if (!*val)
		return 0;
	n = strtol(val, &end, 0);
	if (end == val) {	/* not a number: a title or an id */
		for (int i = 0; i < g->ctx->ne; i++)
			if (entry_eq(g->ctx->e[i].title, val) || entry_eq(g->ctx->e[i].id, val))
				return i;
		return 0;
	}
	return n < 0 || n >= g->ctx->ne ? 0 : (int)n;
}

static int set_or_unset(struct m_grub *g, const char *name, const char *val)
{
	struct grub_var *v;

	if (val)
		return grub_var_set(g, name, strlen(name), val);
	if ((v = grub_var_find(g, name, strlen(name)))) {
		free(v->value);
		if (!(v->value = strdup("")))
			return -ENOMEM;
	}
	return 0;
}

/* grub_menu_execute_entry; @en's fields are copied first: its body may add entries to its menu */
static int run_entry(struct m_grub *g, const struct grub_entry *en, bool auto_boot)
{
	char *ochosen = strdup(grub_var_get(g, "chosen")), *odef = strdup(grub_var_get(g, "default"));
	char *chosen = NULL, **opos = g->pos, *src = strdup(en->src), **args = en->args, *file = strdup(en->file);
	const char *p;
	size_t o = 0;
	int onpos = g->npos, e = 0, argc = en->argc;
	unsigned line = en->line;
	bool ctx = false, submenu = en->submenu;

	if (!ochosen || !odef || !src || !file) {
		e = -ENOMEM;
		goto out;
	}
	/* menu.c: a restricted entry asks for a superuser's password (auth.c: when superusers is set) */
	if (en->restricted && *grub_var_get(g, "superusers")) {
		e = grub_err(g, -ENOTSUP, "entry '%s' asks for a password (superusers is set): not predicted", en->title);
		goto out;
	}
	if (submenu) {
		if ((e = grub_ctx_open(g)) < 0)
			goto out;
		ctx = true;
		if (auto_boot && (e = grub_var_set(g, "timeout", 7, "0")) < 0)
			goto out;
	}
	/* chosen: the path of ids, a '>' in an id doubled */
	if (!(chosen = malloc(strlen(ochosen) + 2 * strlen(en->id) + 2))) {
		e = -ENOMEM;
		goto out;
	}
	if (*ochosen)
		o = (size_t)sprintf(chosen, "%s>", ochosen);
	for (p = en->id; *p; p++) {
		if (*p == '>')
			chosen[o++] = '>';
		chosen[o++] = *p;
	}
	chosen[o] = '\0';
	if ((e = grub_var_set(g, "chosen", 6, chosen)) < 0)
		goto out;
	grub_var_find(g, "chosen", 6)->exported = true;
	/* default: what follows the first single '>' */
	for (p = odef; *p; p++) {
		if (p[0] == '>' && p[1] == '>')
			p++;
		else if (p[0] == '>')
			break;
	}
	if ((e = set_or_unset(g, "default", *p && p[1] ? p + 1 : NULL)) < 0)
		goto out;
	g->pos = args;
	g->npos = argc;
	g->scopes++;
	e = grub_run_text(g, src, strlen(src), file, line);
	g->scopes--;
	g->returning = false;
	g->pos = opos;
	g->npos = onpos;
	if (e < 0)
		goto out;
	if (g->booted && !g->stopped)
		g->stopped = true;	/* the implicit "boot": grub_command_execute, not measured */
	if (submenu && !g->stopped)
		e = grub_show_menu(g, auto_boot);
out:
	if (ctx)
		grub_ctx_close(g);
	if (e == 0 && !g->stopped)
		e = set_or_unset(g, "chosen", ochosen) < 0 || set_or_unset(g, "default", odef) < 0 ? -ENOMEM : 0;
	free(chosen);
	free(ochosen);
	free(odef);
	free(src);
	free(file);
	return e;
}

/* grub_show_menu: after the timeout, the default entry */
int grub_show_menu(struct m_grub *g, bool auto_boot)
{
	const char *t = grub_var_get(g, "timeout");
	char *end;
	int n;

	if (!g->ctx->ne || g->stopped)
		return 0;
	if (!auto_boot && (!*t || strtol(t, &end, 10) < 0 || *end))
		return grub_err(g, -ENOTSUP, "timeout is '%s': GRUB waits for a key, which entry boots is not known", t);
	if (g->nest >= GRUB_MAX_NEST)
		return grub_err(g, -ELOOP, "menus nested deeper than %d", GRUB_MAX_NEST);
	n = entry_number(g);
	g->nest++;
	/* the timeout ran out: the entry boots as auto_boot (menu.c show_menu) */
	int e = run_entry(g, &g->ctx->e[n], true);
	g->nest--;
	return e;
}

/* ---- entry point ---- */

static const char *const features[] = {
	"feature_chainloader_bpb", "feature_ntldr", "feature_platform_search_hint", "feature_default_font_path",
	"feature_all_video_module", "feature_menuentry_id", "feature_menuentry_options", "feature_200_final",
	"feature_nativedisk_cmd", "feature_timeout_style",
};

static int set_exported(struct m_grub *g, const char *name, const char *value)
{
	int e = grub_var_set(g, name, strlen(name), value);

	if (e == 0)
		grub_var_find(g, name, strlen(name))->exported = true;
	return e;
}

int m_grub_run(const char *script, size_t len, const char *root, const char *prefix, const char *cmdpath,
	       const struct m_grub_ops *ops)
{
	struct m_grub *g = calloc(1, sizeof(*g));
	int e;

	if (!g)
		return -ENOMEM;
	g->ops = ops;
	g->file = "(memdisk)/grub.cfg";
	/* kern/main.c (root, prefix, cmdpath), normal/main.c GRUB_MOD_INIT(normal) */
	e = grub_ctx_open(g);
	g->nest = 0;	/* the first context is no nesting */
	if (!e)
		e = set_exported(g, "root", root);
	if (!e)
		e = set_exported(g, "prefix", prefix);
	if (!e)
		e = set_exported(g, "cmdpath", cmdpath);
	for (size_t i = 0; !e && i < sizeof(features) / sizeof(features[0]); i++)
		e = set_exported(g, features[i], "y");
	if (!e)
		e = set_exported(g, "grub_cpu", "x86_64");
	if (!e)
		e = set_exported(g, "grub_platform", "efi");
	if (!e)
		e = set_exported(g, "color_normal", "light-gray/black");
	if (!e)
		e = set_exported(g, "color_highlight", "black/light-gray");
	/* normal mode reads the module lists under $prefix, runs the embedded
	 * configuration, then shows its menu */
	if (!e)
		e = grub_read_lists(g, prefix);
	if (!e)
		e = grub_run_text(g, script, len, "(memdisk)/grub.cfg", 1);
	if (!e)
		e = grub_show_menu(g, false);
	if (!e && !g->booted)
		e = m_err(-EINVAL, "GRUB script: no linux command runs, nothing boots");
	g->nest = 1;
	while (g->ctx)
		grub_ctx_close(g);
	for (int i = 0; i < g->nf; i++) {
		free(g->f[i].name);
		free(g->f[i].body);
		free(g->f[i].file);
	}
	free(g);
	return e;
}
