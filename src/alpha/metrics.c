#include "alpha/metrics.h"

#include "utils/error.h"
#include "utils/rng.h"

#include <math.h>

void coce_metrics_confusion(const double *score, const uint8_t *y, size_t n,
                            double threshold, coce_confusion *out)
{
    coce_confusion c = {0, 0, 0, 0};
    for (size_t i = 0; i < n; ++i) {
        int pred = score[i] >= threshold;
        if (y[i])
            pred ? ++c.tp : ++c.fn;
        else
            pred ? ++c.fp : ++c.tn;
    }
    *out = c;
}

double coce_metrics_precision(const coce_confusion *c)
{
    size_t den = c->tp + c->fp;
    return den == 0 ? 0.0 : (double)c->tp / (double)den;
}

double coce_metrics_recall(const coce_confusion *c)
{
    size_t den = c->tp + c->fn;
    return den == 0 ? 0.0 : (double)c->tp / (double)den;
}

double coce_metrics_f1(const coce_confusion *c)
{
    /* Same operations as sklearn's fbeta with beta = 1, so results agree to
     * the last bit rather than through 2tp / (2tp + fp + fn). */
    double p = coce_metrics_precision(c);
    double r = coce_metrics_recall(c);
    double den = p + r;
    return den == 0.0 ? 0.0 : 2.0 * p * r / den;
}

/* Heapsort of idx by score, descending (Williams 1964; Knuth, TAOCP vol. 3,
 * sec. 5.2.3, Algorithm H): O(n log n), in place, no recursion. Order among
 * equal scores is irrelevant: every caller processes a tie as one group. */
static int before(const double *score, size_t a, size_t b)
{
    return score[a] > score[b];
}

static void sift_down(const double *score, size_t *idx, size_t root, size_t end)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= end)
            return;
        /* min-heap on the score so that the sorted array is descending */
        if (child + 1 < end && before(score, idx[child], idx[child + 1]))
            ++child;
        if (!before(score, idx[root], idx[child]))
            return;
        size_t t = idx[root];
        idx[root] = idx[child];
        idx[child] = t;
        root = child;
    }
}

static void sort_desc(const double *score, size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        idx[i] = i;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(score, idx, i, n);
    for (size_t end = n; end-- > 1;) {
        size_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift_down(score, idx, 0, end);
    }
}

/* Validates, sorts and counts the classes. */
static int prepare(const double *score, const uint8_t *y, size_t n,
                   const void *out, size_t *idx, size_t *pos)
{
    if (score == NULL || y == NULL || out == NULL || idx == NULL || n == 0)
        return COCE_EINVAL;
    size_t p = 0;
    for (size_t i = 0; i < n; ++i) {
        if (y[i] > 1 || isnan(score[i]))
            return COCE_EINVAL;
        p += y[i];
    }
    sort_desc(score, idx, n);
    *pos = p;
    return COCE_OK;
}

/* Advances over the group of equal scores starting at sorted position *k,
 * adding its positives and negatives to *tp and *fp. */
static void next_group(const double *score, const uint8_t *y, size_t n,
                       const size_t *idx, size_t *k, size_t *tp, size_t *fp)
{
    double s = score[idx[*k]];
    while (*k < n && score[idx[*k]] == s) {
        if (y[idx[*k]])
            ++*tp;
        else
            ++*fp;
        ++*k;
    }
}

int coce_metrics_roc_auc(const double *score, const uint8_t *y, size_t n,
                         double *auc, size_t *work_idx)
{
    size_t pos;
    int rc = prepare(score, y, n, auc, work_idx, &pos);
    if (rc != COCE_OK)
        return rc;
    if (pos == 0 || pos == n)
        return COCE_EDATA;
    /* Twice the trapezoid area in count units: exact integers in double. */
    double area2 = 0.0;
    size_t tp = 0, fp = 0, k = 0;
    while (k < n) {
        size_t tp0 = tp, fp0 = fp;
        next_group(score, y, n, work_idx, &k, &tp, &fp);
        area2 += (double)(fp - fp0) * (double)(tp + tp0);
    }
    *auc = area2 / (2.0 * (double)pos * (double)(n - pos));
    return COCE_OK;
}

