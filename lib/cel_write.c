// SPDX-License-Identifier: MIT
/*
 * Writer of our measurement log: TCG CEL-JSON records (Canonical Event Log
 * Format, section 5) framed as RFC 7464 JSON text sequences, appended to
 * the same file systemd-pcrextend appends to and under the same protocol:
 * an exclusive flock() on the file while appending, mode 0600 (anyone who
 * can open the file can lock it), and the S_ISVTX bit set while a writer
 * is between extending and logging (a mark already set stays set: the log
 * is then known to miss a record).
 *
 * No JSON library here: measured-init links this statically.  Records are
 * formatted with the bounded writer; the existing log is only skimmed for
 * the last record number (structure, strings, and the top-level "recnum").
 * docs/cel.md has the format and the crash-safety argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "measured/buf.h"
#include "measured/cel.h"
#include "measured/error.h"
#include "measured/pcrs.h"

#define RS 0x1e

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct mbuf_reader *r)
{
	while (mbr_remaining(r) && is_ws(r->data[r->off]))
		mbr_u8(r);
}

enum chunk { CHUNK_RECORD, CHUNK_CUT, CHUNK_BAD };

/* A string's rest after its opening quote; false if the input ends inside it. */
static bool skim_string(struct mbuf_reader *r)
{
	while (mbr_remaining(r)) {
		uint8_t c = mbr_u8(r);

		if (c == '\\') {
			if (!mbr_remaining(r))
				return false;
			mbr_u8(r);
		} else if (c == '"') {
			return true;
		}
	}
	return false;
}

/* After the key "recnum": ':' and an unsigned decimal number. */
static enum chunk skim_recnum(struct mbuf_reader *r, uint64_t *ret)
{
	uint64_t v = 0;
	size_t digits = 0;

	skip_ws(r);
	if (!mbr_remaining(r))
		return CHUNK_CUT;
	if (mbr_u8(r) != ':')
		return CHUNK_BAD;
	skip_ws(r);
	while (mbr_remaining(r) && r->data[r->off] >= '0' && r->data[r->off] <= '9') {
		v = v * 10 + (mbr_u8(r) - '0');
		if (v > UINT32_MAX)
			return CHUNK_BAD;
		digits++;
	}
	if (!mbr_remaining(r))
		return CHUNK_CUT;
	if (!digits)
		return CHUNK_BAD;
	/* "1.5", "1e3": not an unsigned integer, which the reader refuses as well */
	if (!is_ws(r->data[r->off]) && r->data[r->off] != ',' && r->data[r->off] != '}')
		return CHUNK_BAD;
	*ret = v;
	return CHUNK_RECORD;
}

/*
 * One RS-framed chunk: a whole object (CHUNK_RECORD, with its top-level
 * "recnum" if it has one), a prefix of an object (CHUNK_CUT: a crash), or
 * neither.  Only the structure is checked; the reader checks the rest.
 */
static enum chunk skim_chunk(struct mbuf_reader *r, bool *ret_has, uint64_t *ret_recnum)
{
	size_t depth = 1;
	bool key_next = true;

	*ret_has = false;
	skip_ws(r);
	if (!mbr_remaining(r))
		return CHUNK_CUT;
	if (mbr_u8(r) != '{')
		return CHUNK_BAD;
	while (mbr_remaining(r)) {
		uint8_t c = mbr_u8(r);
		size_t kstart = r->off;

		switch (c) {
		case '"':
			if (!skim_string(r))
				return CHUNK_CUT;
			if (depth == 1 && key_next) {
				key_next = false;
				if (r->off - 1 - kstart == 6 && !memcmp(r->data + kstart, "recnum", 6)) {
					enum chunk k = skim_recnum(r, ret_recnum);

					if (k != CHUNK_RECORD)
						return k;
					*ret_has = true;
				}
			}
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0) {
				skip_ws(r);
				return mbr_remaining(r) ? CHUNK_BAD : CHUNK_RECORD;
			}
			break;
		case ',':
			if (depth == 1)
				key_next = true;
			break;
		default:
			break;
		}
	}
	return CHUNK_CUT;
}

