/* Calibration of the synthetic market (data_ingest/synth.h) against real
 * pumps (issue 5; docs/synth.md, "Calibration").
 *
 * One market (30 assets x 21 days, 60 planted pumps, seed 5) is generated;
 * the 8 published market features (alpha/features.h, La Morgia et al.,
 * ICCCN 2020, Sec. IV-B) are measured at every planted pump's onset chunk
 * (the chunk holding onset_ms) at 25, 15 and 5 s, and normal trading (away
 * from pumps by 1 day) is summarised as rows per hour, rush share and
 * |hourly log return|. Both are compared with the real quantiles in
 * tests/fixtures/synth/real_quantiles.csv, made by
 * tests/reference/synth_calibration_ref.py from ../shared (193 onset rows of
 * pumps up to 2019, 81 real trade files).
 *
 * Bands (why): ~50 planted onsets per chunk size leave a sampling error of
 * about +-0.2 in quantile level around the median, and the real sample has
 * 193 rows, so
 *   onset feature: generated median inside the real inter-quartile range,
 *                  real median inside the generated p10-p90 range, and the
 *                  two inter-quartile ranges overlap;
 *   normal trading: rows/hour p50 within a factor 1.4 of the real one and
 *                  p10, p90 within a factor 2; rush share p50 within 0.07;
 *                  |hourly return| p50 and p90 within a factor 1.4.
 * A generator change that moves a feature's centre by more than a quarter
 * of the real distribution fails. */
#include "alpha/features.h"
#include "data_ingest/synth.h"
#include "data_ingest/trades.h"
#include "testutil.h"
#include "utils/symbols.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_H 3600000LL
#define MS_D 86400000LL
#define NF 8
#define MAXS 20000

static const char *const k_feats[NF] = {
    "std_rush_order", "avg_rush_order", "std_trades", "std_volume",
    "avg_volume",     "std_price",      "avg_price",  "avg_price_max"};
static const int64_t k_chunk[3] = {25000, 15000, 5000};
static const char *const k_cname[3] = {"onset_25S", "onset_15S", "onset_5S"};

typedef struct sample {
    double *v;
    size_t n;
} sample;

/* onset[c][f], normal[0..2] = rows_per_hour, rush_share, abs_ret_1h */
static sample g_onset[3][NF], g_norm[3];
static char g_dir[512];

