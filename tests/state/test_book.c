/* Book accounting, checked against hand-computed figures (average-cost
 * method, fees of both legs in the round trip's PnL; see book.h). */
#include "state/book.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static coce_fill mkfill(const char *cid, coce_asset_id asset, int side,
                        double qty, double price, double fee, int64_t t)
{
    coce_fill f;
    memset(&f, 0, sizeof f);
    (void)snprintf(f.client_id, sizeof f.client_id, "%s", cid);
    f.asset = asset;
    f.side = (int8_t)side;
    f.qty = qty;
    f.price = price;
    f.fee = fee;
    f.time_ms = t;
    return f;
}

static void test_partial_fills_average_and_round_trip(void **state)
{
    (void)state;
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(10000.0, &b), COCE_OK);
    coce_err err;
    /* Two partial fills of one buy: 10 @ 100 (fee 1), 30 @ 104 (fee 3).
     * avg = (10*100 + 30*104) / 40 = 4120 / 40 = 103. */
    coce_fill f = mkfill("b1", 7, COCE_SIDE_BUY, 10, 100, 1, 1000);
    assert_int_equal(coce_book_apply_fill(b, &f, "ABCUSDT", &err), COCE_OK);
    f = mkfill("b1", 7, COCE_SIDE_BUY, 30, 104, 3, 2000);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_OK);
    const coce_position *p = coce_book_position(b, 7);
    assert_non_null(p);
    assert_string_equal(p->symbol, "ABCUSDT");
    assert_close(p->qty, 40, 0, 1e-12);
    assert_close(p->avg_price, 103, 0, 1e-12);
    assert_int_equal(p->entry_ms, 1000);
    assert_close(p->high_price, 104, 0, 0);
    assert_close(p->entry_fees, 4, 0, 1e-12);
    /* cash = 10000 - 1000 - 1 - 3120 - 3 = 5876 */
    assert_close(b->cash, 5876, 0, 1e-9);
    assert_close(b->realised_pnl, 0, 0, 0);

    /* Sell 20 @ 110, fee 2: entry-fee share 4*20/40 = 2;
     * pnl = (110 - 103)*20 - 2 - 2 = 136; cash = 5876 + 2200 - 2 = 8074. */
    f = mkfill("s1", 7, COCE_SIDE_SELL, 20, 110, 2, 3000);
    assert_int_equal(coce_book_apply_fill(b, &f, "ABCUSDT", &err), COCE_OK);
    assert_close(b->realised_pnl, 136, 0, 1e-9);
    assert_close(b->cash, 8074, 0, 1e-9);
    p = coce_book_position(b, 7);
    assert_close(p->qty, 20, 0, 1e-12);
    assert_close(p->avg_price, 103, 0, 1e-12);
    assert_int_equal(b->n_trades, 0);

    /* Sell the last 20 @ 99, fee 2: pnl = (99-103)*20 - 2 - 2 = -84. */
    f = mkfill("s2", 7, COCE_SIDE_SELL, 20, 99, 2, 4000);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_OK);
    assert_null(coce_book_position(b, 7));
    assert_int_equal(coce_book_position_count(b), 0);
    assert_close(b->realised_pnl, 52, 0, 1e-9);
    assert_close(b->cash, 10052, 0, 1e-9); /* flat: pnl = change in cash */
    assert_close(b->fees_paid, 8, 0, 1e-12);
    assert_int_equal(b->trade_count, 4);
    assert_int_equal(b->n_trades, 1);
    const coce_closed_trade *t = &b->trades[0];
    assert_int_equal(t->asset, 7);
    assert_string_equal(t->symbol, "ABCUSDT");
    assert_int_equal(t->entry_ms, 1000);
    assert_int_equal(t->exit_ms, 4000);
    assert_close(t->qty, 40, 0, 1e-12);
    assert_close(t->entry_price, 103, 0, 1e-12);
    assert_close(t->exit_price, (2200.0 + 1980.0) / 40.0, 0, 1e-12);
    assert_close(t->pnl, 52, 0, 1e-9);

    /* A new round trip starts afresh. */
    f = mkfill("b2", 7, COCE_SIDE_BUY, 1, 50, 0, 5000);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_OK);
    p = coce_book_position(b, 7);
    assert_close(p->avg_price, 50, 0, 0);
    assert_int_equal(p->entry_ms, 5000);
    assert_close(p->rt_qty, 0, 0, 0);
    coce_book_free(b);
}

