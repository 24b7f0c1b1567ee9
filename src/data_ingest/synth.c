/* Seeded synthetic market. The model, its parameters and their sources are
 * in docs/synth.md; comments here say why a step is done the way it is. */
#include "data_ingest/synth.h"

#include "utils/fsutil.h"
#include "utils/rng.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef COCE_VERSION
#define COCE_VERSION "0.0.0"
#endif

#define MS_H 3600000LL
#define MS_D 86400000LL
/* 9999-12-31T23:59:59.999Z: four-digit years in the datetime column. */
#define MS_MAX 253402300799999LL

/* Fixed model constants (docs/synth.md, "Fixed constants"). */
static const double k_min_notional_btc = 1e-4; /* Binance MIN_NOTIONAL, 2019 */
static const double k_level_gap = 5e-4;        /* 5 bp between book levels */
static const double k_btc_vol_h = 0.0075;      /* BTC/USD ~3.7 %/day, 2019 */
static const double k_eth_vol_h = 0.009;
static const double k_eth_btc_corr = 0.8;
/* Real onsets (81 files): the first 5 s chunk already trades ~5 % above the
 * hour before and the fills of the first seconds come faster than the
 * 75 s decay that follows. */
static const double k_pump_jump_lo = 0.15; /* share of the rise at once, */
static const double k_pump_jump_hi = 0.85; /* uniform per pump */
static const double k_pump_jump_s = 2.0;   /* its time constant */
static const double k_pump_rush = 0.25;    /* burst orders in the first s */
static const double k_pump_rush_s = 4.0;   /* their time constant */
static const double k_pump_size = 8.0;     /* burst order size vs usual */
static const double k_news_perm = 0.5;     /* half of a news move stays */
static const double k_whale_tau_s = 60.0;
static const double k_event_rise_s = 180.0; /* market move spread */
static const double k_pi = 3.14159265358979323846;

enum { EV_PUMP, EV_NEWS, EV_WHALE, EV_LISTING, EV_MARKET, EV_N };
static const char *const ev_name[EV_N] = {"pump", "news", "whale", "listing",
                                          "market"};

/* Stream ids: each asset and purpose draws from its own generator, so a
 * change in one part (say, posts) leaves the other files unchanged. */
enum {
    ST_SCHEDULE = 1,
    ST_FACTORS,
    ST_IDIO,
    ST_ORDERS,
    ST_PRICES,
    ST_POSTS,
    ST_ACTIVITY
};

typedef struct event {
    int kind;
    size_t asset;     /* SIZE_MAX for a market-wide move */
    int64_t time_ms;  /* announced time (pumps) or event time */
    int64_t onset_ms; /* when the market starts to react */
    double mag;       /* log move (signed); listing: volume multiple */
    double t1_s;      /* pump: time to peak; news: rise time */
    double t2_s;      /* pump: dump length; news: decay time */
    double aux;       /* pump: pre-pump log rise; whale: size in BTC */
    double burst;     /* pump: burst size multiple (log-normal draw) */
    double jump;      /* pump: share of the rise in the first seconds */
} event;

typedef struct order {
    int64_t t;
    double size_btc;
    uint32_t seq;
    int8_t side;
    uint8_t levels;
} order;

typedef struct post {
    int64_t t;
    size_t asset;
    uint32_t seq;
    char text[120];
} post;

typedef struct gt_row {
    int64_t time_ms;
    int64_t onset_ms;
    size_t asset;
    int kind;
} gt_row;

typedef struct market {
    const coce_synth_opts *o;
    size_t n, H;
    int64_t t0, t_end;
    size_t n_pumps, n_news, n_whales, n_listings, n_market;
    char (*sym)[8];   /* "BAK" */
    char (*pair)[12]; /* "BAK/BTC" */
    size_t *sector;
    double *beta_m, *beta_s, *p0, *tick, *lot, *cap0, *var_h;
    double *act; /* activity multiple of trades_per_day */
    double *swp; /* sweep probability */
    double *L;   /* n x (H+1) log-prices at hour boundaries */
    double *btc; /* H+1, exactly as printed */
    double *eth;
    event *ev;
    size_t n_ev;
} market;

/* ---------------------------------------------------------------- helpers */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void stream(coce_rng *r, uint64_t seed, uint64_t id, uint64_t asset)
{
    uint64_t s = mix64(seed + 0x9e3779b97f4a7c15ULL * (id + 1));
    coce_rng_init(r, mix64(s ^ (0xc2b2ae3d27d4eb4fULL * (asset + 1))));
}

static double uni(coce_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * coce_rng_uniform(r);
}

/* Student t scaled to unit variance (needs nu > 2). */
static double t_std(coce_rng *r, double nu)
{
    return coce_rng_student_t(r, nu) * sqrt((nu - 2.0) / nu);
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Prints x with fmt and reads it back: the printed value is the truth. */
static double quant(double x, const char *fmt, char *buf, size_t len)
{
    (void)snprintf(buf, len, fmt, x);
    return strtod(buf, NULL);
}

static size_t auto_count(size_t v, double rate, double units)
{
    if (v != COCE_SYNTH_AUTO)
        return v;
    return (size_t)floor(rate * units + 0.5);
}

/* Civil date from days since 1970-01-01 (H. Hinnant, "chrono-compatible
 * low-level date algorithms", days_from_civil inverse). */
static void civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void date_str(int64_t t_ms, char out[11])
{
    int y, m, d;
    civil(t_ms / MS_D, &y, &m, &d);
    (void)snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u,
                   (unsigned)m % 100u, (unsigned)d % 100u);
}

static int io_err(coce_err *err, const char *path)
{
    return coce_err_set(err, COCE_EIO, "%s: %s", path, strerror(errno));
}

/* A file written through stdio into "<path>.tmp", renamed on success. */
typedef struct out_file {
    FILE *f;
    char path[4096];
    char tmp[4200];
} out_file;

static int out_open(out_file *w, const char *dir, const char *name,
                    coce_err *err)
{
    int n = snprintf(w->path, sizeof w->path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof w->path)
        return coce_err_set(err, COCE_EINVAL, "%s/%s: path too long", dir,
                            name);
    (void)snprintf(w->tmp, sizeof w->tmp, "%s.tmp", w->path);
    w->f = fopen(w->tmp, "wb");
    if (w->f == NULL)
        return io_err(err, w->tmp);
    (void)setvbuf(w->f, NULL, _IOFBF, 1 << 20);
    return COCE_OK;
}

static int out_close(out_file *w, coce_err *err)
{
    int bad = ferror(w->f);
    if (fclose(w->f) != 0)
        bad = 1;
    w->f = NULL;
    if (bad) {
        (void)remove(w->tmp);
        return io_err(err, w->tmp);
    }
    if (rename(w->tmp, w->path) != 0)
        return io_err(err, w->path);
    return COCE_OK;
}

/* ---------------------------------------------------------------- options */

void coce_synth_opts_default(coce_synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_assets = 30;
    o->days = 21;
    o->seed = 42;
    o->start_ms = 1546300800000LL; /* 2019-01-01T00:00:00Z */
    o->n_sectors = 4;
    o->n_pumps = COCE_SYNTH_AUTO;
    o->n_news = COCE_SYNTH_AUTO;
    o->n_whales = COCE_SYNTH_AUTO;
    o->n_listings = COCE_SYNTH_AUTO;
    o->n_market_moves = COCE_SYNTH_AUTO;
    o->t_nu = 4.0;
    o->market_vol_h = 0.0045;
    o->garch_alpha = 0.10;
    o->garch_beta = 0.85;
    o->sector_vol_h = 0.0045;
    o->idio_vol_h = 0.0045;
    o->price_min_btc = 1e-6;
    o->price_max_btc = 1e-3;
    o->half_spread = 0.001;
    o->trades_per_day = 700.0;
    o->activity_sigma = 0.9;
    o->hawkes_branching = 0.6;
    o->hawkes_decay_s = 30.0;
    o->intraday_amp = 0.3;
    o->intraday_peak_h = 15.0;
    o->size_median_btc = 0.004;
    o->size_sigma = 1.7;
    o->sweep_prob = 0.08;
    o->sweep_sigma = 0.7;
    o->pump_peak_median = 0.18;
    o->pump_peak_sigma = 0.55;
    o->pump_peak_min = 0.05;
    o->pump_peak_max = 1.0;
    o->pump_peak_time_s = 35.0;
    o->pump_dump_s = 1200.0;
    o->pump_burst_orders = 120.0;
    o->pump_burst_sigma = 0.7;
    o->pump_burst_tau_s = 75.0;
    o->pump_burst_sweep = 0.35;
    o->pump_pre_mult = 0.5;
    o->posts_per_day = 24.0;
    o->post_burst_pump = 40.0;
    o->post_lead_s = 300.0;
    o->btc_usd_start = 3700.0;
    o->eth_usd_start = 133.0;
    o->cap_min_usd = 2e6;
    o->cap_max_usd = 2e8;
}

