/* Labels of feature rows from a list of known pump onsets.
 *
 * Rule (stated for issue 4): the chunk that contains the onset is positive;
 * the other chunks within [onset - before_ms, onset + after_ms] are
 * "ambiguous" (a pre-pump or the pump in progress: neither a clean positive
 * nor a clean negative) and are left out of training and of chunk-level
 * scores; every other chunk is negative. */
#ifndef COCE_ALPHA_LABELS_H
#define COCE_ALPHA_LABELS_H

#include <stddef.h>
#include <stdint.h>

enum { COCE_LABEL_NEG = 0, COCE_LABEL_POS = 1, COCE_LABEL_SKIP = 2 };

#define COCE_LABEL_BEFORE_MS (5 * 60 * 1000)
#define COCE_LABEL_AFTER_MS (15 * 60 * 1000)

/* Label of the chunk [chunk_start, chunk_start + chunk_ms) given the sorted
 * onsets (ms) of pumps of the same asset. */
int coce_label_chunk(int64_t chunk_start, int64_t chunk_ms,
                     const int64_t *onsets, size_t n_onsets);

#endif
