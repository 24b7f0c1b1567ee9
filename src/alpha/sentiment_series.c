/* Per-asset mention and sentiment series over fixed windows. Why: message
 * volume per time bucket and its growth are the social-media signals used
 * to flag coordinated pumps (Mirtaheri et al., "Identifying and Analyzing
 * Cryptocurrency Manipulations in Social Media", IEEE Trans. Comput. Soc.
 * Syst. 2021); the mean VADER compound follows the same windows. The exact
 * definitions (COCE's own) are in the header. */
#include "alpha/sentiment_series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct asset_state {
    int active;
    size_t cnt; /* open window */
    double sum;
    size_t prev_cnt; /* window k-1 */
    double prev_sum;
} asset_state;

struct coce_sentiment_series {
    coce_sentiment_series_cfg cfg;
    int started;
    int64_t cur_k;   /* index of the open window */
    int64_t last_ms; /* latest post or advance time */
    int have_last;
    size_t empty_run; /* consecutive closed windows without any mention */
    asset_state *a;
    size_t *ring_cnt; /* max_assets x T, slot = window index mod T */
    double *ring_sum;
    coce_asset_id *active; /* ascending */
    size_t n_active;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void coce_sentiment_series_free(coce_sentiment_series *ss)
{
    if (!ss)
        return;
    free(ss->a);
    free(ss->ring_cnt);
    free(ss->ring_sum);
    free(ss->active);
    free(ss);
}

int coce_sentiment_series_new(const coce_sentiment_series_cfg *cfg,
                              coce_sentiment_series **out, coce_err *err)
{
    if (!out || !cfg)
        return coce_err_set(err, COCE_EINVAL, "sentiment series: NULL");
    *out = NULL;
    if (cfg->window_ms <= 0)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment series: window_ms must be > 0");
    if (cfg->trailing < 1 || cfg->trailing > 100000)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment series: trailing must be in "
                            "[1, 100000]");
    if (cfg->max_assets < 1 || cfg->max_assets > ((size_t)1 << 24))
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment series: max_assets must be in "
                            "[1, 2^24]");
    coce_sentiment_series *ss = calloc(1, sizeof *ss);
    if (!ss)
        return coce_err_set(err, COCE_ENOMEM, "sentiment series: no memory");
    ss->cfg = *cfg;
    size_t na = cfg->max_assets;
    ss->a = calloc(na, sizeof *ss->a);
    ss->ring_cnt = calloc(na * cfg->trailing, sizeof *ss->ring_cnt);
    ss->ring_sum = calloc(na * cfg->trailing, sizeof *ss->ring_sum);
    ss->active = calloc(na, sizeof *ss->active);
    if (!ss->a || !ss->ring_cnt || !ss->ring_sum || !ss->active) {
        coce_sentiment_series_free(ss);
        return coce_err_set(err, COCE_ENOMEM, "sentiment series: no memory");
    }
    *out = ss;
    return COCE_OK;
}

/* Emits window k for every active asset, then rolls it into the history. */
static void close_window(coce_sentiment_series *ss, int64_t k,
                         coce_sentiment_bar_fn fn, void *ctx)
{
    const size_t T = ss->cfg.trailing;
    const size_t slot = (size_t)(((k % (int64_t)T) + (int64_t)T) % (int64_t)T);
    int any = 0;
    for (size_t j = 0; j < ss->n_active; ++j) {
        coce_asset_id id = ss->active[j];
        asset_state *st = &ss->a[id];
        size_t *rc = ss->ring_cnt + (size_t)id * T;
        double *rs = ss->ring_sum + (size_t)id * T;
        if (st->cnt)
            any = 1;
        if (fn && (!ss->cfg.sparse || st->cnt)) {
            size_t tc = 0;
            double ts = 0.0;
            for (size_t q = 0; q < T; ++q) { /* oldest first: fixed order */
                size_t p = (slot + q) % T;
                tc += rc[p];
                ts += rs[p];
            }
            coce_sentiment_bar b;
            b.open_ms = ss->cfg.origin_ms + k * ss->cfg.window_ms;
            b.close_ms = b.open_ms + ss->cfg.window_ms;
            b.asset = id;
            b.mentions = st->cnt;
            b.mean_compound = st->cnt ? st->sum / (double)st->cnt : NAN;
            b.mention_delta = (double)st->cnt - (double)st->prev_cnt;
            double tmean = (double)tc / (double)T;
            b.mention_ratio = tc ? (double)st->cnt / tmean : NAN;
            b.compound_delta =
                (st->cnt && st->prev_cnt)
                    ? b.mean_compound - st->prev_sum / (double)st->prev_cnt
                    : NAN;
            b.compound_vs_trailing =
                (st->cnt && tc) ? b.mean_compound - ts / (double)tc : NAN;
            fn(&b, ctx);
        }
        rc[slot] = st->cnt;
        rs[slot] = st->sum;
        st->prev_cnt = st->cnt;
        st->prev_sum = st->sum;
        st->cnt = 0;
        st->sum = 0.0;
    }
    ss->empty_run = any ? 0 : ss->empty_run + 1;
}

