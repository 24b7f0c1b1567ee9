/* Pump detector throughput on one core (bench/pump.sh): features + prepare
 * + scoring through alpha/detector.h (the engine's code path), from trades
 * already in memory and from the gzip'd file itself; and the training time
 * of the model (coce_pump_model_train: scaler + Newton-IRLS to tol 1e-10,
 * balanced weights) on a `coce features` table in memory.
 * Usage: bench_pump MODEL.json TRADES.csv.gz [REPEATS]
 *        bench_pump --fit FEATURES.csv [C] [REPEATS] */
#include "alpha/detector.h"
#include "alpha/pump_model.h"
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

/* Reads symbol,chunk_start,<d features>,label; keeps labels 0/1 and rows
 * without NaN after prepare (as `coce train` does). */
static int read_table(const char *path, double **X, uint8_t **y, size_t *n,
                      size_t *d, char names[][COCE_PUMP_MODEL_NAME_MAX])
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char *line = NULL;
    size_t cap = 0, rows = 0, rcap = 1 << 16;
    const char *np[COCE_FEATURES_MAX];
    *d = 0;
    if (getline(&line, &cap, f) <= 0) {
        fclose(f);
        return -1;
    }
    for (char *tok = strtok(line, ",\n"); tok != NULL; tok = strtok(NULL, ",\n"))
        if (strcmp(tok, "symbol") != 0 && strcmp(tok, "chunk_start") != 0 &&
            strcmp(tok, "label") != 0 && *d < COCE_FEATURES_MAX) {
            snprintf(names[*d], COCE_PUMP_MODEL_NAME_MAX, "%s", tok);
            np[*d] = names[*d];
            ++*d;
        }
    *X = malloc(rcap * *d * sizeof **X);
    *y = malloc(rcap);
    double raw[COCE_FEATURES_MAX];
    while (getline(&line, &cap, f) > 0) {
        char *p = strchr(line, ',');
        p = p != NULL ? strchr(p + 1, ',') : NULL;
        if (p == NULL)
            continue;
        for (size_t j = 0; j < *d; ++j)
            raw[j] = strtod(p + 1, &p);
        int lab = atoi(p + 1);
        if (lab > 1)
            continue;
        if (rows == rcap) {
            rcap *= 2;
            *X = realloc(*X, rcap * *d * sizeof **X);
            *y = realloc(*y, rcap);
        }
        if (coce_detector_prepare(COCE_PREPARE_DEFAULT, np, raw,
                                  *X + rows * *d, *d) != 0)
            continue;
        (*y)[rows++] = (uint8_t)lab;
    }
    free(line);
    fclose(f);
    *n = rows;
    return 0;
}

static int fit_bench(int argc, char **argv)
{
    double C = argc > 3 ? atof(argv[3]) : 1.0;
    int reps = argc > 4 ? atoi(argv[4]) : 3;
    static char names[COCE_FEATURES_MAX][COCE_PUMP_MODEL_NAME_MAX];
    const char *np[COCE_FEATURES_MAX];
    double *X = NULL;
    uint8_t *y = NULL;
    size_t n = 0, d = 0;
    if (read_table(argv[2], &X, &y, &n, &d, names) != 0 || n == 0)
        return 1;
    for (size_t j = 0; j < d; ++j)
        np[j] = names[j];
    coce_pump_train_opts o;
    memset(&o, 0, sizeof o);
    o.C = C;
    o.balanced = 1;
    o.weight_pos = 1.0;
    double best = 1e30;
    coce_pump_model m;
    for (int r = 0; r < reps; ++r) {
        double a = now_s();
        if (coce_pump_model_train(X, y, n, d, np, &o, &m, NULL) != COCE_OK)
            return 1;
        double e = now_s() - a;
        best = e < best ? e : best;
    }
    printf("coce fit: %zu rows x %zu, C %g: best of %d %.3f s (%s)\n", n, d,
           C, reps, best, m.notes);
    free(X);
    free(y);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--fit") == 0)
        return fit_bench(argc, argv);
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
