/* Metrics against scikit-learn 1.2 (tests/reference/metrics_ref.py), closed
 * forms, and stratified-fold proportions. */
#include "alpha/metrics.h"
#include "testutil.h"
#include "utils/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scored {
    double *score;
    uint8_t *y;
    size_t n;
} scored;

static void load_scores(const char *name, scored *s)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "tests/fixtures/model/metrics_%s.csv", name);
    char *text =
        coce_test_read_file(coce_test_path(path, sizeof path, rel), NULL);
    assert_non_null(text);
    size_t rows = 0;
    for (char *c = text; *c != '\0'; ++c)
        rows += *c == '\n';
    s->score = malloc(rows * sizeof *s->score);
    s->y = malloc(rows);
    assert_non_null(s->score);
    assert_non_null(s->y);
    char *p = strchr(text, '\n') + 1;
    size_t n = 0;
    while (*p != '\0') {
        s->score[n] = strtod(p, &p);
        assert_true(*p == ',');
        s->y[n] = (uint8_t)strtol(p + 1, &p, 10);
        while (*p == '\n' || *p == '\r')
            ++p;
        ++n;
    }
    s->n = n;
    free(text);
}

static double ref_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ',')
            return strtod(p + klen + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            ++p;
    }
    fail_msg("key %s missing from fixture", key);
    return NAN;
}

static void check_case(const char *name)
{
    scored s;
    load_scores(name, &s);
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "tests/fixtures/model/metrics_%s_ref.csv", name);
    char *ref =
        coce_test_read_file(coce_test_path(path, sizeof path, rel), NULL);
    assert_non_null(ref);
    assert_int_equal(s.n, (size_t)ref_value(ref, "n"));

    coce_confusion c;
    coce_metrics_confusion(s.score, s.y, s.n, ref_value(ref, "threshold"), &c);
    assert_int_equal(c.tp, (size_t)ref_value(ref, "tp"));
    assert_int_equal(c.fp, (size_t)ref_value(ref, "fp"));
    assert_int_equal(c.tn, (size_t)ref_value(ref, "tn"));
    assert_int_equal(c.fn, (size_t)ref_value(ref, "fn"));
    assert_close(coce_metrics_precision(&c), ref_value(ref, "precision"), 0,
                 1e-12);
    assert_close(coce_metrics_recall(&c), ref_value(ref, "recall"), 0, 1e-12);
    assert_close(coce_metrics_f1(&c), ref_value(ref, "f1"), 0, 1e-12);

    size_t *idx = malloc(s.n * sizeof *idx);
    double auc = -1, ap = -1, t = -1, f1 = -1;
    assert_int_equal(coce_metrics_roc_auc(s.score, s.y, s.n, &auc, idx),
                     COCE_OK);
    assert_close(auc, ref_value(ref, "roc_auc"), 0, 1e-12);
    assert_int_equal(
        coce_metrics_average_precision(s.score, s.y, s.n, &ap, idx), COCE_OK);
    assert_close(ap, ref_value(ref, "average_precision"), 0, 1e-12);
    assert_int_equal(
        coce_metrics_best_f1_threshold(s.score, s.y, s.n, &t, &f1, idx),
        COCE_OK);
    assert_true(t == ref_value(ref, "best_threshold"));
    assert_close(f1, ref_value(ref, "best_f1"), 0, 1e-12);
    free(idx);
    free(ref);
    free(s.score);
    free(s.y);
}

static void test_sklearn_heavy_ties(void **state)
{
    (void)state;
    check_case("ties");
}

static void test_sklearn_imbalanced(void **state)
{
    (void)state;
    check_case("imb");
}

static void test_sklearn_small_and_flat(void **state)
{
    (void)state;
    check_case("small"); /* no predicted positive: precision 0 */
    check_case("flat");  /* one tie group: AUC 1/2, AP = prevalence */
}

/* Hand computation: scores 4,3,3,1 with labels 1,1,0,0. Pairs (pos,neg):
 * (4,3)=1 (4,1)=1 (3,3)=1/2 (3,1)=1 -> AUC 3.5/4. AP: threshold 4 -> R 1/2,
 * P 1; threshold 3 -> R 1, P 2/3: AP = 1/2 + 1/2*2/3. */
