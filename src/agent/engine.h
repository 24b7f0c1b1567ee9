/* The engine loop: one loop for every mode (../shared/DESIGN.md).
 *
 * It consumes time-ordered trades (from a file replay or a live feed) and
 * runs, at each event, the pipeline
 *   trade -> features -> pump score -> signal
 *   bar close -> returns -> consensus clusters -> HRP risk budgets
 *   budget + signal -> guardrails -> order intent -> exchange -> fills -> book
 * A decision at time t sees only events before t: features close a chunk
 * only from trades inside it, orders placed at t fill only against trades
 * after t + latency, and a pump label becomes known to the walk-forward
 * trainer only an hour after the pump's onset. */
#ifndef COCE_AGENT_ENGINE_H
#define COCE_AGENT_ENGINE_H

#include "alpha/pump_model.h"
#include "data_ingest/events.h"
#include "execution/exchange.h"
#include "options/sleeve.h"
#include "state/book.h"
#include "state/journal.h"
#include "utils/config.h"
#include "utils/notify.h"
#include "utils/error.h"
#include "utils/symbols.h"
#include "utils/types.h"

#include <stdio.h>

typedef struct coce_alert {
    coce_asset_id asset;
    int64_t time_ms;        /* decision time (the trade that closed the chunk) */
    int64_t chunk_start_ms; /* start of the chunk that fired */
    double score;
    int entered;            /* an entry order was sent */
    char note[64];          /* why not entered, when not */
} coce_alert;

typedef struct coce_fill_record {
    coce_fill fill;
    coce_order_reason reason;
} coce_fill_record;

typedef struct coce_engine_stats {
    size_t trades;
    size_t feature_rows;
    size_t alerts;
    size_t entries;
    size_t exits;
    size_t rebalances;
    size_t model_fits;
    size_t cuts_drawdown, cuts_var, cuts_corr, cuts_adv;
    size_t skipped_no_budget, skipped_halted, skipped_cash;
    size_t halts;
    /* venue reconciliation (live venues): orders found at the venue after
     * an unknown outcome, orders the venue never got (abandoned, never
     * resent), fills ignored because they were already applied, orders the
     * venue refused (filters, network before sending) */
    size_t orders_adopted, orders_abandoned, fills_skipped, orders_refused;
} coce_engine_stats;

/* ---- the convexity sleeve in the loop ----
 * Option instruments get asset ids from COCE_ENGINE_OPTION_BASE up (their
 * symbol is the Deribit name, "BTC-24SEP21-40000-C"); a book position in
 * such an id is a long option: qty contracts, prices in the base currency
 * per contract (coin premium x underlying USD / base USD). */
#define COCE_ENGINE_OPTION_BASE ((coce_asset_id)1 << 16)
#define COCE_ENGINE_SLEEVE_MAX 2
#define COCE_ENGINE_UNDERLYING_MAX 16

struct coce_deribit;

/* Series name of the base currency's USD price in coce_engine_sleeve_sample
 * (when base_streamed). */
#define COCE_ENGINE_BASE_SERIES "BASE"

typedef struct coce_engine_underlying {
    char name[COCE_ENGINE_UNDERLYING_MAX]; /* "BTC": prefix of option names */
    /* USD prices of the underlying, t_ms increasing, px > 0; the engine
     * reads sample i only once its clock has reached t_ms[i]. Must outlive
     * the engine. t_ms == NULL and n == 0: a streamed series, appended
     * with coce_engine_sleeve_sample (live runs). */
    const int64_t *t_ms;
    const double *px;
    size_t n;
    coce_sleeve_cfg cfg; /* rules, model surface, half-spread, fee, lot */
} coce_engine_underlying;

typedef struct coce_engine_sleeve_opts {
    coce_engine_underlying u[COCE_ENGINE_SLEEVE_MAX];
    size_t n_u;
    /* USD price of the base currency (BTC/USD for a BTC book); NULL: the
     * base currency is USD. Read up to the engine's clock only. */
    const int64_t *base_t_ms;
    const double *base_px;
    size_t base_n;
    /* > 0: the premium budget is budget_share x this equity (USD), as the
     * back-test's; 0: x the book's marked equity at the period's start. */
    double fixed_equity_usd;
    /* 1: the base currency's USD price is streamed (base_t_ms NULL) with
     * coce_engine_sleeve_sample(e, COCE_ENGINE_BASE_SERIES, ...); until its
     * first sample the sleeve decides nothing. */
    int base_streamed;
    /* The option venue (NULL: the engine's own, simulated venue). With
     * Deribit (execution/deribit.h; not owned, must outlive the engine):
     * each option's asset id is registered under its instrument name
     * (coce_deribit_register) before its first order; option intents go
     * there (label = the journal's client id) with a limit in coin: the
     * step's model price rounded to the instrument's tick in force
     * (public/get_instruments; down for a buy, so never above the model
     * ask; up for a roll sale); an option the venue does not list is
     * refused (counted, nothing journalled). Its executions (coin) arrive
     * through place and poll_fills and are converted to the base currency
     * at the order's decision rate (the underlying's USD price / the base
     * currency's) before the journal and the book; a polled fill without
     * a fee is charged Deribit's (coce_sleeve_fee). Outcomes are reconciled
     * by client id exactly as for a live spot venue
     * (coce_engine_settle_orders), whatever the spot venue is. */
    struct coce_deribit *deribit;
    /* With deribit: the local wall-clock ms (the run's start) before which
     * every unfinished option order of a resumed book was sent; they are
     * tracked with the adapter (coce_deribit_track) and block new orders of
     * their kind until settled. 0: long ago (a label the venue does not
     * show is then final at once). */
    int64_t sent_before_ms;
} coce_engine_sleeve_opts;

