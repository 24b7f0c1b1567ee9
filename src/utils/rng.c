#include "utils/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void coce_rng_init(coce_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; ++i)
        rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t coce_rng_u64(coce_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double coce_rng_uniform(coce_rng *rng)
{
    return (double)(coce_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t coce_rng_below(coce_rng *rng, uint64_t n)
{
    /* Lemire, "Fast random integer generation in an interval", ACM TOMACS
     * 2019: multiply-shift with rejection of the biased low range. */
    unsigned __int128 m = (unsigned __int128)coce_rng_u64(rng) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)coce_rng_u64(rng) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double coce_rng_normal(coce_rng *rng)
{
    for (;;) {
        double u = 2.0 * coce_rng_uniform(rng) - 1.0;
        double v = 2.0 * coce_rng_uniform(rng) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0)
            return u * sqrt(-2.0 * log(s) / s);
    }
}

double coce_rng_exponential(coce_rng *rng, double lambda)
{
    /* 1 - U lies in (0, 1], so the log is finite. */
    return -log(1.0 - coce_rng_uniform(rng)) / lambda;
}

double coce_rng_gamma(coce_rng *rng, double shape)
{
    if (shape < 1.0) {
        /* Boost: Gamma(k) = Gamma(k + 1) * U^(1/k). */
        double u = coce_rng_uniform(rng);
        return coce_rng_gamma(rng, shape + 1.0) * pow(1.0 - u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0;
    double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = coce_rng_normal(rng);
        double v = 1.0 + c * x;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = 1.0 - coce_rng_uniform(rng);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

double coce_rng_student_t(coce_rng *rng, double nu)
{
    double z = coce_rng_normal(rng);
    double chi2 = 2.0 * coce_rng_gamma(rng, nu / 2.0);
    return z / sqrt(chi2 / nu);
}

uint64_t coce_rng_poisson(coce_rng *rng, double lambda)
{
    if (lambda <= 0.0)
        return 0;
    if (lambda > 500.0) {
        double x = floor(lambda + sqrt(lambda) * coce_rng_normal(rng) + 0.5);
        return x < 0.0 ? 0 : (uint64_t)x;
    }
    /* Knuth: multiply uniforms until the product drops below e^-lambda;
     * done in log space so that large lambda does not underflow. */
    double limit = -lambda, sum = 0.0;
    uint64_t k = 0;
    for (;;) {
        sum += log(1.0 - coce_rng_uniform(rng));
        if (sum < limit)
            return k;
        ++k;
    }
}
