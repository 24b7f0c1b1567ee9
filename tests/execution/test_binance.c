/* Binance spot adapter against the fake venue on 127.0.0.1: the documented
 * signature example, decimal rounding, filters before sending, and each
 * fault of the matrix in docs/execution.md (timeout, dropped connection,
 * 429/418, 5xx, malformed JSON, clock skew, bad credentials) with what the
 * adapter does: retry with backoff (GETs only), a clear error, no duplicate
 * order, nothing lost. */
#include "execution/binance.h"
#include "testutil.h"
#include "utils/error.h"
#include "utils/log.h"
#include "utils/symbols.h"

/* The fake venue is test-only code: compiled into this executable. */
#include "fake_binance.c"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The example of rest-api.md, "SIGNED Endpoint Examples for POST
 * /api/v3/order" (the docs show two versions of the API key; the signature
 * depends only on the secret and the payload). */
#define DOC_KEY                                                                \
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
#define DOC_SECRET                                                             \
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

#define KEY "test-key-AbCdEf0123456789"
#define SECRET "test-secret-ZyXwV9876543210"

static coce_symbols *syms;
static coce_asset_id ADX, ETH, OFF, GONE, DOT;
static char tmp[512];

typedef struct env {
    coce_fake_binance *fake;
    coce_binance *b;
    coce_exchange x;
} env;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int group_setup(void **state)
{
    (void)state;
    assert_int_equal(coce_symbols_new(&syms), COCE_OK);
    assert_int_equal(coce_symbols_intern(syms, "ADX", &ADX), COCE_OK);
    assert_int_equal(coce_symbols_intern(syms, "ETH", &ETH), COCE_OK);
    assert_int_equal(coce_symbols_intern(syms, "OFF", &OFF), COCE_OK);
    assert_int_equal(coce_symbols_intern(syms, "GONE", &GONE), COCE_OK);
    assert_int_equal(coce_symbols_intern(syms, "DOT", &DOT), COCE_OK);
    coce_test_tmpdir(tmp, sizeof tmp);
    char path[600];
    snprintf(path, sizeof path, "%s/log.jsonl", tmp);
    coce_log_set_stderr_level(COCE_LOG_OFF);
    coce_log_set_level(COCE_LOG_DEBUG);
    assert_int_equal(coce_log_open(path), COCE_OK);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    coce_log_close();
    /* Credentials never reach a log line. */
    char path[600];
    snprintf(path, sizeof path, "%s/log.jsonl", tmp);
    size_t len = 0;
    char *log = coce_test_read_file(path, &len);
    assert_non_null(log);
    assert_true(len > 0);
    assert_null(strstr(log, KEY));
    assert_null(strstr(log, SECRET));
    assert_non_null(strstr(log, "order_send"));
    free(log);
    coce_test_rmtree(tmp);
    coce_symbols_free(syms);
    return 0;
}

static void opts_for(coce_binance_opts *o, const char *url)
{
    coce_binance_opts_default(o);
    o->base_url = url;
    o->api_key = KEY;
    o->api_secret = SECRET;
    o->symbols = syms;
    o->timeout_ms = 400;
    o->backoff_ms = 10;
    o->max_wait_ms = 3000;
}

static void env_up(env *e, const coce_binance_opts *custom)
{
    memset(e, 0, sizeof *e);
    assert_int_equal(coce_fake_binance_start(KEY, SECRET, &e->fake), 0);
    coce_fake_bn_symbol adx = {.symbol = "ADXUSDT",
                               .base = "ADX",
                               .quote = "USDT",
                               .min_price = "0.00010000",
                               .max_price = "1000.00000000",
                               .tick = "0.00010000",
                               .min_qty = "1.00000000",
                               .max_qty = "90000.00000000",
                               .step = "0.01000000",
                               .min_notional = "5.00000000",
                               .max_notional = "1000.00000000",
                               .apply_min_to_market = 1,
                               .price = 0.25};
    assert_int_equal(coce_fake_binance_add_symbol(e->fake, &adx), 0);
    coce_fake_bn_symbol eth = {.symbol = "ETHUSDT",
                               .base = "ETH",
                               .quote = "USDT",
                               .min_price = "0.01000000",
                               .max_price = "0",
                               .tick = "0.01000000",
                               .min_qty = "0.00010000",
                               .max_qty = "9000.00000000",
                               .step = "0.00010000",
                               .min_notional = "10.00000000",
                               .legacy_min_notional = 1,
                               .commission_asset = "ETH",
                               .price = 2000.0};
    assert_int_equal(coce_fake_binance_add_symbol(e->fake, &eth), 0);
    coce_fake_bn_symbol off = adx;
    off.symbol = "OFFUSDT";
    off.base = "OFF";
    off.status = "BREAK";
    assert_int_equal(coce_fake_binance_add_symbol(e->fake, &off), 0);
    coce_fake_bn_symbol dot = adx;
    dot.symbol = "DOTUSDT";
    dot.base = "DOT";
    dot.commission_asset = "BNB";
    dot.price = 5.0;
    assert_int_equal(coce_fake_binance_add_symbol(e->fake, &dot), 0);
    coce_fake_bn_symbol adxbtc = adx;
    adxbtc.symbol = "ADXBTC";
    adxbtc.quote = "BTC";
    adxbtc.min_notional = NULL;
    adxbtc.tick = "0.00000001";
    adxbtc.min_price = "0.00000001";
    assert_int_equal(coce_fake_binance_add_symbol(e->fake, &adxbtc), 0);
    coce_binance_opts o;
    if (custom)
        o = *custom;
    else
        opts_for(&o, NULL);
    o.base_url = coce_fake_binance_url(e->fake);
    coce_err err;
    assert_int_equal(coce_binance_new(&o, &e->b, &err), COCE_OK);
    e->x = coce_binance_exchange(e->b);
}

static void env_down(env *e)
{
    coce_binance_free(e->b);
    coce_fake_binance_stop(e->fake);
}

