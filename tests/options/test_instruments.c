/* Deribit instrument names, get_instruments answers, tickers, ticks. The
 * real lists come from ../shared/data/deribit_sample (skipped if absent). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options/instruments.h"
#include "testutil.h"

static void test_parse_name(void **state)
{
    (void)state;
    coce_instrument in;
    coce_err err;
    assert_int_equal(
        coce_instrument_parse_name("BTC-24SEP21-40000-C", &in, &err), COCE_OK);
    assert_string_equal(in.currency, "BTC");
    assert_int_equal(in.kind, COCE_INST_OPTION);
    assert_int_equal(in.option_type, COCE_OPT_CALL);
    assert_true(in.strike == 40000.0);
    /* 2021-09-24 08:00 UTC = the list's expiration_timestamp */
    assert_true(in.expiry_ms == 1632470400000LL);
    assert_int_equal(coce_instrument_parse_name("ETH-3DEC21-2050-P", &in, &err),
                     0);
    assert_int_equal(in.option_type, COCE_OPT_PUT);
    assert_true(in.expiry_ms == 1638518400000LL); /* 2021-12-03 08:00 */
    assert_int_equal(
        coce_instrument_parse_name("XRP_USDC-30JUN23-0d625-C", &in, &err), 0);
    assert_string_equal(in.currency, "XRP_USDC");
    assert_true(in.strike == 0.625);
    assert_int_equal(coce_instrument_parse_name("BTC-31DEC21", &in, &err), 0);
    assert_int_equal(in.kind, COCE_INST_FUTURE);
    assert_true(in.expiry_ms == 1640937600000LL);
    assert_int_equal(coce_instrument_parse_name("BTC-PERPETUAL", &in, &err), 0);
    assert_int_equal(in.kind, COCE_INST_PERPETUAL);
    assert_true(in.expiry_ms == 0);
    assert_int_equal(coce_instrument_parse_name("BTC-29FEB24-1-P", &in, &err),
                     0);
    const char *bad[] = {
        "",
        "BTC-31FEB21-40000-C",
        "BTC-29FEB23-40000-C",
        "BTC-24SEX21-40000-C",
        "BTC-24SEP2X-40000-C",
        "BTC-0SEP21-40000-C",
        "BTC-124SEP21-40000-C",
        "BTC-X4SEP21-40000-C",
        "BTC-24SEP21-40000-X",
        "BTC-24SEP21-40000-CC",
        "BTC-24SEP21-4a000-C",
        "BTC-24SEP21-0d5d5-C",
        "BTC-24SEP21--C",
        "BTC-24SEP21-0-C",
        "BTC-24SEP21-40000",
        "BTC-24SEP21-1-2-3-4",
        "-24SEP21-40000-C",
        "ABCDEFGHIJKLMNOPQRST-24SEP21-40000-C",
        "BTC-24SEP21-123456789012345678901234567890123-C",
        "BTC",
        "AVERYLONGNAMEAVERYLONGNAMEAVERYLONGNAMEAVERYLONGNAMEAVERYLONGNAMEX"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = coce_instrument_parse_name(bad[i], &in, &err);
        if (rc != COCE_EPARSE)
            fail_msg("'%s' parsed (rc %d)", bad[i], rc);
        assert_non_null(strstr(err.msg, "instrument name"));
    }
    assert_int_equal(coce_instrument_parse_name(NULL, &in, &err), COCE_EINVAL);
}

static const char *LIST =
    "{\"jsonrpc\":\"2.0\",\"result\":["
    "{\"tick_size\":0.0001,\"tick_size_steps\":[{\"above_price\":0.005,"
    "\"tick_size\":0.0005}],\"strike\":16000,\"option_type\":\"put\","
    "\"min_trade_amount\":0.1,\"kind\":\"option\",\"is_active\":true,"
    "\"instrument_name\":\"BTC-13JAN23-16000-P\",\"expiration_timestamp\":"
    "1673596800000,\"contract_size\":1,\"settlement_period\":\"week\"},"
    "{\"tick_size\":0.5,\"min_trade_amount\":10,\"kind\":\"future\","
    "\"is_active\":true,\"instrument_name\":\"BTC-PERPETUAL\","
    "\"expiration_timestamp\":32503708800000,\"contract_size\":10,"
    "\"settlement_period\":\"perpetual\"},"
    "{\"tick_size\":2.5,\"min_trade_amount\":10,\"kind\":\"future\","
    "\"instrument_name\":\"BTC-31DEC21\",\"expiration_timestamp\":"
    "1640937600000,\"contract_size\":10,\"settlement_period\":\"month\"},"
    "{\"tick_size\":0.0001,\"min_trade_amount\":1,\"kind\":\"spot\","
    "\"instrument_name\":\"ETH_USDC\",\"expiration_timestamp\":0,"
    "\"contract_size\":1}]}";

