/* The convexity sleeve: a small budgeted book of deep out-of-the-money
 * options, long only. Selection and sizing from Deribit instruments and
 * tickers, and a back-test kernel on an underlying price series.
 *
 * Everything here is pure: no allocation, no I/O, no global state; inputs
 * are const and never alias outputs. docs/options.md describes the model. */
#ifndef COCE_OPTIONS_SLEEVE_H
#define COCE_OPTIONS_SLEEVE_H

#include <stddef.h>
#include <stdint.h>

#include "options/black76.h"
#include "options/instruments.h"
#include "utils/config.h"
#include "utils/error.h"

typedef enum {
    /* |(|delta| - band middle)| / band width: the option nearest the middle
     * of the delta band (default; predictable moneyness). */
    COCE_SLEEVE_RANK_DELTA_MID = 0,
    /* premium (ask, USD) per vol point of vega: the cheapest convexity. */
    COCE_SLEEVE_RANK_VEGA_COST = 1
} coce_sleeve_rank;

typedef struct coce_sleeve_rules {
    int calls;        /* 1: buy calls (kind call|both) */
    int puts;         /* 1: buy puts (kind put|both) */
    double delta_min; /* |delta| band, inclusive */
    double delta_max;
    double min_days; /* days-to-expiry band, inclusive */
    double max_days;
    double min_open_interest;  /* contracts; tickers only */
    double max_spread;         /* (ask - bid) / mid, inclusive */
    double budget_share;       /* premium budget per period / equity */
    double budget_period_days; /* length of a budget period */
    double roll_days;          /* close when days to expiry <= roll_days */
    coce_sleeve_rank rank;
} coce_sleeve_rules;

/* Defaults of config/base.yaml (both kinds, 0.05-0.15, 7-60 days, OI 10,
 * spread 0.5, budget 1 % per 30 days, roll 3 days, rank DELTA_MID). */
void coce_sleeve_rules_default(coce_sleeve_rules *r);

/* From the options.* configuration keys (kind call|put|both, delta and
 * days bands, open interest, spread, budget share and period, roll, rank).
 * COCE_ECONFIG with "options.kind: ..." for a bad value. */
int coce_sleeve_rules_from_config(const coce_config *cfg, coce_sleeve_rules *r,
                                  coce_err *err);

/* The figures that made one choice (for the engine's log). */
typedef struct coce_sleeve_choice {
    size_t inst;   /* index into the instrument array (or SIZE_MAX: model) */
    size_t ticker; /* index into the ticker array (or SIZE_MAX: model) */
    coce_opt_type type;
    double strike;
    int64_t expiry_ms;
    double days;          /* to expiry */
    double underlying;    /* USD */
    double delta;         /* signed, per unit of the underlying */
    double iv;            /* mark iv, fraction (0.9 = 90 %) */
    double bid;           /* coin */
    double ask;           /* coin */
    double mid;           /* coin */
    double spread;        /* (ask - bid) / mid */
    double open_interest; /* contracts (NAN for the model) */
    double vega_usd;      /* per 1 vol point (Deribit's unit) */
    double cost_per_vega; /* ask in USD / vega_usd */
    double score;         /* rank value: lower is better */
    /* coce_sleeve_select_listed only (NAN otherwise): */
    double model_ask; /* coin: the model's ask at this strike and expiry */
    double venue_ask; /* coin: the venue's best ask (NAN: none known) */
    double limit;     /* coin: min(model_ask, venue_ask) down to the tick */
} coce_sleeve_choice;

/* Counts of instruments seen and why the others were rejected. */
typedef struct coce_sleeve_rejects {
    size_t seen;     /* options of the instruments given */
    size_t kind;     /* call/put not wanted */
    size_t no_quote; /* no ticker, empty bid or ask, or no delta */
    size_t days;
    size_t delta;
    size_t open_interest;
    size_t spread;
    size_t accepted;
    /* coce_sleeve_select_listed only: */
    size_t inactive; /* listed but not active */
    size_t price;    /* limit below one tick */
} coce_sleeve_rejects;

/* Chooses options by the rules from instruments and their tickers (matched
 * by name) at time now_ms. Writes the best min(cap, accepted) choices to
 * out, best first (ties: later expiry, then lower strike), their number to
 * *n_out, and the reject counts to *rej (may be NULL). Deribit's ticker
 * delta is Black-76 dV/dF (verified on the sample: docs/options.md).
 * COCE_EINVAL for NULL arrays with non-zero lengths or a band with
 * delta_min > delta_max. O(ni * nt) name matching. */
