/* Paper exchange: fees, square-root impact, participation (partial fills),
 * limit trade-through, latency, cancel, query, duplicates, vtable. */
#include "execution/exchange.h"
#include "execution/paper.h"
#include "testutil.h"
#include "utils/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { A = 1, B = 2 };

static coce_paper *make(int64_t latency)
{
    coce_paper_opts o;
    coce_paper_opts_default(&o);
    o.maker_fee_bps = 2;
    o.taker_fee_bps = 5;
    o.impact_coef = 0.5;
    o.participation = 0.5;
    o.latency_ms = latency;
    o.initial_cash = 10000;
    coce_paper *p = NULL;
    assert_int_equal(coce_paper_new(&o, &p, NULL), COCE_OK);
    assert_int_equal(coce_paper_set_liquidity(p, A, 1e6, 0.04, NULL), COCE_OK);
    return p;
}

static coce_order_intent intent(const char *id, coce_asset_id asset, int side,
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

static size_t trade(coce_paper *p, int64_t t, coce_asset_id asset, double price,
                    double qty, coce_fill *fills, size_t cap)
{
    coce_trade tr = {.time_ms = t,
                     .price = price,
                     .qty = qty,
                     .asset = asset,
                     .side = COCE_SIDE_BUY};
    size_t n = 99;
    assert_int_equal(coce_paper_on_trade(p, &tr, fills, cap, &n), COCE_OK);
    return n;
}

/* Market buy of 100 at t = 1000, latency 100, participation 0.5:
 *  - trade at 1100 (= placed + latency, not after): nothing;
 *  - trade at 1101, price 10, qty 100 -> fills 50.
 *    impact = 0.5 * 0.04 * sqrt(100 * 10 / 1e6) = 0.02 * 0.0316227766...
 *           = 6.32455532e-4 -> price 10 * (1 + impact);
 *    taker fee = 5e-4 * 50 * price;
 *  - trade at 1200, price 10.5, qty 400 -> fills the other 50 at
 *    10.5 * (1 + 0.02 * sqrt(1050 / 1e6)). */
static void test_market_fees_impact_partial(void **state)
{
    (void)state;
    coce_paper *p = make(100);
    coce_order_intent in =
        intent("m1", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 100, 0);
    assert_int_equal(coce_paper_place(p, &in, 1000, NULL), COCE_OK);
    coce_fill f[4];
    coce_order_state st;
    assert_int_equal(coce_paper_query(p, "m1", &st, NULL), COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_PENDING);
    assert_int_equal(st.active_ms, 1100);

    assert_int_equal(trade(p, 1100, A, 10, 1000, f, 4), 0);
    assert_int_equal(trade(p, 1101, B, 10, 1000, f, 4), 0); /* other asset */
    assert_int_equal(trade(p, 1101, A, 10, 100, f, 4), 1);
    const double p1 = 10 * (1 + 0.02 * sqrt(1e-3));
    assert_close(p1, 10.00632455532034, 1e-14, 0);
    assert_string_equal(f[0].client_id, "m1");
    assert_int_equal(f[0].asset, A);
    assert_int_equal(f[0].side, COCE_SIDE_BUY);
    assert_close(f[0].qty, 50, 0, 0);
    assert_close(f[0].price, p1, 1e-14, 0);
    assert_close(f[0].fee, 5e-4 * 50 * p1, 1e-14, 0);
    assert_int_equal(f[0].time_ms, 1101);
    assert_int_equal(coce_paper_query(p, "m1", &st, NULL), COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_PARTIAL);
    assert_close(st.filled_qty, 50, 0, 0);

    assert_int_equal(trade(p, 1200, A, 10.5, 400, f, 4), 1);
    const double p2 = 10.5 * (1 + 0.02 * sqrt(1050 / 1e6));
    assert_close(f[0].qty, 50, 0, 0);
    assert_close(f[0].price, p2, 1e-14, 0);
    assert_int_equal(coce_paper_query(p, "m1", &st, NULL), COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_FILLED);
    assert_close(st.avg_price, (p1 + p2) / 2, 1e-14, 0);
    assert_close(st.fees, 5e-4 * 50 * (p1 + p2), 1e-14, 0);
    assert_int_equal(st.updated_ms, 1200);
    double pos, cash;
    assert_int_equal(coce_paper_position(p, A, &pos, &cash), COCE_OK);
    assert_close(pos, 100, 0, 0);
    assert_close(cash, 10000 - 50 * (p1 + p2) * (1 + 5e-4), 1e-14, 0);
    /* Filled: later trades do nothing. */
    assert_int_equal(trade(p, 1300, A, 10, 1000, f, 4), 0);

    /* A market sell pays impact downwards. */
    in = intent("m2", A, COCE_SIDE_SELL, COCE_ORDER_MARKET, 40, 0);
    assert_int_equal(coce_paper_place(p, &in, 1300, NULL), COCE_OK);
    assert_int_equal(trade(p, 1401, A, 20, 1000, f, 4), 1);
    const double p3 = 20 * (1 - 0.02 * sqrt(800 / 1e6));
    assert_close(f[0].price, p3, 1e-14, 0);
    assert_int_equal(f[0].side, COCE_SIDE_SELL);
    assert_int_equal(coce_paper_position(p, A, &pos, &cash), COCE_OK);
    assert_close(pos, 60, 0, 0);
    coce_paper_free(p);
}

/* The impact is capped at 100 % of the price. */
static void test_impact_cap(void **state)
{
    (void)state;
    coce_paper *p = make(0);
    assert_int_equal(coce_paper_set_liquidity(p, B, 1, 5.0, NULL), COCE_OK);
    coce_order_intent in =
        intent("big", B, COCE_SIDE_BUY, COCE_ORDER_MARKET, 1000, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, NULL), COCE_OK);
    coce_fill f[1];
    assert_int_equal(trade(p, 1, B, 3, 10, f, 1), 1);
    assert_close(f[0].price, 6, 0, 1e-12);
    coce_paper_free(p);
}

