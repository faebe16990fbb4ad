// SPDX-License-Identifier: GPL-2.0
/*
 * lastboot-tsc: print the CPU's time stamp counter.  make bench stamps the
 * steps of a kexec with it: the counter runs on across a kexec (one VM,
 * nothing resets it) where every kernel clock starts again from zero.
 */
#include <stdio.h>
#include <x86intrin.h>

int main(void)
{
	printf("%llu\n", (unsigned long long)__rdtsc());
	return 0;
}
