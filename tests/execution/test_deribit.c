/* Deribit adapter against the fake JSON-RPC venue on 127.0.0.1: auth and
 * token refresh before expiry, each RPC, rules and the long-only check
 * before sending, and each fault of the matrix in docs/deribit.md (slow
 * answer, dropped connection, 429, 5xx, malformed JSON, Deribit error
 * codes) with what the adapter does: retry with backoff (reads only), a
 * clear error, no duplicate order, nothing lost. */
#include "execution/deribit.h"
#include "testutil.h"
#include "utils/error.h"
#include "utils/log.h"

/* The fake venue is test-only code: compiled into this executable. */
#include "fake_deribit.c"

#include <curl/curl.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CID "test-client-Xy7Qp2"
#define CSECRET "test-secret-Zz9Wv8Uu7Tt6"
#define CALL "BTC-27JUN25-80000-C"
#define PUT "BTC-27JUN25-50000-P"
#define OLD "BTC-1JAN20-9000-C"
#define ETHC "ETH-27JUN25-4000-C"

enum { A_CALL = 1, A_PUT = 2, A_OLD = 3, A_ETH = 4 };

static char tmp[512];

typedef struct env {
    coce_fake_deribit *fake;
    coce_deribit *d;
    coce_exchange x;
} env;

static int group_setup(void **state)
{
    (void)state;
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
    char path[600];
    snprintf(path, sizeof path, "%s/log.jsonl", tmp);
    size_t len = 0;
    char *log = coce_test_read_file(path, &len);
    assert_non_null(log);
    assert_true(len > 0);
    /* Neither the credentials nor a token ever reach a log line. */
    assert_null(strstr(log, CID));
    assert_null(strstr(log, CSECRET));
    assert_null(strstr(log, "acc."));
    assert_null(strstr(log, "ref."));
    assert_non_null(strstr(log, "order_send"));
    assert_non_null(strstr(log, "token_refresh"));
    free(log);
    coce_test_rmtree(tmp);
    return 0;
}

static void opts_for(coce_deribit_opts *o)
{
    coce_deribit_opts_default(o);
    o->client_id = CID;
    o->client_secret = CSECRET;
    o->timeout_ms = 400;
    o->backoff_ms = 10;
    o->max_wait_ms = 3000;
    o->valid_window_ms = 300;
}

