/* Deribit options adapter behind the exchange interface (exchange.h),
 * speaking JSON-RPC 2.0 over HTTP.
 *
 * Sources: the Deribit API v2.1.1 documentation (docs.deribit.com; the
 * sections "JSON-RPC" (request/response messages, error object),
 * "Authentication" (HTTP: "Authorization: bearer <token>"), "RPC Error
 * Codes", and the method pages public/auth, public/get_instruments,
 * public/ticker, public/get_order_book, public/get_book_summary_by_currency,
 * private/buy, private/sell, private/cancel, private/get_order_state_by_label,
 * private/get_open_orders_by_currency, private/get_positions,
 * private/get_account_summary).
 *
 * Transport: every call is `POST <base_url>/api/v2/<method>` with the
 * JSON-RPC request object as body (Deribit accepts GET with query
 * parameters and POST; POST keeps client_secret and tokens out of URLs and
 * proxy logs). Private methods carry `Authorization: Bearer <access_token>`.
 *
 * Authentication: public/auth with grant_type=client_credentials gives
 * access_token, refresh_token and expires_in (seconds). The adapter renews
 * the token with grant_type=refresh_token once less than refresh_margin_ms
 * of its lifetime is left (so a private call never goes out with a token
 * about to expire), falls back to client_credentials when the refresh is
 * refused, and re-authenticates once and repeats the call when a private
 * call is answered 13009 "unauthorized" (an error answer means the call was
 * not executed, so repeating it cannot duplicate an order).
 *
 * Instruments: the caller registers, for each asset id it trades, a Deribit
 * instrument name (coce_deribit_register). The settlement currency used by
 * the *_by_currency / by_label methods is the name's first field ("BTC" in
 * "BTC-27JUN25-80000-C"; "USDC" in "SOL_USDC-..."). Order amounts are in
 * contracts (coin units for Deribit's coin options: contract_size 1);
 * prices and premiums in coin.
 *
 * What the adapter guarantees (fault matrix in docs/deribit.md):
 * - No duplicate order. Every order carries label = client id (Deribit's
 *   `label`, at most 64 characters, is how an order is found again). The
 *   venue does not refuse a reused label, so `place` first asks
 *   private/get_order_state_by_label and answers COCE_EEXIST when the label
 *   is already there. private/buy, private/sell and private/cancel are sent
 *   once and never retried; reads (public/..., private/get_...) and public/auth
 *   are retried with exponential backoff on a timeout, a dropped
 *   connection, HTTP 5xx, a malformed body or a transient Deribit error.
 * - `place` returns COCE_EUNKNOWN when the order may have reached the venue
 *   but its outcome is not known: timeout or connection dropped after the
 *   request was written, HTTP 5xx, an unreadable 200 answer, or error 11094
 *   internal_server_error / 13028 temporarily_unavailable. The adapter keeps
 *   the order tracked and never resends it; query_by_client_id (by label)
 *   settles it. COCE_ENET means the connection was never opened.
 * - Each order is sent with valid_until = venue time + valid_window_ms: the
 *   venue rejects it with 13888 timed_out instead of starting it later (the
 *   Deribit analogue of Binance's recvWindow). Until that deadline (plus
 *   1 s of clock slack) a label the venue does not show is COCE_EUNKNOWN
 *   ("not visible yet"), after it COCE_ENOTFOUND.
 * - Long only: a sell is refused before sending (COCE_EEXCHANGE, nothing
 *   sent) when its amount exceeds the position held (private/get_positions)
 *   minus what open sell orders of that instrument
 *   (private/get_open_orders_by_currency) and this handle's sells of unknown
 *   outcome could still sell. Sells also carry reduce_only=true, so the
 *   venue itself refuses to open a short.
 * - Rules are enforced before sending: the amount is rounded down to a
 *   multiple of min_trade_amount (and must be >= it), a limit price is
 *   rounded to the tick in force at that price (tick_size_steps; down for a
 *   buy, up for a sell), an inactive instrument is refused.
 * - Rate limits: after HTTP 429 or error 10028 too_many_requests (also
 *   10066, 10047) no request is sent for Retry-After seconds (no header:
 *   backoff_ms); reads wait in-process when that is at most max_wait_ms,
 *   anything else returns COCE_ERATELIMIT without contacting the venue.
 * - The client id and secret are copied, registered with
 *   coce_log_add_secret and wiped on free; they and the tokens never appear
 *   in a log line or an error message.
 *
 * Not thread-safe: one handle, one thread. Blocking (libcurl, nanosleep). */
#ifndef COCE_EXECUTION_DERIBIT_H
#define COCE_EXECUTION_DERIBIT_H

#include "execution/exchange.h"
#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

/* Deribit's label limit ("maximum 64 characters"); client ids are shorter
 * (COCE_CLIENT_ID_MAX). */
#define COCE_DERIBIT_NAME_MAX 64

