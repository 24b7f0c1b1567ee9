/* Trip rate of the meta kill-switch's Sharpe rule, with the C kernel and the
 * project's RNG, against sim/killswitch_trip_rate.py (numpy Monte Carlo,
 * fixture made by tests/reference/killswitch_trip_ref.py) and, for normal
 * returns, the noncentral-t closed form of one day's halt probability
 * (docs/killswitch.md). Agreement is asked within 5 Monte-Carlo standard
 * errors (path-level, so the overlap of the 7-day windows is accounted
 * for): a false failure has probability below 1e-6 per check. */
#include "risk_guardrails/killswitch.h"
#include "testutil.h"
#include "utils/error.h"
#include "utils/rng.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PATHS 20000
#define DAYS 30

typedef struct mc {
    double p_day, se_day, p_any30, se_any30;
} mc;

static mc simulate(double sharpe, int student, uint64_t seed)
{
    coce_killswitch_cfg cfg;
    coce_killswitch_cfg_default(&cfg);
    cfg.min_trades = 0; /* Sharpe rule alone */
    coce_rng rng;
    coce_rng_init(&rng, seed);
    const double mu = sharpe / sqrt(365.0);
    double r[DAYS];
    double sum = 0, sum2 = 0;
    size_t any = 0;
    for (int p = 0; p < PATHS; ++p) {
        int halts = 0, verdicts = 0;
        for (int d = 0; d < DAYS; ++d) {
            double e = student ? coce_rng_student_t(&rng, 4.0) / sqrt(2.0)
                               : coce_rng_normal(&rng);
            r[d] = mu + e;
            coce_killswitch_verdict v;
            assert_int_equal(
                coce_killswitch_evaluate(&cfg, r, (size_t)d + 1, NULL, 0, &v),
                COCE_OK);
            if (d + 1 >= 7) {
                assert_true(v.judged);
                ++verdicts;
                halts += v.halt;
            }
        }
        double f = (double)halts / verdicts;
        sum += f;
        sum2 += f * f;
        any += halts > 0;
    }
    mc m;
    m.p_day = sum / PATHS;
    m.se_day = sqrt((sum2 / PATHS - m.p_day * m.p_day) / (PATHS - 1));
    m.p_any30 = (double)any / PATHS;
    m.se_any30 = sqrt(m.p_any30 * (1 - m.p_any30) / PATHS);
    return m;
}

static json_t *load_fixture(void)
{
    char path[1024];
    coce_test_path(path, sizeof path,
                   "tests/fixtures/killswitch/trip_rate.json");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL)
        fail_msg("%s: %s", path, je.text);
    return root;
}

static void check_case(json_t *c, uint64_t seed)
{
    const char *dist = json_string_value(json_object_get(c, "dist"));
    double s = json_real_value(json_object_get(c, "sharpe"));
    int student = strcmp(dist, "t4") == 0;
    mc m = simulate(s, student, seed);
    double py_any = json_real_value(json_object_get(c, "p_any_30"));
    double py_se = json_real_value(json_object_get(c, "se_any_30"));
    double tol = 5 * sqrt(m.se_any30 * m.se_any30 + py_se * py_se);
    print_message("%s S=%.1f: C p_day %.4f (se %.4f), p_any30 %.4f; "
                  "numpy p_day %.4f, p_any30 %.4f\n",
                  dist, s, m.p_day, m.se_day, m.p_any30,
                  json_real_value(json_object_get(c, "p_day")), py_any);
    assert_close(m.p_any30, py_any, 0, tol);
    /* numpy's p_day has the same path-level error as ours (same paths) */
    assert_close(m.p_day, json_real_value(json_object_get(c, "p_day")), 0,
                 5 * sqrt(2.0) * m.se_day);
    json_t *exact = json_object_get(c, "p_day_exact");
    if (exact != NULL)
        assert_close(m.p_day, json_real_value(exact), 0, 5 * m.se_day);
}

static void test_trip_rate_matches_reference(void **state)
{
    (void)state;
    json_t *root = load_fixture();
    json_t *cases = json_object_get(root, "cases");
    assert_true(json_array_size(cases) >= 3);
    for (size_t i = 0; i < json_array_size(cases); ++i)
        check_case(json_array_get(cases, i), 1000 + i);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trip_rate_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