static void env_up_ttl(env *e, const coce_deribit_opts *custom, int ttl_s)
{
    memset(e, 0, sizeof *e);
    assert_int_equal(coce_fake_deribit_start(CID, CSECRET, ttl_s, &e->fake),
                     0);
    coce_fake_db_instrument call = {.name = CALL,
                                    .tick = 0.0005,
                                    .step_above = 0.005,
                                    .step_tick = 0.001,
                                    .min_amount = 0.1,
                                    .price = 0.0125};
    coce_fake_db_instrument put = call;
    put.name = PUT;
    put.price = 0.002;
    coce_fake_db_instrument old = call;
    old.name = OLD;
    old.inactive = 1;
    coce_fake_db_instrument eth = call;
    eth.name = ETHC;
    eth.min_amount = 1.0;
    assert_int_equal(coce_fake_deribit_add_instrument(e->fake, &call), 0);
    assert_int_equal(coce_fake_deribit_add_instrument(e->fake, &put), 0);
    assert_int_equal(coce_fake_deribit_add_instrument(e->fake, &old), 0);
    assert_int_equal(coce_fake_deribit_add_instrument(e->fake, &eth), 0);
    coce_deribit_opts o;
    if (custom)
        o = *custom;
    else
        opts_for(&o);
    o.base_url = coce_fake_deribit_url(e->fake);
    coce_err err;
    assert_int_equal(coce_deribit_new(&o, &e->d, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(e->d, A_CALL, CALL, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(e->d, A_PUT, PUT, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(e->d, A_OLD, OLD, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(e->d, A_ETH, ETHC, &err), COCE_OK);
    e->x = coce_deribit_exchange(e->d);
}

static void env_up(env *e, const coce_deribit_opts *custom)
{
    env_up_ttl(e, custom, 900);
}

static void env_down(env *e)
{
    coce_deribit_free(e->d);
    coce_fake_deribit_stop(e->fake);
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

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- construction ------------------------------------------------------ */

static void test_opts_and_register(void **state)
{
    (void)state;
    coce_deribit_opts o;
    coce_deribit_opts_default(&o);
    assert_string_equal(o.base_url, "https://test.deribit.com");
    assert_int_equal(o.timeout_ms, 10000);
    coce_deribit *d = NULL;
    coce_err err;
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_ESECRET);
    assert_null(d);
    opts_for(&o);
    o.client_secret = "";
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_ESECRET);
    opts_for(&o);
    o.base_url = "ftp://x";
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "deribit.base_url"));
    assert_null(strstr(err.msg, CSECRET));
    opts_for(&o);
    o.timeout_ms = 0;
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_EINVAL);
    opts_for(&o);
    o.valid_window_ms = 0;
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_EINVAL);
    opts_for(&o);
    o.currency = "";
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_EINVAL);
    assert_int_equal(coce_deribit_new(NULL, &d, &err), COCE_EINVAL);
    assert_int_equal(coce_deribit_new(&o, NULL, &err), COCE_EINVAL);
    opts_for(&o);
    o.base_url = "http://127.0.0.1:1/";
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(d, 1, CALL, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(d, 1, CALL, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(d, 1, PUT, &err), COCE_EEXIST);
    assert_int_equal(coce_deribit_register(d, 2, CALL, &err), COCE_EEXIST);
    assert_int_equal(coce_deribit_register(d, COCE_ASSET_QUOTE, PUT, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_deribit_register(d, 3, "", &err), COCE_EINVAL);
    assert_int_equal(coce_deribit_register(d, 3, "-X", &err), COCE_EINVAL);
    assert_int_equal(coce_deribit_register(d, 4, "SOL_USDC-27JUN25-150-C",
                                           &err),
                     COCE_OK);
    assert_int_equal(coce_deribit_register(NULL, 4, CALL, &err), COCE_EINVAL);
    /* Nothing listens on port 1: never sent. */
    assert_int_equal(coce_deribit_authenticate(d, &err), COCE_ENET);
    assert_non_null(strstr(err.msg, "not sent"));
    assert_null(strstr(err.msg, CSECRET));
    coce_exchange x = coce_deribit_exchange(d);
    assert_string_equal(x.name, "deribit");
    coce_order_intent in = order("c-1", 1, COCE_SIDE_BUY, COCE_ORDER_MARKET,
                                 0.1, 0);
    size_t n = 0;
    assert_int_equal(x.place(x.impl, &in, 0, NULL, 0, &n, &err), COCE_ENET);
    coce_deribit_free(d);
    coce_deribit_free(NULL);
    assert_int_equal(coce_deribit_authenticate(NULL, &err), COCE_EINVAL);
}

/* ---- authentication ---------------------------------------------------- */

static void test_auth_refresh_before_expiry(void **state)
{
    (void)state;
    coce_deribit_opts o;
    opts_for(&o);
    o.refresh_margin_ms = 1500;
    env e;
    env_up_ttl(&e, &o, 2); /* tokens live 2 s */
    coce_err err;
    double size = -1;
    assert_int_equal(coce_deribit_position(e.d, A_CALL, &size, &err), COCE_OK);
    assert_true(size == 0.0);
    assert_int_equal(coce_fake_deribit_grants(e.fake, "client_credentials"),
                     1);
    assert_int_equal(coce_fake_deribit_grants(e.fake, "refresh_token"), 0);
    coce_deribit_stats st;
    coce_deribit_get_stats(e.d, &st);
    assert_true(st.token_expiry_ms > 0);
    /* More than the margin left: the token is reused. */
    assert_int_equal(coce_deribit_position(e.d, A_CALL, &size, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_grants(e.fake, "refresh_token"), 0);
    /* Less than 1.5 s left of 2 s: renewed BEFORE it expires, with the
     * refresh token, and the call goes through first time. */
    sleep_ms(700);
    assert_int_equal(coce_deribit_position(e.d, A_CALL, &size, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_grants(e.fake, "refresh_token"), 1);
    assert_int_equal(coce_fake_deribit_grants(e.fake, "client_credentials"),
                     1);
    assert_int_equal(coce_fake_deribit_auth_failures(e.fake), 0);
    /* A refused refresh falls back to client_credentials. */
    sleep_ms(700);
    coce_fake_deribit_fault(e.fake, "public/auth", COCE_FAKE_DB_ERROR, 1,
                            13009);
    assert_int_equal(coce_deribit_position(e.d, A_CALL, &size, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_grants(e.fake, "client_credentials"),
                     2);
    /* A revoked token: 13009 once, re-authenticated, the read repeated. */
    coce_fake_deribit_revoke_tokens(e.fake);
    assert_int_equal(coce_deribit_position(e.d, A_CALL, &size, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_auth_failures(e.fake), 1);
    assert_int_equal(coce_fake_deribit_grants(e.fake, "client_credentials"),
                     3);
    coce_deribit_get_stats(e.d, &st);
    assert_int_equal((int)st.auths, 3);
    assert_int_equal((int)st.refreshes, 1);
    env_down(&e);
}

static void test_bad_credentials(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_deribit_opts o;
    opts_for(&o);
    o.base_url = coce_fake_deribit_url(e.fake);
    o.client_secret = "wrong-secret-123456";
    coce_deribit *d = NULL;
    coce_err err;
    assert_int_equal(coce_deribit_new(&o, &d, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(d, A_CALL, CALL, &err), COCE_OK);
    assert_int_equal(coce_deribit_authenticate(d, &err), COCE_EAUTH);
    assert_non_null(strstr(err.msg, "13004"));
    assert_null(strstr(err.msg, "wrong-secret"));
    /* Not retried: a refusal is final. */
    assert_int_equal(coce_fake_deribit_requests(e.fake, "public/auth"), 1);
    double size;
    assert_int_equal(coce_deribit_position(d, A_CALL, &size, &err),
                     COCE_EAUTH);
    coce_deribit_free(d);
    env_down(&e);
}

/* ---- market data -------------------------------------------------------- */

static void test_market_data(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    char *json = NULL;
    assert_int_equal(
        coce_deribit_get_instruments(e.d, "BTC", "option", &json, &err),
        COCE_OK);
    assert_non_null(strstr(json, CALL));
    assert_null(strstr(json, ETHC));
    assert_non_null(strstr(json, "min_trade_amount"));
    free(json);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_OK);
    assert_non_null(strstr(json, "\"mark_price\":0.0125"));
    free(json);
    assert_int_equal(coce_deribit_ticker(e.d, "BTC-NOPE", &json, &err),
                     COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "13020"));
    assert_null(json);
    assert_int_equal(coce_deribit_book_summary(e.d, "ETH", NULL, &json, &err),
                     COCE_OK);
    assert_non_null(strstr(json, ETHC));
    assert_null(strstr(json, CALL));
    free(json);
    coce_deribit_book b;
    assert_int_equal(coce_deribit_order_book(e.d, CALL, 5, &b, &err), COCE_OK);
    assert_string_equal(b.instrument, CALL);
    assert_close(b.best_bid, 0.012, 1e-12, 0);
    assert_close(b.best_ask, 0.013, 1e-12, 0);
    assert_close(b.best_bid_amount, 3.0, 0, 0);
    assert_close(b.best_ask_amount, 4.0, 0, 0);
    assert_close(b.mark_price, 0.0125, 1e-12, 0);
    assert_close(b.underlying_price, 60000.0, 0, 0);
    assert_int_equal((int)b.n_bids, 2);
    assert_int_equal((int)b.n_asks, 1);
    assert_true(b.timestamp_ms > 0);
    assert_int_equal(coce_deribit_order_book(e.d, CALL, 0, &b, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_deribit_order_book(e.d, NULL, 5, &b, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_deribit_ticker(e.d, NULL, &json, &err), COCE_EINVAL);
    assert_int_equal(coce_deribit_get_instruments(e.d, NULL, NULL, &json, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_deribit_book_summary(e.d, NULL, NULL, &json, &err),
                     COCE_EINVAL);
    /* Public reads need no token. */
    assert_int_equal(coce_fake_deribit_requests(e.fake, "public/auth"), 0);
    env_down(&e);
}

/* ---- orders -------------------------------------------------------------- */

static void test_market_buy_fills(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    coce_fill fills[4];
    size_t n = 0;
    coce_order_intent in =
        order("coce-b-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.3, 0);
    assert_int_equal(place(&e, &in, fills, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 2);
    double q = 0, fee = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(fills[i].client_id, "coce-b-1");
        assert_int_equal(fills[i].asset, A_CALL);
        assert_close(fills[i].price, 0.0125, 1e-12, 0);
        q += fills[i].qty;
        fee += fills[i].fee;
    }
    assert_close(q, 0.3, 1e-12, 0);
    assert_close(fee, 0.0003 * 0.3, 1e-9, 0);
    char body[4096];
    coce_fake_deribit_last_body(e.fake, body, sizeof body);
    assert_non_null(strstr(body, "\"method\":\"private/buy\""));
    assert_non_null(strstr(body, "\"label\":\"coce-b-1\""));
    assert_non_null(strstr(body, "\"type\":\"market\""));
    assert_non_null(strstr(body, "\"valid_until\":"));
    assert_null(strstr(body, "reduce_only"));
    assert_close(coce_fake_deribit_position(e.fake, CALL), 0.3, 1e-12, 0);
    coce_order_state st;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "coce-b-1", &st, &err),
                     COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_FILLED);
    assert_close(st.filled_qty, 0.3, 1e-12, 0);
    assert_close(st.avg_price, 0.0125, 1e-12, 0);
    assert_close(st.fees, 0.0003 * 0.3, 1e-9, 0);
    /* Nothing more to report. */
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 0);
    coce_instrument_rules r;
    assert_int_equal(e.x.instrument_rules(e.x.impl, A_CALL, &r, &err),
                     COCE_OK);
    assert_close(r.tick_size, 0.0005, 1e-12, 0);
    assert_close(r.lot_size, 0.1, 1e-12, 0);
    assert_close(r.min_qty, 0.1, 1e-12, 0);
    assert_int_equal(e.x.instrument_rules(e.x.impl, 99, &r, &err),
                     COCE_EINVAL);
    /* get_instruments is rate limited hard: one call per currency. */
    assert_int_equal(
        coce_fake_deribit_requests(e.fake, "public/get_instruments"), 1);
    /* Fills beyond cap are kept for poll_fills. */
    coce_order_intent in2 =
        order("coce-b-2", A_PUT, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.2, 0);
    assert_int_equal(place(&e, &in2, fills, 1, &n, &err), COCE_OK);
    assert_int_equal((int)n, 1);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 1);
    assert_close(fills[0].qty, 0.1, 1e-12, 0);
    env_down(&e);
}

static void test_rules_before_sending(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_intent in =
        order("r-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.05, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "min_trade_amount"));
    in = order("r-2", A_OLD, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "not active"));
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/buy"), 0);
    /* Amount down to 0.1 steps, buy limit down to the 0.0005 tick. */
    in = order("r-3", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.37, 0.00123);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    coce_fake_db_order fo;
    assert_int_equal(coce_fake_deribit_find(e.fake, "r-3", &fo), 1);
    assert_close(fo.amount, 0.3, 1e-12, 0);
    assert_close(fo.price, 0.001, 1e-12, 0);
    assert_string_equal(fo.state, "open");
    /* Above 0.005 the tick is 0.001 (tick_size_steps); a sell rounds up:
     * never a worse limit than asked. */
    coce_fake_deribit_set_position(e.fake, CALL, 2.0);
    in = order("r-4", A_CALL, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 1.0, 0.00612);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_find(e.fake, "r-4", &fo), 1);
    assert_close(fo.price, 0.007, 1e-12, 0);
    /* Rounded up across the step boundary: re-rounded on the coarse grid. */
    in = order("r-5", A_CALL, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 0.2, 0.00499);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_find(e.fake, "r-5", &fo), 1);
    assert_close(fo.price, 0.005, 1e-12, 0);
    /* Bad arguments never reach the venue. */
    int before = coce_fake_deribit_requests(e.fake, NULL);
    in = order("r-6", A_CALL, 0, COCE_ORDER_LIMIT, 1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EINVAL);
    in = order("r-6", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, NAN);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EINVAL);
    in = order("r 6", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EINVAL);
    in = order("r-6", 77, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EINVAL);
    in = order("r-6", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, 0.0001);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_int_equal(e.x.place(e.x.impl, &in, 0, NULL, 1, &n, &err),
                     COCE_EINVAL);
    assert_int_equal(e.x.place(NULL, &in, 0, NULL, 0, &n, &err), COCE_EINVAL);
    assert_int_equal(coce_fake_deribit_requests(e.fake, NULL), before);
    env_down(&e);
}

static void test_long_only_sell_refused(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_fake_deribit_set_position(e.fake, CALL, 1.0);
    coce_order_intent in =
        order("s-1", A_CALL, COCE_SIDE_SELL, COCE_ORDER_MARKET, 1.5, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "short"));
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/sell"), 0);
    /* A resting sell of 0.6 leaves 0.4 to sell. */
    in = order("s-2", A_CALL, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 0.6, 0.02);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    char body[4096];
    coce_fake_deribit_last_body(e.fake, body, sizeof body);
    assert_non_null(strstr(body, "\"reduce_only\":true"));
    in = order("s-3", A_CALL, COCE_SIDE_SELL, COCE_ORDER_MARKET, 0.5, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    in = order("s-4", A_CALL, COCE_SIDE_SELL, COCE_ORDER_MARKET, 0.4, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    assert_close(coce_fake_deribit_position(e.fake, CALL), 0.6, 1e-12, 0);
    /* Nothing held of the put: no sell at all. */
    in = order("s-5", A_PUT, COCE_SIDE_SELL, COCE_ORDER_MARKET, 0.1, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    /* A sell whose outcome is unknown still counts as selling. */
    coce_fake_deribit_set_position(e.fake, PUT, 1.0);
    coce_fake_deribit_fault(e.fake, "private/sell", COCE_FAKE_DB_5XX, 1, 0);
    in = order("s-6", A_PUT, COCE_SIDE_SELL, COCE_ORDER_MARKET, 0.7, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    in = order("s-7", A_PUT, COCE_SIDE_SELL, COCE_ORDER_MARKET, 0.5, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_close(coce_fake_deribit_position(e.fake, PUT), 1.0, 1e-12, 0);
    env_down(&e);
}

static void test_duplicate_label(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_intent in =
        order("dup-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    int before = coce_fake_deribit_requests(e.fake, NULL);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXIST);
    assert_int_equal(coce_fake_deribit_requests(e.fake, NULL), before);
    /* A new process (restart) with the same label: the venue would accept
     * it, the adapter looks first and refuses. */
    coce_deribit_opts o;
    opts_for(&o);
    o.base_url = coce_fake_deribit_url(e.fake);
    coce_deribit *d2 = NULL;
    assert_int_equal(coce_deribit_new(&o, &d2, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(d2, A_CALL, CALL, &err), COCE_OK);
    coce_exchange x2 = coce_deribit_exchange(d2);
    assert_int_equal(x2.place(x2.impl, &in, 0, NULL, 0, &n, &err),
                     COCE_EEXIST);
    assert_non_null(strstr(err.msg, "already names an order"));
    assert_int_equal(coce_fake_deribit_find(e.fake, "dup-1", NULL), 1);
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/buy"), 1);
    coce_deribit_free(d2);
    /* Two orders under one label (another client): reported, not guessed. */
    coce_fake_deribit_inject(e.fake, "twin", CALL, 1, 0.1, 0.01);
    coce_fake_deribit_inject(e.fake, "twin", CALL, 1, 0.1, 0.01);
    coce_order_intent tw =
        order("twin", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(coce_deribit_track(e.d, &tw, 0, 0, &err), COCE_OK);
    coce_order_state st;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "twin", &st, &err),
                     COCE_EEXIST);
    assert_int_equal(place(&e, &tw, NULL, 0, &n, &err), COCE_EEXIST);
    env_down(&e);
}

/* ---- faults on orders -------------------------------------------------- */

static void test_drop_after_accept_found_by_label(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    coce_fill fills[4];
    size_t n = 9;
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_DROP, 1, 0);
    coce_order_intent in =
        order("drop-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.4, 0);
    assert_int_equal(place(&e, &in, fills, 4, &n, &err), COCE_EUNKNOWN);
    assert_int_equal((int)n, 0);
    assert_non_null(strstr(err.msg, "outcome unknown"));
    /* Executed exactly once, sent exactly once. */
    assert_int_equal(coce_fake_deribit_find(e.fake, "drop-1", NULL), 1);
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/buy"), 1);
    /* The label settles it. */
    coce_order_state st;
    int qrc = e.x.query_by_client_id(e.x.impl, "drop-1", &st, &err);
    if (qrc != COCE_OK)
        fprintf(stderr, "query: %s\n", err.msg);
    assert_int_equal(qrc, COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_FILLED);
    assert_close(st.filled_qty, 0.4, 1e-12, 0);
    /* Its executions are not lost: poll_fills reports them once. */
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 1);
    assert_close(fills[0].qty, 0.4, 1e-12, 0);
    assert_close(fills[0].price, 0.0125, 1e-12, 0);
    assert_int_equal(e.x.poll_fills(e.x.impl, fills, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 0);
    /* A resend under the same id is refused, still one order. */
    assert_int_equal(place(&e, &in, fills, 4, &n, &err), COCE_EEXIST);
    assert_int_equal(coce_fake_deribit_find(e.fake, "drop-1", NULL), 1);
    env_down(&e);
}

static void test_slow_answer_unknown_then_settled(void **state)
{
    (void)state;
    coce_deribit_opts o;
    opts_for(&o);
    o.timeout_ms = 300;
    o.valid_window_ms = 2000;
    env e;
    env_up(&e, &o);
    coce_err err;
    size_t n;
    /* The venue takes 600 ms: the request times out after sending. */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_SLOW, 1, 600);
    coce_order_intent in =
        order("slow-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    /* Not visible yet, but it may still start: unknown, not "not found". */
    coce_order_state st;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "slow-1", &st, &err),
                     COCE_EUNKNOWN);
    assert_non_null(strstr(err.msg, "not visible yet"));
    sleep_ms(500);
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "slow-1", &st, &err),
                     COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_OPEN);
    assert_int_equal(coce_fake_deribit_find(e.fake, "slow-1", NULL), 1);
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/buy"), 1);
    env_down(&e);
}

static void test_valid_until_makes_missing_final(void **state)
{
    (void)state;
    coce_deribit_opts o;
    opts_for(&o);
    o.timeout_ms = 300;
    o.valid_window_ms = 200;
    env e;
    env_up(&e, &o);
    coce_err err;
    size_t n;
    /* The venue reaches the order after valid_until: 13888, not placed. */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_SLOW, 1, 500);
    coce_order_intent in =
        order("late-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.1, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    coce_order_state st;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "late-1", &st, &err),
                     COCE_EUNKNOWN);
    sleep_ms(1300); /* past valid_until + 1 s slack */
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "late-1", &st, &err),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_fake_deribit_find(e.fake, "late-1", NULL), 0);
    assert_close(coce_fake_deribit_position(e.fake, CALL), 0.0, 0, 0);
    /* Refused with 13888 directly: a clear error, not placed. */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_ERROR, 1,
                            13888);
    in = order("late-2", A_CALL, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.1, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "13888"));
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "late-2", &st, &err),
                     COCE_ENOTFOUND);
    env_down(&e);
}

