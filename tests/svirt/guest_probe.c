// SPDX-License-Identifier: MIT
/*
 * Static helper for the SELinux guest test, independent of
 * svirt-interpose's code: reads labels with the raw xattr call.
 *
 *   guest_probe getcon FILE...   print "CON FILE LABEL" per file
 *   (run as "qemu")              print "QEMU-CONTEXT <own context>" from
 *                                /proc/self/attr/current, then try to open
 *                                each FILE in $PROBE_OPEN (':'-separated)
 *                                read-write: "OPEN FILE ok|<error>"
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static void chomp(char *s, ssize_t n)
{
	s[n > 0 ? n : 0] = '\0';
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\0'))
		s[--n] = '\0';
}

int main(int argc, char **argv)
{
	char buf[512];
	if (!strcmp(basename(argv[0]), "qemu")) {
		int fd = open("/proc/self/attr/current", O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		chomp(buf, n);
		printf("QEMU-CONTEXT %s\n", n > 0 ? buf : "?");
		printf("QEMU-ARGS");
		for (int i = 1; i < argc; i++)
			printf(" %s", argv[i]);
		printf("\n");
		const char *list = getenv("PROBE_OPEN");
		char *copy = list ? strdup(list) : NULL;
		for (char *s = copy ? strtok(copy, ":") : NULL; s; s = strtok(NULL, ":")) {
			int f = open(s, O_RDWR);
			printf("OPEN %s %s\n", s, f >= 0 ? "ok" : strerror(errno));
			if (f >= 0)
				close(f);
		}
		free(copy);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "getcon")) {
		for (int i = 2; i < argc; i++) {
			ssize_t n = getxattr(argv[i], "security.selinux", buf, sizeof(buf) - 1);
			chomp(buf, n);
			printf("CON %s %s\n", argv[i], n > 0 ? buf : strerror(errno));
		}
		return 0;
	}
	fprintf(stderr, "usage: guest_probe getcon FILE... | (as qemu) ARGS\n");
	return 2;
}
