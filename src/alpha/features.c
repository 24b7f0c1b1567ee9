/* Pump-detection features of La Morgia et al., ICCCN 2020 (Section IV-B), as
 * defined by the authors' released code: SystemsLab-Sapienza/
 * pump-and-dump-dataset, features.py (commit c28eb1b; identical in the fork
 * xfunture/pump-and-dump-dataset). Cited below as "features.py:<function>".
 *
 * Notation. The buy trades (side == 'buy', the taker side) are cut into
 * chunks c = floor(t / s) (build_features: df_buy.groupby(pd.Grouper(freq)))
 * and only chunks with at least one buy exist (every *_feature drops the
 * empty groups: `drop(... == 0)` or `dropna()`). Index them i = 0, 1, ... .
 * For chunk i: n_i buy fills, V_i = sum of btc_volume = price * amount,
 * P_i = mean buy price, M_i = max buy price, R_i = number of distinct
 * millisecond timestamps in the chunk holding more than one buy fill
 * (features.py:std_rush_order_feature: groupby(index).count(), then
 * count==1 -> 0, count>1 -> 1, then the per-chunk sum).
 * std_w / mean_w: pandas rolling(window=w) with min_periods = w, std with
 * ddof = 1, over the last w chunks i-w+1..i. pct(x)_i = x_i / x_{i-1} - 1
 * (Series.pct_change; the statistics have no inner NaN, so its forward fill
 * never acts). With w = window and p = price_window (10 hard-coded):
 *   std_rush_order = pct(std_w(R))      features.py:std_rush_order_feature
 *   avg_rush_order = pct(mean_w(R))     features.py:avg_rush_order_feature
 *   std_trades     = pct(std_w(n))      features.py:std_trades_feature
 *   std_volume     = pct(std_w(V))      features.py:std_volume_feature
 *   avg_volume     = pct(mean_w(V))     features.py:avg_volume_feature
 *   std_price      = pct(std_w(P))      features.py:std_price_feature
 *   avg_price      = pct(mean_p(P))     features.py:avg_price_feature
 *   avg_price_max  = pct(mean_p(M))     features.py:avg_price_max
 *   hour_sin/cos   = sin/cos(2 pi hour / 23), minute_sin/cos = sin/cos(
 *                    2 pi minute / 59), hour and minute of the chunk start
 *                    (UTC)              features.py:build_features
 * build_features ends with dropna(): a row with any NaN (warm-up, or 0/0 when
 * a statistic stays exactly 0, e.g. no rush order in w chunks) is dropped,
 * while x/0 = +inf rows are kept. Rows therefore start at index
 * max(w, p): the first statistic is at index w-1 and pct needs two.
 * (std_volume_feature drops chunks whose volume sums to 0 while the others
 * keep them; the published code then fails on unequal lengths, so such data
 * never reached its output. Here such a chunk is kept like in the others.)
 *
 * Numerics. Integer series (R, n) use exact int64 window sums, so a constant
 * window gives exactly 0 like pandas >= 1.4 does. Real series (V, P, log V)
 * use sliding sums of d = x - k and d^2 about a shift k, kept as
 * hi + lo pairs (TwoSum, exact squares through fma), re-centred and rebuilt
 * from the ring every w slides so that drift stays bounded, with pandas'
 * rule that a window of identical values has mean = the value and
 * variance 0 exactly. The state evolves only at chunk close, by the same code
 * whatever the feeding, so online and batch agree bit for bit. */
#include "alpha/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "utils/error.h"

#define TWO_PI 6.283185307179586 /* the double nearest 2 * pi, = 2 * np.pi */
/* Bounds that keep chunk arithmetic free of int64 overflow. */
#define MAX_CHUNK_MS ((int64_t)1 << 40)
#define MAX_ABS_TIME_MS ((int64_t)1 << 61)

static const char *const names[COCE_FEATURES_PUBLISHED + COCE_FEATURES_EXTRAS] =
    {"std_rush_order",   "avg_rush_order",    "std_trades",
     "std_volume",       "avg_volume",        "std_price",
     "avg_price",        "avg_price_max",     "hour_sin",
     "hour_cos",         "minute_sin",        "minute_cos",
     "buy_volume_share", "rush_volume_share", "log_volume_z",
     "max_price_return"};