static coce_order_intent order(const char *id, coce_asset_id asset, int side,
                               coce_order_type type, double qty, double limit)
{
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    snprintf(in.client_id, sizeof in.client_id, "%s", id);
    in.asset = asset;
    in.side = (int8_t)side;
    in.type = type;
    in.qty = qty;
    in.limit_price = limit;
    return in;
}

static int place(env *e, const coce_order_intent *in, coce_fill *fills,
                 size_t cap, size_t *n, coce_err *err)
{
    return e->x.place(e->x.impl, in, 0, fills, cap, n, err);
}

/* ---- pure helpers ------------------------------------------------------ */

static void test_signature_documented_example(void **state)
{
    (void)state;
    char sig[65];
    /* Example 1/2: the whole parameter string. */
    assert_int_equal(
        coce_binance_sign(DOC_SECRET,
                          "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&"
                          "quantity=1&price=0.1&recvWindow=5000&timestamp="
                          "1499827319559",
                          sig),
        COCE_OK);
    assert_string_equal(
        sig,
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
    /* Example 3: query string and body concatenated without '&'. */
    assert_int_equal(
        coce_binance_sign(DOC_SECRET,
                          "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
                          "quantity=1&price=0.1&recvWindow=5000&timestamp="
                          "1499827319559",
                          sig),
        COCE_OK);
    assert_string_equal(
        sig,
        "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
    assert_int_equal(coce_binance_sign(NULL, "x", sig), COCE_EINVAL);
    (void)DOC_KEY;
}

static void test_format_decimal(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(coce_binance_format_decimal(1.23456, 0.001, -1,
                                                 COCE_BINANCE_ROUND_DOWN, out,
                                                 sizeof out),
                     COCE_OK);
    assert_string_equal(out, "1.234");
    coce_binance_format_decimal(1.23456, 0.001, -1, COCE_BINANCE_ROUND_UP, out,
                                sizeof out);
    assert_string_equal(out, "1.235");
    /* 0.3 / 0.1 = 2.9999999999999996 in binary: still 3 steps. */
    coce_binance_format_decimal(0.3, 0.1, -1, COCE_BINANCE_ROUND_DOWN, out,
                                sizeof out);
    assert_string_equal(out, "0.3");
    coce_binance_format_decimal(0.3, 0.1, -1, COCE_BINANCE_ROUND_UP, out,
                                sizeof out);
    assert_string_equal(out, "0.3");
    coce_binance_format_decimal(123.456789123, 0.0, -1, COCE_BINANCE_ROUND_DOWN,
                                out, sizeof out);
    assert_string_equal(out, "123.45678912");
    coce_binance_format_decimal(5.0, 1.0, -1, COCE_BINANCE_ROUND_DOWN, out,
                                sizeof out);
    assert_string_equal(out, "5");
    coce_binance_format_decimal(7.9, 5.0, 2, COCE_BINANCE_ROUND_DOWN, out,
                                sizeof out);
    assert_string_equal(out, "5.00");
    coce_binance_format_decimal(1e-8 * 3, 1e-8, -1, COCE_BINANCE_ROUND_DOWN,
                                out, sizeof out);
    assert_string_equal(out, "0.00000003");
    coce_binance_format_decimal(1234.123456789, 1e-8, -1,
                                COCE_BINANCE_ROUND_DOWN, out, sizeof out);
    assert_string_equal(out, "1234.12345678");
    coce_binance_format_decimal(1234.123456781, 1e-8, -1, COCE_BINANCE_ROUND_UP,
                                out, sizeof out);
    assert_string_equal(out, "1234.12345679");
    /* A step finer than 16 digits prints 16. */
    coce_binance_format_decimal(0.5, 1e-17, -1, COCE_BINANCE_ROUND_DOWN, out,
                                sizeof out);
    assert_int_equal(strlen(out), 18);
    assert_int_equal(coce_binance_format_decimal(
                         -1, 0.1, -1, COCE_BINANCE_ROUND_DOWN, out, sizeof out),
                     COCE_EINVAL);
    assert_int_equal(coce_binance_format_decimal(
                         1, 0.1, 17, COCE_BINANCE_ROUND_DOWN, out, sizeof out),
                     COCE_EINVAL);
    assert_int_equal(coce_binance_format_decimal(
                         12345.0, 0.1, -1, COCE_BINANCE_ROUND_DOWN, out, 4),
                     COCE_ERANGE);
}

static void test_opts_validation(void **state)
{
    (void)state;
    coce_binance_opts o;
    coce_binance *b = NULL;
    coce_err err;
    opts_for(&o, "http://127.0.0.1:1");
    assert_int_equal(coce_binance_new(&o, NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_binance_new(NULL, &b, &err), COCE_EINVAL);
    o.api_secret = "";
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_ESECRET);
    assert_null(b);
    opts_for(&o, "ftp://x");
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "base_url"));
    opts_for(&o, "");
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_EINVAL);
    opts_for(&o, "http://127.0.0.1:1");
    o.recv_window_ms = 60001;
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "recv_window_ms"));
    opts_for(&o, "http://127.0.0.1:1");
    o.timeout_ms = 0;
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_EINVAL);
    opts_for(&o, "http://127.0.0.1:1");
    o.symbols = NULL;
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_EINVAL);
    opts_for(&o, "http://127.0.0.1:1");
    o.quote_asset = "";
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_EINVAL);
    opts_for(&o, "http://127.0.0.1:1");
    o.get_retries = -1;
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_EINVAL);
    char longkey[600];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    opts_for(&o, "http://127.0.0.1:1/");
    o.api_key = longkey;
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_ESECRET);
    /* Never the secret in a message. */
    assert_null(strstr(err.msg, "kkkk"));
    opts_for(&o, "http://127.0.0.1:1/");
    assert_int_equal(coce_binance_new(&o, &b, &err), COCE_OK);
    coce_binance_stats st;
    coce_binance_get_stats(b, &st);
    assert_int_equal(st.used_weight_1m, -1);
    assert_int_equal(st.requests, 0);
    coce_binance_free(b);
    coce_binance_free(NULL);
    coce_binance_opts_default(NULL);
}

