/* The pump detector (see detector.h): features -> prepare -> model -> alert
 * with the 30-minute pause of La Morgia et al., ICCCN 2020, Section V. */
#include "alpha/detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PREPARE_TAG "prepare="

typedef struct det_asset {
    coce_features *feat; /* NULL until the asset's first trade */
    int64_t pause_until; /* no alert before this decision time */
} det_asset;

struct coce_detector {
    coce_features_cfg fcfg;
    size_t n_features;
    const char *names[COCE_FEATURES_MAX];
    uint8_t log_col[COCE_FEATURES_MAX]; /* 1: log1p-transformed column */
    coce_prepare_mode mode;
    coce_pump_model model;
    int have_model;
    int64_t pause_ms;
    size_t n_assets;
    det_asset *a;
};

const char *coce_prepare_name(coce_prepare_mode mode)
{
    switch (mode) {
    case COCE_PREPARE_LOGRATIO:
        return "logratio";
    case COCE_PREPARE_CLIP:
        return "clip";
    }
    return NULL;
}

int coce_prepare_parse(const char *name, coce_prepare_mode *mode)
{
    if (name == NULL || mode == NULL)
        return COCE_EINVAL;
    if (strcmp(name, "logratio") == 0)
        *mode = COCE_PREPARE_LOGRATIO;
    else if (strcmp(name, "clip") == 0)
        *mode = COCE_PREPARE_CLIP;
    else
        return COCE_EINVAL;
    return COCE_OK;
}

/* Columns that are a pct_change x_i / x_{i-1} - 1 (features.c). */
static int is_pct_change(const char *name)
{
    static const char *const pct[] = {
        "std_rush_order", "avg_rush_order", "std_trades",    "std_volume",
        "avg_volume",     "std_price",      "avg_price",     "avg_price_max",
        "max_price_return"};
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; ++i)
        if (strcmp(name, pct[i]) == 0)
            return 1;
    return 0;
}

static double clip(double v, double cap)
{
    if (v > cap)
        return cap;
    if (v < -cap)
        return -cap;
    return v; /* NaN passes through */
}

/* The transform of prepare with the per-column choice made once: the name
 * lookups cost a fifth of the detector's time when repeated per row. */
static size_t prepare_cols(const uint8_t *log_col, const double *raw,
                           double *x, size_t d)
{
    size_t n_nan = 0;
    for (size_t j = 0; j < d; ++j) {
        double v = raw[j];
        if (isnan(v)) {
            x[j] = v;
            ++n_nan;
        } else if (log_col[j]) {
            /* pct >= -1 by construction; log1p(-1) = -inf is clipped */
            x[j] = clip(v <= -1.0 ? -INFINITY : log1p(v), COCE_PREPARE_LOG_CAP);
        } else {
            x[j] = clip(v, COCE_PREPARE_CLIP_CAP);
        }
    }
    return n_nan;
}

static void log_columns(coce_prepare_mode mode, const char *const *names,
                        size_t d, uint8_t *log_col)
{
    for (size_t j = 0; j < d; ++j)
        log_col[j] = (uint8_t)(mode == COCE_PREPARE_LOGRATIO &&
                               is_pct_change(names != NULL ? names[j] : NULL));
}

size_t coce_detector_prepare(coce_prepare_mode mode, const char *const *names,
                             const double *raw, double *x, size_t d)
{
    uint8_t log_col[COCE_PUMP_MODEL_MAX_FEATURES];
    size_t n_nan = 0;
    /* in blocks, so that any d works without allocating */
    for (size_t j0 = 0; j0 < d; j0 += COCE_PUMP_MODEL_MAX_FEATURES) {
        size_t b = d - j0 < COCE_PUMP_MODEL_MAX_FEATURES
                       ? d - j0
                       : COCE_PUMP_MODEL_MAX_FEATURES;
        log_columns(mode, names != NULL ? names + j0 : NULL, b, log_col);
        n_nan += prepare_cols(log_col, raw + j0, x + j0, b);
    }
    return n_nan;
}