int coce_sleeve_select(const coce_sleeve_rules *r, const coce_instrument *inst,
                       size_t ni, const coce_ticker *tk, size_t nt,
                       int64_t now_ms, coce_sleeve_choice *out, size_t cap,
                       size_t *n_out, coce_sleeve_rejects *rej, coce_err *err);

/* Deribit option fee per contract in coin: min(fee_rate, fee_cap * price)
 * (0.0003 coin capped at 12.5 % of the premium on Deribit). */
double coce_sleeve_fee(double price_coin, double fee_rate, double fee_cap);

/* Contracts to buy with budget_coin at `ask` plus the per-contract fee:
 * a whole multiple of min_trade_amount, never above the budget (0 if not
 * even one lot fits). COCE_EINVAL for ask <= 0 or min_trade <= 0. */
int coce_sleeve_size(double budget_coin, double ask_coin, double fee_coin,
                     double min_trade_amount, double *amount);

/* 1 if the position must be closed (days to expiry <= roll_days). */
int coce_sleeve_must_roll(const coce_sleeve_rules *r, int64_t now_ms,
                          int64_t expiry_ms);

/* A sell only closes a held long: COCE_ERANGE ("would go short") if
 * sell_amount > held (1e-9 relative slack), COCE_EINVAL if negative. */
int coce_sleeve_check_sell(double held, double sell_amount, coce_err *err);

/* ---- back-test kernel ---- */

typedef struct coce_sleeve_cfg {
    coce_sleeve_rules rules;
    double vol_window_days;   /* realised-vol window (30) */
    double iv_scale;          /* implied = scale * realised (1.0) */
    double skew_put;          /* a for K < F (1.0) */
    double skew_call;         /* a for K > F (0.5) */
    double vol_floor;         /* clip of the surface (0.1) */
    double vol_cap;           /* (5.0) */
    double strike_step_share; /* strike grid step ~ share of spot (0.025) */
    double half_spread;       /* model ask = mid (1 + h), bid = mid (1 - h) */
    double tick_coin;         /* quote tick (0.0001 coin) */
    double fee_rate;          /* coin per contract (0.0003) */
    double fee_cap;           /* share of the premium (0.125) */
    double min_trade_amount;  /* lot in coin (0.1 BTC; ETH 1) */
} coce_sleeve_cfg;

/* Rules from coce_sleeve_rules_default and the values in brackets. */
void coce_sleeve_cfg_default(coce_sleeve_cfg *c);

/* The model surface: sigma(K) = s_atm (1 + a |ln(K/F)|), a = skew_put
 * below F and skew_call above, clipped to [vol_floor, vol_cap]. */
double coce_sleeve_surface(const coce_sleeve_cfg *c, double sigma_atm, double F,
                           double K);

/* The live route's choice of one option of `type` among the instruments
 * the venue lists (inst[0..ni), e.g. public/get_instruments), with their
 * book summaries or tickers sum[0..ns) matched by name (may be 0), at time
 * t_ms with underlying F (USD) and model ATM vol sigma_atm:
 * - kept: active options of that type, days to expiry in [min_days,
 *   max_days] and above roll_days (as the model grid);
 * - delta: Black-76 (coce_b76_greeks_calc) on the entry's
 *   underlying_price (else F) at its mark_iv when the venue gives one, else
 *   at the model surface vol (coce_sleeve_surface); |delta| in the band;
 * - open interest >= min_open_interest and (ask - bid) / mid <=
 *   max_spread, each only where the entry has the figure (no summary, no
 *   open interest, or a one-sided book: that rule is not applied);
 * - limit = min(model ask, venue best ask) rounded down on the
 *   instrument's tick grid (coce_instrument_round_price); below one tick:
 *   rejected.
 * The best by the rules' rank (ties: later expiry, then lower strike; the
 * order of coce_sleeve_select and of the model grid) goes to *out, its
 * index in inst to out->inst, its summary to out->ticker (SIZE_MAX: none).
 * Returns COCE_OK, or COCE_ENOTFOUND when nothing passes (the counts in
 * *rej say why; rej may be NULL); COCE_EINVAL for NULL arrays with
 * non-zero lengths, F or sigma_atm not positive, or a bad cfg. */
int coce_sleeve_select_listed(const coce_sleeve_cfg *cfg, coce_opt_type type,
                              int64_t t_ms, double F, double sigma_atm,
                              const coce_instrument *inst, size_t ni,
                              const coce_ticker *sum, size_t ns,
                              coce_sleeve_choice *out,
                              coce_sleeve_rejects *rej, coce_err *err);

