/* Returns, pairwise covariance, correlation and Ledoit-Wolf shrinkage.
 * See covariance.h for the contracts and references. */
#include "network_analysis/covariance.h"

#include "utils/error.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Panel width of the packed centred copy: 8 assets side by side so that one
 * row of a panel is two 4-double vectors (one AVX register each). */
#define PANEL 8

int coce_returns_simple(const double *prices, size_t n_rows, size_t n_assets,
                        double *returns)
{
    if (prices == NULL || returns == NULL || n_rows < 2 || n_assets == 0)
        return COCE_EINVAL;
    for (size_t t = 1; t < n_rows; ++t) {
        const double *prev = prices + (t - 1) * n_assets;
        const double *cur = prices + t * n_assets;
        double *r = returns + (t - 1) * n_assets;
        for (size_t j = 0; j < n_assets; ++j)
            r[j] = (isfinite(prev[j]) && isfinite(cur[j]))
                       ? cur[j] / prev[j] - 1.0
                       : NAN;
    }
    return COCE_OK;
}

static size_t n_panels(size_t k)
{
    return (k + PANEL - 1) / PANEL;
}

size_t coce_cov_work_size(size_t n, size_t k)
{
    /* packed panels (also big enough for the k x n transposed copy), the
     * k column means and k constant-column flags */
    return n_panels(k) * PANEL * n + 2 * k;
}

size_t coce_cov_lw_work_size(size_t n, size_t k)
{
    /* plus one squared row norm per complete row */
    return coce_cov_work_size(n, k) + n;
}

/* ---- pairwise-complete statistics (generic path) ------------------------ */

typedef struct pair_stats {
    size_t count;
    double cxy; /* sum of centred cross products */
    double cxx; /* sum of centred squares of x */
    double cyy;
} pair_stats;

/* Two-pass statistics of (x, y) over the rows where both are finite
 * (Chan, Golub & LeVeque 1983, sec. 2). A series constant on those rows is
 * centred on its own value so that its sums are exactly 0, as pandas'
 * Welford update gives. */
static pair_stats pair_two_pass(const double *x, size_t sx, const double *y,
                                size_t sy, size_t n)
{
    pair_stats st = {0, 0.0, 0.0, 0.0};
    double sum_x = 0.0, sum_y = 0.0, x0 = 0.0, y0 = 0.0;
    int const_x = 1, const_y = 1;
    for (size_t t = 0; t < n; ++t) {
        double a = x[t * sx], b = y[t * sy];
        if (!isfinite(a) || !isfinite(b))
            continue;
        if (st.count == 0) {
            x0 = a;
            y0 = b;
        }
        const_x &= a == x0;
        const_y &= b == y0;
        sum_x += a;
        sum_y += b;
        ++st.count;
    }
    if (st.count == 0)
        return st;
    double mx = const_x ? x0 : sum_x / (double)st.count;
    double my = const_y ? y0 : sum_y / (double)st.count;
    for (size_t t = 0; t < n; ++t) {
        double a = x[t * sx], b = y[t * sy];
        if (!isfinite(a) || !isfinite(b))
            continue;
        double dx = a - mx, dy = b - my;
        st.cxy += dx * dy;
        st.cxx += dx * dx;
        st.cyy += dy * dy;
    }
    return st;
}

static int has_missing(const double *x, size_t len)
{
    for (size_t i = 0; i < len; ++i)
        if (!isfinite(x[i]))
            return 1;
    return 0;
}

/* Pairwise-complete covariance (want_corr 0) or correlation (1). With a
 * transposed copy (xt != NULL, k x n) each series is contiguous. */