typedef struct dfield {
    const char *name;
    size_t off;
    double lo, hi; /* allowed closed range */
} dfield;

#define DF(f, lo, hi)                                                          \
    {                                                                          \
#f, offsetof(coce_synth_opts, f), lo, hi                               \
    }
static const dfield dfields[] = {
    DF(t_nu, 2.1, 1e6),
    DF(market_vol_h, 0.0, 0.2),
    DF(garch_alpha, 0.0, 1.0),
    DF(garch_beta, 0.0, 1.0),
    DF(sector_vol_h, 0.0, 0.2),
    DF(idio_vol_h, 0.0, 0.2),
    DF(price_min_btc, 1e-9, 1e3),
    DF(price_max_btc, 1e-9, 1e3),
    DF(half_spread, 0.0, 0.05),
    DF(trades_per_day, 1.0, 1e6),
    DF(activity_sigma, 0.0, 3.0),
    DF(hawkes_branching, 0.0, 0.95),
    DF(hawkes_decay_s, 0.01, 86400.0),
    DF(intraday_amp, 0.0, 0.95),
    DF(intraday_peak_h, 0.0, 24.0),
    DF(size_median_btc, 1e-6, 1e3),
    DF(size_sigma, 0.0, 5.0),
    DF(sweep_prob, 0.0, 1.0),
    DF(sweep_sigma, 0.0, 3.0),
    DF(pump_peak_median, 0.0, 10.0),
    DF(pump_peak_sigma, 0.0, 5.0),
    DF(pump_peak_min, 0.0, 10.0),
    DF(pump_peak_max, 0.0, 10.0),
    DF(pump_peak_time_s, 1.0, 1800.0),
    DF(pump_dump_s, 10.0, 7200.0),
    DF(pump_burst_orders, 0.0, 1e5),
    DF(pump_burst_sigma, 0.0, 3.0),
    DF(pump_burst_tau_s, 1.0, 3600.0),
    DF(pump_burst_sweep, 0.0, 1.0),
    DF(pump_pre_mult, 0.0, 100.0),
    DF(posts_per_day, 0.0, 1e5),
    DF(post_burst_pump, 0.0, 1e5),
    DF(post_lead_s, 0.0, 7200.0),
    DF(btc_usd_start, 1e-3, 1e9),
    DF(eth_usd_start, 1e-3, 1e9),
    DF(cap_min_usd, 1.0, 1e13),
    DF(cap_max_usd, 1.0, 1e13),
};
#undef DF

static double dget(const coce_synth_opts *o, const dfield *f)
{
    double v;
    memcpy(&v, (const char *)o + f->off, sizeof v);
    return v;
}

int coce_synth_opts_check(const coce_synth_opts *o, coce_err *err)
{
    if (o == NULL)
        return coce_err_set(err, COCE_EINVAL, "synth: options are NULL");
    if (o->n_assets == 0)
        return coce_err_set(err, COCE_EINVAL,
                            "synth: n_assets must be >= 1 (got 0)");
    if (o->n_assets > COCE_SYNTH_MAX_ASSETS)
        return coce_err_set(err, COCE_ERANGE, "synth: n_assets %zu exceeds %d",
                            o->n_assets, COCE_SYNTH_MAX_ASSETS);
    if (o->days == 0)
        return coce_err_set(err, COCE_EINVAL,
                            "synth: days must be >= 1 (got 0)");
    if (o->days > COCE_SYNTH_MAX_DAYS)
        return coce_err_set(err, COCE_ERANGE, "synth: days %zu exceeds %d",
                            o->days, COCE_SYNTH_MAX_DAYS);
    if (o->n_sectors == 0 || o->n_sectors > o->n_assets)
        return coce_err_set(err, COCE_EINVAL,
                            "synth: n_sectors must be in [1, n_assets=%zu] "
                            "(got %zu)",
                            o->n_assets, o->n_sectors);
    if (o->start_ms < 0 || o->start_ms > MS_MAX - (int64_t)o->days * MS_D)
        return coce_err_set(err, COCE_ERANGE,
                            "synth: start_ms %lld outside 1970..9999",
                            (long long)o->start_ms);
    for (size_t i = 0; i < sizeof dfields / sizeof dfields[0]; ++i) {
        double v = dget(o, &dfields[i]);
        if (!(v >= dfields[i].lo && v <= dfields[i].hi))
            return coce_err_set(
                err, COCE_ERANGE, "synth: %s = %g outside [%g, %g]",
                dfields[i].name, v, dfields[i].lo, dfields[i].hi);
    }
    if (o->garch_alpha + o->garch_beta >= 1.0)
        return coce_err_set(err, COCE_ERANGE,
                            "synth: garch_alpha + garch_beta must be < 1 "
                            "(got %g)",
                            o->garch_alpha + o->garch_beta);
    if (o->price_min_btc > o->price_max_btc)
        return coce_err_set(err, COCE_ERANGE,
                            "synth: price_min_btc > price_max_btc");
    if (o->cap_min_usd > o->cap_max_usd)
        return coce_err_set(err, COCE_ERANGE,
                            "synth: cap_min_usd > cap_max_usd");
    if (o->pump_peak_min > o->pump_peak_max)
        return coce_err_set(err, COCE_ERANGE,
                            "synth: pump_peak_min > pump_peak_max");
    return COCE_OK;
}

int coce_synth_symbol(size_t i, char *buf, size_t len)
{
    static const char cons[] = "BCDFGHJKLMNPQRSTVWXZ";
    static const char vow[] = "AEIOU";
    if (i >= COCE_SYNTH_MAX_ASSETS || buf == NULL || len < 8)
        return COCE_ERANGE;
    /* 7919 is prime and coprime to 2000, so i -> j is a bijection that
     * spreads neighbouring assets over the alphabet. */
    size_t j = (i * 7919u + 1234u) % 2000u;
    (void)snprintf(buf, len, "%c%c%c/BTC", cons[j / 100], vow[(j / 20) % 5],
                   cons[j % 20]);
    return COCE_OK;
}

/* ---------------------------------------------------------------- events */

/* Time span in which an event changes the market, for the no-overlap rule:
 * two events on one asset keep 3 h apart so that each stands alone. */
static void footprint(const event *e, int64_t *lo, int64_t *hi)
{
    switch (e->kind) {
    case EV_PUMP:
        *lo = e->onset_ms - MS_H;
        *hi = e->onset_ms + MS_H;
        break;
    case EV_LISTING:
        *lo = e->onset_ms;
        *hi = e->onset_ms + MS_D;
        break;
    default:
        *lo = e->onset_ms;
        *hi = e->onset_ms + 2 * MS_H;
        break;
    }
}

