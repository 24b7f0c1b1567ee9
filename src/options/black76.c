/* Black (1976) kernels; see black76.h for the model and the sources. */
#include "options/black76.h"

#include <float.h>
#include <math.h>

#define B76_SQRT1_2 0.70710678118654752440
#define B76_INV_SQRT_2PI 0.39894228040143267794
#define B76_MAX_ITER 200

double coce_b76_ncdf(double x)
{
    return 0.5 * erfc(-x * B76_SQRT1_2);
}

double coce_b76_npdf(double x)
{
    return B76_INV_SQRT_2PI * exp(-0.5 * x * x);
}

static int b76_valid(double F, double K, double T, double sigma, double df)
{
    return F > 0.0 && isfinite(F) && K > 0.0 && isfinite(K) && T >= 0.0 &&
           isfinite(T) && sigma >= 0.0 && !isnan(sigma) && df > 0.0 &&
           isfinite(df);
}

/* Price and vega for valid input with T > 0 and 0 < sigma < inf. The
 * symmetric forms (put through N(-d)) avoid 1 - N cancellation; deep OTM
 * prices keep their relative accuracy down to the erfc underflow. */
static void b76_core(coce_opt_type type, double F, double K, double T,
                     double sigma, double df, double *price, double *vega,
                     double *d1out)
{
    double sq = sigma * sqrt(T);
    double d1 = (log(F / K) + 0.5 * sq * sq) / sq;
    double d2 = d1 - sq;
    if (type == COCE_OPT_CALL)
        *price = df * (F * coce_b76_ncdf(d1) - K * coce_b76_ncdf(d2));
    else
        *price = df * (K * coce_b76_ncdf(-d2) - F * coce_b76_ncdf(-d1));
    if (*price < 0.0)
        *price = 0.0; /* rounding in the far tail */
    *vega = df * F * coce_b76_npdf(d1) * sqrt(T);
    *d1out = d1;
}

static double b76_intrinsic(coce_opt_type type, double F, double K, double df)
{
    double v = type == COCE_OPT_CALL ? F - K : K - F;
    return v > 0.0 ? df * v : 0.0;
}

int coce_b76_price(coce_opt_type type, double F, double K, double T,
                   double sigma, double df, double *price)
{
    if (!price || !b76_valid(F, K, T, sigma, df))
        return COCE_EINVAL;
    if (T == 0.0 || sigma == 0.0) {
        *price = b76_intrinsic(type, F, K, df);
        return COCE_OK;
    }
    if (isinf(sigma)) {
        *price = df * (type == COCE_OPT_CALL ? F : K);
        return COCE_OK;
    }
    double vega;
    double d1;
    b76_core(type, F, K, T, sigma, df, price, &vega, &d1);
    return COCE_OK;
}

int coce_b76_greeks_calc(coce_opt_type type, double F, double K, double T,
                         double sigma, double df, coce_b76_greeks *out)
{
    if (!out || !b76_valid(F, K, T, sigma, df) || isinf(sigma))
        return COCE_EINVAL;
    if (T == 0.0 || sigma == 0.0) {
        out->price = b76_intrinsic(type, F, K, df);
        double itm = type == COCE_OPT_CALL ? (F > K) : (F < K);
        out->delta = type == COCE_OPT_CALL ? df * itm : -df * itm;
        out->gamma = 0.0;
        out->vega = 0.0;
        out->theta = 0.0;
        return COCE_OK;
    }
    double d1;
    b76_core(type, F, K, T, sigma, df, &out->price, &out->vega, &d1);
    double sq = sigma * sqrt(T);
    out->delta = type == COCE_OPT_CALL ? df * coce_b76_ncdf(d1)
                                       : -df * coce_b76_ncdf(-d1);
    out->gamma = df * coce_b76_npdf(d1) / (F * sq);
    out->theta = -df * F * coce_b76_npdf(d1) * sigma / (2.0 * sqrt(T));
    return COCE_OK;
}

double coce_b76_coin(double price_usd, double F)
{
    return price_usd / F;
}

/* Starting point: the inflection point of the price in sigma,
 * sigma_c = sqrt(2 |ln(F/K)| / T) (Jaeckel 2015, sec. 3), from which Newton
 * on the price converges monotonically; at the money, the Brenner &
 * Subrahmanyam (1988) approximation sigma = sqrt(2 pi / T) p / (df F). */
