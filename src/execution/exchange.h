/* The exchange interface: one small vtable the engine uses in every mode
 * (paper, Binance, Deribit).
 *
 * Orders are identified by the caller's client id (coce_order_intent
 * .client_id), never by a venue id: the journal records the intent before it
 * is sent, so after a crash the engine asks the venue about that client id
 * (query_by_client_id) to learn whether it arrived. Executions come back as
 * coce_fill records carrying the same client id.
 *
 * Conventions for every adapter:
 * - Each function takes `impl` first and a `coce_err *err` (may be NULL)
 *   last, returns COCE_OK or a negative status from utils/error.h:
 *   COCE_EEXIST for a client id already used, COCE_ENOTFOUND for an unknown
 *   client id, COCE_EEXCHANGE when the venue refuses (e.g. below minimum
 *   size, order already closed), COCE_EUNKNOWN when the outcome of a request
 *   is unknown (timeout after sending: query before retrying), COCE_ERANGE
 *   when a caller buffer is too small (then *n holds the number needed and
 *   the first `cap` entries are written).
 * - Times are int64_t ms since the epoch (UTC). `now_ms` is the engine's
 *   clock (simulated or wall); live adapters may use it for logging only.
 * - Fills produced synchronously by `place` (a venue answering a market
 *   order with its executions) are returned there; fills that arrive later
 *   are drained with `poll_fills`. The paper exchange produces fills only as
 *   market trades arrive (coce_paper_on_trade), so its place and poll_fills
 *   return none.
 * - Outputs never alias inputs. */
#ifndef COCE_EXECUTION_EXCHANGE_H
#define COCE_EXECUTION_EXCHANGE_H

#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

/* Balance entry of the account's quote / settlement currency. */
#define COCE_ASSET_QUOTE ((coce_asset_id)UINT32_MAX)

typedef enum coce_exec_status {
    COCE_EXEC_PENDING = 0, /* sent, not yet active (latency) */
    COCE_EXEC_OPEN,        /* active, nothing filled */
    COCE_EXEC_PARTIAL,     /* active, partly filled */
    COCE_EXEC_FILLED,      /* terminal */
    COCE_EXEC_CANCELED,    /* terminal (may be partly filled) */
    COCE_EXEC_REJECTED     /* terminal */
} coce_exec_status;

/* "pending", "open", "partial", "filled", "canceled", "rejected". */
static inline const char *coce_exec_status_name(coce_exec_status status)
{
    switch (status) {
    case COCE_EXEC_PENDING:
        return "pending";
    case COCE_EXEC_OPEN:
        return "open";
    case COCE_EXEC_PARTIAL:
        return "partial";
    case COCE_EXEC_FILLED:
        return "filled";
    case COCE_EXEC_CANCELED:
        return "canceled";
    case COCE_EXEC_REJECTED:
        return "rejected";
    }
    return "?";
}

/* Non-zero for FILLED, CANCELED, REJECTED. */
static inline int coce_exec_status_terminal(coce_exec_status status)
{
    return status == COCE_EXEC_FILLED || status == COCE_EXEC_CANCELED ||
           status == COCE_EXEC_REJECTED;
}

typedef struct coce_order_state {
    coce_order_intent intent; /* as placed */
    coce_exec_status status;
    double filled_qty;  /* base units */
    double avg_price;   /* volume-weighted over fills; 0 before any fill */
    double fees;        /* quote, summed over fills */
    int64_t placed_ms;  /* when the venue received it */
    int64_t active_ms;  /* when it could first execute */
    int64_t updated_ms; /* last fill, cancel or placement */
} coce_order_state;

/* One asset's balance; asset == COCE_ASSET_QUOTE for the quote currency.
 * Adapters map venue coins to asset ids at the edge. */
typedef struct coce_balance {
    coce_asset_id asset;
    double total;  /* base units (quote for COCE_ASSET_QUOTE); may be < 0 */
    double locked; /* held by open orders */
} coce_balance;

/* Venue trading rules; 0 means "no constraint". */
typedef struct coce_instrument_rules {
    coce_asset_id asset;
    double tick_size;    /* price increment */
    double lot_size;     /* quantity increment */
    double min_qty;      /* base units */
    double min_notional; /* quote */
} coce_instrument_rules;

typedef struct coce_exchange {
    const char *name; /* "paper", "binance", "deribit" */
    void *impl;
    /* Places intent at now_ms. Synchronous executions go to fills[0..cap)
     * (*n_fills set; fills may be NULL when cap == 0). */
    int (*place)(void *impl, const coce_order_intent *intent, int64_t now_ms,
                 coce_fill *fills, size_t cap, size_t *n_fills, coce_err *err);
    int (*cancel)(void *impl, const char *client_id, int64_t now_ms,
                  coce_err *err);
    int (*query_by_client_id)(void *impl, const char *client_id,
                              coce_order_state *out, coce_err *err);
    /* Orders not yet terminal, oldest first. */
    int (*open_orders)(void *impl, coce_order_state *out, size_t cap, size_t *n,
                       coce_err *err);
    int (*balances)(void *impl, coce_balance *out, size_t cap, size_t *n,
                    coce_err *err);
    int (*instrument_rules)(void *impl, coce_asset_id asset,
                            coce_instrument_rules *out, coce_err *err);
    /* Executions reported since the last call (asynchronous venues); when
     * *n_fills == cap more may remain: call again. */
    int (*poll_fills)(void *impl, coce_fill *fills, size_t cap, size_t *n_fills,
                      coce_err *err);
} coce_exchange;

#endif