int coce_metrics_average_precision(const double *score, const uint8_t *y,
                                   size_t n, double *ap, size_t *work_idx)
{
    size_t pos;
    int rc = prepare(score, y, n, ap, work_idx, &pos);
    if (rc != COCE_OK)
        return rc;
    if (pos == 0)
        return COCE_EDATA;
    double sum = 0.0;
    size_t tp = 0, fp = 0, k = 0;
    while (k < n) {
        size_t tp0 = tp;
        next_group(score, y, n, work_idx, &k, &tp, &fp);
        if (tp > tp0)
            sum += (double)(tp - tp0) / (double)pos *
                   ((double)tp / (double)(tp + fp));
    }
    *ap = sum;
    return COCE_OK;
}

int coce_metrics_best_f1_threshold(const double *score, const uint8_t *y,
                                   size_t n, double *threshold, double *f1,
                                   size_t *work_idx)
{
    size_t pos;
    if (f1 == NULL)
        return COCE_EINVAL;
    int rc = prepare(score, y, n, threshold, work_idx, &pos);
    if (rc != COCE_OK)
        return rc;
    if (pos == 0)
        return COCE_EDATA;
    /* F1 = 2tp / (2tp + fp + fn) = 2tp / (tp + fp + pos): compare the
     * fractions by cross-multiplication so exact ties stay ties. */
    double best_num = -1.0, best_den = 1.0;
    coce_confusion best = {0, 0, 0, 0};
    size_t tp = 0, fp = 0, k = 0;
    while (k < n) {
        double t = score[work_idx[k]];
        next_group(score, y, n, work_idx, &k, &tp, &fp);
        double num = 2.0 * (double)tp;
        double den = (double)(tp + fp + pos);
        /* strict: the first (highest) threshold keeps a tie */
        if (num * best_den > best_num * den) {
            best_num = num;
            best_den = den;
            *threshold = t;
            best.tp = tp;
            best.fp = fp;
            best.fn = pos - tp;
            best.tn = n - pos - fp;
        }
    }
    *f1 = coce_metrics_f1(&best);
    return COCE_OK;
}

#define MARK ((size_t)1 << (sizeof(size_t) * 8 - 1))

static void shuffle(coce_rng *rng, size_t *a, size_t len)
{
    /* Fisher-Yates (Knuth, TAOCP vol. 2, sec. 3.4.2, Algorithm P). */
    for (size_t i = len; i > 1; --i) {
        size_t j = (size_t)coce_rng_below(rng, (uint64_t)i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

int coce_metrics_stratified_kfold(const uint8_t *y, size_t n, size_t k,
                                  uint64_t seed, size_t *fold_of)
{
    if (y == NULL || fold_of == NULL || k < 2 || n >= MARK)
        return COCE_EINVAL;
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
        if (y[i] > 1)
            return COCE_EINVAL;
        pos += y[i];
    }
    if (pos < k || n - pos < k)
        return COCE_EDATA;
    /* fold_of first holds a permutation: positives' indices, then
     * negatives'. Sample fold_of[j] goes to fold j mod k. */
    size_t a = 0, b = pos;
    for (size_t i = 0; i < n; ++i)
        fold_of[y[i] ? a++ : b++] = i;
    coce_rng rng;
    coce_rng_init(&rng, seed);
    shuffle(&rng, fold_of, pos);
    shuffle(&rng, fold_of + pos, n - pos);
    /* Invert in place by following cycles (Knuth, TAOCP vol. 1, sec. 1.3.3,
     * inverting a permutation), writing fold numbers tagged with the top bit
     * so that finished entries are recognised. */
    for (size_t s = 0; s < n; ++s) {
        if (fold_of[s] & MARK)
            continue;
        size_t at = s;
        size_t sample = fold_of[s];
        for (;;) {
            size_t next = fold_of[sample];
            fold_of[sample] = MARK | (at % k);
            if (sample == s)
                break;
            at = sample;
            sample = next;
        }
    }
    for (size_t i = 0; i < n; ++i)
        fold_of[i] &= ~MARK;
    return COCE_OK;
}