static void test_5xx_and_malformed_on_order(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_state st;
    /* 503 after the venue executed it. */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_5XX, 1, 1);
    coce_order_intent in =
        order("f-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.1, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    assert_non_null(strstr(err.msg, "503"));
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "f-1", &st, &err),
                     COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_FILLED);
    /* 503 before: not there, final once valid_until has passed. */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_5XX, 1, 0);
    in = order("f-2", A_CALL, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.1, 0);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    sleep_ms(1400);
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "f-2", &st, &err),
                     COCE_ENOTFOUND);
    /* Malformed 200: executed, unknown, found. */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_MALFORMED, 1,
                            0);
    in = order("f-3", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    assert_non_null(strstr(err.msg, "malformed"));
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "f-3", &st, &err),
                     COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_OPEN);
    /* Deribit errors meaning "maybe executed". */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_ERROR, 1,
                            13028);
    in = order("f-4", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_ERROR, 1,
                            11094);
    in = order("f-5", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_EUNKNOWN);
    /* Every order went out once: 5 buys, one order per executed label. */
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/buy"), 5);
    assert_int_equal(coce_fake_deribit_find(e.fake, "f-1", NULL), 1);
    assert_int_equal(coce_fake_deribit_find(e.fake, "f-2", NULL), 0);
    assert_int_equal(coce_fake_deribit_find(e.fake, "f-3", NULL), 1);
    env_down(&e);
}