static void test_no_shorts_and_bad_fills(void **state)
{
    (void)state;
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(100.0, &b), COCE_OK);
    coce_err err;
    coce_fill f = mkfill("s", 1, COCE_SIDE_SELL, 1, 10, 0, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, "XUSDT", &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "no shorts"));
    f = mkfill("b", 1, COCE_SIDE_BUY, 2, 10, 0.5, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, "XUSDT", &err), COCE_OK);
    double cash = b->cash;
    f = mkfill("s", 1, COCE_SIDE_SELL, 2.5, 10, 0, 2);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "XUSDT"));
    assert_close(b->cash, cash, 0, 0); /* unchanged */
    assert_close(coce_book_position(b, 1)->qty, 2, 0, 0);

    /* Bad fields. */
    f = mkfill("x", 1, 0, 1, 10, 0, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_EINVAL);
    f = mkfill("x", 1, COCE_SIDE_BUY, 0, 10, 0, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_EINVAL);
    f = mkfill("x", 1, COCE_SIDE_BUY, 1, NAN, 0, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_EINVAL);
    f = mkfill("x", 1, COCE_SIDE_BUY, 1, 10, INFINITY, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_EINVAL);
    f = mkfill("x", 1, COCE_SIDE_BUY, 1, 10, 0, 1);
    memset(f.client_id, 'a', sizeof f.client_id);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_EINVAL);
    /* Unknown asset without a symbol; symbol conflicts. */
    f = mkfill("x", 2, COCE_SIDE_BUY, 1, 10, 0, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_book_apply_fill(b, &f, "XUSDT", &err), COCE_EINVAL);
    assert_int_equal(coce_book_apply_fill(b, &f, "", &err), COCE_EINVAL);
    f = mkfill("x", 1, COCE_SIDE_BUY, 1, 10, 0, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, "YUSDT", &err), COCE_EINVAL);
    assert_int_equal(coce_book_apply_fill(NULL, &f, NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_book_check_fill(b, NULL, NULL, NULL), COCE_EINVAL);

    /* A sell within the quantity tolerance closes the position. */
    f = mkfill("s", 1, COCE_SIDE_SELL, 2.0 * (1 + 1e-12), 12, 0, 3);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_OK);
    assert_null(coce_book_position(b, 1));
    assert_int_equal(b->n_trades, 1);
    assert_close(b->trades[0].pnl, (12.0 - 10.0) * 2.0 * (1 + 1e-12) - 0.5, 0,
                 1e-12);
    coce_book_free(b);

    assert_int_equal(coce_book_new(-1, &b), COCE_EINVAL);
    assert_int_equal(coce_book_new(NAN, &b), COCE_EINVAL);
    assert_int_equal(coce_book_new(1, NULL), COCE_EINVAL);
    coce_book_free(NULL);
}

static void test_symbols(void **state)
{
    (void)state;
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(0, &b), COCE_OK);
    coce_err err;
    assert_int_equal(coce_book_set_symbol(b, 3, "AUSDT", &err), COCE_OK);
    assert_int_equal(coce_book_set_symbol(b, 3, "AUSDT", &err), COCE_OK);
    assert_int_equal(b->n_symbols, 1);
    assert_int_equal(coce_book_set_symbol(b, 3, "BUSDT", &err), COCE_EINVAL);
    assert_int_equal(coce_book_set_symbol(b, 4, "AUSDT", &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "AUSDT"));
    assert_int_equal(coce_book_set_symbol(b, 4, NULL, &err), COCE_EINVAL);
    char longsym[COCE_BOOK_SYMBOL_MAX + 1];
    memset(longsym, 'Z', sizeof longsym - 1);
    longsym[sizeof longsym - 1] = '\0';
    assert_int_equal(coce_book_set_symbol(b, 4, longsym, &err), COCE_EINVAL);
    /* Growth past the first capacity. */
    for (coce_asset_id i = 10; i < 40; ++i) {
        char s[16];
        (void)snprintf(s, sizeof s, "S%u", i);
        assert_int_equal(coce_book_set_symbol(b, i, s, NULL), COCE_OK);
    }
    assert_string_equal(coce_book_symbol(b, 39), "S39");
    assert_null(coce_book_symbol(b, 99));
    assert_null(coce_book_symbol(NULL, 3));
    coce_asset_id id = 0;
    assert_int_equal(coce_book_asset_by_symbol(b, "S21", &id), COCE_OK);
    assert_int_equal(id, 21);
    assert_int_equal(coce_book_asset_by_symbol(b, "nope", &id), COCE_ENOTFOUND);
    assert_int_equal(coce_book_asset_by_symbol(b, NULL, &id), COCE_EINVAL);
    coce_book_free(b);
}

