#include "binned_walk.h"

enum { group = PROPENSITY_BINNED_GROUP };

/// Bins used slots `first ..< first + 4` (fewer at the end): for each, the number of its thresholds below the row's
/// value, 0xFFFF for NaN. The block's thresholds are padded with +∞ to the same 2^m − 1 entries, so the four binary
/// searches take the same m steps, stepped together: each is a chain of dependent loads, and one alone leaves the
/// core idle.
static inline void bin4(const propensity_binned_forest *forest, int64_t first, const float *v, uint16_t *bins) {
    const int32_t *starts = forest->threshold_starts;
    const float *t[4];
    float x[4];
    uint32_t below[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        const int64_t i = first + k < forest->slot_count ? first + k : first;
        t[k] = forest->thresholds + starts[i];
        x[k] = v[forest->slots[i]];
    }
    for (uint32_t step = (uint32_t)(starts[first + 1] - starts[first] + 1) >> 1; step > 0; step >>= 1) {
        for (int k = 0; k < 4; k++)  // a select, not a branch: the comparisons are unpredictable
            below[k] += __builtin_unpredictable(t[k][below[k] + step - 1] < x[k]) ? step : 0;
    }
    for (int k = 0; k < 4 && first + k < forest->slot_count; k++)
        bins[forest->slots[first + k]] = x[k] != x[k] ? 0xFFFF : (uint16_t)below[k];
}

#if defined(__x86_64__)
#include <immintrin.h>

/// Bins every used slot with two 16-wide compares instead of a binary search: the splitters give how many whole blocks
/// of 16 thresholds lie below the value (k), the compares against block k how many of its own do. Slots are
/// independent, so their compares overlap; the search's chain of dependent loads is gone.
__attribute__((target("avx512f,popcnt"))) static void bin_wide_avx512(const propensity_binned_forest *forest,
                                                                      const float *v, uint16_t *bins) {
    for (int64_t i = 0; i < forest->slot_count; i++) {
        const float x = v[forest->slots[i]];
        const float *w = forest->wide + forest->wide_starts[i];
        const __m512 value = _mm512_set1_ps(x);
        const int k = __builtin_popcount(_mm512_cmp_ps_mask(_mm512_loadu_ps(w), value, _CMP_LT_OQ));
        const int below = __builtin_popcount(_mm512_cmp_ps_mask(_mm512_loadu_ps(w + 16 + 16 * k), value, _CMP_LT_OQ));
        bins[forest->slots[i]] = x != x ? 0xFFFF : (uint16_t)(16 * k + below);
    }
}

/// How many of the 16 floats at `w` are below `value`: two 8-wide compares, their sign masks side by side.
__attribute__((target("avx2,popcnt"))) static inline int below16_avx2(const float *w, __m256 value) {
    const int low = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(w), value, _CMP_LT_OQ));
    const int high = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(w + 8), value, _CMP_LT_OQ));
    return __builtin_popcount((unsigned)(low | high << 8));
}

/// The same tables and bins as `bin_wide_avx512`, each 16-wide compare done as two 8-wide ones.
__attribute__((target("avx2,popcnt"))) static void bin_wide_avx2(const propensity_binned_forest *forest,
                                                                 const float *v, uint16_t *bins) {
    for (int64_t i = 0; i < forest->slot_count; i++) {
        const float x = v[forest->slots[i]];
        const float *w = forest->wide + forest->wide_starts[i];
        const __m256 value = _mm256_set1_ps(x);
        const int k = below16_avx2(w, value);
        const int below = below16_avx2(w + 16 + 16 * k, value);
        bins[forest->slots[i]] = x != x ? 0xFFFF : (uint16_t)(16 * k + below);
    }
}
#else
static void bin_wide_avx512(const propensity_binned_forest *forest, const float *v, uint16_t *bins) {
    (void)forest; (void)v; (void)bins;
    __builtin_trap();
}
static void bin_wide_avx2(const propensity_binned_forest *forest, const float *v, uint16_t *bins) {
    (void)forest; (void)v; (void)bins;
    __builtin_trap();
}
#endif

