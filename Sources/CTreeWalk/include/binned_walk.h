#ifndef PROPENSITY_BINNED_WALK_H
#define PROPENSITY_BINNED_WALK_H

#include <stdint.h>

/// Trees per group of `propensity_binned_forest`.
#define PROPENSITY_BINNED_GROUP 8

/// A numeric forest for one row at a time (layout and semantics: `BinnedForest` in PropensityScoring). Trees go in
/// groups of G = `PROPENSITY_BINNED_GROUP` (the last may have fewer), every tree of group g padded to a perfect binary
/// tree of the group's depth `depths[g]`, and the group's trees interleaved: node h (in level order: the root is 0,
/// the children of h are 2h + 1 and 2h + 2) of the group's tree i is `nodes[node_starts[g] + G h + i]`, and leaf k
/// (left to right) is `leaves[leaf_starts[g] + G k + i]`. A node is the slot of the row's values it reads (high 16
/// bits) and `right_from` (low 16 bits). The row is binned first: slot s's bin is the number of the slot's thresholds
/// below the value (a NaN: 0xFFFF), and a row goes right at a node when its bin is at least `right_from`.
typedef struct {
    const uint32_t *nodes;
    const double *leaves;
    const int64_t *node_starts;
    const int64_t *leaf_starts;
    const int32_t *depths;
    int64_t trees;
    /// Per used slot `i`: the slot `slots[i]` and its thresholds, ascending and distinct, then +∞ as padding,
    /// `thresholds[threshold_starts[i] ..< threshold_starts[i + 1]]`. The slots go in blocks of 4 (the last may have
    /// fewer) whose slots have the same number of entries, 2^m − 1 for some m ≥ 1.
    const int32_t *slots;
    const float *thresholds;
    const int32_t *threshold_starts;
    int64_t slot_count;
    /// NULL, or (for the binning by compares, when every used slot has at most 256 thresholds) per used slot `i` from
    /// `wide + wide_starts[i]`: 16 splitters (the last entry of each block below, +∞ past the last block), then the
    /// slot's thresholds ascending, padded with +∞ to whole blocks of 16, then one block of +∞. The compares are
    /// AVX-512F ones when `wide_avx512` is nonzero, AVX2 ones otherwise: only set when
    /// `propensity_tree_walk_avx512_available()` or `propensity_tree_walk_avx2_available()` says so.
    const float *wide;
    const int32_t *wide_starts;
    int32_t wide_avx512;
} propensity_binned_forest;

/// One row's margin: `margin` plus every tree's leaf value, added one by one in tree order. `v`: the row's values by
/// slot; `bins`: room for one `uint16_t` per slot.
double propensity_binned_row(const propensity_binned_forest *forest, const float *v, uint16_t *bins, double margin);

#endif