static void test_order_errors_mapped(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    static const struct {
        int code;
        int rc;
    } cases[] = {{10009, COCE_EEXCHANGE}, {10028, COCE_ERATELIMIT},
                 {13009, COCE_EAUTH},     {10004, COCE_ENOTFOUND},
                 {10040, COCE_EEXCHANGE}, {10002, COCE_EEXCHANGE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[32];
        snprintf(id, sizeof id, "m-%zu", i);
        /* 13009 twice: the one re-authenticated retry is refused too. */
        coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_ERROR,
                                cases[i].code == 13009 ? 2 : 1, cases[i].code);
        coce_order_intent in =
            order(id, A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
        assert_int_equal(place(&e, &in, NULL, 0, &n, &err), cases[i].rc);
        char code[16];
        snprintf(code, sizeof code, "%d", cases[i].code);
        assert_non_null(strstr(err.msg, code));
        assert_non_null(strstr(err.msg, "private/buy"));
        assert_int_equal(coce_fake_deribit_find(e.fake, id, NULL), 0);
        /* A refused order is final: querying it needs no wait. */
        coce_order_state st;
        assert_int_equal(e.x.query_by_client_id(e.x.impl, id, &st, &err),
                         COCE_ENOTFOUND);
        sleep_ms(15); /* the 10028 window (backoff_ms) */
    }
    /* An expired token on an order: re-authenticated, sent again once (the
     * refusal means it was not executed), placed exactly once. */
    coce_fake_deribit_revoke_tokens(e.fake);
    coce_order_intent in =
        order("m-tok", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_find(e.fake, "m-tok", NULL), 1);
    env_down(&e);
}

/* ---- faults on reads -------------------------------------------------- */

static void test_reads_retry_with_backoff(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    char *json = NULL;
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_5XX, 2, 0);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_OK);
    free(json);
    assert_int_equal(coce_fake_deribit_requests(e.fake, "public/ticker"), 3);
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_MALFORMED, 1,
                            0);
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_DROP, 1, 0);
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_SLOW, 1,
                            700);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_OK);
    free(json);
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_ERROR, 1,
                            10040);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_OK);
    free(json);
    coce_deribit_stats st;
    coce_deribit_get_stats(e.d, &st);
    /* 2 + 3 + 1 = 6 retries by the adapter; libcurl itself may absorb the
     * dropped read on a reused connection (it resends it on a fresh one,
     * harmless for a read, never allowed for an order). */
    assert_true(st.retries >= 5 && st.retries <= 6);
    /* Persistent: the last error after 1 + read_retries attempts. */
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_5XX, 4, 0);
    int before = coce_fake_deribit_requests(e.fake, "public/ticker");
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_EHTTP);
    assert_int_equal(coce_fake_deribit_requests(e.fake, "public/ticker"),
                     before + 4);
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_MALFORMED, 4,
                            0);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_EPARSE);
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_SLOW, 4, 600);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err),
                     COCE_ETIMEOUT);
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_ERROR, 4,
                            13028);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err),
                     COCE_EEXCHANGE);
    /* Private reads too: the label query behind query_by_client_id. */
    coce_order_intent in =
        order("q-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    size_t n;
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    coce_fake_deribit_fault(e.fake, "private/get_order_state_by_label",
                            COCE_FAKE_DB_DROP, 2, 0);
    coce_order_state os;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "q-1", &os, &err),
                     COCE_OK);
    assert_int_equal(os.status, COCE_EXEC_OPEN);
    env_down(&e);
}