/* The next record number and whether the file ends inside a record. */
static int skim_log(const char *path, const uint8_t *data, size_t len, struct m_cel_writer *w)
{
	struct mbuf_reader all;
	uint32_t prev = 0;
	bool have = false;

	mbr_init(&all, data, len);
	skip_ws(&all);
	if (mbr_remaining(&all) && all.data[all.off] != RS)
		return m_err(-EBADMSG, "%s: not a JSON text sequence (byte 0x%02x at offset %zu), not appending",
			     path, all.data[all.off], all.off);
	while (mbr_remaining(&all)) {
		size_t start = all.off + 1, end;
		const uint8_t *next;
		struct mbuf_reader chunk;
		uint64_t recnum = 0;
		bool has;

		mbr_u8(&all);	/* RS */
		next = memchr(all.data + start, RS, len - start);
		end = next ? (size_t)(next - all.data) : len;
		if (!mbr_sub(&all, end - start, &chunk))
			return -EIO;
		switch (skim_chunk(&chunk, &has, &recnum)) {
		case CHUNK_CUT:
			continue;	/* a crash's leftover: readers skip it, it has no number */
		case CHUNK_BAD:
			return m_err(-EBADMSG, "%s: record at offset %zu is not a JSON object, not appending",
				     path, start);
		case CHUNK_RECORD:
			break;
		}
		if (has && have && recnum <= prev)
			return m_err(-EBADMSG, "%s: record at offset %zu: recnum %llu after %u, not appending",
				     path, start, (unsigned long long)recnum, prev);
		if (!has && have && prev == UINT32_MAX)
			return m_err(-EOVERFLOW, "%s: record numbers exhausted", path);
		prev = has ? (uint32_t)recnum : have ? prev + 1 : 0;
		have = true;
	}
	if (have && prev == UINT32_MAX)
		return m_err(-EOVERFLOW, "%s: record numbers exhausted", path);
	w->have_records = have;
	w->next_recnum = have ? prev + 1 : 0;
	w->need_newline = len > 0 && data[len - 1] != '\n';
	return 0;
}

/* Length of the valid UTF-8 sequence at @p (RFC 3629, section 4), 0 if invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* the second byte's range excludes overlong forms, surrogates and > U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/*
 * A JSON string (RFC 8259, section 7): quote and backslash escaped, control
 * characters and DEL as escapes, valid UTF-8 as it is, and every byte that
 * is not part of valid UTF-8 as \u00XX, so the file is always valid UTF-8
 * (strict readers refuse anything else) and no byte is dropped.
 */
static void json_string(struct mbuf_writer *w, const char *s)
{
	static const char hexd[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), i = 0;

	mbw_u8(w, '"');
	while (i < n) {
		uint8_t c = p[i];
		size_t l;

		if (c == '"' || c == '\\') {
			mbw_u8(w, '\\');
			mbw_u8(w, c);
		} else if (c == '\n') {
			mbw_str(w, "\\n");
		} else if (c == '\r') {
			mbw_str(w, "\\r");
		} else if (c == '\t') {
			mbw_str(w, "\\t");
		} else if (c >= 0x20 && c < 0x7f) {
			mbw_u8(w, c);
		} else if (c >= 0x80 && (l = utf8_len(p + i, n - i)) > 0) {
			mbw_bytes(w, p + i, l);
			i += l;
			continue;
		} else {
			char esc[7] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15], 0 };

			mbw_str(w, esc);
		}
		i++;
	}
	mbw_u8(w, '"');
}

static int format_record(struct mbuf_writer *w, const struct m_cel_writer *cw, unsigned pcr,
			 const struct m_digests *d, const char *description)
{
	char num[64];
	size_t text;
	bool first = true;

	/* a cut record before us gets its end of line, so ours starts on a clean RS */
	if (cw->need_newline)
		mbw_u8(w, '\n');
	mbw_u8(w, RS);
	text = w->len;
	snprintf(num, sizeof(num), "{\"recnum\":%u,\"pcr\":%u,\"digests\":[", cw->next_recnum, pcr);
	mbw_str(w, num);
	for_each_bank(b, d->banks) {
		const struct m_bank_info *bi = m_bank_info(b);
		char hex[2 * M_DIGEST_MAX + 1];

		m_hex(d->d[b], bi->size, hex);
		mbw_str(w, first ? "{\"hashAlg\":\"" : ",{\"hashAlg\":\"");
		mbw_str(w, bi->name);
		mbw_str(w, "\",\"digest\":\"");
		mbw_str(w, hex);
		mbw_str(w, "\"}");
		first = false;
	}
	mbw_str(w, "],\"content_type\":\"" M_CEL_CONTENT_TYPE "\",\"content\":{");
	if (description) {
		mbw_str(w, "\"description\":");
		json_string(w, description);
	}
	mbw_str(w, "}}");
	if (!mbw_ok(w) || w->len - text > M_CEL_MAX_RECORD)
		return m_err(-E2BIG, "CEL record over the limit of %u bytes (description too long)",
			     M_CEL_MAX_RECORD);
	mbw_u8(w, '\n');
	return mbw_ok(w) ? 0 : -ENOMEM;
}