static int conflicts(const market *m, const event *c)
{
    int64_t lo, hi;
    footprint(c, &lo, &hi);
    for (size_t k = 0; k < m->n_ev; ++k) {
        const event *e = &m->ev[k];
        if (e->asset != c->asset && e->asset != SIZE_MAX &&
            c->asset != SIZE_MAX)
            continue;
        /* A listing day only adds volume: a market move may fall in it. */
        if ((e->kind == EV_LISTING && c->kind == EV_MARKET) ||
            (e->kind == EV_MARKET && c->kind == EV_LISTING))
            continue;
        int64_t elo, ehi;
        footprint(e, &elo, &ehi);
        if (lo < ehi + 3 * MS_H && elo < hi + 3 * MS_H)
            return 1;
    }
    return 0;
}

/* Announcement hour (UTC) of the Telegram pumps in La Morgia et al. 2020
 * (shared/data/pump_telegram.csv, 1 110 rows): counts for hours 0..23. */
static const double pump_hour_w[24] = {2,   1,   0,   0,   0,  1,  0,  0,
                                       0,   3,   1,   6,   8,  10, 41, 147,
                                       204, 342, 147, 101, 69, 25, 0,  2};

static int draw_hour(coce_rng *r)
{
    double tot = 0.0;
    for (int h = 0; h < 24; ++h)
        tot += pump_hour_w[h];
    double u = coce_rng_uniform(r) * tot;
    for (int h = 0; h < 24; ++h) {
        u -= pump_hour_w[h];
        if (u < 0.0)
            return h;
    }
    return 17;
}

static void draw_event(market *m, coce_rng *r, int kind, event *e)
{
    const coce_synth_opts *o = m->o;
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->asset = kind == EV_MARKET ? SIZE_MAX : (size_t)coce_rng_below(r, m->n);
    int64_t span = m->t_end - m->t0 - 4 * MS_H;
    int64_t any_t =
        m->t0 + 2 * MS_H + (int64_t)coce_rng_below(r, (uint64_t)span);
    e->time_ms = e->onset_ms = any_t;
    double sign = coce_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
    switch (kind) {
    case EV_PUMP: {
        /* Calendar of the real announcements: a day, an hour drawn from the
         * Telegram list and mostly on the hour (824 of 1 110 at :00, 77 at
         * :59, 57 at :30). */
        int64_t day0 = m->t0 / MS_D * MS_D;
        int64_t d = (int64_t)coce_rng_below(r, (uint64_t)m->o->days);
        double u = coce_rng_uniform(r);
        int64_t minute = u < 0.86 ? 0 : (u < 0.93 ? 59 : 30);
        e->time_ms = day0 + d * MS_D + draw_hour(r) * MS_H + minute * 60000;
        /* Hand-labelled onsets lie within [-120 s, +60 s] of the announced
         * time (README of shared/data, from La Morgia et al. 2020); in 58
         * of the 81 real files the onset chunk is the 25 s chunk starting
         * at the announcement, so most bursts start within seconds of it. */
        e->onset_ms = coce_rng_uniform(r) < 0.7
                          ? e->time_ms + (int64_t)uni(r, 0.0, 2000.0)
                          : e->time_ms + (int64_t)uni(r, -120000.0, 60000.0);
        double peak =
            o->pump_peak_median * exp(o->pump_peak_sigma * coce_rng_normal(r));
        e->mag = log1p(clampd(peak, o->pump_peak_min, o->pump_peak_max));
        e->t1_s = clampd(o->pump_peak_time_s * exp(0.8 * coce_rng_normal(r)),
                         10.0, 300.0);
        e->t2_s = o->pump_dump_s * uni(r, 0.5, 1.5);
        e->aux = 0.1 * e->mag * uni(r, 0.5, 1.5);
        e->burst = exp(o->pump_burst_sigma * coce_rng_normal(r));
        e->jump = uni(r, k_pump_jump_lo, k_pump_jump_hi);
        break;
    }
    case EV_NEWS:
        e->mag = (coce_rng_uniform(r) < 0.7 ? 1.0 : -1.0) * uni(r, 0.05, 0.15);
        e->t1_s = uni(r, 60.0, 180.0);
        e->t2_s = uni(r, 1800.0, 7200.0);
        break;
    case EV_WHALE:
        e->mag = uni(r, 0.02, 0.05);
        e->aux = uni(r, 1.0, 4.0);
        break;
    case EV_LISTING:
        e->time_ms = e->onset_ms =
            m->t0 + (int64_t)coce_rng_below(r, (uint64_t)m->o->days) * MS_D;
        e->mag = uni(r, 3.0, 6.0);
        break;
    default: /* EV_MARKET */
        e->mag = sign * uni(r, 0.03, 0.08);
        e->t1_s = k_event_rise_s;
        break;
    }
}

static int place_events(market *m, coce_rng *r, int kind, size_t count,
                        coce_err *err)
{
    for (size_t c = 0; c < count; ++c) {
        event e;
        int placed = 0;
        for (int attempt = 0; attempt < 2000 && !placed; ++attempt) {
            draw_event(m, r, kind, &e);
            int64_t lo, hi;
            footprint(&e, &lo, &hi);
            if (hi > m->t_end ||
                (e.kind != EV_LISTING && e.onset_ms < m->t0 + 2 * MS_H))
                continue;
            if (e.kind == EV_PUMP && lo < m->t0 + MS_H)
                continue;
            if (!conflicts(m, &e))
                placed = 1;
        }
        if (!placed)
            return coce_err_set(err, COCE_ERANGE,
                                "synth: cannot place %zu %s events without "
                                "overlap in %zu assets x %zu days (placed "
                                "%zu)",
                                count, ev_name[kind], m->n, m->o->days, c);
        m->ev[m->n_ev++] = e;
    }
    return COCE_OK;
}

/* Log-price overlay of the events on one asset at time t (ms). */
static double bump(const market *m, size_t a, const size_t *idx, size_t n_idx,
                   int64_t t)
{
    double b = 0.0;
    for (size_t q = 0; q < n_idx; ++q) {
        const event *e = &m->ev[idx[q]];
        double s = (double)(t - e->onset_ms) / 1000.0;
        switch (e->kind) {
        case EV_PUMP:
            if (s < -3600.0)
                break;
            if (s < 0.0) {
                b += e->aux * (s + 3600.0) / 3600.0; /* accumulation */
            } else if (s < e->t1_s) {
                double x = 1.0 - s / e->t1_s;
                double g = e->jump * (1.0 - exp(-s / k_pump_jump_s)) +
                           (1.0 - e->jump) * (1.0 - x * x);
                b += e->aux + (e->mag - e->aux) * g;
            } else {
                /* Dump: 95 % of the rise is gone after t2_s. */
                b += e->mag * exp(-3.0 * (s - e->t1_s) / e->t2_s);
            }
            break;
        case EV_NEWS:
            if (s < 0.0)
                break;
            if (s < e->t1_s)
                b += e->mag * s / e->t1_s;
            else
                b += e->mag * (k_news_perm + (1.0 - k_news_perm) *
                                                 exp(-(s - e->t1_s) / e->t2_s));
            break;
        case EV_WHALE:
            if (s >= 0.0)
                b += e->mag * exp(-s / k_whale_tau_s);
            break;
        case EV_MARKET:
            if (s >= 0.0)
                b += m->beta_m[a] * e->mag * fmin(1.0, s / e->t1_s);
            break;
        default: /* a listing moves volume, not price */
            break;
        }
    }
    return b;
}

/* ---------------------------------------------------------------- setup */