/* Limit buy 10 @ 9.5 fills only on a print below 9.5, at 9.5, maker fee
 * 2 bps: 2e-4 * 10 * 9.5 = 0.019. Limit sell 5 @ 11 only above 11. */
static void test_limit_trade_through(void **state)
{
    (void)state;
    coce_paper *p = make(0);
    coce_order_intent b =
        intent("lb", A, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 10, 9.5);
    coce_order_intent s =
        intent("ls", B, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 5, 11);
    assert_int_equal(coce_paper_place(p, &b, 0, NULL), COCE_OK);
    assert_int_equal(coce_paper_place(p, &s, 0, NULL), COCE_OK);
    coce_fill f[2];
    assert_int_equal(trade(p, 1, A, 9.6, 100, f, 2), 0);
    assert_int_equal(trade(p, 2, A, 9.5, 100, f, 2), 0); /* touch only */
    coce_order_state st;
    assert_int_equal(coce_paper_query(p, "lb", &st, NULL), COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_OPEN);
    assert_int_equal(trade(p, 3, A, 9.4, 100, f, 2), 1);
    assert_close(f[0].price, 9.5, 0, 0);
    assert_close(f[0].qty, 10, 0, 0);
    assert_close(f[0].fee, 0.019, 1e-12, 0);
    assert_int_equal(trade(p, 4, B, 11, 100, f, 2), 0);
    assert_int_equal(trade(p, 5, B, 10, 100, f, 2), 0);
    /* Participation: 0.5 * 4 = 2 of 5. */
    assert_int_equal(trade(p, 6, B, 11.2, 4, f, 2), 1);
    assert_close(f[0].price, 11, 0, 0);
    assert_close(f[0].qty, 2, 0, 0);
    assert_close(f[0].fee, 2e-4 * 2 * 11, 1e-12, 0);
    double pos, cash;
    assert_int_equal(coce_paper_position(p, B, &pos, &cash), COCE_OK);
    assert_close(pos, -2, 0, 0);
    assert_close(cash, 10000 - 95 - 0.019 + 22 - 2e-4 * 22, 1e-14, 0);
    coce_paper_free(p);
}

