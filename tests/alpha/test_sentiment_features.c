/* Sentiment columns of the pump features: a hand-computed golden case, no
 * look-ahead (posts at or after the chunk close change nothing), streaming
 * == batch == a slow direct recount under random chunkings (posts pushed
 * ahead of the queries, gaps longer than the ring), errors. */
#include "alpha/sentiment_features.h"
#include "testutil.h"
#include "utils/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S 10000 /* step 10 s */

static void cfg_small(coce_sentiment_features_cfg *c)
{
    coce_sentiment_features_cfg_default(c, S);
    c->window_ms = 6 * S;    /* W = 60 s */
    c->baseline_ms = 18 * S; /* B = 180 s */
    c->ahead_ms = 6 * S;
    c->columns = COCE_SF_ALL;
}

/* Golden values from the header's definitions, worked by hand:
 * posts 5 s (+0.5), 65 s (-0.25), 100 s (+0.8), 119.999 s (+1), 120 s (+0.3).
 * t = 120 s: now [60,120) m 3 S 1.55 -> c 0.3875; prev [0,60) m 1 c 0.25;
 *   base [-60,60) m 1 c 0.25, rate W/(B-W) = 0.5: ratio log(4 / 1.5).
 * t = 180 s: now [120,180) m 1 c 0.15; prev [60,120) c 0.3875;
 *   base [0,120) m 4 S 2.05 -> c 0.41: ratio log(2 / 3). */
static void test_golden(void **state)
{
    (void)state;
    coce_sentiment_features_cfg c;
    cfg_small(&c);
    coce_sentiment_features *sf = NULL;
    assert_int_equal(coce_sentiment_features_new(&c, &sf, NULL), COCE_OK);
    const int64_t t[] = {5000, 65000, 100000, 119999};
    const double v[] = {0.5, -0.25, 0.8, 1.0};
    for (size_t i = 0; i < 4; ++i)
        assert_int_equal(coce_sentiment_features_push(sf, t[i], v[i], NULL),
                         COCE_OK);
    double o[COCE_SF_COUNT];
    assert_int_equal(coce_sentiment_features_values(sf, 120000, o, NULL),
                     COCE_OK);
    assert_close(o[COCE_SF_MENTIONS], log(4.0), 1e-15, 0);
    assert_close(o[COCE_SF_MENTION_RATIO], log(4.0 / 1.5), 1e-15, 0);
    assert_close(o[COCE_SF_COMPOUND_DELTA], 0.1375, 1e-14, 0);
    assert_close(o[COCE_SF_COMPOUND_VEL], 0.1375, 1e-14, 0);
    assert_int_equal(coce_sentiment_features_push(sf, 120000, 0.3, NULL),
                     COCE_OK);
    /* repeating the query after a post at t changes nothing */
    double o2[COCE_SF_COUNT];
    assert_int_equal(coce_sentiment_features_values(sf, 120000, o2, NULL),
                     COCE_OK);
    assert_memory_equal(o, o2, sizeof o);
    assert_int_equal(coce_sentiment_features_values(sf, 180000, o, NULL),
                     COCE_OK);
    assert_close(o[COCE_SF_MENTIONS], log(2.0), 1e-15, 0);
    assert_close(o[COCE_SF_MENTION_RATIO], log(2.0 / 3.0), 1e-15, 0);
    assert_close(o[COCE_SF_COMPOUND_DELTA], 0.15 - 0.41, 1e-14, 0);
    assert_close(o[COCE_SF_COMPOUND_VEL], 0.15 - 0.3875, 1e-14, 0);
    /* far later (gap longer than the ring): everything back to empty */
    assert_int_equal(coce_sentiment_features_values(sf, 1000 * S, o, NULL),
                     COCE_OK);
    for (size_t j = 0; j < COCE_SF_COUNT; ++j)
        assert_true(o[j] == 0.0);
    /* reset forgets the posts and the clock */
    coce_sentiment_features_reset(sf);
    assert_int_equal(coce_sentiment_features_push(sf, 5000, 0.5, NULL),
                     COCE_OK);
    assert_int_equal(coce_sentiment_features_values(sf, 10000, o, NULL),
                     COCE_OK);
    assert_close(o[COCE_SF_MENTIONS], log(2.0), 1e-15, 0);
    assert_close(o[COCE_SF_COMPOUND_DELTA], 0.25, 1e-15, 0);
    coce_sentiment_features_free(sf);
}

