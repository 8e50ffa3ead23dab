// SPDX-License-Identifier: MIT
/*
 * The commands of GRUB 2.06 (Debian 12's signed grubx64.efi) as far as they
 * change what is measured: which files are opened (PCR 9: every file
 * grub_file_open() reads through the verifiers, grub-core/kern/verifiers.c,
 * except types flagged GRUB_FILE_TYPE_SKIP_SIGNATURE and files on the
 * memdisk), which variables are set, which entry boots.  A command whose
 * effect depends on the machine rather than on the inputs is refused with
 * a clear error, not guessed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "grub_int.h"

#define ENVBLK_SIGNATURE "# GRUB Environment Block\n"	/* include/grub/lib/envblk.h */

int grub_measure_cmd(struct m_grub *g, char **a, int n)
{
	size_t len = 1, o = 0;
	char *str;
	int e;

	for (int i = 0; i < n; i++)
		len += strlen(a[i]) + 1;
	if (!(str = malloc(len)))
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

/* ---- files ---- */

int grub_split_path(struct m_grub *g, const char *name, char *dev, size_t cap, const char **path)
{
	const char *close;
	int e;

	if (name[0] == '(') {
		if (!(close = strchr(name, ')')))
			return grub_err(g, -EINVAL, "%s: a device without its )", name);
		e = m_snprintf(dev, cap, "%.*s", (int)(close - name - 1), name + 1);
		*path = close + 1;
	} else {
		e = m_snprintf(dev, cap, "%s", grub_var_get(g, "root"));
		*path = name;
	}
	if (e < 0)
		return grub_err(g, e, "%s: device name too long", name);
	if (!**path)
		*path = "/";
	return 0;
}

/* 0 absent, 1 a file, 2 a directory */
static int file_kind(struct m_grub *g, const char *name)
{
	char dev[128];
	const char *path;

	if (grub_split_path(g, name, dev, sizeof(dev), &path) < 0)
		return -EINVAL;
	if (!strcmp(dev, "memdisk"))
		return g->ops->memdisk_has && g->ops->memdisk_has(g->ops->arg, path) ? 1 : 0;
	return g->ops->kind(g->ops->arg, dev, path);
}

/* a file GRUB opens and reads: measured into PCR 9 under the name it was opened by */
static int read_file(struct m_grub *g, const char *name, uint8_t **ret, size_t *ret_len)
{
	char dev[128];
	const char *path;
	int e = grub_split_path(g, name, dev, sizeof(dev), &path);

	if (e < 0)
		return e;
	if (!strcmp(dev, "memdisk"))
		return grub_err(g, -ENOTSUP, "%s: files on the memdisk other than its grub.cfg are not read", name);
	e = g->ops->read(g->ops->arg, dev, path, name, ret, ret_len);
	return e < 0 ? grub_err(g, e, "%s: %s", name, m_errmsg(e)) : 0;
}

static int read_discard(struct m_grub *g, const char *name)
{
	uint8_t *d;
	size_t len;
	int e = read_file(g, name, &d, &len);

	if (e == 0)
		free(d);
	return e;
}

/* ---- variables and their hooks ---- */

/*
 * normal/main.c read_lists_hook: setting prefix reads the module lists
 * below it (command.lst, fs.lst, crypto.lst, terminal.lst; type
 * GRUB_MODULE_LIST, measured); gettext.c: setting lang or locale_dir loads
 * a catalog, refused when one exists; gfxmenu reads a theme's files when
 * it draws the menu.
 */
int grub_read_lists(struct m_grub *g, const char *prefix)
{
	static const char *const lists[] = { "command.lst", "fs.lst", "crypto.lst", "terminal.lst" };
	char name[1024];
	int e;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if ((e = m_snprintf(name, sizeof(name), "%s/x86_64-efi/%s", prefix, lists[i])) < 0)
			return grub_err(g, e, "prefix too long");
		if (file_kind(g, name) == 1 && (e = read_discard(g, name)) < 0)
			return e;
	}
	return 0;
}