static void pairwise_generic(const double *x, const double *xt, size_t n,
                             size_t k, size_t minp, int want_corr, double *out,
                             size_t *counts)
{
    for (size_t i = 0; i < k; ++i) {
        for (size_t j = 0; j <= i; ++j) {
            pair_stats st = xt != NULL
                                ? pair_two_pass(xt + i * n, 1, xt + j * n, 1, n)
                                : pair_two_pass(x + i, k, x + j, k, n);
            double v = NAN;
            if (st.count >= minp) {
                double div =
                    want_corr ? sqrt(st.cxx * st.cyy) : (double)st.count - 1.0;
                if (div != 0.0)
                    v = st.cxy / div;
            }
            out[i * k + j] = out[j * k + i] = v;
            if (counts != NULL)
                counts[i * k + j] = counts[j * k + i] = st.count;
        }
    }
}

/* ---- fast path: packed centred panels and an 8x8 register-blocked kernel */

/* Column means of the rows of x (only rows without a missing value when
 * complete_only), centred and packed: panel p, row r holds assets p*8 .. p*8+7
 * of the r-th kept row. Padding assets are 0. Returns the number of rows
 * packed. A constant column is centred on its value, so its entries are exactly
 * 0. */
static size_t pack_centred(const double *x, size_t n, size_t k,
                           int complete_only, double *pack, double *means,
                           double *constant)
{
    size_t m = 0;
    for (size_t j = 0; j < k; ++j) {
        means[j] = 0.0;
        constant[j] = 1.0;
    }
    const double *first = NULL;
    for (size_t t = 0; t < n; ++t) {
        const double *row = x + t * k;
        if (complete_only && has_missing(row, k))
            continue;
        if (first == NULL)
            first = row;
        for (size_t j = 0; j < k; ++j) {
            means[j] += row[j];
            if (row[j] != first[j])
                constant[j] = 0.0;
        }
        ++m;
    }
    if (m == 0)
        return 0;
    for (size_t j = 0; j < k; ++j)
        means[j] = constant[j] != 0.0 ? first[j] : means[j] / (double)m;

    size_t np = n_panels(k);
    size_t r = 0;
    for (size_t t = 0; t < n; ++t) {
        const double *row = x + t * k;
        if (complete_only && has_missing(row, k))
            continue;
        for (size_t p = 0; p < np; ++p) {
            double *dst = pack + (p * m + r) * PANEL;
            for (size_t c = 0; c < PANEL; ++c) {
                size_t j = p * PANEL + c;
                dst[c] = j < k ? row[j] - means[j] : 0.0;
            }
        }
        ++r;
    }
    return m;
}

/* GNU vector extension: 4 doubles. Under the avx2 target clone below this is
 * one ymm register; elsewhere the compiler splits it into SSE2 halves. */
typedef double v4d __attribute__((vector_size(32)));

/* out (8x8, row-major) = A' B for two packed panels of m rows, computed as
 * two 4x8 halves so that the 8 accumulators, 2 B vectors and a broadcast
 * fit the 16 vector registers (the usual GEMM micro-kernel shape: Goto &
 * van de Geijn, "Anatomy of high-performance matrix multiplication", ACM
 * TOMS 34(3), 2008, sec. 5). */
static inline __attribute__((always_inline)) void
kernel8x8_body(const double *a, const double *b, size_t m, double *out)
{
    for (size_t half = 0; half < 2; ++half) {
        v4d c00 = {0, 0, 0, 0}, c01 = c00, c10 = c00, c11 = c00;
        v4d c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        const double *ap = a + 4 * half;
        for (size_t t = 0; t < m; ++t) {
            v4d b0, b1; /* memcpy: unaligned loads without aliasing UB */
            memcpy(&b0, b + t * PANEL, sizeof b0);
            memcpy(&b1, b + t * PANEL + 4, sizeof b1);
            const double *ar = ap + t * PANEL;
            v4d a0 = {ar[0], ar[0], ar[0], ar[0]};
            v4d a1 = {ar[1], ar[1], ar[1], ar[1]};
            v4d a2 = {ar[2], ar[2], ar[2], ar[2]};
            v4d a3 = {ar[3], ar[3], ar[3], ar[3]};
            c00 += a0 * b0;
            c01 += a0 * b1;
            c10 += a1 * b0;
            c11 += a1 * b1;
            c20 += a2 * b0;
            c21 += a2 * b1;
            c30 += a3 * b0;
            c31 += a3 * b1;
        }
        double *o = out + 4 * half * PANEL;
        memcpy(o + 0 * PANEL, &c00, sizeof c00);
        memcpy(o + 0 * PANEL + 4, &c01, sizeof c01);
        memcpy(o + 1 * PANEL, &c10, sizeof c10);
        memcpy(o + 1 * PANEL + 4, &c11, sizeof c11);
        memcpy(o + 2 * PANEL, &c20, sizeof c20);
        memcpy(o + 2 * PANEL + 4, &c21, sizeof c21);
        memcpy(o + 3 * PANEL, &c30, sizeof c30);
        memcpy(o + 3 * PANEL + 4, &c31, sizeof c31);
    }
}

