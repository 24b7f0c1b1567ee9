/* Black-76 against Deribit: the 89 ticker messages of
 * ../shared/data/deribit_sample/DERIBIT.ws.1.0 priced from mark_iv with the
 * expiries of the instrument lists in DERIBIT.0 (skipped if absent). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options/black76.h"
#include "options/instruments.h"
#include "options/sleeve.h"
#include "testutil.h"

static coce_instrument g_inst[1100];
static size_t g_ni;
static coce_ticker g_tk[100];
static size_t g_nt;

static int load(void)
{
    char path[1024];
    if (!coce_test_shared_path(path, sizeof path,
                               "data/deribit_sample/DERIBIT.0"))
        return 0;
    size_t len;
    char *text = coce_test_read_file(path, &len);
    assert_non_null(text);
    g_ni = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *arrow = strstr(line, " -> ");
        if (!arrow)
            continue;
        char *json = strstr(arrow, ": ") + 2;
        size_t n;
        assert_int_equal(coce_instruments_parse(json, strlen(json),
                                                g_inst + g_ni, 1100 - g_ni, &n,
                                                NULL),
                         COCE_OK);
        g_ni += n;
    }
    free(text);
    assert_int_equal(g_ni, 398 + 426 + 177 + 16);
    assert_non_null(coce_test_shared_path(
        path, sizeof path, "data/deribit_sample/DERIBIT.ws.1.0"));
    text = coce_test_read_file(path, &len);
    assert_non_null(text);
    g_nt = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        /* lines "unix_ts: JSON"; skip the connect and subscribe lines */
        if (strstr(line, " <-"))
            continue;
        char *json = strstr(line, ": ");
        if (!json)
            continue;
        json += 2;
        coce_ticker t;
        int rc = coce_ticker_parse(json, strlen(json), &t, NULL);
        if (rc == COCE_ENOTFOUND)
            continue;
        assert_int_equal(rc, COCE_OK);
        assert_true(g_nt < 100);
        g_tk[g_nt++] = t;
    }
    free(text);
    assert_int_equal(g_nt, 89);
    return 1;
}

static void test_mark_price_from_mark_iv(void **state)
{
    (void)state;
    if (!load())
        skip();
    int within_2e5 = 0;
    double worst = 0.0;
    int iv_ok = 0;
    for (size_t i = 0; i < g_nt; i++) {
        const coce_ticker *t = &g_tk[i];
        size_t k = coce_instrument_find(g_inst, g_ni, t->name);
        assert_true(k < g_ni);
        const coce_instrument *in = &g_inst[k];
        double F = t->underlying_price;
        double T =
            (double)(in->expiry_ms - t->timestamp_ms) / (365.0 * 86400000.0);
        coce_b76_greeks g;
        assert_int_equal(coce_b76_greeks_calc(in->option_type, F, in->strike, T,
                                              t->mark_iv / 100.0, 1.0, &g),
                         COCE_OK);
        double coin = coce_b76_coin(g.price, F);
        double e = fabs(coin - t->mark_price);
        within_2e5 += e <= 2e-5;
        if (e > worst)
            worst = e;
        /* Deribit's greeks are Black-76: delta dV/dF, vega per 1 %, theta
         * per day, in USD (5 decimals shown) */
        /* greeks of the 1e-6-floored ETH-23JUL21-2300-C follow the floor,
         * not mark_iv: compared where the price agrees and is not floored */
        if (e <= 2e-5 && t->mark_price > 1e-6) {
            assert_close(g.delta, t->delta, 0, 2e-4);
            assert_close(g.vega / 100.0, t->vega, 2e-4, 1e-4);
            if (fabs(g.theta / 365.0 - t->theta) > 1e-3 + 2e-4 * fabs(t->theta))
                fail_msg("%s theta %g vs %g", t->name, g.theta / 365.0,
                         t->theta);
        }
        /* IV from mark_price back to mark_iv */
        double iv;
        int rc = coce_b76_implied_vol(in->option_type, F, in->strike, T, 1.0,
                                      t->mark_price * F, &iv, NULL, NULL);
        assert_int_equal(rc, COCE_OK);
        double dv = fabs(iv * 100.0 - t->mark_iv); /* vol points */
        if (strcmp(t->name, "ETH-27AUG21-4000-P") == 0) {
            assert_true(dv < 1.0); /* deep ITM: price ~ intrinsic */
        } else if (strcmp(t->name, "ETH-23JUL21-2300-C") == 0) {
            assert_true(t->mark_price == 1e-6); /* the 1e-6 floor */
            assert_true(dv < 2.5);
        } else {
            assert_true(dv <= 0.02);
            iv_ok++;
        }
    }
    printf("deribit: %d/89 within 2e-5 coin, worst %.3g; iv within 0.02 "
           "points: %d\n",
           within_2e5, worst, iv_ok);
    assert_true(within_2e5 >= 82);
    assert_true(worst <= 2.1e-4);
    assert_int_equal(iv_ok, 76);
}

/* Selection on the real BTC/ETH chain with the sampled tickers (only 10 of
 * the options have a ticker: the rest are "no quote"). */
static void test_select_real(void **state)
{
    (void)state;
    if (!load())
        skip();
    coce_sleeve_rules r;
    coce_sleeve_rules_default(&r);
    r.delta_min = 0.0;
    r.delta_max = 0.2;
    r.min_days = 0.0;
    r.max_days = 400.0;
    r.max_spread = 1.0;
    int64_t now = g_tk[g_nt - 1].timestamp_ms;
    coce_sleeve_choice ch[8];
    size_t n;
    coce_sleeve_rejects rej;
    /* latest ticker of each instrument: the array is in time order, so
     * reverse it to make the first match the newest */
    static coce_ticker rev[100];
    for (size_t i = 0; i < g_nt; i++)
        rev[i] = g_tk[g_nt - 1 - i];
    assert_int_equal(coce_sleeve_select(&r, g_inst, g_ni, rev, g_nt, now, ch, 8,
                                        &n, &rej, NULL),
                     COCE_OK);
    assert_int_equal(rej.seen, 390 + 418 + 172);
    assert_true(rej.no_quote >= rej.seen - 10); /* 10 have a ticker */
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(ch[i].delta) <= 0.2);
        assert_true(ch[i].bid > 0.0 && ch[i].ask >= ch[i].bid);
        assert_true(ch[i].open_interest >= r.min_open_interest);
        assert_true(i == 0 || ch[i].score >= ch[i - 1].score);
        printf("choice %zu: %s delta %.4f days %.1f ask %.4f spread %.2f "
               "score %.3f\n",
               i, g_inst[ch[i].inst].name, ch[i].delta, ch[i].days, ch[i].ask,
               ch[i].spread, ch[i].score);
    }
    assert_int_equal(n + rej.days + rej.delta + rej.open_interest + rej.spread +
                         rej.no_quote + rej.kind,
                     rej.seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mark_price_from_mark_iv),
        cmocka_unit_test(test_select_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
