/* Meta kill-switch: halts new entries when the strategy's own recent results
 * are poor.
 *
 * At a daily close, over the last cfg.window_days daily returns (default 7):
 *     sharpe = mean / std * sqrt(annualisation)
 * with std the sample standard deviation (ddof = 1, two-pass) and
 * annualisation the periods per year (365: crypto trades every day), the
 * usual annualised Sharpe ratio (Sharpe, "The Sharpe ratio", J. Portfolio
 * Management 1994; Lo, "The statistics of Sharpe ratios", FAJ 2002, eq. 7
 * for the sqrt(q) scaling). Zero std: mean > 0 -> +inf (no halt), mean < 0
 * -> -inf, mean == 0 -> 0 (both below any positive minimum: halt).
 *     hit_rate = (# trades closed in the window with PnL > 0) / n_trades
 * (a PnL of exactly 0 is not a hit).
 * A verdict is judged only once n_days >= window_days AND n_trades >=
 * min_trades; then halt = sharpe < sharpe_min || hit_rate < hit_rate_min
 * (defaults 1.2 and 0.6); with zero trades (min_trades = 0) the hit rate is
 * undefined and only the Sharpe rule applies. When not judged, halt = 0 and the
 * figures that can be computed are still reported (sharpe needs window_days >=
 * 2 days, hit rate at least one trade; otherwise 0).
 *
 * Pure: no I/O, no clock, no allocation. The engine persists the halt and
 * writes the event line. */
#ifndef COCE_RISK_GUARDRAILS_KILLSWITCH_H
#define COCE_RISK_GUARDRAILS_KILLSWITCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct coce_killswitch_cfg {
    double sharpe_min;    /* halt below this annualised Sharpe (1.2) */
    double hit_rate_min;  /* halt below this hit rate (0.6) */
    size_t window_days;   /* days in the window (7), >= 2 */
    size_t min_trades;    /* closed trades needed before judging (5) */
    double annualisation; /* periods per year (365) */
} coce_killswitch_cfg;

void coce_killswitch_cfg_default(coce_killswitch_cfg *cfg);

typedef struct coce_killswitch_verdict {
    int judged;
    int halt;
    double sharpe;
    double hit_rate;
    size_t trades;
    size_t days;
    char reason[128];
} coce_killswitch_verdict;

/* daily_returns: all days so far, most recent last (only the last
 * window_days are used). closed_trade_pnl: PnL of the trades closed within
 * the window (may be NULL when n_trades == 0). Returns COCE_EINVAL on a bad
 * config or a non-finite value in the window or the trades. */
int coce_killswitch_evaluate(const coce_killswitch_cfg *cfg,
                             const double *daily_returns, size_t n_days,
                             const double *closed_trade_pnl, size_t n_trades,
                             coce_killswitch_verdict *out);

/* One JSON object (no trailing newline) for logs/meta_events.jsonl:
 * {"time_ms":..,"event":"killswitch","judged":true,"halt":false,
 *  "sharpe":..,"hit_rate":..,"trades":..,"days":..,"reason":".."}
 * Non-finite Sharpe (zero std) is written as null. Numbers with %.17g so they
 * round-trip. Returns COCE_ERANGE when buf is too small (buf then holds a
 * truncated, NUL-terminated prefix), COCE_EINVAL on NULL. */
int coce_killswitch_event_json(const coce_killswitch_verdict *v,
                               int64_t time_ms, char *buf, size_t len);

#endif
