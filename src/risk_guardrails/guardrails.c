/* Risk guardrails: ADV cap, historical VaR, correlation sentinel and the
 * combined entry pipeline. Sources are cited in guardrails.h. */
#include "risk_guardrails/guardrails.h"

#include "utils/error.h"

#include <math.h>
#include <stdlib.h>

int coce_guard_adv_cap(double position_notional, double order_notional,
                       double adv_notional, double max_fraction,
                       double *allowed_order_notional, int *cut)
{
    if (!allowed_order_notional || !cut || !isfinite(position_notional) ||
        !isfinite(order_notional) || !isfinite(adv_notional) ||
        !isfinite(max_fraction) || adv_notional < 0.0 || max_fraction < 0.0)
        return COCE_EINVAL;
    const double limit = max_fraction * adv_notional;
    double allowed;
    if (order_notional > 0.0) {
        /* Room up to +limit; closing a short (p < 0) is always room. */
        allowed = fmin(order_notional, fmax(limit - position_notional, 0.0));
    } else if (order_notional < 0.0) {
        allowed = -fmin(-order_notional, fmax(limit + position_notional, 0.0));
    } else {
        allowed = 0.0;
    }
    *allowed_order_notional = allowed;
    *cut = allowed != order_notional;
    return COCE_OK;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

static int row_complete(const double *row, size_t k)
{
    for (size_t j = 0; j < k; ++j)
        if (isnan(row[j]))
            return 0;
    return 1;
}

int coce_guard_var(const double *returns, size_t n, size_t k,
                   const double *positions_notional, double confidence,
                   double *var, double *work)
{
    if (!returns || !positions_notional || !var || !work || n == 0 || k == 0 ||
        !(confidence > 0.0 && confidence < 1.0))
        return COCE_EINVAL;
    for (size_t j = 0; j < k; ++j)
        if (!isfinite(positions_notional[j]))
            return COCE_EINVAL;
    size_t m = 0;
    for (size_t t = 0; t < n; ++t) {
        const double *row = returns + t * k;
        if (!row_complete(row, k))
            continue;
        double pnl = 0.0;
        for (size_t j = 0; j < k; ++j) {
            if (isinf(row[j]))
                return COCE_EINVAL;
            pnl += positions_notional[j] * row[j];
        }
        work[m++] = pnl;
    }
    if (m == 0)
        return COCE_EDATA;
    qsort(work, m, sizeof *work, cmp_double);
    /* numpy "linear" (Hyndman & Fan type 7). */
    const double h = (double)(m - 1) * (1.0 - confidence);
    /* 0 <= h < m - 1 because 0 < confidence < 1. */
    const size_t lo = (size_t)floor(h);
    const size_t hi = lo + 1 < m ? lo + 1 : lo;
    const double frac = h - (double)lo;
    const double q = work[lo] + frac * (work[hi] - work[lo]);
    *var = -q;
    return COCE_OK;
}

int coce_guard_var_scale(double var, double floor_loss, double *scale)
{
    if (!scale || isnan(var) || !isfinite(floor_loss) || floor_loss < 0.0)
        return COCE_EINVAL;
    if (var <= floor_loss)
        *scale = 1.0;
    else if (isinf(var))
        *scale = 0.0;
    else
        *scale = floor_loss / var;
    return COCE_OK;
}

/* Average pairwise Pearson correlation over rows [start, n). Returns
 * COCE_EDATA when fewer than two rows are complete. */
static int avg_corr(const double *returns, size_t n, size_t k, size_t start,
                    double *avg, double *work)
{
    double *mean = work;
    double *ss = work + k;
    size_t m = 0;
    for (size_t j = 0; j < k; ++j)
        mean[j] = ss[j] = 0.0;
    for (size_t t = start; t < n; ++t) {
        const double *row = returns + t * k;
        if (!row_complete(row, k))
            continue;
        ++m;
        for (size_t j = 0; j < k; ++j)
            mean[j] += row[j];
    }
    if (m < 2)
        return COCE_EDATA;
    for (size_t j = 0; j < k; ++j)
        mean[j] /= (double)m;
    for (size_t t = start; t < n; ++t) {
        const double *row = returns + t * k;
        if (!row_complete(row, k))
            continue;
        for (size_t j = 0; j < k; ++j) {
            const double d = row[j] - mean[j];
            ss[j] += d * d;
        }
    }
    double sum = 0.0;
    size_t pairs = 0;
    for (size_t a = 0; a + 1 < k; ++a) {
        if (!(ss[a] > 0.0))
            continue;
        for (size_t b = a + 1; b < k; ++b) {
            if (!(ss[b] > 0.0))
                continue;
            double sab = 0.0;
            for (size_t t = start; t < n; ++t) {
                const double *row = returns + t * k;
                if (row_complete(row, k))
                    sab += (row[a] - mean[a]) * (row[b] - mean[b]);
            }
            double r = sab / sqrt(ss[a] * ss[b]);
            /* Rounding can push |r| a hair past 1. */
            r = fmax(-1.0, fmin(1.0, r));
            sum += r;
            ++pairs;
        }
    }
    *avg = pairs ? sum / (double)pairs : 0.0;
    return pairs ? COCE_OK : COCE_ENOTFOUND;
}

int coce_guard_corr_sentinel(const double *returns, size_t n, size_t k,
                             size_t short_window, size_t long_window,
                             double threshold, double cut_scale,
                             double *avg_short, double *avg_long, double *scale,
                             double *work)
{
    if (!returns || !avg_short || !avg_long || !scale || !work ||
        short_window < 2 || short_window > long_window || long_window > n ||
        !isfinite(threshold) || !(cut_scale >= 0.0 && cut_scale <= 1.0))
        return COCE_EINVAL;
    *avg_short = *avg_long = 0.0;
    *scale = 1.0;
    if (k < 2)
        return COCE_OK;
    const int rs = avg_corr(returns, n, k, n - short_window, avg_short, work);
    if (rs == COCE_EDATA)
        return rs;
    /* The long window contains the short one, so it has >= 2 rows too. */
    const int rl = avg_corr(returns, n, k, n - long_window, avg_long, work);
    /* A window without a defined pair carries no evidence of a spike. */
    if (rs == COCE_OK && rl == COCE_OK && *avg_short - *avg_long > threshold)
        *scale = cut_scale;
    return COCE_OK;
}

static int unit_scale(double s)
{
    return s >= 0.0 && s <= 1.0;
}

int coce_guard_apply_entry(const coce_guard_entry_input *in,
                           coce_guard_decision *out)
{
    if (!in || !out || !isfinite(in->requested) ||
        !unit_scale(in->scale_drawdown) || !unit_scale(in->scale_var) ||
        !unit_scale(in->scale_corr))
        return COCE_EINVAL;
    out->requested = in->requested;
    out->allowed = 0.0;
    out->scale_drawdown = in->scale_drawdown;
    out->scale_var = in->scale_var;
    out->scale_corr = in->scale_corr;
    out->adv_cut = 0;
    out->halted = 0;
    out->binding_rule = "none";
    if (in->killswitch_halted || in->drawdown_halted) {
        out->halted = 1;
        out->binding_rule =
            in->killswitch_halted ? "killswitch" : "drawdown_halt";
        return COCE_OK;
    }
    static const char *const names[] = {"drawdown", "var", "corr", "adv"};
    double factor[4] = {in->scale_drawdown, in->scale_var, in->scale_corr, 1.0};
    const double x =
        in->requested * in->scale_drawdown * in->scale_var * in->scale_corr;
    double allowed = 0.0;
    int cut = 0;
    const int rc =
        coce_guard_adv_cap(in->position_notional, x, in->adv_notional,
                           in->adv_max_fraction, &allowed, &cut);
    if (rc != COCE_OK)
        return rc;
    if (cut)
        factor[3] = allowed / x;
    out->allowed = allowed;
    out->adv_cut = cut;
    size_t best = 4;
    double best_factor = 1.0;
    for (size_t i = 0; i < 4; ++i) {
        if (factor[i] < best_factor) {
            best_factor = factor[i];
            best = i;
        }
    }
    if (best < 4)
        out->binding_rule = names[best];
    return COCE_OK;
}

int coce_guard_var_premium_scale(double var_spot, double premium_at_risk,
                                 double floor_loss, double *var_total,
                                 double *scale)
{
    if (scale == NULL || isnan(var_spot) || !isfinite(premium_at_risk) ||
        premium_at_risk < 0.0 || !isfinite(floor_loss) || floor_loss < 0.0)
        return COCE_EINVAL;
    if (var_total != NULL)
        *var_total = var_spot + premium_at_risk;
    double room = floor_loss - premium_at_risk;
    if (!(room > 0.0))
        *scale = 0.0;
    else if (var_spot <= room)
        *scale = 1.0;
    else
        *scale = room / var_spot; /* var_spot = +inf -> 0 */
    return COCE_OK;
}
