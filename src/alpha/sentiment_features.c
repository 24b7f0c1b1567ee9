/* Sentiment columns of the pump features (sentiment_features.h).
 *
 * A ring of per-step buckets (post count, summed compound in 1e-4 units)
 * over [k - nB, k + nA] (nB + nA + 1 slots), k = the cursor (bucket of the latest query time),
 * with running integer sums of the three windows relative to k. Sliding the
 * cursor by one bucket moves one bucket between windows in O(1); the sums
 * are integers, so they are exact whatever the order of the calls. */
#include "alpha/sentiment_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BASELINE_MS (INT64_C(400) * 86400000)
#define COMPOUND_UNIT 1e4 /* VADER rounds compound to 4 decimals */

struct coce_sentiment_features {
    coce_sentiment_features_cfg cfg;
    int64_t nw, nb, na, r; /* window, baseline, ahead, ring (buckets) */
    int64_t *cnt, *sum;    /* ring, slot = bucket mod r */
    int started;
    int64_t k;             /* cursor bucket */
    int64_t last_post_ms, last_query_ms;
    int64_t cw, sw, cp, sp, cb, sb; /* now, prev, base windows */
};

static const char *const names[COCE_SF_COUNT] = {
    "sent_mentions", "sent_mention_ratio", "sent_compound_delta",
    "sent_compound_vel"};

void coce_sentiment_features_cfg_default(coce_sentiment_features_cfg *cfg,
                                         int64_t chunk_ms)
{
    if (cfg == NULL)
        return;
    cfg->step_ms = chunk_ms;
    cfg->window_ms = INT64_C(900000);
    cfg->baseline_ms = INT64_C(86400000);
    cfg->ahead_ms = cfg->window_ms;
    cfg->columns = COCE_SF_ALL;
}

int coce_sentiment_features_cfg_check(const coce_sentiment_features_cfg *cfg,
                                      coce_err *err)
{
    if (cfg == NULL)
        return coce_err_set(err, COCE_EINVAL, "sentiment features: no cfg");
    const int64_t s = cfg->step_ms;
    if (s <= 0)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: step_ms %lld: must be > 0",
                            (long long)s);
    if (cfg->window_ms <= 0 || cfg->window_ms % s != 0)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: window_ms %lld: must be a "
                            "positive multiple of step_ms %lld",
                            (long long)cfg->window_ms, (long long)s);
    if (cfg->baseline_ms % s != 0 || cfg->baseline_ms < 2 * cfg->window_ms ||
        cfg->baseline_ms > MAX_BASELINE_MS)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: baseline_ms %lld: must be a "
                            "multiple of step_ms, >= 2 window_ms, <= 400 days",
                            (long long)cfg->baseline_ms);
    if (cfg->ahead_ms < 0 || cfg->ahead_ms % s != 0 ||
        cfg->ahead_ms > cfg->baseline_ms)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: ahead_ms %lld: must be a "
                            "multiple of step_ms in [0, baseline_ms]",
                            (long long)cfg->ahead_ms);
    if (cfg->columns == 0 || (cfg->columns & ~COCE_SF_ALL) != 0)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: columns 0x%x: must be a "
                            "non-empty subset of 0x%x",
                            cfg->columns, COCE_SF_ALL);
    return COCE_OK;
}

size_t coce_sentiment_features_count(const coce_sentiment_features_cfg *cfg)
{
    size_t n = 0;
    for (unsigned i = 0; cfg != NULL && i < COCE_SF_COUNT; ++i)
        n += (cfg->columns >> i) & 1u;
    return n;
}

const char *
coce_sentiment_features_name(const coce_sentiment_features_cfg *cfg, size_t i)
{
    for (unsigned c = 0; cfg != NULL && c < COCE_SF_COUNT; ++c) {
        if (((cfg->columns >> c) & 1u) == 0)
            continue;
        if (i == 0)
            return names[c];
        --i;
    }
    return NULL;
}

int coce_sentiment_features_index(const char *name)
{
    for (int c = 0; name != NULL && c < COCE_SF_COUNT; ++c)
        if (strcmp(name, names[c]) == 0)
            return c;
    return -1;
}

