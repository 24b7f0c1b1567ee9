/* Pump-detection features of La Morgia, Mei, Sassi, Stefa, "Pump and Dumps
 * in the Bitcoin Era: Real Time Detection of Cryptocurrency Market
 * Manipulations", ICCCN 2020, Section IV-B, computed online in one pass.
 *
 * The definitions are those of the authors' released code
 * (SystemsLab-Sapienza/pump-and-dump-dataset, features.py, build_features and
 * the *_feature functions), which differ in detail from the paper's prose;
 * features.c states each one as a formula and cites the function.
 *
 * Chunks: the buy trades of one asset are cut into chunks of chunk_ms,
 * [floor(t/s)*s, floor(t/s)*s + s) (pandas Grouper(freq) with its default
 * midnight origin, which is the same when s divides one day). Chunks without
 * a buy trade do not exist for the features: the moving windows run over the
 * sequence of NON-EMPTY buy chunks. Sell trades are used only by the extras.
 *
 * Each market feature is pct_change (x_i / x_{i-1} - 1) of a moving statistic
 * x_i of the last `window` (or `price_window`) non-empty chunks. A row whose
 * statistic divides 0 by 0 is NaN (the published code then drops the row);
 * x/0 with x > 0 is +inf and is kept, as published.
 *
 * Threading: a coce_features handle is single-threaded state of one asset. */
#ifndef COCE_ALPHA_FEATURES_H
#define COCE_ALPHA_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "utils/types.h"

#define COCE_FEATURES_PUBLISHED 12
#define COCE_FEATURES_MAX 24 /* published 12 + COCE's own extras */
#define COCE_FEATURES_EXTRAS 4

/* Column indices, in the published order, then the extras. */
enum {
    COCE_F_STD_RUSH_ORDER = 0,
    COCE_F_AVG_RUSH_ORDER,
    COCE_F_STD_TRADES,
    COCE_F_STD_VOLUME,
    COCE_F_AVG_VOLUME,
    COCE_F_STD_PRICE,
    COCE_F_AVG_PRICE,
    COCE_F_AVG_PRICE_MAX,
    COCE_F_HOUR_SIN,
    COCE_F_HOUR_COS,
    COCE_F_MINUTE_SIN,
    COCE_F_MINUTE_COS,
    /* extras (cfg.extras = 1), COCE's own, not in the paper */
    COCE_F_BUY_VOLUME_SHARE,  /* buy btc volume / (buy + sell) in the chunk */
    COCE_F_RUSH_VOLUME_SHARE, /* btc volume of rush-order fills / buy volume */
    COCE_F_LOG_VOLUME_Z,      /* z-score of log buy volume vs previous window */
    COCE_F_MAX_PRICE_RETURN   /* chunk max buy price / previous close - 1 */
};

typedef struct coce_features_cfg {
    int64_t chunk_ms;    /* chunk length s, > 0 */
    size_t window;       /* moving window w in chunks, >= 2 */
    size_t price_window; /* window of avg_price / avg_price_max, >= 1 */
    int extras;          /* 0: the 12 published features; 1: + extras */
} coce_features_cfg;

/* Published settings: window 900 for chunks >= 15 s (the paper's 25 s and
 * 15 s), 700 below (its 5 s); price_window 10; extras 0. */
void coce_features_cfg_default(coce_features_cfg *cfg, int64_t chunk_ms);

typedef struct coce_feature_row {
    int64_t chunk_start_ms;
    int64_t close_ms; /* chunk_start + chunk_ms: the decision time */
    size_t n;         /* buy fills in the chunk */
    int warm;         /* 1 once the windows are full and a previous full window
                         exists (index >= max(window, price_window) among non-empty
                         chunks); rows before are warm-up, not emitted by batch */
    double v[COCE_FEATURES_MAX]; /* NaN where undefined */
} coce_feature_row;

/* 12, or 12 + COCE_FEATURES_EXTRAS. */
size_t coce_features_count(const coce_features_cfg *cfg);
/* Column name ("std_rush_order", ...); NULL when i is out of range. */
const char *coce_features_name(size_t i);

/* 1 when the row is one the published code outputs: warm and no NaN among
 * the published 12 (+inf is kept, as published). */
int coce_features_row_published(const coce_feature_row *row);

/* Per-asset streaming state; allocates O(window) once at _new. */
typedef struct coce_features coce_features;

/* COCE_EINVAL on a bad cfg, COCE_ENOMEM. */
int coce_features_new(coce_features **out, const coce_features_cfg *cfg);
void coce_features_free(coce_features *f);
/* Back to the state right after _new. */
void coce_features_reset(coce_features *f);

/* Push one trade of this asset. Trades come in non-decreasing time and never
 * before the end of a chunk already closed (else COCE_EORDER, state
 * unchanged); side COCE_SIDE_BUY or COCE_SIDE_SELL, price > 0 and qty >= 0
 * finite (else COCE_EINVAL). If the trade falls in a later chunk than the
 * open one, the open chunk closes first; if it held a buy trade its row is
 * written to *row and *emitted = 1 (at most one row per call), else
 * *emitted = 0. Every non-empty buy chunk yields exactly one row, including
 * warm-up rows (warm = 0) and NaN rows; batch keeps only the published ones. */
int coce_features_push(coce_features *f, const coce_trade *t,
                       coce_feature_row *row, int *emitted);

/* Clock: closes the open chunk if now_ms >= its end (live engine timer);
 * same row semantics as _push. */
int coce_features_advance(coce_features *f, int64_t now_ms,
                          coce_feature_row *row, int *emitted);

/* Batch over a whole time-ordered trade array of one asset: the rows of
 * every non-empty buy chunk that coce_features_row_published() accepts,
 * including the last chunk (the array is taken as complete): exactly the
 * published build_features() rows. Allocates one state internally.
 * *n_rows is the number of such rows; when it exceeds cap, the first cap are
 * written and COCE_ERANGE is returned. trades and rows must not overlap. */
int coce_features_batch(const coce_features_cfg *cfg, const coce_trade *trades,
                        size_t n, coce_feature_row *rows, size_t cap,
                        size_t *n_rows);

#endif