static void test_closed_form(void **state)
{
    (void)state;
    double s[4] = {3.0, 1.0, 4.0, 3.0};
    uint8_t y[4] = {1, 0, 1, 0};
    size_t idx[4];
    double auc, ap, t, f1;
    assert_int_equal(coce_metrics_roc_auc(s, y, 4, &auc, idx), COCE_OK);
    assert_close(auc, 3.5 / 4.0, 0, 1e-15);
    assert_int_equal(coce_metrics_average_precision(s, y, 4, &ap, idx),
                     COCE_OK);
    assert_close(ap, 0.5 + 0.5 * 2.0 / 3.0, 0, 1e-15);
    /* F1 at t=4: 2/3; t=3: 4/5; t=1: 2/3 -> t=3 */
    assert_int_equal(coce_metrics_best_f1_threshold(s, y, 4, &t, &f1, idx),
                     COCE_OK);
    assert_true(t == 3.0);
    assert_close(f1, 0.8, 0, 1e-15);
    /* Tie-breaking: t=2 (tp=1, fp=0) and t=1 (tp=2, fp=2) both F1 = 2/3;
     * the higher threshold wins. */
    double s2[4] = {2.0, 1.0, 1.0, 1.0};
    uint8_t y2[4] = {1, 1, 0, 0};
    assert_int_equal(coce_metrics_best_f1_threshold(s2, y2, 4, &t, &f1, idx),
                     COCE_OK);
    assert_true(t == 2.0);
    assert_close(f1, 2.0 / 3.0, 0, 1e-15);
    /* A perfect ranking, infinite scores allowed. */
    double s3[3] = {INFINITY, -INFINITY, 0.0};
    uint8_t y3[3] = {1, 0, 1};
    assert_int_equal(coce_metrics_roc_auc(s3, y3, 3, &auc, idx), COCE_OK);
    assert_true(auc == 1.0);
    /* No negative: AUC undefined, AP defined (= 1). */
    uint8_t all1[3] = {1, 1, 1};
    assert_int_equal(coce_metrics_roc_auc(s3, all1, 3, &auc, idx), COCE_EDATA);
    assert_int_equal(coce_metrics_average_precision(s3, all1, 3, &ap, idx),
                     COCE_OK);
    assert_true(ap == 1.0);
}

static void test_zero_division_and_errors(void **state)
{
    (void)state;
    coce_confusion z = {0, 0, 5, 0};
    assert_true(coce_metrics_precision(&z) == 0.0);
    assert_true(coce_metrics_recall(&z) == 0.0);
    assert_true(coce_metrics_f1(&z) == 0.0);
    coce_confusion c = {3, 1, 4, 2};
    assert_close(coce_metrics_precision(&c), 0.75, 0, 1e-15);
    assert_close(coce_metrics_recall(&c), 0.6, 0, 1e-15);
    assert_close(coce_metrics_f1(&c), 2.0 * 3.0 / (6.0 + 1.0 + 2.0), 0, 1e-15);

    double s[3] = {0.1, 0.2, 0.3};
    uint8_t y0[3] = {0, 0, 0}, bad[3] = {0, 3, 1}, y[3] = {0, 1, 1};
    size_t idx[3];
    double v, t;
    assert_int_equal(coce_metrics_roc_auc(s, y0, 3, &v, idx), COCE_EDATA);
    assert_int_equal(coce_metrics_average_precision(s, y0, 3, &v, idx),
                     COCE_EDATA);
    assert_int_equal(coce_metrics_best_f1_threshold(s, y0, 3, &t, &v, idx),
                     COCE_EDATA);
    assert_int_equal(coce_metrics_roc_auc(s, bad, 3, &v, idx), COCE_EINVAL);
    assert_int_equal(coce_metrics_roc_auc(s, y, 0, &v, idx), COCE_EINVAL);
    assert_int_equal(coce_metrics_roc_auc(NULL, y, 3, &v, idx), COCE_EINVAL);
    assert_int_equal(coce_metrics_roc_auc(s, NULL, 3, &v, idx), COCE_EINVAL);
    assert_int_equal(coce_metrics_roc_auc(s, y, 3, NULL, idx), COCE_EINVAL);
    assert_int_equal(coce_metrics_roc_auc(s, y, 3, &v, NULL), COCE_EINVAL);
    assert_int_equal(coce_metrics_best_f1_threshold(s, y, 3, &t, NULL, idx),
                     COCE_EINVAL);
    double sn[3] = {0.1, NAN, 0.3};
    assert_int_equal(coce_metrics_average_precision(sn, y, 3, &v, idx),
                     COCE_EINVAL);
    /* NaN never predicts positive. */
    coce_metrics_confusion(sn, y, 3, 0.0, &c);
    assert_int_equal(c.tp, 1);
    assert_int_equal(c.fn, 1);
    assert_int_equal(c.tn, 0);
    assert_int_equal(c.fp, 1);
}

