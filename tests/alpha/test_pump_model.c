/* Pump model: training against sklearn's StandardScaler + LogisticRegression
 * pipeline (tests/reference/logreg_ref.py, fixture pump_raw), scoring, the
 * JSON file (round trip and every load error), feature checks. */
#include "alpha/metrics.h"
#include "alpha/pump_model.h"
#include "testutil.h"
#include "utils/error.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dataset {
    double *X;
    uint8_t *y;
    size_t n, d;
} dataset;

static void load_data(const char *name, dataset *ds)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "tests/fixtures/model/%s_data.csv", name);
    char *text =
        coce_test_read_file(coce_test_path(path, sizeof path, rel), NULL);
    assert_non_null(text);
    char *line = strchr(text, '\n');
    size_t d = 0, rows = 0;
    for (char *c = text; c < line; ++c)
        d += *c == ',';
    for (char *c = line + 1; *c != '\0'; ++c)
        rows += *c == '\n';
    ds->X = malloc(rows * d * sizeof *ds->X);
    ds->y = malloc(rows);
    char *p = line + 1;
    size_t n = 0;
    while (*p != '\0') {
        for (size_t j = 0; j < d; ++j) {
            ds->X[n * d + j] = strtod(p, &p);
            assert_true(*p == ',');
            ++p;
        }
        ds->y[n] = (uint8_t)strtol(p, &p, 10);
        while (*p == '\n' || *p == '\r')
            ++p;
        ++n;
    }
    ds->n = n;
    ds->d = d;
    free(text);
}

static double fit_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ',')
            return strtod(p + klen + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            ++p;
    }
    fail_msg("key %s missing", key);
    return NAN;
}

static const char *const k_names[4] = {"vol_ratio", "ret_z", "const_col",
                                       "rush_orders"};

static void train_fixture(coce_pump_model *m, dataset *ds, char **fit)
{
    char path[1024];
    load_data("pump_raw", ds);
    *fit = coce_test_read_file(
        coce_test_path(path, sizeof path,
                       "tests/fixtures/model/pump_raw_fit.csv"),
        NULL);
    assert_non_null(*fit);
    coce_pump_train_opts o = {fit_value(*fit, "C"),  1, 0.0, 25000, "ab12cd34",
                              "2024-06-11T12:00:00Z"};
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(
        coce_pump_model_train(ds->X, ds->y, ds->n, ds->d, k_names, &o, m, &err),
        COCE_OK);
}

static void test_train_matches_sklearn_pipeline(void **state)
{
    (void)state;
    coce_pump_model m;
    dataset ds;
    char *fit;
    train_fixture(&m, &ds, &fit);
    assert_int_equal(m.schema_version, COCE_PUMP_MODEL_SCHEMA_VERSION);
    assert_int_equal(m.n_features, 4);
    assert_string_equal(m.names[3], "rush_orders");
    char key[32];
    for (size_t j = 0; j < 4; ++j) {
        snprintf(key, sizeof key, "mean_%zu", j);
        assert_close(m.mean[j], fit_value(fit, key), 1e-13, 1e-18);
        snprintf(key, sizeof key, "scale_%zu", j);
        assert_close(m.scale[j], fit_value(fit, key), 1e-12, 0.0);
        snprintf(key, sizeof key, "coef_%zu", j);
        assert_close(m.coef[j], fit_value(fit, key), 1e-5, 1e-8);
    }
    assert_true(m.scale[2] == 1.0); /* constant column */
    assert_close(m.coef[2], 0.0, 0.0, 1e-12);
    assert_close(m.intercept, fit_value(fit, "intercept"), 1e-5, 1e-8);
    assert_close(m.weight_pos, fit_value(fit, "weight_pos"), 1e-15, 0.0);
    assert_close(m.weight_neg, fit_value(fit, "weight_neg"), 1e-15, 0.0);
    assert_true(m.C == 0.7 && m.chunk_ms == 25000);
    assert_string_equal(m.data_hash, "ab12cd34");
    assert_string_equal(m.trained_at, "2024-06-11T12:00:00Z");
    assert_non_null(strstr(m.notes, "balanced"));
    assert_non_null(strstr(m.version, "coce-"));
    /* Threshold: sklearn's best-F1 training probability (highest on ties). */
    assert_close(m.threshold, fit_value(fit, "threshold"), 0.0, 1e-8);
    double *score = malloc(ds.n * sizeof *score);
    for (size_t i = 0; i < ds.n; ++i)
        score[i] = coce_pump_model_score(&m, ds.X + i * ds.d);
    coce_confusion c;
    coce_metrics_confusion(score, ds.y, ds.n, m.threshold, &c);
    assert_close(coce_metrics_f1(&c), fit_value(fit, "best_f1"), 0.0, 1e-12);
    /* The threshold is one of the training scores. */
    size_t hits = 0;
    for (size_t i = 0; i < ds.n; ++i)
        hits += score[i] == m.threshold;
    assert_true(hits >= 1);
    free(score);
    free(fit);
    free(ds.X);
    free(ds.y);
}

