/* Drawdown tracker: running peak of equity and the drawdown from it.
 *
 * drawdown = (peak - equity) / peak, measured from the running PEAK of
 * equity (not from the starting equity), as in Magdon-Ismail & Atiya,
 * "Maximum drawdown" (Risk, 2004). Exposure is scaled by
 *     scale = 1                              drawdown <= soft
 *     scale = (hard - drawdown)/(hard - soft) soft < drawdown < hard
 *     scale = 0                              drawdown >= hard
 * i.e. 1 up to the soft limit, falling linearly to 0 at the hard limit
 * (a linear de-risking ramp in the spirit of Grossman & Zhou, "Optimal
 * investment strategies for controlling drawdowns", Math. Finance 1993,
 * whose optimal exposure is proportional to the distance to the floor).
 * Reaching the hard limit flattens and halts: `halted` latches, the scale
 * stays 0 and *flatten is 1 on every later update (an idempotent "the book
 * must be flat" instruction, safe across restarts) until the caller resets
 * the tracker with coce_drawdown_init. The caller persists peak and halted.
 *
 * Pure: no I/O, no clock, no allocation. */
#ifndef COCE_RISK_GUARDRAILS_DRAWDOWN_H
#define COCE_RISK_GUARDRAILS_DRAWDOWN_H

typedef struct coce_drawdown {
    double peak;     /* highest equity seen (0 before the first update) */
    double drawdown; /* (peak - equity) / peak after the last update */
    int halted;      /* latched by the hard limit */
} coce_drawdown;

void coce_drawdown_init(coce_drawdown *d);

/* The ramp above for a given drawdown (no state). Requires
 * 0 <= soft <= hard, hard > 0; soft == hard makes a step at the limit.
 * Returns COCE_EINVAL otherwise or on NaN. */
int coce_drawdown_scale(double drawdown, double soft, double hard,
                        double *scale);

/* Marks equity. Returns COCE_EINVAL on non-finite equity, bad limits, or when
 * the peak is not positive (no positive equity seen yet). On error d is not
 * changed. */
int coce_drawdown_update(coce_drawdown *d, double equity, double soft,
                         double hard, double *exposure_scale, int *flatten);

#endif