enum {
    COCE_SLEEVE_BUY = 1,
    COCE_SLEEVE_ROLL = 2,  /* sold before expiry (roll_days) */
    COCE_SLEEVE_SETTLE = 3 /* cash-settled at expiry */
};

/* One trade or settlement of the back-test, with its figures. */
typedef struct coce_sleeve_event {
    int64_t t_ms;
    int what; /* COCE_SLEEVE_BUY, _ROLL, _SETTLE */
    coce_opt_type type;
    double strike;
    int64_t expiry_ms;
    double amount;     /* contracts (coin), always > 0 */
    double price_coin; /* paid (buy), received (roll) or payoff (settle) */
    double fee_coin;
    double spot;            /* USD */
    double sigma;           /* model vol used (0 at settlement) */
    double delta;           /* model delta at the trade */
    double days;            /* days to expiry */
    double budget_left_usd; /* after a buy: what remains for this kind */
} coce_sleeve_event;

typedef struct coce_sleeve_result {
    /* Set by the caller before the call (each may be NULL / 0): */
    double *step_pnl_usd;      /* [n]: PnL from sample i-1 to i (0 at i=0) */
    double *step_value_usd;    /* [n]: marked value of the open options at i */
    coce_sleeve_event *events; /* [events_cap] */
    size_t events_cap;
    /* Outputs: */
    size_t n_events;    /* all events; only the first events_cap stored */
    size_t first_trade; /* first sample with a full vol window (n if none) */
    size_t n_buys;
    size_t n_rolls;
    size_t n_settled_itm;
    size_t n_settled_otm;
    size_t n_open;     /* positions open at the end (marked, not closed) */
    double budget_usd; /* per period */
    double max_period_spend_usd; /* premium + fees in the worst period */
    double premium_coin;         /* paid for buys, fees excluded */
    double premium_usd;
    double fees_coin;
    double fees_usd;
    double proceeds_coin; /* roll sales and settlements */
    double proceeds_usd;
    double final_value_coin; /* open positions at the end, marked */
    double final_value_usd;
    double pnl_coin; /* proceeds + final value - premium - fees (in coin) */
    double pnl_usd;  /* same, each flow converted at its own spot */
    double min_held; /* smallest amount ever held (> 0; 0 if none) */
} coce_sleeve_result;

/* ---- the streaming step (shared by the back-test and the engine) ---- */

#define COCE_SLEEVE_MAX_POS 16
/* Most events one step can return: a settle and a roll per position and a
 * buy per kind. */
#define COCE_SLEEVE_STEP_MAX (2 * COCE_SLEEVE_MAX_POS + 2)

/* One held option (long only: amount > 0). */
typedef struct coce_sleeve_pos {
    coce_opt_type type;
    double strike;
    int64_t expiry_ms;
    double amount;
    int abandoned; /* roll found no bid: held to settlement, slot free */
} coce_sleeve_pos;

/* What the sleeve holds and how much of the period budget it used. The
 * step advances the clock fields; positions and spending change only
 * through coce_sleeve_apply (what was actually filled). */
typedef struct coce_sleeve_state {
    coce_sleeve_pos pos[COCE_SLEEVE_MAX_POS];
    size_t np;
    double spent_kind[2]; /* USD this period, by coce_opt_type */
    double period_spend;  /* USD this period, both kinds */
    double max_period_spend_usd;
    double budget_usd;      /* of the current period */
    int64_t period;         /* index of the current period, -1 before */
    int64_t last_day;       /* UTC day of the last decision */
    int64_t first_trade_ms; /* first sample with a full vol window */
    double sigma_atm;       /* ATM vol at the last step (0 before) */
} coce_sleeve_state;

/* An empty state (no positions, no period yet). */
void coce_sleeve_state_init(coce_sleeve_state *st);

/* The step's budget clock at a decision sample t (one whose volatility
 * window is full): the first such sample starts period 0; a sample on a
 * new UTC day is a decision, and its period is floor((t - first) /
 * budget_period_days). Returns 0 (same day: no decision), 1 (a decision) or
 * 2 (a decision that starts a new period). Used by coce_sleeve_step and by
 * a restart that rebuilds the clock from past samples. */
int coce_sleeve_clock(const coce_sleeve_rules *rules, coce_sleeve_state *st,
                      int64_t t);

