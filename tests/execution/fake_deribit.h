/* A fake Deribit JSON-RPC venue on 127.0.0.1 for tests (libmicrohttpd, one
 * thread per connection). It answers `POST /api/v2/<method>` with a JSON-RPC
 * 2.0 body (the method in the path must match the body's) for the methods
 * the adapter uses (src/execution/deribit.h), in the shapes of the Deribit
 * API v2.1.1 docs, with the usIn/usOut/usDiff/testnet members.
 *
 * What it checks like the venue: public/auth client_credentials against
 * its client id/secret and refresh_token grants against the refresh tokens
 * it issued; `Authorization: Bearer` on every private method against
 * unexpired access tokens (13009 "unauthorized" otherwise); valid_until
 * (13888 "timed_out" when passed); reduce_only sells larger than the
 * position (11030 "other_reject"); amounts on min_trade_amount and prices
 * on the tick grid (10043 "price_wrong_tick"). Like Deribit, it does NOT
 * refuse a reused label. Market orders fill at once at the instrument's
 * configured price with a fee of 0.0003 coin per contract; limit orders
 * rest until coce_fake_deribit_fill. Fills move the position.
 *
 * Faults are armed for the next `count` requests of a method (NULL: any)
 * and consumed as requests arrive. */
#ifndef COCE_TESTS_FAKE_DERIBIT_H
#define COCE_TESTS_FAKE_DERIBIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct coce_fake_deribit coce_fake_deribit;

typedef enum coce_fake_db_fault {
    COCE_FAKE_DB_SLOW = 1,  /* sleep param ms, then answer normally */
    COCE_FAKE_DB_429,       /* HTTP 429, error 10028; Retry-After: param s
                               (-1: no header) */
    COCE_FAKE_DB_5XX,       /* HTTP 503; param 1: the call is executed first */
    COCE_FAKE_DB_MALFORMED, /* executed, 200 with truncated JSON */
    COCE_FAKE_DB_DROP,      /* executed, connection closed unanswered */
    COCE_FAKE_DB_ERROR      /* HTTP 400 with JSON-RPC error code param, not
                               executed */
} coce_fake_db_fault;

typedef struct coce_fake_db_instrument {
    const char *name;  /* "BTC-27JUN25-80000-C" */
    double tick;       /* tick_size */
    double step_above; /* one tick_size_steps entry (0: none) */
    double step_tick;
    double min_amount; /* min_trade_amount */
    int inactive;      /* is_active false */
    double price;      /* market fills, mark price, best bid/ask around it */
} coce_fake_db_instrument;

typedef struct coce_fake_db_order {
    char order_id[32];
    char label[72];
    char instrument[64];
    int side; /* +1 buy, -1 sell */
    int market;
    double amount, price, filled, filled_value;
    char state[16];
    int64_t created_ms, updated_ms;
} coce_fake_db_order;

/* Starts on an ephemeral port of 127.0.0.1; tokens live token_ttl_s
 * seconds. 0 or -1. */
int coce_fake_deribit_start(const char *client_id, const char *secret,
                            int token_ttl_s, coce_fake_deribit **out);
void coce_fake_deribit_stop(coce_fake_deribit *f);
const char *coce_fake_deribit_url(const coce_fake_deribit *f);

int coce_fake_deribit_add_instrument(coce_fake_deribit *f,
                                     const coce_fake_db_instrument *in);
void coce_fake_deribit_set_position(coce_fake_deribit *f, const char *name,
                                    double size);
double coce_fake_deribit_position(coce_fake_deribit *f, const char *name);
void coce_fake_deribit_set_account(coce_fake_deribit *f, double balance,
                                   double available);
/* Every issued access token stops working (as after a revocation). */
void coce_fake_deribit_revoke_tokens(coce_fake_deribit *f);
void coce_fake_deribit_fault(coce_fake_deribit *f, const char *method,
                             coce_fake_db_fault fault, int count, int param);

/* Executes amount of the (first) order labelled label at price. */
int coce_fake_deribit_fill(coce_fake_deribit *f, const char *label,
                           double amount, double price);
/* Places an order directly (another process using the same account). */
int coce_fake_deribit_inject(coce_fake_deribit *f, const char *label,
                             const char *instrument, int side, double amount,
                             double price);
/* Number of orders labelled label (copies the first into *out if not
 * NULL). */
int coce_fake_deribit_find(coce_fake_deribit *f, const char *label,
                           coce_fake_db_order *out);
size_t coce_fake_deribit_order_count(coce_fake_deribit *f);
/* Requests received for method (NULL: any), whatever the answer. */
int coce_fake_deribit_requests(coce_fake_deribit *f, const char *method);
int coce_fake_deribit_grants(coce_fake_deribit *f, const char *grant_type);
/* Private calls refused for a missing/expired/unknown token. */
int coce_fake_deribit_auth_failures(coce_fake_deribit *f);
/* The last request body received (copy into buf). */
void coce_fake_deribit_last_body(coce_fake_deribit *f, char *buf, size_t cap);

#endif
