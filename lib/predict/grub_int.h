/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_LIB_GRUB_INT_H
#define MEASURED_LIB_GRUB_INT_H

/*
 * The GRUB 2.06 script interpreter's state, shared by grub_script.c (words,
 * control flow, menus) and grub_cmds.c (the commands GRUB runs).  Limits,
 * each a clear error naming the line when passed:
 */
#include <stdbool.h>
#include <stddef.h>
#include "measured/chain.h"

#define GRUB_MAX_VARS 512	/* variables of one environment context */
#define GRUB_MAX_ENTRIES 256	/* menu entries of one menu */
#define GRUB_MAX_FUNCS 64	/* functions defined */
#define GRUB_MAX_NEST 32	/* if, function calls, entries, submenus, contexts nested */
#define GRUB_MAX_WORD 65536	/* bytes of one word after expansion (a name: 126) */
#define GRUB_MAX_CMDS 100000	/* commands run in all (a script that never ends) */

struct grub_var { char *name, *value; bool exported; };

struct grub_entry {
	char *title, *id;
	char *src;		/* "setparams 'TITLE' ...\n" + the block's text */
	char **args;		/* the positional arguments: $1 ... in the body */
	int argc;
	bool submenu;
	bool restricted;	/* not --unrestricted: superusers must log in */
	char *file;		/* where it was defined, for errors */
	unsigned line;
};

/* grub_env_context_open(): variables (exported ones copied in) and a menu */
struct grub_ctx {
	struct grub_var v[GRUB_MAX_VARS];
	int nv;
	struct grub_entry *e;
	int ne;
	struct grub_ctx *up;
};

struct grub_func { char *name, *body, *file; unsigned line; };

struct m_grub {
	const struct m_grub_ops *ops;
	struct grub_ctx *ctx;
	struct grub_func f[GRUB_MAX_FUNCS];
	int nf;
	char **pos;		/* positional arguments of the running function or entry */
	int npos;
	int nest;
	int scopes;		/* function calls and entries running (execute.c scope) */
	int files;		/* source / configfile nested (M_CHAIN_MAX_DEPTH) */
	unsigned long ncmds;
	bool booted;		/* a kernel is loaded */
	bool stopped;		/* "boot" ran */
	bool returning;		/* "return" ran in a function */
	/* the text running, for line numbers in errors */
	const char *file, *base, *end;
	unsigned line0;
	const char *at;		/* the command running */
};

/* grub_script.c */
int grub_err(struct m_grub *g, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *grub_var_get(struct m_grub *g, const char *name);
struct grub_var *grub_var_find(struct m_grub *g, const char *name, size_t len);
int grub_var_set(struct m_grub *g, const char *name, size_t nlen, const char *value);
int grub_run_text(struct m_grub *g, const char *text, size_t len, const char *file, unsigned line0);
int grub_ctx_open(struct m_grub *g);
void grub_ctx_close(struct m_grub *g);
int grub_show_menu(struct m_grub *g, bool auto_boot);
/* "(dev)/path" or "/path" on $root: the device (without parentheses) and the path */
int grub_split_path(struct m_grub *g, const char *name, char *dev, size_t devcap, const char **path);

/* grub_cmds.c: runs one expanded command; returns 1 true, 0 false, -errno */
int grub_command(struct m_grub *g, char **a, int n, bool need_truth);
int grub_measure_cmd(struct m_grub *g, char **a, int n);
/* normal/main.c read_lists: the module lists under @prefix, read (and measured) when there */
int grub_read_lists(struct m_grub *g, const char *prefix);

#endif
