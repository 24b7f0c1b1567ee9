/* Binance spot REST adapter behind the exchange interface (exchange.h).
 *
 * Source: the Binance spot API documentation, rest-api.md and filters.md of
 * github.com/binance/binance-spot-api-docs ("SIGNED (TRADE and USER_DATA)
 * Endpoint security", "Timing security", "LIMITS", "HTTP Return Codes",
 * "New order (TRADE)", "Query order", "Cancel order", "Current open orders",
 * "Account information", "Filters"), and errors.md for the error codes.
 *
 * Endpoints: GET /api/v3/time, GET /api/v3/exchangeInfo?symbol=,
 * GET /api/v3/avgPrice, POST /api/v3/order (newOrderRespType=FULL),
 * GET /api/v3/order (origClientOrderId), DELETE /api/v3/order,
 * GET /api/v3/openOrders, GET /api/v3/account.
 *
 * What the adapter guarantees (the fault matrix is in docs/execution.md):
 * - It never sends an order twice: `place` makes exactly one POST attempt.
 *   Safe requests (every GET) are retried with exponential backoff on a
 *   timeout, a dropped connection, HTTP 5xx or a malformed body; POST and
 *   DELETE never are.
 * - `place` returns COCE_EUNKNOWN when the order may have reached the venue
 *   but its outcome is not known: timeout or connection dropped after the
 *   request was written, HTTP 5xx (the docs: "the execution status is
 *   UNKNOWN and could have been a success"), error -1006/-1007, or an
 *   unreadable 200 body. The caller must then settle it with
 *   query_by_client_id before anything else. COCE_ENET means the connection
 *   could not even be opened (nothing was sent); COCE_ERATELIMIT and every
 *   other error mean the venue did not take the order.
 * - query_by_client_id answers COCE_ENOTFOUND only when the order cannot
 *   arrive any more: a request signed with timestamp T is refused by the
 *   venue after T + recvWindow ("Timing security"), so until then (plus
 *   1 s of clock slack) a missing order is COCE_EUNKNOWN, not ENOTFOUND.
 * - Rate limits: after HTTP 429/418 no request is sent before Retry-After
 *   seconds have passed (no Retry-After: backoff_ms); a safe request waits
 *   in-process when the wait is at most max_wait_ms, anything else returns
 *   COCE_ERATELIMIT at once without contacting the venue. When
 *   X-MBX-USED-WEIGHT-1M reaches weight_limit_1m, requests pause until the
 *   next server minute the same way.
 * - Filters are enforced before sending: the quantity is rounded DOWN to
 *   LOT_SIZE stepSize, a limit price to PRICE_FILTER tickSize (down for a
 *   buy, up for a sell: never a worse limit than asked), then minQty/maxQty,
 *   minPrice/maxPrice and NOTIONAL/MIN_NOTIONAL are checked (market orders
 *   against GET /api/v3/avgPrice when the filter applies to them); a
 *   violation is COCE_EEXCHANGE naming the filter, and nothing is sent.
 * - Credentials are copied, registered with coce_log_add_secret, never
 *   written to a log line or an error message, and wiped on free.
 *
 * Assets: the base asset of asset id `a` is coce_symbols_name(symbols, a);
 * its symbol is that name followed by quote_asset ("ADX" + "USDT").
 * Binance needs the symbol to query an order, so the adapter remembers the
 * symbol of each order it places; after a restart call coce_binance_track
 * for every journalled unfinished intent before querying it.
 *
 * Fills: `place` returns the fills of the FULL response (fees converted to
 * the quote asset when charged in base or quote; fees in a third asset such
 * as BNB are reported as 0 and logged). Later executions of tracked orders
 * are found by poll_fills, which queries each tracked unfinished order and
 * reports the executed quantity since the last report as one fill at the
 * average price of that increment (GET /api/v3/order carries no fee: 0).
 *
 * Not thread-safe: one handle, one thread. Blocking (libcurl, nanosleep). */
#ifndef COCE_EXECUTION_BINANCE_H
#define COCE_EXECUTION_BINANCE_H