/* A post at or after the close t never changes the values at t, whatever
 * comes later (pushed in the same stream before the query, within ahead). */
static void test_no_lookahead(void **state)
{
    (void)state;
    coce_sentiment_features_cfg c;
    cfg_small(&c);
    const int64_t t[] = {5000, 65000, 100000, 120000, 125000, 170000};
    const double v[] = {0.5, -0.25, 0.8, -1.0, 1.0, 0.9};
    double a[COCE_SF_COUNT], b[COCE_SF_COUNT];
    coce_sentiment_features *sf = NULL;
    assert_int_equal(coce_sentiment_features_new(&c, &sf, NULL), COCE_OK);
    for (size_t i = 0; i < 3; ++i)
        assert_int_equal(coce_sentiment_features_push(sf, t[i], v[i], NULL),
                         COCE_OK);
    assert_int_equal(coce_sentiment_features_values(sf, 120000, a, NULL),
                     COCE_OK);
    coce_sentiment_features_reset(sf);
    for (size_t i = 0; i < 6; ++i) /* 120 s .. 170 s pushed first */
        assert_int_equal(coce_sentiment_features_push(sf, t[i], v[i], NULL),
                         COCE_OK);
    assert_int_equal(coce_sentiment_features_values(sf, 120000, b, NULL),
                     COCE_OK);
    assert_memory_equal(a, b, sizeof a);
    coce_sentiment_features_free(sf);
}

/* Slow reference: the header's definitions by a direct recount. */
static void reference(const coce_sentiment_features_cfg *c, const int64_t *t,
                      const double *v, size_t n, int64_t q, double *o)
{
    int64_t W = c->window_ms, B = c->baseline_ms;
    int64_t cn = 0, sn = 0, cp = 0, sp = 0, cb = 0, sb = 0;
    for (size_t i = 0; i < n; ++i) {
        int64_t u = llround(v[i] * 1e4);
        if (t[i] >= q - W && t[i] < q) {
            ++cn;
            sn += u;
        }
        if (t[i] >= q - 2 * W && t[i] < q - W) {
            ++cp;
            sp += u;
        }
        if (t[i] >= q - B && t[i] < q - W) {
            ++cb;
            sb += u;
        }
    }
    double m_now = ((double)sn / 1e4) / ((double)cn + 1.0);
    double full[COCE_SF_COUNT];
    full[0] = log1p((double)cn);
    full[1] = log(((double)cn + 1.0) /
                  ((double)cb * (double)W / (double)(B - W) + 1.0));
    full[2] = m_now - ((double)sb / 1e4) / ((double)cb + 1.0);
    full[3] = m_now - ((double)sp / 1e4) / ((double)cp + 1.0);
    size_t j = 0;
    for (unsigned k = 0; k < COCE_SF_COUNT; ++k)
        if ((c->columns >> k) & 1u)
            o[j++] = full[k];
}

#define NP 3000
#define NQ 1500

