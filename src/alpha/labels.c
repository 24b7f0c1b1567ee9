#include "alpha/labels.h"

int coce_label_chunk(int64_t chunk_start, int64_t chunk_ms,
                     const int64_t *onsets, size_t n_onsets)
{
    /* Binary search for the first onset >= chunk_start - AFTER. */
    int64_t lo_time = chunk_start - COCE_LABEL_AFTER_MS - chunk_ms;
    size_t lo = 0, hi = n_onsets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (onsets[mid] < lo_time)
            lo = mid + 1;
        else
            hi = mid;
    }
    int label = COCE_LABEL_NEG;
    for (size_t i = lo; i < n_onsets; ++i) {
        int64_t onset = onsets[i];
        if (onset > chunk_start + chunk_ms + COCE_LABEL_BEFORE_MS)
            break;
        if (onset >= chunk_start && onset < chunk_start + chunk_ms)
            return COCE_LABEL_POS;
        /* the chunk overlaps [onset - before, onset + after] */
        if (chunk_start + chunk_ms > onset - COCE_LABEL_BEFORE_MS &&
            chunk_start <= onset + COCE_LABEL_AFTER_MS)
            label = COCE_LABEL_SKIP;
    }
    return label;
}
