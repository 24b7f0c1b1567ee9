/* Detector (src/alpha/detector.h): the prepare transform in closed form,
 * rows identical to coce_features_batch (same code path), scores equal to
 * coce_pump_model_score of the prepared row, the alert pause, model swaps
 * and every refusal. */
#include "alpha/detector.h"
#include "alpha/features.h"
#include "alpha/pump_model.h"
#include "testutil.h"
#include "utils/error.h"
#include "utils/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 5000

static void small_cfg(coce_features_cfg *c)
{
    coce_features_cfg_default(c, CHUNK);
    c->window = 6;
    c->price_window = 3;
}

/* A model on the published 12: score = sigmoid(coef0 * std_rush_order). */
static void make_model(coce_pump_model *m, double coef0, double thr)
{
    memset(m, 0, sizeof *m);
    m->schema_version = COCE_PUMP_MODEL_SCHEMA_VERSION;
    m->n_features = COCE_FEATURES_PUBLISHED;
    for (size_t j = 0; j < m->n_features; ++j) {
        snprintf(m->names[j], sizeof m->names[j], "%s", coce_features_name(j));
        m->scale[j] = 1.0;
    }
    m->coef[0] = coef0;
    m->threshold = thr;
    m->chunk_ms = CHUNK;
    m->C = 1;
}

/* Buys and sells every ~1 s with rush orders now and then; sorted. */
static coce_trade *make_trades(size_t n, uint64_t seed)
{
    coce_trade *t = calloc(n, sizeof *t);
    assert_non_null(t);
    coce_rng r;
    coce_rng_init(&r, seed);
    int64_t ms = 1546300800000; /* 2019-01-01 */
    double px = 1e-4;
    for (size_t i = 0; i < n; ++i) {
        if (coce_rng_uniform(&r) > 0.3)
            ms += (int64_t)(coce_rng_exponential(&r, 1.0) * 1000.0) + 1;
        px *= exp(0.002 * coce_rng_normal(&r));
        t[i].time_ms = ms;
        t[i].price = px;
        t[i].qty = 1.0 + 10.0 * coce_rng_uniform(&r);
        t[i].side = coce_rng_uniform(&r) < 0.6 ? COCE_SIDE_BUY : COCE_SIDE_SELL;
    }
    return t;
}

static void test_prepare(void **state)
{
    (void)state;
    const char *names[] = {"std_rush_order", "hour_sin", "avg_price_max",
                           "unknown", "std_volume", "max_price_return"};
    double raw[6] = {0.5, -0.75, INFINITY, -2e5, -1.0, NAN};
    double x[6];
    size_t nan = coce_detector_prepare(COCE_PREPARE_LOGRATIO, names, raw, x, 6);
    assert_int_equal(nan, 1);
    assert_close(x[0], log(1.5), 1e-15, 0);
    assert_close(x[1], -0.75, 0, 0);
    assert_close(x[2], COCE_PREPARE_LOG_CAP, 0, 0);
    assert_close(x[3], -COCE_PREPARE_CLIP_CAP, 0, 0);
    assert_close(x[4], -COCE_PREPARE_LOG_CAP, 0, 0);
    assert_true(isnan(x[5]));
    /* in place, clip mode */
    nan = coce_detector_prepare(COCE_PREPARE_CLIP, names, raw, raw, 5);
    assert_int_equal(nan, 0);
    assert_close(raw[0], 0.5, 0, 0);
    assert_close(raw[2], COCE_PREPARE_CLIP_CAP, 0, 0);
    assert_close(raw[3], -COCE_PREPARE_CLIP_CAP, 0, 0);
    double big[1] = {1e9}, y[1];
    (void)coce_detector_prepare(COCE_PREPARE_LOGRATIO, NULL, big, y, 1);
    assert_close(y[0], COCE_PREPARE_CLIP_CAP, 0, 0);
    /* names */
    coce_prepare_mode m = COCE_PREPARE_CLIP;
    assert_int_equal(coce_prepare_parse("logratio", &m), COCE_OK);
    assert_int_equal(m, COCE_PREPARE_LOGRATIO);
    assert_int_equal(coce_prepare_parse("clip", &m), COCE_OK);
    assert_int_equal(m, COCE_PREPARE_CLIP);
    assert_int_equal(coce_prepare_parse("log", &m), COCE_EINVAL);
    assert_int_equal(coce_prepare_parse(NULL, &m), COCE_EINVAL);
    assert_string_equal(coce_prepare_name(COCE_PREPARE_CLIP), "clip");
    assert_null(coce_prepare_name((coce_prepare_mode)7));
}

