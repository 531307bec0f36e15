#include "quadrature_shap.h"

#include <string.h>

// Same bits on every path: no fused multiply–adds where the wider targets have them.
#pragma clang fp contract(off)

/// Swift's `DecisionTree.Node`.
typedef struct {
    int32_t feature;
    uint8_t kind;  // 0 numeric, 1 categorical
    uint8_t default_left;
    uint8_t zero_is_missing;
    float threshold;
    int32_t left;
    int32_t right;
    uint32_t category_offset;
    uint32_t category_count;
} split_t;

#define EDGE(L)                                                                                                      \
    struct {                                                                                                         \
        double not_taken[L], taken[L], failed_step[L], satisfied_step[L];                                            \
        double share;                                                                                                \
        int32_t previous;                                                                                            \
    }
typedef EDGE(4) edge4_t;
typedef EDGE(8) edge8_t;
// Swift aligns SIMD4<Double> and SIMD8<Double> to 16 bytes: so do these.
typedef struct {
    split_t split;
    _Alignas(16) edge4_t left;
    _Alignas(16) edge4_t right;
} record4_t;
typedef struct {
    split_t split;
    _Alignas(16) edge8_t left;
    _Alignas(16) edge8_t right;
} record8_t;

typedef double v4_t __attribute__((vector_size(32)));
typedef double v8_t __attribute__((vector_size(64)));

#define LAYOUT(R, E, field)                                                                                          \
    switch (field) {                                                                                                 \
    case 0: return sizeof(R);                                                                                        \
    case 1: return offsetof(R, left);                                                                                \
    case 2: return offsetof(R, right);                                                                               \
    case 3: return offsetof(E, taken);                                                                               \
    case 4: return offsetof(E, failed_step);                                                                         \
    case 5: return offsetof(E, satisfied_step);                                                                      \
    case 6: return offsetof(E, share);                                                                               \
    case 7: return offsetof(E, previous);                                                                            \
    case 8: return offsetof(split_t, threshold);                                                                     \
    case 9: return offsetof(split_t, left);                                                                          \
    case 10: return offsetof(split_t, right);                                                                        \
    case 11: return offsetof(split_t, category_offset);                                                              \
    case 12: return offsetof(split_t, category_count);                                                               \
    default: return (size_t)-1;                                                                                      \
    }

size_t propensity_quadrature_shap_layout(int lanes, int field) {
    if (lanes == 4) { LAYOUT(record4_t, edge4_t, field) }
    if (lanes == 8) { LAYOUT(record8_t, edge8_t, field) }
    return (size_t)-1;
}

/// `DecisionTree.goesLeft`: missing (NaN, or ±0 within 1e-35 under zero-as-missing) by the default; numeric
/// x ≤ threshold; categorical: a non-negative whole code below 32 × words whose bit is set.
__attribute__((always_inline)) static inline bool goes_left(const split_t *s, float x, const uint32_t *words) {
    float magnitude = x < 0 ? -x : x;
    if (x != x || (s->zero_is_missing && magnitude <= 1e-35f)) return s->default_left;
    if (s->kind == 0) return x <= s->threshold;
    if (!(x >= 0 && x < (float)s->category_count * 32.0f)) return false;
    int32_t code = (int32_t)x;
    if ((float)code != x) return false;
    return (words[s->category_offset + (uint32_t)(code >> 5)] >> (code & 31)) & 1;
}

// One body for both widths and every target: V the lanes' vector, L their count. A choice that depends on the row
// picks an address (a select), not a branch: a mispredicted branch per edge costs more than the edge's arithmetic.
#define KERNEL_BODY(R, V, L)                                                                                         \
    const R *records = (const R *)records_;                                                                          \
    bool *went_left = ws.went_left, *satisfied = ws.satisfied;                                                       \
    double *values = ws.values; /* Swift aligns lanes to 16 bytes: read and written unaligned */                     \
    V ones;                                                                                                          \
    for (int g = 0; g < L; g++) ones[g] = 1;                                                                         \
    satisfied[0] = true;                                                                                             \
    memcpy(values, &ones, sizeof(V));                                                                                \
    /* Down: o and P of every internal node (a leaf's are made on the way up, where they are used once). */          \
    for (ptrdiff_t n = 0; n < count; n++) {                                                                          \
        const R *r = records + n;                                                                                    \
        if (prefetch_distance)                                                                                       \
            for (size_t line = 0; line < sizeof(R); line += 64)                                                      \
                __builtin_prefetch((const char *)r + prefetch_distance + line);                                      \
        bool left = goes_left(&r->split, row[r->split.feature], category_words);                                     \
        went_left[n] = left;                                                                                         \
        V p;                                                                                                         \
        memcpy(&p, values + n * L, sizeof(V));                                                                       \
        DOWN(R, V, r->split.left, &r->left, left)                                                                    \
        DOWN(R, V, r->split.right, &r->right, !left)                                                                 \
    }                                                                                                                \
    /* Up: S of every node and each edge's term, S times (q after − q before) or nothing when the feature had        \
       already failed. */                                                                                            \
    for (ptrdiff_t n = count - 1; n >= 0; n--) {                                                                     \
        const R *r = records + n;                                                                                    \
        bool left = went_left[n];                                                                                    \
        V p;                                                                                                         \
        memcpy(&p, values + n * L, sizeof(V));                                                                       \
        V ls, lt, rs, rt;                                                                                            \
        UP(V, r->split.left, &r->left, left, ls, lt)                                                                 \
        UP(V, r->split.right, &r->right, !left, rs, rt)                                                              \
        V t = lt + rt;                                                                                               \
        double sum = t[0];                                                                                           \
        for (int g = 1; g < L; g++) sum += t[g];                                                                     \
        phi[r->split.feature] += sum;                                                                                \
        V s = ls + rs;                                                                                               \
        memcpy(values + n * L, &s, sizeof(V));                                                                       \
    }

