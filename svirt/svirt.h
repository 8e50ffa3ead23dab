/* SPDX-License-Identifier: MIT */
#ifndef SVIRT_H
#define SVIRT_H

/*
 * svirt-interpose: gives each QEMU instance its own SELinux MCS category
 * (or category pair), labels the VM's writable disks with it and execs QEMU
 * in the matching context.  Internal interfaces; see
 * docs/svirt-interpose.md for the design and man/svirt-interpose.8.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The MCS policy Debian ships has 1024 categories, c0..c1023. */
#define SVIRT_CAT_MAX 1023
/* Xen's DOMID_FIRST_RESERVED is 0x7FF0: valid domids are below it. */
#define SVIRT_DOMID_MAX 0x7FEF
/* SELinux contexts we build or read are at most this long (with NUL). */
#define SVIRT_CTX_MAX 256
/* A range string "s0:cNNNN,cNNNN". */
#define SVIRT_RANGE_MAX 32
/* Paths: XenStore absolute paths are limited to 3072 bytes by xs_wire.h;
 * file paths we label by PATH_MAX. */
#define SVIRT_PATH_MAX 4096
/* Config file: at most 64 KiB, lines of at most 1024 bytes. */
#define SVIRT_CONF_MAX (64 * 1024)
#define SVIRT_CONF_LINE_MAX 1024
/* At most this many disks per VM (Xen's vbd limit is far lower in practice). */
#define SVIRT_DISKS_MAX 256

enum svirt_store { SVIRT_STORE_XENSTORE, SVIRT_STORE_DIR };
enum svirt_disks { SVIRT_DISKS_AUTO, SVIRT_DISKS_XENSTORE, SVIRT_DISKS_ARGS, SVIRT_DISKS_NONE };
/* SVIRT_DOMID_GIVEN: the --domid option (QEMU/KVM has no domain id
 * argument of its own); it overrides domid-arg. */
enum svirt_domid_mode { SVIRT_DOMID_AUTO, SVIRT_DOMID_XEN_DOMID, SVIRT_DOMID_D, SVIRT_DOMID_POS,
			SVIRT_DOMID_GIVEN };
/* How a single category is written to XenStore's selinux-mcs: the bare
 * number the original interposer writes and reads ("5"), or the range
 * ("s0:c5").  Pairs are always written as a range. */
enum svirt_mcs_format { SVIRT_MCS_NUMBER, SVIRT_MCS_RANGE };
/* What to do when the domain already holds a label. */
enum svirt_existing { SVIRT_EXISTING_REUSE, SVIRT_EXISTING_REFUSE };

struct svirt_config {
	char qemu[SVIRT_PATH_MAX];
	enum svirt_domid_mode domid_mode;
	int domid_pos;                  /* 1-based, for SVIRT_DOMID_POS */
	unsigned domid_given;           /* for SVIRT_DOMID_GIVEN */
	enum svirt_store store;
	enum svirt_disks disks;
	char state_dir[SVIRT_PATH_MAX];
	unsigned cat_lo, cat_hi;        /* inclusive, 1 <= lo < hi <= 1023 */
	bool pairs;
	bool refuse_if_disabled;
	enum svirt_mcs_format mcs_format;
	enum svirt_existing existing;
	bool close_fds;                 /* close descriptors above 2 before exec */
	bool clear_env;                 /* exec QEMU with an empty environment */
};

/* config.c */
void svirt_config_defaults(struct svirt_config *c);
/* Parse key=value text (see docs); @name names the file in messages. */
int svirt_config_parse(struct svirt_config *c, const char *text, size_t len, const char *name);
/* Read and parse @path; -ENOENT untouched when @optional and missing. */
int svirt_config_load(struct svirt_config *c, const char *path, bool optional);

/* args.c */
/* Parse a decimal domid (no sign, no leading zeros, <= SVIRT_DOMID_MAX). */
int svirt_parse_domid(const char *s, unsigned *ret_domid);
/* Find the domid in QEMU's arguments @qargv[0..qargc) (qargv[0] is the
 * first argument, not the program name). */
int svirt_find_domid(const struct svirt_config *c, int qargc, char *const *qargv,
		     unsigned *ret_domid);

/* mcs.c: the category space and the uniform choice. */
typedef int (*svirt_rng_fn)(void *ctx, void *buf, size_t len);
int svirt_rng_getrandom(void *ctx, void *buf, size_t len);
/* Uniform in [0, bound) by rejection sampling (no modulo bias); bound >= 1. */
int svirt_uniform(svirt_rng_fn rng, void *ctx, uint32_t bound, uint32_t *ret);