/* ---- happy paths -------------------------------------------------------- */

static void test_market_order_fills_and_headers(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    /* The venue's clock runs 3 s ahead: without the sync every signed
     * request would be refused with -1021. */
    coce_fake_binance_set_time_offset(e.fake, 3000);
    coce_order_intent in =
        order("coce-t-1", ADX, COCE_SIDE_BUY, COCE_ORDER_MARKET, 100.009, 0);
    coce_fill fills[4];
    size_t n = 0;
    coce_err err;
    assert_int_equal(place(&e, &in, fills, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(fills[0].client_id, "coce-t-1");
    assert_int_equal(fills[0].asset, ADX);
    assert_int_equal(fills[0].side, COCE_SIDE_BUY);
    assert_close(fills[0].qty + fills[1].qty, 100.0, 1e-12, 1e-9);
    assert_close(fills[0].price, 0.25, 1e-12, 0);
    assert_close(fills[0].fee + fills[1].fee, 100.0 * 0.25 * 0.001, 1e-9, 1e-9);
    coce_fake_bn_order fo;
    assert_int_equal(coce_fake_binance_find(e.fake, "coce-t-1", &fo), 1);
    /* LOT_SIZE stepSize 0.01: 100.009 was rounded DOWN to 100.00. */
    assert_close(fo.qty, 100.0, 0, 1e-12);
    assert_string_equal(fo.status, "FILLED");
    coce_binance_stats st;
    coce_binance_get_stats(e.b, &st);
    assert_true(st.time_offset_ms > 2500 && st.time_offset_ms < 3500);
    assert_true(st.used_weight_1m > 0);
    assert_int_equal(st.order_count_10s, 1);
    assert_int_equal(st.order_count_1d, 7);
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-t-1", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_FILLED);
    assert_close(os.filled_qty, 100.0, 1e-12, 0);
    assert_close(os.avg_price, 0.25, 1e-12, 0);
    assert_close(os.fees, 0.025, 1e-9, 0);
    /* Nothing left to poll: the FULL response already reported it. */
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(coce_fake_binance_auth_failures(e.fake), 0);
    env_down(&e);
}

static void test_limit_rounding_and_poll_fills(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    coce_fill fills[4];
    size_t n = 9;
    /* Buy limit 0.123456 -> tick 0.0001 rounded down: 0.1234; a sell limit
     * rounds up: 0.1235. Never a worse limit than asked. */
    coce_order_intent buy = order("coce-t-2", ADX, COCE_SIDE_BUY,
                                  COCE_ORDER_LIMIT, 80.567, 0.123456);
    assert_int_equal(place(&e, &buy, fills, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    coce_order_intent sell =
        order("coce-t-3", ADX, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 50, 0.123456);
    assert_int_equal(place(&e, &sell, NULL, 0, &n, &err), COCE_OK);
    coce_fake_bn_order fo;
    assert_int_equal(coce_fake_binance_find(e.fake, "coce-t-2", &fo), 1);
    assert_close(fo.qty, 80.56, 0, 1e-12);
    assert_close(fo.price, 0.1234, 0, 1e-12);
    assert_int_equal(coce_fake_binance_find(e.fake, "coce-t-3", &fo), 1);
    assert_close(fo.price, 0.1235, 0, 1e-12);

    assert_int_equal(coce_fake_binance_fill(e.fake, "coce-t-2", 30, 0.1234), 0);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(fills[0].client_id, "coce-t-2");
    assert_close(fills[0].qty, 30, 1e-12, 0);
    assert_close(fills[0].price, 0.1234, 1e-12, 0);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(coce_fake_binance_fill(e.fake, "coce-t-2", 50.56, 0.12),
                     0);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_close(fills[0].qty, 50.56, 1e-9, 0);
    assert_close(fills[0].price, 0.12, 1e-9, 0);
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-t-2", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_FILLED);
    assert_int_equal(os.intent.type, COCE_ORDER_LIMIT);
    assert_int_equal(os.intent.side, COCE_SIDE_BUY);
    assert_close(os.avg_price, (30 * 0.1234 + 50.56 * 0.12) / 80.56, 1e-9, 0);
    /* Filled orders are not queried again. */
    int before = coce_fake_binance_requests(e.fake, "GET", "/api/v3/order");
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_binance_requests(e.fake, "GET", "/api/v3/order"),
                     before + 1); /* only coce-t-3, still open */
    env_down(&e);
}

static void test_fills_beyond_cap_are_queued(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    coce_fill fills[2];
    size_t n = 0;
    coce_order_intent in =
        order("coce-t-4", ETH, COCE_SIDE_SELL, COCE_ORDER_MARKET, 0.5, 0);
    assert_int_equal(place(&e, &in, fills, 1, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_close(fills[0].qty, 0.25, 1e-12, 0);
    assert_int_equal(fills[0].side, COCE_SIDE_SELL);
    /* Commission charged in the base asset (ETH): converted to quote. */
    assert_close(fills[0].fee, 0.25 * 0.001 * 2000, 1e-9, 0);
    /* Commission in a third asset (BNB): reported as 0 (and logged). */
    coce_order_intent dot =
        order("coce-t-5", DOT, COCE_SIDE_BUY, COCE_ORDER_MARKET, 10, 0);
    assert_int_equal(place(&e, &dot, fills, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 2);
    assert_close(fills[0].fee + fills[1].fee, 0, 0, 0);
    coce_binance_get_stats(NULL, NULL);
    env_down(&e);
}

/* ---- filters before sending --------------------------------------------- */

static void test_filters_enforced_before_sending(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    struct {
        coce_order_intent in;
        const char *filter;
    } cases[] = {
        {order("f1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.999, 1.0),
         "LOT_SIZE"},
        {order("f2", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1e6, 1.0),
         "LOT_SIZE"},
        {order("f3", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.00001),
         "PRICE_FILTER"},
        {order("f4", ADX, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 10, 5000),
         "PRICE_FILTER"},
        {order("f5", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 10, 0.1),
         "NOTIONAL"},
        /* applyMinToMarket: valued at avgPrice 0.25 -> 2.5 < 5. */
        {order("f6", ADX, COCE_SIDE_BUY, COCE_ORDER_MARKET, 10, 0), "NOTIONAL"},
        /* legacy MIN_NOTIONAL 10 on ETH: 0.001 x 2000 = 2. */
        {order("f7", ETH, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.001, 2000),
         "NOTIONAL"},
        {order("f8", OFF, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 1.0),
         "TRADING"},
        {order("f12", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 5000, 0.5),
         "maxNotional"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(place(&e, &cases[i].in, NULL, 0, &n, &err),
                         COCE_EEXCHANGE);
        assert_non_null(strstr(err.msg, cases[i].filter));
        assert_non_null(strstr(err.msg, cases[i].in.client_id));
    }
    /* Nothing reached the venue. */
    assert_int_equal(coce_fake_binance_requests(e.fake, "POST", NULL), 0);
    assert_int_equal(coce_fake_binance_order_count(e.fake), 0);
    assert_int_equal(
        coce_fake_binance_requests(e.fake, "GET", "/api/v3/avgPrice"), 1);
    /* A legacy MIN_NOTIONAL without applyToMarket does not hold a market
     * order back (no avgPrice request). */
    coce_order_intent ok =
        order("f9", ETH, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.001, 0);
    assert_int_equal(place(&e, &ok, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(
        coce_fake_binance_requests(e.fake, "GET", "/api/v3/avgPrice"), 1);
    /* exchangeInfo once per symbol. */
    assert_int_equal(
        coce_fake_binance_requests(e.fake, "GET", "/api/v3/exchangeInfo"), 3);
    /* A symbol the venue does not list; an asset id nobody interned. */
    coce_order_intent gone =
        order("f10", GONE, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 1.0);
    assert_int_equal(place(&e, &gone, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "-1121"));
    coce_order_intent bad =
        order("f11", 999, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 1.0);
    assert_int_equal(place(&e, &bad, NULL, 0, &n, &err), COCE_EINVAL);
    env_down(&e);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_intent in =
        order("ok-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    assert_int_equal(e.x.place(e.x.impl, NULL, 0, NULL, 0, &n, &err),
                     COCE_EINVAL);
    assert_int_equal(e.x.place(e.x.impl, &in, 0, NULL, 0, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(e.x.place(e.x.impl, &in, 0, NULL, 2, &n, &err),
                     COCE_EINVAL);
    coce_order_intent bad = in;
    bad.side = 0;
    assert_int_equal(place(&e, &bad, NULL, 0, &n, &err), COCE_EINVAL);
    bad = in;
    bad.qty = -1;
    assert_int_equal(place(&e, &bad, NULL, 0, &n, &err), COCE_EINVAL);
    bad = in;
    bad.limit_price = 0;
    assert_int_equal(place(&e, &bad, NULL, 0, &n, &err), COCE_EINVAL);
    bad = in;
    snprintf(bad.client_id, sizeof bad.client_id, "has space");
    assert_int_equal(place(&e, &bad, NULL, 0, &n, &err), COCE_EINVAL);
    snprintf(bad.client_id, sizeof bad.client_id, "%s",
             "0123456789012345678901234567890123456"); /* 37 > 36 */
    assert_int_equal(place(&e, &bad, NULL, 0, &n, &err), COCE_EINVAL);
    assert_int_equal(coce_binance_track(e.b, &bad, 0, 0, &err), COCE_EINVAL);
    assert_int_equal(coce_binance_track(e.b, &in, 0, -1, &err), COCE_EINVAL);
    assert_int_equal(coce_binance_track(NULL, &in, 0, 0, &err), COCE_EINVAL);
    coce_order_intent nowhere = in;
    nowhere.asset = 999;
    assert_int_equal(coce_binance_track(e.b, &nowhere, 0, 0, &err),
                     COCE_EINVAL);
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, NULL, &os, &err),
                     COCE_EINVAL);
    /* An untracked id: its symbol is unknown, never "not found". */
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "nobody", &os, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "coce_binance_track"));
    assert_int_equal(e.x.cancel(e.x.impl, "nobody", 0, &err), COCE_EINVAL);
    assert_int_equal(e.x.cancel(e.x.impl, NULL, 0, &err), COCE_EINVAL);
    assert_int_equal(e.x.open_orders(e.x.impl, NULL, 1, &n, &err), COCE_EINVAL);
    assert_int_equal(e.x.balances(e.x.impl, NULL, 1, &n, &err), COCE_EINVAL);
    assert_int_equal(e.x.instrument_rules(e.x.impl, ADX, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(e.x.poll_fills(e.x.impl, NULL, 1, &n, &err), COCE_EINVAL);
    assert_int_equal(coce_binance_sync_time(NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_fake_binance_requests(e.fake, NULL, NULL), 0);
    env_down(&e);
}

/* ---- duplicates --------------------------------------------------------- */

static void test_duplicate_client_id(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_intent in =
        order("coce-dup-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    /* Same process: refused without a request. */
    int posts = coce_fake_binance_requests(e.fake, "POST", "/api/v3/order");
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXIST);
    assert_int_equal(
        coce_fake_binance_requests(e.fake, "POST", "/api/v3/order"), posts);
    /* A restarted process that forgot it: the venue refuses with -2010. */
    coce_binance_opts o;
    opts_for(&o, coce_fake_binance_url(e.fake));
    coce_binance *b2 = NULL;
    assert_int_equal(coce_binance_new(&o, &b2, &err), COCE_OK);
    coce_exchange x2 = coce_binance_exchange(b2);
    assert_int_equal(x2.place(x2.impl, &in, 0, NULL, 0, &n, &err), COCE_EEXIST);
    assert_non_null(strstr(err.msg, "Duplicate order sent."));
    assert_int_equal(coce_fake_binance_find(e.fake, "coce-dup-1", NULL), 1);
    /* After a restart the journal tracks its intent and asks about it. */
    assert_int_equal(coce_binance_track(b2, &in, 0, 0, &err), COCE_OK);
    assert_int_equal(coce_binance_track(b2, &in, 0, 0, &err), COCE_OK);
    coce_order_state os;
    assert_int_equal(x2.query_by_client_id(x2.impl, "coce-dup-1", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_OPEN);
    assert_close(os.intent.limit_price, 0.2, 1e-12, 0);
    coce_binance_free(b2);
    env_down(&e);
}

/* ---- faults on orders: outcome unknown, never resent, nothing lost ------- */

static void test_drop_after_accept_unknown_then_found(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n = 9;
    coce_fill fills[2];
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_DROP,
                            1, 0);
    coce_order_intent in =
        order("coce-drop-1", ADX, COCE_SIDE_BUY, COCE_ORDER_MARKET, 40, 0);
    assert_int_equal(place(&e, &in, fills, 2, &n, &err), COCE_EUNKNOWN);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "query by client id"));
    /* Exactly one order at the venue, one POST: the adapter did not resend. */
    assert_int_equal(coce_fake_binance_find(e.fake, "coce-drop-1", NULL), 1);
    assert_int_equal(coce_fake_binance_requests(e.fake, "POST", NULL), 1);
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-drop-1", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_FILLED);
    assert_close(os.filled_qty, 40, 1e-12, 0);
    /* Its execution is not lost: poll_fills reports it once. */
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_close(fills[0].qty, 40, 1e-12, 0);
    assert_close(fills[0].price, 0.25, 1e-12, 0);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    env_down(&e);
}

static void test_timeout_unknown_until_recv_window(void **state)
{
    (void)state;
    coce_binance_opts o;
    opts_for(&o, NULL);
    o.timeout_ms = 200;
    o.recv_window_ms = 700;
    env e;
    env_up(&e, &o);
    coce_err err;
    size_t n;
    coce_order_intent ok =
        order("coce-slow-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    coce_order_intent late =
        order("coce-slow-2", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    /* First: arrives 300 ms late, inside recvWindow -> accepted. */
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_SLOW,
                            1, 300);
    assert_int_equal(place(&e, &ok, NULL, 0, &n, &err), COCE_EUNKNOWN);
    /* Not there yet, but it may still arrive: unknown, not "not found". */
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-slow-1", &os, &err),
                     COCE_EUNKNOWN);
    assert_non_null(strstr(err.msg, "recvWindow"));
    coce_fill fills[2];
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    /* Second: processed 1200 ms late, after recvWindow: the venue refuses. */
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_SLOW,
                            1, 1200);
    assert_int_equal(place(&e, &late, NULL, 0, &n, &err), COCE_EUNKNOWN);
    /* Wait past timestamp + recvWindow + 1 s clock slack. */
    struct timespec ts = {.tv_sec = 1, .tv_nsec = 600000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-slow-1", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_OPEN);
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-slow-2", &os, &err),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_fake_binance_find(e.fake, "coce-slow-1", NULL), 1);
    assert_int_equal(coce_fake_binance_find(e.fake, "coce-slow-2", NULL), 0);
    assert_int_equal(coce_fake_binance_requests(e.fake, "POST", NULL), 2);
    env_down(&e);
}

static void test_5xx_and_malformed_on_order(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_state os;
    coce_order_intent a =
        order("coce-5xx-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_5XX,
                            1, 1);
    assert_int_equal(place(&e, &a, NULL, 0, &n, &err), COCE_EUNKNOWN);
    assert_non_null(strstr(err.msg, "HTTP 503"));
    assert_int_equal(e.x.query_by_client_id(e.x.impl, a.client_id, &os, &err),
                     COCE_OK);
    coce_order_intent m =
        order("coce-bad-1", ADX, COCE_SIDE_SELL, COCE_ORDER_MARKET, 30, 0);
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order",
                            COCE_FAKE_BN_MALFORMED, 1, 0);
    assert_int_equal(place(&e, &m, NULL, 0, &n, &err), COCE_EUNKNOWN);
    assert_non_null(strstr(err.msg, "malformed JSON"));
    assert_int_equal(e.x.query_by_client_id(e.x.impl, m.client_id, &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_FILLED);
    /* -1007: "Send status unknown; execution status unknown." */
    coce_order_intent u =
        order("coce-unk-1", ADX, COCE_SIDE_SELL, COCE_ORDER_MARKET, 30, 0);
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_ERROR,
                            1, -1007);
    assert_int_equal(place(&e, &u, NULL, 0, &n, &err), COCE_EUNKNOWN);
    /* Other refusals: -2010 with another reason. */
    coce_order_intent r =
        order("coce-rej-1", ADX, COCE_SIDE_SELL, COCE_ORDER_MARKET, 30, 0);
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_ERROR,
                            1, -2010);
    assert_int_equal(place(&e, &r, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "-2010"));
    /* Each order was sent once; one exists per accepted client id. */
    assert_int_equal(coce_fake_binance_requests(e.fake, "POST", NULL), 4);
    assert_int_equal(coce_fake_binance_order_count(e.fake), 2);
    env_down(&e);
}

static void test_connection_refused_not_sent(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_instrument_rules rules;
    assert_int_equal(e.x.instrument_rules(e.x.impl, ADX, &rules, &err),
                     COCE_OK);
    assert_int_equal(coce_binance_sync_time(e.b, &err), COCE_OK);
    coce_fake_binance_stop(e.fake);
    e.fake = NULL;
    coce_order_intent in =
        order("coce-ref-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_ENET);
    assert_non_null(strstr(err.msg, "not sent"));
    coce_balance bal[2];
    assert_int_equal(e.x.balances(e.x.impl, bal, 2, &n, &err), COCE_ENET);
    coce_binance_stats st;
    coce_binance_get_stats(e.b, &st);
    assert_true(st.retries >= 3); /* the GET was retried */
    coce_binance_free(e.b);
}

/* ---- rate limits --------------------------------------------------------- */

static void test_429_get_waits_retry_after(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_balance bal[4];
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account", COCE_FAKE_BN_429,
                            1, 1);
    int64_t t0 = now_ms();
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_OK);
    /* Waited Retry-After (1 s) before the second attempt. */
    assert_true(now_ms() - t0 >= 950);
    assert_int_equal(
        coce_fake_binance_requests(e.fake, "GET", "/api/v3/account"), 2);
    coce_binance_stats st;
    coce_binance_get_stats(e.b, &st);
    assert_int_equal(st.rate_limited, 1);
    env_down(&e);
}

static void test_429_on_order_and_418_refuse_without_sending(void **state)
{
    (void)state;
    coce_binance_opts o;
    opts_for(&o, NULL);
    o.max_wait_ms = 200;
    env e;
    env_up(&e, &o);
    coce_err err;
    size_t n;
    coce_order_intent a =
        order("coce-rl-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    coce_order_intent b =
        order("coce-rl-2", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_429,
                            1, 30);
    assert_int_equal(place(&e, &a, NULL, 0, &n, &err), COCE_ERATELIMIT);
    assert_non_null(strstr(err.msg, "429"));
    assert_int_equal(coce_fake_binance_order_count(e.fake), 0);
    /* Inside the 30 s window nothing is sent: not even a GET. */
    int before = coce_fake_binance_requests(e.fake, NULL, NULL);
    assert_int_equal(place(&e, &b, NULL, 0, &n, &err), COCE_ERATELIMIT);
    assert_non_null(strstr(err.msg, "not sent"));
    coce_balance bal[4];
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_ERATELIMIT);
    assert_int_equal(coce_fake_binance_requests(e.fake, NULL, NULL), before);
    coce_binance_stats st;
    coce_binance_get_stats(e.b, &st);
    assert_true(st.blocked_until_ms > now_ms() + 25000);
    env_down(&e);

    /* 418 (IP ban) on a GET with a long Retry-After: no in-process wait. */
    env_up(&e, &o);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account", COCE_FAKE_BN_418,
                            1, 120);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_ERATELIMIT);
    assert_non_null(strstr(err.msg, "banned"));
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_ERATELIMIT);
    assert_int_equal(
        coce_fake_binance_requests(e.fake, "GET", "/api/v3/account"), 1);
    env_down(&e);

    /* An order-count 429 without Retry-After: backoff_ms window. */
    env_up(&e, &o);
    coce_fake_binance_fault(e.fake, "POST", "/api/v3/order", COCE_FAKE_BN_429,
                            1, -1);
    assert_int_equal(place(&e, &a, NULL, 0, &n, &err), COCE_ERATELIMIT);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 30000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(place(&e, &b, NULL, 0, &n, &err), COCE_OK);
    env_down(&e);
}

static void test_used_weight_pauses(void **state)
{
    (void)state;
    coce_binance_opts o;
    opts_for(&o, NULL);
    o.weight_limit_1m = 50;
    o.max_wait_ms = 0;
    env e;
    env_up(&e, &o);
    coce_fake_binance_set_weight(e.fake, 60);
    coce_err err;
    coce_instrument_rules r;
    assert_int_equal(e.x.instrument_rules(e.x.impl, ADX, &r, &err), COCE_OK);
    assert_int_equal(e.x.instrument_rules(e.x.impl, ETH, &r, &err),
                     COCE_ERATELIMIT);
    assert_int_equal(coce_fake_binance_requests(e.fake, NULL, NULL), 1);
    coce_binance_stats st;
    coce_binance_get_stats(e.b, &st);
    assert_int_equal(st.used_weight_1m, 60);
    env_down(&e);
}

/* ---- safe GETs are retried ----------------------------------------------- */

static void test_get_retries(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_balance bal[4];
    coce_fake_binance_set_balance(e.fake, "USDT", 1000, 50);
    coce_fake_binance_set_balance(e.fake, "ADX", 10, 0);
    coce_fake_binance_set_balance(e.fake, "XYZ", 1, 0);
    /* 5xx twice, then malformed JSON, then slow (timeout): four retries. */
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account", COCE_FAKE_BN_5XX,
                            2, 0);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account",
                            COCE_FAKE_BN_MALFORMED, 1, 0);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(bal[0].asset, COCE_ASSET_QUOTE);
    assert_close(bal[0].total, 1050, 1e-12, 0);
    assert_close(bal[0].locked, 50, 1e-12, 0);
    assert_int_equal(bal[1].asset, ADX);
    assert_int_equal(e.x.balances(e.x.impl, bal, 1, &n, &err), COCE_ERANGE);
    assert_int_equal(n, 2);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account", COCE_FAKE_BN_SLOW,
                            1, 700);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_OK);
    coce_binance_stats st;
    coce_binance_get_stats(e.b, &st);
    assert_int_equal(st.retries, 4);
    /* Exhausted: the last failure is reported. */
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account", COCE_FAKE_BN_5XX,
                            4, 0);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_EHTTP);
    assert_non_null(strstr(err.msg, "503"));
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account",
                            COCE_FAKE_BN_MALFORMED, 4, 0);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_EPARSE);
    env_down(&e);

    coce_binance_opts q;
    opts_for(&q, NULL);
    q.get_retries = 1;
    q.timeout_ms = 150;
    env_up(&e, &q);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account", COCE_FAKE_BN_SLOW,
                            2, 400);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_ETIMEOUT);
    env_down(&e);
}

