#ifndef PROPENSITY_TREE_WALK_H
#define PROPENSITY_TREE_WALK_H

#include <stdbool.h>
#include <stdint.h>

/// A numeric forest with every tree stored as a perfect binary tree of its own depth, level by level (layout and
/// semantics: `LevelForest` in PropensityScoring). Internal node k of level d of tree t is `node_starts[t] + 2^d − 1
/// + k`; its children are nodes 2k and 2k + 1 of level d + 1; after `depths[t]` levels, k indexes
/// `leaves + leaf_starts[t]`. A row goes right unless `v[features[n]] <= limits[n]` (so a NaN in either goes right).
/// `features` and `limits` have 16 elements of padding after the last tree (levels 0–3 are read 8 at a time).
typedef struct {
    const int32_t *features;
    const float *limits;
    const double *leaves;
    const int32_t *node_starts;
    const int32_t *leaf_starts;
    const int32_t *depths;
    int64_t trees;
} propensity_level_forest;

/// Whether the CPU and the OS support AVX2 (CPUID, and XGETBV for the saved YMM state).
bool propensity_tree_walk_avx2_available(void);

/// For each of `rows` rows (a multiple of 8, at most 64), adds every tree's leaf value to `margins[r]`, tree after
/// tree (the scalar walk's order, so the sums are the same bits). Row r's values are `v + r * stride`; `scratch`
/// holds `rows * stride` floats (the rows transposed). Only call when `propensity_tree_walk_avx2_available()`.
void propensity_tree_walk_avx2(const propensity_level_forest *forest, const float *v, int64_t stride, int64_t rows,
                               float *scratch, double *margins);

/// Whether the CPU and the OS support AVX-512F (and AVX2): CPUID, and XGETBV for the saved opmask and ZMM state.
bool propensity_tree_walk_avx512_available(void);

/// `propensity_tree_walk_avx2` with 16 rows per vector, for `rows` a multiple of 16 (at most 64): the same leaves
/// added in the same order, so the same bits. Only call when `propensity_tree_walk_avx512_available()`.
void propensity_tree_walk_avx512(const propensity_level_forest *forest, const float *v, int64_t stride, int64_t rows,
                                 float *scratch, double *margins);

#endif