static int market_alloc(market *m)
{
    size_t n = m->n, H1 = m->H + 1;
    m->sym = calloc(n, sizeof *m->sym);
    m->pair = calloc(n, sizeof *m->pair);
    m->sector = calloc(n, sizeof *m->sector);
    m->beta_m = calloc(n, sizeof(double));
    m->beta_s = calloc(n, sizeof(double));
    m->p0 = calloc(n, sizeof(double));
    m->tick = calloc(n, sizeof(double));
    m->lot = calloc(n, sizeof(double));
    m->cap0 = calloc(n, sizeof(double));
    m->var_h = calloc(n, sizeof(double));
    m->act = calloc(n, sizeof(double));
    m->swp = calloc(n, sizeof(double));
    m->L = calloc(n * H1, sizeof(double));
    m->btc = calloc(H1, sizeof(double));
    m->eth = calloc(H1, sizeof(double));
    size_t n_ev =
        m->n_pumps + m->n_news + m->n_whales + m->n_listings + m->n_market + 1;
    m->ev = calloc(n_ev, sizeof *m->ev);
    if (m->sym == NULL || m->pair == NULL || m->sector == NULL ||
        m->beta_m == NULL || m->beta_s == NULL || m->p0 == NULL ||
        m->tick == NULL || m->lot == NULL || m->cap0 == NULL ||
        m->var_h == NULL || m->act == NULL || m->swp == NULL || m->L == NULL ||
        m->btc == NULL || m->eth == NULL || m->ev == NULL)
        return COCE_ENOMEM;
    return COCE_OK;
}

static void market_free(market *m)
{
    free(m->sym);
    free(m->pair);
    free(m->sector);
    free(m->beta_m);
    free(m->beta_s);
    free(m->p0);
    free(m->tick);
    free(m->lot);
    free(m->cap0);
    free(m->var_h);
    free(m->act);
    free(m->swp);
    free(m->L);
    free(m->btc);
    free(m->eth);
    free(m->ev);
}

static void setup_assets(market *m)
{
    const coce_synth_opts *o = m->o;
    coce_rng r;
    stream(&r, o->seed, ST_SCHEDULE, 0);
    /* Sectors: a seeded shuffle dealt round-robin, so sizes differ by at
     * most one and membership is not visible from the symbol order. */
    for (size_t i = 0; i < m->n; ++i)
        m->sector[i] = i % o->n_sectors;
    for (size_t i = m->n; i > 1; --i) {
        size_t j = (size_t)coce_rng_below(&r, i);
        size_t tmp = m->sector[i - 1];
        m->sector[i - 1] = m->sector[j];
        m->sector[j] = tmp;
    }
    double lpmin = log(o->price_min_btc), lpmax = log(o->price_max_btc);
    double lcmin = log(o->cap_min_usd), lcmax = log(o->cap_max_usd);
    double sm2 = o->market_vol_h * o->market_vol_h;
    double ss2 = o->sector_vol_h * o->sector_vol_h;
    for (size_t i = 0; i < m->n; ++i) {
        (void)coce_synth_symbol(i, m->pair[i], sizeof m->pair[i]);
        memcpy(m->sym[i], m->pair[i], 3);
        m->sym[i][3] = '\0';
        m->beta_m[i] = uni(&r, 0.7, 1.3);
        m->beta_s[i] = uni(&r, 0.7, 1.3);
        m->p0[i] = exp(uni(&r, lpmin, lpmax));
        /* Fixed absolute tick per pair, 4 significant digits at the start
         * price (Binance's 1e-8 BTC tick on a 1e-5 BTC coin). */
        m->tick[i] = pow(10.0, floor(log10(m->p0[i])) - 3.0);
        /* Binance's price step of 1e-8 BTC (2019) is coarse for the cheap
         * coins: many real hours end at the price they started. */
        if (m->p0[i] >= 1e-6)
            m->tick[i] = fmax(m->tick[i], 1e-8);
        m->lot[i] = fmin(1.0, pow(10.0, floor(log10(1e-5 / m->p0[i]))));
        m->cap0[i] = exp(uni(&r, lcmin, lcmax));
        m->var_h[i] = m->beta_m[i] * m->beta_m[i] * sm2 +
                      m->beta_s[i] * m->beta_s[i] * ss2 +
                      o->idio_vol_h * o->idio_vol_h;
        /* Liquidity and sweep habits differ between coins: the 81 real
         * files span 11-133 rows/hour and 10-44 % rush rows (p10-p90).
         * Own stream, so the draws above stay as they were. */
        coce_rng ra;
        stream(&ra, o->seed, ST_ACTIVITY, i);
        m->act[i] = exp(o->activity_sigma * coce_rng_normal(&ra));
        m->swp[i] = fmin(0.9, o->sweep_prob *
                                  exp(o->sweep_sigma * coce_rng_normal(&ra)));
    }
}

static int setup_factors(market *m)
{
    const coce_synth_opts *o = m->o;
    size_t H = m->H, K = o->n_sectors, H1 = H + 1;
    double *mk = calloc(H, sizeof(double));
    double *sf = calloc(H * K, sizeof(double));
    if (mk == NULL || sf == NULL) {
        free(mk);
        free(sf);
        return COCE_ENOMEM;
    }
    coce_rng r;
    stream(&r, o->seed, ST_FACTORS, 0);
    /* GARCH(1,1) on the market factor (Bollerslev 1986) with the
     * long-run variance pinned at market_vol_h^2; Student-t shocks give the
     * heavy tails (Cont 2001, facts 2 and 6). */
    double s2 = o->market_vol_h * o->market_vol_h;
    double omega = s2 * (1.0 - o->garch_alpha - o->garch_beta);
    double h = s2;
    char buf[64];
    double lb = log(o->btc_usd_start), le = log(o->eth_usd_start);
    m->btc[0] = quant(o->btc_usd_start, "%.2f", buf, sizeof buf);
    m->eth[0] = quant(o->eth_usd_start, "%.2f", buf, sizeof buf);
    double rho2 = sqrt(1.0 - k_eth_btc_corr * k_eth_btc_corr);
    for (size_t t = 0; t < H; ++t) {
        double eps = sqrt(h) * t_std(&r, o->t_nu);
        mk[t] = eps;
        h = omega + o->garch_alpha * eps * eps + o->garch_beta * h;
        for (size_t k = 0; k < K; ++k)
            sf[t * K + k] = o->sector_vol_h * t_std(&r, o->t_nu);
        double z1 = t_std(&r, o->t_nu), z2 = t_std(&r, o->t_nu);
        lb += k_btc_vol_h * z1;
        le += k_eth_vol_h * (k_eth_btc_corr * z1 + rho2 * z2);
        m->btc[t + 1] = fmax(0.01, quant(exp(lb), "%.2f", buf, sizeof buf));
        m->eth[t + 1] = fmax(0.01, quant(exp(le), "%.2f", buf, sizeof buf));
    }
    /* r = b_m * market + b_s * sector + idiosyncratic: the one-factor-per-
     * cluster structure that the clustering stage has to recover. */
    for (size_t i = 0; i < m->n; ++i) {
        coce_rng ri;
        stream(&ri, o->seed, ST_IDIO, i);
        double *L = m->L + i * H1;
        L[0] = log(m->p0[i]);
        size_t k = m->sector[i];
        for (size_t t = 0; t < H; ++t)
            L[t + 1] = L[t] + m->beta_m[i] * mk[t] +
                       m->beta_s[i] * sf[t * K + k] +
                       o->idio_vol_h * t_std(&ri, o->t_nu);
    }
    free(mk);
    free(sf);
    return COCE_OK;
}

/* ---------------------------------------------------------------- orders */

typedef struct ovec {
    order *v;
    size_t n, cap;
} ovec;

static int opush(ovec *ov, const market *m, int64_t t, double size_btc,
                 int side, unsigned levels)
{
    if (t < m->t0 || t >= m->t_end)
        return COCE_OK;
    if (ov->n == ov->cap) {
        size_t cap = ov->cap ? ov->cap * 2 : 4096;
        order *v = realloc(ov->v, cap * sizeof *v);
        if (v == NULL)
            return COCE_ENOMEM;
        ov->v = v;
        ov->cap = cap;
    }
    order *x = &ov->v[ov->n];
    x->t = t;
    x->size_btc = fmax(size_btc, k_min_notional_btc);
    x->seq = (uint32_t)ov->n;
    x->side = (int8_t)side;
    x->levels = (uint8_t)levels;
    ov->n++;
    return COCE_OK;
}

/* One taker order: log-normal size (real btc_volume of the 81 files), and
 * with probability sweep a walk through 2-6 book levels in the same ms (the
 * rush orders of La Morgia et al. 2020). */