static void add(sample *s, double x)
{
    if (!isfinite(x))
        return;
    if (s->v == NULL)
        s->v = calloc(MAXS * 8, sizeof(double));
    assert_non_null(s->v);
    if (s->n < MAXS * 8)
        s->v[s->n++] = x;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.quantile, linear interpolation */
static double quantile(sample *s, double q)
{
    assert_true(s->n > 0);
    qsort(s->v, s->n, sizeof(double), cmpd);
    double h = (double)(s->n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < s->n ? lo + 1 : lo;
    return s->v[lo] + (h - (double)lo) * (s->v[hi] - s->v[lo]);
}

static coce_trade *read_all(const char *path, size_t *n)
{
    coce_symbols *sy = NULL;
    coce_trade_reader *r = NULL;
    coce_err err = {0};
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    if (coce_trade_reader_open(&r, path, sy, NULL, &err) != COCE_OK)
        fail_msg("%s", err.msg);
    size_t cap = 1 << 16, len = 0;
    coce_trade *v = malloc(cap * sizeof *v);
    assert_non_null(v);
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        size_t got = 0;
        int rc = coce_trade_reader_next(r, v + len, cap - len, &got, &err);
        len += got;
        if (rc == COCE_EEOF)
            break;
        if (rc != COCE_OK)
            fail_msg("%s", err.msg);
    }
    coce_trade_reader_free(r);
    coce_symbols_free(sy);
    *n = len;
    return v;
}

static int near_pump(int64_t t, const int64_t *on, size_t n_on, int64_t pad)
{
    for (size_t k = 0; k < n_on; ++k)
        if (t >= on[k] - pad && t < on[k] + pad)
            return 1;
    return 0;
}

/* As tests/reference/synth_calibration_ref.py: whole hours only, rows more
 * than 1 day from a pump, returns between consecutive kept hours. */
static void normal_stats(const coce_trade *v, size_t n, const int64_t *on,
                         size_t n_on)
{
    size_t nb = 0, nrush = 0;
    int64_t h_first = v[0].time_ms / MS_H + 1, h_last = v[n - 1].time_ms / MS_H;
    int64_t cur = v[0].time_ms / MS_H, prev_h = INT64_MIN;
    size_t cnt = 0;
    double last = 0.0, prev_last = 0.0;
    for (size_t i = 0; i <= n; ++i) {
        int64_t h = i < n ? v[i].time_ms / MS_H : INT64_MAX;
        if (h != cur) {
            if (cur >= h_first && cur < h_last && cnt > 0 &&
                !near_pump(cur * MS_H, on, n_on, MS_D + MS_H)) {
                add(&g_norm[0], (double)cnt);
                if (prev_h == cur - 1)
                    add(&g_norm[2], fabs(log(last / prev_last)));
                prev_h = cur;
                prev_last = last;
            }
            cur = h;
            cnt = 0;
        }
        if (i == n)
            break;
        if (near_pump(v[i].time_ms, on, n_on, MS_D))
            continue;
        ++cnt;
        last = v[i].price;
        if (v[i].side != COCE_SIDE_BUY)
            continue;
        ++nb;
        int shared = 0;
        for (size_t j = i; j-- > 0 && v[j].time_ms == v[i].time_ms;)
            shared |= v[j].side == COCE_SIDE_BUY;
        for (size_t j = i + 1; j < n && v[j].time_ms == v[i].time_ms; ++j)
            shared |= v[j].side == COCE_SIDE_BUY;
        nrush += (size_t)shared;
    }
    add(&g_norm[1], nb ? (double)nrush / (double)nb : 0.0);
}

static int setup(void **state)
{
    (void)state;
    coce_synth_opts o;
    coce_synth_opts_default(&o);
    o.n_assets = 30;
    o.days = 21;
    o.n_pumps = 60;
    o.seed = 5;
    o.posts_per_day = 1;
    if (coce_test_tmpdir(g_dir, sizeof g_dir) == NULL)
        return -1;
    coce_err err = {0};
    if (coce_synth_generate(&o, g_dir, &err) != COCE_OK) {
        fprintf(stderr, "synth: %s\n", err.msg);
        return -1;
    }
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/ground_truth.csv", g_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    static char psym[256][8];
    static int64_t pon[256];
    size_t np = 0;
    while (fgets(line, sizeof line, f) && np < 256) {
        char sym[16], kind[16];
        long long t, on;
        if (sscanf(line, "%7[^/]/BTC,%lld,%lld,%15s", sym, &t, &on, kind) ==
                4 &&
            strcmp(kind, "pump") == 0) {
            snprintf(psym[np], sizeof psym[np], "%s", sym);
            pon[np++] = on;
        }
    }
    fclose(f);
    if (np != o.n_pumps)
        return -1;
    coce_feature_row *rows = NULL;
    size_t rcap = 0;
    for (size_t a = 0; a < o.n_assets; ++a) {
        char pair[16];
        (void)coce_synth_symbol(a, pair, sizeof pair);
        pair[3] = '\0';
        snprintf(path, sizeof path, "%s/trades/%s.csv", g_dir, pair);
        size_t n = 0;
        coce_trade *v = read_all(path, &n);
        int64_t on[64];
        size_t n_on = 0;
        for (size_t p = 0; p < np; ++p)
            if (strcmp(psym[p], pair) == 0 && n_on < 64)
                on[n_on++] = pon[p];
        normal_stats(v, n, on, n_on);
        if (n_on > 0 && rcap < n) {
            rcap = n;
            rows = realloc(rows, rcap * sizeof *rows);
            if (rows == NULL)
                return -1;
        }
        for (int c = 0; c < 3 && n_on > 0; ++c) {
            coce_features_cfg cfg;
            coce_features_cfg_default(&cfg, k_chunk[c]);
            size_t nr = 0;
            if (coce_features_batch(&cfg, v, n, rows, rcap, &nr) != COCE_OK)
                return -1;
            /* A pump before the windows are full has no published row, as
             * in the real data; it is left out. */
            for (size_t k = 0; k < n_on; ++k) {
                int64_t cs = on[k] / k_chunk[c] * k_chunk[c];
                for (size_t r = 0; r < nr; ++r)
                    if (rows[r].chunk_start_ms == cs)
                        for (int j = 0; j < NF; ++j)
                            add(&g_onset[c][j], rows[r].v[j]);
            }
        }
        free(v);
    }
    free(rows);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int c = 0; c < 3; ++c)
        for (int j = 0; j < NF; ++j)
            free(g_onset[c][j].v);
    for (int j = 0; j < 3; ++j)
        free(g_norm[j].v);
    coce_test_rmtree(g_dir);
    return 0;
}

