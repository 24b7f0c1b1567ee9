/* Tests of universe selection (src/universe/universe.h): each rule alone,
 * the order of the rules, the log line of each exclusion, and the market
 * cap loader's no-look-ahead rule. Expected values follow from the small
 * inputs written here. */
#include "testutil.h"
#include "universe/universe.h"
#include "utils/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400000LL
#define T0 1704067200000LL /* 2024-01-01 00:00 UTC */

static coce_universe_asset asset(const char *sym, const char *quote,
                                 double cap, double adv, int64_t first)
{
    coce_universe_asset a;
    memset(&a, 0, sizeof a);
    (void)snprintf(a.symbol, sizeof a.symbol, "%s", sym);
    (void)snprintf(a.quote, sizeof a.quote, "%s", quote);
    a.market_cap_usd = cap;
    a.adv_quote = adv;
    a.first_trade_ms = first;
    return a;
}

static void base_cfg(coce_config *cfg)
{
    coce_config_defaults(cfg);
    cfg->universe.min_market_cap_usd = 1e6;
    cfg->universe.max_market_cap_usd = 5e8;
    cfg->universe.min_adv_quote = 10.0;
    cfg->universe.min_listing_days = 30;
    (void)snprintf(cfg->universe.quote_asset,
                   sizeof cfg->universe.quote_asset, "BTC");
    cfg->universe.exclude.n = 1;
    (void)snprintf(cfg->universe.exclude.items[0],
                   sizeof cfg->universe.exclude.items[0], "bad");
}

static void test_builtin_lists(void **state)
{
    (void)state;
    coce_universe_reason r = COCE_UNIVERSE_OK;
    static const char *const STABLE[] = {"USDT", "usdc", "BUSD", "TUSD",
                                         "DAI",  "PAX",  "USDP", "FDUSD"};
    for (size_t i = 0; i < sizeof STABLE / sizeof STABLE[0]; ++i) {
        assert_int_equal(coce_universe_builtin_excluded(STABLE[i], &r), 1);
        assert_int_equal(r, COCE_UNIVERSE_STABLECOIN);
    }
    static const char *const WRAP[] = {"WBTC", "WETH", "wbnb"};
    for (size_t i = 0; i < 3; ++i) {
        assert_int_equal(coce_universe_builtin_excluded(WRAP[i], &r), 1);
        assert_int_equal(r, COCE_UNIVERSE_WRAPPED);
    }
    static const char *const LEV[] = {"BTCUP", "BTCDOWN", "ETHBULL",
                                      "XRPBEAR", "BULL", "bear", "1INCHUP"};
    for (size_t i = 0; i < sizeof LEV / sizeof LEV[0]; ++i) {
        assert_int_equal(coce_universe_builtin_excluded(LEV[i], &r), 1);
        assert_int_equal(r, COCE_UNIVERSE_LEVERAGED);
    }
    /* real tokens that only look like the rules */
    static const char *const FINE[] = {"WAVES", "WOO", "WIN", "JUP",
                                       "SYRUP", "ADX",  "UP",  "BTC"};
    for (size_t i = 0; i < sizeof FINE / sizeof FINE[0]; ++i) {
        r = COCE_UNIVERSE_CAP_LOW;
        assert_int_equal(coce_universe_builtin_excluded(FINE[i], &r), 0);
        assert_int_equal(r, COCE_UNIVERSE_OK);
    }
    assert_int_equal(coce_universe_builtin_excluded(NULL, &r), 0);
    assert_int_equal(coce_universe_builtin_excluded("USDT", NULL), 1);
}