static void test_parse_list(void **state)
{
    (void)state;
    coce_instrument in[4];
    size_t n;
    coce_err err;
    assert_int_equal(
        coce_instruments_parse(LIST, strlen(LIST), in, 4, &n, &err), COCE_OK);
    assert_int_equal(n, 4);
    assert_string_equal(in[0].name, "BTC-13JAN23-16000-P");
    assert_int_equal(in[0].kind, COCE_INST_OPTION);
    assert_int_equal(in[0].option_type, COCE_OPT_PUT);
    assert_true(in[0].strike == 16000.0 && in[0].min_trade_amount == 0.1);
    assert_true(in[0].expiry_ms == 1673596800000LL && in[0].is_active);
    assert_int_equal(in[0].n_steps, 1);
    assert_int_equal(in[1].kind, COCE_INST_PERPETUAL);
    assert_int_equal(in[2].kind, COCE_INST_FUTURE);
    assert_int_equal(in[3].kind, COCE_INST_OTHER);
    assert_int_equal(coce_instrument_find(in, n, "BTC-31DEC21"), 2);
    assert_int_equal(coce_instrument_find(in, n, "nope"), 4);
    /* too small a buffer: stores cap, reports all */
    assert_int_equal(
        coce_instruments_parse(LIST, strlen(LIST), in, 2, &n, &err),
        COCE_ERANGE);
    assert_int_equal(n, 4);
    /* bare array */
    const char *arr = "[{\"tick_size\":0.0005,\"strike\":2000,\"option_type\":"
                      "\"call\",\"min_trade_amount\":1,\"kind\":\"option\","
                      "\"instrument_name\":\"ETH-24SEP21-2000-C\","
                      "\"expiration_timestamp\":1632470400000,"
                      "\"contract_size\":1,\"tick_size_steps\":["
                      "{\"above_price\":0.5,\"tick_size\":0.005},"
                      "{\"above_price\":0.05,\"tick_size\":0.001}]}]";
    assert_int_equal(coce_instruments_parse(arr, strlen(arr), in, 4, &n, &err),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(in[0].option_type, COCE_OPT_CALL);
    /* steps are sorted by threshold */
    assert_true(in[0].step_above[0] == 0.05 && in[0].step_tick[1] == 0.005);
    struct {
        const char *json;
        int rc;
        const char *msg;
    } bad[] = {
        {"{", COCE_EPARSE, "line"},
        {"{\"result\":{}}", COCE_EPARSE, "no result array"},
        {"[{\"kind\":\"option\"}]", COCE_EPARSE, "[0].instrument_name"},
        {"[{\"instrument_name\":\"X\"}]", COCE_EPARSE, "[0].kind"},
        {"[{\"instrument_name\":\"X\",\"kind\":\"option\"}]", COCE_EPARSE,
         "[0].tick_size"},
        {"[{\"instrument_name\":\"X\",\"kind\":\"option\",\"tick_size\":1,"
         "\"contract_size\":1,\"min_trade_amount\":1,"
         "\"expiration_timestamp\":1}]",
         COCE_EPARSE, "[0].strike"},
        {"[{\"instrument_name\":\"X\",\"kind\":\"option\",\"tick_size\":1,"
         "\"contract_size\":1,\"min_trade_amount\":1,\"strike\":5,"
         "\"expiration_timestamp\":1,\"option_type\":\"swap\"}]",
         COCE_EPARSE, "[0].option_type"},
        {"[{\"instrument_name\":\"X\",\"kind\":\"future\",\"tick_size\":0,"
         "\"contract_size\":1,\"min_trade_amount\":1,"
         "\"expiration_timestamp\":1}]",
         COCE_EPARSE, "[0].tick_size: not positive"},
        {"[{\"instrument_name\":\"X\",\"kind\":\"future\",\"tick_size\":1,"
         "\"contract_size\":1,\"min_trade_amount\":1,"
         "\"expiration_timestamp\":1,\"tick_size_steps\":[{\"above\":1}]}]",
         COCE_EPARSE, "[0].tick_size_steps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = coce_instruments_parse(bad[i].json, strlen(bad[i].json), in, 4,
                                        &n, &err);
        assert_int_equal(rc, bad[i].rc);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
    }
    assert_int_equal(coce_instruments_parse(NULL, 0, in, 4, &n, &err),
                     COCE_EINVAL);
}

static void test_ticks_and_premium(void **state)
{
    (void)state;
    coce_instrument in;
    memset(&in, 0, sizeof in);
    in.tick_size = 0.0001;
    in.n_steps = 1;
    in.step_above[0] = 0.005;
    in.step_tick[0] = 0.0005;
    assert_true(coce_instrument_tick_at(&in, 0.0049) == 0.0001);
    assert_true(coce_instrument_tick_at(&in, 0.005) == 0.0005);
    double r;
    assert_int_equal(
        coce_instrument_round_price(&in, 0.00123, COCE_ROUND_UP, &r), 0);
    assert_close(r, 0.0013, 0, 1e-15);
    assert_int_equal(
        coce_instrument_round_price(&in, 0.00123, COCE_ROUND_DOWN, &r), 0);
    assert_close(r, 0.0012, 0, 1e-15);
    assert_int_equal(
        coce_instrument_round_price(&in, 0.00127, COCE_ROUND_NEAREST, &r), 0);
    assert_close(r, 0.0013, 0, 1e-15);
    /* above the threshold: 0.0005 grid */
    assert_int_equal(
        coce_instrument_round_price(&in, 0.0123, COCE_ROUND_UP, &r), 0);
    assert_close(r, 0.0125, 0, 1e-15);
    assert_int_equal(
        coce_instrument_round_price(&in, 0.0123, COCE_ROUND_DOWN, &r), 0);
    assert_close(r, 0.012, 0, 1e-15);
    /* on the grid already (binary rounding snapped) */
    assert_int_equal(
        coce_instrument_round_price(&in, 0.0003, COCE_ROUND_UP, &r), 0);
    assert_close(r, 0.0003, 0, 1e-15);
    /* across the threshold: 0.00499 up -> 0.005 (valid on both grids) */
    assert_int_equal(
        coce_instrument_round_price(&in, 0.00499, COCE_ROUND_UP, &r), 0);
    assert_close(r, 0.005, 0, 1e-15);
    /* a coarse step: 0.0102 nearest on 0.0005 -> 0.01 */
    in.step_tick[0] = 0.003;
    in.step_above[0] = 0.01;
    assert_int_equal(
        coce_instrument_round_price(&in, 0.00999, COCE_ROUND_UP, &r), 0);
    assert_close(r, 0.012, 0, 1e-15); /* 0.01 is not on the 0.003 grid */
    assert_int_equal(coce_instrument_round_price(&in, -1.0, COCE_ROUND_UP, &r),
                     COCE_EINVAL);
    in.tick_size = 0.0;
    assert_int_equal(coce_instrument_round_price(&in, 1.0, COCE_ROUND_UP, &r),
                     COCE_EINVAL);
    assert_close(coce_premium_coin_to_usd(0.0025, 40000.0), 100.0, 1e-15, 0);
    assert_close(coce_premium_usd_to_coin(100.0, 40000.0), 0.0025, 1e-15, 0);
}

static void test_ticker_parse(void **state)
{
    (void)state;
    coce_ticker t;
    coce_err err;
    /* a hand-made message in the shape of Deribit's ticker channel */
    const char *sub =
        "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{"
        "\"channel\":\"ticker.ETH-30JUL21-2800-C.raw\",\"data\":{"
        "\"underlying_price\":2010.5,\"timestamp\":1626993700000,"
        "\"open_interest\":12000.0,\"mark_price\":0.00195,\"mark_iv\":120.5,"
        "\"instrument_name\":\"ETH-30JUL21-2800-C\",\"index_price\":2011.0,"
        "\"greeks\":{\"vega\":0.2,\"theta\":-1.6,\"gamma\":0.0002,"
        "\"delta\":0.031},\"bid_iv\":115.0,\"best_bid_price\":0.0015,"
        "\"best_bid_amount\":4700.0,\"best_ask_price\":0.0025,"
        "\"best_ask_amount\":870.0,\"ask_iv\":125.0}}}";
    assert_int_equal(coce_ticker_parse(sub, strlen(sub), &t, &err), COCE_OK);
    assert_string_equal(t.name, "ETH-30JUL21-2800-C");
    assert_true(t.timestamp_ms == 1626993700000LL);
    assert_true(t.mark_price == 0.00195 && t.mark_iv == 120.5);
    assert_true(t.delta == 0.031 && t.open_interest == 12000.0);
    assert_true(t.best_bid_price == 0.0015 && t.best_ask_price == 0.0025);
    const char *res = "{\"jsonrpc\":\"2.0\",\"result\":{\"instrument_name\":"
                      "\"BTC-PERPETUAL\",\"timestamp\":1,\"mark_price\":3}}";
    assert_int_equal(coce_ticker_parse(res, strlen(res), &t, &err), COCE_OK);
    assert_true(isnan(t.delta) && isnan(t.mark_iv) && t.mark_price == 3.0);
    const char *bare = "{\"instrument_name\":\"A\",\"timestamp\":1,"
                       "\"mark_price\":0.5}";
    assert_int_equal(coce_ticker_parse(bare, strlen(bare), &t, &err), COCE_OK);
    const char *book = "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\","
                       "\"params\":{\"channel\":\"book.X.raw\",\"data\":{}}}";
    assert_int_equal(coce_ticker_parse(book, strlen(book), &t, &err),
                     COCE_ENOTFOUND);
    const char *ack = "{\"jsonrpc\":\"2.0\",\"id\":0,\"usIn\":1}";
    assert_int_equal(coce_ticker_parse(ack, strlen(ack), &t, &err),
                     COCE_ENOTFOUND);
    const char *nomark = "{\"instrument_name\":\"A\",\"timestamp\":1}";
    assert_int_equal(coce_ticker_parse(nomark, strlen(nomark), &t, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "mark_price"));
    const char *nots = "{\"instrument_name\":\"A\"}";
    assert_int_equal(coce_ticker_parse(nots, strlen(nots), &t, &err),
                     COCE_EPARSE);
    const char *noname = "{\"timestamp\":1}";
    assert_int_equal(coce_ticker_parse(noname, strlen(noname), &t, &err),
                     COCE_EPARSE);
    assert_int_equal(coce_ticker_parse("{", 1, &t, &err), COCE_EPARSE);
    assert_int_equal(coce_ticker_parse(NULL, 0, &t, &err), COCE_EINVAL);
}

/* The four get_instruments answers of DERIBIT.0 (README: BTC 398 instruments
 * of which 390 options, ETH 426, SOL 177, USDC 16). */
static void test_real_lists(void **state)
{
    (void)state;
    char path[1024];
    if (!coce_test_shared_path(path, sizeof path,
                               "data/deribit_sample/DERIBIT.0"))
        skip();
    size_t len;
    char *text = coce_test_read_file(path, &len);
    assert_non_null(text);
    static coce_instrument in[600];
    const char *ccy[] = {"BTC", "ETH", "SOL", "USDC"};
    const size_t want_n[] = {398, 426, 177, 16};
    const size_t want_opt[] = {390, 418, 172, 0};
    size_t k = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *arrow = strstr(line, " -> ");
        if (!arrow)
            continue;
        char *json = strstr(arrow, ": ");
        assert_non_null(json);
        json += 2;
        assert_true(k < 4);
        char q[32];
        snprintf(q, sizeof q, "currency=%s&", ccy[k]);
        assert_non_null(strstr(line, q));
        size_t n;
        coce_err err;
        int rc = coce_instruments_parse(json, strlen(json), in, 600, &n, &err);
        if (rc)
            fail_msg("%s: %s", ccy[k], err.msg);
        assert_int_equal(n, want_n[k]);
        size_t nopt = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(in[i].tick_size > 0.0 && in[i].min_trade_amount > 0.0 &&
                        in[i].contract_size > 0.0);
            if (in[i].kind != COCE_INST_OPTION)
                continue;
            nopt++;
            /* the name says the same as the fields, expiry 08:00 UTC */
            coce_instrument byname;
            assert_int_equal(
                coce_instrument_parse_name(in[i].name, &byname, &err), COCE_OK);
            assert_true(byname.expiry_ms == in[i].expiry_ms);
            assert_true(byname.strike == in[i].strike);
            assert_int_equal(byname.option_type, in[i].option_type);
            assert_int_equal(in[i].expiry_ms % 86400000, 8 * 3600000);
        }
        assert_int_equal(nopt, want_opt[k]);
        k++;
    }
    assert_int_equal(k, 4);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_name),
        cmocka_unit_test(test_parse_list),
        cmocka_unit_test(test_ticks_and_premium),
        cmocka_unit_test(test_ticker_parse),
        cmocka_unit_test(test_real_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
