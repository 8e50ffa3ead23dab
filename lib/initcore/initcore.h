/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_INITCORE_H
#define MEASURED_INITCORE_H
/*
 * The parts of measured-init that need no system: TPM 2.0 command
 * marshalling for the three commands the init sends, kernel command line
 * parsing, and modules.dep ordering.  They live in libmeasured so unit
 * tests and `measured mkinitramfs` share them; measured-init links them
 * statically and nothing here pulls in OpenSSL, tpm2-tss or json-c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "measured/buf.h"
#include "measured/digest.h"

/* ---- TPM 2.0 wire (TPM 2.0 Library Part 3, big-endian) ---- */

/* Largest command or response the init sends or accepts: the kernel's own
 * TPM buffers are one page, and no response to our three commands is near it. */
#define MI_TPM_BUF_MAX 4096u
#define MI_PCR_MAX 23u


/** TPM2_GetCapability(TPM_CAP_PCRS) (Part 3, 30.2). */
void mi_tpm_getcap_pcrs_cmd(struct mbuf_writer *w);
/**
 * mi_tpm_getcap_pcrs_rsp() - the banks with at least one PCR allocated, as
 * a mask of enum m_bank; banks this project cannot name are counted in
 * @ret_unknown (may be NULL).
 */
int mi_tpm_getcap_pcrs_rsp(const void *rsp, size_t len, unsigned *ret_banks, unsigned *ret_unknown);
/** TPM2_PCR_Extend (Part 3, 22.2) with a TPM_RS_PW password session and an empty password. */
void mi_tpm_extend_cmd(struct mbuf_writer *w, unsigned pcr, const struct m_digests *d);
int mi_tpm_extend_rsp(const void *rsp, size_t len);
/** TPM2_PCR_Read (Part 3, 22.4) of one PCR in every bank of @banks (at most 8). */
void mi_tpm_pcrread_cmd(struct mbuf_writer *w, unsigned pcr, unsigned banks);
int mi_tpm_pcrread_rsp(const void *rsp, size_t len, unsigned pcr, unsigned banks, struct m_digests *ret);

/* ---- kernel command line ---- */

/* Longest command line accepted (the kernel's COMMAND_LINE_SIZE on x86 is 2048). */
#define MI_CMDLINE_MAX 4096u
#define MI_PATH_MAX 256u

enum mi_fail { MI_FAIL_HALT, MI_FAIL_REBOOT, MI_FAIL_SHELL };

struct mi_params {
	char root[MI_PATH_MAX];		/* /dev/..., LABEL=..., UUID=...; "" = none */
	char root_file[MI_PATH_MAX];	/* image file inside root ("" = the device itself) */
	char fstype[32];		/* "" = detect */
	char init[MI_PATH_MAX];		/* program to run in the new root */
	unsigned pcr;
	unsigned timeout;		/* seconds to wait for the device */
	bool overlay;
	enum mi_fail fail;
	bool compat;			/* measureroot rootimg= rootimgpcr= */
	bool debug;
	struct mi_verity {		/* measured.verity.*: a dm-verity root */
		bool on;		/* measured.verity.roothash= given */
		uint8_t root[M_DIGEST_MAX];
		size_t root_len;	/* bytes of root[] */
		char hash_dev[MI_PATH_MAX];	/* "" = the root device itself */
		uint64_t hash_offset;	/* veritysetup's superblock, bytes into the hash device */
		bool hash_offset_set;
		unsigned error;		/* enum m_verity_error */
	} verity;
	bool copy_ram;			/* measured.copy=ram; the default for an image file
					 * on a medium (a live image) */
	bool copy_set;			/* measured.copy= given */
};

#define MI_DEFAULT_TIMEOUT 10u

/**
 * mi_cmdline_words() - split a kernel command line as the kernel does:
 * words between blanks, double quotes group and are dropped, "--" ends
 * the kernel's parameters.  @cb gets each word (NUL-terminated, its own
 * copy); a non-zero return stops the walk and is returned.  -E2BIG for a
 * line of MI_CMDLINE_MAX bytes or more.
 */
int mi_cmdline_words(const char *cmdline, int (*cb)(char *word, void *arg), void *arg);

/**
 * mi_params_parse() - fill @ret from a kernel command line.  Every
 * measured.* value is checked; the first bad one is an error naming it
 * (the init then fails closed).  The fail action is filled in even on
 * error, so the init can honour measured.fail= when another value is bad.
 */
int mi_params_parse(const char *cmdline, struct mi_params *ret);

/* ---- modules.dep (depmod's format: "path: dep dep ...", one per line) ---- */

#define MI_MODDEP_MAX_BYTES (4u << 20)
#define MI_MODDEP_MAX_DEPS 64u
/* Debian 12's kernel has about 4,000 modules and chains under 10 deep. */
#define MI_MODDEP_MAX_MODULES 16384u
#define MI_MODDEP_MAX_DEPTH 128u

struct mi_moddep;
/** mi_moddep_parse() - parse a modules.dep text; errors name the line. */
int mi_moddep_parse(const char *text, size_t len, struct mi_moddep **ret);
void mi_moddep_free(struct mi_moddep *m);
/** mi_moddep_count() - number of modules in the file. */
size_t mi_moddep_count(const struct mi_moddep *m);
/** mi_module_name() - "virtio_blk" from "kernel/drivers/block/virtio-blk.ko" (- becomes _) into @out. */
void mi_module_name(const char *path, char *out, size_t outlen);
/**
 * mi_moddep_closure() - @names (module names, - and _ alike) and everything
 * they need, in load order (dependencies first, each once), as paths
 * relative to the modules directory into @ret_paths (a malloc'ed array of
 * pointers into @m, freed with free()).  NULL @names means every module.
 */
int mi_moddep_closure(const struct mi_moddep *m, const char *const *names, size_t n_names,
		      const char ***ret_paths, size_t *ret_n);

/* ---- file system probing (superblocks, for LABEL=/UUID= and the type) ---- */

/* Bytes of the device start probed: enough for ext's superblock (1024) and
 * the ISO 9660 primary volume descriptor (32768). */
#define MI_PROBE_LEN 34816u

struct mi_fsinfo {
	char type[16];		/* "ext4", "squashfs", "iso9660"; "" = unknown */
	char label[40];
	char uuid[40];		/* lowercase, as blkid prints it */
};
/** mi_probe() - identify the file system whose first bytes are @data. */
int mi_probe(const void *data, size_t len, struct mi_fsinfo *ret);

#endif
