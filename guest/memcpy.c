// SPDX-License-Identifier: GPL-2.0
/*
 * lastboot-memcpy BYTES [ROUNDS]: the reference of make bench, the time to
 * read BYTES of memory once, as a memcpy into another buffer in the same
 * guest.  Both buffers are touched first so that no page fault is timed.
 * Prints one line per round: "memcpy <bytes> <ns>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t bytes;
	int rounds, i;
	char *src, *dst;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s BYTES [ROUNDS]\n", argv[0]);
		return 2;
	}
	bytes = strtoull(argv[1], NULL, 0);
	rounds = argc > 2 ? atoi(argv[2]) : 5;
	src = malloc(bytes);
	dst = malloc(bytes);
	if (!bytes || rounds < 1 || !src || !dst) {
		fprintf(stderr, "%s: cannot allocate 2 x %zu bytes\n", argv[0], bytes);
		return 1;
	}
	memset(src, 0x5a, bytes);
	memset(dst, 0xa5, bytes);
	for (i = 0; i < rounds; i++) {
		long long t0 = now_ns();

		memcpy(dst, src, bytes);
		printf("memcpy %zu %lld\n", bytes, now_ns() - t0);
		/* keep the copy from being optimised away */
		src[i % bytes] ^= dst[(i * 4099) % bytes];
	}
	return 0;
}
