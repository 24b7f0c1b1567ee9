/* Meta kill-switch: 7-day Sharpe and hit rate, judging conditions, JSON. */
#include "risk_guardrails/killswitch.h"
#include "testutil.h"
#include "utils/error.h"

#include "fixtures/guard/guard_ref.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static const double good_trades[10] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4};

static void test_defaults(void **state)
{
    (void)state;
    coce_killswitch_cfg c;
    coce_killswitch_cfg_default(&c);
    coce_killswitch_cfg_default(NULL);
    assert_close(c.sharpe_min, 1.2, 0, 0);
    assert_close(c.hit_rate_min, 0.6, 0, 0);
    assert_int_equal(c.window_days, 7);
    assert_close(c.annualisation, 365, 0, 0);
}

/* The fixture windows are shifted copies of one pattern whose Sharpe
 * (numpy mean / std(ddof=1) * sqrt(365)) is 1.239 and 1.161. */
static void test_sharpe_just_above_and_below(void **state)
{
    (void)state;
    coce_killswitch_cfg c;
    coce_killswitch_cfg_default(&c);
    coce_killswitch_verdict v;
    /* 6 of 10 trades won: hit rate 0.6 is not below 0.6. */
    assert_int_equal(coce_killswitch_evaluate(&c, ref_sharpe_above_returns, 7,
                                              good_trades, 10, &v),
                     COCE_OK);
    assert_true(v.judged);
    assert_close(v.sharpe, ref_sharpe_above, 1e-12, 0);
    assert_close(v.hit_rate, 0.6, 0, 0);
    assert_false(v.halt);
    assert_string_equal(v.reason, "ok");
    assert_true(v.sharpe > 1.2);

    assert_int_equal(coce_killswitch_evaluate(&c, ref_sharpe_below_returns, 7,
                                              good_trades, 10, &v),
                     COCE_OK);
    assert_true(v.judged && v.halt);
    assert_close(v.sharpe, ref_sharpe_below, 1e-12, 0);
    assert_non_null(strstr(v.reason, "sharpe"));
    assert_null(strstr(v.reason, "hit_rate"));
}

/* Hand case: returns 0.01, 0.02, 0.03 repeated (7 days: .01 .02 .03 .01 .02
 * .03 .01): mean = 0.13/7, deviations give ss = 4*(0.01-m)^2 + ... computed
 * below by the definition; only the last 7 of 10 days count. */
static void test_window_is_last_days(void **state)
{
    (void)state;
    coce_killswitch_cfg c;
    coce_killswitch_cfg_default(&c);
    const double r[10] = {-0.5, -0.5, -0.5, 0.01, 0.02,
                          0.03, 0.01, 0.02, 0.03, 0.01};
    const double m = 0.13 / 7.0;
    double ss = 0.0;
    for (int i = 3; i < 10; ++i)
        ss += (r[i] - m) * (r[i] - m);
    const double want = m / sqrt(ss / 6.0) * sqrt(365.0);
    coce_killswitch_verdict v;
    assert_int_equal(coce_killswitch_evaluate(&c, r, 10, good_trades, 10, &v),
                     COCE_OK);
    assert_close(v.sharpe, want, 1e-12, 0);
    assert_true(v.judged && !v.halt);
    assert_int_equal(v.days, 10);
    assert_int_equal(v.trades, 10);
}

static void test_hit_rate_and_judging(void **state)
{
    (void)state;
    coce_killswitch_cfg c;
    coce_killswitch_cfg_default(&c);
    const double up[7] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
    coce_killswitch_verdict v;
    /* Zero std, positive mean: +inf, no halt. */
    const double five_of_ten[10] = {1, 2, 3, 4, 5, 0, -1, -2, -3, -4};
    assert_int_equal(coce_killswitch_evaluate(&c, up, 7, good_trades, 10, &v),
                     COCE_OK);
    assert_true(isinf(v.sharpe) && v.sharpe > 0 && !v.halt);
    /* A zero-PnL trade is not a hit: 5/10 = 0.5 < 0.6. */
    assert_int_equal(coce_killswitch_evaluate(&c, up, 7, five_of_ten, 10, &v),
                     COCE_OK);
    assert_close(v.hit_rate, 0.5, 0, 0);
    assert_true(v.judged && v.halt);
    assert_non_null(strstr(v.reason, "hit_rate"));
    /* Fewer trades than min_trades (5): not judged, figures still there. */
    assert_int_equal(
        coce_killswitch_evaluate(&c, up, 7, five_of_ten + 6, 4, &v), COCE_OK);
    assert_true(!v.judged && !v.halt && v.hit_rate == 0.0);
    assert_string_equal(v.reason, "not judged: 7/7 days, 4/5 trades");
    /* Six days: not judged. */
    assert_int_equal(coce_killswitch_evaluate(&c, up, 6, five_of_ten, 10, &v),
                     COCE_OK);
    assert_true(!v.judged && !v.halt && v.sharpe == 0.0);
    assert_close(v.hit_rate, 0.5, 0, 0);
    /* No history at all. */
    assert_int_equal(coce_killswitch_evaluate(&c, NULL, 0, NULL, 0, &v),
                     COCE_OK);
    assert_true(!v.judged);
    /* Both below: both named. Flat-negative and flat-zero windows. */
    const double down[7] = {-0.01, -0.01, -0.01, -0.01, -0.01, -0.01, -0.01};
    assert_int_equal(coce_killswitch_evaluate(&c, down, 7, five_of_ten, 10, &v),
                     COCE_OK);
    assert_true(isinf(v.sharpe) && v.sharpe < 0 && v.halt);
    assert_non_null(strstr(v.reason, "sharpe"));
    assert_non_null(strstr(v.reason, "; hit_rate"));
    const double zero[7] = {0};
    assert_int_equal(coce_killswitch_evaluate(&c, zero, 7, good_trades, 10, &v),
                     COCE_OK);
    assert_true(v.sharpe == 0.0 && v.halt);
    /* min_trades = 0 judges on days alone. */
    c.min_trades = 0;
    assert_int_equal(coce_killswitch_evaluate(&c, up, 7, NULL, 0, &v), COCE_OK);
    assert_true(v.judged && !v.halt); /* no trades: Sharpe rule only */
    assert_int_equal(coce_killswitch_evaluate(&c, zero, 7, NULL, 0, &v),
                     COCE_OK);
    assert_true(v.judged && v.halt);
    assert_string_equal(v.reason, "sharpe 0 < 1.2");
}

