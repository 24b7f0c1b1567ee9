/* Core value types that travel through the engine loop.
 *
 * Times are int64_t milliseconds since the Unix epoch, UTC. Prices and sizes
 * are doubles; exchange adapters convert to venue strings at the edge.
 * Assets are small integer ids interned once from symbols (see
 * utils/symbols.h); strings do not travel through the hot path. */
#ifndef COCE_UTILS_TYPES_H
#define COCE_UTILS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t coce_asset_id;

enum { COCE_SIDE_SELL = -1, COCE_SIDE_BUY = 1 };

/* One aggregate trade; side is the taker's side. */
typedef struct coce_trade {
    int64_t time_ms;
    double price;
    double qty;
    coce_asset_id asset;
    int8_t side; /* COCE_SIDE_BUY or COCE_SIDE_SELL */
} coce_trade;

/* One social post about an asset, already scored. */
typedef struct coce_post {
    int64_t time_ms;
    coce_asset_id asset;
    size_t text_offset; /* span in a caller-owned text buffer */
    size_t text_len;
    double compound; /* sentiment compound score in [-1, 1] */
} coce_post;

/* One OHLCV bar covering [open_ms, close_ms). */
typedef struct coce_bar {
    int64_t open_ms;
    int64_t close_ms;
    coce_asset_id asset;
    double open, high, low, close;
    double volume;       /* base units */
    double quote_volume; /* quote units */
    uint32_t trades;
} coce_bar;

typedef enum coce_order_type {
    COCE_ORDER_MARKET = 0,
    COCE_ORDER_LIMIT = 1
} coce_order_type;

typedef enum coce_order_reason {
    COCE_REASON_ENTRY = 0,     /* pump alert */
    COCE_REASON_TAKE_PROFIT,
    COCE_REASON_TRAILING_STOP,
    COCE_REASON_HARD_STOP,
    COCE_REASON_MAX_HOLD,
    COCE_REASON_REBALANCE,     /* HRP core book */
    COCE_REASON_RISK_CUT,      /* guardrail */
    COCE_REASON_FLATTEN        /* kill-switch / shutdown */
} coce_order_reason;

#define COCE_CLIENT_ID_MAX 40

/* What the loop wants to do; journalled before it is sent. */
typedef struct coce_order_intent {
    char client_id[COCE_CLIENT_ID_MAX];
    coce_asset_id asset;
    int8_t side;
    coce_order_type type;
    double qty;
    double limit_price; /* 0 for market orders */
    coce_order_reason reason;
    int64_t time_ms; /* decision time */
} coce_order_intent;

/* One (partial) execution of an order. */
typedef struct coce_fill {
    char client_id[COCE_CLIENT_ID_MAX];
    coce_asset_id asset;
    int8_t side;
    double qty;
    double price;
    double fee; /* in the quote / base currency of the account */
    int64_t time_ms;
} coce_fill;

const char *coce_order_reason_name(coce_order_reason reason);

#endif
