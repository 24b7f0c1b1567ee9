/* Drawdown tracker; formulas and sources in drawdown.h. */
#include "risk_guardrails/drawdown.h"

#include "utils/error.h"

#include <math.h>

void coce_drawdown_init(coce_drawdown *d)
{
    if (!d)
        return;
    d->peak = 0.0;
    d->drawdown = 0.0;
    d->halted = 0;
}

int coce_drawdown_scale(double drawdown, double soft, double hard,
                        double *scale)
{
    if (!scale || isnan(drawdown) || !isfinite(soft) || !isfinite(hard) ||
        soft < 0.0 || hard < soft || !(hard > 0.0))
        return COCE_EINVAL;
    if (drawdown <= soft)
        *scale = 1.0;
    else if (drawdown >= hard)
        *scale = 0.0;
    else
        *scale = (hard - drawdown) / (hard - soft);
    return COCE_OK;
}

int coce_drawdown_update(coce_drawdown *d, double equity, double soft,
                         double hard, double *exposure_scale, int *flatten)
{
    if (!d || !exposure_scale || !flatten || !isfinite(equity) ||
        isnan(d->peak))
        return COCE_EINVAL;
    const double peak = fmax(d->peak, equity);
    if (!(peak > 0.0))
        return COCE_EINVAL;
    const double dd = (peak - equity) / peak;
    double scale = 0.0;
    const int rc = coce_drawdown_scale(dd, soft, hard, &scale);
    if (rc != COCE_OK)
        return rc;
    d->peak = peak;
    d->drawdown = dd;
    if (dd >= hard)
        d->halted = 1;
    *exposure_scale = d->halted ? 0.0 : scale;
    *flatten = d->halted;
    return COCE_OK;
}
