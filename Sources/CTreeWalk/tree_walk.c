#include "tree_walk.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

bool propensity_tree_walk_avx2_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX)) return false;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return false;  // the OS saves XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & bit_AVX2) != 0;
}

#define AVX2 __attribute__((target("avx2"), always_inline)) static inline

/// Permutes of one register of 8 entries, by each lane's index (its low 3 bits).
AVX2 __m256 pick8(__m256 entries, __m256i k) { return _mm256_permutevar8x32_ps(entries, k); }

/// The entry of 16 (two registers) at each lane's index: bit 3 chooses the register.
AVX2 __m256 pick16(__m256 low, __m256 high, __m256i k) {
    return _mm256_blendv_ps(pick8(low, k), pick8(high, k), _mm256_castsi256_ps(_mm256_slli_epi32(k, 28)));
}

/// The entry of 32 (four registers) at each lane's index: bit 4 chooses the pair.
AVX2 __m256 pick32(const __m256 r[4], __m256i k) {
    return _mm256_blendv_ps(pick16(r[0], r[1], k), pick16(r[2], r[3], k),
                            _mm256_castsi256_ps(_mm256_slli_epi32(k, 27)));
}

/// One level's step for 8 rows given their values `x` at the node's feature: the child index, 2k when x ≤ `limit`, 2k + 1
/// otherwise (NaN compares false: right).
AVX2 __m256i advance(__m256i k, __m256 x, __m256 limit) {
    __m256i left = _mm256_castps_si256(_mm256_cmp_ps(x, limit, _CMP_LE_OQ));  // all ones: 2k + 1 − 1
    return _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(k, 1), _mm256_set1_epi32(1)), left);
}

/// The 8 rows' values at each lane's feature, from a group's transposed values (feature f of lane i at `8 f + i`).
AVX2 __m256 gather(const float *group, __m256 feature) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_i32gather_ps(group, _mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(feature), 3), lane), 4);
}

/// Lanes whose index has bit `b` set take `one`, the others `zero`.
#define BY_BIT(zero, one, k, b) _mm256_blendv_ps(zero, one, _mm256_castsi256_ps(_mm256_slli_epi32(k, 31 - (b))))

/// The 8 rows' values at the feature of each lane's node among a level's first 2, 4 or 8 nodes (their features `n`),
/// from a group's transposed values: one load per node, blended on the bits of the lane's index.
AVX2 __m256 loaded2(const float *group, const int32_t *n, __m256i k) {
    return BY_BIT(_mm256_loadu_ps(group + 8 * n[0]), _mm256_loadu_ps(group + 8 * n[1]), k, 0);
}

AVX2 __m256 loaded4(const float *group, const int32_t *n, __m256i k) {
    return BY_BIT(loaded2(group, n, k), loaded2(group, n + 2, k), k, 1);
}

AVX2 __m256 loaded8(const float *group, const int32_t *n, __m256i k) {
    return BY_BIT(loaded4(group, n, k), loaded4(group, n + 4, k), k, 2);
}

AVX2 __m256 loaded16(const float *group, const int32_t *n, __m256i k) {
    return BY_BIT(loaded8(group, n, k), loaded8(group, n + 8, k), k, 3);
}