/* floor(a / b) and the matching non-negative remainder, b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static size_t slot(const coce_sentiment_features *sf, int64_t bucket)
{
    int64_t m = bucket % sf->r;
    return (size_t)(m < 0 ? m + sf->r : m);
}

int coce_sentiment_features_new(const coce_sentiment_features_cfg *cfg,
                                coce_sentiment_features **out, coce_err *err)
{
    if (out == NULL)
        return coce_err_set(err, COCE_EINVAL, "sentiment features: no out");
    *out = NULL;
    int rc = coce_sentiment_features_cfg_check(cfg, err);
    if (rc != COCE_OK)
        return rc;
    coce_sentiment_features *sf = calloc(1, sizeof *sf);
    if (sf == NULL)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    sf->cfg = *cfg;
    sf->nw = cfg->window_ms / cfg->step_ms;
    sf->nb = cfg->baseline_ms / cfg->step_ms;
    sf->na = cfg->ahead_ms / cfg->step_ms;
    /* one spare slot: bucket k (read by step) never aliases k - nB */
    sf->r = sf->nb + sf->na + 1;
    sf->cnt = calloc((size_t)sf->r, sizeof *sf->cnt);
    sf->sum = calloc((size_t)sf->r, sizeof *sf->sum);
    if (sf->cnt == NULL || sf->sum == NULL) {
        coce_sentiment_features_free(sf);
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    }
    coce_sentiment_features_reset(sf);
    *out = sf;
    return COCE_OK;
}

void coce_sentiment_features_free(coce_sentiment_features *sf)
{
    if (sf == NULL)
        return;
    free(sf->cnt);
    free(sf->sum);
    free(sf);
}

void coce_sentiment_features_reset(coce_sentiment_features *sf)
{
    if (sf == NULL)
        return;
    memset(sf->cnt, 0, (size_t)sf->r * sizeof *sf->cnt);
    memset(sf->sum, 0, (size_t)sf->r * sizeof *sf->sum);
    sf->started = 0;
    sf->k = 0;
    sf->last_post_ms = INT64_MIN;
    sf->last_query_ms = INT64_MIN;
    sf->cw = sf->sw = sf->cp = sf->sp = sf->cb = sf->sb = 0;
}

/* Cursor k -> k + 1: bucket k enters now, k - nW moves from now to prev and
 * base, k - 2 nW leaves prev, k - nB leaves base (its slot becomes bucket
 * k + nA, the newest a post may fill). */
static void step(coce_sentiment_features *sf)
{
    const int64_t k = sf->k;
    size_t in = slot(sf, k), mid = slot(sf, k - sf->nw);
    size_t old_p = slot(sf, k - 2 * sf->nw), old_b = slot(sf, k - sf->nb);
    sf->cw += sf->cnt[in] - sf->cnt[mid];
    sf->sw += sf->sum[in] - sf->sum[mid];
    sf->cp += sf->cnt[mid] - sf->cnt[old_p];
    sf->sp += sf->sum[mid] - sf->sum[old_p];
    sf->cb += sf->cnt[mid] - sf->cnt[old_b];
    sf->sb += sf->sum[mid] - sf->sum[old_b];
    sf->cnt[old_b] = 0;
    sf->sum[old_b] = 0;
    sf->k = k + 1;
}

/* Moves the cursor to k2 >= k. After r steps every stored bucket has left
 * every window (all zero), so longer gaps jump. */
static void slide(coce_sentiment_features *sf, int64_t k2)
{
    int64_t d = k2 - sf->k;
    for (int64_t i = 0; i < d && i < sf->r; ++i)
        step(sf);
    sf->k = k2;
}

