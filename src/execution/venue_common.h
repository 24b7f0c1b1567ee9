/* Internal (coce__venue_*): bookkeeping shared by the live exchange
 * adapters (binance.c, deribit.c): growing arrays, the queue of fills found
 * by a query but not yet handed to the caller, and the order of open
 * orders. Not part of the exchange interface (exchange.h). */
#ifndef COCE_EXECUTION_VENUE_COMMON_H
#define COCE_EXECUTION_VENUE_COMMON_H

#include "execution/exchange.h"
#include "utils/types.h"

#include <stddef.h>

/* Makes room for `need` elements of `elem` bytes in *p (capacity *cap,
 * doubled from 16). COCE_OK or COCE_ENOMEM (then *p and *cap unchanged). */
int coce__venue_grow(void **p, size_t *cap, size_t need, size_t elem);

/* Fills waiting for poll_fills, oldest first. Zero-initialise; release
 * with coce__venue_fills_free. */
typedef struct coce__venue_fills {
    coce_fill *fill;
    size_t n, cap;
} coce__venue_fills;

/* COCE_OK or COCE_ENOMEM (the fill is not queued). */
int coce__venue_fills_push(coce__venue_fills *q, const coce_fill *f);

/* Moves the oldest min(q->n, cap) fills to out[] and returns how many. */
size_t coce__venue_fills_take(coce__venue_fills *q, coce_fill *out, size_t cap);

void coce__venue_fills_free(coce__venue_fills *q);

/* The checks every adapter's place() makes before anything venue-specific:
 * *n_fills = 0 (when n_fills is not NULL), impl, in and n_fills present
 * (fills too when cap > 0), side buy or sell, quantity and (LIMIT) limit
 * price finite and > 0. COCE_OK or COCE_EINVAL with "<venue>: ..." in err;
 * qty_word names the quantity as the venue does ("qty", "amount"). */
int coce__venue_check_place(const char *venue, const void *impl,
                            const coce_order_intent *in, const coce_fill *fills,
                            size_t cap, size_t *n_fills, const char *qty_word,
                            coce_err *err);

/* Stable sort by placed_ms, oldest first (insertion sort: a venue lists a
 * handful of open orders). */
void coce__venue_sort_by_placed(coce_order_state *s, size_t n);

#endif