static int push_taker(ovec *ov, const market *m, coce_rng *r, int64_t t,
                      double p_buy, double sweep, double size_mult)
{
    const coce_synth_opts *o = m->o;
    int side = coce_rng_uniform(r) < p_buy ? 1 : -1;
    double size = size_mult * o->size_median_btc *
                  exp(o->size_sigma * coce_rng_normal(r));
    unsigned lv =
        coce_rng_uniform(r) < sweep ? 2u + (unsigned)coce_rng_below(r, 5) : 1u;
    return opush(ov, m, t, size, side, lv);
}

static double season(const coce_synth_opts *o, int64_t t)
{
    double hod = (double)(t % MS_D) / (double)MS_H;
    return 1.0 + o->intraday_amp *
                     cos(2.0 * k_pi * (hod - o->intraday_peak_h) / 24.0);
}

/* Background flow: Hawkes process with exponential kernel
 * phi(s) = n beta e^{-beta s} (Bacry, Mastromatteo & Muzy 2015)
 * and baseline mu(t) = mu0 * season(t), simulated by Ogata's (1981)
 * thinning: between events the intensity is below mu_max + excitation. */
static int gen_background(const market *m, size_t a, coce_rng *r, ovec *ov)
{
    const coce_synth_opts *o = m->o;
    double T = (double)(m->t_end - m->t0) / 1000.0;
    double nb = o->hawkes_branching, beta = 1.0 / o->hawkes_decay_s;
    double mu0 = o->trades_per_day * m->act[a] / 86400.0 * (1.0 - nb);
    double mu_max = mu0 * (1.0 + o->intraday_amp);
    double t = 0.0, exc = 0.0;
    for (;;) {
        double bound = mu_max + exc;
        double w = coce_rng_exponential(r, bound);
        t += w;
        exc *= exp(-beta * w);
        if (t >= T)
            break;
        int64_t tms = m->t0 + (int64_t)(t * 1000.0);
        if (coce_rng_uniform(r) * bound <= mu0 * season(o, tms) + exc) {
            exc += nb * beta;
            int rc = push_taker(ov, m, r, tms, 0.5, m->swp[a], 1.0);
            if (rc != COCE_OK)
                return rc;
        }
    }
    return COCE_OK;
}

/* Indices of the events that touch asset a; idx holds m->n_ev entries. */
static size_t asset_events(const market *m, size_t a, size_t *idx)
{
    size_t n = 0;
    for (size_t k = 0; k < m->n_ev; ++k)
        if (m->ev[k].asset == a || m->ev[k].asset == SIZE_MAX)
            idx[n++] = k;
    return n;
}

static int64_t after(int64_t t, double s)
{
    return t + (int64_t)(s * 1000.0);
}

/* Extra taker orders an event brings to one asset. */
static int gen_event_orders(const market *m, size_t a, const event *e,
                            coce_rng *r, ovec *ov)
{
    const coce_synth_opts *o = m->o;
    double per_h = o->trades_per_day * m->act[a] / 24.0;
    int rc = COCE_OK;
    double sgn = e->mag >= 0.0 ? 1.0 : -1.0;
    switch (e->kind) {
    case EV_PUMP: {
        /* Accumulation by the organisers in the hour before (Xu & Livshits
         * 2019), then the members' buy burst in the first seconds,
         * then the dump: sell pressure over t2 (La Morgia et al. 2020). */
        uint64_t c = coce_rng_poisson(r, o->pump_pre_mult * per_h);
        for (uint64_t k = 0; k < c && rc == COCE_OK; ++k)
            rc = push_taker(ov, m, r, after(e->onset_ms, -uni(r, 0.0, 3600.0)),
                            0.75, m->swp[a], 1.0);
        /* Burst size grows with the coin's liquidity, less than in
         * proportion (real onset chunks: elasticity ~0.3-0.6 of fills per
         * onset chunk on background fills per chunk, 81 files), times a
         * per-pump log-normal factor. Fills per 25 s chunk after the real
         * onsets decay with a time constant of about 75 s. */
        double nburst = o->pump_burst_orders * sqrt(m->act[a]) * e->burst;
        c = coce_rng_poisson(r, nburst);
        for (uint64_t k = 0; k < c && rc == COCE_OK; ++k) {
            double tau = coce_rng_uniform(r) < k_pump_rush
                             ? k_pump_rush_s
                             : o->pump_burst_tau_s;
            double s = coce_rng_exponential(r, 1.0 / tau);
            rc = push_taker(ov, m, r, after(e->onset_ms, s), 0.92,
                            o->pump_burst_sweep, k_pump_size);
        }
        c = coce_rng_poisson(r, 0.8 * nburst);
        for (uint64_t k = 0; k < c && rc == COCE_OK; ++k) {
            double s = e->t1_s + coce_rng_exponential(r, 3.0 / e->t2_s);
            rc = push_taker(ov, m, r, after(e->onset_ms, s), 0.3, 0.3, 1.5);
        }
        break;
    }
    case EV_NEWS: {
        /* Activity x5 decaying with the news, no pre-pump, few sweeps. */
        uint64_t c = coce_rng_poisson(r, 4.0 * per_h * e->t2_s / 3600.0);
        for (uint64_t k = 0; k < c && rc == COCE_OK; ++k)
            rc = push_taker(
                ov, m, r,
                after(e->onset_ms, coce_rng_exponential(r, 1.0 / e->t2_s)),
                0.5 + 0.15 * sgn, 0.12, 1.0);
        break;
    }
    case EV_WHALE:
        rc = opush(ov, m, e->onset_ms, e->aux, 1,
                   8u + (unsigned)coce_rng_below(r, 8));
        break;
    case EV_LISTING: {
        uint64_t c = coce_rng_poisson(r, (e->mag - 1.0) * 24.0 * per_h);
        for (uint64_t k = 0; k < c && rc == COCE_OK; ++k)
            rc = push_taker(ov, m, r, after(e->onset_ms, uni(r, 0.0, 86400.0)),
                            0.5, m->swp[a], 1.0);
        break;
    }
    default: { /* EV_MARKET */
        uint64_t c = coce_rng_poisson(r, 2.0 * per_h);
        for (uint64_t k = 0; k < c && rc == COCE_OK; ++k)
            rc = push_taker(
                ov, m, r,
                after(e->onset_ms, coce_rng_exponential(r, 1.0 / 3600.0)),
                0.5 + 0.15 * sgn, m->swp[a], 1.0);
        break;
    }
    }
    return rc;
}