static void test_rate_limit_429(void **state)
{
    (void)state;
    coce_deribit_opts o;
    opts_for(&o);
    o.max_wait_ms = 100;
    env e;
    env_up(&e, &o);
    coce_err err;
    char *json = NULL;
    size_t n;
    /* 429 without Retry-After on a read: waits backoff_ms, retries. */
    coce_fake_deribit_fault(e.fake, "public/ticker", COCE_FAKE_DB_429, 1, -1);
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_OK);
    free(json);
    /* 429 with Retry-After 1 s on an order: refused, not placed, and no
     * request at all leaves during the window. */
    coce_fake_deribit_fault(e.fake, "private/buy", COCE_FAKE_DB_429, 1, 1);
    coce_order_intent in =
        order("rl-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_ERATELIMIT);
    assert_int_equal(coce_fake_deribit_find(e.fake, "rl-1", NULL), 0);
    int before = coce_fake_deribit_requests(e.fake, NULL);
    coce_order_intent in2 =
        order("rl-2", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in2, NULL, 0, &n, &err), COCE_ERATELIMIT);
    assert_non_null(strstr(err.msg, "not sent"));
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err),
                     COCE_ERATELIMIT);
    assert_int_equal(coce_fake_deribit_requests(e.fake, NULL), before);
    coce_deribit_stats st;
    coce_deribit_get_stats(e.d, &st);
    assert_int_equal((int)st.rate_limited, 2);
    assert_true(st.blocked_until_ms > 0);
    sleep_ms(1050);
    assert_int_equal(place(&e, &in2, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_find(e.fake, "rl-2", NULL), 1);
    env_down(&e);
}

