/* Pump detector throughput on one core (bench/pump.sh): features + prepare
 * + scoring through alpha/detector.h (the engine's code path), from trades
 * already in memory and from the gzip'd file itself.
 * Usage: bench_pump MODEL.json TRADES.csv.gz [REPEATS] */
#include "alpha/detector.h"
#include "data_ingest/trades.h"
#include "utils/symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int load(const char *path, coce_symbols *syms, coce_trade **t,
                size_t *n)
{
    coce_trade_reader *r = NULL;
    if (coce_trade_reader_open(&r, path, syms, NULL, NULL) != COCE_OK)
        return -1;
    size_t cap = 1 << 16;
    *t = malloc(cap * sizeof **t);
    *n = 0;
    for (;;) {
        if (cap - *n < 4096) {
            cap *= 2;
            *t = realloc(*t, cap * sizeof **t);
        }
        size_t got = 0;
        int rc = coce_trade_reader_next(r, *t + *n, cap - *n, &got, NULL);
        *n += got;
        if (rc != COCE_OK)
            break;
    }
    coce_trade_reader_free(r);
    return 0;
}

static size_t run(const coce_pump_model *m, const coce_features_cfg *fc,
                  const coce_trade *t, size_t n, size_t n_assets)
{
    coce_detector *d = NULL;
    if (coce_detector_new(m, fc, n_assets, 30 * 60000, &d, NULL) != COCE_OK)
        return 0;
    size_t alerts = 0;
    coce_detector_event ev;
    int em = 0;
    for (size_t i = 0; i < n; ++i)
        if (coce_detector_push(d, &t[i], &ev, &em, NULL) == COCE_OK && em)
            alerts += (size_t)ev.alerted;
    coce_detector_free(d);
    return alerts;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_pump MODEL TRADES [REPEATS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 20;
    coce_pump_model m;
    if (coce_pump_model_load(argv[1], &m, NULL) != COCE_OK)
        return 1;
    coce_features_cfg fc;
    coce_features_cfg_default(&fc, m.chunk_ms);
    coce_symbols *syms = NULL;
    coce_symbols_new(&syms);
    coce_trade *t = NULL;
    size_t n = 0;
    double t0 = now_s();
    if (load(argv[2], syms, &t, &n) != 0 || n == 0)
        return 1;
    size_t na = coce_symbols_count(syms);
    size_t alerts = run(&m, &fc, t, n, na);
    double gz = now_s() - t0;
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        double a = now_s();
        alerts = run(&m, &fc, t, n, na);
        double e = now_s() - a;
        best = e < best ? e : best;
    }
    printf("trades %zu alerts %zu\n", n, alerts);
    printf("in-memory: best of %d %.4f s = %.1f M trades/s\n", reps, best,
           (double)n / best / 1e6);
    printf("from gzip (read + detect, once): %.4f s = %.2f M trades/s\n", gz,
           (double)n / gz / 1e6);
    free(t);
    coce_symbols_free(syms);
    return 0;
}
