/* Evaluation metrics of a binary scorer, matching scikit-learn 1.2
 * (confusion_matrix, precision/recall/f1_score with zero_division=0,
 * roc_auc_score, average_precision_score), and stratified k-fold splits.
 *
 * Pure functions: no allocation, no global state. Scores are "higher means
 * more positive"; labels y are 0/1. Ranking functions sort a caller-provided
 * index buffer work_idx (n entries, not aliasing the inputs); score and y
 * are never modified. Counts are exact in double up to n ~ 9e7. */
#ifndef COCE_ALPHA_METRICS_H
#define COCE_ALPHA_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct coce_confusion {
    size_t tp, fp, tn, fn;
} coce_confusion;

/* Predicted positive when score >= threshold (a NaN score predicts
 * negative). y values other than 0 count as positive. */
void coce_metrics_confusion(const double *score, const uint8_t *y, size_t n,
                            double threshold, coce_confusion *out);

/* tp / (tp + fp); 0 when no positive is predicted (zero_division=0). */
double coce_metrics_precision(const coce_confusion *c);
/* tp / (tp + fn); 0 when there is no positive. */
double coce_metrics_recall(const coce_confusion *c);
/* 2PR / (P + R) as sklearn computes it; 0 when P + R == 0. */
double coce_metrics_f1(const coce_confusion *c);

/* Area under the ROC curve; tied scores form one step of the curve (the
 * trapezoid), as sklearn's roc_curve, i.e. a tie between a positive and a
 * negative counts 1/2 (Mann-Whitney U). COCE_EINVAL on NULL, n == 0, y not
 * 0/1 or a NaN score; COCE_EDATA when only one class is present. */
int coce_metrics_roc_auc(const double *score, const uint8_t *y, size_t n,
                         double *auc, size_t *work_idx);

/* sklearn's average_precision_score: sum over distinct thresholds t
 * (descending) of (R_t - R_prev) * P_t, without interpolation. COCE_EDATA
 * when there is no positive; errors otherwise as coce_metrics_roc_auc. */
int coce_metrics_average_precision(const double *score, const uint8_t *y,
                                   size_t n, double *ap, size_t *work_idx);

/* The threshold t among the distinct scores maximising F1 of the rule
 * "positive when score >= t" (the precision-recall trade-off point chosen as
 * in La Morgia et al., "Pump and dumps in the Bitcoin era", ICCCN 2020).
 * F1 values are compared exactly (as the rational 2tp / (2tp + fp + fn));
 * among equal F1 the HIGHEST threshold wins (fewest alerts). *f1 is the F1
 * at that threshold. COCE_EDATA when there is no positive (F1 is 0 for
 * every threshold); errors otherwise as coce_metrics_roc_auc. */
int coce_metrics_best_f1_threshold(const double *score, const uint8_t *y,
                                   size_t n, double *threshold, double *f1,
                                   size_t *work_idx);

/* Assigns each of the n samples a fold in [0, k): positives and negatives
 * are shuffled separately (Fisher-Yates with the seeded generator of
 * src/utils/rng.h) and dealt round-robin, negatives continuing where the
 * positives stopped, so every fold gets floor or ceil of P/k positives and of
 * N/k negatives, and fold sizes differ by at most one. Deterministic in
 * seed. COCE_EINVAL on NULL, k < 2 or y not 0/1; COCE_EDATA when a class has
 * fewer than k members (some fold would lack it). fold_of (n entries) is also
 * the working buffer. */
int coce_metrics_stratified_kfold(const uint8_t *y, size_t n, size_t k,
                                  uint64_t seed, size_t *fold_of);

#endif