/* Orders share the participation budget in placement order. */
static void test_shared_participation_and_capacity(void **state)
{
    (void)state;
    coce_paper *p = make(0);
    coce_order_intent o1 =
        intent("o1", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 30, 0);
    coce_order_intent o2 =
        intent("o2", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 40, 0);
    assert_int_equal(coce_paper_place(p, &o1, 0, NULL), COCE_OK);
    assert_int_equal(coce_paper_place(p, &o2, 0, NULL), COCE_OK);
    coce_fill f[2];
    coce_trade tr = {.time_ms = 5, .price = 10, .qty = 100, .asset = A};
    size_t n = 0;
    /* Room for one fill, two orders could fill: nothing happens. */
    assert_int_equal(coce_paper_on_trade(p, &tr, f, 1, &n), COCE_ERANGE);
    assert_int_equal(n, 2);
    coce_order_state st;
    assert_int_equal(coce_paper_query(p, "o1", &st, NULL), COCE_OK);
    assert_true(st.filled_qty == 0);
    assert_int_equal(trade(p, 5, A, 10, 100, f, 2), 2);
    assert_close(f[0].qty, 30, 0, 0);
    assert_close(f[1].qty, 20, 0, 0);
    assert_string_equal(f[1].client_id, "o2");
    /* Budget spent by earlier orders: a zero-size print fills nothing. */
    assert_int_equal(trade(p, 6, A, 10, 0, f, 2), 0);
    assert_int_equal(trade(p, 7, A, 10, 100, f, 2), 1);
    assert_close(f[0].qty, 20, 0, 0);
    coce_paper_free(p);
}

/* Latency: placed at 1000 with latency 250 -> active at 1250, first fill on
 * a trade strictly after 1250. With latency 0, a trade in the same ms as the
 * decision cannot fill. */
static void test_latency(void **state)
{
    (void)state;
    coce_paper *p = make(250);
    coce_order_intent in =
        intent("lat", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 1, 0);
    assert_int_equal(coce_paper_place(p, &in, 1000, NULL), COCE_OK);
    coce_fill f[1];
    assert_int_equal(trade(p, 1000, A, 10, 100, f, 1), 0);
    assert_int_equal(trade(p, 1249, A, 10, 100, f, 1), 0);
    assert_int_equal(trade(p, 1250, A, 10, 100, f, 1), 0);
    coce_order_state st;
    assert_int_equal(coce_paper_query(p, "lat", &st, NULL), COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_PENDING);
    assert_int_equal(trade(p, 1251, A, 10, 100, f, 1), 1);
    assert_int_equal(f[0].time_ms, 1251);
    coce_paper_free(p);

    p = make(0);
    assert_int_equal(coce_paper_place(p, &in, 1000, NULL), COCE_OK);
    assert_int_equal(trade(p, 1000, A, 10, 100, f, 1), 0);
    assert_int_equal(trade(p, 1001, A, 10, 100, f, 1), 1);
    coce_paper_free(p);
}

static void test_cancel_query_duplicate(void **state)
{
    (void)state;
    coce_paper *p = make(0);
    coce_order_intent in =
        intent("c1", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 100, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, NULL), COCE_OK);
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EEXIST);
    assert_non_null(strstr(err.msg, "c1"));
    coce_fill f[1];
    assert_int_equal(trade(p, 1, A, 10, 10, f, 1), 1); /* 5 of 100 */
    assert_int_equal(coce_paper_cancel(p, "c1", 2, NULL), COCE_OK);
    coce_order_state st;
    assert_int_equal(coce_paper_query(p, "c1", &st, NULL), COCE_OK);
    assert_int_equal(st.status, COCE_EXEC_CANCELED);
    assert_close(st.filled_qty, 5, 0, 0);
    assert_int_equal(st.updated_ms, 2);
    assert_memory_equal(&st.intent, &in, sizeof in);
    assert_int_equal(trade(p, 3, A, 10, 1000, f, 1), 0);
    assert_int_equal(coce_paper_cancel(p, "c1", 3, &err), COCE_EEXCHANGE);
    assert_int_equal(coce_paper_cancel(p, "nope", 3, &err), COCE_ENOTFOUND);
    assert_int_equal(coce_paper_query(p, "nope", &st, &err), COCE_ENOTFOUND);
    /* A closed order's id stays used. */
    assert_int_equal(coce_paper_place(p, &in, 3, NULL), COCE_EEXIST);
    /* Cancel while still pending (latency). */
    coce_paper_free(p);
    p = make(1000);
    assert_int_equal(coce_paper_place(p, &in, 0, NULL), COCE_OK);
    assert_int_equal(coce_paper_cancel(p, "c1", 1, NULL), COCE_OK);
    assert_int_equal(trade(p, 5000, A, 10, 1000, f, 1), 0);
    coce_paper_free(p);
}

