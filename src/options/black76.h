/* Black (1976) option pricing on the forward: price, greeks, implied vol.
 *
 * Source: F. Black, "The pricing of commodity contracts", Journal of
 * Financial Economics 3 (1976) 167-179, eq. (11)-(12): a European option on
 * a forward F with strike K, maturity T (years) and volatility sigma is worth
 *   call = df * (F N(d1) - K N(d2)),  put = df * (K N(-d2) - F N(-d1)),
 *   d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt T),  d2 = d1 - sigma sqrt T,
 * where df is the discount factor to the payment date (df = exp(-r T);
 * df = 1 gives the undiscounted price, what Deribit uses with r = 0).
 *
 * Prices are in the units of F and K (USD for Deribit). Deribit quotes
 * premiums in coin: price_coin = price_usd / F (coce_b76_coin()).
 *
 * All functions are pure: no allocation, no global state; outputs are plain
 * out-parameters that must not alias the inputs (inputs are scalars). */
#ifndef COCE_OPTIONS_BLACK76_H
#define COCE_OPTIONS_BLACK76_H

#include "utils/error.h"

typedef enum { COCE_OPT_CALL = 0, COCE_OPT_PUT = 1 } coce_opt_type;

/* Standard normal CDF through erfc, accurate (relative) in both tails:
 * N(x) = erfc(-x / sqrt 2) / 2 (no 1 - N(-x) cancellation for x << 0). */
double coce_b76_ncdf(double x);
/* Standard normal density. */
double coce_b76_npdf(double x);

/* Price of a call or put. Valid input: F > 0, K > 0, T >= 0, sigma >= 0
 * (INFINITY allowed: call -> df F, put -> df K), 0 < df <= 1 is not
 * enforced (df > 0 is). T == 0 or sigma == 0 give the discounted intrinsic
 * value. Returns COCE_EINVAL (no err detail) for other input. */
int coce_b76_price(coce_opt_type type, double F, double K, double T,
                   double sigma, double df, double *price);

/* Price and sensitivities, all per unit of the underlying forward:
 *   delta = dV/dF         (call df N(d1), put -df N(-d1))
 *   gamma = d2V/dF^2      (df n(d1) / (F sigma sqrt T))
 *   vega  = dV/dsigma     (df F n(d1) sqrt T; per 1.00 of vol, not per 1 %)
 *   theta = -dV/dT        (per year, df held fixed: the r = 0 time decay
 *                          -df F n(d1) sigma / (2 sqrt T)).
 * Deribit's ticker shows vega per 1 % and theta per day (divide by 100 and
 * by 365). At T == 0 or sigma == 0, delta is the intrinsic step and the
 * others are 0. */
typedef struct coce_b76_greeks {
    double price;
    double delta;
    double gamma;
    double vega;
    double theta;
} coce_b76_greeks;

int coce_b76_greeks_calc(coce_opt_type type, double F, double K, double T,
                         double sigma, double df, coce_b76_greeks *out);

/* Implied volatility of `price` (same units as F, K, discounted with df).
 * Safeguarded Newton: Newton steps on ln(price) for out-of-the-money
 * options (Jaeckel, "Let's be rational", Wilmott 2015, sec. 3-4: the
 * logarithm makes the deep-OTM price curve nearly linear in sigma),
 * kept inside a bracket [lo, hi] that always contains the root; a step
 * leaving the bracket or not shrinking it by half is replaced by bisection
 * (the safeguard of Brent, "Algorithms for Minimization without Derivatives",
 * 1973, ch. 4; rtsafe in Numerical Recipes 3rd ed. sec. 9.4), so the
 * iteration always converges for an attainable price.
 * Attainable prices: df*max(F-K,0) <= call < df*F, df*max(K-F,0) <= put <
 * df*K (Jaeckel sec. 2). Errors (COCE_ERANGE, with the reason in err):
 * "price below intrinsic", "price at or above the upper bound",
 * "T <= 0"; COCE_EINVAL for F, K, df <= 0 or a non-finite price;
 * COCE_ECONVERGE if the tolerance is not met in 200 iterations (not seen
 * in practice). A price equal to intrinsic gives sigma = 0.
 * Tolerance: |d sigma| <= 1e-14 (1 + sigma) or price matched to 4 ulp.
 * iters (may be NULL) receives the number of iterations. */
int coce_b76_implied_vol(coce_opt_type type, double F, double K, double T,
                         double df, double price, double *sigma, int *iters,
                         coce_err *err);

/* Deribit premium in coin from a USD Black-76 price: price_usd / F. */
double coce_b76_coin(double price_usd, double F);

#endif