static void test_score_and_alert(void **state)
{
    (void)state;
    coce_pump_model m;
    dataset ds;
    char *fit;
    train_fixture(&m, &ds, &fit);
    /* Closed form on a made-up row. */
    double x[4] = {1100.0, 0.002, 3.25, 2.0};
    double z = m.intercept;
    for (size_t j = 0; j < 4; ++j)
        z += m.coef[j] * (x[j] - m.mean[j]) / m.scale[j];
    double s = -1.0;
    assert_close(coce_pump_model_score(&m, x), 1.0 / (1.0 + exp(-z)), 1e-14,
                 0.0);
    int alert = coce_pump_model_alert(&m, x, &s);
    assert_int_equal(alert, s >= m.threshold);
    assert_true(s > 0.0 && s < 1.0);
    /* Extremes saturate without NaN; NaN never alerts. */
    double hi[4] = {1e300, 1e300, 3.25, 1e300};
    assert_true(coce_pump_model_score(&m, hi) == 1.0);
    assert_int_equal(coce_pump_model_alert(&m, hi, NULL), 1);
    double lo[4] = {-1e300, -1e300, 3.25, -1e300};
    assert_true(coce_pump_model_score(&m, lo) == 0.0);
    assert_int_equal(coce_pump_model_alert(&m, lo, &s), 0);
    double nan_row[4] = {NAN, 0.0, 3.25, 1.0};
    assert_int_equal(coce_pump_model_alert(&m, nan_row, &s), 0);
    assert_true(isnan(s));
    free(fit);
    free(ds.X);
    free(ds.y);
}

static void test_train_rejects_bad_input(void **state)
{
    (void)state;
    double X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t y[6] = {0, 1, 0, 1, 0, 0};
    const char *names[2] = {"a", "b"};
    coce_pump_train_opts o = {1.0, 1, 0.0, 1000, NULL, NULL};
    coce_pump_model m;
    coce_err err;
    /* explicit weights and NULL strings */
    coce_pump_train_opts ow = {2.0, 0, 3.0, 0, NULL, NULL};
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &ow, &m, &err),
                     COCE_OK);
    assert_true(m.weight_pos == 3.0 && m.weight_neg == 1.0);
    assert_string_equal(m.data_hash, "");
    assert_non_null(strstr(m.notes, "explicit"));

    X[5] = NAN; /* row 2, feature 1 */
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &o, &m, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "row 2, feature 1 'b'"));
    X[5] = 6.0;
    uint8_t one_class[6] = {0};
    assert_int_equal(
        coce_pump_model_train(X, one_class, 6, 2, names, &o, &m, &err),
        COCE_EDATA);
    uint8_t bad_y[6] = {0, 1, 2, 0, 0, 0};
    assert_int_equal(coce_pump_model_train(X, bad_y, 6, 2, names, &o, &m, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "row 2"));
    const char *dup[2] = {"a", "a"};
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, dup, &o, &m, &err),
                     COCE_EINVAL);
    const char *empty[2] = {"a", ""};
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, empty, &o, &m, &err),
                     COCE_EINVAL);
    const char *nul[2] = {"a", NULL};
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, nul, &o, &m, &err),
                     COCE_EINVAL);
    char longname[64];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *longn[2] = {"a", longname};
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, longn, &o, &m, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_pump_model_train(X, y, 6, 0, names, &o, &m, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_pump_model_train(X, y, 6, 65, names, &o, &m, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_pump_model_train(X, y, 0, 2, names, &o, &m, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &o, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, NULL, &m, &err),
                     COCE_EINVAL);
    coce_pump_train_opts b = o;
    b.C = -1.0;
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &b, &m, &err),
                     COCE_EINVAL);
    b = o;
    b.balanced = 0;
    b.weight_pos = 0.0;
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &b, &m, &err),
                     COCE_EINVAL);
    b = o;
    b.chunk_ms = -5;
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &b, &m, &err),
                     COCE_EINVAL);
    b = o;
    b.data_hash = longname; /* 63 chars: fits */
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &b, &m, &err),
                     COCE_OK);
    char hash[80];
    memset(hash, 'f', 65);
    hash[65] = '\0';
    b.data_hash = hash;
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &b, &m, &err),
                     COCE_EINVAL);
    b = o;
    b.trained_at = longname;
    assert_int_equal(coce_pump_model_train(X, y, 6, 2, names, &b, &m, &err),
                     COCE_EINVAL);
}

