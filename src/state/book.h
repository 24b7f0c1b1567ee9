/* The book: the one place where the engine's trading state lives
 * (../shared/DESIGN.md, "State lives in one place").
 *
 * Pure accounting in one base currency: spot positions (long only), cash,
 * realised PnL, fees, closed round trips, equity history, kill-switch
 * status, open orders. No I/O, no clock; state_file.h persists it and
 * journal.h replays fills into it.
 *
 * The struct is public so that kernels and reports can read it directly;
 * change it only through the functions below (they keep the totals, the
 * round-trip records and the symbol table consistent).
 *
 * Accounting convention (average-cost method, as Binance and freqtrade
 * report spot PnL):
 *   buy  q at p, fee f: cash -= q*p + f; avg = (Q*avg + q*p) / (Q + q);
 *                       f is kept with the position as unattributed entry fee.
 *   sell q at p, fee f: pnl = (p - avg) * q - f - entry_fee * q / Q;
 *                       cash += q*p - f; realised_pnl += pnl.
 * So once a position is flat, realised PnL equals the change in cash and
 * the round trip's "pnl after fees" includes both legs' fees. Fees are in
 * the base (quote) currency of the account. */
#ifndef COCE_STATE_BOOK_H
#define COCE_STATE_BOOK_H

#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

#define COCE_BOOK_SYMBOL_MAX 48
#define COCE_BOOK_TEXT_MAX 128
#define COCE_EXCHANGE_ID_MAX 64

/* Relative tolerance under which a sell of "all" of a position closes it
 * (exchange quantities carry decimal rounding). */
#define COCE_BOOK_QTY_RTOL 1e-9

typedef struct coce_position {
    coce_asset_id asset;
    char symbol[COCE_BOOK_SYMBOL_MAX];
    double qty;        /* > 0 while open */
    double avg_price;  /* average entry price */
    int64_t entry_ms;  /* time of the fill that opened the position */
    double high_price; /* highest price seen since entry (trailing stops) */
    double entry_fees; /* buy fees not yet attributed to a sold quantity */
    /* The current round trip so far (sold part): */
    double rt_qty;      /* quantity sold */
    double rt_cost;     /* cost basis (avg entry * qty) of the sold quantity */
    double rt_proceeds; /* exit value of the sold quantity */
    double rt_pnl;      /* realised PnL after fees of the sold quantity */
} coce_position;

/* One closed round trip, recorded when a position becomes flat. Prices are
 * quantity-weighted over the round trip's sells. */
typedef struct coce_closed_trade {
    coce_asset_id asset;
    char symbol[COCE_BOOK_SYMBOL_MAX];
    int64_t entry_ms;
    int64_t exit_ms;
    double qty;
    double entry_price;
    double exit_price;
    double pnl; /* after both legs' fees */
} coce_closed_trade;

typedef struct coce_equity_point {
    int64_t time_ms;
    double equity;
} coce_equity_point;

typedef enum coce_order_status {
    COCE_ORDER_PENDING = 0,          /* journalled, not yet acknowledged */
    COCE_ORDER_OPEN = 1,             /* acknowledged by the exchange */
    COCE_ORDER_PARTIAL = 2,          /* partly filled */
    COCE_ORDER_CANCEL_REQUESTED = 3, /* cancel sent, not confirmed */
    COCE_ORDER_UNKNOWN = 4           /* outcome unknown (timeout, crash) */
} coce_order_status;

typedef struct coce_open_order {
    char client_id[COCE_CLIENT_ID_MAX];
    char exchange_order_id[COCE_EXCHANGE_ID_MAX];
    coce_asset_id asset;
    int8_t side; /* COCE_SIDE_BUY or COCE_SIDE_SELL */
    coce_order_type type;
    coce_order_reason reason;
    double qty;
    double filled;
    double limit_price; /* 0 for market orders */
    coce_order_status status;
    int64_t time_ms;
} coce_open_order;

/* The meta kill-switch's verdict and the figures it was based on. */
typedef struct coce_kill_switch {
    int halted; /* 1: no new entries */
    char reason[COCE_BOOK_TEXT_MAX];
    int64_t time_ms;
    double sharpe_7d;
    double hit_rate_7d;
    double drawdown;
} coce_kill_switch;

typedef struct coce_symbol_entry {
    coce_asset_id asset;
    char symbol[COCE_BOOK_SYMBOL_MAX];
} coce_symbol_entry;

typedef struct coce_book {
    double cash;
    double realised_pnl;
    double fees_paid;
    uint64_t trade_count; /* fills applied */
    double peak_equity;   /* highest recorded equity (drawdown peak) */
    int64_t last_processed_ms;
    /* When trading (entries) first became possible, INT64_MIN before: the
     * kill-switch counts its days of history from here, across restarts. */
    int64_t trading_since_ms;
    int64_t journal_seq; /* every journalled fill with seq <= this is applied */
    char model_version[COCE_BOOK_TEXT_MAX];
    char run_id[COCE_BOOK_TEXT_MAX];
    char config_hash[COCE_BOOK_TEXT_MAX];
    coce_kill_switch kill;

    coce_position *positions; /* open positions, in order of opening */
    size_t n_positions, cap_positions;
    coce_closed_trade *trades;
    size_t n_trades, cap_trades;
    coce_equity_point *equity;
    size_t n_equity, cap_equity;
    coce_open_order *orders;
    size_t n_orders, cap_orders;
    coce_symbol_entry *symbols;
    size_t n_symbols, cap_symbols;
} coce_book;