int coce_detector_check_prepare(const coce_pump_model *m,
                                coce_prepare_mode mode, coce_err *err)
{
    if (m == NULL)
        return coce_err_set(err, COCE_EINVAL, "detector: no model");
    const char *tag = strstr(m->notes, PREPARE_TAG);
    if (tag == NULL)
        return COCE_OK;
    tag += strlen(PREPARE_TAG);
    size_t len = strcspn(tag, " ;,");
    const char *want = coce_prepare_name(mode);
    if (want != NULL && strlen(want) == len && strncmp(tag, want, len) == 0)
        return COCE_OK;
    return coce_err_set(err, COCE_EMISMATCH,
                        "model prepares features with '%.*s', the detector "
                        "with '%s'",
                        (int)len, tag, want != NULL ? want : "?");
}

static int check_model(const coce_detector *d, const coce_pump_model *m,
                       coce_err *err)
{
    int rc = coce_pump_model_check_features(m, d->names, d->n_features, err);
    if (rc != COCE_OK)
        return rc;
    if (m->chunk_ms != 0 && m->chunk_ms != d->fcfg.chunk_ms)
        return coce_err_set(err, COCE_EMISMATCH,
                            "model trained on %lld ms chunks, detector uses "
                            "%lld ms",
                            (long long)m->chunk_ms,
                            (long long)d->fcfg.chunk_ms);
    return coce_detector_check_prepare(m, d->mode, err);
}

int coce_detector_new(const coce_pump_model *m, const coce_features_cfg *fcfg,
                      size_t n_assets, int64_t pause_ms, coce_detector **out,
                      coce_err *err)
{
    if (out == NULL || fcfg == NULL || n_assets == 0 || pause_ms < 0)
        return coce_err_set(err, COCE_EINVAL,
                            "detector: bad argument (out, cfg, n_assets >= 1, "
                            "pause_ms >= 0)");
    *out = NULL;
    /* validate the cfg the way the features module does */
    coce_features *probe = NULL;
    int rc = coce_features_new(&probe, fcfg);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "detector: features cfg: %s",
                            coce_strerror(rc));
    coce_features_free(probe);
    coce_detector *d = calloc(1, sizeof *d);
    if (d == NULL)
        return coce_err_set(err, COCE_ENOMEM, "detector: out of memory");
    d->a = calloc(n_assets, sizeof *d->a);
    if (d->a == NULL) {
        free(d);
        return coce_err_set(err, COCE_ENOMEM, "detector: out of memory");
    }
    d->fcfg = *fcfg;
    d->n_features = coce_features_count(fcfg);
    for (size_t i = 0; i < d->n_features; ++i)
        d->names[i] = coce_features_name(i);
    d->mode = COCE_PREPARE_DEFAULT;
    log_columns(d->mode, d->names, d->n_features, d->log_col);
    d->pause_ms = pause_ms;
    d->n_assets = n_assets;
    for (size_t i = 0; i < n_assets; ++i)
        d->a[i].pause_until = INT64_MIN;
    if (m != NULL) {
        rc = check_model(d, m, err);
        if (rc != COCE_OK) {
            coce_detector_free(d);
            return rc;
        }
        d->model = *m;
        d->have_model = 1;
    }
    *out = d;
    return COCE_OK;
}

int coce_detector_set_model(coce_detector *d, const coce_pump_model *m,
                            coce_err *err)
{
    if (d == NULL)
        return coce_err_set(err, COCE_EINVAL, "detector: NULL");
    if (m == NULL) {
        d->have_model = 0;
        return COCE_OK;
    }
    int rc = check_model(d, m, err);
    if (rc != COCE_OK)
        return rc;
    d->model = *m;
    d->have_model = 1;
    return COCE_OK;
}

const coce_pump_model *coce_detector_model(const coce_detector *d)
{
    return d != NULL && d->have_model ? &d->model : NULL;
}

const char *const *coce_detector_names(const coce_detector *d, size_t *n)
{
    if (n != NULL)
        *n = d != NULL ? d->n_features : 0;
    return d != NULL ? d->names : NULL;
}