__attribute__((target("avx2")))
void propensity_tree_walk_avx2(const propensity_level_forest *forest, const float *v, int64_t stride, int64_t rows,
                               float *scratch, double *margins) {
    enum { maxGroups = 8 };
    const int64_t groups = rows / 8;
    // Transposed by groups of 8 rows: the 8 rows' values at one feature are one vector, so the first five levels (1
    // to 16 nodes) load them and blend instead of gathering. Measured on the 500-tree model (AMD EPYC, Zen 3): loads
    // and blends at levels 3 and 4 instead of gathers, 6 % and ~3 % faster; gathering level 5's nodes instead of
    // permutes, 20 % slower; two trees stepped together (16 chains), 5–10 % slower.
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < stride; j++) scratch[((r >> 3) * stride + j) * 8 + (r & 7)] = v[r * stride + j];
    __m256i k[maxGroups];
    for (int64_t t = 0; t < forest->trees; t++) {
        const int32_t *index = forest->features + forest->node_starts[t];
        const float *features = (const float *)index;
        const float *limits = forest->limits + forest->node_starts[t];
        const int depth = forest->depths[t];
        for (int64_t g = 0; g < groups; g++) k[g] = _mm256_setzero_si256();
        // Level by level over every group: the groups are independent chains, which hide the gathers' latency. A
        // level's nodes are loaded once for all groups; up to 32 of them (every level of a depth-6 tree) are then
        // looked up by permutes; deeper levels' nodes are gathered.
        for (int d = 0; d < depth; d++) {
            const int64_t start = ((int64_t)1 << d) - 1;
            const float *f = features + start, *l = limits + start;
            const int32_t *n = index + start;
            if (d == 0) {
                const __m256 limit = _mm256_broadcast_ss(l);
                for (int64_t g = 0; g < groups; g++) {
                    const float *group = scratch + g * 8 * stride;
                    k[g] = advance(k[g], _mm256_loadu_ps(group + 8 * n[0]), limit);
                }
            } else if (d <= 3) {
                const __m256 limit = _mm256_loadu_ps(l);
                for (int64_t g = 0; g < groups; g++) {
                    const float *group = scratch + g * 8 * stride;
                    __m256 x = d == 1 ? loaded2(group, n, k[g]) : d == 2 ? loaded4(group, n, k[g]) : loaded8(group, n, k[g]);
                    k[g] = advance(k[g], x, pick8(limit, k[g]));
                }
            } else if (d == 4) {
                const __m256 l0 = _mm256_loadu_ps(l), l1 = _mm256_loadu_ps(l + 8);
                for (int64_t g = 0; g < groups; g++)
                    k[g] = advance(k[g], loaded16(scratch + g * 8 * stride, n, k[g]), pick16(l0, l1, k[g]));
            } else if (d == 5) {
                const __m256 fr[4] = {_mm256_loadu_ps(f), _mm256_loadu_ps(f + 8), _mm256_loadu_ps(f + 16),
                                      _mm256_loadu_ps(f + 24)};
                const __m256 lr[4] = {_mm256_loadu_ps(l), _mm256_loadu_ps(l + 8), _mm256_loadu_ps(l + 16),
                                      _mm256_loadu_ps(l + 24)};
                for (int64_t g = 0; g < groups; g++)
                    k[g] = advance(k[g], gather(scratch + g * 8 * stride, pick32(fr, k[g])), pick32(lr, k[g]));
            } else {
                for (int64_t g = 0; g < groups; g++)
                    k[g] = advance(k[g], gather(scratch + g * 8 * stride, _mm256_i32gather_ps(f, k[g], 4)),
                                   _mm256_i32gather_ps(l, k[g], 4));
            }
        }
        const double *leaves = forest->leaves + forest->leaf_starts[t];
        for (int64_t g = 0; g < groups; g++) {
            double *m = margins + g * 8;
            __m256d low = _mm256_i32gather_pd(leaves, _mm256_castsi256_si128(k[g]), 8);
            __m256d high = _mm256_i32gather_pd(leaves, _mm256_extracti128_si256(k[g], 1), 8);
            _mm256_storeu_pd(m, _mm256_add_pd(_mm256_loadu_pd(m), low));
            _mm256_storeu_pd(m + 4, _mm256_add_pd(_mm256_loadu_pd(m + 4), high));
        }
    }
}

#else

bool propensity_tree_walk_avx2_available(void) { return false; }


void propensity_tree_walk_avx2(const propensity_level_forest *forest, const float *v, int64_t stride, int64_t rows,
                               float *scratch, double *margins) {
    (void)forest; (void)v; (void)stride; (void)rows; (void)scratch; (void)margins;
    __builtin_trap();
}

#endif