/// Node h of tree i sits at a = 8 h + i; its child 2h + 1 + right at 2a − i + 8 + 8 right. Each chain is one
/// register, and its tree's offset a constant. A node's two halves are read as 16-bit values (no shifts or masks).
#define STEP(i)                                                                                   \
    {                                                                                             \
        uint64_t left = 2 * a##i + (group - i);                                                   \
        __asm__("" : "+r"(left)); /* apart from the comparison: one add after it, not three */    \
        a##i = left + group * (uint64_t)(bins[halves[2 * a##i + 1]] >= halves[2 * a##i]);       \
        __asm__("" : "+r"(a##i)); /* each chain in a register: without it clang spills them */    \
    }

/// Adds `count` leaf values to `margin` one by one, in tree order.
static inline double add_leaves(double margin, const double *values, int count) {
    for (int i = 0; i < count; i++) margin += values[i];
    return margin;
}

double propensity_binned_row(const propensity_binned_forest *forest, const float *v, uint16_t *bins, double margin) {
    if (forest->wide && forest->wide_avx512) {
        bin_wide_avx512(forest, v, bins);
    } else if (forest->wide) {
        bin_wide_avx2(forest, v, bins);
    } else {
        for (int64_t i = 0; i < forest->slot_count; i += 4) bin4(forest, i, v, bins);
    }
    const int64_t groups = (forest->trees + group - 1) / group;
    // The previous group's leaf values: added after the next group's walk, when their loads are long done, so the
    // adds (one chain) do not hold the walk up (measured 1–2 % faster).
    double pending[group];
    int pending_count = 0;
    for (int64_t g = 0; g < groups; g++) {
        const uint32_t *nodes = forest->nodes + forest->node_starts[g];
        const int32_t depth = forest->depths[g];
        // After the last level a chain is at 8 (2^depth − 1 + k) + i, and leaf k of tree i at 8 k + i.
        const double *leaves = forest->leaves + forest->leaf_starts[g];
        const int64_t below = (int64_t)group * ((1 << depth) - 1);
        const int64_t trees = forest->trees - g * group < group ? forest->trees - g * group : group;
        if (trees < group) {  // the last group, not full: tree by tree
            margin = add_leaves(margin, pending, pending_count);
            pending_count = 0;
            for (int64_t i = 0; i < trees; i++) {
                uint64_t a = (uint64_t)i;
                for (int32_t d = 0; d < depth; d++)
                    a = 2 * a - i + group + group * (uint64_t)(bins[nodes[a] >> 16] >= (nodes[a] & 0xFFFF));
                margin += leaves[a - below];
            }
            continue;
        }
        // The next group's first 8 nodes per tree (levels 0–2, the same 4 lines for any row), fetched meanwhile
        // (measured ~3 % faster).
        if (g + 1 < groups) {
            const uint32_t *next = forest->nodes + forest->node_starts[g + 1];
            for (int line = 0; line < 4; line++) __builtin_prefetch(next + 16 * line);
        }
        const uint16_t *halves = (const uint16_t *)nodes;
        uint64_t a0 = 0, a1 = 1, a2 = 2, a3 = 3, a4 = 4, a5 = 5, a6 = 6, a7 = 7;
        // The 8 trees stepped together: independent chains of loads.
        for (int32_t d = 0; d < depth; d++) {
            STEP(0); STEP(1); STEP(2); STEP(3); STEP(4); STEP(5); STEP(6); STEP(7);
        }
        margin = add_leaves(margin, pending, pending_count);
        pending[0] = leaves[a0 - below], pending[1] = leaves[a1 - below], pending[2] = leaves[a2 - below];
        pending[3] = leaves[a3 - below], pending[4] = leaves[a4 - below], pending[5] = leaves[a5 - below];
        pending[6] = leaves[a6 - below], pending[7] = leaves[a7 - below];
        pending_count = group;
    }
    return add_leaves(margin, pending, pending_count);
}
