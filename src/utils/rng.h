/* Seeded pseudo-random numbers: xoshiro256** (Blackman & Vigna, "Scrambled
 * linear pseudorandom number generators", ACM TOMS 2021) seeded through
 * splitmix64, as its authors recommend. Caller-owned, no global state. */
#ifndef COCE_UTILS_RNG_H
#define COCE_UTILS_RNG_H

#include <stdint.h>

typedef struct coce_rng {
    uint64_t s[4];
} coce_rng;

void coce_rng_init(coce_rng *rng, uint64_t seed);
/* Uniform 64-bit integer. */
uint64_t coce_rng_u64(coce_rng *rng);
/* Uniform double in [0, 1) with 53 random bits. */
double coce_rng_uniform(coce_rng *rng);
/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire 2019). */
uint64_t coce_rng_below(coce_rng *rng, uint64_t n);
/* Standard normal by the polar Marsaglia method (no cached spare, so the
 * stream depends only on the number of calls). */
double coce_rng_normal(coce_rng *rng);
/* Exponential with rate lambda > 0. */
double coce_rng_exponential(coce_rng *rng, double lambda);
/* Student t with nu > 0 degrees of freedom (normal / sqrt(chi2/nu)). */
double coce_rng_student_t(coce_rng *rng, double nu);
/* Gamma(shape k > 0, scale 1), Marsaglia & Tsang (2000). */
double coce_rng_gamma(coce_rng *rng, double shape);
/* Poisson(lambda >= 0): Knuth for small lambda, normal approximation with
 * continuity correction above 500. */
uint64_t coce_rng_poisson(coce_rng *rng, double lambda);

#endif
