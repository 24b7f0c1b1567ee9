/* Risk guardrails: pure rules that can only shrink an order.
 *
 * Every function here is a kernel: no I/O, no clock, no allocation, no
 * global state. The engine calls them in the same fixed order in simulation
 * and live trading (coce_guard_apply_entry documents the order) and logs each
 * decision. Each rule's output is a scale in [0, 1] or a cut order, so that a
 * guardrail never increases exposure.
 *
 * Notionals are in the account's quote (base) currency and signed: + long /
 * buy, - short / sell. Inputs are never modified; outputs never alias inputs
 * (pointers to distinct objects), except where stated.
 *
 * The drawdown tracker lives in risk_guardrails/drawdown.h and the meta
 * kill-switch in risk_guardrails/killswitch.h. */
#ifndef COCE_RISK_GUARDRAILS_GUARDRAILS_H
#define COCE_RISK_GUARDRAILS_GUARDRAILS_H

#include <stddef.h>

/* ---- ADV cap ------------------------------------------------------------
 * An order never makes |position| larger than
 *     L = max_fraction * adv_notional
 * (adv_notional: average daily traded quote volume over the configured
 * window, e.g. 30 days). The part of an order that reduces |position|
 * (closing towards 0) is never cut; beyond 0 the new opposite position is
 * capped at L. When |position| already exceeds L (ADV fell), an increasing
 * order is cut to 0. In closed form, for an order o on position p:
 *     o > 0: allowed = min(o,  max(L - p, 0))
 *     o < 0: allowed = -min(-o, max(L + p, 0))
 * Liquidity caps as a fraction of ADV: Almgren & Chriss, "Optimal execution
 * of portfolio transactions" (J. Risk 2000), sec. 1; Kissell, "The Science of
 * Algorithmic Trading" (2013), ch. 7 (participation limits).
 *
 * *cut is 1 when allowed != order. Returns COCE_EINVAL for non-finite
 * inputs, adv_notional < 0 or max_fraction < 0. */
int coce_guard_adv_cap(double position_notional, double order_notional,
                       double adv_notional, double max_fraction,
                       double *allowed_order_notional, int *cut);

/* ---- Historical VaR ----------------------------------------------------
 * One-day historical-simulation VaR of the current book (Jorion, "Value at
 * Risk", 3rd ed., ch. 10.2): with a window of joint daily returns r (n rows
 * x k assets, row-major; a row with any NaN is skipped) the book's PnL on
 * day t is
 *     PnL_t = sum_j positions_notional[j] * r[t*k + j]
 * and
 *     VaR = -quantile_{1-confidence}(PnL)
 * Quantile rule: numpy.quantile's default "linear" method (Hyndman & Fan
 * 1996, definition 7): with the m valid PnL values sorted ascending x[0..m),
 * h = (m-1) * (1-confidence), q = x[floor h] + (h - floor h) *
 * (x[floor h + 1] - x[floor h]). VaR may be negative (the book gains even at
 * that quantile).
 * VaR is positively homogeneous of degree 1 in the positions: VaR(c x) =
 * c VaR(x) for c >= 0, so scaling gross exposure by floor/VaR brings the
 * book's VaR exactly to the floor (coce_guard_var_scale).
 *
 * work: n doubles of scratch (must not alias returns or positions).
 * Returns COCE_EINVAL (bad sizes, confidence not in (0,1), non-finite
 * position, +-inf return), COCE_EDATA when no row is complete. */
int coce_guard_var(const double *returns, size_t n, size_t k,
                   const double *positions_notional, double confidence,
                   double *var, double *work);

/* floor_loss: the largest acceptable one-day loss in quote currency
 * (configured fraction of equity times equity), >= 0. scale = 1 when
 * var <= floor_loss, else floor_loss / var (in [0, 1); var = +inf -> 0).
 * Returns COCE_EINVAL on NaN or floor_loss < 0 or non-finite floor_loss. */
int coce_guard_var_scale(double var, double floor_loss, double *scale);

