/* The pump-and-dump detector as the engine uses it: standardisation (as
 * scikit-learn's StandardScaler), an L2 class-weighted logistic regression
 * (alpha/logreg.h) and a decision threshold, with a versioned JSON file
 * (models/<name>.json).
 *
 * Model after La Morgia, Mei, Sassi & Stefa, "Pump and dumps in the Bitcoin
 * era: real time detection of cryptocurrency market manipulations", ICCCN
 * 2020: per-chunk features, a classifier trained on labelled pumps, and the
 * alert threshold chosen on the precision-recall trade-off. */
#ifndef COCE_ALPHA_PUMP_MODEL_H
#define COCE_ALPHA_PUMP_MODEL_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

#define COCE_PUMP_MODEL_MAX_FEATURES 64
#define COCE_PUMP_MODEL_NAME_MAX 40 /* bytes per feature name, with NUL */
#define COCE_PUMP_MODEL_SCHEMA_VERSION 1

typedef struct coce_pump_model {
    int schema_version; /* COCE_PUMP_MODEL_SCHEMA_VERSION */
    char version[32];   /* "coce-<version>" of the software that trained */
    size_t n_features;  /* 1..COCE_PUMP_MODEL_MAX_FEATURES */
    char names[COCE_PUMP_MODEL_MAX_FEATURES][COCE_PUMP_MODEL_NAME_MAX];
    double mean[COCE_PUMP_MODEL_MAX_FEATURES];  /* scaler: training mean */
    double scale[COCE_PUMP_MODEL_MAX_FEATURES]; /* population std, > 0 */
    double coef[COCE_PUMP_MODEL_MAX_FEATURES];  /* on standardised features */
    double intercept;
    double threshold; /* alert when probability >= threshold */
    int64_t chunk_ms; /* feature window the model was trained on */
    double C;
    double weight_pos; /* class weights actually used (balanced resolved) */
    double weight_neg;
    char trained_at[32];
    char data_hash[65]; /* SHA-256 hex of the training data, or "" */
    char notes[256];
} coce_pump_model;

typedef struct coce_pump_train_opts {
    double C;               /* > 0 */
    int balanced;           /* class_weight="balanced": w_c = n / (2 n_c) */
    double weight_pos;      /* when !balanced: positive weight (negative 1) */
    int64_t chunk_ms;       /* recorded, >= 0 */
    const char *data_hash;  /* recorded; NULL -> "" (<= 64 chars) */
    const char *trained_at; /* recorded; NULL -> "" (< 32 chars) */
} coce_pump_train_opts;

/* Trains on n raw rows X (row-major n x d) with labels y (0/1) and feature
 * names (d entries, distinct, non-empty, < COCE_PUMP_MODEL_NAME_MAX bytes).
 *
 * Standardises with the training mean and population standard deviation
 * (StandardScaler; a column sklearn deems constant, var <= n eps var +
 * (n eps mean)^2, gets scale 1), fits coce_logreg_fit (tol 1e-10, max_iter
 * 10000), then sets the threshold to the training probability maximising F1
 * (coce_metrics_best_f1_threshold: ties go to the highest threshold). The
 * threshold is in-sample: choose it on held-out folds
 * (coce_metrics_stratified_kfold) for an honest estimate.
 *
 * A row with a NaN/inf value is refused (COCE_EINVAL naming row, column and
 * feature): filter before calling. COCE_EDATA when a class is absent;
 * COCE_ECONVERGE if the solver does not converge; COCE_ENOMEM. Allocates its
 * own O(n d) workspace. *out is written only on success. */
int coce_pump_model_train(const double *X, const uint8_t *y, size_t n, size_t d,
                          const char *const *names,
                          const coce_pump_train_opts *opts,
                          coce_pump_model *out, coce_err *err);

/* Probability in [0, 1] of a pump from raw (unstandardised) features x
 * (n_features entries, in the model's order). NaN if x holds a NaN. */
double coce_pump_model_score(const coce_pump_model *m, const double *x);

/* 1 when the score is >= the threshold, else 0 (also for a NaN score: a
 * non-finite input never alerts). *score (may be NULL) gets the score. */
int coce_pump_model_alert(const coce_pump_model *m, const double *x,
                          double *score);

/* Writes the model as JSON (schema in pump_model.c), doubles with 17
 * significant digits so a load gives back the same bits, atomically
 * (coce_fs_write_atomic). COCE_EINVAL for a model that would not load back
 * (non-finite values, bad sizes). */
int coce_pump_model_save(const coce_pump_model *m, const char *path,
                         coce_err *err);

/* Reads and checks every field. COCE_ENOTFOUND / COCE_EIO (from
 * coce_fs_read_all), COCE_EPARSE (bad
 * JSON, or a missing/mistyped/out-of-range field: the message names the
 * file and field), COCE_EMISMATCH (unknown schema_version), COCE_ERANGE
 * (more than COCE_PUMP_MODEL_MAX_FEATURES features). *out is written only on
 * success. */
int coce_pump_model_load(const char *path, coce_pump_model *out, coce_err *err);

/* COCE_OK when names (n entries) equal the model's features in order;
 * otherwise COCE_EMISMATCH naming the first differing position and names
 * (or the count difference). */
int coce_pump_model_check_features(const coce_pump_model *m,
                                   const char *const *names, size_t n,
                                   coce_err *err);

#endif
