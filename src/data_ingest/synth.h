/* Seeded synthetic crypto market: BTC-quoted trade files with planted
 * pump-and-dumps and look-alike events, ground truth, sectors, market caps,
 * social posts and BTC/ETH USD series. It feeds the default simulation, the
 * tests and the stress cases because real trade files cannot be bundled.
 *
 * Deterministic: the same options (including the seed) give byte-identical
 * files on the same build. The model and the source of every default are in
 * docs/synth.md; each field below says in one line where its default comes
 * from. */
#ifndef COCE_DATA_INGEST_SYNTH_H
#define COCE_DATA_INGEST_SYNTH_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

/* A count left at COCE_SYNTH_AUTO is derived from the market size by the
 * documented rate next to it (rounded to the nearest integer). */
#define COCE_SYNTH_AUTO ((size_t)-1)

/* Bumped whenever the model changes what a given seed produces. */
#define COCE_SYNTH_MODEL_VERSION 2

/* Largest market: symbols are 3 letters drawn from 2 000 combinations. */
#define COCE_SYNTH_MAX_ASSETS 2000
#define COCE_SYNTH_MAX_DAYS 3660

typedef struct coce_synth_opts {
    /* --- size and calendar --- */
    size_t n_assets;  /* 30: a Binance-BTC-pair-sized universe */
    size_t days;      /* 21: the 19-day windows of La Morgia et al. 2020 */
    uint64_t seed;    /* 42 */
    int64_t start_ms; /* 2019-01-01T00:00Z: the era of the real pump files */
    size_t n_sectors; /* 4 true factor clusters */

    /* --- events (COCE_SYNTH_AUTO = derive from the rate) --- */
    size_t n_pumps;        /* AUTO: 0.5 per asset-week ("1 per 2 weeks") */
    size_t n_news;         /* AUTO: 0.25 per asset-week */
    size_t n_whales;       /* AUTO: 0.25 per asset-week */
    size_t n_listings;     /* AUTO: 0.05 per asset-week */
    size_t n_market_moves; /* AUTO: 0.5 per week */

    /* --- returns: r = b_m*market + b_s*sector + idio (hourly, log) --- */
    double t_nu;          /* 4: tail index 2-5 (Cont 2001, fact 2) */
    double market_vol_h;  /* 0.006: alt-vs-BTC hourly vol, 2019 files */
    double garch_alpha;   /* 0.10: GARCH(1,1) (Bollerslev 1986) */
    double garch_beta;    /* 0.85: persistence 0.95, typical crypto fits */
    double sector_vol_h;  /* 0.006: same size as the market factor */
    double idio_vol_h;    /* 0.006: idiosyncratic hourly vol */
    double price_min_btc; /* 1e-6: price range of the 81 real pump files */
    double price_max_btc; /* 1e-3 */
    double half_spread;   /* 0.001: taker pays ~0.1 % over mid, thin alts */

    /* --- trade arrivals and sizes --- */
    double trades_per_day;   /* 600 taker orders/day (median asset): real files
                                36 rows/hour median (docs/synth.md) */
    double activity_sigma;   /* 0.9: log-sd of trades_per_day across assets
                                (real rows/hour p10-p90: 11-133) */
    double hawkes_branching; /* 0.6: endogeneity (Bacry et al. 2015) */
    double hawkes_decay_s;   /* 30 s kernel decay time */
    double intraday_amp;     /* 0.3: activity 1 +/- 0.3 over the UTC day */
    double intraday_peak_h;  /* 15 UTC: EU/US overlap */
    double size_median_btc;  /* 0.004: median btc_volume of real rows */
    double size_sigma;       /* 1.7: log-normal, real p99/median ~ 50 */
    double sweep_prob;  /* 0.08: median asset; real rush share 25 % of buys */
    double sweep_sigma; /* 0.7: log-sd across assets (real 10-44 %) */

    /* --- pumps (La Morgia 2020; Xu & Livshits 2019; Kamps 2018) --- */
    double pump_peak_median;  /* 0.18: measured median peak +16 % */
    double pump_peak_sigma;   /* 0.55: log-normal spread of the peak */
    double pump_peak_min;     /* 0.05 */
    double pump_peak_max;     /* 1.00: the +100 % pumps of the 2018 reports */
    double pump_peak_time_s;  /* 35: median time to peak (measured 34 s) */
    double pump_dump_s;       /* 1200: dump back over 10-30 min */
    double pump_burst_orders; /* 300: median taker orders in the burst */
    double pump_burst_sigma;  /* 0.7: log-sd per pump (real onset chunks) */
    double pump_burst_tau_s;  /* 75: burst decay (real fills per 25 s chunk
                                 after onset: 105, 76, 60, 39) */
    double pump_burst_sweep;  /* 0.25: share of burst orders that sweep */
    double pump_pre_mult;     /* 0.5: extra buy orders in the hour before */

    /* --- social posts --- */
    double posts_per_day;   /* 24 base posts per asset per day */
    double post_burst_pump; /* 40 posts per pump */
    double post_lead_s;     /* 300: burst starts up to 5 min before onset */

    /* --- USD series and market caps --- */
    double btc_usd_start; /* 3700: BTC on 2019-01-01 */
    double eth_usd_start; /* 133: ETH on 2019-01-01 */
    double cap_min_usd;   /* 2e6: pumped coins are small caps */
    double cap_max_usd;   /* 2e8 */
} coce_synth_opts;

/* Fills every field with its documented default. */
void coce_synth_opts_default(coce_synth_opts *o);

/* Checks the options; COCE_EINVAL / COCE_ERANGE with the field named. */
int coce_synth_opts_check(const coce_synth_opts *o, coce_err *err);

/* Generates the market into out_dir (created if needed; existing files of
 * the same names are replaced):
 *   SYM.csv            trades, symbol,timestamp,datetime,side,price,amount,
 *                      btc_volume (one per asset, pair SYM/BTC)
 *   ground_truth.csv   symbol,time_ms,onset_ms,kind (pump|news|whale|
 *                      listing|market), sorted by time_ms, symbol, kind
 *   sectors.csv        symbol,sector
 *   market_caps.csv    date,symbol,market_cap_usd (daily close)
 *   posts.csv          time_ms,symbol,text (no commas in text)
 *   btc_usd.csv, eth_usd.csv   time_ms,price (hourly)
 *   manifest.json      parameters, seed, versions, SHA-256 of each file
 * Returns COCE_OK or a negative code with err naming the option or file. */
int coce_synth_generate(const coce_synth_opts *o, const char *out_dir,
                        coce_err *err);

/* The symbol ("BAK/BTC") of asset i, deterministic in i alone; buf of at
 * least 8 bytes. Returns COCE_ERANGE for i >= COCE_SYNTH_MAX_ASSETS. */
int coce_synth_symbol(size_t i, char *buf, size_t len);

#endif