/* ---- Long-option premium against the VaR floor ------------------------
 * A long option can lose at most what it is worth now: its premium at risk
 * is its current mark value (the premium paid, marked). With P >= 0 the sum
 * of the long options' marks, the book's loss on any day is at most the
 * spot book's loss plus P, so
 *     VaR_total <= VaR_spot + P          (var_total = var_spot + P)
 * (the options' loss is bounded by P whatever the quantile: Jorion, "Value
 * at Risk", 3rd ed., sec. 10.2, VaR of a position with bounded loss; the
 * bound is the comonotone worst case of all options expiring worthless on
 * the spot book's VaR day). The spot book keeps floor_loss - P of the
 * floor: by the homogeneity of historical VaR (coce_guard_var) scaling the
 * spot exposure by s gives s * var_spot, so
 *     P >= floor_loss                 -> scale = 0 (premium uses the budget)
 *     var_spot + P <= floor_loss      -> scale = 1
 *     else                            -> scale = (floor_loss - P) / var_spot
 * (var_spot <= 0 with P < floor_loss: scale 1). The same formula sizes a
 * new option against the floor with var_spot = its cost (a new long
 * option's premium at risk).
 * var_total may be NULL. Returns COCE_EINVAL on NaN, P < 0, non-finite P
 * or floor_loss, or floor_loss < 0. */
int coce_guard_var_premium_scale(double var_spot, double premium_at_risk,
                                 double floor_loss, double *var_total,
                                 double *scale);

/* ---- Correlation-spike sentinel ---------------------------------------
 * Average pairwise Pearson correlation of the k held assets over the last
 * short_window rows of `returns` (n x k, row-major) and over the last
 * long_window rows. In a crisis correlations jump towards 1 and
 * diversification fails (Longin & Solnik, "Extreme correlation of
 * international equity markets", J. Finance 2001; Preis et al., "Quantifying
 * the behavior of stock correlations under market stress", Sci. Rep. 2012).
 * When avg_short - avg_long > threshold (absolute difference of the two
 * averages, not a ratio) gross exposure is multiplied by cut_scale, else
 * scale = 1.
 * Correlations by the two-pass formulas (means first, then sums of products
 * of deviations). A row with a NaN in any column is skipped within its
 * window. A pair where either asset has zero variance in a window has no
 * correlation and is left out of that window's average; when no pair is
 * defined the average is reported as 0 and there is no cut. k < 2: both
 * averages 0, scale 1.
 *
 * Requires 2 <= short_window <= long_window <= n, cut_scale in [0, 1],
 * threshold finite. work: 2*k doubles (must not alias returns).
 * Returns COCE_EINVAL on bad arguments, COCE_EDATA when a window (k >= 2)
 * has fewer than 2 complete rows. */
int coce_guard_corr_sentinel(const double *returns, size_t n, size_t k,
                             size_t short_window, size_t long_window,
                             double threshold, double cut_scale,
                             double *avg_short, double *avg_long, double *scale,
                             double *work);

/* ---- Combined entry pipeline --------------------------------------------
 * Each rule is evaluated at its own cadence by the engine (kill-switch at the
 * daily close, drawdown at each equity mark, VaR when the book changes,
 * correlation at each bar close); their outputs are the inputs here. For one
 * entry intent the pipeline applies, in this fixed order:
 *   1. kill-switch halted or drawdown halted -> allowed 0
 *   2. x = requested * scale_drawdown
 *   3. x = x * scale_var
 *   4. x = x * scale_corr
 *   5. allowed = coce_guard_adv_cap(position_notional, x, adv_notional,
 *                                   adv_max_fraction)
 * binding_rule names the tightest rule: "killswitch" or "drawdown_halt" when
 * halted, else the rule with the smallest factor allowed_after/before
 * ("drawdown", "var", "corr", "adv"; ties go to the earlier rule), or "none"
 * when nothing cut. It points to a static string. */
typedef struct coce_guard_entry_input {
    double requested;         /* signed notional of the entry intent */
    double position_notional; /* current signed position in that asset */
    double adv_notional;      /* asset's ADV (quote) over the window */
    double adv_max_fraction;  /* configured cap as a fraction of ADV */
    int killswitch_halted;    /* latest coce_killswitch verdict.halt */
    int drawdown_halted;      /* coce_drawdown.halted */
    double scale_drawdown;    /* from coce_drawdown_update, in [0, 1] */
    double scale_var;         /* from coce_guard_var_scale, in [0, 1] */
    double scale_corr;        /* from coce_guard_corr_sentinel, in [0, 1] */
} coce_guard_entry_input;

typedef struct coce_guard_decision {
    double requested;
    double allowed; /* same sign as requested, |allowed| <= |requested| */
    double scale_drawdown, scale_var, scale_corr;
    int adv_cut;
    int halted;
    const char *binding_rule;
} coce_guard_decision;

/* Returns COCE_OK (also when halted: decision.halted = 1, allowed = 0), or
 * COCE_EINVAL when a scale is outside [0, 1] or a number is non-finite. */
int coce_guard_apply_entry(const coce_guard_entry_input *in,
                           coce_guard_decision *out);

#endif
