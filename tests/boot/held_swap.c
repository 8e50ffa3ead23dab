// SPDX-License-Identifier: MIT
/*
 * tests/boot/held-swap.sh's driver: measured-init's held device (init/held.c)
 * on a real loop device of this kernel.  Opens DEV as the full-image mode
 * does, checks it (must pass), points the same loop device at NEWFILE with
 * LOOP_CHANGE_FD (the same name and device number, another medium: the
 * kernel raises its disk sequence number), checks again (must refuse), and
 * prints each result as "before: MESSAGE" / "after: MESSAGE".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"

int main(int argc, char **argv)
{
	struct held h;
	int err, nf;

	if (argc != 3) {
		fprintf(stderr, "usage: held-swap LOOPDEV NEWFILE\n");
		return 2;
	}
	err = held_open(argv[1], &h);
	if (err < 0) {
		printf("open: %s\n", m_errmsg(err));
		return 1;
	}
	err = held_check(&h);
	printf("before: %s\n", err < 0 ? m_errmsg(err) : "same disk");
	nf = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (nf < 0 || ioctl(h.fd, LOOP_CHANGE_FD, nf) < 0) {
		printf("swap: %s\n", strerror(errno));
		return 1;
	}
	close(nf);
	err = held_check(&h);
	printf("after: %s\n", err < 0 ? m_errmsg(err) : "same disk");
	held_close(&h);
	return 0;
}