static void check_same(const coce_pump_model *a, const coce_pump_model *b)
{
    assert_int_equal(a->schema_version, b->schema_version);
    assert_string_equal(a->version, b->version);
    assert_int_equal(a->n_features, b->n_features);
    for (size_t j = 0; j < a->n_features; ++j) {
        assert_string_equal(a->names[j], b->names[j]);
        assert_memory_equal(&a->mean[j], &b->mean[j], sizeof(double));
        assert_memory_equal(&a->scale[j], &b->scale[j], sizeof(double));
        assert_memory_equal(&a->coef[j], &b->coef[j], sizeof(double));
    }
    assert_memory_equal(&a->intercept, &b->intercept, sizeof(double));
    assert_memory_equal(&a->threshold, &b->threshold, sizeof(double));
    assert_memory_equal(&a->C, &b->C, sizeof(double));
    assert_memory_equal(&a->weight_pos, &b->weight_pos, sizeof(double));
    assert_memory_equal(&a->weight_neg, &b->weight_neg, sizeof(double));
    assert_true(a->chunk_ms == b->chunk_ms);
    assert_string_equal(a->trained_at, b->trained_at);
    assert_string_equal(a->data_hash, b->data_hash);
    assert_string_equal(a->notes, b->notes);
}

static void test_save_load_roundtrip_bit_exact(void **state)
{
    (void)state;
    coce_pump_model m, back;
    dataset ds;
    char *fit;
    train_fixture(&m, &ds, &fit);
    /* Awkward doubles: tiny, subnormal, negative zero, integral, 0.1. */
    m.mean[0] = 0.1;
    m.mean[1] = -0.0;
    m.mean[2] = 4.9e-324;
    m.coef[2] = 1e-300;
    m.coef[1] = 3.0;
    m.intercept = -1.2345678901234567e+17;
    m.chunk_ms = INT64_C(86400000000);
    char dir[512], path[700];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/sub/pump.json", dir);
    coce_err err;
    /* missing parent directory: an error, not a crash */
    assert_int_not_equal(coce_pump_model_save(&m, path, &err), COCE_OK);
    snprintf(path, sizeof path, "%s/pump.json", dir);
    assert_int_equal(coce_pump_model_save(&m, path, &err), COCE_OK);
    memset(&back, 0x5a, sizeof back);
    assert_int_equal(coce_pump_model_load(path, &back, &err), COCE_OK);
    check_same(&m, &back);
    assert_true(signbit(back.mean[1]));
    /* Saving what was loaded gives the same bytes. */
    char path2[720];
    snprintf(path2, sizeof path2, "%s/pump2.json", dir);
    assert_int_equal(coce_pump_model_save(&back, path2, &err), COCE_OK);
    char *t1 = coce_test_read_file(path, NULL);
    char *t2 = coce_test_read_file(path2, NULL);
    assert_string_equal(t1, t2);
    assert_non_null(strstr(t1, "\"schema_version\": 1"));
    assert_non_null(strstr(t1, "\"rush_orders\""));
    free(t1);
    free(t2);
    /* The loaded model scores the same. */
    assert_true(coce_pump_model_score(&m, ds.X) ==
                coce_pump_model_score(&back, ds.X));
    coce_test_rmtree(dir);
    free(fit);
    free(ds.X);
    free(ds.y);
}

