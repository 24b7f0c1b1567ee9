/* Per-asset sentiment series from time-ordered scored posts: for each asset
 * and fixed window (bucket) of time, the number of mentions, the mean VADER
 * compound, and their velocities. Streaming, with no look-ahead: a window's
 * bar is emitted only when the window has closed, i.e. when a post or a
 * clock tick (coce_sentiment_series_advance) at or after its close time has
 * been seen; nothing emitted ever changes later. Batch (one call) and
 * streaming under any chunking emit exactly the same bars, in the same
 * order (window, then asset id ascending).
 *
 * Windows are [origin + k w, origin + (k+1) w) for integer k. Definitions,
 * for an asset with m_k mentions and mean compound c_k in window k, and T =
 * cfg.trailing (windows before an asset's first mention, or before the
 * first post of the stream, count as windows without mentions):
 *   mention_delta        = m_k - m_{k-1}
 *   mention_ratio        = m_k / ((m_{k-T} + ... + m_{k-1}) / T);
 *                          NaN when that trailing mean is 0
 *   compound_delta       = c_k - c_{k-1}; NaN when either window is empty
 *   compound_vs_trailing = c_k - (sum of compounds in windows k-T..k-1) /
 *                          (mentions in k-T..k-1), i.e. the mean compound
 *                          of the trailing posts; NaN when either is empty
 * An asset gets bars from the window of its first mention on: every window
 * (dense mode, empty windows included) or only windows with mentions
 * (cfg.sparse). The object allocates only in _new; push and advance never
 * allocate. */
#ifndef COCE_ALPHA_SENTIMENT_SERIES_H
#define COCE_ALPHA_SENTIMENT_SERIES_H

#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_sentiment_series_cfg {
    int64_t window_ms;  /* > 0, e.g. 300000 (5 min) */
    int64_t origin_ms;  /* window alignment, e.g. 0 (UTC multiples) */
    size_t trailing;    /* T >= 1 windows for the trailing means */
    size_t max_assets;  /* asset ids must be < max_assets (>= 1) */
    int sparse;         /* 1: emit only windows with mentions */
} coce_sentiment_series_cfg;

typedef struct coce_sentiment_bar {
    int64_t open_ms, close_ms; /* the window; known from close_ms on */
    coce_asset_id asset;
    size_t mentions;
    double mean_compound; /* NaN when mentions == 0 */
    double mention_delta;
    double mention_ratio;
    double compound_delta;
    double compound_vs_trailing;
} coce_sentiment_bar;

/* Receives each closed bar; the pointer is valid during the call only. */
typedef void (*coce_sentiment_bar_fn)(const coce_sentiment_bar *bar,
                                      void *ctx);

typedef struct coce_sentiment_series coce_sentiment_series;

/* COCE_EINVAL (with a message naming the field) on a bad configuration. */
int coce_sentiment_series_new(const coce_sentiment_series_cfg *cfg,
                              coce_sentiment_series **out, coce_err *err);
void coce_sentiment_series_free(coce_sentiment_series *ss);

/* Adds posts (time_ms non-decreasing, across calls too); emits the bars of
 * the windows each post's time closes. COCE_EORDER for a post earlier than
 * the previous one (or than the last advance), COCE_ERANGE for an asset id
 * >= max_assets, COCE_EINVAL for a NaN compound; posts before the bad one
 * are kept. text_offset/text_len are ignored. */
int coce_sentiment_series_push(coce_sentiment_series *ss,
                               const coce_post *posts, size_t n,
                               coce_sentiment_bar_fn fn, void *ctx,
                               coce_err *err);

/* The clock reached now_ms: emits every window with close_ms <= now_ms.
 * COCE_EORDER when now_ms is earlier than the latest post or advance. */
int coce_sentiment_series_advance(coce_sentiment_series *ss, int64_t now_ms,
                                  coce_sentiment_bar_fn fn, void *ctx,
                                  coce_err *err);

/* Batch form: new, push(all), advance(end_ms), free. */
int coce_sentiment_series_batch(const coce_sentiment_series_cfg *cfg,
                                const coce_post *posts, size_t n,
                                int64_t end_ms, coce_sentiment_bar_fn fn,
                                void *ctx, coce_err *err);

#endif