/* A new empty book holding `initial_cash` (finite, >= 0). peak_equity
 * starts at initial_cash. */
int coce_book_new(double initial_cash, coce_book **out);
void coce_book_free(coce_book *b);

/* Symbol table. Registering the same (asset, symbol) twice is fine; a
 * different symbol for a known asset, or a known symbol under another id,
 * is COCE_EINVAL. */
int coce_book_set_symbol(coce_book *b, coce_asset_id asset, const char *symbol,
                         coce_err *err);
/* NULL when the asset has no symbol. */
const char *coce_book_symbol(const coce_book *b, coce_asset_id asset);
int coce_book_asset_by_symbol(const coce_book *b, const char *symbol,
                              coce_asset_id *out);

/* Applies one (partial) fill (price > 0; a sell may be at 0: an option
 * expiring worthless). `symbol` registers the asset's symbol; it may
 * be NULL when the asset is already known. A sell of more than the position
 * (beyond COCE_BOOK_QTY_RTOL) is COCE_EINVAL: spot, no shorts. When the
 * fill's client_id names an open order, its filled quantity grows; the order
 * is removed once fully filled. On error the book is unchanged. */
int coce_book_apply_fill(coce_book *b, const coce_fill *fill,
                         const char *symbol, coce_err *err);
/* The checks of coce_book_apply_fill without changing the book. */
int coce_book_check_fill(const coce_book *b, const coce_fill *fill,
                         const char *symbol, coce_err *err);

/* The open position in `asset`, or NULL when flat. */
const coce_position *coce_book_position(const coce_book *b,
                                        coce_asset_id asset);
/* Iteration: i in [0, coce_book_position_count(b)). */
size_t coce_book_position_count(const coce_book *b);
const coce_position *coce_book_position_at(const coce_book *b, size_t i);

/* Mark-to-market: cash + sum(qty * prices[asset]). prices is indexed by
 * asset id and has n_prices entries; a position without a finite positive
 * price is COCE_EDATA. */
int coce_book_equity(const coce_book *b, const double *prices, size_t n_prices,
                     double *out, coce_err *err);
/* Raises each position's high_price to prices[asset] when higher (for
 * trailing stops). Same price rules as coce_book_equity. */
int coce_book_mark(coce_book *b, const double *prices, size_t n_prices,
                   coce_err *err);
/* Raises the high_price of the position in `asset` (if any) to price
 * (finite, > 0, else COCE_EINVAL); other positions are untouched (a book
 * holding instruments without a spot price, e.g. options). */
int coce_book_mark_one(coce_book *b, coce_asset_id asset, double price);
/* Appends (time, equity) to the history (time non-decreasing, else
 * COCE_EORDER) and raises peak_equity. */
int coce_book_record_equity(coce_book *b, int64_t time_ms, double equity,
                            coce_err *err);
/* (peak - last recorded equity) / peak, 0 with no history. */
double coce_book_drawdown(const coce_book *b);

/* Open orders, keyed by client id. add: COCE_EEXIST when present. */
int coce_book_order_add(coce_book *b, const coce_open_order *order,
                        coce_err *err);
/* NULL when absent. The pointer is valid until the next add or remove. */
coce_open_order *coce_book_order_find(coce_book *b, const char *client_id);
/* Sets status and filled quantity; COCE_ENOTFOUND when absent. */
int coce_book_order_update(coce_book *b, const char *client_id,
                           coce_order_status status, double filled);
int coce_book_order_remove(coce_book *b, const char *client_id);
/* "pending", "open", "partial", "cancel_requested", "unknown"; NULL if
 * out of range. parse: COCE_EINVAL for unknown text. */
const char *coce_order_status_name(coce_order_status status);
int coce_order_status_parse(const char *text, coce_order_status *out);

/* Text fields; COCE_EINVAL when too long (>= COCE_BOOK_TEXT_MAX). */
int coce_book_set_run(coce_book *b, const char *run_id,
                      const char *config_hash);
int coce_book_set_model_version(coce_book *b, const char *version);
/* Kill-switch: halt records the reason, time and figures; resume clears
 * the halted flag and keeps the rest for the record. */
int coce_book_halt(coce_book *b, const char *reason, int64_t time_ms,
                   double sharpe_7d, double hit_rate_7d, double drawdown);
void coce_book_resume(coce_book *b);

/* Internal (state_file.c): append records exactly as loaded. */
int coce__book_push_position(coce_book *b, const coce_position *p);
int coce__book_push_trade(coce_book *b, const coce_closed_trade *t);
int coce__book_push_equity(coce_book *b, const coce_equity_point *e);

#endif