/* A kernel computes out (8 x 8*nb, row-major, row stride 8*nb) = A' [B_0 ..
 * B_{nb-1}] for one packed A panel and nb (1..3) consecutive B panels, each
 * of m rows and `bstride` doubles apart. */
typedef void (*kernel_fn)(const double *a, const double *b, size_t bstride,
                          size_t nb, size_t m, double *out);

/* Scatters the 8x8 product of panel a and one b panel into the row-major
 * tile `out` of row stride ld. */
static inline __attribute__((always_inline)) void
scatter8x8(const double tile[PANEL * PANEL], double *out, size_t ld)
{
    for (size_t r = 0; r < PANEL; ++r)
        memcpy(out + r * ld, tile + r * PANEL, PANEL * sizeof(double));
}

static void kernel_generic(const double *a, const double *b, size_t bstride,
                           size_t nb, size_t m, double *out)
{
    double tile[PANEL * PANEL];
    for (size_t q = 0; q < nb; ++q) {
        kernel8x8_body(a, b + q * bstride, m, tile);
        scatter8x8(tile, out + q * PANEL, nb * PANEL);
    }
}

static int kernel_level = -1; /* -1: choose from the CPU */

void coce__cov_set_kernel(int level)
{
    kernel_level = level;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* AVX2+FMA: the 8x8 product as two 4x8 halves (8 ymm accumulators). */
__attribute__((target("avx2,fma"))) static void
kernel_avx2(const double *a, const double *b, size_t bstride, size_t nb,
            size_t m, double *out)
{
    size_t ld = nb * PANEL;
    for (size_t q = 0; q < nb; ++q) {
        const double *bq = b + q * bstride;
        for (size_t half = 0; half < 2; ++half) {
            __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00;
            __m256d c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            const double *ap = a + 4 * half;
            for (size_t t = 0; t < m; ++t) {
                __m256d b0 = _mm256_loadu_pd(bq + t * PANEL);
                __m256d b1 = _mm256_loadu_pd(bq + t * PANEL + 4);
                const double *ar = ap + t * PANEL;
                __m256d a0 = _mm256_broadcast_sd(ar);
                c00 = _mm256_fmadd_pd(a0, b0, c00);
                c01 = _mm256_fmadd_pd(a0, b1, c01);
                __m256d a1 = _mm256_broadcast_sd(ar + 1);
                c10 = _mm256_fmadd_pd(a1, b0, c10);
                c11 = _mm256_fmadd_pd(a1, b1, c11);
                __m256d a2 = _mm256_broadcast_sd(ar + 2);
                c20 = _mm256_fmadd_pd(a2, b0, c20);
                c21 = _mm256_fmadd_pd(a2, b1, c21);
                __m256d a3 = _mm256_broadcast_sd(ar + 3);
                c30 = _mm256_fmadd_pd(a3, b0, c30);
                c31 = _mm256_fmadd_pd(a3, b1, c31);
            }
            double *o = out + 4 * half * ld + q * PANEL;
            _mm256_storeu_pd(o, c00);
            _mm256_storeu_pd(o + 4, c01);
            _mm256_storeu_pd(o + ld, c10);
            _mm256_storeu_pd(o + ld + 4, c11);
            _mm256_storeu_pd(o + 2 * ld, c20);
            _mm256_storeu_pd(o + 2 * ld + 4, c21);
            _mm256_storeu_pd(o + 3 * ld, c30);
            _mm256_storeu_pd(o + 3 * ld + 4, c31);
        }
    }
}

/* AVX-512: an 8x24 tile (24 zmm accumulators, 3 B loads and 8 broadcasts
 * per 24 FMAs) when three B panels are available, else 8x8 tiles. */
#define LW_ROW8(r)                                                             \
    do {                                                                       \
        __m512d ar = _mm512_set1_pd(ap[r]);                                    \
        c##r##0 = _mm512_fmadd_pd(ar, b0, c##r##0);                            \
        c##r##1 = _mm512_fmadd_pd(ar, b1, c##r##1);                            \
        c##r##2 = _mm512_fmadd_pd(ar, b2, c##r##2);                            \
    } while (0)
#define LW_STORE8(r)                                                           \
    do {                                                                       \
        _mm512_storeu_pd(out + (r)*ld, c##r##0);                               \
        _mm512_storeu_pd(out + (r)*ld + 8, c##r##1);                           \
        _mm512_storeu_pd(out + (r)*ld + 16, c##r##2);                          \
    } while (0)

__attribute__((target("avx512f"))) static void
kernel_avx512(const double *a, const double *b, size_t bstride, size_t nb,
              size_t m, double *out)
{
    size_t ld = nb * PANEL;
    if (nb == 3) {
        __m512d c00 = _mm512_setzero_pd(), c01 = c00, c02 = c00;
        __m512d c10 = c00, c11 = c00, c12 = c00, c20 = c00, c21 = c00;
        __m512d c22 = c00, c30 = c00, c31 = c00, c32 = c00, c40 = c00;
        __m512d c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
        __m512d c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00;
        __m512d c72 = c00;
        for (size_t t = 0; t < m; ++t) {
            __m512d b0 = _mm512_loadu_pd(b + t * PANEL);
            __m512d b1 = _mm512_loadu_pd(b + bstride + t * PANEL);
            __m512d b2 = _mm512_loadu_pd(b + 2 * bstride + t * PANEL);
            const double *ap = a + t * PANEL;
            LW_ROW8(0);
            LW_ROW8(1);
            LW_ROW8(2);
            LW_ROW8(3);
            LW_ROW8(4);
            LW_ROW8(5);
            LW_ROW8(6);
            LW_ROW8(7);
        }
        LW_STORE8(0);
        LW_STORE8(1);
        LW_STORE8(2);
        LW_STORE8(3);
        LW_STORE8(4);
        LW_STORE8(5);
        LW_STORE8(6);
        LW_STORE8(7);
        return;
    }
    for (size_t q = 0; q < nb; ++q) {
        const double *bq = b + q * bstride;
        __m512d c[PANEL];
        for (size_t r = 0; r < PANEL; ++r)
            c[r] = _mm512_setzero_pd();
        for (size_t t = 0; t < m; ++t) {
            __m512d b0 = _mm512_loadu_pd(bq + t * PANEL);
            const double *ap = a + t * PANEL;
            for (size_t r = 0; r < PANEL; ++r)
                c[r] = _mm512_fmadd_pd(_mm512_set1_pd(ap[r]), b0, c[r]);
        }
        for (size_t r = 0; r < PANEL; ++r)
            _mm512_storeu_pd(out + r * ld + q * PANEL, c[r]);
    }
}
#undef LW_ROW8
#undef LW_STORE8

/* The build targets baseline x86-64 (SSE2); wider vectors and FMA are used
 * when the CPU has them (level 2: AVX-512, 1: AVX2+FMA, 0: generic). */
static kernel_fn pick_kernel(void)
{
    int level = kernel_level;
    if (level < 0)
        level =
            __builtin_cpu_supports("avx512f") ? 2
            : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
                ? 1
                : 0;
    if (level >= 2 && __builtin_cpu_supports("avx512f"))
        return kernel_avx512;
    if (level >= 1 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return kernel_avx2;
    return kernel_generic;
}
#else
static kernel_fn pick_kernel(void)
{
    return kernel_generic;
}
#endif

/* Writes an 8 x 8*nb tile (A panel ib, B panels jb..) scaled by 1/div into
 * out and its mirror, clipping the zero padding past k. */
static void store_tile(const double *tile, size_t ib, size_t jb, size_t nb,
                       size_t k, double div, double *out)
{
    size_t ld = nb * PANEL;
    for (size_t r = 0; r < PANEL; ++r) {
        size_t i = ib * PANEL + r;
        if (i >= k)
            break;
        for (size_t c = 0; c < ld; ++c) {
            size_t j = jb * PANEL + c;
            if (j >= k)
                break;
            double v = tile[r * ld + c] / div;
            out[i * k + j] = v;
            out[j * k + i] = v;
        }
    }
}

/* Lower-triangular panel products of the packed copy, scaled by 1/div and
 * mirrored into out (k x k). Only panel pairs jb <= ib are computed (half
 * the work, as dsyrk), up to three B panels per kernel call. */
static void packed_cross(const double *pack, size_t m, size_t k, double div,
                         double *out)
{
    kernel_fn kern = pick_kernel();
    size_t np = n_panels(k);
    size_t bstride = m * PANEL;
    /* Super-blocks of sb panels: two of them (A rows, B columns) stay in a
     * ~1 MiB share of L2 while every pair of their panels is multiplied. */
    size_t sb = ((size_t)1 << 20) / (2 * bstride * sizeof(double));
    sb = sb < 3 ? 3 : sb - sb % 3;
    double tile[PANEL * 3 * PANEL];
    for (size_t ib0 = 0; ib0 < np; ib0 += sb) {
        size_t ib1 = ib0 + sb < np ? ib0 + sb : np;
        for (size_t jb0 = 0; jb0 < ib1; jb0 += sb) {
            for (size_t ib = ib0; ib < ib1; ++ib) {
                const double *a = pack + ib * bstride;
                size_t jend = jb0 + sb < ib + 1 ? jb0 + sb : ib + 1;
                for (size_t jb = jb0; jb < jend; jb += 3) {
                    size_t nb = jend - jb < 3 ? jend - jb : 3;
                    kern(a, pack + jb * bstride, bstride, nb, m, tile);
                    store_tile(tile, ib, jb, nb, k, div, out);
                }
            }
        }
    }
}

int coce_cov_pairwise(const double *x, size_t n, size_t k, size_t min_periods,
                      double *cov, size_t *counts, double *work)
{
    if (x == NULL || cov == NULL || n == 0 || k == 0)
        return COCE_EINVAL;
    size_t minp = min_periods < 2 ? 2 : min_periods;
    if (work == NULL) {
        pairwise_generic(x, NULL, n, k, minp, 0, cov, counts);
        return COCE_OK;
    }
    if (has_missing(x, n * k)) {
        /* k x n transposed copy: each series contiguous for the pair loop */
        for (size_t t = 0; t < n; ++t)
            for (size_t j = 0; j < k; ++j)
                work[j * n + t] = x[t * k + j];
        pairwise_generic(x, work, n, k, minp, 0, cov, counts);
        return COCE_OK;
    }
    if (counts != NULL)
        for (size_t i = 0; i < k * k; ++i)
            counts[i] = n;
    if (n < minp) {
        for (size_t i = 0; i < k * k; ++i)
            cov[i] = NAN;
        return COCE_OK;
    }
    double *pack = work;
    double *means = work + n_panels(k) * PANEL * n;
    double *constant = means + k;
    size_t m = pack_centred(x, n, k, 0, pack, means, constant);
    packed_cross(pack, m, k, (double)m - 1.0, cov);
    return COCE_OK;
}

int coce_corr_pairwise(const double *x, size_t n, size_t k, size_t min_periods,
                       double *corr, size_t *counts)
{
    if (x == NULL || corr == NULL || n == 0 || k == 0)
        return COCE_EINVAL;
    size_t minp = min_periods < 2 ? 2 : min_periods;
    pairwise_generic(x, NULL, n, k, minp, 1, corr, counts);
    return COCE_OK;
}

int coce_corr_from_cov(const double *cov, size_t k, double *corr)
{
    if (cov == NULL || corr == NULL || k == 0)
        return COCE_EINVAL;
    /* Keep the diagonal's standard deviations before corr (which may be cov)
     * is overwritten: the diagonal is written last. */
    for (size_t i = 0; i < k; ++i) {
        double si = sqrt(cov[i * k + i]);
        for (size_t j = 0; j < i; ++j) {
            double sj = sqrt(cov[j * k + j]);
            double den = si * sj;
            double v = den > 0.0 ? cov[i * k + j] / den : NAN;
            corr[i * k + j] = v;
            corr[j * k + i] = v;
        }
    }
    for (size_t i = 0; i < k; ++i)
        corr[i * k + i] = isfinite(cov[i * k + i]) ? 1.0 : NAN;
    return COCE_OK;
}

int coce_cov_ledoit_wolf(const double *x, size_t n, size_t k, double *cov,
                         double *shrinkage, double *work)
{
    if (x == NULL || cov == NULL || work == NULL || n == 0 || k == 0)
        return COCE_EINVAL;
    size_t np = n_panels(k);
    double *pack = work;
    double *means = work + np * PANEL * n;
    double *constant = means + k;
    double *row_sq = constant + k;
    size_t m = pack_centred(x, n, k, 1, pack, means, constant);
    if (m < 2)
        return COCE_EDATA;
    packed_cross(pack, m, k, (double)m, cov); /* S, ddof 0 */
    double s = 0.0;
    if (k > 1) {
        /* sklearn's ledoit_wolf_shrinkage, written with the same sums */
        for (size_t t = 0; t < m; ++t)
            row_sq[t] = 0.0;
        for (size_t p = 0; p < np; ++p)
            for (size_t t = 0; t < m; ++t) {
                const double *v = pack + (p * m + t) * PANEL;
                double acc = 0.0;
                for (size_t c = 0; c < PANEL; ++c)
                    acc += v[c] * v[c];
                row_sq[t] += acc;
            }
        double beta_ = 0.0; /* sum_t ||x_t||^4 = sum of (X2' X2) */
        for (size_t t = 0; t < m; ++t)
            beta_ += row_sq[t] * row_sq[t];
        double trace = 0.0;
        for (size_t i = 0; i < k; ++i)
            trace += cov[i * k + i];
        double dk = (double)k, dm = (double)m;
        double mu = trace / dk;
        double delta_ = 0.0; /* ||S||_F^2 */
        double dist = 0.0;   /* ||S - mu I||_F^2, without cancellation */
        for (size_t i = 0; i < k; ++i)
            for (size_t j = 0; j < k; ++j) {
                double v = cov[i * k + j];
                double d = i == j ? v - mu : v;
                delta_ += v * v;
                dist += d * d;
            }
        double beta = 1.0 / (dk * dm) * (beta_ / dm - delta_);
        double delta = dist / dk;
        if (beta > delta)
            beta = delta;
        s = beta == 0.0 ? 0.0 : beta / delta;
        for (size_t i = 0; i < k * k; ++i)
            cov[i] *= 1.0 - s;
        for (size_t i = 0; i < k; ++i)
            cov[i * k + i] += s * mu;
    }
    if (shrinkage != NULL)
        *shrinkage = s;
    return COCE_OK;
}