static void test_check_prepare(void **state)
{
    (void)state;
    coce_pump_model m;
    make_model(&m, 1, 0.5);
    coce_err err;
    assert_int_equal(coce_detector_check_prepare(&m, COCE_PREPARE_CLIP, &err),
                     COCE_OK);
    snprintf(m.notes, sizeof m.notes, "prepare=clip window=6; x");
    assert_int_equal(coce_detector_check_prepare(&m, COCE_PREPARE_CLIP, &err),
                     COCE_OK);
    assert_int_equal(
        coce_detector_check_prepare(&m, COCE_PREPARE_LOGRATIO, &err),
        COCE_EMISMATCH);
    assert_non_null(strstr(err.msg, "'clip'"));
    assert_int_equal(coce_detector_check_prepare(NULL, COCE_PREPARE_CLIP, &err),
                     COCE_EINVAL);
}

static void test_new_refusals(void **state)
{
    (void)state;
    coce_features_cfg c;
    small_cfg(&c);
    coce_detector *d = NULL;
    coce_err err;
    assert_int_equal(coce_detector_new(NULL, &c, 0, 0, &d, &err), COCE_EINVAL);
    assert_int_equal(coce_detector_new(NULL, &c, 1, -1, &d, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_detector_new(NULL, NULL, 1, 0, &d, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_detector_new(NULL, &c, 1, 0, NULL, &err),
                     COCE_EINVAL);
    coce_features_cfg bad = c;
    bad.window = 1;
    assert_int_equal(coce_detector_new(NULL, &bad, 1, 0, &d, &err),
                     COCE_EINVAL);
    coce_pump_model m;
    make_model(&m, 1, 0.5);
    m.chunk_ms = 25000;
    assert_int_equal(coce_detector_new(&m, &c, 1, 0, &d, &err),
                     COCE_EMISMATCH);
    assert_non_null(strstr(err.msg, "25000"));
    make_model(&m, 1, 0.5);
    snprintf(m.names[3], sizeof m.names[3], "volume");
    assert_int_equal(coce_detector_new(&m, &c, 1, 0, &d, &err),
                     COCE_EMISMATCH);
    make_model(&m, 1, 0.5);
    c.extras = 1; /* 16 features vs a 12-feature model */
    assert_int_equal(coce_detector_new(&m, &c, 1, 0, &d, &err),
                     COCE_EMISMATCH);
    make_model(&m, 1, 0.5);
    snprintf(m.notes, sizeof m.notes, "prepare=clip");
    c.extras = 0;
    assert_int_equal(coce_detector_new(&m, &c, 1, 0, &d, &err),
                     COCE_EMISMATCH);
    assert_null(d);
    coce_detector_free(NULL);
    coce_detector_reset(NULL);
    assert_null(coce_detector_model(NULL));
    size_t n = 9;
    assert_null(coce_detector_names(NULL, &n));
    assert_int_equal(n, 0);
}

/* The detector's rows are the batch rows, bit for bit, and each score is
 * the model's score of the prepared row. */
static void test_same_rows_as_batch(void **state)
{
    (void)state;
    size_t n = 6000;
    coce_trade *t = make_trades(n, 7);
    coce_features_cfg c;
    small_cfg(&c);
    coce_feature_row *rows = calloc(n, sizeof *rows);
    assert_non_null(rows);
    size_t n_rows = 0;
    assert_int_equal(coce_features_batch(&c, t, n, rows, n, &n_rows), COCE_OK);
    assert_true(n_rows > 100);
    coce_pump_model m;
    make_model(&m, 2.0, 0.9);
    coce_detector *d = NULL;
    assert_int_equal(coce_detector_new(&m, &c, 1, 0, &d, NULL), COCE_OK);
    size_t names_n = 0;
    const char *const *names = coce_detector_names(d, &names_n);
    assert_int_equal(names_n, 12);
    assert_string_equal(names[0], "std_rush_order");
    assert_non_null(coce_detector_model(d));
    size_t k = 0, alerts = 0, nan_rows = 0;
    coce_detector_event ev;
    int em = 0;
    for (size_t i = 0; i <= n; ++i) {
        if (i < n)
            assert_int_equal(coce_detector_push(d, &t[i], &ev, &em, NULL),
                             COCE_OK);
        else
            assert_int_equal(coce_detector_advance(d, 0,
                                                   t[n - 1].time_ms + CHUNK,
                                                   &ev, &em, NULL),
                             COCE_OK);
        if (!em)
            continue;
        assert_int_equal(ev.decision_ms, i < n ? t[i].time_ms
                                               : t[n - 1].time_ms + CHUNK);
        assert_int_equal(ev.n_features, 12);
        if (!ev.usable) {
            assert_false(ev.scored);
            assert_false(ev.alerted);
            assert_true(isnan(ev.score));
            nan_rows += ev.row.warm;
        }
        if (!coce_features_row_published(&ev.row))
            continue;
        assert_true(k < n_rows);
        assert_int_equal(ev.row.chunk_start_ms, rows[k].chunk_start_ms);
        assert_memory_equal(ev.row.v, rows[k].v, 12 * sizeof(double));
        if (ev.usable) {
            double x[12];
            (void)coce_detector_prepare(COCE_PREPARE_DEFAULT, names,
                                        rows[k].v, x, 12);
            assert_close(ev.score, coce_pump_model_score(&m, x), 0, 0);
            assert_int_equal(ev.above, ev.score >= 0.9);
            assert_int_equal(ev.alerted, ev.above); /* no pause */
            alerts += ev.alerted;
        }
        ++k;
    }
    assert_int_equal(k, n_rows);
    assert_true(alerts > 0);
    /* advancing again, or an asset without trades, emits nothing */
    assert_int_equal(coce_detector_advance(d, 0, t[n - 1].time_ms + 3 * CHUNK,
                                           &ev, &em, NULL),
                     COCE_OK);
    assert_int_equal(em, 0);
    coce_detector_free(d);
    free(rows);
    free(t);
    (void)nan_rows;
}

/* The pause: with a model that always fires, alerts are exactly the usable
 * rows whose decision time is >= the previous alert + pause. */
static void test_pause_and_model_swap(void **state)
{
    (void)state;
    size_t n = 8000;
    coce_trade *t = make_trades(n, 11);
    for (size_t i = 0; i < n; ++i)
        t[i].asset = (coce_asset_id)(i % 2); /* two assets, same clock */
    coce_features_cfg c;
    small_cfg(&c);
    coce_pump_model m;
    make_model(&m, 0.0, 0.0); /* score 0.5 >= 0: every usable row */
    const int64_t pause = 60000;
    coce_detector *d = NULL;
    assert_int_equal(coce_detector_new(NULL, &c, 2, pause, &d, NULL), COCE_OK);
    assert_null(coce_detector_model(d));
    int64_t last[2] = {INT64_MIN, INT64_MIN};
    size_t alerts = 0, unscored = 0;
    coce_detector_event ev;
    int em = 0;
    for (size_t i = 0; i < n; ++i) {
        if (i == n / 4)
            assert_int_equal(coce_detector_set_model(d, &m, NULL), COCE_OK);
        assert_int_equal(coce_detector_push(d, &t[i], &ev, &em, NULL),
                         COCE_OK);
        if (!em)
            continue;
        assert_int_equal(ev.asset, t[i].asset);
        if (i < n / 4) {
            assert_false(ev.scored);
            unscored += ev.usable;
            continue;
        }
        if (!ev.usable)
            continue;
        assert_true(ev.above);
        int want = last[ev.asset] == INT64_MIN ||
                   ev.decision_ms >= last[ev.asset] + pause;
        assert_int_equal(ev.alerted, want);
        if (ev.alerted) {
            last[ev.asset] = ev.decision_ms;
            ++alerts;
        }
    }
    assert_true(unscored > 0);
    assert_true(alerts > 4);
    /* a mismatched model is refused and the old one stays */
    coce_pump_model bad;
    make_model(&bad, 0, 0);
    bad.chunk_ms = 1000;
    coce_err err;
    assert_int_equal(coce_detector_set_model(d, &bad, &err), COCE_EMISMATCH);
    assert_non_null(coce_detector_model(d));
    assert_int_equal(coce_detector_set_model(d, NULL, NULL), COCE_OK);
    assert_null(coce_detector_model(d));
    assert_int_equal(coce_detector_set_model(NULL, &m, &err), COCE_EINVAL);
    /* refusals of push/advance */
    coce_trade x = t[n - 1];
    x.asset = 2;
    assert_int_equal(coce_detector_push(d, &x, &ev, &em, &err), COCE_EINVAL);
    assert_int_equal(coce_detector_push(NULL, &x, &ev, &em, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_detector_advance(d, 2, 0, &ev, &em, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_detector_advance(NULL, 0, 0, &ev, &em, &err),
                     COCE_EINVAL);
    x.asset = 0;
    x.time_ms = t[0].time_ms; /* before a closed chunk */
    assert_int_equal(coce_detector_push(d, &x, &ev, &em, &err), COCE_EORDER);
    assert_int_equal(em, 0);
    x = t[n - 1];
    x.price = -1;
    assert_int_equal(coce_detector_push(d, &x, &ev, &em, &err), COCE_EINVAL);
    /* after a reset the stream may start again from the beginning */
    coce_detector_reset(d);
    assert_int_equal(coce_detector_push(d, &t[0], &ev, &em, &err), COCE_OK);
    assert_int_equal(em, 0);
    coce_detector_free(d);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_check_prepare),
        cmocka_unit_test(test_new_refusals),
        cmocka_unit_test(test_same_rows_as_batch),
        cmocka_unit_test(test_pause_and_model_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