typedef struct realq {
    char group[16], stat[24];
    double q[5];
} realq;

static size_t load_real(realq *out, size_t cap)
{
    char path[1024];
    coce_test_path(path, sizeof path,
                   "tests/fixtures/synth/real_quantiles.csv");
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    size_t n = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l && n < cap;
         l = strtok_r(NULL, "\n", &save)) {
        realq *q = &out[n];
        int cnt;
        if (sscanf(l, "%15[^,],%23[^,],%d,%lf,%lf,%lf,%lf,%lf", q->group,
                   q->stat, &cnt, &q->q[0], &q->q[1], &q->q[2], &q->q[3],
                   &q->q[4]) == 8)
            ++n;
    }
    free(text);
    return n;
}

static const double k_levels[5] = {0.10, 0.25, 0.50, 0.75, 0.90};

static void test_onset_features(void **state)
{
    (void)state;
    realq rq[64];
    size_t n = load_real(rq, 64);
    assert_true(n >= 24);
    size_t checked = 0;
    for (size_t k = 0; k < n; ++k)
        for (int c = 0; c < 3; ++c)
            for (int j = 0; j < NF; ++j) {
                if (strcmp(rq[k].group, k_cname[c]) != 0 ||
                    strcmp(rq[k].stat, k_feats[j]) != 0)
                    continue;
                sample *s = &g_onset[c][j];
                /* at least 40 of the 60 planted onsets are warm */
                assert_true(s->n >= 40);
                double g[5];
                for (int q = 0; q < 5; ++q)
                    g[q] = quantile(s, k_levels[q]);
                const double *r = rq[k].q;
                if (!(g[2] >= r[1] && g[2] <= r[3]) ||
                    !(r[2] >= g[0] && r[2] <= g[4]) ||
                    !(g[1] <= r[3] && g[3] >= r[1]))
                    fail_msg("%s %s drifted: generated p10/25/50/75/90 "
                             "%.4g %.4g %.4g %.4g %.4g vs real %.4g %.4g "
                             "%.4g %.4g %.4g (n=%zu)",
                             k_cname[c], k_feats[j], g[0], g[1], g[2], g[3],
                             g[4], r[0], r[1], r[2], r[3], r[4], s->n);
                ++checked;
            }
    assert_int_equal(checked, 24);
}

static void within(const char *what, double g, double r, double factor)
{
    if (!(g <= r * factor && g >= r / factor))
        fail_msg("%s drifted: generated %.4g vs real %.4g (band x%.2f)", what,
                 g, r, factor);
}

static void test_normal_trading(void **state)
{
    (void)state;
    realq rq[64];
    size_t n = load_real(rq, 64);
    size_t checked = 0;
    for (size_t k = 0; k < n; ++k) {
        const double *r = rq[k].q;
        if (strcmp(rq[k].stat, "rows_per_hour") == 0) {
            within("rows/hour p50", quantile(&g_norm[0], 0.5), r[2], 1.4);
            within("rows/hour p10", quantile(&g_norm[0], 0.1), r[0], 2.0);
            within("rows/hour p90", quantile(&g_norm[0], 0.9), r[4], 2.0);
            ++checked;
        } else if (strcmp(rq[k].stat, "rush_share") == 0) {
            double g = quantile(&g_norm[1], 0.5);
            if (fabs(g - r[2]) > 0.07)
                fail_msg("rush share p50 drifted: %.3f vs real %.3f", g, r[2]);
            ++checked;
        } else if (strcmp(rq[k].stat, "abs_ret_1h") == 0) {
            within("|hourly return| p50", quantile(&g_norm[2], 0.5), r[2], 1.4);
            within("|hourly return| p90", quantile(&g_norm[2], 0.9), r[4], 1.4);
            ++checked;
        }
    }
    assert_int_equal(checked, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onset_features),
        cmocka_unit_test(test_normal_trading),
    };
    return cmocka_run_group_tests_name("synth_calibration", tests, setup,
                                       teardown);
}