static double iv_guess(double F, double K, double T, double df, double p)
{
    double x = fabs(log(F / K));
    if (x > 1e-8)
        return sqrt(2.0 * x / T);
    return sqrt(2.0 * 3.14159265358979323846 / T) * p / (df * F);
}

int coce_b76_implied_vol(coce_opt_type type, double F, double K, double T,
                         double df, double price, double *sigma, int *iters,
                         coce_err *err)
{
    if (iters)
        *iters = 0;
    if (!sigma)
        return coce_err_set(err, COCE_EINVAL, "implied_vol: sigma is NULL");
    if (!(F > 0.0) || !isfinite(F) || !(K > 0.0) || !isfinite(K) ||
        !(df > 0.0) || !isfinite(df) || !isfinite(price) || isnan(T))
        return coce_err_set(err, COCE_EINVAL,
                            "implied_vol: need F, K, df > 0 and finite "
                            "price (F=%g K=%g df=%g price=%g)",
                            F, K, df, price);
    if (!(T > 0.0))
        return coce_err_set(err, COCE_ERANGE,
                            "implied_vol: T <= 0 (T=%g): no time value", T);
    double intrinsic = b76_intrinsic(type, F, K, df);
    double upper = df * (type == COCE_OPT_CALL ? F : K);
    if (price < intrinsic)
        return coce_err_set(err, COCE_ERANGE,
                            "implied_vol: price below intrinsic (price=%.17g "
                            "intrinsic=%.17g)",
                            price, intrinsic);
    if (price >= upper)
        return coce_err_set(err, COCE_ERANGE,
                            "implied_vol: price at or above the upper bound "
                            "(price=%.17g bound=%.17g, %s)",
                            price, upper,
                            type == COCE_OPT_CALL ? "df*F" : "df*K");
    if (price == intrinsic) {
        *sigma = 0.0;
        return COCE_OK;
    }
    /* Work on the out-of-the-money option (parity C - P = df (F - K)):
     * its price is pure time value, positive and log-able. */
    coce_opt_type otm = F > K ? COCE_OPT_PUT : COCE_OPT_CALL;
    double p = type == otm ? price : price - intrinsic;
    double lp = log(p);
    /* Bracket: price is increasing in sigma; double hi until it exceeds p. */
    double lo = 0.0;
    double hi = 1.0;
    double b;
    double v;
    double d1;
    int n = 0;
    for (;;) {
        b76_core(otm, F, K, T, hi, df, &b, &v, &d1);
        if (b >= p)
            break;
        lo = hi;
        hi *= 2.0;
        if (++n > 60)
            return coce_err_set(err, COCE_ECONVERGE,
                                "implied_vol: no bracket up to sigma=%g "
                                "(price=%.17g)",
                                hi, price);
    }
    double s = iv_guess(F, K, T, df, p);
    if (!(s > lo && s < hi))
        s = 0.5 * (lo + hi);
    double dxold = hi - lo;
    for (int it = 1; it <= B76_MAX_ITER; it++) {
        if (iters)
            *iters = it;
        b76_core(otm, F, K, T, s, df, &b, &v, &d1);
        if (b == p || fabs(b - p) <= 4.0 * DBL_EPSILON * p) {
            *sigma = s;
            return COCE_OK;
        }
        if (b > p)
            hi = s;
        else
            lo = s;
        double next = s;
        double step = 0.0;
        int newton = 0;
        if (b > 0.0 && v > 0.0) {
            /* Newton on ln b(sigma) - ln p: d/dsigma ln b = vega / b. */
            step = (log(b) - lp) * b / v;
            next = s - step;
            newton = next > lo && next < hi && fabs(step) <= 0.5 * dxold;
        }
        if (!newton) {
            next = 0.5 * (lo + hi);
            step = s - next;
        }
        dxold = fabs(step);
        if (fabs(next - s) <= 1e-14 * (1.0 + s) ||
            hi - lo <= 1e-15 * (1.0 + hi)) {
            *sigma = next;
            return COCE_OK;
        }
        s = next;
    }
    return coce_err_set(err, COCE_ECONVERGE,
                        "implied_vol: no convergence in %d iterations "
                        "(price=%.17g F=%g K=%g T=%g)",
                        B76_MAX_ITER, price, F, K, T);
}
