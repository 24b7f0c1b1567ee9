/* Calibration and cross-checks of the synthetic market (issue 5,
 * docs/synth.md, "Calibration" and "Proof that it is honest").
 *
 *   synth_cross calib DIR SAMPLES.csv [n_assets days n_pumps seed]
 *       generates a market into DIR, measures the 8 published market
 *       features at every planted pump's onset chunk (25/15/5 s) and the
 *       normal-trading statistics, and writes every sample as
 *       group,stat,value (for scripts/synth_calibration_fig.py).
 *   synth_cross cross DIR SHARED_DIR
 *       (a) trains on the generated market in DIR, detects the real pumps
 *       of SHARED_DIR/data/pump_trades; (b) trains on the real pumps and
 *       detects the planted ones of DIR.
 *
 * Features: alpha/features.h (La Morgia et al., ICCCN 2020, Sec. IV-B);
 * labels: alpha/labels.h; model: alpha/pump_model.h with the detector's
 * log-ratio preparation (alpha/detector.h); alerts with the 30-minute pause
 * of La Morgia et al. 2020, Sec. V. */
#include "alpha/detector.h"
#include "alpha/features.h"
#include "alpha/labels.h"
#include "alpha/pump_model.h"
#include "data_ingest/synth.h"
#include "data_ingest/trades.h"
#include "utils/symbols.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_H 3600000LL
#define MS_D 86400000LL

static const char *const k_feats[8] = {
    "std_rush_order", "avg_rush_order", "std_trades", "std_volume",
    "avg_volume",     "std_price",      "avg_price",  "avg_price_max"};

typedef struct tvec {
    coce_trade *v;
    size_t n, cap;
} tvec;

static int read_trades(const char *path, tvec *tv)
{
    coce_symbols *sy = NULL;
    coce_trade_reader *r = NULL;
    coce_err err = {0};
    tv->n = 0;
    if (coce_symbols_new(&sy) != COCE_OK)
        return -1;
    if (coce_trade_reader_open(&r, path, sy, NULL, &err) != COCE_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        coce_symbols_free(sy);
        return -1;
    }
    for (;;) {
        if (tv->cap - tv->n < 65536) {
            size_t cap = tv->cap * 2 + 65536;
            coce_trade *v = realloc(tv->v, cap * sizeof *v);
            if (!v)
                break;
            tv->v = v;
            tv->cap = cap;
        }
        size_t got = 0;
        int rc = coce_trade_reader_next(r, tv->v + tv->n, tv->cap - tv->n, &got,
                                        &err);
        tv->n += got;
        if (rc != COCE_OK)
            break;
    }
    coce_trade_reader_free(r);
    coce_symbols_free(sy);
    return 0;
}

typedef struct pump {
    char sym[16];
    int64_t onset, t_ann;
} pump;

/* Planted pumps of a generated market, from its ground_truth.csv. */
static size_t read_pumps(const char *dir, pump *out, size_t cap)
{
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/ground_truth.csv", dir);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f) && n < cap) {
        char sym[16], kind[16];
        long long t, on;
        if (sscanf(line, "%15[^/]/BTC,%lld,%lld,%15s", sym, &t, &on, kind) ==
                4 &&
            strcmp(kind, "pump") == 0) {
            snprintf(out[n].sym, sizeof out[n].sym, "%s", sym);
            out[n].onset = on;
            out[n].t_ann = t;
            ++n;
        }
    }
    fclose(f);
    return n;
}

static int cmp_pump(const void *a, const void *b)
{
    const pump *x = a, *y = b;
    int c = strcmp(x->sym, y->sym);
    if (c)
        return c;
    return (x->onset > y->onset) - (x->onset < y->onset);
}

/* ------------------------------------------------------------- calib */