static void test_errors(void **state)
{
    (void)state;
    coce_killswitch_cfg c;
    coce_killswitch_cfg_default(&c);
    coce_killswitch_verdict v;
    const double r[7] = {0.01, NAN, 0, 0, 0, 0, 0};
    const double t[2] = {1, INFINITY};
    assert_int_equal(coce_killswitch_evaluate(&c, r, 7, NULL, 0, &v),
                     COCE_EINVAL);
    assert_int_equal(coce_killswitch_evaluate(&c, r + 2, 5, t, 2, &v),
                     COCE_EINVAL);
    assert_int_equal(coce_killswitch_evaluate(&c, NULL, 3, NULL, 0, &v),
                     COCE_EINVAL);
    assert_int_equal(coce_killswitch_evaluate(&c, r + 2, 5, NULL, 1, &v),
                     COCE_EINVAL);
    assert_int_equal(coce_killswitch_evaluate(NULL, r, 1, NULL, 0, &v),
                     COCE_EINVAL);
    c.window_days = 1;
    assert_int_equal(coce_killswitch_evaluate(&c, r, 1, NULL, 0, &v),
                     COCE_EINVAL);
    coce_killswitch_cfg_default(&c);
    c.annualisation = 0;
    assert_int_equal(coce_killswitch_evaluate(&c, r, 1, NULL, 0, &v),
                     COCE_EINVAL);
}

static void test_event_json(void **state)
{
    (void)state;
    coce_killswitch_verdict v;
    memset(&v, 0, sizeof v);
    v.judged = 1;
    v.halt = 1;
    v.sharpe = 0.75;
    v.hit_rate = 0.5;
    v.trades = 12;
    v.days = 30;
    strcpy(v.reason, "sharpe 0.75 < 1.2 \"q\\\n");
    char buf[512];
    assert_int_equal(
        coce_killswitch_event_json(&v, 1700000000123LL, buf, sizeof buf),
        COCE_OK);
    assert_null(strchr(buf, '\n'));
    json_error_t jerr;
    json_t *o = json_loads(buf, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "time_ms")),
                     1700000000123LL);
    assert_string_equal(json_string_value(json_object_get(o, "event")),
                        "killswitch");
    assert_true(json_is_true(json_object_get(o, "judged")));
    assert_true(json_is_true(json_object_get(o, "halt")));
    assert_close(json_real_value(json_object_get(o, "sharpe")), 0.75, 0, 0);
    assert_close(json_real_value(json_object_get(o, "hit_rate")), 0.5, 0, 0);
    assert_int_equal(json_integer_value(json_object_get(o, "trades")), 12);
    assert_int_equal(json_integer_value(json_object_get(o, "days")), 30);
    assert_string_equal(json_string_value(json_object_get(o, "reason")),
                        v.reason);
    json_decref(o);

    v.sharpe = INFINITY;
    v.halt = 0;
    v.judged = 0;
    assert_int_equal(coce_killswitch_event_json(&v, 0, buf, sizeof buf),
                     COCE_OK);
    o = json_loads(buf, 0, &jerr);
    assert_non_null(o);
    assert_true(json_is_null(json_object_get(o, "sharpe")));
    assert_true(json_is_false(json_object_get(o, "halt")));
    json_decref(o);

    assert_int_equal(coce_killswitch_event_json(&v, 0, buf, 20), COCE_ERANGE);
    assert_true(strlen(buf) < 20);
    assert_int_equal(coce_killswitch_event_json(&v, 0, buf, 0), COCE_EINVAL);
    assert_int_equal(coce_killswitch_event_json(NULL, 0, buf, 9), COCE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_sharpe_just_above_and_below),
        cmocka_unit_test(test_window_is_last_days),
        cmocka_unit_test(test_hit_rate_and_judging),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_event_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
