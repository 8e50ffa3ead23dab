// SPDX-License-Identifier: MIT
/*
 * A minimal XenStore server for the SELinux guest test, static, so that
 * it runs in a busybox initramfs as xenstored_t (xs_server.py needs a
 * Python the guest does not have).  Wire format of xen/io/xs_wire.h: a
 * header of four little-endian u32 (type, req_id, tx_id, len), then len
 * bytes.  One client at a time; transactions are accepted and always
 * commit (the guest test starts one launch at a time).
 *
 *   xs_stub SOCKET PRELOAD   PRELOAD: lines "PATH VALUE" (VALUE may be empty)
 *
 * Every WRITE and RM is printed as "XS-WRITE PATH VALUE" / "XS-RM PATH".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { XS_DIRECTORY = 1, XS_READ = 2, XS_GET_PERMS = 3, XS_TX_START = 6, XS_TX_END = 7,
       XS_WRITE = 11, XS_MKDIR = 12, XS_RM = 13, XS_SET_PERMS = 14, XS_ERROR = 16,
       XS_RESET_WATCHES = 21 };
#define PAYLOAD_MAX 4096
#define ENTRIES_MAX 1024
#define STR_MAX 256

static struct { char path[STR_MAX], value[STR_MAX]; int used; } st[ENTRIES_MAX];

static int find(const char *p)
{
	for (int i = 0; i < ENTRIES_MAX; i++)
		if (st[i].used && !strcmp(st[i].path, p))
			return i;
	return -1;
}

static int set1(const char *p, const char *v, size_t vlen)
{
	int i = find(p);
	if (strlen(p) >= STR_MAX || vlen >= STR_MAX)
		return -ENOSPC;
	for (int k = 0; i < 0 && k < ENTRIES_MAX; k++)
		if (!st[k].used)
			i = k;
	if (i < 0)
		return -ENOSPC;
	snprintf(st[i].path, STR_MAX, "%s", p);
	memcpy(st[i].value, v, vlen);
	st[i].value[vlen] = '\0';
	st[i].used = 1;
	return 0;
}

/* Write @p and create its missing parents with empty values. */
static int set(const char *p, const char *v, size_t vlen)
{
	char parent[STR_MAX];
	for (const char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		if ((size_t)(s - p) >= STR_MAX)
			return -ENOSPC;
		memcpy(parent, p, (size_t)(s - p));
		parent[s - p] = '\0';
		if (find(parent) < 0 && set1(parent, "", 0) < 0)
			return -ENOSPC;
	}
	return set1(p, v, vlen);
}

static int under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && path[n] == '/';
}

static int read_full(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v, b[1] = (unsigned char)(v >> 8), b[2] = (unsigned char)(v >> 16),
	b[3] = (unsigned char)(v >> 24);
}

static void reply(int fd, uint32_t type, const unsigned char *hdr, const char *data, size_t len)
{
	unsigned char h[16];
	put32(h, type);
	memcpy(h + 4, hdr + 4, 8);
	put32(h + 12, (uint32_t)len);
	if (write(fd, h, 16) != 16 || (len && write(fd, data, len) != (ssize_t)len))
		perror("xs_stub: write");
}

static void serve(int fd)
{
	unsigned char hdr[16];
	char body[PAYLOAD_MAX + 1], out[PAYLOAD_MAX];
	while (read_full(fd, hdr, 16) == 0) {
		uint32_t type = le32(hdr), len = le32(hdr + 12);
		if (len > PAYLOAD_MAX || read_full(fd, body, len) < 0)
			return;
		body[len] = '\0';
		const char *p = body; /* the first string: a path (or nothing) */
		size_t n = 0;
		int i;
		switch (type) {
		case XS_READ:
			if ((i = find(p)) < 0)
				goto enoent;
			reply(fd, type, hdr, st[i].value, strlen(st[i].value));
			break;
		case XS_DIRECTORY:
			if (find(p) < 0)
				goto enoent;
			for (i = 0; i < ENTRIES_MAX; i++) {
				const char *name = st[i].path + strlen(p) + 1;
				if (!st[i].used || !under(st[i].path, p) || strchr(name, '/'))
					continue;
				size_t k = strlen(name) + 1;
				if (n + k > sizeof(out))
					break;
				memcpy(out + n, name, k);
				n += k;
			}
			reply(fd, type, hdr, out, n);
			break;
		case XS_WRITE: {
			size_t pl = strnlen(body, len);
			if (pl == len)
				goto einval;
			if (set(p, body + pl + 1, len - pl - 1) < 0)
				goto enospc;
			printf("XS-WRITE %s %s\n", p, st[find(p)].value);
			fflush(stdout);
			reply(fd, type, hdr, "OK", 3);
			break;
		}
		case XS_MKDIR:
			if (find(p) < 0 && set(p, "", 0) < 0)
				goto enospc;
			reply(fd, type, hdr, "OK", 3);
			break;
		case XS_RM:
			if (find(p) < 0)
				goto enoent;
			for (i = 0; i < ENTRIES_MAX; i++)
				if (st[i].used && (!strcmp(st[i].path, p) || under(st[i].path, p)))
					st[i].used = 0;
			printf("XS-RM %s\n", p);
			fflush(stdout);
			reply(fd, type, hdr, "OK", 3);
			break;
		case XS_TX_START:
			reply(fd, type, hdr, "1", 2);
			break;
		case XS_TX_END:
		case XS_SET_PERMS:
		case XS_RESET_WATCHES:
			reply(fd, type, hdr, "OK", 3);
			break;
		case XS_GET_PERMS:
			reply(fd, type, hdr, "n0", 3);
			break;
		default:
			reply(fd, XS_ERROR, hdr, "ENOSYS", 7);
		}
		continue;
enoent:
		reply(fd, XS_ERROR, hdr, "ENOENT", 7);
		continue;
einval:
		reply(fd, XS_ERROR, hdr, "EINVAL", 7);
		continue;
enospc:
		reply(fd, XS_ERROR, hdr, "ENOSPC", 7);
	}
}

int main(int argc, char **argv)
{
	char line[2 * STR_MAX];
	if (argc != 3) {
		fprintf(stderr, "usage: xs_stub SOCKET PRELOAD\n");
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	set1("/", "", 0);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *sp = strchr(line, ' ');
		const char *v = sp ? sp + 1 : "";
		if (sp)
			*sp = '\0';
		if (line[0] == '/' && set(line, v, strlen(v)) < 0) {
			fprintf(stderr, "xs_stub: store full\n");
			return 1;
		}
	}
	fclose(f);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xs_stub: socket path too long\n");
		return 1;
	}
	strcpy(sa.sun_path, argv[1]);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(argv[1]);
	const char *step = s < 0 ? "socket"
			   : bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? "bind"
			   : listen(s, 8) < 0 ? "listen" : NULL;
	if (step) {
		fprintf(stderr, "xs_stub: %s: %s\n", step, strerror(errno));
		return 1;
	}
	printf("XS-READY\n");
	fflush(stdout);
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("xs_stub: accept");
			return 1;
		}
		serve(c);
		close(c);
	}
}