static void test_equity_mark_and_history(void **state)
{
    (void)state;
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(1000, &b), COCE_OK);
    coce_err err;
    coce_fill f = mkfill("a", 0, COCE_SIDE_BUY, 2, 100, 0, 1);
    assert_int_equal(coce_book_apply_fill(b, &f, "AUSDT", &err), COCE_OK);
    f = mkfill("b", 2, COCE_SIDE_BUY, 10, 5, 0, 2);
    assert_int_equal(coce_book_apply_fill(b, &f, "BUSDT", &err), COCE_OK);
    /* cash = 1000 - 200 - 50 = 750 */
    double prices[3] = {120, NAN, 4};
    double eq = 0;
    assert_int_equal(coce_book_equity(b, prices, 3, &eq, &err), COCE_OK);
    assert_close(eq, 750 + 2 * 120 + 10 * 4, 0, 1e-9);
    assert_int_equal(coce_book_equity(b, prices, 2, &eq, &err), COCE_EDATA);
    assert_non_null(strstr(err.msg, "BUSDT"));
    assert_int_equal(coce_book_equity(b, NULL, 0, &eq, &err), COCE_EDATA);
    assert_int_equal(coce_book_equity(b, prices, 3, NULL, &err), COCE_EINVAL);

    /* Mark raises the high of A (120 > 100), not of B (4 < 5). */
    assert_int_equal(coce_book_mark(b, prices, 3, &err), COCE_OK);
    assert_close(coce_book_position(b, 0)->high_price, 120, 0, 0);
    assert_close(coce_book_position(b, 2)->high_price, 5, 0, 0);
    double bad[3] = {130, 1, -1};
    assert_int_equal(coce_book_mark(b, bad, 3, &err), COCE_EDATA);
    assert_close(coce_book_position(b, 0)->high_price, 120, 0,
                 0); /* all or nothing */
    assert_int_equal(coce_book_mark(NULL, bad, 3, &err), COCE_EINVAL);

    /* Iteration in opening order. */
    assert_int_equal(coce_book_position_count(b), 2);
    assert_int_equal(coce_book_position_at(b, 0)->asset, 0);
    assert_int_equal(coce_book_position_at(b, 1)->asset, 2);
    assert_null(coce_book_position_at(b, 2));
    assert_null(coce_book_position_at(NULL, 0));
    assert_int_equal(coce_book_position_count(NULL), 0);
    assert_null(coce_book_position(NULL, 0));

    /* Equity history, peak and drawdown. */
    assert_close(coce_book_drawdown(b), 0, 0, 0);
    for (int d = 0; d < 20; ++d)
        assert_int_equal(
            coce_book_record_equity(b, 86400000LL * d, 1000 + 10 * d, &err),
            COCE_OK);
    assert_close(b->peak_equity, 1190, 0, 0);
    assert_int_equal(coce_book_record_equity(b, 86400000LL * 20, 952, &err),
                     COCE_OK);
    assert_close(coce_book_drawdown(b), (1190.0 - 952.0) / 1190.0, 1e-15, 0);
    assert_close(b->peak_equity, 1190, 0, 0);
    assert_int_equal(coce_book_record_equity(b, 5, 1, &err), COCE_EORDER);
    assert_int_equal(coce_book_record_equity(b, 86400000LL * 21, NAN, &err),
                     COCE_EINVAL);
    assert_int_equal(b->n_equity, 21);
    assert_int_equal(b->equity[20].time_ms, 86400000LL * 20);
    assert_close(b->equity[20].equity, 952, 0, 0);
    coce_book_free(b);
}

static coce_open_order mkorder(const char *cid, double qty)
{
    coce_open_order o;
    memset(&o, 0, sizeof o);
    (void)snprintf(o.client_id, sizeof o.client_id, "%s", cid);
    o.asset = 5;
    o.side = COCE_SIDE_BUY;
    o.type = COCE_ORDER_LIMIT;
    o.qty = qty;
    o.limit_price = 2.5;
    o.status = COCE_ORDER_OPEN;
    return o;
}