/* Moving statistics of a real series over a ring of w values: sums of
 * d = x - k and d^2 about a shift k (the window mean at the last
 * recomputation), each kept as an unevaluated pair hi + lo. */
typedef struct roll_f {
    double *ring;
    size_t cap;   /* w */
    size_t count; /* values pushed so far */
    double k;
    double s1, s1c; /* sum of d */
    double s2, s2c; /* sum of d^2 */
    double last;    /* last value, and how many equal ones end the series */
    size_t run;
    size_t slides; /* slides since the last full recomputation */
} roll_f;

/* Moving statistics of an integer series: exact sums. */
typedef struct roll_i {
    int64_t *ring;
    size_t cap;
    size_t count;
    int64_t s1, s2;
} roll_i;

/* Published statistics whose pct_change makes the 8 market features. */
enum {
    ST_STD_R,
    ST_AVG_R,
    ST_STD_N,
    ST_STD_V,
    ST_AVG_V,
    ST_STD_P,
    ST_AVG_P,
    ST_AVG_M,
    ST_N
};

struct coce_features {
    coce_features_cfg cfg;
    roll_i rush, trades;
    roll_f vol, price, logvol;
    double *pmean_ring, *pmax_ring; /* last price_window P_i and M_i */
    size_t index;                   /* non-empty chunks closed so far */
    int64_t tf_minute;              /* minute of time_features' cache */
    double tf[4];                   /* hour/minute sin/cos of tf_minute */
    double prev[ST_N];              /* statistics of the previous chunk */
    double prev_close;              /* last buy price of previous chunk */
    int64_t floor_ms;               /* no trade may come before this */
    /* the open chunk */
    int open;
    int64_t start;
    size_t nbuy;
    double bvol, bvol_c; /* Kahan sums */
    double psum, psum_c;
    double svol, svol_c;
    double pmax, plast;
    int64_t nrush;
    double rvol;    /* btc volume of fills at rush timestamps */
    int64_t grp_ts; /* timestamp of the current group of buy fills */
    size_t grp_n;
    double grp_vol0; /* volume of the group's first fill */
};

/* Neumaier's compensated addition (Neumaier 1974), for the short
 * price_window means (pandas' roll_mean uses a compensated sum too). */
static void nsum_add(double *sum, double *comp, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x))
        *comp += (*sum - t) + x;
    else
        *comp += (x - t) + *sum;
    *sum = t;
}

/* Kahan's compensated summation (Kahan 1965), returning the running sum
 * without the final correction: the chunk sums and means of pandas'
 * groupby sum/mean (pandas 1.5 group_add/group_mean) are formed this way, so
 * chunk values such as the mean price of a constant-price chunk agree with
 * the published code to the bit. */