static void normal_stats(FILE *out, const tvec *tv, const int64_t *excl,
                         size_t n_excl)
{
    /* hours of [first whole hour, last whole hour), outside +-1 day of any
     * pump, as tests/reference/synth_calibration_ref.py does */
    if (tv->n < 2)
        return;
    int64_t h0 = tv->v[0].time_ms / MS_H + 1,
            h1 = tv->v[tv->n - 1].time_ms / MS_H;
    size_t nb = 0, nrush = 0;
    int64_t cur = -1;
    size_t cnt = 0;
    double last_p = 0, prev_last = 0;
    int64_t prev_h = -10;
    for (size_t i = 0; i <= tv->n; ++i) {
        int64_t h = i < tv->n ? tv->v[i].time_ms / MS_H : INT64_MAX;
        int keep = 1;
        if (i < tv->n)
            for (size_t k = 0; k < n_excl; ++k)
                if (tv->v[i].time_ms >= excl[k] - MS_D &&
                    tv->v[i].time_ms < excl[k] + MS_D)
                    keep = 0;
        if (h != cur) {
            if (cur >= h0 && cur < h1 && cnt > 0) {
                int bad = 0;
                for (size_t k = 0; k < n_excl; ++k)
                    if (cur * MS_H >= excl[k] - MS_D - MS_H &&
                        cur * MS_H < excl[k] + MS_D)
                        bad = 1;
                if (!bad) {
                    fprintf(out, "normal,rows_per_hour,%zu\n", cnt);
                    if (prev_h == cur - 1)
                        fprintf(out, "normal,abs_ret_1h,%.8g\n",
                                fabs(log(last_p / prev_last)));
                    prev_h = cur;
                    prev_last = last_p;
                }
            }
            cur = h;
            cnt = 0;
        }
        if (i == tv->n)
            break;
        if (!keep)
            continue;
        ++cnt;
        last_p = tv->v[i].price;
        if (tv->v[i].side == COCE_SIDE_BUY) {
            ++nb;
            int shared = 0;
            for (size_t j = i; j-- > 0 && tv->v[j].time_ms == tv->v[i].time_ms;)
                if (tv->v[j].side == COCE_SIDE_BUY)
                    shared = 1;
            for (size_t j = i + 1;
                 j < tv->n && tv->v[j].time_ms == tv->v[i].time_ms; ++j)
                if (tv->v[j].side == COCE_SIDE_BUY)
                    shared = 1;
            nrush += (size_t)shared;
        }
    }
    fprintf(out, "normal,rush_share,%.6g\n",
            nb ? (double)nrush / (double)nb : 0.0);
}

static int cmd_calib(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    coce_synth_opts o;
    coce_synth_opts_default(&o);
    o.n_assets = argc > 4 ? (size_t)atol(argv[4]) : 60;
    o.days = argc > 5 ? (size_t)atol(argv[5]) : 28;
    if (argc > 6)
        o.n_pumps = (size_t)atol(argv[6]);
    if (argc > 7)
        o.seed = (uint64_t)atoll(argv[7]);
    coce_err err = {0};
    if (coce_synth_generate(&o, argv[2], &err) != COCE_OK) {
        fprintf(stderr, "synth: %s\n", err.msg);
        return 1;
    }
    static pump pumps[20000];
    size_t np = read_pumps(argv[2], pumps, 20000);
    qsort(pumps, np, sizeof *pumps, cmp_pump);
    FILE *out = fopen(argv[3], "w");
    if (!out)
        return 1;
    fprintf(out, "group,stat,value\n");
    tvec tv = {0};
    static const int64_t chunks[3] = {25000, 15000, 5000};
    static const char *const cname[3] = {"25S", "15S", "5S"};
    coce_feature_row *rows = NULL;
    size_t rcap = 0;
    for (size_t a = 0; a < o.n_assets; ++a) {
        char pair[16], path[4096];
        coce_synth_symbol(a, pair, sizeof pair);
        pair[3] = '\0';
        snprintf(path, sizeof path, "%s/trades/%s.csv", argv[2], pair);
        if (read_trades(path, &tv) != 0)
            return 1;
        int64_t ex[256];
        size_t ne = 0;
        for (size_t p = 0; p < np; ++p)
            if (strcmp(pumps[p].sym, pair) == 0 && ne < 256)
                ex[ne++] = pumps[p].onset;
        normal_stats(out, &tv, ex, ne);
        if (ne == 0)
            continue;
        if (rcap < tv.n) {
            rcap = tv.n;
            rows = realloc(rows, rcap * sizeof *rows);
        }
        for (int c = 0; c < 3; ++c) {
            coce_features_cfg cfg;
            coce_features_cfg_default(&cfg, chunks[c]);
            size_t nr = 0;
            coce_features_batch(&cfg, tv.v, tv.n, rows, rcap, &nr);
            for (size_t k = 0; k < ne; ++k) {
                int64_t cs = ex[k] / chunks[c] * chunks[c];
                for (size_t r = 0; r < nr; ++r) {
                    if (rows[r].chunk_start_ms < cs)
                        continue;
                    if (rows[r].chunk_start_ms == cs)
                        for (int f = 0; f < 8; ++f)
                            fprintf(out, "onset_%s,%s,%.6g\n", cname[c],
                                    k_feats[f], rows[r].v[f]);
                    else
                        fprintf(out, "onset_%s,missing,1\n", cname[c]);
                    break;
                }
            }
        }
    }
    free(rows);
    free(tv.v);
    fclose(out);
    return 0;
}

/* ------------------------------------------------------------- cross */

typedef struct dset {
    double *X;
    uint8_t *y;
    size_t n, cap;
} dset;

