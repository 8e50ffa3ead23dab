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
 *   guest_probe setcon FILE CONTEXT    set the label (raw setxattr)
 *   guest_probe runas CONTEXT PROG ARGS...
 *                                exec PROG with CONTEXT as the exec
 *                                context (/proc/self/attr/exec)
 *   guest_probe toolstack [execcon CONTEXT] PROG ARGS...
 *                                a toolstack: print "TS-CONTEXT <own>",
 *                                run PROG (in CONTEXT if given) as a child
 *                                and print "TS-RC N", or "TS-ERR <step>
 *                                <error>" when setting the context or the
 *                                exec itself fails
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static void chomp(char *s, ssize_t n)
{
	s[n > 0 ? n : 0] = '\0';
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\0'))
		s[--n] = '\0';
}

static int set_exec_context(const char *ctx)
{
	int fd = open("/proc/self/attr/exec", O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, ctx, strlen(ctx));
	int e = errno;
	close(fd);
	return n == (ssize_t)strlen(ctx) ? 0 : -e;
}

static void own_context(char *buf, size_t len)
{
	int fd = open("/proc/self/attr/current", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	if (fd >= 0)
		close(fd);
	chomp(buf, n);
	if (n <= 0)
		snprintf(buf, len, "?");
}

static int toolstack(int argc, char **argv)
{
	char buf[512];
	const char *ctx = NULL;
	if (argc >= 2 && !strcmp(argv[0], "execcon")) {
		ctx = argv[1];
		argv += 2, argc -= 2;
	}
	if (argc < 1)
		return 2;
	own_context(buf, sizeof(buf));
	printf("TS-CONTEXT %s\n", buf);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int r = ctx ? set_exec_context(ctx) : 0;
		if (r < 0) {
			printf("TS-ERR setexec %s\n", strerror(-r));
			_exit(126);
		}
		execv(argv[0], argv);
		printf("TS-ERR exec %s\n", strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) < 126)
		printf("TS-RC %d\n", WEXITSTATUS(st));
	return 0;
}

int main(int argc, char **argv)
{
	char buf[512];
	if (argc >= 3 && !strcmp(argv[1], "toolstack"))
		return toolstack(argc - 2, argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "runas")) {
		int r = set_exec_context(argv[2]);
		if (r == 0)
			execv(argv[3], argv + 3);
		printf("RUNAS-ERR %s %s\n", argv[2], strerror(r ? -r : errno));
		return 1;
	}
	if (argc == 4 && !strcmp(argv[1], "setcon")) {
		if (setxattr(argv[2], "security.selinux", argv[3], strlen(argv[3]) + 1, 0) < 0) {
			printf("SETCON-ERR %s %s\n", argv[2], strerror(errno));
			return 1;
		}
		return 0;
	}
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