static void mkdir_parents(const char *path)
{
	char *p = strdup(path);

	if (!p)
		return;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		(void)mkdir(p, 0755);	/* EEXIST is fine; other errors show in open() */
		*s = '/';
	}
	free(p);
}

static int read_all(int fd, const char *path, size_t size, uint8_t **ret)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t done = 0;

	if (!buf)
		return -ENOMEM;
	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = m_err(-errno, "%s: read: %s", path, strerror(errno));

			free(buf);
			return r;
		}
		if (n == 0)
			break;	/* cannot shrink under our lock, but stay safe */
		done += (size_t)n;
	}
	if (done != size) {
		free(buf);
		return m_err(-EIO, "%s: short read", path);
	}
	*ret = buf;
	return 0;
}

int m_cel_open(const char *path, struct m_cel_writer *ret)
{
	struct m_cel_writer w = { .fd = -1 };
	uint8_t *data = NULL;
	struct stat st;
	int r;

	/* systemd's open flags and mode: 0600, since whoever can open it can also lock it */
	w.fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (w.fd < 0 && errno == ENOENT) {
		mkdir_parents(path);
		w.fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	}
	if (w.fd < 0)
		return m_err(-errno, "%s: %s", path, strerror(errno));
	while ((r = flock(w.fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = m_err(-errno, "%s: lock: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(w.fd, &st) < 0) {
		r = m_err(-errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = m_err(-EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > M_LOG_MAX_SIZE) {
		r = m_err(-EFBIG, "%s: %llu bytes, over the limit of %u, not appending", path,
			  (unsigned long long)st.st_size, M_LOG_MAX_SIZE);
		goto out;
	}
	r = read_all(w.fd, path, (size_t)st.st_size, &data);
	if (r < 0)
		goto out;
	r = skim_log(path, data, (size_t)st.st_size, &w);
	if (r < 0)
		goto out;
	w.path = strdup(path);
	if (!w.path) {
		r = -ENOMEM;
		goto out;
	}
	w.mode = st.st_mode & 07777 & ~(unsigned)S_ISVTX;
	w.was_dirty = st.st_mode & S_ISVTX;
	/* best effort, as systemd: a failed chmod loses the mark, not the record */
	if (!w.was_dirty)
		(void)fchmod(w.fd, w.mode | S_ISVTX);
	*ret = w;
	r = 0;
out:
	free(data);
	if (r < 0)
		close(w.fd);
	return r;
}

int m_cel_write(struct m_cel_writer *w, unsigned pcr, const struct m_digests *d, const char *description)
{
	struct mbuf_writer b;
	size_t done = 0;
	int r;

	if (pcr >= M_PCR_COUNT)
		return m_err(-EINVAL, "%s: PCR %u out of range 0-%u", w->path, pcr, M_PCR_COUNT - 1);
	if (!d->banks || (d->banks & ~M_BANKS_ALL))
		return m_err(-EINVAL, "%s: no digest to log", w->path);
	if (w->have_records && w->next_recnum == 0)
		return m_err(-EOVERFLOW, "%s: record numbers exhausted", w->path);
	mbw_init_heap(&b, M_CEL_MAX_RECORD + 3);
	r = format_record(&b, w, pcr, d, description);
	if (r < 0)
		goto out;
	/* one write(): O_APPEND puts it at the end; a short write only on a full disk or a signal */
	while (done < b.len) {
		ssize_t n = write(w->fd, b.data + done, b.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = m_err(-errno, "%s: write: %s", w->path, strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	if (done > 0)
		w->need_newline = b.data[done - 1] != '\n';
	if (r == 0 && fsync(w->fd) < 0)
		r = m_err(-errno, "%s: fsync: %s", w->path, strerror(errno));
	if (r == 0) {
		w->have_records = true;
		w->next_recnum++;
	}
out:
	mbw_free(&b);
	return r;
}

int m_cel_close(struct m_cel_writer *w)
{
	int r = 0;

	if (w->fd < 0)
		return 0;
	if (fsync(w->fd) < 0)
		r = m_err(-errno, "%s: fsync: %s", w->path, strerror(errno));
	/* a mark found set says "a record is missing": keep it */
	if (!w->was_dirty && fchmod(w->fd, w->mode) == 0)
		(void)fsync(w->fd);
	close(w->fd);	/* releases the lock */
	w->fd = -1;
	free(w->path);
	w->path = NULL;
	return r;
}

int m_cel_append(const char *path, unsigned pcr, const struct m_digests *d, const char *description)
{
	struct m_cel_writer w;
	int r, r2;

	r = m_cel_open(path, &w);
	if (r < 0)
		return r;
	r = m_cel_write(&w, pcr, d, description);
	r2 = m_cel_close(&w);
	return r < 0 ? r : r2;
}