typedef struct coce_deribit_opts {
    const char *base_url;      /* deribit.base_url (no trailing /) */
    const char *client_id;     /* DERIBIT_CLIENT_ID, read by the caller */
    const char *client_secret; /* DERIBIT_CLIENT_SECRET; copied */
    const char *currency;      /* balance reported as COCE_ASSET_QUOTE
                                  (default "BTC"); deribit.currency */
    int64_t timeout_ms;        /* > 0; whole request; deribit.timeout_ms */
    int read_retries;          /* extra attempts of a read (default 3) */
    int64_t backoff_ms;        /* first retry wait, doubled (default 250) */
    int64_t max_wait_ms;       /* longest in-process wait (default 5000) */
    int64_t refresh_margin_ms; /* renew the token when less is left
                                  (default 60000) */
    int64_t valid_window_ms;   /* valid_until of orders (default 5000) */
} coce_deribit_opts;

typedef struct coce_deribit coce_deribit;

typedef struct coce_deribit_stats {
    uint64_t requests;        /* HTTP requests sent */
    uint64_t retries;         /* of which retries of reads */
    uint64_t rate_limited;    /* 429 / 10028 answers */
    uint64_t auths;           /* client_credentials grants */
    uint64_t refreshes;       /* refresh_token grants */
    int64_t token_expiry_ms;  /* local ms the token expires; 0 none */
    int64_t time_offset_ms;   /* venue clock - local clock (usOut) */
    int64_t blocked_until_ms; /* local ms; no request before (0 none) */
} coce_deribit_stats;

/* Top of an order book (public/get_order_book). Prices in coin; a side
 * without orders has price 0 and amount 0. */
typedef struct coce_deribit_book {
    char instrument[COCE_DERIBIT_NAME_MAX];
    int64_t timestamp_ms;
    double best_bid, best_bid_amount;
    double best_ask, best_ask_amount;
    double mark_price, index_price, underlying_price;
    size_t n_bids, n_asks; /* levels in the answer */
} coce_deribit_book;

void coce_deribit_opts_default(coce_deribit_opts *opts);

/* Checks opts (COCE_EINVAL naming the field; COCE_ESECRET when a credential
 * is missing), copies and registers the credentials. No network traffic.
 * COCE_ENOMEM. */
int coce_deribit_new(const coce_deribit_opts *opts, coce_deribit **out,
                     coce_err *err);
void coce_deribit_free(coce_deribit *d);

/* Maps asset to a Deribit instrument name. Re-registering the same pair
 * changes nothing; another name for a registered asset (or the same name
 * for another asset) is COCE_EEXIST. COCE_EINVAL for an empty/long name or
 * COCE_ASSET_QUOTE. */
int coce_deribit_register(coce_deribit *d, coce_asset_id asset,
                          const char *instrument, coce_err *err);

/* public/auth (client_credentials) now; normally automatic. */
int coce_deribit_authenticate(coce_deribit *d, coce_err *err);

/* Remembers a journalled unfinished intent (after a restart) so that
 * query_by_client_id, cancel and poll_fills can address it: sent_ms is the
 * local wall time it was sent (0: long ago, a missing label is then
 * COCE_ENOTFOUND at once), filled the amount already journalled as filled
 * (not reported again by poll_fills). Re-tracking changes nothing.
 * COCE_EINVAL for a bad client id, unregistered asset or filled. */
int coce_deribit_track(coce_deribit *d, const coce_order_intent *intent,
                       int64_t sent_ms, double filled, coce_err *err);

/* Market data. Each stores in *json the `result` member of the answer as
 * compact JSON text (malloc'd; the caller frees it): parse instruments with
 * coce_instruments_parse and a ticker with coce_ticker_parse
 * (options/instruments.h). kind may be NULL (all kinds). */
int coce_deribit_get_instruments(coce_deribit *d, const char *currency,
                                 const char *kind, char **json, coce_err *err);
int coce_deribit_ticker(coce_deribit *d, const char *instrument, char **json,
                        coce_err *err);
int coce_deribit_book_summary(coce_deribit *d, const char *currency,
                              const char *kind, char **json, coce_err *err);
/* depth: 1..10000 levels (Deribit accepts 1, 5, 10, 20, 50, 100, 1000,
 * 10000). */
int coce_deribit_order_book(coce_deribit *d, const char *instrument, int depth,
                            coce_deribit_book *out, coce_err *err);

/* Position (private/get_positions, kind option) of asset's instrument in
 * contracts; 0 when flat. */
int coce_deribit_position(coce_deribit *d, coce_asset_id asset, double *size,
                          coce_err *err);

void coce_deribit_get_stats(const coce_deribit *d, coce_deribit_stats *out);

/* The vtable view (name "deribit"); valid while d lives. */
coce_exchange coce_deribit_exchange(coce_deribit *d);

#endif