static int cmp_order(const void *pa, const void *pb)
{
    const order *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int gen_orders(const market *m, size_t a, ovec *ov)
{
    coce_rng r;
    stream(&r, m->o->seed, ST_ORDERS, a);
    ov->n = 0;
    int rc = gen_background(m, a, &r, ov);
    for (size_t k = 0; k < m->n_ev && rc == COCE_OK; ++k)
        if (m->ev[k].asset == a || m->ev[k].asset == SIZE_MAX)
            rc = gen_event_orders(m, a, &m->ev[k], &r, ov);
    if (rc == COCE_OK && ov->n > 1)
        qsort(ov->v, ov->n, sizeof *ov->v, cmp_order);
    return rc;
}

/* ---------------------------------------------------------------- trades */

static int write_trades(const market *m, size_t a, const ovec *ov,
                        const size_t *idx, size_t n_idx, const char *dir,
                        coce_err *err)
{
    const coce_synth_opts *o = m->o;
    char name[32];
    (void)snprintf(name, sizeof name, "trades/%s.csv", m->sym[a]);
    out_file w = {0};
    int rc = out_open(&w, dir, name, err);
    if (rc != COCE_OK)
        return rc;
    (void)fputs("symbol,timestamp,datetime,side,price,amount,btc_volume\n",
                w.f);
    coce_rng r;
    stream(&r, o->seed, ST_PRICES, a);
    const double *L = m->L + a * (m->H + 1);
    const double tick = m->tick[a], lot = m->lot[a];
    const double var_ms = m->var_h[a] / (double)MS_H;
    size_t cur_h = SIZE_MAX;
    int64_t t_prev = 0, day = -1;
    double l_prev = 0.0;
    char date[11] = "";
    char pstr[40], astr[40], vstr[40], line[256];
    long long last_k = -1;
    double pval = 0.0;
    for (size_t q = 0; q < ov->n; ++q) {
        const order *x = &ov->v[q];
        size_t h = (size_t)((x->t - m->t0) / MS_H);
        if (h != cur_h) {
            cur_h = h;
            t_prev = m->t0 + (int64_t)h * MS_H;
            l_prev = L[h];
        }
        /* Brownian bridge between the hourly factor-model log-prices,
         * sampled sequentially at the trade times (exact conditional
         * law; Glasserman 2003, Sec. 3.1). */
        int64_t t_end = m->t0 + (int64_t)(h + 1) * MS_H;
        double dt = (double)(x->t - t_prev), tot = (double)(t_end - t_prev);
        if (dt > 0.0) {
            double rem = (double)(t_end - x->t);
            double mean = l_prev + dt / tot * (L[h + 1] - l_prev);
            l_prev = mean + sqrt(var_ms * dt * rem / tot) * coce_rng_normal(&r);
            t_prev = x->t;
        }
        double mid = exp(l_prev + bump(m, a, idx, n_idx, x->t));
        /* Taker pays the half-spread; the book is on a fixed tick grid. */
        double px = mid * (1.0 + x->side * o->half_spread);
        long long k0 = llround(px / tick);
        long long step = llround(mid * k_level_gap / tick);
        if (k0 < 1)
            k0 = 1;
        if (step < 1)
            step = 1;
        double total = x->size_btc / ((double)k0 * tick);
        double wsum = 0.0, wts[16] = {0};
        for (unsigned j = 0; j < x->levels; ++j) {
            wts[j] = x->levels == 1 ? 1.0 : coce_rng_exponential(&r, 1.0);
            wsum += wts[j];
        }
        int64_t tod = x->t % MS_D;
        if (x->t / MS_D != day) {
            day = x->t / MS_D;
            date_str(x->t, date);
        }
        for (unsigned j = 0; j < x->levels; ++j) {
            long long k = k0 + (long long)x->side * (long long)j * step;
            if (k < 1)
                k = 1;
            if (k != last_k) {
                last_k = k;
                pval = quant((double)k * tick, "%.10g", pstr, sizeof pstr);
            }
            double amt = fmax(1.0, floor(total * wts[j] / wsum / lot + 0.5));
            double aval = quant(amt * lot, "%.8g", astr, sizeof astr);
            (void)snprintf(vstr, sizeof vstr, "%.10g", pval * aval);
            int n = snprintf(line, sizeof line,
                             "%s,%lld,%sT%02d:%02d:%02d.%03dZ,%s,%s,%s,%s\n",
                             m->pair[a], (long long)x->t, date,
                             (int)(tod / MS_H), (int)(tod / 60000 % 60),
                             (int)(tod / 1000 % 60), (int)(tod % 1000),
                             x->side > 0 ? "buy" : "sell", pstr, astr, vstr);
            (void)fwrite(line, 1, (size_t)n, w.f);
        }
    }
    return out_close(&w, err);
}

/* ---------------------------------------------------------------- posts */

typedef struct tmpl {
    const char *pre, *post;
} tmpl;

/* Small template lists; the sentiment words (moon, pump, bullish, dump,
 * scam, rug, bearish) are the ones the sentiment stage must pick up. No
 * template holds a comma or a quote, so posts.csv needs no quoting. */
enum {
    TX_NEUTRAL,
    TX_BULL,
    TX_BEAR,
    TX_NEWS,
    TX_WHALE,
    TX_LISTING,
    TX_MARKET,
    TX_N
};
static const tmpl tx_neutral[] = {
    {"anyone looking at ", " today"}, {"", " chart update"},
    {"what do you think of ", ""},    {"", " volume looks normal"},
    {"holding some ", " for now"},    {"new to ", " any info"}};
static const tmpl tx_bull[] = {
    {"", " to the moon"},           {"just bought more ", " bullish"},
    {"", " pump starting now buy"}, {"", " moon soon huge gains"},
    {"bullish on ", " breakout"},   {"", " is pumping hard"}};
static const tmpl tx_bear[] = {
    {"", " dump incoming get out"}, {"", " is a scam"},
    {"rug pull on ", " stay away"}, {"bearish on ", " sell now"},
    {"", " dumped hard terrible"},  {"", " pump and dump scam again"}};
static const tmpl tx_news[] = {{"", " announces partnership"},
                               {"", " mainnet update released"},
                               {"big news for ", " team"},
                               {"", " roadmap update out"}};
static const tmpl tx_whale[] = {{"whale just bought ", ""},
                                {"huge buy order on ", ""},
                                {"someone bought a lot of ", ""}};
static const tmpl tx_listing[] = {{"", " volume exploding today"},
                                  {"", " new listing rumours"},
                                  {"", " trading volume record"}};
static const tmpl tx_market[] = {{"whole market moving ", " too"},
                                 {"everything moving ", " included"}};
static const tmpl *const tx_list[TX_N] = {
    tx_neutral, tx_bull, tx_bear, tx_news, tx_whale, tx_listing, tx_market};
static const size_t tx_len[TX_N] = {6, 6, 6, 4, 3, 3, 2};

typedef struct pvec {
    post *v;
    size_t n, cap;
} pvec;

static int ppush(pvec *pv, const market *m, size_t a, int64_t t, int cat,
                 coce_rng *r)
{
    uint64_t pick = coce_rng_below(r, tx_len[cat]);
    if (t < m->t0 || t >= m->t_end)
        return COCE_OK;
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 1024;
        post *v = realloc(pv->v, cap * sizeof *v);
        if (v == NULL)
            return COCE_ENOMEM;
        pv->v = v;
        pv->cap = cap;
    }
    post *p = &pv->v[pv->n];
    const tmpl *tp = &tx_list[cat][pick];
    p->t = t;
    p->asset = a;
    p->seq = (uint32_t)pv->n;
    (void)snprintf(p->text, sizeof p->text, "%s$%s%s", tp->pre, m->sym[a],
                   tp->post);
    pv->n++;
    return COCE_OK;
}

/* Posts: a Poisson base rate per asset (70 % neutral, 15 % bullish, 15 %
 * bearish) plus bursts: around a pump the promotion starts up to
 * post_lead_s before onset (Kamps & Kleinberg 2018: coordinated
 * promotion precedes the price move), bullish until mid-dump, then mixed
 * with "dump/scam/rug" complaints; smaller bursts follow the look-alikes. */