static void test_rejections_and_order_of_time(void **state)
{
    (void)state;
    coce_paper *p = make(0);
    coce_err err;
    coce_order_intent in =
        intent("x", B, COCE_SIDE_BUY, COCE_ORDER_MARKET, 1, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EDATA);
    in.side = 0;
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EINVAL);
    in = intent("x", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EINVAL);
    in = intent("x", A, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EINVAL);
    in = intent("x", A, COCE_SIDE_BUY, (coce_order_type)7, 1, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EINVAL);
    in = intent("", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 1, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EINVAL);
    memset(in.client_id, 'z', sizeof in.client_id); /* not terminated */
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EINVAL);
    in = intent("x", 1u << 24, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, 1);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EINVAL);
    assert_int_equal(coce_paper_place(NULL, &in, 0, &err), COCE_EINVAL);

    coce_instrument_rules r = {.asset = A,
                               .tick_size = 0.01,
                               .lot_size = 0.1,
                               .min_qty = 1,
                               .min_notional = 20};
    assert_int_equal(coce_paper_set_rules(p, &r, NULL), COCE_OK);
    in = intent("x", A, COCE_SIDE_BUY, COCE_ORDER_MARKET, 0.5, 0);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EEXCHANGE);
    in = intent("x", A, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 1, 10);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_EEXCHANGE);
    in = intent("x", A, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 2, 10);
    assert_int_equal(coce_paper_place(p, &in, 0, &err), COCE_OK);
    r.min_qty = -1;
    assert_int_equal(coce_paper_set_rules(p, &r, &err), COCE_EINVAL);
    r.min_qty = 0;
    r.asset = 1u << 24;
    assert_int_equal(coce_paper_set_rules(p, &r, &err), COCE_EINVAL);
    assert_int_equal(coce_paper_set_liquidity(p, A, 0, 0.1, &err), COCE_EINVAL);
    assert_int_equal(coce_paper_set_liquidity(p, A, 1, NAN, &err), COCE_EINVAL);
    assert_int_equal(coce_paper_set_liquidity(p, 1u << 24, 1, 1, &err),
                     COCE_EINVAL);

    coce_fill f[1];
    size_t n;
    trade(p, 100, A, 10, 1, f, 1);
    coce_trade old = {.time_ms = 99, .price = 10, .qty = 1, .asset = A};
    assert_int_equal(coce_paper_on_trade(p, &old, f, 1, &n), COCE_EORDER);
    old.time_ms = 200;
    old.price = NAN;
    assert_int_equal(coce_paper_on_trade(p, &old, f, 1, &n), COCE_EINVAL);
    old.price = 10;
    old.qty = -1;
    assert_int_equal(coce_paper_on_trade(p, &old, f, 1, &n), COCE_EINVAL);
    assert_int_equal(coce_paper_on_trade(p, NULL, f, 1, &n), COCE_EINVAL);
    in = intent("late", A, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 2, 10);
    assert_int_equal(coce_paper_place(p, &in, 99, &err), COCE_EORDER);
    assert_int_equal(coce_paper_cancel(p, NULL, 0, &err), COCE_EINVAL);
    coce_order_state st;
    assert_int_equal(coce_paper_query(p, "x", NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_paper_query(p, "x", &st, &err), COCE_OK);
    double pos, cash;
    assert_int_equal(coce_paper_position(p, 77, &pos, &cash), COCE_OK);
    assert_true(pos == 0.0 && cash == 10000);
    assert_int_equal(coce_paper_position(NULL, 77, &pos, &cash), COCE_EINVAL);
    coce_paper_free(p);
    coce_paper_free(NULL);
}

