/* Universe selection: which assets the strategy may trade at a decision
 * time, and why the others may not.
 *
 * Rules, applied in this order; the first that fails names the reason:
 *  1. the configured exclude list (universe.exclude, any case);
 *  2. built-in exclusions: stablecoins (USDT, USDC, BUSD, TUSD, DAI, PAX,
 *     USDP, FDUSD, ...), wrapped tokens (a known list: WBTC, WETH, WBNB, ...;
 *     not every W-prefixed name: WAVES, WOO, WIN are real tokens) and
 *     leveraged tokens (suffix UP, DOWN, BULL or BEAR after a base of at
 *     least 2 characters, e.g. BTCUP, ETHBULL, XRPBEAR; the bare BULL and
 *     BEAR too; a few real tokens ending in UP, e.g. SYRUP, are exempt);
 *  3. quote asset differs from universe.quote_asset (any case);
 *  4. not listed yet (first trade after the decision time), or listed for
 *     fewer than universe.min_listing_days days (unknown listing time fails
 *     only when min_listing_days > 0);
 *  5. market cap unknown, below min_market_cap_usd or above
 *     max_market_cap_usd (an unknown cap passes only when the band is
 *     [0, inf));
 *  6. average daily quote volume unknown or below min_adv_quote (unknown
 *     passes only when min_adv_quote is 0).
 * The filter is pure: no I/O, no allocation; each exclusion logs one INFO
 * line (coce_log, event "universe_excluded") with the reason and figures. */
#ifndef COCE_UNIVERSE_UNIVERSE_H
#define COCE_UNIVERSE_UNIVERSE_H

#include "utils/config.h"
#include "utils/error.h"
#include "utils/symbols.h"

#include <stddef.h>
#include <stdint.h>

typedef enum coce_universe_reason {
    COCE_UNIVERSE_OK = 0,
    COCE_UNIVERSE_EXCLUDED,    /* in universe.exclude */
    COCE_UNIVERSE_STABLECOIN,
    COCE_UNIVERSE_WRAPPED,
    COCE_UNIVERSE_LEVERAGED,
    COCE_UNIVERSE_QUOTE,       /* wrong quote asset */
    COCE_UNIVERSE_NOT_LISTED,  /* first trade after the decision time */
    COCE_UNIVERSE_TOO_NEW,     /* listed < min_listing_days (or unknown) */
    COCE_UNIVERSE_CAP_UNKNOWN,
    COCE_UNIVERSE_CAP_LOW,
    COCE_UNIVERSE_CAP_HIGH,
    COCE_UNIVERSE_ADV_LOW      /* below min_adv_quote (or unknown) */
} coce_universe_reason;

/* One asset as seen at the decision time. Unknown figures: NAN for the
 * doubles, INT64_MIN for first_trade_ms. */
typedef struct coce_universe_asset {
    char symbol[COCE_SYMBOL_MAX + 1]; /* base asset, e.g. "ADX" */
    char quote[COCE_SYMBOL_MAX + 1];  /* quote asset, e.g. "BTC" */
    double market_cap_usd;
    double adv_quote; /* average daily traded volume, quote currency */
    int64_t first_trade_ms;
} coce_universe_asset;

typedef struct coce_universe_decision {
    int eligible;
    coce_universe_reason reason; /* COCE_UNIVERSE_OK when eligible */
} coce_universe_decision;

/* Short fixed text ("stablecoin", "market cap below minimum", ...); never
 * NULL. */
const char *coce_universe_reason_text(coce_universe_reason reason);

/* 1 when the built-in rules exclude the base symbol (any case), with
 * *reason set; 0 otherwise. */
int coce_universe_builtin_excluded(const char *symbol,
                                   coce_universe_reason *reason);

/* Decides every asset: out[i] for assets[i] (n each; they do not alias).
 * *n_eligible (may be NULL) counts the eligible ones. COCE_EINVAL for NULL
 * arguments (with n > 0). */
int coce_universe_filter(const coce_config *cfg,
                         const coce_universe_asset *assets, size_t n,
                         int64_t decision_ms, coce_universe_decision *out,
                         size_t *n_eligible, coce_err *err);

/* ---- market caps of the generated market ----------------------------------
 * market_caps.csv (coce synth): "date,symbol,market_cap_usd", one row per
 * asset and day, the cap at that day's close (24:00 UTC). No look-ahead:
 * the cap of day d is known only once day d has ended, so the value as of
 * time t is the cap of the latest day d with d 00:00 UTC + 24 h <= t; a
 * decision during day d sees day d-1's cap. Symbols may be pairs
 * ("BAK/BTC"); they are reduced to the base asset. */
typedef struct coce_market_caps {
    size_t n;
    char (*symbol)[COCE_SYMBOL_MAX + 1]; /* sorted by symbol, then day */
    int64_t *day_ms;                     /* 00:00 UTC of the row's day */
    double *cap_usd;
} coce_market_caps;

/* Loads and sorts the file into *out (release with
 * coce_market_caps_destroy). COCE_EPARSE "FILE:LINE: column 'X': ..." for
 * a bad header, date, symbol, a cap that is not a finite number >= 0, a
 * duplicate (symbol, day) or a wrong number of columns; COCE_ENOTFOUND /
 * COCE_EIO when unreadable. On error *out is empty. */
int coce_market_caps_load(const char *path, coce_market_caps *out,
                          coce_err *err);

/* The cap of `symbol` (base asset, any case) known at t_ms, as above, and
 * the day it belongs to (day_ms may be NULL). COCE_ENOTFOUND when the
 * symbol is absent or no day of it has ended by t_ms. */
int coce_market_caps_asof(const coce_market_caps *mc, const char *symbol,
                          int64_t t_ms, double *cap_usd, int64_t *day_ms);

/* Sets assets[i].market_cap_usd to the cap known at t_ms, or NAN. */
void coce_market_caps_fill(const coce_market_caps *mc,
                           coce_universe_asset *assets, size_t n,
                           int64_t t_ms);

/* Frees the arrays and zeroes *mc; NULL is a no-op. */
void coce_market_caps_destroy(coce_market_caps *mc);

#endif