static int gettext_check(struct m_grub *g)
{
	const char *lang = grub_var_get(g, "lang"), *dir = grub_var_get(g, "locale_dir");
	static const char *const ext[] = { ".mo", ".mo.gz" };
	char name[1024];

	if (!*lang)
		return 0;
	for (int cut = 0; cut < 2; cut++) {
		size_t ln = cut ? strcspn(lang, "_") : strlen(lang);

		if (cut && !lang[ln])
			break;
		for (int x = 0; x < 2; x++) {
			int e = *dir ? m_snprintf(name, sizeof(name), "%s/%.*s%s", dir, (int)ln, lang, ext[x]) :
				       m_snprintf(name, sizeof(name), "%s/locale/%.*s%s", grub_var_get(g, "prefix"), (int)ln,
						  lang, ext[x]);

			if (e < 0)
				return grub_err(g, e, "lang or locale_dir too long");
			if (file_kind(g, name) > 0)
				return grub_err(g, -ENOTSUP, "lang %s: GRUB would load the catalog %s, not predicted", lang,
						name);
		}
	}
	return 0;
}

static int set_var(struct m_grub *g, const char *name, size_t nlen, const char *value)
{
	int e = grub_var_set(g, name, nlen, value);

	if (e < 0)
		return e;
	if (nlen == 6 && !strncmp(name, "prefix", 6))
		return grub_read_lists(g, value);
	if ((nlen == 4 && !strncmp(name, "lang", 4)) || (nlen == 10 && !strncmp(name, "locale_dir", 10)))
		return gettext_check(g);
	if (nlen == 5 && !strncmp(name, "theme", 5) && *value)
		return grub_err(g, -ENOTSUP, "a theme: GRUB reads its files when it draws the menu, not predicted");
	return 0;
}

/* load_env (commands/loadenv.c, lib/envblk.c): NAME=VALUE lines, \ escapes */
static int cmd_load_env(struct m_grub *g, char **a, int n)
{
	char fname[1024];
	const char *file = NULL;
	uint8_t *d;
	size_t len;
	int i = 1, e;

	for (; i < n && a[i][0] == '-'; i++) {
		if ((!strcmp(a[i], "-f") || !strcmp(a[i], "--file")) && i + 1 < n)
			file = a[++i];
		else if (!strncmp(a[i], "--file=", 7))
			file = a[i] + 7;
		else
			return grub_err(g, -ENOTSUP, "load_env %s is not predicted", a[i]);
	}
	if (!file) {
		if ((e = m_snprintf(fname, sizeof(fname), "%s/grubenv", grub_var_get(g, "prefix"))) < 0)
			return grub_err(g, e, "prefix too long");
		file = fname;
	}
	if (file_kind(g, file) != 1)
		return 0;
	if ((e = read_file(g, file, &d, &len)) < 0)
		return e;
	if (len < strlen(ENVBLK_SIGNATURE) || memcmp(d, ENVBLK_SIGNATURE, strlen(ENVBLK_SIGNATURE))) {
		free(d);
		return 0;	/* "invalid environment block": nothing set */
	}
	for (size_t o = strlen(ENVBLK_SIGNATURE); o < len && e >= 0;) {
		size_t end = o, k = 0;
		char *val;
		const char *eq;

		while (end < len && d[end] != '\n') {
			if (d[end] == '\\' && end + 1 < len)
				end++;
			end++;
		}
		eq = memchr(d + o, '=', end - o);
		if (d[o] != '#' && eq && (val = malloc(end - o + 1))) {
			size_t nlen = (size_t)((const uint8_t *)eq - (d + o));
			bool listed = i >= n;

			for (size_t p = nlen + 1 + o; p < end; p++) {
				if (d[p] == '\\' && p + 1 < end)
					p++;
				val[k++] = (char)d[p];
			}
			val[k] = '\0';
			for (int w = i; w < n && !listed; w++)
				listed = strlen(a[w]) == nlen && !strncmp(a[w], (const char *)d + o, nlen);
			if (listed)
				e = set_var(g, (const char *)d + o, nlen, val);
			free(val);
		} else if (d[o] != '#' && eq)
			e = -ENOMEM;
		o = end + 1;
	}
	free(d);
	return e < 0 ? e : 1;
}

