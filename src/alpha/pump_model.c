/* Pump model: training, scoring and the JSON model file.
 *
 * File schema (schema_version 1), every field required:
 *   { "schema_version": 1, "version": "coce-0.1.0",
 *     "kind": "logistic_regression_l2",
 *     "features": ["name", ...],                       (1..64, in order)
 *     "scaler": {"mean": [..], "scale": [..]},         (one per feature)
 *     "coef": [..], "intercept": x, "threshold": x,    (threshold in [0,1])
 *     "chunk_ms": n, "C": x,
 *     "class_weight": {"positive": x, "negative": x},
 *     "training": {"data_hash": "hex", "trained_at": "ISO-8601"},
 *     "notes": "..." } */
#include "alpha/pump_model.h"

#include "alpha/logreg.h"
#include "alpha/metrics.h"
#include "utils/fsutil.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef COCE_VERSION
#define COCE_VERSION "unknown"
#endif

#define KIND "logistic_regression_l2"
#define MAXF COCE_PUMP_MODEL_MAX_FEATURES

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);
    if (len >= cap)
        return 0;
    memcpy(dst, src, len + 1);
    return 1;
}

static int check_names(const char *const *names, size_t d, coce_err *err)
{
    for (size_t j = 0; j < d; ++j) {
        if (names[j] == NULL || names[j][0] == '\0')
            return coce_err_set(err, COCE_EINVAL,
                                "pump model: feature %zu: empty name", j);
        if (strlen(names[j]) >= COCE_PUMP_MODEL_NAME_MAX)
            return coce_err_set(err, COCE_EINVAL,
                                "pump model: feature %zu '%s': name longer "
                                "than %d bytes",
                                j, names[j], COCE_PUMP_MODEL_NAME_MAX - 1);
        for (size_t k = 0; k < j; ++k)
            if (strcmp(names[k], names[j]) == 0)
                return coce_err_set(err, COCE_EINVAL,
                                    "pump model: feature '%s' appears at %zu "
                                    "and %zu",
                                    names[j], k, j);
    }
    return COCE_OK;
}

static int check_train_input(const double *X, const uint8_t *y, size_t n,
                             size_t d, const char *const *names,
                             const coce_pump_train_opts *o, size_t *pos,
                             coce_err *err)
{
    if (X == NULL || y == NULL || names == NULL || o == NULL || n == 0)
        return coce_err_set(err, COCE_EINVAL,
                            "pump model train: NULL argument or no rows");
    if (d == 0 || d > MAXF)
        return coce_err_set(err, COCE_EINVAL,
                            "pump model train: %zu features (1..%d allowed)", d,
                            MAXF);
    int rc = check_names(names, d, err);
    if (rc != COCE_OK)
        return rc;
    if (!(isfinite(o->C) && o->C > 0.0))
        return coce_err_set(err, COCE_EINVAL,
                            "pump model train: C must be "
                            "positive and finite");
    if (!o->balanced && !(isfinite(o->weight_pos) && o->weight_pos > 0.0))
        return coce_err_set(err, COCE_EINVAL,
                            "pump model train: weight_pos "
                            "must be positive and finite");
    if (o->chunk_ms < 0)
        return coce_err_set(err, COCE_EINVAL,
                            "pump model train: chunk_ms must be >= 0");
    if (o->data_hash != NULL && strlen(o->data_hash) > 64)
        return coce_err_set(err, COCE_EINVAL,
                            "pump model train: data_hash longer than 64");
    if (o->trained_at != NULL && strlen(o->trained_at) >= 32)
        return coce_err_set(err, COCE_EINVAL,
                            "pump model train: trained_at longer than 31");
    size_t p = 0;
    for (size_t i = 0; i < n; ++i) {
        if (y[i] > 1)
            return coce_err_set(err, COCE_EINVAL,
                                "pump model train: row %zu: label %u is not "
                                "0 or 1",
                                i, (unsigned)y[i]);
        p += y[i];
        for (size_t j = 0; j < d; ++j)
            if (!isfinite(X[i * d + j]))
                return coce_err_set(err, COCE_EINVAL,
                                    "pump model train: row %zu, feature %zu "
                                    "'%s': non-finite value (filter such rows "
                                    "first)",
                                    i, j, names[j]);
    }
    if (p == 0 || p == n)
        return coce_err_set(err, COCE_EDATA,
                            "pump model train: %zu positives among %zu rows: "
                            "both classes are needed",
                            p, n);
    *pos = p;
    return COCE_OK;
}