/* Prepare, score and apply the pause to a row just closed at `now`. */
static void finish_event(coce_detector *d, det_asset *s, coce_asset_id asset,
                         int64_t now, coce_detector_event *out)
{
    out->asset = asset;
    out->n_features = d->n_features;
    out->decision_ms = now;
    size_t n_nan = prepare_cols(d->log_col, out->row.v, out->x, d->n_features);
    out->usable = out->row.warm && n_nan == 0;
    out->scored = out->usable && d->have_model;
    out->score = NAN;
    out->above = 0;
    out->alerted = 0;
    if (!out->scored)
        return;
    out->score = coce_pump_model_score(&d->model, out->x);
    out->above = out->score >= d->model.threshold;
    /* La Morgia et al. 2020, Sec. V: one alert per coin per pause */
    if (out->above && now >= s->pause_until) {
        out->alerted = 1;
        s->pause_until = now > INT64_MAX - d->pause_ms ? INT64_MAX
                                                       : now + d->pause_ms;
    }
}

/* The asset's state, its features allocated on first use; NULL on a bad
 * asset (*rc = COCE_EINVAL) or no memory (*rc from coce_features_new). */
static det_asset *asset_state(coce_detector *d, coce_asset_id asset, int *rc)
{
    *rc = COCE_EINVAL;
    if (asset >= d->n_assets)
        return NULL;
    det_asset *s = &d->a[asset];
    if (s->feat == NULL) {
        *rc = coce_features_new(&s->feat, &d->fcfg);
        if (*rc != COCE_OK)
            return NULL;
    }
    *rc = COCE_OK;
    return s;
}

int coce_detector_push(coce_detector *d, const coce_trade *t,
                       coce_detector_event *out, int *emitted, coce_err *err)
{
    if (d == NULL || t == NULL || out == NULL || emitted == NULL)
        return coce_err_set(err, COCE_EINVAL, "detector: NULL argument");
    *emitted = 0;
    int rc = COCE_OK;
    det_asset *s = asset_state(d, t->asset, &rc);
    if (s == NULL)
        return coce_err_set(err, rc, "detector: asset %u of %zu assets: %s",
                            (unsigned)t->asset, d->n_assets,
                            coce_strerror(rc));
    int em = 0;
    rc = coce_features_push(s->feat, t, &out->row, &em);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "detector: asset %u: trade at %lld: %s",
                            (unsigned)t->asset, (long long)t->time_ms,
                            coce_strerror(rc));
    if (em) {
        finish_event(d, s, t->asset, t->time_ms, out);
        *emitted = 1;
    }
    return COCE_OK;
}

int coce_detector_advance(coce_detector *d, coce_asset_id asset,
                          int64_t now_ms, coce_detector_event *out,
                          int *emitted, coce_err *err)
{
    if (d == NULL || out == NULL || emitted == NULL)
        return coce_err_set(err, COCE_EINVAL, "detector: NULL argument");
    *emitted = 0;
    if (asset >= d->n_assets)
        return coce_err_set(err, COCE_EINVAL,
                            "detector: asset %u of %zu assets",
                            (unsigned)asset, d->n_assets);
    det_asset *s = &d->a[asset];
    if (s->feat == NULL)
        return COCE_OK;
    int em = 0;
    int rc = coce_features_advance(s->feat, now_ms, &out->row, &em);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "detector: asset %u: clock %lld: %s",
                            (unsigned)asset, (long long)now_ms,
                            coce_strerror(rc));
    if (em) {
        finish_event(d, s, asset, now_ms, out);
        *emitted = 1;
    }
    return COCE_OK;
}

void coce_detector_reset(coce_detector *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_assets; ++i) {
        if (d->a[i].feat != NULL)
            coce_features_reset(d->a[i].feat);
        d->a[i].pause_until = INT64_MIN;
    }
}

void coce_detector_free(coce_detector *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_assets; ++i)
        coce_features_free(d->a[i].feat);
    free(d->a);
    free(d);
}
