// SPDX-License-Identifier: GPL-2.0
/*
 * lastboot-drain FILE: consume a tracefs pipe (trace_pipe, trace_pipe_raw)
 * to standard output with non-blocking reads, and exit once the kernel says
 * there is nothing left (EAGAIN) or the file ends.
 *
 * A reader that blocks on an empty pipe is doing its job; one that never
 * comes back from read() on a non-blocking file is a kernel bug. Reading
 * with O_NONBLOCK tells the two apart without a timeout to guess: this
 * program either ends in a fraction of a second or the guest hangs, which
 * the host sees as a boot that timed out.
 *
 * Exit status: 0 when drained, 1 on any other error (printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[65536];
	long long total = 0;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: lastboot-drain FILE\n");
		return 1;
	}
	fd = open(argv[1], O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "lastboot-drain: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno == EAGAIN))
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "lastboot-drain: read %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		if (fwrite(buf, 1, n, stdout) != (size_t)n) {
			perror("lastboot-drain: write");
			return 1;
		}
		total += n;
	}
	fprintf(stderr, "lastboot-drain: %s: %lld bytes\n", argv[1], total);
	return fflush(stdout) ? 1 : 0;
}