static void dpush(dset *d, const double *x, uint8_t y)
{
    if (d->n == d->cap) {
        d->cap = d->cap * 2 + 65536;
        d->X = realloc(d->X, d->cap * 12 * sizeof(double));
        d->y = realloc(d->y, d->cap);
        if (!d->X || !d->y) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    memcpy(d->X + d->n * 12, x, 12 * sizeof(double));
    d->y[d->n++] = y;
}

static coce_feature_row *g_rows;
static size_t g_rcap;

/* Published feature rows of one trade array at 25 s. */
static size_t features25(const tvec *tv)
{
    if (g_rcap < tv->n) {
        g_rcap = tv->n;
        g_rows = realloc(g_rows, g_rcap * sizeof *g_rows);
    }
    coce_features_cfg cfg;
    coce_features_cfg_default(&cfg, 25000);
    size_t nr = 0;
    coce_features_batch(&cfg, tv->v, tv->n, g_rows, g_rcap, &nr);
    return nr;
}

static const char *g_names[12];

/* Adds the labelled rows of one asset (labels.h: onset chunk positive,
 * [-5, +15] min around it left out). */
static void add_rows(dset *d, size_t nr, const int64_t *on, size_t n_on)
{
    double x[12];
    for (size_t r = 0; r < nr; ++r) {
        int lab = coce_label_chunk(g_rows[r].chunk_start_ms, 25000, on, n_on);
        if (lab == COCE_LABEL_SKIP)
            continue;
        if (coce_detector_prepare(COCE_PREPARE_LOGRATIO, g_names, g_rows[r].v,
                                  x, 12) != 0)
            continue;
        dpush(d, x, lab == COCE_LABEL_POS);
    }
}

typedef struct score {
    size_t pumps, hit, alerts, false_alerts;
    double coin_days;
} score;

/* Alerts with the 30-minute pause (La Morgia et al. 2020, Sec. V) at the
 * close of each chunk; a pump counts as found when an alert falls in
 * [announce - 180 s, announce + 120 s]; every other alert is false. */
static void score_asset(const coce_pump_model *m, size_t nr, const tvec *tv,
                        const int64_t *ann, size_t n_ann, score *s)
{
    int64_t last_alert = INT64_MIN / 2;
    int hit[256] = {0};
    double x[12];
    for (size_t r = 0; r < nr; ++r) {
        if (coce_detector_prepare(COCE_PREPARE_LOGRATIO, g_names, g_rows[r].v,
                                  x, 12) != 0)
            continue;
        if (!coce_pump_model_alert(m, x, NULL))
            continue;
        int64_t t = g_rows[r].close_ms;
        if (t < last_alert + 30 * 60000)
            continue;
        last_alert = t;
        ++s->alerts;
        int ok = 0;
        for (size_t k = 0; k < n_ann && k < 256; ++k)
            if (t >= ann[k] - 180000 && t <= ann[k] + 120000) {
                hit[k] = 1;
                ok = 1;
            }
        s->false_alerts += (size_t)!ok;
    }
    for (size_t k = 0; k < n_ann && k < 256; ++k)
        s->hit += (size_t)hit[k];
    s->pumps += n_ann;
    if (tv->n > 1)
        s->coin_days +=
            (double)(tv->v[tv->n - 1].time_ms - tv->v[0].time_ms) / MS_D;
}

typedef struct rfile {
    char path[4096];
    int64_t ann, onset;
} rfile;

/* Real files and their hand-labelled 25 s onset chunk (pump_onsets, the
 * row of the same symbol within 10 min of the announcement; the announced
 * time when there is none). */
static size_t real_files(const char *shared, rfile *out, size_t cap)
{
    char dir[4096], path[4096], line[512];
    snprintf(dir, sizeof dir, "%s/data/pump_trades", shared);
    char **paths = NULL;
    size_t n = 0, k = 0;
    coce_err err = {0};
    if (coce_trade_dir_list(dir, &paths, &n, &err) != COCE_OK)
        return 0;
    snprintf(path, sizeof path, "%s/data/pump_onsets/onset_features_25S.csv",
             shared);
    for (size_t i = 0; i < n && k < cap; ++i) {
        char sym[32];
        int64_t ann;
        if (coce_trade_filename_parse(paths[i], sym, sizeof sym, &ann) !=
                COCE_OK ||
            ann >= 1577836800000LL) /* 2018-2019 only */
            continue;
        snprintf(out[k].path, sizeof out[k].path, "%s", paths[i]);
        out[k].ann = ann;
        out[k].onset = ann;
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof line, f)) {
            char *c = strrchr(line, ',');
            if (!c)
                continue;
            *c = '\0';
            char *s2 = strrchr(line, ',');
            int64_t t;
            if (s2 && strcmp(s2 + 1, sym) == 0 &&
                coce_trade_parse_time(line, 19, &t) == COCE_OK &&
                llabs(t - ann) < 600000)
                out[k].onset = t;
        }
        if (f)
            fclose(f);
        ++k;
    }
    coce_trade_dir_list_free(paths, n);
    return k;
}