/* ---- test / [ (commands/test.c test_parse) ---- */

static int test_parse(struct m_grub *g, char **a, int *i, int n)
{
	bool and = true, or = false, inv = false;
	int v, e;

#define UPDATE(x) do { and = and && (inv ? !(x) : (x)); inv = false; } while (0)
	while (*i < n) {
		if (*i + 2 < n) {
			const char *op = a[*i + 1], *l = a[*i], *r = a[*i + 2];
			int c = strcmp(l, r);

			v = -1;
			if (!strcmp(op, "=") || !strcmp(op, "=="))
				v = c == 0;
			else if (!strcmp(op, "!="))
				v = c != 0;
			else if (!strcmp(op, "<"))
				v = c < 0;
			else if (!strcmp(op, "<="))
				v = c <= 0;
			else if (!strcmp(op, ">"))
				v = c > 0;
			else if (!strcmp(op, ">="))
				v = c >= 0;
			else if (op[0] == '-' && strlen(op) == 3 && strstr("-eq -ge -gt -le -lt -ne", op)) {
				long x = strtol(l, NULL, 0), y = strtol(r, NULL, 0);

				v = !strcmp(op, "-eq") ? x == y : !strcmp(op, "-ge") ? x >= y : !strcmp(op, "-gt") ? x > y :
				    !strcmp(op, "-le") ? x <= y : !strcmp(op, "-lt") ? x < y : x != y;
			} else if (!strcmp(op, "-pgt") || !strcmp(op, "-plt") || !strcmp(op, "-nt") || !strcmp(op, "-ot"))
				return grub_err(g, -ENOTSUP, "test %s is not predicted", op);
			if (v >= 0) {
				UPDATE(v);
				*i += 3;
				continue;
			}
		}
		if (*i + 1 < n) {
			const char *op = a[*i], *arg = a[*i + 1];

			v = -1;
			if (!strcmp(op, "-d") || !strcmp(op, "-e") || !strcmp(op, "-f")) {
				int k = file_kind(g, arg);

				if (k < 0)
					return k;
				v = op[1] == 'e' ? k > 0 : op[1] == 'd' ? k == 2 : k == 1;
			} else if (!strcmp(op, "-s")) {
				/* opened (GRUB_FILE_TYPE_GET_SIZE), so read and measured */
				uint8_t *d;
				size_t len = 0;
				int k = file_kind(g, arg);

				if (k < 0)
					return k;
				if (k == 1) {
					if ((e = read_file(g, arg, &d, &len)) < 0)
						return e;
					free(d);
				}
				v = k == 1 && len != 0;
			} else if (!strcmp(op, "-n"))
				v = arg[0] != '\0';
			else if (!strcmp(op, "-z"))
				v = arg[0] == '\0';
			if (v >= 0) {
				UPDATE(v);
				*i += 2;
				continue;
			}
		}
		if (!strcmp(a[*i], ")")) {
			(*i)++;
			return or || and;
		}
		if (!strcmp(a[*i], "(")) {
			(*i)++;
			if (g->nest >= GRUB_MAX_NEST)
				return grub_err(g, -ELOOP, "test ( ) nested deeper than %d", GRUB_MAX_NEST);
			g->nest++;
			v = test_parse(g, a, i, n);
			g->nest--;
			if (v < 0)
				return v;
			UPDATE(v);
			continue;
		}
		if (!strcmp(a[*i], "!")) {
			inv = !inv;
			(*i)++;
			continue;
		}
		if (!strcmp(a[*i], "-a")) {
			(*i)++;
			continue;
		}
		if (!strcmp(a[*i], "-o")) {
			or = or || and;
			and = true;
			(*i)++;
			continue;
		}
		UPDATE(a[*i][0] != '\0');
		(*i)++;
	}
#undef UPDATE
	return or || and;
}