static void test_save_refuses_invalid(void **state)
{
    (void)state;
    coce_pump_model m;
    dataset ds;
    char *fit;
    train_fixture(&m, &ds, &fit);
    char dir[512], path[700];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.json", dir);
    coce_err err;
    coce_pump_model b = m;
    b.coef[1] = NAN;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "coef"));
    b = m;
    b.threshold = 1.5;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.scale[0] = 0.0;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.mean[0] = INFINITY;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.n_features = 0;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.intercept = NAN;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.C = 0.0;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.weight_neg = -1.0;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.chunk_ms = -1;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    memset(b.notes, 'n', sizeof b.notes);
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.names[1][0] = '\0';
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    b = m;
    b.schema_version = 2;
    assert_int_equal(coce_pump_model_save(&b, path, &err), COCE_EINVAL);
    assert_int_equal(coce_pump_model_save(NULL, path, &err), COCE_EINVAL);
    assert_int_equal(coce_pump_model_save(&m, NULL, &err), COCE_EINVAL);
    assert_false(coce_test_read_file(path, NULL) != NULL);
    coce_test_rmtree(dir);
    free(fit);
    free(ds.X);
    free(ds.y);
}

/* Saves a good model, edits its JSON with `edit`, loads it back and checks
 * the status code and that the message names `needle`. */
typedef void (*json_edit)(json_t *root);

static void expect_load_error(const char *dir, const coce_pump_model *m,
                              json_edit edit, int code, const char *needle)
{
    char path[700];
    snprintf(path, sizeof path, "%s/edit.json", dir);
    coce_err err;
    assert_int_equal(coce_pump_model_save(m, path, &err), COCE_OK);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    edit(root);
    assert_int_equal(json_dump_file(root, path, JSON_REAL_PRECISION(17)), 0);
    json_decref(root);
    coce_pump_model out;
    memset(&out, 0x11, sizeof out);
    coce_pump_model before = out;
    coce_err_clear(&err);
    int rc = coce_pump_model_load(path, &out, &err);
    if (rc != code || strstr(err.msg, needle) == NULL ||
        strstr(err.msg, path) == NULL)
        fail_msg("expected %s naming '%s', got %s: %s", coce_err_name(code),
                 needle, coce_err_name(rc), err.msg);
    assert_memory_equal(&out, &before, sizeof out); /* untouched on error */
}

static void del_coef(json_t *r)
{
    json_object_del(r, "coef");
}
static void str_intercept(json_t *r)
{
    json_object_set_new(r, "intercept", json_string("0.5"));
}
static void schema_2(json_t *r)
{
    json_object_set_new(r, "schema_version", json_integer(2));
}
static void schema_str(json_t *r)
{
    json_object_set_new(r, "schema_version", json_string("1"));
}
static void many_features(json_t *r)
{
    json_t *a = json_array();
    char name[16];
    for (int j = 0; j < 65; ++j) {
        snprintf(name, sizeof name, "f%d", j);
        json_array_append_new(a, json_string(name));
    }
    json_object_set_new(r, "features", a);
}
static void short_mean(json_t *r)
{
    json_array_remove(json_object_get(json_object_get(r, "scaler"), "mean"), 0);
}
static void str_in_scale(json_t *r)
{
    json_array_set_new(json_object_get(json_object_get(r, "scaler"), "scale"),
                       2, json_string("x"));
}
static void zero_scale(json_t *r)
{
    json_array_set_new(json_object_get(json_object_get(r, "scaler"), "scale"),
                       1, json_real(0.0));
}
static void scaler_array(json_t *r)
{
    json_object_set_new(r, "scaler", json_array());
}
static void threshold_big(json_t *r)
{
    json_object_set_new(r, "threshold", json_real(1.5));
}
static void chunk_real(json_t *r)
{
    json_object_set_new(r, "chunk_ms", json_real(2.5));
}
static void chunk_neg(json_t *r)
{
    json_object_set_new(r, "chunk_ms", json_integer(-1));
}
static void c_zero(json_t *r)
{
    json_object_set_new(r, "C", json_integer(0));
}
static void weight_str(json_t *r)
{
    json_object_set_new(json_object_get(r, "class_weight"), "negative",
                        json_string("1"));
}
static void del_training(json_t *r)
{
    json_object_del(r, "training");
}
static void hash_long(json_t *r)
{
    char h[80];
    memset(h, 'a', 70);
    h[70] = '\0';
    json_object_set_new(json_object_get(r, "training"), "data_hash",
                        json_string(h));
}
static void notes_int(json_t *r)
{
    json_object_set_new(r, "notes", json_integer(3));
}
static void kind_other(json_t *r)
{
    json_object_set_new(r, "kind", json_string("random_forest"));
}
static void name_int(json_t *r)
{
    json_array_set_new(json_object_get(r, "features"), 1, json_integer(7));
}
static void features_empty(json_t *r)
{
    json_object_set_new(r, "features", json_array());
}
static void del_version(json_t *r)
{
    json_object_del(r, "version");
}
static void del_kind(json_t *r)
{
    json_object_del(r, "kind");
}
static void del_schema(json_t *r)
{
    json_object_del(r, "schema_version");
}
static void del_features(json_t *r)
{
    json_object_del(r, "features");
}
static void del_threshold(json_t *r)
{
    json_object_del(r, "threshold");
}
static void del_chunk(json_t *r)
{
    json_object_del(r, "chunk_ms");
}
static void del_trained_at(json_t *r)
{
    json_object_del(json_object_get(r, "training"), "trained_at");
}
static void del_notes(json_t *r)
{
    json_object_del(r, "notes");
}
static void del_weight_pos(json_t *r)
{
    json_object_del(json_object_get(r, "class_weight"), "positive");
}
static void del_cw(json_t *r)
{
    json_object_del(r, "class_weight");
}
static void del_C(json_t *r)
{
    json_object_del(r, "C");
}
static void del_intercept(json_t *r)
{
    json_object_del(r, "intercept");
}
static void del_scale(json_t *r)
{
    json_object_del(json_object_get(r, "scaler"), "scale");
}

