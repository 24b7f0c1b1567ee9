/* Deribit instruments and option tickers: names, get_instruments answers,
 * ticker messages, tick rounding and coin/USD premium conversion.
 *
 * Sources (Deribit API v2, https://docs.deribit.com/):
 * - public/get_instruments / public/get_instrument: instrument_name,
 *   kind ("option", "future", ...), base_currency, strike, option_type
 *   ("call"/"put"), expiration_timestamp (ms), tick_size, tick_size_steps
 *   ([{above_price, tick_size}]: "the price from which the increased tick
 *   size applies"), contract_size, min_trade_amount (options: in coin),
 *   settlement_period, is_active.
 * - public/ticker and the ticker.{instrument}.{interval} channel:
 *   timestamp, underlying_price, index_price, mark_price (coin), mark_iv,
 *   bid_iv, ask_iv (percent), best_bid_price, best_ask_price (coin; 0 when
 *   the side is empty), best_bid_amount, best_ask_amount, open_interest,
 *   greeks {delta, gamma, vega, theta, rho}.
 * - Contract specification: names "BTC-24SEP21-40000-C" =
 *   underlying-DMMMYY-strike-C/P; every expiry at 08:00 UTC; European,
 *   cash-settled in coin; premium quoted in coin (USD shown as premium times
 *   the underlying price).
 *
 * Parsing functions never allocate beyond jansson's own parse; outputs are
 * caller-owned structs and arrays. */
#ifndef COCE_OPTIONS_INSTRUMENTS_H
#define COCE_OPTIONS_INSTRUMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "options/black76.h"
#include "utils/error.h"

#define COCE_INST_NAME_MAX 64
#define COCE_INST_CCY_MAX 16
#define COCE_INST_STEPS_MAX 4

typedef enum {
    COCE_INST_OPTION = 0,
    COCE_INST_FUTURE = 1,
    COCE_INST_PERPETUAL = 2,
    COCE_INST_OTHER = 3
} coce_inst_kind;

typedef struct coce_instrument {
    char name[COCE_INST_NAME_MAX];
    char currency[COCE_INST_CCY_MAX]; /* first name field: "BTC", "SOL_USDC" */
    coce_inst_kind kind;
    coce_opt_type option_type; /* options only */
    double strike;             /* options only; USD */
    int64_t expiry_ms;         /* 0 for perpetuals */
    double tick_size;
    size_t n_steps; /* tick_size_steps, sorted by above_price */
    double step_above[COCE_INST_STEPS_MAX];
    double step_tick[COCE_INST_STEPS_MAX];
    double contract_size;
    double min_trade_amount;
    int is_active;
} coce_instrument;

/* Parses an instrument name: "BTC-24SEP21-40000-C" (option, expiry
 * 2021-09-24 08:00 UTC), "ETH-31DEC21" (future), "BTC-PERPETUAL",
 * "XRP_USDC-30JUN23-0d625-C" ('d' as decimal point in strikes). Fills name,
 * currency, kind, option_type, strike, expiry_ms; other fields are zeroed
 * (tick_size, contract_size, min_trade_amount unknown). COCE_EPARSE with
 * the offending field otherwise. */
int coce_instrument_parse_name(const char *name, coce_instrument *out,
                               coce_err *err);

/* Parses a public/get_instruments answer: either the whole JSON-RPC
 * envelope {"result": [...]} or the bare array. Stores up to `cap`
 * instruments in out (in answer order) and the total number in *n (which
 * may exceed cap: then only cap are stored and COCE_ERANGE is returned).
 * Each entry needs instrument_name, kind, tick_size, contract_size,
 * min_trade_amount, expiration_timestamp; options also strike and
 * option_type. Errors name the entry index and field: "[12].strike: not a
 * number". */
int coce_instruments_parse(const char *json, size_t len, coce_instrument *out,
                           size_t cap, size_t *n, coce_err *err);

/* Tick size in force at `price` (coin): the largest step whose above_price
 * <= price, else tick_size. */
double coce_instrument_tick_at(const coce_instrument *in, double price);

typedef enum {
    COCE_ROUND_NEAREST = 0,
    COCE_ROUND_DOWN = 1, /* for a sell limit or a bid: never above price */
    COCE_ROUND_UP = 2    /* for a buy limit or an ask: never below price */
} coce_round_mode;

/* Rounds a coin price to the instrument's tick grid, using the tick in
 * force at the price (and re-checking after rounding across a step
 * boundary). A price within 1e-9 tick of a grid point is snapped to it.
 * COCE_EINVAL for tick_size <= 0 or a negative/non-finite price. */
int coce_instrument_round_price(const coce_instrument *in, double price,
                                coce_round_mode mode, double *out);

/* Premium conversions: Deribit shows the USD value of a coin premium as
 * premium times the underlying (index or forward) price. */
double coce_premium_coin_to_usd(double coin, double underlying_usd);
double coce_premium_usd_to_coin(double usd, double underlying_usd);

/* One option ticker (public/ticker result or ticker channel data). Fields
 * absent from the message are NAN (best_*_price 0 when a side is empty, as
 * Deribit sends). */
typedef struct coce_ticker {
    char name[COCE_INST_NAME_MAX];
    int64_t timestamp_ms;
    double underlying_price;
    double index_price;
    double mark_price; /* coin */
    double mark_iv;    /* percent */
    double bid_iv;
    double ask_iv;
    double best_bid_price; /* coin */
    double best_ask_price;
    double best_bid_amount;
    double best_ask_amount;
    double open_interest;
    double delta;
    double gamma;
    double vega;
    double theta;
} coce_ticker;

/* Parses a ticker from JSON text: the subscription notification
 * {"method":"subscription","params":{"data":{...}}}, the JSON-RPC answer
 * {"result":{...}} or the bare object. Needs instrument_name, timestamp,
 * mark_price. COCE_ENOTFOUND if the text is a JSON-RPC message that holds no
 * ticker (e.g. a book notification) -- callers filtering a feed skip those. */
int coce_ticker_parse(const char *json, size_t len, coce_ticker *out,
                      coce_err *err);

/* Parses a public/get_book_summary_by_currency answer (envelope or bare
 * array) into tickers: name, mark_price, mark_iv, best_bid_price /
 * best_ask_price (from bid_price / ask_price; 0 for an empty side, sent as
 * null), open_interest, underlying_price; the greeks, amounts and bid/ask
 * iv are NAN (a summary has none), absent numbers NAN. Stores up to cap in
 * answer order, the total in *n (COCE_ERANGE when it exceeds cap: call
 * again with room for *n). COCE_EPARSE naming the entry. */
int coce_book_summary_parse(const char *json, size_t len, coce_ticker *out,
                            size_t cap, size_t *n, coce_err *err);

/* Index of the instrument named `name` in in[0..n), or n if absent. */
size_t coce_instrument_find(const coce_instrument *in, size_t n,
                            const char *name);

#endif