/* The sleeve's in-loop results. res[u] holds what was filled (premium,
 * fees, proceeds, counts, as coce_sleeve_account); its final_value and pnl
 * fields are set by coce_engine_finish (open options marked at the model
 * mid). day_pnl_base[i] is the sleeve's cumulative PnL (base currency,
 * flows at fill time plus marks) at the daily close day_ms[i]. */
typedef struct coce_engine_sleeve_report {
    size_t n_u;
    char names[COCE_ENGINE_SLEEVE_MAX][COCE_ENGINE_UNDERLYING_MAX];
    coce_sleeve_result res[COCE_ENGINE_SLEEVE_MAX];
    size_t intents;        /* option orders journalled (incl. settlements) */
    size_t fills;          /* option fills applied to the book */
    size_t skipped_halted; /* opens refused: kill-switch / drawdown halt */
    size_t cut_guardrails; /* opens cut (drawdown scale, VaR floor) */
    size_t skipped_pending; /* intents skipped: an order still working */
    size_t refused;        /* refused by the venue (or not listed there) */
    size_t fills_deferred; /* option fills waiting for a USD price */
    double premium_at_risk_base; /* marks of the held options, now */
    double pnl_base;             /* flows + marks, base currency */
    const int64_t *day_ms;
    const double *day_pnl_base;
    size_t n_days;
    /* live route: buys with no listed option passing the rules (or the
     * venue's list unreadable); also counted in `refused` */
    size_t no_listed;
} coce_engine_sleeve_report;

typedef struct coce_engine_opts {
    const coce_config *cfg;
    coce_symbols *symbols;
    coce_exchange exchange;   /* where orders go */
    /* Paper/simulated venue fed with market trades; NULL for live venues.
     * Returns fills produced by the trade. */
    int (*feed_trade)(void *venue, const coce_trade *t, coce_fill *fills,
                      size_t cap, size_t *n_fills);
    void *venue;
    /* Liquidity estimates for the venue's impact model, refreshed at each
     * daily close (ADV in quote, daily volatility); may be NULL. */
    int (*set_liquidity)(void *venue, coce_asset_id asset, double adv,
                         double sigma_daily);
    const char *meta_events_path; /* logs/meta_events.jsonl */
    /* Write-ahead journal (may be NULL): every intent is journalled before
     * it is sent, every fill before it reaches the book. */
    coce_journal *journal;
    const char *run_id;
    /* Tag inside client order ids ("coce-<tag>-<n>"); NULL = run_id. A
     * back-test uses a fixed tag so that two runs can be compared. */
    const char *client_tag;
    /* Resume from this book (from state.json; the engine takes ownership,
     * also on failure). Its asset ids must match `symbols`. NULL = a new
     * book with strategy.initial_capital. */
    coce_book *book;
    /* Called after each daily close (e.g. to snapshot state.json). */
    int (*on_day_close)(void *ctx, const coce_book *book, coce_err *err);
    void *ctx;
    /* Close every position at the end of a run (a back-test does; paper
     * and live runs keep them across restarts). */
    int flatten_at_end;
    /* Slack / Sentry (may be NULL): orders above
     * notify.slack_min_trade_notional, guardrail cuts, halts. Queued off the
     * trading path; a dead endpoint never slows the loop. */
    coce_notifier *notifier;
    /* The convexity sleeve (NULL: none; copied). Its orders take the spot
     * book's path: guardrails (halts, drawdown scale, VaR floor with the
     * premium at risk), journal, venue, book. On the engine's own venue
     * only when it is simulated (feed_trade): a live spot venue without
     * sleeve->deribit fails with COCE_ECONFIG. */
    const coce_engine_sleeve_opts *sleeve;
} coce_engine_opts;

typedef struct coce_engine coce_engine;

int coce_engine_new(coce_engine **out, const coce_engine_opts *opts,
                    coce_err *err);
void coce_engine_free(coce_engine *e);

/* A model to start from, still refitted walk-forward as labels arrive
 * (a paper run resuming with the model it saved). */
int coce_engine_set_initial_model(coce_engine *e, const coce_pump_model *model,
                                  coce_err *err);
