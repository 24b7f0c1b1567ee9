#include "testutil.h"
#include "utils/rng.h"

#include <math.h>

/* Reference values of xoshiro256** are fixed by construction (same seed ->
 * same stream); the distribution checks use moments with tolerances of
 * several standard errors, so they are deterministic for this seed. */
static void test_determinism(void **state)
{
    (void)state;
    coce_rng a, b, c;
    coce_rng_init(&a, 7);
    coce_rng_init(&b, 7);
    coce_rng_init(&c, 8);
    int differs = 0;
    for (int i = 0; i < 100; ++i) {
        uint64_t x = coce_rng_u64(&a);
        assert_true(x == coce_rng_u64(&b));
        differs |= x != coce_rng_u64(&c);
    }
    assert_true(differs);
}

static void test_moments(void **state)
{
    (void)state;
    coce_rng r;
    coce_rng_init(&r, 12345);
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0, se = 0, sg = 0, sp = 0, st = 0;
    uint64_t counts[5] = {0};
    for (int i = 0; i < n; ++i) {
        double u = coce_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        su += u;
        double z = coce_rng_normal(&r);
        sn += z;
        sn2 += z * z;
        se += coce_rng_exponential(&r, 2.0);
        sg += coce_rng_gamma(&r, 0.5);
        sp += (double)coce_rng_poisson(&r, 3.0);
        st += fabs(coce_rng_student_t(&r, 5.0)) < 1.0;
        counts[coce_rng_below(&r, 5)]++;
    }
    assert_close(su / n, 0.5, 0, 0.005);
    assert_close(sn / n, 0.0, 0, 0.01);
    assert_close(sn2 / n, 1.0, 0, 0.01);
    assert_close(se / n, 0.5, 0, 0.01);
    assert_close(sg / n, 0.5, 0, 0.01);
    assert_close(sp / n, 3.0, 0, 0.02);
    /* P(|t_5| < 1) = 0.636783 (scipy.stats.t.cdf(1,5)*2-1) */
    assert_close(st / n, 0.636783, 0, 0.005);
    for (int k = 0; k < 5; ++k)
        assert_close((double)counts[k] / n, 0.2, 0, 0.005);
    /* large lambda path, and lambda <= 0 */
    double sl = 0;
    for (int i = 0; i < 2000; ++i)
        sl += (double)coce_rng_poisson(&r, 1000.0);
    assert_close(sl / 2000, 1000.0, 0, 3.0);
    assert_int_equal(coce_rng_poisson(&r, 0.0), 0);
    double sg2 = 0;
    for (int i = 0; i < 50000; ++i)
        sg2 += coce_rng_gamma(&r, 4.0);
    assert_close(sg2 / 50000, 4.0, 0, 0.05);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