static void test_connection_refused_not_sent(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    /* Authenticate and learn the rules, then the venue goes away. */
    coce_instrument_rules r;
    assert_int_equal(e.x.instrument_rules(e.x.impl, A_CALL, &r, &err),
                     COCE_OK);
    char *json = NULL;
    assert_int_equal(coce_deribit_authenticate(e.d, &err), COCE_OK);
    MHD_stop_daemon(e.fake->d);
    e.fake->d = NULL;
    assert_int_equal(coce_deribit_ticker(e.d, CALL, &json, &err), COCE_ENET);
    coce_order_intent in =
        order("cr-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_ENET);
    coce_deribit_free(e.d);
    pthread_mutex_destroy(&e.fake->mu);
    free(e.fake->orders);
    free(e.fake->hits);
    free(e.fake);
}

/* ---- cancel, open orders, fills, balances -------------------------------- */

static void test_cancel_open_orders_poll(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_intent a =
        order("co-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1.0, 0.01);
    coce_order_intent b =
        order("co-2", A_ETH, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 2.0, 0.02);
    assert_int_equal(place(&e, &a, NULL, 0, &n, &err), COCE_OK);
    sleep_ms(5);
    assert_int_equal(place(&e, &b, NULL, 0, &n, &err), COCE_OK);
    /* An order of an instrument this run does not trade is left out. */
    coce_fake_deribit_inject(e.fake, "other", "BTC-27JUN25-90000-C", 1, 1,
                             0.01);
    coce_order_state os[4];
    assert_int_equal(e.x.open_orders(e.x.impl, os, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 2);
    assert_string_equal(os[0].intent.client_id, "co-1");
    assert_string_equal(os[1].intent.client_id, "co-2");
    assert_int_equal(os[0].status, COCE_EXEC_OPEN);
    assert_int_equal(e.x.open_orders(e.x.impl, os, 1, &n, &err), COCE_ERANGE);
    assert_int_equal((int)n, 2);
    /* Partial execution found by poll_fills, at its price. */
    assert_int_equal(coce_fake_deribit_fill(e.fake, "co-1", 0.4, 0.009), 0);
    coce_fill f[4];
    assert_int_equal(e.x.poll_fills(e.x.impl, f, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 1);
    assert_string_equal(f[0].client_id, "co-1");
    assert_close(f[0].qty, 0.4, 1e-12, 0);
    assert_close(f[0].price, 0.009, 1e-12, 0);
    assert_int_equal(coce_fake_deribit_fill(e.fake, "co-1", 0.1, 0.0095), 0);
    assert_int_equal(e.x.poll_fills(e.x.impl, f, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 1);
    assert_close(f[0].qty, 0.1, 1e-12, 0);
    assert_close(f[0].price, 0.0095, 1e-9, 0);
    coce_order_state st;
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "co-1", &st, &err),
                     COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_PARTIAL);
    /* Cancel by client id: the venue's order_id is used. */
    assert_int_equal(e.x.cancel(e.x.impl, "co-1", 0, &err), COCE_OK);
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "co-1", &st, &err),
                     COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_CANCELED);
    assert_close(st.filled_qty, 0.5, 1e-12, 0);
    assert_int_equal(e.x.cancel(e.x.impl, "co-1", 0, &err), COCE_EEXCHANGE);
    assert_non_null(strstr(err.msg, "11044"));
    assert_int_equal(e.x.cancel(e.x.impl, "never", 0, &err), COCE_EINVAL);
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/cancel"), 2);
    /* A cancel whose answer is lost: unknown, not repeated. */
    coce_fake_deribit_fault(e.fake, "private/cancel", COCE_FAKE_DB_DROP, 1, 0);
    assert_int_equal(e.x.cancel(e.x.impl, "co-2", 0, &err), COCE_EUNKNOWN);
    assert_int_equal(coce_fake_deribit_requests(e.fake, "private/cancel"), 3);
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "co-2", &st, &err),
                     COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_CANCELED);
    coce_fake_deribit_fault(e.fake, "private/cancel", COCE_FAKE_DB_ERROR, 1,
                            10004);
    coce_order_intent c =
        order("co-3", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 0.1, 0.01);
    assert_int_equal(place(&e, &c, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(e.x.cancel(e.x.impl, "co-3", 0, &err), COCE_ENOTFOUND);
    assert_int_equal(e.x.open_orders(e.x.impl, NULL, 1, &n, &err),
                     COCE_EINVAL);
    assert_int_equal(e.x.poll_fills(e.x.impl, NULL, 1, &n, &err), COCE_EINVAL);
    assert_int_equal(e.x.cancel(e.x.impl, NULL, 0, &err), COCE_EINVAL);
    assert_int_equal(e.x.query_by_client_id(e.x.impl, "x", NULL, &err),
                     COCE_EINVAL);
    env_down(&e);
}

static void test_restart_track(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    size_t n;
    coce_order_intent in =
        order("rs-1", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1.0, 0.01);
    assert_int_equal(place(&e, &in, NULL, 0, &n, &err), COCE_OK);
    assert_int_equal(coce_fake_deribit_fill(e.fake, "rs-1", 0.3, 0.01), 0);
    /* A new process: the journal says 0.3 were filled already. */
    coce_deribit_opts o;
    opts_for(&o);
    o.base_url = coce_fake_deribit_url(e.fake);
    coce_deribit *d2 = NULL;
    assert_int_equal(coce_deribit_new(&o, &d2, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(d2, A_CALL, CALL, &err), COCE_OK);
    coce_exchange x2 = coce_deribit_exchange(d2);
    coce_order_state st;
    assert_int_equal(x2.query_by_client_id(x2.impl, "rs-1", &st, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_deribit_track(d2, &in, 0, 0.3, &err), COCE_OK);
    assert_int_equal(coce_deribit_track(d2, &in, 0, 0.3, &err), COCE_OK);
    assert_int_equal(coce_deribit_track(d2, &in, 0, -1, &err), COCE_EINVAL);
    coce_order_intent bad = in;
    bad.asset = 55;
    snprintf(bad.client_id, sizeof bad.client_id, "rs-x");
    assert_int_equal(coce_deribit_track(d2, &bad, 0, 0, &err), COCE_EINVAL);
    assert_int_equal(coce_deribit_track(NULL, &in, 0, 0, &err), COCE_EINVAL);
    assert_int_equal(coce_fake_deribit_fill(e.fake, "rs-1", 0.2, 0.02), 0);
    coce_fill f[2];
    assert_int_equal(x2.poll_fills(x2.impl, f, 2, &n, &err), COCE_OK);
    assert_int_equal((int)n, 1);
    assert_close(f[0].qty, 0.2, 1e-12, 0);
    /* The journal's 0.3 carry no price: valued at the venue's average,
     * so the increment is priced at the average too (docs/deribit.md). */
    assert_close(f[0].price, (0.3 * 0.01 + 0.2 * 0.02) / 0.5, 1e-9, 0);
    /* The venue's order_id is learnt by label for the cancel. */
    assert_int_equal(x2.cancel(x2.impl, "rs-1", 0, &err), COCE_OK);
    coce_fake_db_order fo;
    assert_int_equal(coce_fake_deribit_find(e.fake, "rs-1", &fo), 1);
    assert_string_equal(fo.state, "cancelled");
    /* A journalled intent the venue never got (sent long ago). */
    coce_order_intent gone =
        order("rs-2", A_CALL, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1.0, 0.01);
    assert_int_equal(coce_deribit_track(d2, &gone, 0, 0, &err), COCE_OK);
    assert_int_equal(x2.query_by_client_id(x2.impl, "rs-2", &st, &err),
                     COCE_ENOTFOUND);
    assert_int_equal(x2.cancel(x2.impl, "rs-2", 0, &err), COCE_ENOTFOUND);
    coce_deribit_free(d2);
    env_down(&e);
}

static void test_balances_and_positions(void **state)
{
    (void)state;
    env e;
    env_up(&e, NULL);
    coce_err err;
    coce_fake_deribit_set_account(e.fake, 2.0, 1.5);
    coce_fake_deribit_set_position(e.fake, PUT, 0.7);
    coce_balance b[4];
    size_t n;
    assert_int_equal(e.x.balances(e.x.impl, b, 4, &n, &err), COCE_OK);
    assert_int_equal((int)n, 2);
    assert_int_equal(b[0].asset, COCE_ASSET_QUOTE);
    assert_close(b[0].total, 2.0, 1e-12, 0);
    assert_close(b[0].locked, 0.5, 1e-12, 0);
    assert_int_equal(b[1].asset, A_PUT);
    assert_close(b[1].total, 0.7, 1e-12, 0);
    assert_int_equal(e.x.balances(e.x.impl, b, 1, &n, &err), COCE_ERANGE);
    assert_int_equal((int)n, 2);
    assert_int_equal(e.x.balances(e.x.impl, NULL, 1, &n, &err), COCE_EINVAL);
    double size;
    assert_int_equal(coce_deribit_position(e.d, 42, &size, &err), COCE_EINVAL);
    assert_int_equal(coce_deribit_position(e.d, A_PUT, NULL, &err),
                     COCE_EINVAL);
    coce_fake_deribit_fault(e.fake, "private/get_positions",
                            COCE_FAKE_DB_ERROR, 1, 13021);
    assert_int_equal(e.x.balances(e.x.impl, b, 4, &n, &err), COCE_EAUTH);
    coce_fake_deribit_fault(e.fake, "private/get_account_summary",
                            COCE_FAKE_DB_ERROR, 1, 11050);
    assert_int_equal(e.x.balances(e.x.impl, b, 4, &n, &err), COCE_EEXCHANGE);
    /* Unknown instrument in the listing: clear not-found. */
    coce_deribit_opts o;
    opts_for(&o);
    o.base_url = coce_fake_deribit_url(e.fake);
    coce_deribit *d2 = NULL;
    assert_int_equal(coce_deribit_new(&o, &d2, &err), COCE_OK);
    assert_int_equal(coce_deribit_register(d2, 9, "BTC-1JAN30-1-C", &err),
                     COCE_OK);
    coce_exchange x2 = coce_deribit_exchange(d2);
    coce_instrument_rules r;
    assert_int_equal(x2.instrument_rules(x2.impl, 9, &r, &err),
                     COCE_ENOTFOUND);
    assert_non_null(strstr(err.msg, "BTC-1JAN30-1-C"));
    coce_deribit_stats st;
    coce_deribit_get_stats(d2, &st);
    assert_true(st.requests >= 1);
    coce_deribit_free(d2);
    env_down(&e);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_and_register),
        cmocka_unit_test(test_auth_refresh_before_expiry),
        cmocka_unit_test(test_bad_credentials),
        cmocka_unit_test(test_market_data),
        cmocka_unit_test(test_market_buy_fills),
        cmocka_unit_test(test_rules_before_sending),
        cmocka_unit_test(test_long_only_sell_refused),
        cmocka_unit_test(test_duplicate_label),
        cmocka_unit_test(test_drop_after_accept_found_by_label),
        cmocka_unit_test(test_slow_answer_unknown_then_settled),
        cmocka_unit_test(test_valid_until_makes_missing_final),
        cmocka_unit_test(test_5xx_and_malformed_on_order),
        cmocka_unit_test(test_order_errors_mapped),
        cmocka_unit_test(test_reads_retry_with_backoff),
        cmocka_unit_test(test_rate_limit_429),
        cmocka_unit_test(test_connection_refused_not_sent),
        cmocka_unit_test(test_cancel_open_orders_poll),
        cmocka_unit_test(test_restart_track),
        cmocka_unit_test(test_balances_and_positions),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
