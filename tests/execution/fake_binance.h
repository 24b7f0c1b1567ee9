/* A fake Binance spot REST venue on 127.0.0.1 for tests (libmicrohttpd,
 * one thread per connection). It speaks the subset of the API the adapter
 * uses (src/execution/binance.h) and checks what the real venue checks:
 * the X-MBX-APIKEY header, the HMAC-SHA256 signature over query string +
 * body, timestamp/recvWindow against its own clock (which can be offset),
 * and LOT_SIZE / PRICE_FILTER / NOTIONAL. Orders are kept per
 * newClientOrderId; a reused id is refused with -2010 "Duplicate order
 * sent." (stricter than Binance, which only refuses ids of open orders).
 * MARKET orders fill at once at the symbol's price with a 0.1 % commission
 * in the quote asset; LIMIT orders rest until coce_fake_binance_fill.
 *
 * Faults are armed for the next `count` requests matching a method and
 * path (NULL: any) and consumed as requests arrive.
 *
 * Not part of the library: compiled into the tests that use it. */
#ifndef COCE_TESTS_FAKE_BINANCE_H
#define COCE_TESTS_FAKE_BINANCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct coce_fake_binance coce_fake_binance;

typedef enum coce_fake_bn_fault {
    COCE_FAKE_BN_SLOW = 1,  /* sleep param ms, then answer normally */
    COCE_FAKE_BN_429,       /* 429 with Retry-After: param s (-1: none) */
    COCE_FAKE_BN_418,       /* 418 with Retry-After: param s */
    COCE_FAKE_BN_5XX,       /* 503; param 1: an order is accepted first */
    COCE_FAKE_BN_MALFORMED, /* 200 with truncated JSON (orders accepted) */
    COCE_FAKE_BN_DROP,      /* order accepted, connection closed unanswered */
    COCE_FAKE_BN_ERROR      /* 400 {"code":param,"msg":"injected"};
                               param 0: 403 HTML (WAF), 1: 404 HTML */
} coce_fake_bn_fault;

typedef struct coce_fake_bn_symbol {
    const char *symbol;                       /* "ADXUSDT" */
    const char *base;                         /* "ADX" */
    const char *quote;                        /* "USDT" */
    const char *status;                       /* "TRADING" (NULL) */
    const char *min_price, *max_price, *tick; /* PRICE_FILTER strings */
    const char *min_qty, *max_qty, *step;     /* LOT_SIZE strings */
    const char *min_notional;                 /* NOTIONAL (NULL: no filter) */
    int apply_min_to_market;
    const char *max_notional;     /* NOTIONAL maxNotional (NULL: 9e9) */
    int legacy_min_notional;      /* report it as MIN_NOTIONAL instead */
    const char *commission_asset; /* of market fills (NULL: quote); base:
                                     0.1 % of qty, other: 0.0001 flat */
    double price;                 /* market fills and avgPrice */
} coce_fake_bn_symbol;

typedef struct coce_fake_bn_order {
    char client_id[64];
    char symbol[32];
    int side; /* +1 buy, -1 sell */
    int market;
    double qty, price, executed, cum_quote;
    char status[24];
    int64_t order_id, time_ms, update_ms;
} coce_fake_bn_order;

/* Starts on an ephemeral port of 127.0.0.1. 0 or -1. */
int coce_fake_binance_start(const char *api_key, const char *secret,
                            coce_fake_binance **out);
void coce_fake_binance_stop(coce_fake_binance *f);
/* "http://127.0.0.1:PORT" */
const char *coce_fake_binance_url(const coce_fake_binance *f);

int coce_fake_binance_add_symbol(coce_fake_binance *f,
                                 const coce_fake_bn_symbol *s);
void coce_fake_binance_set_balance(coce_fake_binance *f, const char *asset,
                                   double free_, double locked);
/* The venue's clock is the local clock + offset_ms. */
void coce_fake_binance_set_time_offset(coce_fake_binance *f, int64_t offset_ms);
/* Reports X-MBX-USED-WEIGHT-1M = weight on every answer (default: counts). */
void coce_fake_binance_set_weight(coce_fake_binance *f, int64_t weight);
void coce_fake_binance_fault(coce_fake_binance *f, const char *method,
                             const char *path, coce_fake_bn_fault fault,
                             int count, int param);

/* Executes qty of a resting order at price (PARTIALLY_FILLED / FILLED). */
int coce_fake_binance_fill(coce_fake_binance *f, const char *client_id,
                           double qty, double price);
/* Forces an order's status string ("EXPIRED", "REJECTED", ...). */
int coce_fake_binance_set_status(coce_fake_binance *f, const char *client_id,
                                 const char *status);
/* Number of orders with this client id (0 or 1; never more), copied to
 * *out when found (out may be NULL). */
int coce_fake_binance_find(coce_fake_binance *f, const char *client_id,
                           coce_fake_bn_order *out);
size_t coce_fake_binance_order_count(coce_fake_binance *f);
/* Requests received for method+path (NULL: any), whatever the answer. */
int coce_fake_binance_requests(coce_fake_binance *f, const char *method,
                               const char *path);
/* Signed requests refused for a bad key / signature / timestamp. */
int coce_fake_binance_auth_failures(coce_fake_binance *f);

#endif
