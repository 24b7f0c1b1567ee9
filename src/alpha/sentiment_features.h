/* Sentiment columns for the pump features (alpha/features.h): per asset,
 * from its VADER-scored posts (alpha/sentiment.h), the mention burst and
 * compound-score velocity that pump promotion leaves in social media before
 * and during the move (Kamps & Kleinberg, "To the moon: defining and
 * detecting cryptocurrency pump-and-dumps", Crime Science 2018, Sec. 4:
 * anomalous mention volume as a pump indicator; Xu & Livshits, "The anatomy
 * of a cryptocurrency pump-and-dump scheme", USENIX Security 2019, Sec. 3:
 * promotion precedes and accompanies the pump). docs/pump_model_sentiment.md
 * has the measured gain of each column.
 *
 * No look-ahead. The values for a chunk that closes at time t use only the
 * posts with time < t: a post at or after t never changes them.
 *
 * Definitions at a query time t (a multiple of step_ms), with W = window_ms,
 * B = baseline_ms (B >= 2 W), counts m and summed compounds S over the posts
 * of the half-open intervals
 *   now  = [t - W, t),  prev = [t - 2W, t - W),  base = [t - B, t - W),
 * and the shrunken mean compound c(X) = S(X) / (m(X) + 1) (one neutral
 * pseudo-post: an empty window has mean 0, never NaN, and a lone post counts
 * half as much as a burst; a logistic model cannot take NaN):
 *   sent_mentions       = log(1 + m(now))
 *   sent_mention_ratio  = log((m(now) + 1) / (m(base) W / (B - W) + 1)):
 *                         the burst against the coin's own trailing rate
 *   sent_compound_delta = c(now) - c(base): tone against the trailing tone
 *   sent_compound_vel   = c(now) - c(prev): change of tone per window
 * Compounds are counted in units of 1e-4 (VADER's own rounding of compound),
 * so every sum is an exact integer: the values depend only on the posts and
 * t, never on the order of calls, and batch = streaming to the bit.
 *
 * Windows count from the first post or query of the handle; before that no
 * post is known (as for a coin without posts yet).
 *
 * Memory: (B + ahead) / step + 1 buckets, allocated at _new; push and values
 * never allocate. A handle is single-threaded state of one asset. */
#ifndef COCE_ALPHA_SENTIMENT_FEATURES_H
#define COCE_ALPHA_SENTIMENT_FEATURES_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

/* Column indices (bit i of cfg.columns selects column i). */
enum {
    COCE_SF_MENTIONS = 0,
    COCE_SF_MENTION_RATIO,
    COCE_SF_COMPOUND_DELTA,
    COCE_SF_COMPOUND_VEL,
    COCE_SF_COUNT /* 4 */
};

#define COCE_SF_ALL ((1u << COCE_SF_COUNT) - 1u)
/* The recommended set for the pump model: the columns that gained at the
 * shipped operating point on the generated market. None did (each cost
 * pumps: the promotion burst fires alerts before the hit window;
 * docs/pump_model_sentiment.md), so it is empty and `coce features --posts`
 * asks for --sentiment-columns. */
#define COCE_SF_DEFAULT_COLUMNS 0u

typedef struct coce_sentiment_features_cfg {
    int64_t step_ms;     /* bucket and query grid, > 0 (the chunk length) */
    int64_t window_ms;   /* W, a positive multiple of step_ms */
    int64_t baseline_ms; /* B, a multiple of step_ms, >= 2 W, <= 400 days */
    int64_t ahead_ms;    /* posts may run this far past the last query time
                            (a multiple of step_ms, >= 0) */
    unsigned columns;    /* non-empty subset of COCE_SF_ALL */
} coce_sentiment_features_cfg;

/* step = chunk_ms, W = 15 min, B = 24 h, ahead = W, all four columns.
 * W must be a multiple of chunk_ms (true for 5, 15, 25 s). */
void coce_sentiment_features_cfg_default(coce_sentiment_features_cfg *cfg,
                                         int64_t chunk_ms);

/* COCE_OK or COCE_EINVAL naming the field. */
int coce_sentiment_features_cfg_check(const coce_sentiment_features_cfg *cfg,
                                      coce_err *err);

/* Number of selected columns (0 for a NULL cfg). */
size_t coce_sentiment_features_count(const coce_sentiment_features_cfg *cfg);
/* Name of the i-th selected column ("sent_mentions", ...); NULL when out of
 * range. */
const char *
coce_sentiment_features_name(const coce_sentiment_features_cfg *cfg,
                             size_t i);
/* Column index of a name of any column; -1 when unknown. */
int coce_sentiment_features_index(const char *name);

typedef struct coce_sentiment_features coce_sentiment_features;

/* COCE_EINVAL (bad cfg), COCE_ENOMEM. */
int coce_sentiment_features_new(const coce_sentiment_features_cfg *cfg,
                                coce_sentiment_features **out, coce_err *err);
/* NULL is a no-op. */
void coce_sentiment_features_free(coce_sentiment_features *sf);
/* Back to the state right after _new. */
void coce_sentiment_features_reset(coce_sentiment_features *sf);

/* One post of this asset with its VADER compound in [-1, 1]. Posts come in
 * non-decreasing time and never before the last query time (a post at t
 * after the query at t is fine: it belongs to later chunks). COCE_EORDER
 * otherwise, COCE_EINVAL for a NaN or out-of-range compound (state
 * unchanged). A post more than ahead_ms past the last query moves the
 * earliest allowed query time forward. */
int coce_sentiment_features_push(coce_sentiment_features *sf, int64_t time_ms,
                                 double compound, coce_err *err);

/* The selected columns at query time t_ms (the close of a chunk) into
 * out[0 .. count-1]. t_ms must be a multiple of step_ms (COCE_EINVAL), not
 * earlier than the previous query, and not earlier than the latest post
 * minus ahead_ms (COCE_EORDER). Never NaN. */
int coce_sentiment_features_values(coce_sentiment_features *sf, int64_t t_ms,
                                   double *out, coce_err *err);

/* Batch: n_q query times (non-decreasing) against n time-ordered posts of
 * one asset (times[], compounds[]); row q of out (count columns each) gets
 * the values at query_ms[q]. Same errors; out must not overlap the inputs.
 * Allocates one handle internally. */
int coce_sentiment_features_batch(const coce_sentiment_features_cfg *cfg,
                                  const int64_t *times,
                                  const double *compounds, size_t n,
                                  const int64_t *query_ms, size_t n_q,
                                  double *out, coce_err *err);

#endif
