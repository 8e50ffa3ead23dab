/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_HEAP_H
#define MEASURED_HEAP_H

/**
 * m_heap_retain() - keep freed memory in the process for reuse.  For a
 * process that verifies document after document (`measured serve`): glibc
 * hands the top of the heap back to the kernel whenever more than 128 KB of
 * it is free, and one evidence document with a firmware log frees about
 * 200 KB, so every verification would otherwise grow the heap again and
 * fault its pages back in (a quarter of an offline verification's time on
 * the secure-boot log of bench/bench_verify.sh).  What is kept is bounded by
 * the process's own peak.
 */
void m_heap_retain(void);

#endif
