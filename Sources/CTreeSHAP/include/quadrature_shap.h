#ifndef PROPENSITY_QUADRATURE_SHAP_H
#define PROPENSITY_QUADRATURE_SHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// The arithmetic of `QuadratureTreeSHAP` (PropensityScoring) for one tree and one row, over its records: 4 or 8
/// Gauss–Legendre points (lanes). The records are Swift's `QuadratureTreeSHAP<SIMD4<Double>>.Record` (or SIMD8):
/// the split (`DecisionTree.Node`, 28 bytes), then the left and the right edge, each `not_taken`, `taken`,
/// `failed_step`, `satisfied_step` (lanes doubles each), `share` (double) and `previous` (int32); the layout is
/// checked against Swift's when an explainer is made (`propensity_quadrature_shap_layout`).
///
/// Compiled three times, chosen at run time: the baseline x86-64 target (SSE2), AVX2 and AVX-512F (what the CPU
/// and the OS support: `propensity_tree_walk_avx2_available` and `_avx512_available` in CTreeWalk). Floating-point
/// contraction is off, so every path gives the same bits.
typedef enum {
    propensity_shap_baseline = 0,
    propensity_shap_avx2 = 1,
    propensity_shap_avx512 = 2,
} propensity_shap_path;

/// Scratch for one tree of up to `nodes` internal nodes (allocated by the caller): `went_left` and `satisfied`
/// `nodes` bytes each, `values` `nodes × lanes` doubles.
typedef struct {
    bool *went_left;
    bool *satisfied;
    double *values;
} propensity_shap_workspace;

/// Adds one tree's contributions for `row` (float features, indexed by a split's feature) into `phi`. `records`
/// holds the tree's `count` (≥ 1) records in node order; `category_words` the categorical splits' bitsets.
/// `lanes` is 4 or 8; `path` must be one the CPU supports. With a `prefetch_distance` (bytes, 0 for none), the down
/// pass also prefetches each record's lines that far ahead.
void propensity_quadrature_shap_add(propensity_shap_path path, int lanes, const void *records, ptrdiff_t count,
                                    const float *row, const uint32_t *category_words,
                                    propensity_shap_workspace workspace, double *phi, ptrdiff_t prefetch_distance);

/// Byte offsets and sizes of the layout the kernel reads, for `lanes` 4 or 8: 0 the record's size, 1 the left
/// edge's offset, 2 the right edge's, 3 an edge's `taken`, 4 `failed_step`, 5 `satisfied_step`, 6 `share`,
/// 7 `previous`, 8 the split's `threshold`, 9 `left`, 10 `right`, 11 `category_offset`, 12 `category_count`.
size_t propensity_quadrature_shap_layout(int lanes, int field);

#endif