/* Closes windows cur_k .. K-1. In sparse mode, once T+1 windows in a row
 * were empty every history is zero and nothing more can be emitted. */
static void close_until(coce_sentiment_series *ss, int64_t K,
                        coce_sentiment_bar_fn fn, void *ctx)
{
    while (ss->cur_k < K) {
        if (ss->cfg.sparse && ss->empty_run > ss->cfg.trailing) {
            ss->cur_k = K;
            break;
        }
        close_window(ss, ss->cur_k, fn, ctx);
        ++ss->cur_k;
    }
}

static int window_of(const coce_sentiment_series *ss, int64_t t, int64_t *k)
{
    int64_t d;
    if (__builtin_sub_overflow(t, ss->cfg.origin_ms, &d))
        return COCE_ERANGE;
    *k = floor_div(d, ss->cfg.window_ms);
    /* the window's close must be representable */
    int64_t close;
    if (__builtin_mul_overflow(*k + 1, ss->cfg.window_ms, &close) ||
        __builtin_add_overflow(close, ss->cfg.origin_ms, &close))
        return COCE_ERANGE;
    return COCE_OK;
}

static void activate(coce_sentiment_series *ss, coce_asset_id id)
{
    size_t pos = ss->n_active;
    while (pos > 0 && ss->active[pos - 1] > id) {
        ss->active[pos] = ss->active[pos - 1];
        --pos;
    }
    ss->active[pos] = id;
    ++ss->n_active;
    ss->a[id].active = 1;
}

int coce_sentiment_series_push(coce_sentiment_series *ss,
                               const coce_post *posts, size_t n,
                               coce_sentiment_bar_fn fn, void *ctx,
                               coce_err *err)
{
    if (!ss || (!posts && n))
        return coce_err_set(err, COCE_EINVAL, "sentiment series: NULL");
    for (size_t i = 0; i < n; ++i) {
        const coce_post *p = &posts[i];
        if (ss->have_last && p->time_ms < ss->last_ms)
            return coce_err_set(err, COCE_EORDER,
                                "sentiment series: post %zu: time %lld "
                                "before %lld",
                                i, (long long)p->time_ms,
                                (long long)ss->last_ms);
        if (p->asset >= ss->cfg.max_assets)
            return coce_err_set(err, COCE_ERANGE,
                                "sentiment series: post %zu: asset %u >= "
                                "max_assets %zu",
                                i, (unsigned)p->asset, ss->cfg.max_assets);
        if (isnan(p->compound))
            return coce_err_set(err, COCE_EINVAL,
                                "sentiment series: post %zu: NaN compound",
                                i);
        int64_t k;
        if (window_of(ss, p->time_ms, &k))
            return coce_err_set(err, COCE_ERANGE,
                                "sentiment series: post %zu: time out of "
                                "range",
                                i);
        if (!ss->started) {
            ss->started = 1;
            ss->cur_k = k;
        } else {
            close_until(ss, k, fn, ctx);
        }
        if (!ss->a[p->asset].active)
            activate(ss, p->asset);
        ss->a[p->asset].cnt += 1;
        ss->a[p->asset].sum += p->compound;
        ss->empty_run = 0;
        ss->last_ms = p->time_ms;
        ss->have_last = 1;
    }
    return COCE_OK;
}

int coce_sentiment_series_advance(coce_sentiment_series *ss, int64_t now_ms,
                                  coce_sentiment_bar_fn fn, void *ctx,
                                  coce_err *err)
{
    if (!ss)
        return coce_err_set(err, COCE_EINVAL, "sentiment series: NULL");
    if (ss->have_last && now_ms < ss->last_ms)
        return coce_err_set(err, COCE_EORDER,
                            "sentiment series: advance to %lld before %lld",
                            (long long)now_ms, (long long)ss->last_ms);
    int64_t K;
    if (window_of(ss, now_ms, &K))
        return coce_err_set(err, COCE_ERANGE,
                            "sentiment series: time out of range");
    if (ss->started)
        close_until(ss, K, fn, ctx);
    ss->last_ms = now_ms;
    ss->have_last = 1;
    return COCE_OK;
}

int coce_sentiment_series_batch(const coce_sentiment_series_cfg *cfg,
                                const coce_post *posts, size_t n,
                                int64_t end_ms, coce_sentiment_bar_fn fn,
                                void *ctx, coce_err *err)
{
    coce_sentiment_series *ss = NULL;
    int rc = coce_sentiment_series_new(cfg, &ss, err);
    if (!rc)
        rc = coce_sentiment_series_push(ss, posts, n, fn, ctx, err);
    if (!rc)
        rc = coce_sentiment_series_advance(ss, end_ms, fn, ctx, err);
    coce_sentiment_series_free(ss);
    return rc;
}