static void stream_vs_batch(const coce_sentiment_features_cfg *c,
                            uint64_t seed)
{
    static int64_t t[NP], q[NQ];
    static double v[NP], ob[NQ * COCE_SF_COUNT], os[NQ * COCE_SF_COUNT];
    coce_rng r;
    coce_rng_init(&r, seed);
    int64_t now = 1546300800000;
    for (size_t i = 0; i < NP; ++i) {
        double u = coce_rng_uniform(&r);
        /* bursts, quiet spells and gaps longer than the baseline */
        now += u < 0.002   ? c->baseline_ms * 2
               : u < 0.5   ? (int64_t)(coce_rng_uniform(&r) * 3000.0)
                           : (int64_t)(coce_rng_uniform(&r) * 120000.0);
        t[i] = now;
        v[i] = floor((coce_rng_uniform(&r) * 2.0 - 1.0) * 1e4) / 1e4;
    }
    int64_t qt = (t[0] / c->step_ms - 3) * c->step_ms;
    int64_t span = (t[NP - 1] - qt) / NQ;
    for (size_t k = 0; k < NQ; ++k) {
        qt += ((int64_t)(coce_rng_uniform(&r) * 2.0 * (double)span) /
               c->step_ms) * c->step_ms;
        q[k] = qt;
    }
    size_t d = coce_sentiment_features_count(c);
    assert_int_equal(coce_sentiment_features_batch(c, t, v, NP, q, NQ, ob,
                                                   NULL),
                     COCE_OK);
    for (size_t k = 0; k < NQ; k += 7) {
        double o[COCE_SF_COUNT];
        reference(c, t, v, NP, q[k], o);
        for (size_t j = 0; j < d; ++j)
            assert_close(ob[k * d + j], o[j], 1e-12, 1e-12);
    }
    /* streaming: posts pushed as far ahead of the next query as allowed,
     * in random runs */
    coce_sentiment_features *sf = NULL;
    assert_int_equal(coce_sentiment_features_new(c, &sf, NULL), COCE_OK);
    size_t i = 0;
    for (size_t k = 0; k < NQ; ++k) {
        int64_t lim = q[k] + (int64_t)(coce_rng_uniform(&r) *
                                       (double)(c->ahead_ms + 1));
        if (k + 1 < NQ && lim > q[k + 1])
            lim = q[k + 1]; /* never past the next query */
        size_t run = (size_t)(coce_rng_uniform(&r) * 50.0);
        for (size_t m = 0; m < run + 1000 && i < NP && t[i] < lim; ++m, ++i)
            assert_int_equal(coce_sentiment_features_push(sf, t[i], v[i],
                                                          NULL),
                             COCE_OK);
        /* the run may stop early: the rest is still before the query */
        for (; i < NP && t[i] < q[k]; ++i)
            assert_int_equal(coce_sentiment_features_push(sf, t[i], v[i],
                                                          NULL),
                             COCE_OK);
        assert_int_equal(coce_sentiment_features_values(sf, q[k], os + k * d,
                                                        NULL),
                         COCE_OK);
    }
    coce_sentiment_features_free(sf);
    assert_memory_equal(ob, os, NQ * d * sizeof *ob);
}

static void test_stream_equals_batch(void **state)
{
    (void)state;
    coce_sentiment_features_cfg c;
    coce_sentiment_features_cfg_default(&c, 25000);
    c.columns = COCE_SF_ALL;
    stream_vs_batch(&c, 1);
    c.ahead_ms = 0; /* posts in the "now" window directly */
    stream_vs_batch(&c, 2);
    cfg_small(&c);
    c.columns = (1u << COCE_SF_MENTION_RATIO) | (1u << COCE_SF_COMPOUND_VEL);
    stream_vs_batch(&c, 3);
    coce_sentiment_features_cfg_default(&c, 5000);
    stream_vs_batch(&c, 4);
}

static void test_names(void **state)
{
    (void)state;
    coce_sentiment_features_cfg c;
    coce_sentiment_features_cfg_default(&c, 25000);
    coce_sentiment_features_cfg_default(NULL, 25000);
    assert_int_equal(c.window_ms, 900000);
    assert_int_equal(c.baseline_ms, 86400000);
    assert_int_equal(c.columns, COCE_SF_ALL);
    assert_int_equal(coce_sentiment_features_count(NULL), 0);
    c.columns = COCE_SF_ALL;
    assert_int_equal(coce_sentiment_features_count(&c), 4);
    assert_string_equal(coce_sentiment_features_name(&c, 0), "sent_mentions");
    assert_string_equal(coce_sentiment_features_name(&c, 3),
                        "sent_compound_vel");
    assert_null(coce_sentiment_features_name(&c, 4));
    assert_null(coce_sentiment_features_name(NULL, 0));
    c.columns = 1u << COCE_SF_COMPOUND_DELTA;
    assert_string_equal(coce_sentiment_features_name(&c, 0),
                        "sent_compound_delta");
    assert_int_equal(coce_sentiment_features_index("sent_mention_ratio"),
                     COCE_SF_MENTION_RATIO);
    assert_int_equal(coce_sentiment_features_index("std_trades"), -1);
    assert_int_equal(coce_sentiment_features_index(NULL), -1);
}