static int cmd_test(struct m_grub *g, char **a, int n)
{
	int i = 0;

	a++, n--;
	if (n >= 1 && !strcmp(a[n - 1], "]"))
		n--;
	return test_parse(g, a, &i, n);
}

/* ---- search (commands/search_wrap.c, search.c) ---- */

static int found_uuid(struct m_grub *g, const char *uuid, const char *var)
{
	const char *dev = g->ops->fs_by_uuid ? g->ops->fs_by_uuid(g->ops->arg, uuid) : NULL;

	if (!dev)
		return grub_err(g, -ENOTSUP,
				"search: no file system given has UUID %s (which device GRUB finds is not known; "
				"name it with --grub-fs)", uuid);
	return set_var(g, var, strlen(var), dev) < 0 ? -ENOMEM : 1;
}

static int cmd_search(struct m_grub *g, char **a, int n)
{
	const char *var = NULL, *key = NULL;
	bool uuid = false;

	for (int i = 1; i < n; i++) {
		if (!strcmp(a[i], "-u") || !strcmp(a[i], "--fs-uuid"))
			uuid = true;
		else if (!strcmp(a[i], "-s") || !strcmp(a[i], "--set"))
			var = "root";
		else if (!strncmp(a[i], "--set=", 6))
			var = a[i] + 6;
		else if (!strcmp(a[i], "-n") || !strcmp(a[i], "--no-floppy"))
			;
		else if (!strncmp(a[i], "--hint", 6)) {
			if (!strchr(a[i], '='))
				i++;	/* the hint is the next word */
		} else if (!strcmp(a[i], "-f") || !strcmp(a[i], "--file") || !strcmp(a[i], "-l") ||
			   !strcmp(a[i], "--label"))
			return grub_err(g, -ENOTSUP, "search %s: which device has it first depends on the machine", a[i]);
		else if (a[i][0] == '-')
			return grub_err(g, -ENOTSUP, "search %s is not predicted", a[i]);
		else if (!key)
			key = a[i];
		else
			return grub_err(g, -EINVAL, "search with two names (%s, %s)", key, a[i]);
	}
	if (!uuid || !key)
		return grub_err(g, -ENOTSUP, "only search --fs-uuid with a UUID is predicted");
	if (!var)
		return grub_err(g, -ENOTSUP, "search without --set only prints: not predicted");
	return found_uuid(g, key, var);
}

/* ---- menuentry / submenu (commands/menuentry.c) ---- */

static char *setparams_prefix(char **args, int n)
{
	size_t len = 11;
	char *r, *p;

	for (int i = 0; i < n; i++) {
		len += 3;	/* a space and two quotes */
		for (const char *s = args[i]; *s; s++)
			len += *s == '\'' ? 4 : 1;
	}
	if (!(r = malloc(len + 1)))
		return NULL;
	p = r + sprintf(r, "setparams");
	for (int i = 0; i < n; i++) {
		*p++ = ' ';
		*p++ = '\'';
		for (const char *s = args[i]; *s; s++)
			if (*s == '\'')
				p += sprintf(p, "'\\''");
			else
				*p++ = *s;
		*p++ = '\'';
	}
	*p++ = '\n';
	*p = '\0';
	return r;
}

