// SPDX-License-Identifier: GPL-2.0
/*
 * firsttouch ROUNDS: what the first touch of a page costs a process on this
 * host, as QEMU's guest RAM sees it (make bench, figure 9).  A shared file
 * mapping in /dev/shm is populated with MADV_POPULATE_WRITE, as QEMU's
 * prealloc=on does; then each round copies 8 MiB between two parts of it not
 * touched before, and copies the same again.  Prints one line per round:
 * "firsttouch <bytes> <first ns> <second ns>".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define PART (8UL << 20)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	char path[64];
	size_t size;
	char *m;
	int fd, i;

	if (rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: %s ROUNDS (1-64)\n", argv[0]);
		return 2;
	}
	size = 2 * PART * rounds;
	snprintf(path, sizeof(path), "/dev/shm/lastboot-firsttouch-%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || unlink(path) || ftruncate(fd, size)) {
		perror(path);
		return 1;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED || madvise(m, size, MADV_POPULATE_WRITE)) {
		perror("mmap/madvise(MADV_POPULATE_WRITE)");
		return 1;
	}
	for (i = 0; i < rounds; i++) {
		char *dst = m + 2 * PART * i, *src = dst + PART;
		long long t0, t1, t2;

		t0 = now_ns();
		memcpy(dst, src, PART);
		t1 = now_ns();
		memcpy(dst, src, PART);
		t2 = now_ns();
		printf("firsttouch %lu %lld %lld\n", PART, t1 - t0, t2 - t1);
	}
	return 0;
}