static void test_stratified_kfold(void **state)
{
    (void)state;
    enum { N = 1003, K = 5 };
    static uint8_t y[N];
    static size_t fold[N], fold2[N];
    size_t pos = 0;
    for (size_t i = 0; i < N; ++i) {
        y[i] = (uint8_t)(i % 17 == 3 || i % 29 == 0);
        pos += y[i];
    }
    assert_int_equal(coce_metrics_stratified_kfold(y, N, K, 42, fold), COCE_OK);
    size_t fp[K] = {0}, fn[K] = {0};
    for (size_t i = 0; i < N; ++i) {
        assert_true(fold[i] < K);
        (y[i] ? fp : fn)[fold[i]]++;
    }
    size_t neg = N - pos;
    for (size_t f = 0; f < K; ++f) {
        assert_true(fp[f] == pos / K || fp[f] == pos / K + 1);
        assert_true(fn[f] == neg / K || fn[f] == neg / K + 1);
        size_t size = fp[f] + fn[f];
        assert_true(size == N / K || size == N / K + 1);
    }
    /* Deterministic in the seed; another seed gives another split. */
    assert_int_equal(coce_metrics_stratified_kfold(y, N, K, 42, fold2),
                     COCE_OK);
    assert_memory_equal(fold, fold2, sizeof fold);
    assert_int_equal(coce_metrics_stratified_kfold(y, N, K, 43, fold2),
                     COCE_OK);
    size_t differ = 0;
    for (size_t i = 0; i < N; ++i)
        differ += fold[i] != fold2[i];
    assert_true(differ > N / 2);
    /* Not simply the input order dealt round-robin. */
    size_t in_order = 0;
    for (size_t i = 0; i < N; ++i)
        in_order += fold[i] == i % K;
    assert_true(in_order < N / 2);

    /* Errors: k < 2, bad labels, a class smaller than k. */
    assert_int_equal(coce_metrics_stratified_kfold(y, N, 1, 1, fold),
                     COCE_EINVAL);
    assert_int_equal(coce_metrics_stratified_kfold(NULL, N, K, 1, fold),
                     COCE_EINVAL);
    assert_int_equal(coce_metrics_stratified_kfold(y, N, K, 1, NULL),
                     COCE_EINVAL);
    uint8_t small[6] = {1, 0, 0, 1, 0, 0};
    assert_int_equal(coce_metrics_stratified_kfold(small, 6, 3, 1, fold),
                     COCE_EDATA);
    assert_int_equal(coce_metrics_stratified_kfold(small, 6, 2, 1, fold),
                     COCE_OK);
    assert_true(fold[0] != fold[3]); /* one positive per fold */
    small[2] = 7;
    assert_int_equal(coce_metrics_stratified_kfold(small, 6, 2, 1, fold),
                     COCE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sklearn_heavy_ties),
        cmocka_unit_test(test_sklearn_imbalanced),
        cmocka_unit_test(test_sklearn_small_and_flat),
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_zero_division_and_errors),
        cmocka_unit_test(test_stratified_kfold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