/// `taken` follows `not_taken`, `satisfied_step` follows `failed_step`: the row picks one by address.
#define PICK(V, EDGE, FIRST, SECOND, WHICH)                                                                          \
    ({                                                                                                               \
        V x_;                                                                                                        \
        memcpy(&x_, (WHICH) ? (const void *)(EDGE)->SECOND : (const void *)(EDGE)->FIRST, sizeof(V));                \
        x_;                                                                                                          \
    })

#define SPLAT(V, L, x)                                                                                               \
    ({                                                                                                               \
        V s_;                                                                                                        \
        for (int g_ = 0; g_ < L; g_++) s_[g_] = (x);                                                                 \
        s_;                                                                                                          \
    })

#define DOWN(R, V, CHILD, EDGE, TAKEN)                                                                               \
    if ((CHILD) >= 0) {                                                                                              \
        int32_t c_ = (CHILD);                                                                                        \
        bool taken_ = (TAKEN);                                                                                       \
        V f_;                                                                                                        \
        if (satisfied[(EDGE)->previous]) {                                                                           \
            satisfied[c_] = taken_;                                                                                  \
            f_ = PICK(V, EDGE, not_taken, taken, taken_);                                                            \
        } else {                                                                                                     \
            satisfied[c_] = false;                                                                                   \
            f_ = SPLAT(V, LANES, (EDGE)->share);                                                                     \
        }                                                                                                            \
        V v_ = p * f_;                                                                                               \
        memcpy(values + c_ * LANES, &v_, sizeof(V));                                                                 \
    }

#define UP(V, CHILD, EDGE, TAKEN, S, TERM)                                                                           \
    {                                                                                                                \
        int32_t c_ = (CHILD);                                                                                        \
        bool taken_ = (TAKEN);                                                                                       \
        bool before_ = satisfied[(EDGE)->previous], after_;                                                          \
        if (c_ >= 0) {                                                                                               \
            memcpy(&S, values + c_ * LANES, sizeof(V));                                                              \
            after_ = satisfied[c_];                                                                                  \
        } else {                                                                                                     \
            after_ = before_ && taken_;                                                                              \
            S = before_ ? p * PICK(V, EDGE, not_taken, taken, taken_) : p * SPLAT(V, LANES, (EDGE)->share);          \
        }                                                                                                            \
        TERM = before_ ? S * PICK(V, EDGE, failed_step, satisfied_step, after_) : SPLAT(V, LANES, 0.0);              \
    }

#define DEFINE_KERNEL(NAME, TARGET)                                                                                  \
    TARGET static void NAME##4(const void *records_, ptrdiff_t count, const float *row,                              \
                               const uint32_t *category_words, propensity_shap_workspace ws, double *phi,            \
                               ptrdiff_t prefetch_distance) {                                                        \
        enum { LANES = 4 };                                                                                          \
        KERNEL_BODY(record4_t, v4_t, 4)                                                                              \
    }                                                                                                                \
    TARGET static void NAME##8(const void *records_, ptrdiff_t count, const float *row,                              \
                               const uint32_t *category_words, propensity_shap_workspace ws, double *phi,            \
                               ptrdiff_t prefetch_distance) {                                                        \
        enum { LANES = 8 };                                                                                          \
        KERNEL_BODY(record8_t, v8_t, 8)                                                                              \
    }

DEFINE_KERNEL(shap_baseline, )

#if defined(__x86_64__)
DEFINE_KERNEL(shap_avx2, __attribute__((target("avx2"))))
DEFINE_KERNEL(shap_avx512, __attribute__((target("avx512f"))))
#endif

void propensity_quadrature_shap_add(propensity_shap_path path, int lanes, const void *records, ptrdiff_t count,
                                    const float *row, const uint32_t *category_words,
                                    propensity_shap_workspace workspace, double *phi, ptrdiff_t prefetch_distance) {
#if defined(__x86_64__)
    if (path == propensity_shap_avx512) {
        if (lanes == 4) shap_avx5124(records, count, row, category_words, workspace, phi, prefetch_distance);
        else shap_avx5128(records, count, row, category_words, workspace, phi, prefetch_distance);
        return;
    }
    if (path == propensity_shap_avx2) {
        if (lanes == 4) shap_avx24(records, count, row, category_words, workspace, phi, prefetch_distance);
        else shap_avx28(records, count, row, category_words, workspace, phi, prefetch_distance);
        return;
    }
#endif
    if (lanes == 4) shap_baseline4(records, count, row, category_words, workspace, phi, prefetch_distance);
    else shap_baseline8(records, count, row, category_words, workspace, phi, prefetch_distance);
}