/* Mean and population standard deviation by two passes (Chan, Golub &
 * LeVeque, "Algorithms for computing the sample variance", 1983); a column
 * scikit-learn's StandardScaler deems constant (_is_constant_feature,
 * sklearn 1.2: var <= n eps var + (n eps mean)^2) gets scale 1. */
static void fit_scaler(const double *X, size_t n, size_t d, coce_pump_model *m)
{
    for (size_t j = 0; j < d; ++j) {
        double sum = 0.0;
        for (size_t i = 0; i < n; ++i)
            sum += X[i * d + j];
        double mean = sum / (double)n;
        double ss = 0.0;
        for (size_t i = 0; i < n; ++i) {
            double dev = X[i * d + j] - mean;
            ss += dev * dev;
        }
        double var = ss / (double)n;
        double ne = (double)n * DBL_EPSILON;
        double bound = ne * var + (ne * mean) * (ne * mean);
        m->mean[j] = mean;
        m->scale[j] = var <= bound ? 1.0 : sqrt(var);
    }
}

/* Standardised value exactly as the scorer computes it, so that the
 * training probabilities and later scores agree to the bit. */
static double standardise(const coce_pump_model *m, size_t j, double x)
{
    return (x - m->mean[j]) / m->scale[j];
}

int coce_pump_model_train(const double *X, const uint8_t *y, size_t n, size_t d,
                          const char *const *names,
                          const coce_pump_train_opts *opts,
                          coce_pump_model *out, coce_err *err)
{
    size_t pos = 0;
    if (out == NULL)
        return coce_err_set(err, COCE_EINVAL, "pump model train: NULL model");
    int rc = check_train_input(X, y, n, d, names, opts, &pos, err);
    if (rc != COCE_OK)
        return rc;

    coce_pump_model *m = calloc(1, sizeof *m);
    double *Xs = malloc(n * d * sizeof *Xs);
    double *work = malloc(coce_logreg_work_size(n, d) * sizeof *work);
    double *score = malloc(n * sizeof *score);
    size_t *idx = malloc(n * sizeof *idx);
    if (m == NULL || Xs == NULL || work == NULL || score == NULL ||
        idx == NULL) {
        rc = coce_err_set(err, COCE_ENOMEM, "pump model train: %zu x %zu rows",
                          n, d);
        goto done;
    }
    m->schema_version = COCE_PUMP_MODEL_SCHEMA_VERSION;
    (void)copy_str(m->version, sizeof m->version, "coce-" COCE_VERSION);
    m->n_features = d;
    for (size_t j = 0; j < d; ++j)
        (void)copy_str(m->names[j], sizeof m->names[j], names[j]);
    fit_scaler(X, n, d, m);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < d; ++j)
            Xs[i * d + j] = standardise(m, j, X[i * d + j]);

    coce_logreg_opts lo;
    coce_logreg_opts_default(&lo);
    lo.C = opts->C;
    if (opts->balanced) {
        /* sklearn compute_class_weight("balanced"): n / (n_classes n_c) */
        lo.weight_pos = (double)n / (2.0 * (double)pos);
        lo.weight_neg = (double)n / (2.0 * (double)(n - pos));
    } else {
        lo.weight_pos = opts->weight_pos;
        lo.weight_neg = 1.0;
    }
    double beta[MAXF + 1];
    double objective = 0.0;
    size_t iters = 0;
    rc = coce_logreg_fit(Xs, y, n, d, &lo, beta, &objective, &iters, work);
    if (rc != COCE_OK) {
        rc = coce_err_set(err, rc,
                          "pump model train: logistic regression: %s after "
                          "%zu iterations",
                          coce_strerror(rc), iters);
        goto done;
    }
    memcpy(m->coef, beta, d * sizeof *beta);
    m->intercept = beta[d];
    m->chunk_ms = opts->chunk_ms;
    m->C = opts->C;
    m->weight_pos = lo.weight_pos;
    m->weight_neg = lo.weight_neg;
    (void)copy_str(m->trained_at, sizeof m->trained_at,
                   opts->trained_at != NULL ? opts->trained_at : "");
    (void)copy_str(m->data_hash, sizeof m->data_hash,
                   opts->data_hash != NULL ? opts->data_hash : "");
    m->threshold = 0.5;
    for (size_t i = 0; i < n; ++i)
        score[i] = coce_pump_model_score(m, X + i * d);
    double f1 = 0.0;
    /* Both classes present and scores finite: cannot fail. */
    (void)coce_metrics_best_f1_threshold(score, y, n, &m->threshold, &f1, idx);
    (void)snprintf(m->notes, sizeof m->notes,
                   "L2 logistic regression (Newton-IRLS), n=%zu, positives=%zu,"
                   " class_weight=%s, iterations=%zu, objective=%.10g,"
                   " threshold=best in-sample F1 (%.4f)",
                   n, pos, opts->balanced ? "balanced" : "explicit", iters,
                   objective, f1);
    *out = *m;
    rc = COCE_OK;