#include "execution/exchange.h"
#include "utils/error.h"
#include "utils/symbols.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_binance_opts {
    const char *base_url;        /* cfg exchange.base_url (no trailing /) */
    const char *api_key;         /* from the environment; copied */
    const char *api_secret;      /* from the environment; copied */
    const char *quote_asset;     /* e.g. "USDT" (default) */
    const coce_symbols *symbols; /* asset ids; must outlive the handle */
    int64_t recv_window_ms;      /* (0, 60000]; exchange.recv_window_ms */
    int64_t timeout_ms;          /* > 0; whole request; exchange.timeout_ms */
    int get_retries;             /* extra attempts of a GET (default 3) */
    int64_t backoff_ms;          /* first retry wait, doubled (default 250) */
    int64_t max_wait_ms;         /* longest in-process wait (default 5000) */
    int64_t weight_limit_1m;     /* REQUEST_WEIGHT per minute (default 6000;
                                    0 disables the used-weight pause) */
} coce_binance_opts;

typedef struct coce_binance coce_binance;

typedef struct coce_binance_stats {
    int64_t used_weight_1m;   /* last X-MBX-USED-WEIGHT-1M; -1 unseen */
    int64_t order_count_10s;  /* last X-MBX-ORDER-COUNT-10S; -1 unseen */
    int64_t order_count_1d;   /* last X-MBX-ORDER-COUNT-1D; -1 unseen */
    int64_t time_offset_ms;   /* server clock - local clock */
    int64_t blocked_until_ms; /* local ms; no request before (0: none) */
    uint64_t requests;        /* HTTP requests sent */
    uint64_t retries;         /* of which retries of safe requests */
    uint64_t rate_limited;    /* 429/418 answers received */
} coce_binance_stats;

typedef enum coce_binance_round {
    COCE_BINANCE_ROUND_DOWN = 0,
    COCE_BINANCE_ROUND_UP = 1
} coce_binance_round;

void coce_binance_opts_default(coce_binance_opts *opts);

/* Checks opts (COCE_EINVAL naming the field; COCE_ESECRET when a key is
 * missing), copies the credentials and registers them as log secrets. No
 * network traffic. COCE_ENOMEM. */
int coce_binance_new(const coce_binance_opts *opts, coce_binance **out,
                     coce_err *err);
void coce_binance_free(coce_binance *b);

/* GET /api/v3/time; sets the offset used for `timestamp` to serverTime minus
 * the midpoint of the local request interval. Done automatically before
 * the first signed request and after a -1021 answer. */
int coce_binance_sync_time(coce_binance *b, coce_err *err);

/* Remembers intent (its client id, asset and side) so that
 * query_by_client_id, cancel and poll_fills can address it (after a
 * restart: every unfinished journalled intent). sent_ms is the local wall
 * time (ms) at which it was sent, 0 if unknown or long ago (then a missing
 * order is reported as COCE_ENOTFOUND at once); filled is the quantity
 * already journalled as filled, which poll_fills will not report again.
 * Re-tracking a tracked id changes nothing. COCE_EINVAL on a bad client id,
 * asset or filled. */
int coce_binance_track(coce_binance *b, const coce_order_intent *intent,
                       int64_t sent_ms, double filled, coce_err *err);

/* Lower-case hex HMAC-SHA256 of payload under secret (the SIGNED endpoint
 * signature); out gets 64 characters and a NUL. */
int coce_binance_sign(const char *secret, const char *payload, char out[65]);

/* value rounded to a multiple of step (step 0: unrounded) in direction
 * `mode`, printed in plain decimal with `decimals` fraction digits
 * (0..16; -1: as many as step has, 8 when step is 0), trailing zeros kept.
 * COCE_EINVAL on a negative or non-finite value, COCE_ERANGE when out_len
 * is too small. */
int coce_binance_format_decimal(double value, double step, int decimals,
                                coce_binance_round mode, char *out,
                                size_t out_len);

void coce_binance_get_stats(const coce_binance *b, coce_binance_stats *out);

/* The vtable view (name "binance"); valid while b lives. */
coce_exchange coce_binance_exchange(coce_binance *b);

#endif