static void test_errors(void **state)
{
    (void)state;
    coce_err err;
    coce_sentiment_features_cfg c, bad;
    cfg_small(&c);
    coce_sentiment_features *sf = NULL;
    assert_int_equal(coce_sentiment_features_cfg_check(NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sentiment_features_new(&c, NULL, &err),
                     COCE_EINVAL);
    bad = c;
    bad.step_ms = 0;
    assert_int_equal(coce_sentiment_features_new(&bad, &sf, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "step_ms"));
    assert_null(sf);
    bad = c;
    bad.window_ms = 15000;
    assert_int_equal(coce_sentiment_features_cfg_check(&bad, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "window_ms"));
    bad = c;
    bad.baseline_ms = c.window_ms;
    assert_int_equal(coce_sentiment_features_cfg_check(&bad, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "baseline_ms"));
    bad = c;
    bad.ahead_ms = -S;
    assert_int_equal(coce_sentiment_features_cfg_check(&bad, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "ahead_ms"));
    bad = c;
    bad.columns = 1u << COCE_SF_COUNT;
    assert_int_equal(coce_sentiment_features_cfg_check(&bad, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "columns"));

    assert_int_equal(coce_sentiment_features_new(&c, &sf, &err), COCE_OK);
    double o[COCE_SF_COUNT];
    assert_int_equal(coce_sentiment_features_push(NULL, 0, 0, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sentiment_features_push(sf, 0, NAN, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sentiment_features_push(sf, 0, 1.5, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sentiment_features_values(NULL, 0, o, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sentiment_features_values(sf, 0, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sentiment_features_values(sf, 5, o, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "multiple"));
    assert_int_equal(coce_sentiment_features_values(sf, 100 * S, o, &err),
                     COCE_OK);
    /* a post before an answered query would change it */
    assert_int_equal(coce_sentiment_features_push(sf, 100 * S - 1, 0, &err),
                     COCE_EORDER);
    assert_int_equal(coce_sentiment_features_values(sf, 99 * S, o, &err),
                     COCE_EORDER);
    assert_int_equal(coce_sentiment_features_push(sf, 200 * S, 0.1, &err),
                     COCE_OK);
    assert_int_equal(coce_sentiment_features_push(sf, 150 * S, 0.1, &err),
                     COCE_EORDER);
    /* the post at 200 steps ran more than ahead (6) past the query: queries
     * before 195 steps are no longer possible */
    assert_int_equal(coce_sentiment_features_values(sf, 194 * S, o, &err),
                     COCE_EORDER);
    assert_int_equal(coce_sentiment_features_values(sf, 195 * S, o, &err),
                     COCE_OK);
    coce_sentiment_features_free(sf);
    coce_sentiment_features_free(NULL);
    coce_sentiment_features_reset(NULL);

    /* a first post sets the earliest query time to its bucket - ahead + 1 */
    assert_int_equal(coce_sentiment_features_new(&c, &sf, &err), COCE_OK);
    assert_int_equal(coce_sentiment_features_push(sf, 50 * S, 0.2, &err),
                     COCE_OK);
    assert_int_equal(coce_sentiment_features_values(sf, 44 * S, o, &err),
                     COCE_EORDER);
    assert_int_equal(coce_sentiment_features_values(sf, 45 * S, o, &err),
                     COCE_OK);
    assert_true(o[COCE_SF_MENTIONS] == 0.0);
    coce_sentiment_features_free(sf);

    int64_t t = 0;
    double v = 0;
    assert_int_equal(coce_sentiment_features_batch(&c, NULL, &v, 1, &t, 1, o,
                                                   &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sentiment_features_batch(&c, &t, &v, 1, &t, 1, NULL,
                                                   &err),
                     COCE_EINVAL);
    bad = c;
    bad.step_ms = -1;
    assert_int_equal(coce_sentiment_features_batch(&bad, &t, &v, 1, &t, 1, o,
                                                   &err),
                     COCE_EINVAL);
    int64_t qs[2] = {10 * S, 5 * S};
    assert_int_equal(coce_sentiment_features_batch(&c, &t, &v, 1, qs, 2, o,
                                                   &err),
                     COCE_EORDER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_no_lookahead),
        cmocka_unit_test(test_stream_equals_batch),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