static int gen_posts(const market *m, size_t a, pvec *pv)
{
    const coce_synth_opts *o = m->o;
    coce_rng r;
    stream(&r, o->seed, ST_POSTS, a);
    int rc = COCE_OK;
    double span_s = (double)(m->t_end - m->t0) / 1000.0;
    uint64_t c = coce_rng_poisson(&r, o->posts_per_day * (double)o->days);
    for (uint64_t k = 0; k < c && rc == COCE_OK; ++k) {
        double u = coce_rng_uniform(&r);
        int cat = u < 0.7 ? TX_NEUTRAL : (u < 0.85 ? TX_BULL : TX_BEAR);
        rc = ppush(pv, m, a, after(m->t0, uni(&r, 0.0, span_s)), cat, &r);
    }
    for (size_t q = 0; q < m->n_ev && rc == COCE_OK; ++q) {
        const event *e = &m->ev[q];
        if (e->asset != a && e->asset != SIZE_MAX)
            continue;
        double share[EV_N] = {1.0, 0.5, 0.125, 0.375, 0.05};
        c = coce_rng_poisson(&r, share[e->kind] * o->post_burst_pump);
        int64_t start = e->kind == EV_PUMP
                            ? after(e->onset_ms, -uni(&r, 0.0, o->post_lead_s))
                            : e->onset_ms;
        for (uint64_t k = 0; k < c && rc == COCE_OK; ++k) {
            int64_t t;
            int cat;
            switch (e->kind) {
            case EV_PUMP:
                t = after(start, coce_rng_exponential(&r, 1.0 / 600.0));
                cat = (double)(t - e->onset_ms) <
                                  1000.0 * (e->t1_s + 0.5 * e->t2_s) ||
                              coce_rng_uniform(&r) < 0.5
                          ? TX_BULL
                          : TX_BEAR;
                break;
            case EV_NEWS:
                t = after(start, coce_rng_exponential(&r, 1.0 / 1800.0));
                cat = coce_rng_uniform(&r) < 0.5
                          ? TX_NEWS
                          : (e->mag > 0.0 ? TX_BULL : TX_BEAR);
                break;
            case EV_WHALE:
                t = after(start, coce_rng_exponential(&r, 1.0 / 300.0));
                cat = TX_WHALE;
                break;
            case EV_LISTING:
                t = after(start, uni(&r, 0.0, 86400.0));
                cat = TX_LISTING;
                break;
            default:
                t = after(start, coce_rng_exponential(&r, 1.0 / 1800.0));
                cat = TX_MARKET;
                break;
            }
            rc = ppush(pv, m, a, t, cat, &r);
        }
    }
    return rc;
}

static int cmp_post(const void *pa, const void *pb)
{
    const post *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->asset != b->asset)
        return a->asset < b->asset ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int write_posts(const market *m, const char *dir, coce_err *err)
{
    pvec pv = {NULL, 0, 0};
    int rc = COCE_OK;
    for (size_t a = 0; a < m->n && rc == COCE_OK; ++a)
        rc = gen_posts(m, a, &pv);
    if (rc != COCE_OK) {
        free(pv.v);
        return coce_err_set(err, rc, "synth: posts: out of memory");
    }
    if (pv.n > 1)
        qsort(pv.v, pv.n, sizeof *pv.v, cmp_post);
    out_file w = {0};
    rc = out_open(&w, dir, "posts.csv", err);
    if (rc == COCE_OK) {
        (void)fputs("time_ms,symbol,text\n", w.f);
        for (size_t k = 0; k < pv.n; ++k)
            (void)fprintf(w.f, "%lld,%s,%s\n", (long long)pv.v[k].t,
                          m->pair[pv.v[k].asset], pv.v[k].text);
        rc = out_close(&w, err);
    }
    free(pv.v);
    return rc;
}

/* ---------------------------------------------------------------- tables */

/* Rank of each asset's symbol in byte order, so rows sort by symbol. */
static int cmp_sym(const void *pa, const void *pb)
{
    const char *const *a = pa, *const *b = pb;
    return strcmp(*a, *b);
}

static int cmp_gt(const void *pa, const void *pb)
{
    const gt_row *a = pa, *b = pb;
    if (a->time_ms != b->time_ms)
        return a->time_ms < b->time_ms ? -1 : 1;
    if (a->asset != b->asset) /* asset holds the symbol rank here */
        return a->asset < b->asset ? -1 : 1;
    return (a->kind > b->kind) - (a->kind < b->kind);
}

static int write_ground_truth(const market *m, const char *dir, coce_err *err)
{
    size_t rows = 0;
    for (size_t k = 0; k < m->n_ev; ++k)
        rows += m->ev[k].asset == SIZE_MAX ? m->n : 1;
    gt_row *gt = calloc(rows + 1, sizeof *gt);
    const char **names = calloc(m->n, sizeof *names);
    size_t *by_rank = calloc(m->n, sizeof *by_rank);
    size_t *rank = calloc(m->n, sizeof *rank);
    if (gt == NULL || names == NULL || by_rank == NULL || rank == NULL) {
        free(gt);
        free(names);
        free(by_rank);
        free(rank);
        return coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
    }
    for (size_t i = 0; i < m->n; ++i)
        names[i] = m->pair[i];
    qsort(names, m->n, sizeof *names, cmp_sym);
    for (size_t r = 0; r < m->n; ++r) {
        size_t i = (size_t)(names[r] - m->pair[0]) / sizeof m->pair[0];
        by_rank[r] = i;
        rank[i] = r;
    }
    size_t n = 0;
    for (size_t k = 0; k < m->n_ev; ++k) {
        const event *e = &m->ev[k];
        for (size_t i = 0; i < m->n; ++i) {
            if (e->asset != SIZE_MAX && e->asset != i)
                continue;
            gt[n].time_ms = e->time_ms;
            gt[n].onset_ms = e->onset_ms;
            gt[n].asset = rank[i];
            gt[n].kind = e->kind;
            ++n;
        }
    }
    qsort(gt, n, sizeof *gt, cmp_gt);
    out_file w = {0};
    int rc = out_open(&w, dir, "ground_truth.csv", err);
    if (rc == COCE_OK) {
        (void)fputs("symbol,time_ms,onset_ms,kind\n", w.f);
        for (size_t k = 0; k < n; ++k)
            (void)fprintf(w.f, "%s,%lld,%lld,%s\n",
                          m->pair[by_rank[gt[k].asset]],
                          (long long)gt[k].time_ms, (long long)gt[k].onset_ms,
                          ev_name[gt[k].kind]);
        rc = out_close(&w, err);
    }
    free(gt);
    free(names);
    free(by_rank);
    free(rank);
    return rc;
}

static int write_sectors(const market *m, const char *dir, coce_err *err)
{
    out_file w = {0};
    int rc = out_open(&w, dir, "sectors.csv", err);
    if (rc != COCE_OK)
        return rc;
    (void)fputs("symbol,sector\n", w.f);
    for (size_t i = 0; i < m->n; ++i)
        (void)fprintf(w.f, "%s,%zu\n", m->pair[i], m->sector[i]);
    return out_close(&w, err);
}

/* Daily market cap at each day's close: price (BTC) x BTC/USD x a fixed
 * circulating supply set so that day 0 opens at the asset's drawn cap. */
static int write_caps(const market *m, const char *dir, coce_err *err)
{
    size_t *idx = calloc(m->n_ev + 1, sizeof *idx);
    if (idx == NULL)
        return coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
    out_file w = {0};
    int rc = out_open(&w, dir, "market_caps.csv", err);
    if (rc != COCE_OK) {
        free(idx);
        return rc;
    }
    (void)fputs("date,symbol,market_cap_usd\n", w.f);
    char date[11], buf[40];
    for (size_t d = 0; d < m->o->days; ++d) {
        int64_t t_open = m->t0 + (int64_t)d * MS_D;
        size_t h = 24 * (d + 1);
        date_str(t_open, date);
        for (size_t i = 0; i < m->n; ++i) {
            size_t ni = asset_events(m, i, idx);
            double supply = m->cap0[i] / (m->p0[i] * m->btc[0]);
            double px = exp(m->L[i * (m->H + 1) + h] +
                            bump(m, i, idx, ni, t_open + MS_D - 1));
            (void)snprintf(buf, sizeof buf, "%.10g", px * m->btc[h] * supply);
            (void)fprintf(w.f, "%s,%s,%s\n", date, m->pair[i], buf);
        }
    }
    free(idx);
    return out_close(&w, err);
}

static int write_usd(const market *m, const double *px, const char *dir,
                     const char *name, coce_err *err)
{
    out_file w = {0};
    int rc = out_open(&w, dir, name, err);
    if (rc != COCE_OK)
        return rc;
    (void)fputs("time_ms,price\n", w.f);
    for (size_t h = 0; h <= m->H; ++h)
        (void)fprintf(w.f, "%lld,%.2f\n",
                      (long long)(m->t0 + (int64_t)h * MS_H), px[h]);
    return out_close(&w, err);
}

/* ---------------------------------------------------------------- manifest */