static int cmd_menuentry(struct m_grub *g, char **a, int n)
{
	struct grub_ctx *c = g->ctx;
	struct grub_entry *en, *ne;
	char *pos[M_CHAIN_MAX_ARGS];
	const char *id = NULL, *body;
	int npos = 0;
	bool unrestricted = false;
	size_t blen;
	unsigned line = g->line0;

	size_t last = strlen(a[n - 1]);

	if (n < 2 || last < 2 || a[n - 1][0] != '{' || a[n - 1][last - 1] != '}')
		return grub_err(g, -ENOTSUP, "%s without a { block } is not predicted", a[0]);
	for (int i = 1; i < n - 1; i++) {
		if (!strcmp(a[i], "--class") || !strcmp(a[i], "--users") || !strcmp(a[i], "--hotkey") ||
		    !strcmp(a[i], "--id")) {
			if (i + 1 >= n - 1)
				return grub_err(g, -EINVAL, "%s %s without its value", a[0], a[i]);
			if (!strcmp(a[i], "--id"))
				id = a[i + 1];
			i++;
		} else if (!strncmp(a[i], "--id=", 5))
			id = a[i] + 5;
		else if (!strcmp(a[i], "--unrestricted"))
			unrestricted = true;
		else if (!strncmp(a[i], "--class=", 8) ||
			 !strncmp(a[i], "--users=", 8) || !strncmp(a[i], "--hotkey=", 9))
			;
		else if (!strcmp(a[i], "--source") || !strncmp(a[i], "--source=", 9))
			return grub_err(g, -ENOTSUP, "%s --source is not predicted", a[0]);
		else if (a[i][0] == '-' && a[i][1])
			return grub_err(g, -EINVAL, "%s: unknown option %s", a[0], a[i]);
		else
			pos[npos++] = a[i];
	}
	if (!npos)
		return grub_err(g, -EINVAL, "%s without a title", a[0]);
	if (c->ne >= GRUB_MAX_ENTRIES)
		return grub_err(g, -E2BIG, "more than %d menu entries", GRUB_MAX_ENTRIES);
	if (!(ne = realloc(c->e, (size_t)(c->ne + 1) * sizeof(*ne))))
		return -ENOMEM;
	c->e = ne;
	en = &c->e[c->ne];
	memset(en, 0, sizeof(*en));
	body = a[n - 1] + 1;
	blen = strlen(body) - 1;
	for (const char *p = g->base; g->at && p < g->at && p < g->end; p++)
		line += *p == '\n';
	char *pre = setparams_prefix(pos, npos);

	en->title = strdup(pos[0]);
	en->id = strdup(id ? id : pos[0]);
	en->src = pre ? malloc(strlen(pre) + blen + 1) : NULL;
	en->args = calloc((size_t)npos, sizeof(char *));
	en->argc = npos;
	en->submenu = a[0][0] == 's';
	en->restricted = !unrestricted;
	en->file = strdup(g->file ? g->file : "?");
	en->line = line ? line - 1 : 0;	/* the setparams line comes first */
	c->ne++;
	if (!en->title || !en->id || !en->src || !en->args || !en->file) {
		free(pre);
		return -ENOMEM;
	}
	sprintf(en->src, "%s%.*s", pre, (int)blen, body);
	free(pre);
	for (int i = 0; i < npos; i++)
		if (!(en->args[i] = strdup(pos[i])))
			return -ENOMEM;
	return 1;
}

/* ---- configfile / source (commands/configfile.c, normal/main.c read_config_file) ---- */

static int run_config(struct m_grub *g, const char *name, bool new_env)
{
	char *ofile = NULL, *odir = NULL, *dir = NULL, *full = NULL;
	uint8_t *d = NULL;
	size_t len;
	int e;
	bool ctx = false;

	if (g->files >= M_CHAIN_MAX_DEPTH)
		return grub_err(g, -ELOOP, "%s: files nested deeper than %d", name, M_CHAIN_MAX_DEPTH);
	if (new_env) {
		if ((e = grub_ctx_open(g)) < 0)
			return e;
		ctx = true;
	}
	if ((e = read_file(g, name, &d, &len)) < 0)
		goto out;
	if (name[0] == '(')
		full = strdup(name);
	else if (asprintf(&full, "(%s)%s", grub_var_get(g, "root"), name) < 0)
		full = NULL;
	if (!full || !(ofile = strdup(grub_var_get(g, "config_file"))) ||
	    !(odir = strdup(grub_var_get(g, "config_directory"))) || !(dir = strdup(full))) {
		e = -ENOMEM;
		goto out;
	}
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	if ((e = grub_var_set(g, "config_file", 11, full)) < 0 || (e = grub_var_set(g, "config_directory", 16, dir)) < 0)
		goto out;
	grub_var_find(g, "config_file", 11)->exported = true;
	grub_var_find(g, "config_directory", 16)->exported = true;
	g->nest++;
	g->files++;
	e = grub_run_text(g, (const char *)d, len, full, 1);
	g->files--;
	g->nest--;
	if (e < 0 || g->stopped)
		goto out;
	if ((e = grub_var_set(g, "config_file", 11, ofile)) < 0 || (e = grub_var_set(g, "config_directory", 16, odir)) < 0)
		goto out;
	if (new_env)
		e = grub_show_menu(g, false);
out:
	if (ctx)
		grub_ctx_close(g);
	free(d);
	free(ofile);
	free(odir);
	free(full);
	free(dir);
	return e < 0 ? e : 1;
}