done:
    free(idx);
    free(score);
    free(work);
    free(Xs);
    free(m);
    return rc;
}

double coce_pump_model_score(const coce_pump_model *m, const double *x)
{
    double z = m->intercept;
    for (size_t j = 0; j < m->n_features; ++j)
        z += m->coef[j] * standardise(m, j, x[j]);
    /* sigmoid(z) through the kernel's overflow-safe form: 1*z + 0 == z. */
    static const double unit[2] = {1.0, 0.0};
    return coce_logreg_proba(unit, &z, 1);
}

int coce_pump_model_alert(const coce_pump_model *m, const double *x,
                          double *score)
{
    double s = coce_pump_model_score(m, x);
    if (score != NULL)
        *score = s;
    return s >= m->threshold; /* false for NaN */
}

/* ---- saving ------------------------------------------------------------ */

static int model_valid(const coce_pump_model *m, const char **why)
{
    *why = NULL;
    if (m->n_features == 0 || m->n_features > MAXF)
        *why = "n_features";
    else if (!isfinite(m->intercept))
        *why = "intercept";
    else if (!(m->threshold >= 0.0 && m->threshold <= 1.0))
        *why = "threshold";
    else if (!(isfinite(m->C) && m->C > 0.0))
        *why = "C";
    else if (!(isfinite(m->weight_pos) && m->weight_pos > 0.0) ||
             !(isfinite(m->weight_neg) && m->weight_neg > 0.0))
        *why = "class_weight";
    else if (m->chunk_ms < 0)
        *why = "chunk_ms";
    else if (memchr(m->version, '\0', sizeof m->version) == NULL ||
             memchr(m->trained_at, '\0', sizeof m->trained_at) == NULL ||
             memchr(m->data_hash, '\0', sizeof m->data_hash) == NULL ||
             memchr(m->notes, '\0', sizeof m->notes) == NULL)
        *why = "unterminated string";
    for (size_t j = 0; *why == NULL && j < m->n_features; ++j) {
        if (memchr(m->names[j], '\0', sizeof m->names[j]) == NULL ||
            m->names[j][0] == '\0')
            *why = "features";
        else if (!isfinite(m->mean[j]))
            *why = "scaler.mean";
        else if (!(isfinite(m->scale[j]) && m->scale[j] > 0.0))
            *why = "scaler.scale";
        else if (!isfinite(m->coef[j]))
            *why = "coef";
    }
    return *why == NULL;
}