int coce_sentiment_features_push(coce_sentiment_features *sf, int64_t time_ms,
                                 double compound, coce_err *err)
{
    if (sf == NULL)
        return coce_err_set(err, COCE_EINVAL, "sentiment features: no handle");
    if (!(compound >= -1.0 && compound <= 1.0))
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: post at %lld: compound %g "
                            "outside [-1, 1]",
                            (long long)time_ms, compound);
    if (time_ms < sf->last_post_ms || time_ms < sf->last_query_ms)
        return coce_err_set(err, COCE_EORDER,
                            "sentiment features: post at %lld ms comes after "
                            "a post or query at %lld ms",
                            (long long)time_ms,
                            (long long)(sf->last_post_ms > sf->last_query_ms
                                            ? sf->last_post_ms
                                            : sf->last_query_ms));
    const int64_t b = floor_div(time_ms, sf->cfg.step_ms);
    if (!sf->started) {
        sf->started = 1;
        sf->k = b - sf->na + 1;
    } else if (b >= sf->k + sf->na) {
        slide(sf, b - sf->na + 1);
    }
    const int64_t q = llround(compound * COMPOUND_UNIT);
    size_t i = slot(sf, b);
    sf->cnt[i] += 1;
    sf->sum[i] += q;
    if (b < sf->k) { /* only with ahead 0: the bucket is already in "now" */
        sf->cw += 1;
        sf->sw += q;
    }
    sf->last_post_ms = time_ms;
    return COCE_OK;
}

/* Mean compound with one neutral pseudo-post. */
static double shrunk_mean(int64_t sum, int64_t count)
{
    return ((double)sum / COMPOUND_UNIT) / ((double)count + 1.0);
}

int coce_sentiment_features_values(coce_sentiment_features *sf, int64_t t_ms,
                                   double *out, coce_err *err)
{
    if (sf == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: no handle or output");
    if (t_ms % sf->cfg.step_ms != 0)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features: query at %lld ms: not a "
                            "multiple of step_ms %lld",
                            (long long)t_ms, (long long)sf->cfg.step_ms);
    const int64_t k2 = floor_div(t_ms, sf->cfg.step_ms);
    if (t_ms < sf->last_query_ms || (sf->started && k2 < sf->k))
        return coce_err_set(err, COCE_EORDER,
                            "sentiment features: query at %lld ms is earlier "
                            "than a previous query or than the latest post "
                            "minus ahead_ms",
                            (long long)t_ms);
    if (!sf->started) {
        sf->started = 1;
        sf->k = k2;
    }
    slide(sf, k2);
    sf->last_query_ms = t_ms;
    double v[COCE_SF_COUNT];
    const double base_rate = (double)sf->nw / (double)(sf->nb - sf->nw);
    const double c_now = shrunk_mean(sf->sw, sf->cw);
    v[COCE_SF_MENTIONS] = log1p((double)sf->cw);
    v[COCE_SF_MENTION_RATIO] = log(((double)sf->cw + 1.0) /
                                   ((double)sf->cb * base_rate + 1.0));
    v[COCE_SF_COMPOUND_DELTA] = c_now - shrunk_mean(sf->sb, sf->cb);
    v[COCE_SF_COMPOUND_VEL] = c_now - shrunk_mean(sf->sp, sf->cp);
    size_t j = 0;
    for (unsigned c = 0; c < COCE_SF_COUNT; ++c)
        if ((sf->cfg.columns >> c) & 1u)
            out[j++] = v[c];
    return COCE_OK;
}

int coce_sentiment_features_batch(const coce_sentiment_features_cfg *cfg,
                                  const int64_t *times,
                                  const double *compounds, size_t n,
                                  const int64_t *query_ms, size_t n_q,
                                  double *out, coce_err *err)
{
    if ((n > 0 && (times == NULL || compounds == NULL)) ||
        (n_q > 0 && (query_ms == NULL || out == NULL)))
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment features batch: NULL array");
    coce_sentiment_features *sf = NULL;
    int rc = coce_sentiment_features_new(cfg, &sf, err);
    if (rc != COCE_OK)
        return rc;
    const size_t d = coce_sentiment_features_count(cfg);
    size_t i = 0;
    for (size_t q = 0; q < n_q && rc == COCE_OK; ++q) {
        /* a post at the query time belongs to the next chunks */
        for (; rc == COCE_OK && i < n && times[i] < query_ms[q]; ++i)
            rc = coce_sentiment_features_push(sf, times[i], compounds[i], err);
        if (rc == COCE_OK)
            rc = coce_sentiment_features_values(sf, query_ms[q], out + q * d,
                                                err);
    }
    coce_sentiment_features_free(sf);
    return rc;
}