static void test_load_errors(void **state)
{
    (void)state;
    coce_pump_model m;
    dataset ds;
    char *fit;
    train_fixture(&m, &ds, &fit);
    char dir[512], path[700];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    coce_err err;
    coce_pump_model out;

    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(coce_pump_model_load(path, &out, &err), COCE_ENOTFOUND);
    assert_non_null(strstr(err.msg, "missing.json"));
    assert_int_equal(coce_pump_model_load(dir, &out, &err), COCE_EIO);
    assert_int_equal(coce_pump_model_load(NULL, &out, &err), COCE_EINVAL);
    assert_int_equal(coce_pump_model_load(path, NULL, &err), COCE_EINVAL);

    /* Truncated file: a JSON syntax error with file:line:column. */
    snprintf(path, sizeof path, "%s/trunc.json", dir);
    assert_int_equal(coce_pump_model_save(&m, path, &err), COCE_OK);
    size_t len;
    char *text = coce_test_read_file(path, &len);
    text[len / 2] = '\0';
    assert_int_equal(coce_test_write_file(path, text), 0);
    free(text);
    assert_int_equal(coce_pump_model_load(path, &out, &err), COCE_EPARSE);
    assert_non_null(strstr(err.msg, "trunc.json:"));
    assert_non_null(strstr(err.msg, "invalid JSON"));
    assert_int_equal(coce_test_write_file(path, "[1, 2]"), 0);
    assert_int_equal(coce_pump_model_load(path, &out, &err), COCE_EPARSE);
    assert_int_equal(coce_test_write_file(path, "{\"a\": 1, \"a\": 2}"), 0);
    assert_int_equal(coce_pump_model_load(path, &out, &err), COCE_EPARSE);

    expect_load_error(dir, &m, del_coef, COCE_EPARSE, "'coef': missing");
    expect_load_error(dir, &m, str_intercept, COCE_EPARSE,
                      "'intercept': expected a number");
    expect_load_error(dir, &m, schema_2, COCE_EMISMATCH, "schema_version");
    expect_load_error(dir, &m, schema_str, COCE_EPARSE,
                      "'schema_version': expected an integer");
    expect_load_error(dir, &m, del_schema, COCE_EPARSE,
                      "'schema_version': missing");
    expect_load_error(dir, &m, many_features, COCE_ERANGE, "65 features");
    expect_load_error(dir, &m, features_empty, COCE_EPARSE, "'features'");
    expect_load_error(dir, &m, del_features, COCE_EPARSE,
                      "'features': missing");
    expect_load_error(dir, &m, name_int, COCE_EPARSE, "'features[1]'");
    expect_load_error(dir, &m, short_mean, COCE_EPARSE, "'scaler.mean'");
    expect_load_error(dir, &m, str_in_scale, COCE_EPARSE, "'scaler.scale[2]'");
    expect_load_error(dir, &m, zero_scale, COCE_EPARSE,
                      "'scaler.scale[1]': must be > 0");
    expect_load_error(dir, &m, del_scale, COCE_EPARSE,
                      "'scaler.scale': missing");
    expect_load_error(dir, &m, scaler_array, COCE_EPARSE,
                      "'scaler': expected an object");
    expect_load_error(dir, &m, threshold_big, COCE_EPARSE, "'threshold'");
    expect_load_error(dir, &m, del_threshold, COCE_EPARSE,
                      "'threshold': missing");
    expect_load_error(dir, &m, chunk_real, COCE_EPARSE, "'chunk_ms'");
    expect_load_error(dir, &m, chunk_neg, COCE_EPARSE, "'chunk_ms'");
    expect_load_error(dir, &m, del_chunk, COCE_EPARSE, "'chunk_ms': missing");
    expect_load_error(dir, &m, c_zero, COCE_EPARSE, "'C': must be > 0");
    expect_load_error(dir, &m, del_C, COCE_EPARSE, "'C': missing");
    expect_load_error(dir, &m, weight_str, COCE_EPARSE,
                      "'class_weight.negative'");
    expect_load_error(dir, &m, del_weight_pos, COCE_EPARSE,
                      "'class_weight.positive'");
    expect_load_error(dir, &m, del_cw, COCE_EPARSE, "'class_weight': missing");
    expect_load_error(dir, &m, del_training, COCE_EPARSE,
                      "'training': missing");
    expect_load_error(dir, &m, hash_long, COCE_EPARSE,
                      "'training.data_hash': longer");
    expect_load_error(dir, &m, del_trained_at, COCE_EPARSE,
                      "'training.trained_at'");
    expect_load_error(dir, &m, notes_int, COCE_EPARSE,
                      "'notes': expected a string");
    expect_load_error(dir, &m, del_notes, COCE_EPARSE, "'notes': missing");
    expect_load_error(dir, &m, kind_other, COCE_EMISMATCH, "random_forest");
    expect_load_error(dir, &m, del_kind, COCE_EPARSE, "'kind': missing");
    expect_load_error(dir, &m, del_version, COCE_EPARSE, "'version': missing");
    expect_load_error(dir, &m, del_intercept, COCE_EPARSE,
                      "'intercept': missing");
    coce_test_rmtree(dir);
    free(fit);
    free(ds.X);
    free(ds.y);
}