static int train(const dset *d, coce_pump_model *m)
{
    coce_pump_train_opts o = {1.0, 1, 1.0, 25000, NULL, NULL};
    coce_err err = {0};
    if (coce_pump_model_train(d->X, d->y, d->n, 12, g_names, &o, m, &err) !=
        COCE_OK) {
        fprintf(stderr, "train: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void report(const char *what, const score *s)
{
    printf("%s: %zu of %zu pumps alerted (%.0f %%), %zu alerts, %zu false "
           "= %.3f per coin-day over %.0f coin-days\n",
           what, s->hit, s->pumps, 100.0 * (double)s->hit / (double)s->pumps,
           s->alerts, s->false_alerts, (double)s->false_alerts / s->coin_days,
           s->coin_days);
}

static int cmd_cross(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    for (int i = 0; i < 12; ++i)
        g_names[i] = coce_features_name((size_t)i);
    const char *dir = argv[2], *shared = argv[3];
    static pump pumps[20000];
    size_t np = read_pumps(dir, pumps, 20000);
    static rfile rf[256];
    size_t nf = real_files(shared, rf, 256);
    if (np == 0 || nf == 0) {
        fprintf(stderr,
                "cross: no planted pumps in %s or no real files in %s\n", dir,
                shared);
        return 1;
    }
    char tdir[4096];
    snprintf(tdir, sizeof tdir, "%s/trades", dir);
    char **syn = NULL;
    size_t ns = 0;
    coce_err err = {0};
    if (coce_trade_dir_list(tdir, &syn, &ns, &err) != COCE_OK)
        return 1;
    tvec tv = {0};
    dset ds = {0}, dr = {0};
    /* training sets */
    for (size_t i = 0; i < ns; ++i) {
        if (read_trades(syn[i], &tv) != 0)
            return 1;
        const char *b = strrchr(syn[i], '/') + 1;
        int64_t on[256];
        size_t n_on = 0;
        for (size_t p = 0; p < np; ++p)
            if (strncmp(pumps[p].sym, b, strlen(pumps[p].sym)) == 0 &&
                b[strlen(pumps[p].sym)] == '.' && n_on < 256)
                on[n_on++] = pumps[p].onset;
        add_rows(&ds, features25(&tv), on, n_on);
    }
    for (size_t i = 0; i < nf; ++i) {
        if (read_trades(rf[i].path, &tv) != 0)
            return 1;
        add_rows(&dr, features25(&tv), &rf[i].onset, 1);
    }
    coce_pump_model ms, mr;
    if (train(&ds, &ms) != 0 || train(&dr, &mr) != 0)
        return 1;
    printf("trained on synthetic: %zu rows; on real: %zu rows; thresholds "
           "%.9g / %.9g\n",
           ds.n, dr.n, ms.threshold, mr.threshold);
    score a = {0}, b2 = {0}, a_self = {0}, b_self = {0};
    for (size_t i = 0; i < nf; ++i) {
        read_trades(rf[i].path, &tv);
        size_t nr = features25(&tv);
        score_asset(&ms, nr, &tv, &rf[i].ann, 1, &a);
        score_asset(&mr, nr, &tv, &rf[i].ann, 1, &b_self);
    }
    for (size_t i = 0; i < ns; ++i) {
        read_trades(syn[i], &tv);
        size_t nr = features25(&tv);
        const char *b = strrchr(syn[i], '/') + 1;
        int64_t ann[256];
        size_t n_ann = 0;
        for (size_t p = 0; p < np; ++p)
            if (strncmp(pumps[p].sym, b, strlen(pumps[p].sym)) == 0 &&
                b[strlen(pumps[p].sym)] == '.' && n_ann < 256)
                ann[n_ann++] = pumps[p].t_ann;
        score_asset(&mr, nr, &tv, ann, n_ann, &b2);
        score_asset(&ms, nr, &tv, ann, n_ann, &a_self);
    }
    report("(a) synthetic-trained model on the real 2018-2019 pumps", &a);
    report("(b) real-trained model on the planted pumps", &b2);
    report("    in-sample: synthetic model on synthetic", &a_self);
    report("    in-sample: real model on real", &b_self);
    coce_trade_dir_list_free(syn, ns);
    free(tv.v);
    free(ds.X);
    free(ds.y);
    free(dr.X);
    free(dr.y);
    free(g_rows);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "cross") == 0)
        return cmd_cross(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "calib") == 0)
        return cmd_calib(argc, argv);
    fprintf(stderr, "usage: synth_cross calib DIR OUT.csv [n days pumps seed]\n"
                    "       synth_cross cross DIR SHARED_DIR\n");
    return 2;
}