/* One step at sample n-1 of an underlying USD series t_ms[0..n), px[0..n)
 * (the history up to now, never later samples: the step cannot look
 * ahead). Writes the order intents of this sample to out[0..*n_out), in
 * the order they must be executed:
 *   COCE_SLEEVE_SETTLE for each held option with expiry <= now (payoff in
 *     coin per contract: (S - K)+ / S for a call);
 *   at the first sample of a UTC day once a full vol window exists (the
 *   daily decision): COCE_SLEEVE_ROLL for each held option with days to
 *     expiry <= roll_days at the model bid (price_coin 0: no bid, the
 *     option is kept to settlement and its slot freed), then
 *   COCE_SLEEVE_BUY for each wanted kind with no open option, as if the
 *     settles and rolls before it were filled, sized within what is left of
 *     its half (or whole, for one kind) of the period budget at the model
 *     ask plus Deribit's fee (coce_sleeve_size).
 * A BUY is the only opening intent and every sell closes a held long: the
 * step never returns a short. The period budget is budget_share *
 * equity_usd, taken at the first decision of each period (a constant
 * equity_usd gives the back-test's fixed budget). st->sigma_atm receives
 * the model ATM vol at this sample for marking (coce_sleeve_mark).
 * The caller guarantees t_ms increasing and px > 0 over the history
 * (coce_sleeve_run checks it); the step checks sample n-1 only.
 * Errors: COCE_EINVAL (NULL, n == 0, equity <= 0, bad cfg), COCE_EDATA
 * (px[n-1] not positive), COCE_ERANGE (cap < COCE_SLEEVE_STEP_MAX). */
int coce_sleeve_step(const coce_sleeve_cfg *cfg, coce_sleeve_state *st,
                     const int64_t *t_ms, const double *px, size_t n,
                     double equity_usd, coce_sleeve_event *out, size_t cap,
                     size_t *n_out, coce_err *err);

/* Applies `amount` contracts (0 < amount <= ev->amount) of an executed
 * intent to the state: a BUY opens a position and spends amount * (price +
 * fee) * spot of the period budget; a ROLL sells that much of the held
 * option (price_coin 0: marks it abandoned instead); a SETTLE removes it.
 * COCE_ENOTFOUND when the option is not held, COCE_ERANGE for a sell of
 * more than held (coce_sleeve_check_sell: never short) or a buy with every
 * slot taken, COCE_EINVAL for a bad amount. */
int coce_sleeve_apply(coce_sleeve_state *st, const coce_sleeve_event *ev,
                      double amount, coce_err *err);

/* Adds an executed intent (amount contracts) to the result's totals:
 * premium, fees, proceeds (coin and USD at the event's spot), counts. */
void coce_sleeve_account(coce_sleeve_result *res, const coce_sleeve_event *ev,
                         double amount);

/* Model mid (coin per contract) of a held option at time t with spot F and
 * ATM vol sigma_atm (intrinsic value at or after expiry). */
double coce_sleeve_mark(const coce_sleeve_cfg *cfg, const coce_sleeve_pos *p,
                        int64_t t_ms, double F, double sigma_atm);

/* Deribit's instrument name, "BTC-24SEP21-40000-C" ('d' for a decimal
 * point in the strike: "ETH-24SEP21-137d5-P"). COCE_ERANGE when it does not
 * fit in cap, COCE_EINVAL for a bad strike or expiry. */
int coce_sleeve_option_name(const char *underlying, coce_opt_type type,
                            double strike, int64_t expiry_ms, char *out,
                            size_t cap);

/* Runs the sleeve over an underlying series (t_ms strictly increasing,
 * px > 0; hourly or daily), with a fixed equity (USD) setting the budget:
 * budget_usd = budget_share * equity_usd per budget period, counted from
 * first_trade. At the first sample of each UTC day (once a full vol window
 * exists): settle expired options at that sample's price, sell those with
 * days to expiry <= roll_days at the model bid, and for each wanted kind
 * with no open position buy the best model option within what is left of
 * its half (or whole, for one kind) of the period budget. Positions are
 * marked to the model mid at every sample; step_pnl_usd[] sums to pnl_usd.
 * USD accounting converts each coin flow at its own spot (coin premium
 * bought and proceeds sold immediately); coin accounting sums coin flows.
 * It is a loop over coce_sleeve_step (every intent filled in full at its
 * price, coce_sleeve_apply, coce_sleeve_account), the same step the engine
 * calls in its loop, so the two cannot disagree.
 * Errors: COCE_EINVAL (NULL, n < 2, equity <= 0, bad cfg), COCE_EDATA
 * ("px[i]: not positive"), COCE_EORDER ("t[i] <= t[i-1]"). */
int coce_sleeve_run(const coce_sleeve_cfg *cfg, const int64_t *t_ms,
                    const double *px, size_t n, double equity_usd,
                    coce_sleeve_result *res, coce_err *err);

#endif
