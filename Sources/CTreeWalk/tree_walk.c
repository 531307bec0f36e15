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

bool propensity_tree_walk_avx512_available(void) {
    unsigned a, b, c, d;
    if (!propensity_tree_walk_avx2_available()) return false;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE0) != 0xE0) return false;  // the OS saves the opmask and the upper ZMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & bit_AVX512F) != 0;
}

#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline

/// `advance` for 16 rows: 2k when x ≤ `limit`, 2k + 1 otherwise (NaN compares false: right).
AVX512 __m512i advance16(__m512i k, __m512 x, __m512 limit) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i right = _mm512_add_epi32(_mm512_slli_epi32(k, 1), one);
    return _mm512_mask_sub_epi32(right, _mm512_cmp_ps_mask(x, limit, _CMP_LE_OQ), right, one);
}

/// Lanes whose index has bit `b` set take `one`, the others `zero`.
#define BY_BIT16(zero, one, k, b) _mm512_mask_blend_ps(_mm512_test_epi32_mask(k, _mm512_set1_epi32(1 << (b))), zero, one)

/// The 16 rows' values at the feature of each lane's node among a level's first 2, 4 or 8 nodes (features `n`).
AVX512 __m512 loaded16x2(const float *group, const int32_t *n, __m512i k) {
    return BY_BIT16(_mm512_loadu_ps(group + 16 * n[0]), _mm512_loadu_ps(group + 16 * n[1]), k, 0);
}

AVX512 __m512 loaded16x4(const float *group, const int32_t *n, __m512i k) {
    return BY_BIT16(loaded16x2(group, n, k), loaded16x2(group, n + 2, k), k, 1);
}

AVX512 __m512 loaded16x8(const float *group, const int32_t *n, __m512i k) {
    return BY_BIT16(loaded16x4(group, n, k), loaded16x4(group, n + 4, k), k, 2);
}

AVX512 __m512 loaded16x16(const float *group, const int32_t *n, __m512i k) {
    return BY_BIT16(loaded16x8(group, n, k), loaded16x8(group, n + 8, k), k, 3);
}

/// The 16 rows' values at each lane's feature (as its int32 bits), from a group's transposed values.
AVX512 __m512 gather16(const float *group, __m512i feature) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_i32gather_ps(_mm512_add_epi32(_mm512_slli_epi32(feature, 4), lane), group, 4);
}

__attribute__((target("avx512f")))
void propensity_tree_walk_avx512(const propensity_level_forest *forest, const float *v, int64_t stride, int64_t rows,
                                 float *scratch, double *margins) {
    enum { maxGroups = 4 };
    const int64_t groups = rows / 16;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < stride; j++) scratch[((r >> 4) * stride + j) * 16 + (r & 15)] = v[r * stride + j];
    __m512i k[maxGroups];
    for (int64_t t = 0; t < forest->trees; t++) {
        const int32_t *n0 = forest->features + forest->node_starts[t];
        const float *l0 = forest->limits + forest->node_starts[t];
        const int depth = forest->depths[t];
        for (int64_t g = 0; g < groups; g++) k[g] = _mm512_setzero_si512();
        // Level by level over every group, as the AVX2 walk: levels of up to 16 nodes load the rows' values at each
        // node's feature and blend, deeper ones gather them; limits of up to 16 nodes are one register looked up by a
        // permute, level 5's features and limits two registers each (`vpermt2*`), deeper levels' are gathered.
        for (int d = 0; d < depth; d++) {
            const int64_t start = ((int64_t)1 << d) - 1;
            const int32_t *n = n0 + start;
            const float *l = l0 + start;
            if (d == 0) {
                const __m512 limit = _mm512_set1_ps(l[0]);
                for (int64_t g = 0; g < groups; g++)
                    k[g] = advance16(k[g], _mm512_loadu_ps(scratch + g * 16 * stride + 16 * n[0]), limit);
            } else if (d <= 4) {
                const __mmask16 level = (__mmask16)((1u << (1 << d)) - 1);
                const __m512 limits = _mm512_maskz_loadu_ps(level, l);
                for (int64_t g = 0; g < groups; g++) {
                    const float *group = scratch + g * 16 * stride;
                    __m512 x = d == 1 ? loaded16x2(group, n, k[g])
                             : d == 2 ? loaded16x4(group, n, k[g])
                             : d == 3 ? loaded16x8(group, n, k[g])
                                      : loaded16x16(group, n, k[g]);
                    k[g] = advance16(k[g], x, _mm512_permutexvar_ps(k[g], limits));
                }
            } else if (d == 5) {
                const __m512i f0 = _mm512_loadu_si512(n), f1 = _mm512_loadu_si512(n + 16);
                const __m512 m0 = _mm512_loadu_ps(l), m1 = _mm512_loadu_ps(l + 16);
                for (int64_t g = 0; g < groups; g++)
                    k[g] = advance16(k[g], gather16(scratch + g * 16 * stride, _mm512_permutex2var_epi32(f0, k[g], f1)),
                                     _mm512_permutex2var_ps(m0, k[g], m1));
            } else {
                for (int64_t g = 0; g < groups; g++)
                    k[g] = advance16(k[g], gather16(scratch + g * 16 * stride, _mm512_i32gather_epi32(k[g], n, 4)),
                                     _mm512_i32gather_ps(k[g], l, 4));
            }
        }
        const double *leaves = forest->leaves + forest->leaf_starts[t];
        for (int64_t g = 0; g < groups; g++) {
            double *m = margins + g * 16;
            _mm512_storeu_pd(m, _mm512_add_pd(_mm512_loadu_pd(m),
                                              _mm512_i32gather_pd(_mm512_castsi512_si256(k[g]), leaves, 8)));
            _mm512_storeu_pd(m + 8, _mm512_add_pd(_mm512_loadu_pd(m + 8),
                                                  _mm512_i32gather_pd(_mm512_extracti64x4_epi64(k[g], 1), leaves, 8)));
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

bool propensity_tree_walk_avx512_available(void) { return false; }

void propensity_tree_walk_avx512(const propensity_level_forest *forest, const float *v, int64_t stride, int64_t rows,
                                 float *scratch, double *margins) {
    (void)forest; (void)v; (void)stride; (void)rows; (void)scratch; (void)margins;
    __builtin_trap();
}

#endif

