/* The pump detector: the ONE code path from trades to pump alerts, shared by
 * `coce detect` and the engine (src/agent/engine.c).
 *
 * Per asset: a coce_features stream (alpha/features.h), the model
 * (alpha/pump_model.h) and the alert pause of La Morgia, Mei, Sassi & Stefa,
 * "Pump and Dumps in the Bitcoin Era", ICCCN 2020, Section V (after an alert
 * on a coin, no new alert on it for 30 minutes).
 *
 * Non-finite features. The published features are pct_change of moving
 * statistics: x/0 gives +inf (kept by the published pipeline, which feeds
 * them to a random forest; a forest only compares values, so +inf is just
 * "above every split") and 0/0 gives NaN (dropped by the published code).
 * A logistic regression cannot take +inf (scikit-learn refuses it), so every
 * row goes through coce_detector_prepare() before the scaler, at training and
 * at scoring alike:
 *   COCE_PREPARE_LOGRATIO (default): each pct_change feature p (the 8 market
 *     features and max_price_return) becomes log1p(p) = log(x_i / x_{i-1}),
 *     the log ratio of consecutive moving statistics (symmetric in growth and
 *     decay, and it tames the heavy right tail that otherwise sets the
 *     standard deviation of the scaler); the result, +-inf included, is
 *     clipped to [-COCE_PREPARE_LOG_CAP, +COCE_PREPARE_LOG_CAP];
 *   COCE_PREPARE_CLIP: every value clipped to [-COCE_PREPARE_CLIP_CAP,
 *     +COCE_PREPARE_CLIP_CAP], +inf becoming the cap (the nearest a linear
 *     model gets to "above every split").
 * Other columns (hour/minute sin/cos, shares, z-scores) are only clipped.
 * NaN stays NaN: such a row is flagged (usable = 0) and never alerts.
 * docs/pump_model.md gives the measured comparison of both modes.
 *
 * A model file records its mode in its notes ("prepare=logratio"); a model
 * whose notes name another mode is refused (COCE_EMISMATCH); a model without
 * the tag (e.g. a walk-forward fit) is taken to use the detector's mode.
 *
 * Threading: a detector is single-threaded state. */
#ifndef COCE_ALPHA_DETECTOR_H
#define COCE_ALPHA_DETECTOR_H

#include "alpha/features.h"
#include "alpha/pump_model.h"
#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

typedef enum coce_prepare_mode {
    COCE_PREPARE_LOGRATIO = 0,
    COCE_PREPARE_CLIP = 1
} coce_prepare_mode;

#define COCE_PREPARE_LOG_CAP 10.0   /* |log ratio| <= 10: a factor e^10 */
#define COCE_PREPARE_CLIP_CAP 1.0e4 /* |pct_change| <= 1e4 */
#define COCE_PREPARE_DEFAULT COCE_PREPARE_LOGRATIO

/* "logratio" / "clip"; NULL for an unknown mode. */
const char *coce_prepare_name(coce_prepare_mode mode);
/* Parses a name of coce_prepare_name; COCE_EINVAL when unknown. */
int coce_prepare_parse(const char *name, coce_prepare_mode *mode);

/* Model input x (d entries) from raw feature values (d entries) whose column
 * names are names[0..d-1] (alpha/features.h names; an unknown name is only
 * clipped). Returns the number of NaN entries of x (0 = usable row). raw and
 * x may alias (in-place). No allocation. */
size_t coce_detector_prepare(coce_prepare_mode mode, const char *const *names,
                             const double *raw, double *x, size_t d);

/* COCE_OK when the model's notes name `mode` or name none; COCE_EMISMATCH
 * otherwise (message names both). */
int coce_detector_check_prepare(const coce_pump_model *m,
                                coce_prepare_mode mode, coce_err *err);

/* What one closed chunk gave. */
typedef struct coce_detector_event {
    coce_asset_id asset;
    coce_feature_row row; /* raw features of the closed chunk */
    double x[COCE_FEATURES_MAX]; /* prepared model input (NaN if not usable) */
    size_t n_features;           /* entries of x (and of row.v) in use */
    int64_t decision_ms;         /* time of the trade that closed the chunk */
    int usable; /* 1: warm and no NaN after prepare (train/score on it) */
    int scored; /* 1: usable and a model is set */
    double score;  /* model probability, NaN when !scored */
    int above;     /* score >= threshold */
    int alerted;   /* above and not within the pause of a previous alert */
} coce_detector_event;

typedef struct coce_detector coce_detector;

/* m may be NULL (no model yet: events still come, unscored); it is copied.
 * fcfg: features of every asset (the model's feature names must be those
 * of fcfg in order, and its chunk_ms, when non-zero, equal fcfg->chunk_ms:
 * else COCE_EMISMATCH). n_assets >= 1 (asset ids 0..n_assets-1); per-asset
 * feature state is allocated on an asset's first trade. pause_ms >= 0.
 * COCE_EINVAL on a bad argument or cfg, COCE_ENOMEM. Uses
 * COCE_PREPARE_DEFAULT. */
int coce_detector_new(const coce_pump_model *m, const coce_features_cfg *fcfg,
                      size_t n_assets, int64_t pause_ms, coce_detector **out,
                      coce_err *err);

/* Pushes one trade (t->asset < n_assets; time order per asset as
 * coce_features_push requires). When the trade closes a non-empty buy chunk
 * of its asset, *out gets that chunk's event and *emitted = 1 (decision_ms =
 * t->time_ms), else *emitted = 0. Errors from coce_features_push
 * (COCE_EORDER, COCE_EINVAL: state unchanged), COCE_ENOMEM. */
int coce_detector_push(coce_detector *d, const coce_trade *t,
                       coce_detector_event *out, int *emitted, coce_err *err);

/* Clock of one asset: closes its open chunk if now_ms >= the chunk's end
 * (coce_features_advance), with decision_ms = now_ms: the end of a stream
 * (`coce features` closes each file's last chunk so) or a live timer. An
 * asset without any trade yet emits nothing. Same event semantics as _push. */
int coce_detector_advance(coce_detector *d, coce_asset_id asset,
                          int64_t now_ms, coce_detector_event *out,
                          int *emitted, coce_err *err);

/* Replaces the model (walk-forward refits); NULL removes it. The pause
 * state is kept. COCE_EMISMATCH as in _new (the old model stays). */
int coce_detector_set_model(coce_detector *d, const coce_pump_model *m,
                            coce_err *err);

/* The model in use, NULL when none. */
const coce_pump_model *coce_detector_model(const coce_detector *d);

/* Forgets the features and pauses of every asset (a new, unrelated stream);
 * keeps the model. */
void coce_detector_reset(coce_detector *d);

/* Feature names of the detector's features cfg (count via *n). */
const char *const *coce_detector_names(const coce_detector *d, size_t *n);

/* NULL is a no-op. */
void coce_detector_free(coce_detector *d);

#endif