/* A fixed model: no walk-forward fitting. The feature set must match. */
int coce_engine_set_model(coce_engine *e, const coce_pump_model *model,
                          coce_err *err);
/* Known pump events (for walk-forward labels and alert scoring). Each
 * becomes usable for training an hour after its onset. */
int coce_engine_set_events(coce_engine *e, const coce_event *events, size_t n,
                           coce_err *err);

int coce_engine_on_trade(coce_engine *e, const coce_trade *t, coce_err *err);

/* Warm-up (on != 0): the trades that follow only rebuild market history --
 * bars, features (and the walk-forward feature store), daily closes and
 * volumes (ADV), the venue's liquidity estimates (set_liquidity), HRP
 * rebalances and model refits -- and the engine does not act: no alert is
 * recorded, no order is decided, sent or journalled, the venue is not fed
 * (no paper fills), positions are not marked, no order is settled, the
 * book (equity history, last_processed_ms, trading start) is not touched,
 * the drawdown, kill-switch and sleeve are not run and on_day_close is not
 * called. Turning it off starts trading at the engine's clock. Used by a
 * paper/live restart to replay the history before its feed cursor
 * (docs/live.md). COCE_EINVAL for a NULL engine. */
int coce_engine_set_warmup(coce_engine *e, int on);

/* The clock of a live run without a trade (the source was idle): closes the
 * bars, days and rebalances due by now_ms, closes the features' open chunks
 * (coce_detector_advance) and checks exits (max hold) at now_ms, as a trade
 * at now_ms would, without a price. A no-op before the first trade and when
 * now_ms is not after the last time seen; later trades must not be earlier
 * than now_ms (COCE_EORDER otherwise: the caller raises their time). */
int coce_engine_on_clock(coce_engine *e, int64_t now_ms, coce_err *err);

/* The last time the engine has seen (trade or clock); INT64_MIN before. */
int64_t coce_engine_now(const coce_engine *e);

/* Appends a USD price sample to a streamed series of the sleeve: an
 * underlying's (its name, "BTC") or, with base_streamed, the base
 * currency's (COCE_ENGINE_BASE_SERIES). The engine reads it once its clock
 * reaches t_ms; the caller appends only prices known at t_ms (the last
 * trade at or before it: no look-ahead). COCE_EINVAL (no sleeve, unknown
 * or preloaded series, price not positive/finite), COCE_EORDER (t_ms not
 * after the series' last sample), COCE_ENOMEM. */
int coce_engine_sleeve_sample(coce_engine *e, const char *series, int64_t t_ms,
                              double px_usd, coce_err *err);

/* Reconciles every open order of the book with a live venue (one with
 * feed_trade == NULL and query_by_client_id; and the sleeve's Deribit
 * venue for option orders), by client id:
 * - found at the venue: adopted (journal ACK once, the book's order open),
 *   then the venue's executions the journal lacks arrive through
 *   poll_fills and are journalled and applied once; a terminal order not
 *   fully filled (canceled, expired, rejected, or lot rounding) is closed
 *   in the journal (CANCELED / REJECTED) and leaves the book;
 * - COCE_ENOTFOUND (final: it can no longer arrive) is abandoned: journal
 *   DONE with the reason, removed from the book, never resent;
 * - unknown (COCE_EUNKNOWN, network errors) stays and is asked again at the
 *   next bar close (the engine calls this at each bar close itself).
 * Each venue settles its own orders (option orders with the sleeve's
 * Deribit venue, whose waiting fills are also applied here once a USD
 * price is known). Venue errors are logged, not returned; journal errors
 * are. A no-op for simulated venues. The book's open orders at
 * coce_engine_new (a restart) block new orders on their assets (options:
 * of their kind) until settled. */
int coce_engine_settle_orders(coce_engine *e, int64_t now_ms, coce_err *err);

/* End of the replay: cancels open orders, closes positions at the last
 * trade price (taker fee, reason "flatten") when flatten_at_end, and
 * records the final equity. */
int coce_engine_finish(coce_engine *e, coce_err *err);

const coce_book *coce_engine_book(const coce_engine *e);
const coce_engine_stats *coce_engine_get_stats(const coce_engine *e);
const coce_alert *coce_engine_alerts(const coce_engine *e, size_t *n);
const coce_fill_record *coce_engine_fills(const coce_engine *e, size_t *n);
/* First trade time, first tradable time (after the model exists), last. */
void coce_engine_period(const coce_engine *e, int64_t *first_ms,
                        int64_t *trading_ms, int64_t *last_ms);
/* First and last trade time of one asset (INT64_MIN before any). */
void coce_engine_asset_span(const coce_engine *e, coce_asset_id asset,
                            int64_t *first_ms, int64_t *last_ms);
/* The sleeve's in-loop results (NULL without a sleeve); valid until the
 * next call into the engine. */
const coce_engine_sleeve_report *coce_engine_sleeve(const coce_engine *e);
/* The model in use (NULL before the first fit). */
const coce_pump_model *coce_engine_model(const coce_engine *e);

#endif