struct svirt_mcs {
	unsigned lo, hi;
	bool pairs;
	uint32_t size;          /* number of labels in the space */
	uint32_t used;          /* how many are marked in use */
	uint8_t *bitmap;        /* one bit per label */
};
int svirt_mcs_init(struct svirt_mcs *m, unsigned lo, unsigned hi, bool pairs);
void svirt_mcs_free(struct svirt_mcs *m);
/* Index of a label (single: a == b ignored; pair: a < b) or -ERANGE. */
int64_t svirt_mcs_index(const struct svirt_mcs *m, unsigned a, unsigned b);
void svirt_mcs_label(const struct svirt_mcs *m, uint32_t idx, unsigned *ret_a, unsigned *ret_b);
/* Mark a range string ("s0:c5" / "s0:c5,c9") in use; out-of-space ranges
 * are ignored (return 0), malformed ones give -EINVAL. */
int svirt_mcs_mark_range(struct svirt_mcs *m, const char *range);
bool svirt_mcs_in_use(const struct svirt_mcs *m, uint32_t idx);
/* Choose a free label uniformly among the free ones; -ENOSPC if none. */
int svirt_mcs_choose(const struct svirt_mcs *m, svirt_rng_fn rng, void *ctx, uint32_t *ret_idx);
/* "s0:c5" or "s0:c5,c9" */
int svirt_mcs_range_str(const struct svirt_mcs *m, uint32_t idx, char *buf, size_t len);
/* Parse "s0:cA" or "s0:cA,cB" (A < B) strictly. */
int svirt_range_parse(const char *range, unsigned *ret_a, unsigned *ret_b, bool *ret_pair);
/* A stored label in either form: a bare category number "A" (what the
 * original interposer writes) or a range as svirt_range_parse(); the
 * range form is written to @range. */
int svirt_label_value_parse(const char *v, char *range, size_t rlen);

/* context.c: user:role:type[:range] strings. */
/* Replace (or add) the range of @ctx, keeping user:role:type. */
int svirt_ctx_set_range(const char *ctx, const char *range, char *out, size_t outlen);
/* First non-empty, non-comment line of a context file (as
 * selinux_virtual_domain_context_path() names). */
int svirt_ctx_first_line(const char *text, size_t len, char *out, size_t outlen);

/* xspath.c: XenStore paths and disk specs. */
int svirt_xs_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A vbd directory entry is a decimal device number. */
bool svirt_xs_valid_devid(const char *s);
/* A backend path must be absolute under /local/domain/, without "//",
 * "." or ".." components. */
bool svirt_xs_valid_backend(const char *s);
/* Strip "type:" prefixes ("aio:", "vhd:", "tap2:tapdisk:aio:") and return a
 * pointer into @params to an absolute path, or NULL. */
const char *svirt_strip_type_prefix(const char *params);

/* disks.c */
struct svirt_disk {
	char path[SVIRT_PATH_MAX];
	char origin[160];  /* which key or argument named it, for messages */
};
struct svirt_disklist {
	struct svirt_disk *d;
	size_t n;
};
void svirt_disklist_free(struct svirt_disklist *l);
int svirt_disklist_add(struct svirt_disklist *l, const char *path, const char *origin);
/* Writable disks from QEMU's -drive/-hdX arguments. */
int svirt_disks_from_args(int qargc, char *const *qargv, struct svirt_disklist *l);

/* xs.c: XenStore access through libxenstore. */
struct xs_handle;
int svirt_xs_open(struct xs_handle **ret);
void svirt_xs_close(struct xs_handle *h);
int svirt_xs_disks(struct xs_handle *h, unsigned domid, struct svirt_disklist *l);
/* @ret_reused: the domain already held @range (existing-label=reuse). */
int svirt_xs_reserve(struct xs_handle *h, const struct svirt_config *c, unsigned domid,
		     svirt_rng_fn rng, void *ctx, bool dry_run, char *range, size_t rlen,
		     bool *ret_reused);
int svirt_xs_release(struct xs_handle *h, unsigned domid, char *range, size_t rlen);

/* statedir.c: reservations as O_EXCL files under a flock. */
int svirt_dir_reserve(const struct svirt_config *c, unsigned domid, svirt_rng_fn rng,
		      void *ctx, bool dry_run, char *range, size_t rlen, bool *ret_reused);
int svirt_dir_record_disks(const struct svirt_config *c, unsigned domid,
			   const struct svirt_disklist *l);
int svirt_dir_release(const struct svirt_config *c, unsigned domid, char *range,
		      size_t rlen, struct svirt_disklist *ret_disks);

/* label.c: file labels and the exec context through libselinux. */
int svirt_label_file(const char *path, const char *range, char *newctx, size_t nlen);
int svirt_qemu_context(const char *range, char *out, size_t outlen);

#endif
