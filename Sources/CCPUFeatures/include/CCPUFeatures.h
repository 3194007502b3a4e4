#ifndef VIGIL_CCPUFEATURES_H
#define VIGIL_CCPUFEATURES_H

/// 1 when this CPU and OS run AVX-512 code (AVX512F, BW, DQ and VL, with the zmm state enabled by the OS),
/// else 0. Non-x86 builds always return 0.
int vigil_cpu_has_avx512(void);

/// Asks the CPU to bring the cache line holding `p` into L1 ahead of its use: a hint, which never faults.
static inline void vigil_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