static void test_open_orders(void **state)
{
    (void)state;
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(1000, &b), COCE_OK);
    coce_err err;
    for (int i = 0; i < 12; ++i) {
        char cid[16];
        (void)snprintf(cid, sizeof cid, "o%d", i);
        coce_open_order o = mkorder(cid, 10);
        assert_int_equal(coce_book_order_add(b, &o, &err), COCE_OK);
    }
    coce_open_order o = mkorder("o3", 10);
    assert_int_equal(coce_book_order_add(b, &o, &err), COCE_EEXIST);
    o = mkorder("", 10);
    assert_int_equal(coce_book_order_add(b, &o, &err), COCE_EINVAL);
    o = mkorder("z", 0);
    assert_int_equal(coce_book_order_add(b, &o, &err), COCE_EINVAL);
    o = mkorder("z", 1);
    o.status = (coce_order_status)42;
    assert_int_equal(coce_book_order_add(b, &o, &err), COCE_EINVAL);
    assert_int_equal(coce_book_order_add(NULL, &o, &err), COCE_EINVAL);

    assert_int_equal(
        coce_book_order_update(b, "o2", COCE_ORDER_CANCEL_REQUESTED, 1),
        COCE_OK);
    assert_int_equal(coce_book_order_find(b, "o2")->status,
                     COCE_ORDER_CANCEL_REQUESTED);
    assert_close(coce_book_order_find(b, "o2")->filled, 1, 0, 0);
    assert_int_equal(coce_book_order_update(b, "nope", COCE_ORDER_OPEN, 0),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_book_order_update(b, "o2", (coce_order_status)9, 0),
                     COCE_EINVAL);
    assert_int_equal(coce_book_order_remove(b, "o0"), COCE_OK);
    assert_int_equal(coce_book_order_remove(b, "o0"), COCE_ENOTFOUND);
    assert_int_equal(coce_book_order_remove(b, NULL), COCE_EINVAL);
    assert_null(coce_book_order_find(b, "o0"));
    assert_null(coce_book_order_find(b, NULL));
    assert_int_equal(b->n_orders, 11);
    assert_string_equal(b->orders[0].client_id, "o1");

    /* Fills of an open order grow its filled qty, then remove it. */
    coce_fill f;
    memset(&f, 0, sizeof f);
    (void)snprintf(f.client_id, sizeof f.client_id, "o5");
    f.asset = 5;
    f.side = COCE_SIDE_BUY;
    f.qty = 4;
    f.price = 2.5;
    assert_int_equal(coce_book_apply_fill(b, &f, "EUSDT", &err), COCE_OK);
    assert_int_equal(coce_book_order_find(b, "o5")->status, COCE_ORDER_PARTIAL);
    assert_close(coce_book_order_find(b, "o5")->filled, 4, 0, 0);
    f.qty = 6;
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_OK);
    assert_null(coce_book_order_find(b, "o5"));
    assert_int_equal(b->n_orders, 10);
    /* A fill without an order id touches no order. */
    f.client_id[0] = '\0';
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, &err), COCE_OK);
    assert_int_equal(b->n_orders, 10);

    coce_order_status s;
    for (int i = 0; i <= COCE_ORDER_UNKNOWN; ++i) {
        const char *name = coce_order_status_name((coce_order_status)i);
        assert_non_null(name);
        assert_int_equal(coce_order_status_parse(name, &s), COCE_OK);
        assert_int_equal(s, i);
    }
    assert_null(coce_order_status_name((coce_order_status)5));
    assert_int_equal(coce_order_status_parse("bogus", &s), COCE_EINVAL);
    assert_int_equal(coce_order_status_parse(NULL, &s), COCE_EINVAL);
    coce_book_free(b);
}

static void test_text_fields_and_kill_switch(void **state)
{
    (void)state;
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(1, &b), COCE_OK);
    char big[COCE_BOOK_TEXT_MAX + 1];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(coce_book_set_run(b, "run-1", "abc"), COCE_OK);
    assert_string_equal(b->run_id, "run-1");
    assert_string_equal(b->config_hash, "abc");
    assert_int_equal(coce_book_set_run(b, big, "abc"), COCE_EINVAL);
    assert_int_equal(coce_book_set_run(b, "r", big), COCE_EINVAL);
    assert_int_equal(coce_book_set_run(b, NULL, "x"), COCE_EINVAL);
    assert_int_equal(coce_book_set_model_version(b, "pump-v3"), COCE_OK);
    assert_string_equal(b->model_version, "pump-v3");
    assert_int_equal(coce_book_set_model_version(b, big), COCE_EINVAL);
    assert_int_equal(coce_book_set_model_version(NULL, "x"), COCE_EINVAL);

    assert_int_equal(coce_book_halt(b, "sharpe below 0.5", 99, 0.25, 0.4, 0.12),
                     COCE_OK);
    assert_true(b->kill.halted);
    assert_string_equal(b->kill.reason, "sharpe below 0.5");
    assert_int_equal(b->kill.time_ms, 99);
    assert_close(b->kill.sharpe_7d, 0.25, 0, 0);
    assert_close(b->kill.hit_rate_7d, 0.4, 0, 0);
    assert_close(b->kill.drawdown, 0.12, 0, 0);
    coce_book_resume(b);
    assert_false(b->kill.halted);
    assert_string_equal(b->kill.reason, "sharpe below 0.5");
    assert_int_equal(coce_book_halt(b, big, 1, 0, 0, 0), COCE_EINVAL);
    coce_book_resume(NULL);
    coce_book_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_fills_average_and_round_trip),
        cmocka_unit_test(test_no_shorts_and_bad_fills),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_equity_mark_and_history),
        cmocka_unit_test(test_open_orders),
        cmocka_unit_test(test_text_fields_and_kill_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
