/* Adapter bookkeeping shared by binance.c and deribit.c; contracts in
 * venue_common.h. */
#include "execution/venue_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int coce__venue_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return COCE_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return COCE_ENOMEM;
    *p = q;
    *cap = nc;
    return COCE_OK;
}

int coce__venue_fills_push(coce__venue_fills *q, const coce_fill *f)
{
    if (coce__venue_grow((void **)&q->fill, &q->cap, q->n + 1, sizeof *f) !=
        COCE_OK)
        return COCE_ENOMEM;
    q->fill[q->n++] = *f;
    return COCE_OK;
}

size_t coce__venue_fills_take(coce__venue_fills *q, coce_fill *out, size_t cap)
{
    size_t k = q->n < cap ? q->n : cap;
    if (k > 0) {
        memcpy(out, q->fill, k * sizeof *out);
        memmove(q->fill, q->fill + k, (q->n - k) * sizeof *out);
        q->n -= k;
    }
    return k;
}

void coce__venue_fills_free(coce__venue_fills *q)
{
    free(q->fill);
    q->fill = NULL;
    q->n = q->cap = 0;
}

int coce__venue_check_place(const char *venue, const void *impl,
                            const coce_order_intent *in, const coce_fill *fills,
                            size_t cap, size_t *n_fills, const char *qty_word,
                            coce_err *err)
{
    if (n_fills)
        *n_fills = 0;
    if (!impl || !in || !n_fills || (cap > 0 && !fills))
        return coce_err_set(err, COCE_EINVAL, "%s: place: NULL argument",
                            venue);
    if (in->side != COCE_SIDE_BUY && in->side != COCE_SIDE_SELL)
        return coce_err_set(err, COCE_EINVAL, "%s: order %.40s: bad side",
                            venue, in->client_id);
    if (!isfinite(in->qty) || !(in->qty > 0.0) ||
        (in->type == COCE_ORDER_LIMIT &&
         (!isfinite(in->limit_price) || !(in->limit_price > 0.0))))
        return coce_err_set(err, COCE_EINVAL,
                            "%s: order %.40s: %s and limit price must be "
                            "finite and > 0",
                            venue, in->client_id, qty_word);
    return COCE_OK;
}

void coce__venue_sort_by_placed(coce_order_state *s, size_t n)
{
    for (size_t a = 1; a < n; a++) {
        coce_order_state t = s[a];
        size_t c = a;
        while (c > 0 && s[c - 1].placed_ms > t.placed_ms) {
            s[c] = s[c - 1];
            c--;
        }
        s[c] = t;
    }
}