static void test_options(void **state)
{
    (void)state;
    coce_paper *p = NULL;
    coce_err err;
    coce_paper_opts o;
    coce_paper_opts_default(NULL);
    assert_int_equal(coce_paper_new(NULL, &p, NULL), COCE_OK);
    coce_paper_free(p);
    const struct {
        double maker, impact, part, cash;
        int64_t lat;
        const char *field;
    } bad[] = {
        {NAN, 1, 0.1, 0, 0, "fee"},
        {1, -1, 0.1, 0, 0, "impact_coef"},
        {1, 1, 0, 0, 0, "participation"},
        {1, 1, 1.5, 0, 0, "participation"},
        {1, 1, 0.1, 0, -1, "latency_ms"},
        {1, 1, 0.1, INFINITY, 0, "initial_cash"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        coce_paper_opts_default(&o);
        o.maker_fee_bps = bad[i].maker;
        o.impact_coef = bad[i].impact;
        o.participation = bad[i].part;
        o.initial_cash = bad[i].cash;
        o.latency_ms = bad[i].lat;
        coce_err_clear(&err);
        assert_int_equal(coce_paper_new(&o, &p, &err), COCE_EINVAL);
        assert_null(p);
        assert_non_null(strstr(err.msg, bad[i].field));
    }
    assert_int_equal(coce_paper_new(NULL, NULL, &err), COCE_EINVAL);
}

static void test_vtable_view(void **state)
{
    (void)state;
    coce_paper *p = make(0);
    coce_exchange ex = coce_paper_exchange(p);
    assert_string_equal(ex.name, "paper");
    coce_order_intent a =
        intent("v1", A, COCE_SIDE_BUY, COCE_ORDER_LIMIT, 3, 9);
    coce_order_intent b =
        intent("v2", B, COCE_SIDE_SELL, COCE_ORDER_LIMIT, 2, 11);
    size_t n = 9;
    coce_fill f[2];
    assert_int_equal(ex.place(ex.impl, &a, 0, NULL, 0, &n, NULL), COCE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ex.place(ex.impl, &b, 0, f, 2, &n, NULL), COCE_OK);
    assert_int_equal(ex.place(ex.impl, &b, 0, f, 2, &n, NULL), COCE_EEXIST);
    coce_order_state st[2];
    assert_int_equal(ex.open_orders(ex.impl, st, 2, &n, NULL), COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(st[0].intent.client_id, "v1");
    assert_string_equal(st[1].intent.client_id, "v2");
    assert_int_equal(ex.open_orders(ex.impl, st, 1, &n, NULL), COCE_ERANGE);
    assert_int_equal(n, 2);
    assert_int_equal(ex.open_orders(ex.impl, NULL, 1, &n, NULL), COCE_EINVAL);
    assert_int_equal(trade(p, 1, A, 8, 100, f, 2), 1);
    assert_int_equal(ex.query_by_client_id(ex.impl, "v1", st, NULL), COCE_OK);
    assert_int_equal(st[0].status, COCE_EXEC_FILLED);
    assert_string_equal(coce_exec_status_name(st[0].status), "filled");
    assert_int_equal(ex.cancel(ex.impl, "v2", 2, NULL), COCE_OK);
    assert_int_equal(ex.open_orders(ex.impl, st, 2, &n, NULL), COCE_OK);
    assert_int_equal(n, 0);

    coce_balance bal[3];
    assert_int_equal(ex.balances(ex.impl, bal, 3, &n, NULL), COCE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(bal[0].asset, COCE_ASSET_QUOTE);
    assert_close(bal[0].total, 10000 - 27 - 2e-4 * 27, 1e-14, 0);
    assert_int_equal(bal[1].asset, A);
    assert_close(bal[1].total, 3, 0, 0);
    assert_int_equal(bal[2].asset, B);
    assert_close(bal[2].total, 0, 0, 0);
    assert_int_equal(ex.balances(ex.impl, bal, 1, &n, NULL), COCE_ERANGE);
    assert_int_equal(n, 3);
    assert_int_equal(ex.balances(ex.impl, NULL, 0, &n, NULL), COCE_ERANGE);
    assert_int_equal(ex.balances(ex.impl, NULL, 2, &n, NULL), COCE_EINVAL);

    coce_instrument_rules r = {.asset = A,
                               .tick_size = 0.01,
                               .lot_size = 0.001,
                               .min_qty = 0.001,
                               .min_notional = 5};
    assert_int_equal(coce_paper_set_rules(p, &r, NULL), COCE_OK);
    coce_instrument_rules got;
    assert_int_equal(ex.instrument_rules(ex.impl, A, &got, NULL), COCE_OK);
    assert_memory_equal(&got, &r, sizeof r);
    assert_int_equal(ex.instrument_rules(ex.impl, 300, &got, NULL), COCE_OK);
    assert_int_equal(got.asset, 300);
    assert_true(got.min_qty == 0 && got.tick_size == 0);
    assert_int_equal(ex.instrument_rules(ex.impl, A, NULL, NULL), COCE_EINVAL);
    assert_int_equal(ex.poll_fills(ex.impl, f, 2, &n, NULL), COCE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ex.poll_fills(ex.impl, f, 2, NULL, NULL), COCE_EINVAL);

    for (int s = COCE_EXEC_PENDING; s <= COCE_EXEC_REJECTED; ++s)
        assert_string_not_equal(coce_exec_status_name(s), "?");
    assert_string_equal(coce_exec_status_name((coce_exec_status)42), "?");
    assert_false(coce_exec_status_terminal(COCE_EXEC_PARTIAL));
    assert_true(coce_exec_status_terminal(COCE_EXEC_REJECTED));
    coce_paper_free(p);
}

/* Many orders (index growth) and the same run twice gives the same fills. */
static void run_many(coce_fill *out, size_t *n_out)
{
    coce_paper *p = make(7);
    char id[COCE_CLIENT_ID_MAX];
    *n_out = 0;
    for (int i = 0; i < 300; ++i) {
        snprintf(id, sizeof id, "ord-%d", i);
        coce_order_intent in =
            intent(id, A, i % 2 ? COCE_SIDE_SELL : COCE_SIDE_BUY,
                   i % 3 ? COCE_ORDER_MARKET : COCE_ORDER_LIMIT, 1 + i % 5,
                   10 + (i % 2 ? 0.5 : -0.5));
        assert_int_equal(coce_paper_place(p, &in, 10 * i, NULL), COCE_OK);
        size_t n = 0;
        coce_trade t = {.time_ms = 10 * i + 5,
                        .price = 10 + sin(i) * 0.8,
                        .qty = 3 + i % 4,
                        .asset = A};
        assert_int_equal(coce_paper_on_trade(p, &t, out + *n_out, 300, &n),
                         COCE_OK);
        *n_out += n;
    }
    for (int i = 0; i < 300; ++i) {
        snprintf(id, sizeof id, "ord-%d", i);
        coce_order_state st;
        assert_int_equal(coce_paper_query(p, id, &st, NULL), COCE_OK);
        assert_true(st.filled_qty <= st.intent.qty);
    }
    coce_paper_free(p);
}

static void test_many_orders_deterministic(void **state)
{
    (void)state;
    static coce_fill a[20000], b[20000];
    size_t na, nb;
    run_many(a, &na);
    run_many(b, &nb);
    assert_true(na > 100);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof a[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_fees_impact_partial),
        cmocka_unit_test(test_impact_cap),
        cmocka_unit_test(test_limit_trade_through),
        cmocka_unit_test(test_shared_participation_and_capacity),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_cancel_query_duplicate),
        cmocka_unit_test(test_rejections_and_order_of_time),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_vtable_view),
        cmocka_unit_test(test_many_orders_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
