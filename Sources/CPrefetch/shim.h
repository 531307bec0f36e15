#ifndef PROPENSITY_CPREFETCH_H
#define PROPENSITY_CPREFETCH_H

// Asks the CPU to start loading the cache line holding `address`, without waiting for it: a loop that reads
// scattered addresses it knows in advance keeps many misses in flight this way (Swift has no prefetch intrinsic).
static inline void propensity_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
