/* Paper exchange: a deterministic simulated venue driven by market trades.
 *
 * Model (all in opts, all deterministic):
 * - Latency: an order placed at time t becomes active at t + latency_ms and
 *   can only fill against market trades with time_ms > t + latency_ms, so a
 *   decision can never trade on the print that triggered it (no look-ahead).
 * - Participation: all working orders of an asset together take at most
 *   `participation` x the quantity of each later market trade of that asset,
 *   in placement order (FIFO). The rest keeps working until filled or
 *   cancelled: large orders fill partially over several trades.
 * - Market orders fill at the trade price moved against the order by the
 *   square-root impact law (Tóth, Lempérière, Deremble, de Lataillade,
 *   Kockelkoren & Bouchaud, "Anomalous price impact and the critical nature
 *   of liquidity in financial markets", Phys. Rev. X 1, 021006 (2011), eq. 1;
 *   Almgren, Thum, Hauptmann & Li, "Direct estimation of equity market
 *   impact", Risk 2005):
 *       impact = impact_coef * sigma_daily * sqrt(Q / ADV)
 *       price  = trade_price * (1 + side * min(impact, 1))
 *   with Q the whole order's notional (qty x trade price, quote) - the law is
 *   about the meta-order, so every child fill of one order pays the same
 *   relative impact at its trade's price - and ADV the asset's average daily
 *   traded quote volume. Market orders need coce_paper_set_liquidity for their
 *   asset (COCE_EDATA otherwise: silently free liquidity would flatter a
 *   back-test). Taker fee.
 * - Limit orders fill only when the market trades through the limit (buy:
 *   trade price < limit; sell: trade price > limit), at the limit price, no
 *   impact, maker fee, same participation cap (queue position unknown).
 * - Fees: fee = bps / 1e4 x fill qty x fill price, in quote currency.
 * - Account: quote cash (opts.initial_cash) and per-asset positions in base
 *   units; no margin check (cash may go negative), no balance locking.
 *   The taker side of market trades is ignored.
 * The handle allocates (orders, client-id index, per-asset table); the hot
 * path (coce_paper_on_trade) allocates nothing. Not thread-safe. */
#ifndef COCE_EXECUTION_PAPER_H
#define COCE_EXECUTION_PAPER_H

#include "execution/exchange.h"
#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_paper_opts {
    double maker_fee_bps; /* limit fills (default 10) */
    double taker_fee_bps; /* market fills (default 10) */
    double impact_coef;   /* Y of the square-root law (default 1.0: Tóth et
                             al. 2011 report Y of order one) */
    double participation; /* (0, 1], share of each later trade (default 0.1) */
    int64_t latency_ms;   /* >= 0 (default 100) */
    double initial_cash;  /* quote (default 0) */
} coce_paper_opts;

typedef struct coce_paper coce_paper;

void coce_paper_opts_default(coce_paper_opts *opts);

/* opts NULL -> defaults. COCE_EINVAL on a bad option (named in err),
 * COCE_ENOMEM. */
int coce_paper_new(const coce_paper_opts *opts, coce_paper **out,
                   coce_err *err);
void coce_paper_free(coce_paper *p);

/* ADV in quote currency (> 0) and daily volatility of returns (>= 0) used by
 * the impact law for `asset`. May be updated at any time (e.g. each day). */
int coce_paper_set_liquidity(coce_paper *p, coce_asset_id asset,
                             double adv_notional, double sigma_daily,
                             coce_err *err);

/* Trading rules reported by instrument_rules; place rejects qty < min_qty
 * and (limit orders) qty x limit < min_notional with COCE_EEXCHANGE. */
int coce_paper_set_rules(coce_paper *p, const coce_instrument_rules *rules,
                         coce_err *err);

/* Accepts an order at now_ms (no fills yet: they come from trades).
 * COCE_EEXIST: client id already used (by any earlier order, even closed);
 * COCE_EINVAL: malformed intent; COCE_EEXCHANGE: below the rules' minimum;
 * COCE_EDATA: market order without liquidity data; COCE_EORDER: now_ms is
 * before the last trade already processed. */
int coce_paper_place(coce_paper *p, const coce_order_intent *intent,
                     int64_t now_ms, coce_err *err);

/* Cancels the unfilled rest immediately. COCE_ENOTFOUND: unknown id;
 * COCE_EEXCHANGE: order already filled or cancelled. */
int coce_paper_cancel(coce_paper *p, const char *client_id, int64_t now_ms,
                      coce_err *err);

int coce_paper_query(const coce_paper *p, const char *client_id,
                     coce_order_state *out, coce_err *err);

/* Feeds one market trade (time-ordered). Fills produced by it go to
 * fills[0..*n_fills), at most one per working order. COCE_ERANGE when more
 * than `cap` orders could fill: nothing is changed and *n_fills holds the
 * capacity needed. COCE_EORDER when t is older than the previous trade,
 * COCE_EINVAL on a malformed trade. */
int coce_paper_on_trade(coce_paper *p, const coce_trade *t, coce_fill *fills,
                        size_t cap, size_t *n_fills);

/* Cash (quote) and the position of `asset` (base units). */
int coce_paper_position(const coce_paper *p, coce_asset_id asset,
                        double *position, double *cash);

/* The vtable view; valid while p lives. */
coce_exchange coce_paper_exchange(coce_paper *p);

#endif