static void test_check_features(void **state)
{
    (void)state;
    coce_pump_model m;
    dataset ds;
    char *fit;
    train_fixture(&m, &ds, &fit);
    coce_err err;
    assert_int_equal(coce_pump_model_check_features(&m, k_names, 4, &err),
                     COCE_OK);
    const char *swapped[4] = {"vol_ratio", "const_col", "ret_z", "rush_orders"};
    assert_int_equal(coce_pump_model_check_features(&m, swapped, 4, &err),
                     COCE_EMISMATCH);
    assert_non_null(strstr(
        err.msg, "feature 1: model expects 'ret_z', data has 'const_col'"));
    assert_int_equal(coce_pump_model_check_features(&m, k_names, 3, &err),
                     COCE_EMISMATCH);
    assert_non_null(strstr(err.msg, "position 3 ('rush_orders')"));
    const char *more[5] = {"vol_ratio", "ret_z", "const_col", "rush_orders",
                           "extra"};
    assert_int_equal(coce_pump_model_check_features(&m, more, 5, &err),
                     COCE_EMISMATCH);
    assert_non_null(strstr(err.msg, "'extra'"));
    const char *withnull[4] = {"vol_ratio", NULL, "const_col", "rush_orders"};
    assert_int_equal(coce_pump_model_check_features(&m, withnull, 4, &err),
                     COCE_EMISMATCH);
    assert_int_equal(coce_pump_model_check_features(NULL, k_names, 4, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_pump_model_check_features(&m, NULL, 4, &err),
                     COCE_EINVAL);
    free(fit);
    free(ds.X);
    free(ds.y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_matches_sklearn_pipeline),
        cmocka_unit_test(test_score_and_alert),
        cmocka_unit_test(test_train_rejects_bad_input),
        cmocka_unit_test(test_save_load_roundtrip_bit_exact),
        cmocka_unit_test(test_save_refuses_invalid),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_check_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