/* ---- clock and credentials ------------------------------------------------
 */

static void test_clock_resync_on_1021(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_balance bal[4];
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_OK);
    /* The venue's clock jumps 3 s back: our timestamps are "1000ms ahead
     * of the server's time", the next signed GET is refused with -1021,
     * the adapter resyncs and repeats it. */
    coce_fake_binance_set_time_offset(e.fake, -3000);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_binance_requests(e.fake, "GET", "/api/v3/time"),
                     2);
    assert_int_equal(coce_fake_binance_auth_failures(e.fake), 1);
    /* An order refused for its timestamp is not resent by the adapter. */
    coce_fake_binance_set_time_offset(e.fake, -6000);
    coce_order_intent in =
        order("coce-clk-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "-1021"));
    assert_int_equal(coce_fake_binance_requests(e.fake, "POST", NULL), 1);
    /* It was refused, so it cannot appear later: not found at once. */
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, in.client_id, &os, &err),
                     COCE_ENOTFOUND);
    env_down(&e);
}

static void test_bad_credentials(void **state)
{
    (void)state;
    env e;
    coce_binance_opts o;
    opts_for(&o, NULL);
    o.api_secret = "wrong-secret-value-1234";
    env_up(&e, &o);
    coce_err err;
    size_t n;
    coce_balance bal[4];
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_EAUTH);
    assert_non_null(strstr(err.msg, "-1022"));
    assert_null(strstr(err.msg, "wrong-secret-value-1234"));
    assert_null(strstr(err.msg, KEY));
    env_down(&e);
    opts_for(&o, NULL);
    o.api_key = "another-key-4321";
    env_up(&e, &o);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_EAUTH);
    assert_non_null(strstr(err.msg, "-2015"));
    assert_null(strstr(err.msg, "another-key-4321"));
    env_down(&e);
}