static json_t *real_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t j = 0; a != NULL && j < n; ++j)
        if (json_array_append_new(a, json_real(v[j])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *model_to_json(const coce_pump_model *m)
{
    json_t *names = json_array();
    for (size_t j = 0; names != NULL && j < m->n_features; ++j)
        if (json_array_append_new(names, json_string(m->names[j])) != 0) {
            json_decref(names);
            names = NULL;
        }
    json_t *mean = real_array(m->mean, m->n_features);
    json_t *scale = real_array(m->scale, m->n_features);
    json_t *coef = real_array(m->coef, m->n_features);
    if (names == NULL || mean == NULL || scale == NULL || coef == NULL) {
        json_decref(names);
        json_decref(mean);
        json_decref(scale);
        json_decref(coef);
        return NULL;
    }
    /* "o" steals the references, also on failure. */
    return json_pack(
        "{s:i, s:s, s:s, s:o, s:{s:o, s:o}, s:o, s:f, s:f, s:I,"
        " s:f, s:{s:f, s:f}, s:{s:s, s:s}, s:s}",
        "schema_version", m->schema_version, "version", m->version, "kind",
        KIND, "features", names, "scaler", "mean", mean, "scale", scale, "coef",
        coef, "intercept", m->intercept, "threshold", m->threshold, "chunk_ms",
        (json_int_t)m->chunk_ms, "C", m->C, "class_weight", "positive",
        m->weight_pos, "negative", m->weight_neg, "training", "data_hash",
        m->data_hash, "trained_at", m->trained_at, "notes", m->notes);
}

int coce_pump_model_save(const coce_pump_model *m, const char *path,
                         coce_err *err)
{
    if (m == NULL || path == NULL)
        return coce_err_set(err, COCE_EINVAL, "pump model save: NULL argument");
    const char *why;
    if (!model_valid(m, &why))
        return coce_err_set(err, COCE_EINVAL,
                            "%s: model not saved: field '%s' is invalid", path,
                            why);
    if (m->schema_version != COCE_PUMP_MODEL_SCHEMA_VERSION)
        return coce_err_set(err, COCE_EINVAL,
                            "%s: model not saved: schema_version %d is not %d",
                            path, m->schema_version,
                            COCE_PUMP_MODEL_SCHEMA_VERSION);
    json_t *root = model_to_json(m);
    char *text =
        root == NULL
            ? NULL
            : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (text == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: cannot encode model JSON",
                            path);
    size_t len = strlen(text);
    char *buf = realloc(text, len + 2);
    if (buf == NULL) {
        free(text);
        return coce_err_set(err, COCE_ENOMEM, "%s: cannot encode model JSON",
                            path);
    }
    buf[len] = '\n';
    buf[len + 1] = '\0';
    int rc = coce_fs_write_atomic(path, buf, len + 1, err);
    free(buf);
    return rc;
}

/* ---- loading ----------------------------------------------------------- */

typedef struct loader {
    const char *path;
    coce_err *err;
} loader;

static int bad_field(const loader *ld, const char *field, const char *what)
{
    return coce_err_set(ld->err, COCE_EPARSE, "%s: field '%s': %s", ld->path,
                        field, what);
}

static int get_member(const loader *ld, const json_t *obj, const char *key,
                      const char *field, json_t **out)
{
    *out = json_object_get(obj, key);
    return *out == NULL ? bad_field(ld, field, "missing") : COCE_OK;
}

static int get_number(const loader *ld, const json_t *obj, const char *key,
                      const char *field, double *out)
{
    json_t *v;
    int rc = get_member(ld, obj, key, field, &v);
    if (rc != COCE_OK)
        return rc;
    if (!json_is_number(v))
        return bad_field(ld, field, "expected a number");
    *out = json_number_value(v);
    return COCE_OK;
}

static int get_positive(const loader *ld, const json_t *obj, const char *key,
                        const char *field, double *out)
{
    int rc = get_number(ld, obj, key, field, out);
    if (rc == COCE_OK && !(*out > 0.0))
        return bad_field(ld, field, "must be > 0");
    return rc;
}

static int get_string(const loader *ld, const json_t *obj, const char *key,
                      const char *field, char *dst, size_t cap)
{
    json_t *v;
    int rc = get_member(ld, obj, key, field, &v);
    if (rc != COCE_OK)
        return rc;
    if (!json_is_string(v))
        return bad_field(ld, field, "expected a string");
    if (!copy_str(dst, cap, json_string_value(v)))
        return coce_err_set(ld->err, COCE_EPARSE,
                            "%s: field '%s': longer than %zu bytes", ld->path,
                            field, cap - 1);
    return COCE_OK;
}

static int get_object(const loader *ld, const json_t *obj, const char *key,
                      const char *field, json_t **out)
{
    int rc = get_member(ld, obj, key, field, out);
    if (rc == COCE_OK && !json_is_object(*out))
        return bad_field(ld, field, "expected an object");
    return rc;
}

/* An array of exactly n numbers. */
static int get_reals(const loader *ld, const json_t *obj, const char *key,
                     const char *field, double *dst, size_t n)
{
    json_t *a;
    int rc = get_member(ld, obj, key, field, &a);
    if (rc != COCE_OK)
        return rc;
    if (!json_is_array(a) || json_array_size(a) != n)
        return coce_err_set(ld->err, COCE_EPARSE,
                            "%s: field '%s': expected an array of %zu numbers "
                            "(one per feature)",
                            ld->path, field, n);
    for (size_t j = 0; j < n; ++j) {
        const json_t *v = json_array_get(a, j);
        if (!json_is_number(v))
            return coce_err_set(ld->err, COCE_EPARSE,
                                "%s: field '%s[%zu]': expected a number",
                                ld->path, field, j);
        dst[j] = json_number_value(v);
    }
    return COCE_OK;
}

static int load_header(const loader *ld, const json_t *root, coce_pump_model *m)
{
    json_t *v;
    int rc = get_member(ld, root, "schema_version", "schema_version", &v);
    if (rc != COCE_OK)
        return rc;
    if (!json_is_integer(v))
        return bad_field(ld, "schema_version", "expected an integer");
    if (json_integer_value(v) != COCE_PUMP_MODEL_SCHEMA_VERSION)
        return coce_err_set(ld->err, COCE_EMISMATCH,
                            "%s: field 'schema_version': %lld is not supported "
                            "(this build reads %d)",
                            ld->path, (long long)json_integer_value(v),
                            COCE_PUMP_MODEL_SCHEMA_VERSION);
    m->schema_version = COCE_PUMP_MODEL_SCHEMA_VERSION;
    rc = get_string(ld, root, "version", "version", m->version,
                    sizeof m->version);
    if (rc != COCE_OK)
        return rc;
    char kind[64];
    rc = get_string(ld, root, "kind", "kind", kind, sizeof kind);
    if (rc != COCE_OK)
        return rc;
    if (strcmp(kind, KIND) != 0)
        return coce_err_set(ld->err, COCE_EMISMATCH,
                            "%s: field 'kind': '%s' is not '%s'", ld->path,
                            kind, KIND);
    rc = get_member(ld, root, "features", "features", &v);
    if (rc != COCE_OK)
        return rc;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad_field(ld, "features", "expected a non-empty array of names");
    size_t d = json_array_size(v);
    if (d > MAXF)
        return coce_err_set(ld->err, COCE_ERANGE,
                            "%s: field 'features': %zu features, at most %d",
                            ld->path, d, MAXF);
    m->n_features = d;
    for (size_t j = 0; j < d; ++j) {
        const json_t *s = json_array_get(v, j);
        const char *name = json_is_string(s) ? json_string_value(s) : NULL;
        if (name == NULL || name[0] == '\0' ||
            !copy_str(m->names[j], sizeof m->names[j], name))
            return coce_err_set(ld->err, COCE_EPARSE,
                                "%s: field 'features[%zu]': expected a "
                                "non-empty string shorter than %d bytes",
                                ld->path, j, COCE_PUMP_MODEL_NAME_MAX);
    }
    return COCE_OK;
}

/* Each step returns on the first error so the message names that field. */
#define TRY(expr)                                                              \
    do {                                                                       \
        int try_rc_ = (expr);                                                  \
        if (try_rc_ != COCE_OK)                                                \
            return try_rc_;                                                    \
    } while (0)

static int load_body(const loader *ld, const json_t *root, coce_pump_model *m)
{
    size_t d = m->n_features;
    json_t *scaler, *cw, *train, *v;
    TRY(get_object(ld, root, "scaler", "scaler", &scaler));
    TRY(get_reals(ld, scaler, "mean", "scaler.mean", m->mean, d));
    TRY(get_reals(ld, scaler, "scale", "scaler.scale", m->scale, d));
    for (size_t j = 0; j < d; ++j)
        if (!(m->scale[j] > 0.0))
            return coce_err_set(ld->err, COCE_EPARSE,
                                "%s: field 'scaler.scale[%zu]': must be > 0",
                                ld->path, j);
    TRY(get_reals(ld, root, "coef", "coef", m->coef, d));
    TRY(get_number(ld, root, "intercept", "intercept", &m->intercept));
    TRY(get_number(ld, root, "threshold", "threshold", &m->threshold));
    if (!(m->threshold >= 0.0 && m->threshold <= 1.0))
        return bad_field(ld, "threshold", "must be in [0, 1]");
    TRY(get_member(ld, root, "chunk_ms", "chunk_ms", &v));
    if (!(json_is_integer(v) && json_integer_value(v) >= 0))
        return bad_field(ld, "chunk_ms", "expected an integer >= 0");
    m->chunk_ms = (int64_t)json_integer_value(v);
    TRY(get_positive(ld, root, "C", "C", &m->C));
    TRY(get_object(ld, root, "class_weight", "class_weight", &cw));
    TRY(get_positive(ld, cw, "positive", "class_weight.positive",
                     &m->weight_pos));
    TRY(get_positive(ld, cw, "negative", "class_weight.negative",
                     &m->weight_neg));
    TRY(get_object(ld, root, "training", "training", &train));
    TRY(get_string(ld, train, "data_hash", "training.data_hash", m->data_hash,
                   sizeof m->data_hash));
    TRY(get_string(ld, train, "trained_at", "training.trained_at",
                   m->trained_at, sizeof m->trained_at));
    return get_string(ld, root, "notes", "notes", m->notes, sizeof m->notes);
}

int coce_pump_model_load(const char *path, coce_pump_model *out, coce_err *err)
{
    if (path == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "pump model load: NULL argument");
    char *text = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &text, &len, err);
    if (rc != COCE_OK) {
        (void)coce_err_prefix(err, "pump model: ");
        return rc;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (root == NULL)
        return coce_err_set(err, COCE_EPARSE, "%s:%d:%d: invalid JSON: %s",
                            path, jerr.line, jerr.column, jerr.text);
    loader ld = {path, err};
    coce_pump_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        rc = coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    } else if (!json_is_object(root)) {
        rc = coce_err_set(err, COCE_EPARSE, "%s: expected a JSON object", path);
    } else {
        rc = load_header(&ld, root, m);
        if (rc == COCE_OK)
            rc = load_body(&ld, root, m);
        if (rc == COCE_OK)
            *out = *m;
    }
    free(m);
    json_decref(root);
    return rc;
}

int coce_pump_model_check_features(const coce_pump_model *m,
                                   const char *const *names, size_t n,
                                   coce_err *err)
{
    if (m == NULL || (names == NULL && n > 0))
        return coce_err_set(err, COCE_EINVAL,
                            "pump model check: NULL argument");
    size_t common = n < m->n_features ? n : m->n_features;
    for (size_t j = 0; j < common; ++j)
        if (names[j] == NULL || strcmp(names[j], m->names[j]) != 0)
            return coce_err_set(err, COCE_EMISMATCH,
                                "feature %zu: model expects '%s', data has "
                                "'%s'",
                                j, m->names[j],
                                names[j] != NULL ? names[j] : "(null)");
    if (n != m->n_features)
        return coce_err_set(err, COCE_EMISMATCH,
                            "model has %zu features, data has %zu; first "
                            "unmatched at position %zu ('%s')",
                            m->n_features, n, common,
                            n > common ? names[common] : m->names[common]);
    return COCE_OK;
}