static json_t *params_json(const market *m)
{
    const coce_synth_opts *o = m->o;
    json_t *p = json_object();
    if (p == NULL)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(p, "n_assets",
                               json_integer((json_int_t)o->n_assets));
    bad |= json_object_set_new(p, "days", json_integer((json_int_t)o->days));
    bad |= json_object_set_new(p, "start_ms", json_integer(o->start_ms));
    bad |= json_object_set_new(p, "n_sectors",
                               json_integer((json_int_t)o->n_sectors));
    bad |=
        json_object_set_new(p, "n_pumps", json_integer((json_int_t)m->n_pumps));
    bad |=
        json_object_set_new(p, "n_news", json_integer((json_int_t)m->n_news));
    bad |= json_object_set_new(p, "n_whales",
                               json_integer((json_int_t)m->n_whales));
    bad |= json_object_set_new(p, "n_listings",
                               json_integer((json_int_t)m->n_listings));
    bad |= json_object_set_new(p, "n_market_moves",
                               json_integer((json_int_t)m->n_market));
    for (size_t i = 0; i < sizeof dfields / sizeof dfields[0]; ++i)
        bad |= json_object_set_new(p, dfields[i].name,
                                   json_real(dget(o, &dfields[i])));
    if (bad) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static int write_manifest(const market *m, const char *dir, coce_err *err)
{
    json_t *root = json_object(), *files = json_object();
    json_t *params = params_json(m);
    char seed[32], path[4096], hex[65], name[32];
    int rc = COCE_OK;
    if (root == NULL || files == NULL || params == NULL) {
        rc = coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
        goto done;
    }
    /* The seed as a decimal string: JSON integers stop at 2^63. */
    (void)snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->o->seed);
    static const char *const fixed[] = {"ground_truth.csv", "sectors.csv",
                                        "market_caps.csv",  "posts.csv",
                                        "btc_usd.csv",      "eth_usd.csv"};
    size_t total = m->n + sizeof fixed / sizeof fixed[0];
    for (size_t k = 0; k < total && rc == COCE_OK; ++k) {
        if (k < m->n)
            (void)snprintf(name, sizeof name, "trades/%s.csv", m->sym[k]);
        else
            (void)snprintf(name, sizeof name, "%s", fixed[k - m->n]);
        (void)snprintf(path, sizeof path, "%s/%s", dir, name);
        rc = coce_fs_sha256_file(path, hex, err);
        if (rc == COCE_OK && json_object_set_new(files, name, json_string(hex)))
            rc = coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
    }
    if (rc != COCE_OK)
        goto done;
    if (json_object_set_new(root, "generator", json_string("coce_synth")) ||
        json_object_set_new(root, "version", json_string(COCE_VERSION)) ||
        json_object_set_new(root, "model_version",
                            json_integer(COCE_SYNTH_MODEL_VERSION)) ||
        json_object_set_new(root, "seed", json_string(seed)) ||
        json_object_set(root, "params", params) ||
        json_object_set(root, "files", files)) {
        rc = coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
        goto done;
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL) {
        rc = coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
        goto done;
    }
    (void)snprintf(path, sizeof path, "%s/manifest.json", dir);
    size_t len = strlen(text);
    rc = coce_fs_write_atomic(path, text, len, err);
    free(text);
done:
    json_decref(root);
    json_decref(files);
    json_decref(params);
    return rc;
}

/* ---------------------------------------------------------------- driver */

int coce_synth_generate(const coce_synth_opts *o, const char *out_dir,
                        coce_err *err)
{
    int rc = coce_synth_opts_check(o, err);
    if (rc != COCE_OK)
        return rc;
    if (out_dir == NULL || out_dir[0] == '\0')
        return coce_err_set(err, COCE_EINVAL, "synth: empty output directory");
    struct stat st;
    if (coce_fs_mkdir_p(out_dir) != COCE_OK || stat(out_dir, &st) != 0 ||
        !S_ISDIR(st.st_mode))
        return coce_err_set(err, COCE_EIO,
                            "synth: %s: cannot create output directory: %s",
                            out_dir, strerror(errno ? errno : ENOTDIR));
    /* Trade files live under trades/, apart from the other series, so that
     * a replay of the directory sees only trades. */
    char trades_dir[4096];
    if ((size_t)snprintf(trades_dir, sizeof trades_dir, "%s/trades", out_dir) >=
            sizeof trades_dir ||
        coce_fs_mkdir_p(trades_dir) != COCE_OK || stat(trades_dir, &st) != 0 ||
        !S_ISDIR(st.st_mode))
        return coce_err_set(err, COCE_EIO,
                            "synth: %s/trades: cannot create directory",
                            out_dir);

    market m;
    memset(&m, 0, sizeof m);
    m.o = o;
    m.n = o->n_assets;
    m.H = o->days * 24;
    m.t0 = o->start_ms;
    m.t_end = o->start_ms + (int64_t)o->days * MS_D;
    double asset_weeks = (double)(o->n_assets * o->days) / 7.0;
    m.n_pumps = auto_count(o->n_pumps, 0.5, asset_weeks);
    m.n_news = auto_count(o->n_news, 0.25, asset_weeks);
    m.n_whales = auto_count(o->n_whales, 0.25, asset_weeks);
    m.n_listings = auto_count(o->n_listings, 0.05, asset_weeks);
    m.n_market = auto_count(o->n_market_moves, 0.5, (double)o->days / 7.0);
    size_t cap = 100000;
    if (m.n_pumps > cap || m.n_news > cap || m.n_whales > cap ||
        m.n_listings > cap || m.n_market > cap)
        return coce_err_set(err, COCE_ERANGE,
                            "synth: more than %zu events of one kind", cap);
    if (market_alloc(&m) != COCE_OK) {
        market_free(&m);
        return coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
    }
    setup_assets(&m);
    rc = setup_factors(&m);
    if (rc != COCE_OK) {
        market_free(&m);
        return coce_err_set(err, rc, "synth: out of memory");
    }
    coce_rng r;
    stream(&r, o->seed, ST_SCHEDULE, 1);
    /* Widest footprints first, so that the rejection sampling below finds
     * room for the point events in between. */
    const size_t counts[EV_N] = {m.n_pumps, m.n_news, m.n_whales, m.n_listings,
                                 m.n_market};
    static const int order_of[EV_N] = {EV_MARKET, EV_LISTING, EV_PUMP, EV_NEWS,
                                       EV_WHALE};
    for (int k = 0; k < EV_N && rc == COCE_OK; ++k)
        rc = place_events(&m, &r, order_of[k], counts[order_of[k]], err);

    ovec ov = {NULL, 0, 0};
    size_t *idx = calloc(m.n_ev + 1, sizeof *idx);
    if (rc == COCE_OK && idx == NULL)
        rc = coce_err_set(err, COCE_ENOMEM, "synth: out of memory");
    for (size_t a = 0; a < m.n && rc == COCE_OK; ++a) {
        rc = gen_orders(&m, a, &ov);
        if (rc != COCE_OK) {
            rc = coce_err_set(err, rc, "synth: %s: out of memory", m.pair[a]);
            break;
        }
        size_t ni = asset_events(&m, a, idx);
        rc = write_trades(&m, a, &ov, idx, ni, out_dir, err);
    }
    free(ov.v);
    free(idx);
    if (rc == COCE_OK)
        rc = write_ground_truth(&m, out_dir, err);
    if (rc == COCE_OK)
        rc = write_sectors(&m, out_dir, err);
    if (rc == COCE_OK)
        rc = write_caps(&m, out_dir, err);
    if (rc == COCE_OK)
        rc = write_posts(&m, out_dir, err);
    if (rc == COCE_OK)
        rc = write_usd(&m, m.btc, out_dir, "btc_usd.csv", err);
    if (rc == COCE_OK)
        rc = write_usd(&m, m.eth, out_dir, "eth_usd.csv", err);
    if (rc == COCE_OK)
        rc = write_manifest(&m, out_dir, err);
    market_free(&m);
    return rc;
}
