/* Drawdown tracker: running peak, linear soft ramp, latched hard halt. */
#include "risk_guardrails/drawdown.h"
#include "testutil.h"
#include "utils/error.h"
#include "utils/rng.h"

#include <math.h>

/* soft 0.05, hard 0.20 -> scale = (0.20 - dd) / 0.15 between them. */
static void test_path_with_known_peak(void **state)
{
    (void)state;
    coce_drawdown d;
    coce_drawdown_init(&d);
    double s = NAN;
    int flat = -1;
    struct {
        double equity, peak, dd, scale;
        int flatten;
    } path[] = {
        {100, 100, 0.0, 1.0, 0},
        {110, 110, 0.0, 1.0, 0},
        /* 99 is only 1 % below the start but 10 % below the peak. */
        {99, 110, 0.1, (0.20 - 0.1) / 0.15, 0},
        {107.8, 110, 0.02, 1.0, 0},
        {120, 120, 0.0, 1.0, 0},
        {108, 120, 0.1, 2.0 / 3.0, 0},
        {114, 120, 0.05, 1.0, 0}, /* exactly soft: still 1 */
        {102, 120, 0.15, 1.0 / 3.0, 0},
        {96, 120, 0.2, 0.0, 1},  /* exactly hard: halt */
        {130, 130, 0.0, 0.0, 1}, /* latched: recovery does not un-halt */
    };
    for (size_t i = 0; i < sizeof path / sizeof path[0]; ++i) {
        assert_int_equal(
            coce_drawdown_update(&d, path[i].equity, 0.05, 0.20, &s, &flat),
            COCE_OK);
        assert_close(d.peak, path[i].peak, 0, 1e-12);
        assert_close(d.drawdown, path[i].dd, 0, 1e-12);
        assert_close(s, path[i].scale, 0, 1e-12);
        assert_int_equal(flat, path[i].flatten);
        assert_int_equal(d.halted, path[i].flatten);
    }
    /* Reset by the operator. */
    coce_drawdown_init(&d);
    assert_int_equal(coce_drawdown_update(&d, 50, 0.05, 0.2, &s, &flat),
                     COCE_OK);
    assert_true(s == 1.0 && flat == 0 && d.peak == 50);
    /* Restored state (caller persisted peak = 200): 150 is 25 % down. */
    d.peak = 200;
    d.halted = 0;
    assert_int_equal(coce_drawdown_update(&d, 150, 0.05, 0.2, &s, &flat),
                     COCE_OK);
    assert_true(flat == 1 && s == 0.0 && d.halted == 1);
}

static void test_scale_and_errors(void **state)
{
    (void)state;
    double s;
    assert_int_equal(coce_drawdown_scale(0.1, 0.1, 0.1, &s), COCE_OK);
    assert_true(s == 1.0);
    assert_int_equal(coce_drawdown_scale(0.1000001, 0.1, 0.1, &s), COCE_OK);
    assert_true(s == 0.0);
    assert_int_equal(coce_drawdown_scale(0.5, 0.0, 1.0, &s), COCE_OK);
    assert_close(s, 0.5, 0, 1e-15);
    assert_int_equal(coce_drawdown_scale(NAN, 0.1, 0.2, &s), COCE_EINVAL);
    assert_int_equal(coce_drawdown_scale(0.1, 0.3, 0.2, &s), COCE_EINVAL);
    assert_int_equal(coce_drawdown_scale(0.1, -0.1, 0.2, &s), COCE_EINVAL);
    assert_int_equal(coce_drawdown_scale(0.1, 0.0, 0.0, &s), COCE_EINVAL);
    assert_int_equal(coce_drawdown_scale(0.1, 0.0, 0.1, NULL), COCE_EINVAL);

    coce_drawdown d;
    int f;
    coce_drawdown_init(&d);
    coce_drawdown_init(NULL);
    assert_int_equal(coce_drawdown_update(&d, NAN, 0.1, 0.2, &s, &f),
                     COCE_EINVAL);
    assert_int_equal(coce_drawdown_update(&d, 0.0, 0.1, 0.2, &s, &f),
                     COCE_EINVAL);
    assert_int_equal(coce_drawdown_update(&d, 10, 0.3, 0.2, &s, &f),
                     COCE_EINVAL);
    assert_true(d.peak == 0.0); /* untouched on error */
    assert_int_equal(coce_drawdown_update(NULL, 10, 0.1, 0.2, &s, &f),
                     COCE_EINVAL);
    /* Equity may go to or below zero after a positive peak: halt. */
    assert_int_equal(coce_drawdown_update(&d, 10, 0.1, 0.2, &s, &f), COCE_OK);
    assert_int_equal(coce_drawdown_update(&d, -1, 0.1, 0.2, &s, &f), COCE_OK);
    assert_true(f == 1 && d.drawdown > 1.0);
}

/* Property: scale in [0, 1], non-increasing in the drawdown, drawdown in
 * [0, 1) for positive equity, peak never falls. */
static void test_property_scale_bounds(void **state)
{
    (void)state;
    coce_rng rng;
    coce_rng_init(&rng, 11);
    for (int run = 0; run < 50; ++run) {
        coce_drawdown d;
        coce_drawdown_init(&d);
        double equity = 100, last_peak = 0;
        const double soft = 0.3 * coce_rng_uniform(&rng);
        const double hard = soft + 0.01 + 0.5 * coce_rng_uniform(&rng);
        for (int t = 0; t < 200; ++t) {
            equity *= exp(0.03 * coce_rng_normal(&rng));
            double s;
            int f;
            assert_int_equal(
                coce_drawdown_update(&d, equity, soft, hard, &s, &f), COCE_OK);
            assert_true(s >= 0.0 && s <= 1.0);
            assert_true(d.drawdown >= 0.0 && d.drawdown < 1.0);
            assert_true(d.peak >= last_peak);
            last_peak = d.peak;
            double s1, s2;
            const double x = coce_rng_uniform(&rng);
            assert_int_equal(coce_drawdown_scale(x, soft, hard, &s1), COCE_OK);
            assert_int_equal(coce_drawdown_scale(x + 0.01, soft, hard, &s2),
                             COCE_OK);
            assert_true(s2 <= s1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_with_known_peak),
        cmocka_unit_test(test_scale_and_errors),
        cmocka_unit_test(test_property_scale_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
