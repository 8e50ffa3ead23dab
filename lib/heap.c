// SPDX-License-Identifier: MIT
/* Heap tuning for long-running verifiers: include/measured/heap.h says why. */
#include <malloc.h>
#include "measured/heap.h"

void m_heap_retain(void)
{
	/* setting the trim threshold turns off glibc's sliding mmap threshold,
	 * so that is set too: blocks up to 4 MB (an evidence document with a
	 * long IMA log) come from the heap rather than an mmap() and munmap() */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}