/* ---- dispatch ---- */

/* commands that read files or leave GRUB: refused when they run */
static const char *const refused[] = {
	"background_image", "cat", "hexdump", "cmp", "acpi", "devicetree", "multiboot", "multiboot2", "module",
	"module2", "loopback", "keymap", "chainloader", "ntldr", "kfreebsd", "knetbsd", "kopenbsd", "xnu_kernel",
	"xnu_kernel64", "legacy_configfile", "extract_entries_source", "extract_entries_configfile",
	"extract_legacy_entries_source", "extract_legacy_entries_configfile", "normal", "normal_exit", "exit",
	"fwsetup", "reboot", "halt", "cryptomount", "hashsum", "md5sum", "sha1sum", "sha256sum", "sha512sum",
	"verify_detached", "trust", "distrust", "pubkey", "gfxmenu", "nativedisk", "syslinux_source",
	"syslinux_configfile", "configfile_extract", "linux16", "initrd16", "tpm2_key_protector_init",
};

/* commands with no effect on what is measured, that succeed */
static const char *const harmless[] = {
	"echo", "terminal_output", "terminal_input", "terminal", "sleep", "true", "save_env", "clear",
	"videoinfo", "lsefi", "ls", "help", "serial", "cpuid", "gettext",
};

static bool in(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

#define IN(list, s) in(list, sizeof(list) / sizeof(list[0]), s)

int grub_command(struct m_grub *g, char **a, int n, bool need_truth)
{
	const char *c = a[0];
	int e = 1;

	if (!strcmp(c, "set")) {
		for (int i = 1; i < n && e >= 0; i++)
			if (strchr(a[i], '='))
				e = set_var(g, a[i], (size_t)(strchr(a[i], '=') - a[i]), strchr(a[i], '=') + 1);
		return e < 0 ? e : 1;
	}
	if (!strcmp(c, "unset")) {
		for (int i = 1; i < n && e >= 0; i++)
			e = set_var(g, a[i], strlen(a[i]), "");
		return e < 0 ? e : 1;
	}
	if (!strcmp(c, "export")) {
		for (int i = 1; i < n && e >= 0; i++) {
			struct grub_var *v = grub_var_find(g, a[i], strlen(a[i]));

			if (!v && (e = grub_var_set(g, a[i], strlen(a[i]), "")) == 0)
				v = grub_var_find(g, a[i], strlen(a[i]));
			if (v)
				v->exported = true;
		}
		return e < 0 ? e : 1;
	}
	if (!strcmp(c, "[") || !strcmp(c, "test"))	/* test.c drops a last "]" for both */
		return cmd_test(g, a, n);
	if (!strcmp(c, "false"))
		return 0;
	if (!strcmp(c, "insmod")) {
		if (n < 2)
			return 0;
		if (g->ops->builtin_module && g->ops->builtin_module(g->ops->arg, a[1]))
			return 1;	/* already there: nothing is read */
		return grub_err(g, -ENOTSUP, "insmod %s: not built into GRUB's image, loading it from disk is not predicted",
				a[1]);
	}
	if (!strcmp(c, "loadfont")) {
		for (int i = 1; i < n; i++) {
			char name[1024];

			if (a[i][0] == '(' || a[i][0] == '/' || a[i][0] == '+') {
				if (file_kind(g, a[i]) != 1)
					return 0;
				if ((e = read_discard(g, a[i])) < 0)
					return e;
				continue;
			}
			/* Debian: a font of that name on the memdisk first (not measured) */
			snprintf(name, sizeof(name), "/fonts/%s.pf2", a[i]);
			if (g->ops->memdisk_has && g->ops->memdisk_has(g->ops->arg, name))
				continue;
			snprintf(name, sizeof(name), "%s/fonts/%s.pf2", grub_var_get(g, "prefix"), a[i]);
			if (file_kind(g, name) != 1)
				return 0;
			if ((e = read_discard(g, name)) < 0)
				return e;
		}
		return 1;
	}
	if (!strcmp(c, "search"))
		return cmd_search(g, a, n);
	if (!strcmp(c, "search.fs_uuid"))
		return n < 2 ? 0 : found_uuid(g, a[1], n > 2 ? a[2] : "root");
	if (!strcmp(c, "search.file") || !strcmp(c, "search.fs_label"))
		return grub_err(g, -ENOTSUP, "%s: which device has it first depends on the machine", c);
	if (!strcmp(c, "source") || !strcmp(c, "configfile")) {
		if (n != 2)
			return grub_err(g, -EINVAL, "%s takes one file", c);
		return run_config(g, a[1], c[0] == 'c');
	}
	if (!strcmp(c, "menuentry") || !strcmp(c, "submenu"))
		return cmd_menuentry(g, a, n);
	if (!strcmp(c, "setparams")) {
		bool same = n - 1 == g->npos;

		for (int i = 1; same && i < n; i++)
			same = !strcmp(a[i], g->pos[i - 1]);
		return same ? 1 : grub_err(g, -ENOTSUP, "setparams other than a menu entry's own is not predicted");
	}
	if (!strcmp(c, "load_env"))
		return cmd_load_env(g, a, n);
	if (!strcmp(c, "return")) {
		if (!g->scopes)
			return 0;	/* "not in function body" */
		g->returning = true;
		return n < 2 || strtol(a[1], NULL, 10) == 0;
	}
	if (!strcmp(c, "linux") || !strcmp(c, "linuxefi")) {
		char dev[128];
		const char *path;

		if (n < 2)
			return grub_err(g, -EINVAL, "linux without a file");
		if ((e = read_discard(g, a[1])) < 0 || (e = grub_split_path(g, a[1], dev, sizeof(dev), &path)) < 0)
			return e;
		if ((e = g->ops->load_kernel(g->ops->arg, dev, path)) < 0)
			return grub_err(g, e, "%s: %s", a[1], m_errmsg(e));
		if ((e = measure_kernel_cmdline(g, a + 1, n - 1)) < 0)
			return e;
		g->booted = true;
		return 1;
	}
	if (!strcmp(c, "initrd") || !strcmp(c, "initrdefi")) {
		for (int i = 1; i < n; i++)
			if ((e = read_discard(g, a[i])) < 0)
				return e;
		return 1;
	}
	if (!strcmp(c, "boot")) {
		g->stopped = true;
		return 1;
	}
	if (!strcmp(c, "play"))	/* a tune, or one argument: a file it reads */
		return n == 2 ? grub_err(g, -ENOTSUP, "play FILE is not predicted") : 1;
	if (IN(refused, c))
		return grub_err(g, -ENOTSUP, "'%s' is not predicted", c);
	if (IN(harmless, c))
		return 1;
	if (strchr(c, '=') && c[0] != '=')	/* not a command: an assignment (still measured) */
		return set_var(g, c, (size_t)(strchr(c, '=') - c), strchr(c, '=') + 1) < 0 ? -ENOMEM : 1;
	if (need_truth)
		return grub_err(g, -ENOTSUP, "whether '%s' succeeds is not predicted", c);
	return 1;
}