static void test_each_rule(void **state)
{
    (void)state;
    char dir[512], logp[600];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(logp, sizeof logp, "%s/u.jsonl", dir);
    assert_int_equal(coce_log_open(logp), COCE_OK);
    coce_log_set_level(COCE_LOG_INFO);
    coce_config cfg;
    base_cfg(&cfg);
    int64_t now = T0 + 100 * DAY;
    int64_t old = T0;
    coce_universe_asset a[] = {
        asset("ADX", "BTC", 2e7, 50.0, old),        /* eligible */
        asset("BAD", "BTC", 2e7, 50.0, old),        /* exclude list */
        asset("USDT", "BTC", 2e7, 50.0, old),       /* stablecoin */
        asset("WBTC", "BTC", 2e7, 50.0, old),       /* wrapped */
        asset("ETHBULL", "BTC", 2e7, 50.0, old),    /* leveraged */
        asset("XYZ", "USDT", 2e7, 50.0, old),       /* quote */
        asset("NEW", "btc", 2e7, 50.0, now + 1),    /* not listed yet */
        asset("YNG", "BTC", 2e7, 50.0, now - 29 * DAY - DAY / 2), /* 29.5 d */
        asset("UNL", "BTC", 2e7, 50.0, INT64_MIN),  /* listing unknown */
        asset("NOC", "BTC", NAN, 50.0, old),        /* cap unknown */
        asset("LOW", "BTC", 9e5, 50.0, old),        /* cap < min */
        asset("BIG", "BTC", 6e8, 50.0, old),        /* cap > max */
        asset("THN", "BTC", 2e7, 9.99, old),        /* adv < min */
        asset("NOV", "BTC", 2e7, NAN, old),         /* adv unknown */
        asset("EDG", "BTC", 1e6, 10.0, now - 30 * DAY), /* all at bounds */
    };
    const coce_universe_reason want[] = {
        COCE_UNIVERSE_OK,        COCE_UNIVERSE_EXCLUDED,
        COCE_UNIVERSE_STABLECOIN, COCE_UNIVERSE_WRAPPED,
        COCE_UNIVERSE_LEVERAGED, COCE_UNIVERSE_QUOTE,
        COCE_UNIVERSE_NOT_LISTED, COCE_UNIVERSE_TOO_NEW,
        COCE_UNIVERSE_TOO_NEW,   COCE_UNIVERSE_CAP_UNKNOWN,
        COCE_UNIVERSE_CAP_LOW,   COCE_UNIVERSE_CAP_HIGH,
        COCE_UNIVERSE_ADV_LOW,   COCE_UNIVERSE_ADV_LOW,
        COCE_UNIVERSE_OK};
    size_t n = sizeof a / sizeof a[0];
    coce_universe_decision d[sizeof a / sizeof a[0]];
    size_t k = 99;
    coce_err err;
    assert_int_equal(coce_universe_filter(&cfg, a, n, now, d, &k, &err),
                     COCE_OK);
    for (size_t i = 0; i < n; ++i) {
        if (d[i].reason != want[i])
            fail_msg("%s: reason %d (%s), want %d", a[i].symbol,
                     (int)d[i].reason,
                     coce_universe_reason_text(d[i].reason), (int)want[i]);
        assert_int_equal(d[i].eligible, want[i] == COCE_UNIVERSE_OK);
    }
    assert_int_equal(k, 2);
    coce_log_close();

    /* one line per exclusion, each naming the symbol, reason and figures */
    size_t len = 0;
    char *text = coce_test_read_file(logp, &len);
    assert_non_null(text);
    size_t lines = 0;
    for (const char *p = text; (p = strstr(p, "universe_excluded")) != NULL;
         ++p)
        ++lines;
    assert_int_equal(lines, n - 2);
    assert_non_null(strstr(text, "\"symbol\":\"LOW\""));
    assert_non_null(strstr(text, "\"reason\":\"market cap below minimum\""));
    assert_non_null(strstr(text, "\"market_cap_usd\":900000.0"));
    assert_non_null(strstr(text, "\"wanted\":\"BTC\""));
    assert_non_null(strstr(text, "\"listing_days\":29.5"));
    assert_non_null(strstr(text, "listing time unknown"));
    assert_non_null(strstr(text, "\"adv_quote\":9.99"));
    assert_non_null(strstr(text, "average daily volume unknown"));
    assert_non_null(strstr(text, "\"reason\":\"wrapped token\""));
    free(text);
    coce_test_rmtree(dir);

    /* no band, no volume and listing minimum: unknown figures pass */
    coce_config_defaults(&cfg);
    cfg.universe.min_market_cap_usd = 0.0;
    cfg.universe.max_market_cap_usd = INFINITY;
    cfg.universe.min_adv_quote = 0.0;
    cfg.universe.min_listing_days = 0;
    cfg.universe.quote_asset[0] = '\0';
    coce_universe_asset u = asset("ABC", "ETH", NAN, NAN, INT64_MIN);
    assert_int_equal(coce_universe_filter(&cfg, &u, 1, now, d, &k, NULL),
                     COCE_OK);
    assert_int_equal(k, 1);
    assert_int_equal(d[0].eligible, 1);

    assert_int_equal(coce_universe_filter(NULL, &u, 1, now, d, &k, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_universe_filter(&cfg, NULL, 1, now, d, &k, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_universe_filter(&cfg, NULL, 0, now, NULL, NULL,
                                          &err),
                     COCE_OK);
}

static void test_reason_texts(void **state)
{
    (void)state;
    for (int r = COCE_UNIVERSE_OK; r <= COCE_UNIVERSE_ADV_LOW; ++r) {
        const char *t = coce_universe_reason_text((coce_universe_reason)r);
        assert_non_null(t);
        assert_string_not_equal(t, "unknown reason");
    }
    assert_string_equal(coce_universe_reason_text((coce_universe_reason)99),
                        "unknown reason");
    assert_string_equal(coce_universe_reason_text(COCE_UNIVERSE_STABLECOIN),
                        "stablecoin");
}

static void test_market_caps(void **state)
{
    (void)state;
    char dir[512], path[600];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(path, sizeof path, "%s/market_caps.csv", dir);
    assert_int_equal(coce_test_write_file(path,
                                          "date,symbol,market_cap_usd\n"
                                          "2024-01-02,BAK/BTC,200\n"
                                          "2024-01-01,BAK/BTC,100\n"
                                          "2024-01-01,ZED/BTC,5e7\r\n"
                                          "\n"
                                          "2024-01-03,BAK/BTC,300"),
                     0);
    coce_market_caps mc;
    coce_err err;
    assert_int_equal(coce_market_caps_load(path, &mc, &err), COCE_OK);
    assert_int_equal(mc.n, 4);
    double cap = 0.0;
    int64_t day = 0;
    /* during day 1 nothing is known yet */
    assert_int_equal(coce_market_caps_asof(&mc, "BAK", T0 + DAY - 1, &cap,
                                           &day),
                     COCE_ENOTFOUND);
    /* at the end of day 1 its close is known */
    assert_int_equal(coce_market_caps_asof(&mc, "bak", T0 + DAY, &cap, &day),
                     COCE_OK);
    assert_true(cap == 100.0);
    assert_int_equal(day, T0);
    /* during day 3: day 2's cap, not day 3's */
    assert_int_equal(coce_market_caps_asof(&mc, "BAK", T0 + 2 * DAY + 5, &cap,
                                           NULL),
                     COCE_OK);
    assert_true(cap == 200.0);
    assert_int_equal(coce_market_caps_asof(&mc, "BAK", T0 + 50 * DAY, &cap,
                                           NULL),
                     COCE_OK);
    assert_true(cap == 300.0);
    assert_int_equal(coce_market_caps_asof(&mc, "ZED", T0 + 50 * DAY, &cap,
                                           NULL),
                     COCE_OK);
    assert_true(cap == 5e7);
    assert_int_equal(coce_market_caps_asof(&mc, "AAA", T0 + 50 * DAY, &cap,
                                           NULL),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_market_caps_asof(&mc, "ZZZ", T0 + 50 * DAY, &cap,
                                           NULL),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_market_caps_asof(&mc, "BAK", INT64_MIN, &cap, NULL),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_market_caps_asof(NULL, "BAK", 0, &cap, NULL),
                     COCE_EINVAL);
    coce_universe_asset a[2] = {asset("BAK", "BTC", 1, 1, 0),
                                asset("QQQ", "BTC", 1, 1, 0)};
    coce_market_caps_fill(&mc, a, 2, T0 + 2 * DAY);
    assert_true(a[0].market_cap_usd == 200.0);
    assert_true(isnan(a[1].market_cap_usd));
    coce_market_caps_fill(NULL, a, 1, T0 + 2 * DAY);
    assert_true(isnan(a[0].market_cap_usd));
    coce_market_caps_fill(&mc, NULL, 1, 0);
    coce_market_caps_destroy(&mc);
    assert_int_equal(mc.n, 0);
    coce_market_caps_destroy(NULL);

    typedef struct bad {
        const char *text;
        const char *msg;
    } bad;
    static const bad BAD[] = {
        {"", "market_caps.csv: empty file (no header)"},
        {"date,sym,cap\n", "market_caps.csv:1: unknown header"},
        {"date,symbol,market_cap_usd\nx,BAK,1\n",
         "market_caps.csv:2: column 'date': not a date 'x'"},
        {"date,symbol,market_cap_usd\n2024-01-01,,1\n",
         "market_caps.csv:2: column 'symbol': not a symbol ''"},
        {"date,symbol,market_cap_usd\n2024-01-01,B$K,1\n",
         "market_caps.csv:2: column 'symbol': not a symbol 'B$K'"},
        {"date,symbol,market_cap_usd\n2024-01-01,BAK,-1\n",
         "market_caps.csv:2: column 'market_cap_usd': not a non-negative "
         "number '-1'"},
        {"date,symbol,market_cap_usd\n2024-01-01,BAK,1,2\n",
         "market_caps.csv:2: wrong number of columns (expected 3, got 4)"},
        {"symbol,market_cap_usd,date\nBAK/BTC,1,2024-01-01\n"
         "BAK,2,2024-01-01T00:00:00Z\n",
         "market_caps.csv:3: column 'date': second cap of BAK for the same "
         "day (first at line 2)"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; ++i) {
        assert_int_equal(coce_test_write_file(path, BAD[i].text), 0);
        assert_int_equal(coce_market_caps_load(path, &mc, &err), COCE_EPARSE);
        if (strstr(err.msg, BAD[i].msg) == NULL)
            fail_msg("case %zu: '%s'", i, err.msg);
        assert_int_equal(mc.n, 0);
    }
    (void)snprintf(path, sizeof path, "%s/none.csv", dir);
    assert_true(coce_market_caps_load(path, &mc, &err) < 0);
    assert_int_equal(coce_market_caps_load(NULL, &mc, &err), COCE_EINVAL);
    coce_test_rmtree(dir);
}

int main(void)
{
    coce_log_set_stderr_level(COCE_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_lists),
        cmocka_unit_test(test_each_rule),
        cmocka_unit_test(test_reason_texts),
        cmocka_unit_test(test_market_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