static void kahan_add(double *sum, double *comp, double x)
{
    double y = x - *comp;
    double t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

/* ---- real rolling statistics ------------------------------------------ */

/* Knuth's TwoSum: adds a to hi + lo keeping the rounding error of the
 * leading addition in lo (Knuth, TAOCP 2, 4.2.2; Ogita, Rump, Oishi 2005). */
static void dd_add(double *hi, double *lo, double a)
{
    double s = *hi + a;
    double bp = s - *hi;
    *lo += (*hi - (s - bp)) + (a - bp);
    *hi = s;
}

/* Adds sign * (x - k) and sign * (x - k)^2, the square exact through fma. */
static void roll_f_term(roll_f *r, double x, double sign)
{
    double d = x - r->k;
    double p = d * d;
    double e = fma(d, d, -p);
    dd_add(&r->s1, &r->s1c, sign * d);
    dd_add(&r->s2, &r->s2c, sign * p);
    r->s2c += sign * e;
}

static size_t roll_f_n(const roll_f *r)
{
    return r->count < r->cap ? r->count : r->cap;
}

/* Shifted sums (Chan, Golub, LeVeque 1983, "Algorithms for computing the
 * sample variance"): var = (S2 - S1^2 / n) / (n - 1) with d = x - k loses
 * little when k is near the mean, so k is re-centred every w slides and the
 * sums are rebuilt from the ring, which also bounds any drift. */
static void roll_f_recompute(roll_f *r)
{
    size_t n = roll_f_n(r);
    size_t first = r->count - n;
    double mean = r->k + (r->s1 + r->s1c) / (double)n;
    r->k = mean;
    r->s1 = r->s1c = r->s2 = r->s2c = 0.0;
    for (size_t j = 0; j < n; ++j)
        roll_f_term(r, r->ring[(first + j) % r->cap], 1.0);
    r->slides = 0;
}

static void roll_f_push(roll_f *r, double x)
{
    size_t slot = r->count % r->cap;
    if (r->count == 0 || x != r->last)
        r->run = 1;
    else
        ++r->run;
    r->last = x;
    if (r->count == 0)
        r->k = x;
    if (r->count >= r->cap)
        roll_f_term(r, r->ring[slot], -1.0);
    roll_f_term(r, x, 1.0);
    r->ring[slot] = x;
    ++r->count;
    if (r->count > r->cap && ++r->slides >= r->cap)
        roll_f_recompute(r);
}

static int roll_f_full(const roll_f *r)
{
    return r->count >= r->cap;
}

/* pandas' rule (pandas >= 1.4 roll_mean/roll_var): a window of identical
 * values has mean = that value and variance 0 exactly. */
static double roll_f_mean(const roll_f *r)
{
    if (!roll_f_full(r))
        return NAN;
    if (r->run >= r->cap)
        return r->last;
    return r->k + (r->s1 + r->s1c) / (double)r->cap;
}

static double roll_f_std(const roll_f *r)
{
    if (!roll_f_full(r))
        return NAN;
    if (r->run >= r->cap)
        return 0.0;
    double n = (double)r->cap;
    double s1 = r->s1 + r->s1c;
    double var = ((r->s2 + r->s2c) - s1 * s1 / n) / (n - 1.0);
    return var > 0.0 ? sqrt(var) : 0.0;
}

/* ---- integer rolling statistics --------------------------------------- */

static void roll_i_push(roll_i *r, int64_t x)
{
    size_t slot = r->count % r->cap;
    if (r->count >= r->cap) {
        int64_t xo = r->ring[slot];
        r->s1 -= xo;
        r->s2 -= xo * xo;
    }
    r->ring[slot] = x;
    r->s1 += x;
    r->s2 += x * x;
    ++r->count;
}

static double roll_i_mean(const roll_i *r)
{
    if (r->count < r->cap)
        return NAN;
    return (double)r->s1 / (double)r->cap;
}

/* var = (w S2 - S1^2) / (w (w - 1)), exact in integers while it fits. */
static double roll_i_std(const roll_i *r)
{
    if (r->count < r->cap)
        return NAN;
    int64_t w = (int64_t)r->cap;
    double num;
    if (r->s2 <= INT64_MAX / w && r->s1 <= 3037000499LL)
        num = (double)(w * r->s2 - r->s1 * r->s1);
    else
        num = (double)w * (double)r->s2 - (double)r->s1 * (double)r->s1;
    if (num <= 0.0)
        return 0.0;
    return sqrt(num / ((double)w * (double)(w - 1)));
}

/* ---- mean of the last p values (window price_window) ------------------ */

static double ring_mean(const double *ring, size_t cap, size_t count)
{
    if (count < cap)
        return NAN;
    /* the window in time order is ring[first..cap) then ring[0..first):
     * two straight runs instead of a modulo per element (same order, so the
     * same bits) */
    size_t first = count % cap;
    double x0 = ring[first];
    int same = 1;
    double sum = 0.0, comp = 0.0;
    for (size_t k = first; k < cap; ++k) {
        same &= (ring[k] == x0);
        nsum_add(&sum, &comp, ring[k]);
    }
    for (size_t k = 0; k < first; ++k) {
        same &= (ring[k] == x0);
        nsum_add(&sum, &comp, ring[k]);
    }
    return same ? x0 : (sum + comp) / (double)cap;
}

/* pandas pct_change: cur / prev - 1, with IEEE semantics written out
 * (0/0 -> NaN, x/0 -> +-inf) so that no division by zero is executed. */
static double pct(double cur, double prev)
{
    if (isnan(cur) || isnan(prev))
        return NAN;
    if (prev == 0.0) {
        if (cur == 0.0)
            return NAN;
        return cur > 0.0 ? INFINITY : -INFINITY;
    }
    return cur / prev - 1.0;
}

/* ---- public ------------------------------------------------------------- */

void coce_features_cfg_default(coce_features_cfg *cfg, int64_t chunk_ms)
{
    if (!cfg)
        return;
    cfg->chunk_ms = chunk_ms;
    /* features.py:compute_features: 25S and 15S -> 900, 5S -> 700 */
    cfg->window = chunk_ms >= 15000 ? 900 : 700;
    cfg->price_window = 10;
    cfg->extras = 0;
}

size_t coce_features_count(const coce_features_cfg *cfg)
{
    if (cfg && cfg->extras)
        return COCE_FEATURES_PUBLISHED + COCE_FEATURES_EXTRAS;
    return COCE_FEATURES_PUBLISHED;
}

const char *coce_features_name(size_t i)
{
    if (i >= COCE_FEATURES_PUBLISHED + COCE_FEATURES_EXTRAS)
        return NULL;
    return names[i];
}

int coce_features_row_published(const coce_feature_row *row)
{
    if (!row || !row->warm)
        return 0;
    for (size_t k = 0; k < COCE_FEATURES_PUBLISHED; ++k)
        if (isnan(row->v[k]))
            return 0;
    return 1;
}

static int cfg_valid(const coce_features_cfg *cfg)
{
    return cfg && cfg->chunk_ms > 0 && cfg->chunk_ms <= MAX_CHUNK_MS &&
           cfg->window >= 2 && cfg->price_window >= 1 &&
           cfg->window <= ((size_t)1 << 28) &&
           cfg->price_window <= ((size_t)1 << 28) &&
           (cfg->extras == 0 || cfg->extras == 1);
}

static void open_reset(coce_features *f)
{
    f->open = 0;
    f->start = 0;
    f->nbuy = 0;
    f->bvol = f->bvol_c = 0.0;
    f->psum = f->psum_c = 0.0;
    f->svol = f->svol_c = 0.0;
    f->pmax = f->plast = 0.0;
    f->nrush = 0;
    f->rvol = 0.0;
    f->grp_ts = 0;
    f->grp_n = 0;
    f->grp_vol0 = 0.0;
}

void coce_features_reset(coce_features *f)
{
    if (!f)
        return;
    f->rush.count = f->trades.count = 0;
    f->rush.s1 = f->rush.s2 = f->trades.s1 = f->trades.s2 = 0;
    roll_f *rf[3] = {&f->vol, &f->price, &f->logvol};
    for (size_t k = 0; k < 3; ++k) {
        rf[k]->count = rf[k]->run = rf[k]->slides = 0;
        rf[k]->k = rf[k]->last = 0.0;
        rf[k]->s1 = rf[k]->s1c = rf[k]->s2 = rf[k]->s2c = 0.0;
    }
    f->index = 0;
    for (size_t k = 0; k < ST_N; ++k)
        f->prev[k] = NAN;
    f->prev_close = NAN;
    f->floor_ms = INT64_MIN;
    f->tf_minute = INT64_MIN;
    open_reset(f);
}

int coce_features_new(coce_features **out, const coce_features_cfg *cfg)
{
    if (!out)
        return COCE_EINVAL;
    *out = NULL;
    if (!cfg_valid(cfg))
        return COCE_EINVAL;
    coce_features *f = calloc(1, sizeof *f);
    if (!f)
        return COCE_ENOMEM;
    size_t w = cfg->window, p = cfg->price_window;
    f->cfg = *cfg;
    f->rush.ring = calloc(2 * w, sizeof(int64_t));
    double *dbl = calloc(3 * w + 2 * p, sizeof(double));
    if (!f->rush.ring || !dbl) {
        free(f->rush.ring);
        free(dbl);
        free(f);
        return COCE_ENOMEM;
    }
    f->trades.ring = f->rush.ring + w;
    f->rush.cap = f->trades.cap = w;
    f->vol.ring = dbl;
    f->price.ring = dbl + w;
    f->logvol.ring = dbl + 2 * w;
    f->vol.cap = f->price.cap = f->logvol.cap = w;
    f->pmean_ring = dbl + 3 * w;
    f->pmax_ring = dbl + 3 * w + p;
    coce_features_reset(f);
    *out = f;
    return COCE_OK;
}

void coce_features_free(coce_features *f)
{
    if (!f)
        return;
    free(f->rush.ring);
    free(f->vol.ring);
    free(f);
}

/* The four values depend only on the minute of the chunk start, and
 * consecutive chunks mostly share it: cached per minute (same bits). */
static void time_features(coce_features *f, int64_t start_ms, double *v)
{
    int64_t minute_abs = floor_div(start_ms, 60000);
    if (minute_abs != f->tf_minute) {
        int64_t minute_of_day = minute_abs % 1440;
        if (minute_of_day < 0)
            minute_of_day += 1440;
        int64_t hour_i = minute_of_day / 60;
        double hour = (double)hour_i;
        double minute = (double)(minute_of_day % 60);
        /* features.py:build_features divides by 23 and 59 (not 24 and 60);
         * the published features and models use these periods. */
        f->tf[0] = sin(TWO_PI * hour / 23.0);
        f->tf[1] = cos(TWO_PI * hour / 23.0);
        f->tf[2] = sin(TWO_PI * minute / 59.0);
        f->tf[3] = cos(TWO_PI * minute / 59.0);
        f->tf_minute = minute_abs;
    }
    v[COCE_F_HOUR_SIN] = f->tf[0];
    v[COCE_F_HOUR_COS] = f->tf[1];
    v[COCE_F_MINUTE_SIN] = f->tf[2];
    v[COCE_F_MINUTE_COS] = f->tf[3];
}

/* Closes the open chunk: updates every window and writes its row when the
 * chunk holds a buy. */
static void close_chunk(coce_features *f, coce_feature_row *row, int *emitted)
{
    int64_t s = f->cfg.chunk_ms;
    f->floor_ms = f->start + s;
    if (f->nbuy == 0) {
        open_reset(f);
        return;
    }
    size_t w = f->cfg.window, p = f->cfg.price_window;
    double vol = f->bvol;
    double pmean = f->psum / (double)f->nbuy;

    memset(row, 0, sizeof *row);
    row->chunk_start_ms = f->start;
    row->close_ms = f->start + s;
    row->n = f->nbuy;
    for (size_t k = 0; k < COCE_FEATURES_MAX; ++k)
        row->v[k] = NAN;

    /* Extras that compare with the past are taken before this chunk
     * enters the windows. */
    if (f->cfg.extras) {
        double lv = vol > 0.0 ? log(vol) : NAN;
        double sd = roll_f_std(&f->logvol);
        if (!isnan(lv) && sd > 0.0)
            row->v[COCE_F_LOG_VOLUME_Z] = (lv - roll_f_mean(&f->logvol)) / sd;
        if (!isnan(lv))
            roll_f_push(&f->logvol, lv);
        double tot = vol + f->svol;
        if (tot > 0.0)
            row->v[COCE_F_BUY_VOLUME_SHARE] = vol / tot;
        if (vol > 0.0)
            row->v[COCE_F_RUSH_VOLUME_SHARE] = f->rvol / vol;
        if (f->prev_close > 0.0)
            row->v[COCE_F_MAX_PRICE_RETURN] = f->pmax / f->prev_close - 1.0;
    }

    roll_i_push(&f->rush, f->nrush);
    roll_i_push(&f->trades, (int64_t)f->nbuy);
    roll_f_push(&f->vol, vol);
    roll_f_push(&f->price, pmean);
    f->pmean_ring[f->index % p] = pmean;
    f->pmax_ring[f->index % p] = f->pmax;
    ++f->index;

    double st[ST_N];
    st[ST_STD_R] = roll_i_std(&f->rush);
    st[ST_AVG_R] = roll_i_mean(&f->rush);
    st[ST_STD_N] = roll_i_std(&f->trades);
    st[ST_STD_V] = roll_f_std(&f->vol);
    st[ST_AVG_V] = roll_f_mean(&f->vol);
    st[ST_STD_P] = roll_f_std(&f->price);
    st[ST_AVG_P] = ring_mean(f->pmean_ring, p, f->index);
    st[ST_AVG_M] = ring_mean(f->pmax_ring, p, f->index);
    for (size_t k = 0; k < ST_N; ++k) {
        row->v[k] = pct(st[k], f->prev[k]);
        f->prev[k] = st[k];
    }
    time_features(f, f->start, row->v);
    row->warm = (f->index - 1) >= (w > p ? w : p);

    f->prev_close = f->plast;
    open_reset(f);
    *emitted = 1;
}

int coce_features_push(coce_features *f, const coce_trade *t,
                       coce_feature_row *row, int *emitted)
{
    if (!f || !t || !row || !emitted)
        return COCE_EINVAL;
    *emitted = 0;
    if ((t->side != COCE_SIDE_BUY && t->side != COCE_SIDE_SELL) ||
        !isfinite(t->price) || !(t->price > 0.0) || !isfinite(t->qty) ||
        !(t->qty >= 0.0) || t->time_ms <= -MAX_ABS_TIME_MS ||
        t->time_ms >= MAX_ABS_TIME_MS)
        return COCE_EINVAL;
    if (t->time_ms < f->floor_ms)
        return COCE_EORDER;
    int64_t s = f->cfg.chunk_ms;
    int64_t start = floor_div(t->time_ms, s) * s;
    if (f->open && start != f->start)
        close_chunk(f, row, emitted);
    if (!f->open) {
        f->open = 1;
        f->start = start;
    }
    f->floor_ms = t->time_ms;
    /* btc_volume = price * amount, as the paper's downloader writes it */
    double v = t->price * t->qty;
    if (t->side == COCE_SIDE_SELL) {
        kahan_add(&f->svol, &f->svol_c, v);
        return COCE_OK;
    }
    if (f->nbuy == 0 || t->price > f->pmax)
        f->pmax = t->price;
    f->plast = t->price;
    ++f->nbuy;
    kahan_add(&f->bvol, &f->bvol_c, v);
    kahan_add(&f->psum, &f->psum_c, t->price);
    /* Rush orders: buy fills sharing one millisecond (features.py:
     * std_rush_order_feature groups df_buy by its timestamp index). */
    if (f->grp_n > 0 && t->time_ms == f->grp_ts) {
        ++f->grp_n;
        if (f->grp_n == 2) {
            ++f->nrush;
            f->rvol += f->grp_vol0;
        }
        f->rvol += v;
    } else {
        f->grp_ts = t->time_ms;
        f->grp_n = 1;
        f->grp_vol0 = v;
    }
    return COCE_OK;
}

int coce_features_advance(coce_features *f, int64_t now_ms,
                          coce_feature_row *row, int *emitted)
{
    if (!f || !row || !emitted)
        return COCE_EINVAL;
    *emitted = 0;
    if (f->open && now_ms >= f->start + f->cfg.chunk_ms)
        close_chunk(f, row, emitted);
    return COCE_OK;
}

int coce_features_batch(const coce_features_cfg *cfg, const coce_trade *trades,
                        size_t n, coce_feature_row *rows, size_t cap,
                        size_t *n_rows)
{
    if (!n_rows || (n && !trades) || (cap && !rows))
        return COCE_EINVAL;
    *n_rows = 0;
    coce_features *f = NULL;
    int rc = coce_features_new(&f, cfg);
    if (rc != COCE_OK)
        return rc;
    size_t out = 0;
    coce_feature_row row;
    for (size_t i = 0; i <= n; ++i) {
        int emitted = 0;
        if (i < n)
            rc = coce_features_push(f, &trades[i], &row, &emitted);
        else
            rc = coce_features_advance(f, INT64_MAX, &row, &emitted);
        if (rc != COCE_OK)
            break;
        if (emitted && coce_features_row_published(&row)) {
            if (out < cap)
                rows[out] = row;
            ++out;
        }
    }
    coce_features_free(f);
    if (rc != COCE_OK)
        return rc;
    *n_rows = out;
    return out > cap ? COCE_ERANGE : COCE_OK;
}