/* ---- cancel, open orders, rules ------------------------------------------ */

static void test_cancel_and_open_orders(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_intent a =
        order("coce-c-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    coce_order_intent b =
        order("coce-c-2", ETH, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 0.5, 2500);
    assert_int_equal(place(&e, &a, NULL, 0, &n, &err), COCE_OK);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 5000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(place(&e, &b, NULL, 0, &n, &err), COCE_OK);
    coce_order_state open[4];
    assert_int_equal(e.x.open_orders(e.x.impl, open, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(open[0].intent.client_id, "coce-c-1");
    assert_string_equal(open[1].intent.client_id, "coce-c-2");
    assert_true(open[0].placed_ms <= open[1].placed_ms);
    assert_int_equal(open[1].intent.asset, ETH);
    assert_int_equal(e.x.open_orders(e.x.impl, open, 1, &n, &err), COCE_ERANGE);
    assert_int_equal(n, 2);

    assert_int_equal(e.x.cancel(e.x.impl, "coce-c-1", 0, &err), COCE_OK);
    coce_fake_bn_order fo;
    coce_fake_binance_find(e.fake, "coce-c-1", &fo);
    assert_string_equal(fo.status, "CANCELED");
    assert_int_equal(e.x.cancel(e.x.impl, "coce-c-1", 0, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "already canceled"));
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-c-1", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_CANCELED);
    /* Tracked but never sent (sent_ms 0): the venue does not know it. */
    coce_order_intent never =
        order("coce-c-3", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    assert_int_equal(coce_binance_track(e.b, &never, 0, 0, &err), COCE_OK);
    assert_int_equal(e.x.cancel(e.x.impl, "coce-c-3", 0, &err), COCE_ENOTFOUND);
    /* A cancel whose answer is lost: unknown, not repeated. */
    coce_fake_binance_fault(e.fake, "DELETE", "/api/v3/order", COCE_FAKE_BN_5XX,
                            1, 1);
    assert_int_equal(e.x.cancel(e.x.impl, "coce-c-2", 0, &err), COCE_EUNKNOWN);
    assert_int_equal(coce_fake_binance_requests(e.fake, "DELETE", NULL), 4);
    coce_fake_binance_find(e.fake, "coce-c-2", &fo);
    assert_string_equal(fo.status, "CANCELED");
    assert_int_equal(e.x.open_orders(e.x.impl, open, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    env_down(&e);
}

static void test_restart_track_and_rules(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_fill fills[2];
    coce_order_intent a =
        order("coce-r-1", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    assert_int_equal(place(&e, &a, NULL, 0, &n, &err), COCE_OK);
    coce_fake_binance_fill(e.fake, "coce-r-1", 40, 0.2);
    /* Restart: a new handle learns the order from the journal, with the 40
     * already journalled as filled. */
    coce_binance_free(e.b);
    coce_binance_opts o;
    opts_for(&o, coce_fake_binance_url(e.fake));
    assert_int_equal(coce_binance_new(&o, &e.b, &err), COCE_OK);
    e.x = coce_binance_exchange(e.b);
    assert_int_equal(coce_binance_track(e.b, &a, now_ms() - 60000, 40, &err),
                     COCE_OK);
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-r-1", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_PARTIAL);
    coce_order_state open[2];
    assert_int_equal(e.x.open_orders(e.x.impl, open, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(open[0].intent.reason, a.reason);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    coce_fake_binance_fill(e.fake, "coce-r-1", 60, 0.19);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 2, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_close(fills[0].qty, 60, 1e-12, 0);
    assert_close(fills[0].price, 0.19, 1e-9, 0);
    /* Rules from exchangeInfo. */
    coce_instrument_rules r;
    assert_int_equal(e.x.instrument_rules(e.x.impl, ADX, &r, &err), COCE_OK);
    assert_close(r.tick_size, 0.0001, 1e-12, 0);
    assert_close(r.lot_size, 0.01, 1e-12, 0);
    assert_close(r.min_qty, 1, 1e-12, 0);
    assert_close(r.min_notional, 5, 1e-12, 0);
    assert_int_equal(e.x.instrument_rules(e.x.impl, GONE, &r, &err),
                     COCE_EEXCHANGE);
    assert_string_equal(e.x.name, "binance");
    env_down(&e);
}

static void test_other_processes_and_statuses(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_binance_opts o;
    opts_for(&o, coce_fake_binance_url(e.fake));
    coce_binance *b2 = NULL, *b3 = NULL;
    assert_int_equal(coce_binance_new(&o, &b2, &err), COCE_OK);
    o.quote_asset = "BTC";
    assert_int_equal(coce_binance_new(&o, &b3, &err), COCE_OK);
    coce_exchange x2 = coce_binance_exchange(b2),
                  x3 = coce_binance_exchange(b3);
    /* ':' and '/' are legal in a client id and percent-encoded on the wire
     * (the signature covers the encoded text). */
    coce_order_intent a =
        order("coce:run/7", ADX, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 40, 0.3);
    coce_order_intent c =
        order("coce-o-2", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 40, 0.000004);
    assert_int_equal(x2.place(x2.impl, &a, 0, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(x3.place(x3.impl, &c, 0, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_binance_find(e.fake, "coce:run/7", NULL), 1);
    /* This process tracks neither: the USDT one is still described; the
     * BTC-quoted one is another book and is left out. */
    coce_order_state open[4];
    assert_int_equal(e.x.open_orders(e.x.impl, open, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(open[0].intent.client_id, "coce:run/7");
    assert_int_equal(open[0].intent.asset, ADX);
    assert_int_equal(open[0].intent.side, COCE_SIDE_SELL);
    assert_int_equal(open[0].intent.type, COCE_ORDER_LIMIT);
    assert_close(open[0].intent.qty, 40, 1e-12, 0);
    assert_close(open[0].intent.limit_price, 0.3, 1e-12, 0);
    assert_int_equal(open[0].status, COCE_EXEC_OPEN);
    /* Venue statuses map onto the interface's. */
    struct {
        const char *venue;
        coce_exec_status want;
    } map[] = {{"EXPIRED", COCE_EXEC_CANCELED},
               {"EXPIRED_IN_MATCH", COCE_EXEC_CANCELED},
               {"REJECTED", COCE_EXEC_REJECTED},
               {"PENDING_NEW", COCE_EXEC_PENDING},
               {"PENDING_CANCEL", COCE_EXEC_OPEN},
               {"PARTIALLY_FILLED", COCE_EXEC_PARTIAL}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        coce_order_state os;
        assert_int_equal(
            coce_fake_binance_set_status(e.fake, "coce:run/7", map[i].venue),
            0);
        assert_int_equal(
            x2.query_by_client_id(x2.impl, "coce:run/7", &os, &err), COCE_OK);
        assert_int_equal(os.status, map[i].want);
    }
    coce_binance_free(b2);
    coce_binance_free(b3);
    env_down(&e);
}

static void test_error_pages_and_failing_helpers(void **state)
{
    (void)state;
    coce_binance_opts o;
    opts_for(&o, NULL);
    o.get_retries = 1;
    env e;
    env_up(&e, &o);
    coce_err err;
    size_t n;
    coce_balance bal[4];
    /* A WAF page (403, HTML) and a 404 page: no Binance payload. */
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account",
                            COCE_FAKE_BN_ERROR, 1, 0);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_EAUTH);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account",
                            COCE_FAKE_BN_ERROR, 1, 1);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_EHTTP);
    assert_non_null(strstr(err.msg, "404"));
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/account",
                            COCE_FAKE_BN_ERROR, 1, -1003);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_ERATELIMIT);
    /* avgPrice unavailable: a market order cannot be checked, not sent. */
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/avgPrice", COCE_FAKE_BN_5XX,
                            2, 0);
    coce_order_intent m =
        order("coce-h-1", ADX, COCE_SIDE_BUY, COCE_ORDER_MARKET, 100, 0);
    assert_int_equal(place(&e, &m, NULL, 0, &n, &err), COCE_EHTTP);
    assert_int_equal(coce_fake_binance_requests(e.fake, "POST", NULL), 0);
    /* openOrders and poll_fills report a failing venue. */
    coce_order_intent l =
        order("coce-h-2", ADX, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 100, 0.2);
    assert_int_equal(place(&e, &l, NULL, 0, &n, &err), COCE_OK);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/openOrders",
                            COCE_FAKE_BN_5XX, 2, 0);
    coce_order_state open[2];
    assert_int_equal(e.x.open_orders(e.x.impl, open, 2, &n, &err), COCE_EHTTP);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/order", COCE_FAKE_BN_5XX, 2,
                            0);
    coce_fill fills[2];
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 2, &n, &err), COCE_EHTTP);
    env_down(&e);

    /* The clock cannot be synchronised: no signed request is sent. */
    env_up(&e, &o);
    coce_instrument_rules r;
    assert_int_equal(e.x.instrument_rules(e.x.impl, ADX, &r, &err), COCE_OK);
    coce_fake_binance_fault(e.fake, "GET", "/api/v3/time", COCE_FAKE_BN_5XX, 4,
                            0);
    assert_int_equal(place(&e, &l, NULL, 0, &n, &err), COCE_EHTTP);
    assert_int_equal(e.x.balances(e.x.impl, bal, 4, &n, &err), COCE_EHTTP);
    assert_int_equal(coce_fake_binance_requests(e.fake, "POST", NULL), 0);
    assert_int_equal(
        coce_fake_binance_requests(e.fake, "GET", "/api/v3/account"), 0);
    env_down(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_documented_example),
        cmocka_unit_test(test_format_decimal),
        cmocka_unit_test(test_opts_validation),
        cmocka_unit_test(test_market_order_fills_and_headers),
        cmocka_unit_test(test_limit_rounding_and_poll_fills),
        cmocka_unit_test(test_fills_beyond_cap_are_queued),
        cmocka_unit_test(test_filters_enforced_before_sending),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_duplicate_client_id),
        cmocka_unit_test(test_drop_after_accept_unknown_then_found),
        cmocka_unit_test(test_timeout_unknown_until_recv_window),
        cmocka_unit_test(test_5xx_and_malformed_on_order),
        cmocka_unit_test(test_connection_refused_not_sent),
        cmocka_unit_test(test_429_get_waits_retry_after),
        cmocka_unit_test(test_429_on_order_and_418_refuse_without_sending),
        cmocka_unit_test(test_used_weight_pauses),
        cmocka_unit_test(test_get_retries),
        cmocka_unit_test(test_clock_resync_on_1021),
        cmocka_unit_test(test_bad_credentials),
        cmocka_unit_test(test_cancel_and_open_orders),
        cmocka_unit_test(test_restart_track_and_rules),
        cmocka_unit_test(test_other_processes_and_statuses),
        cmocka_unit_test(test_error_pages_and_failing_helpers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
