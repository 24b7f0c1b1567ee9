/* Tests of the OHLCV bar loader (src/data_ingest/ohlcv.h). Expected values
 * are the literal numbers of the small CSV texts below; Binance's kline
 * layout is from its public data documentation (12 columns, close_time =
 * open_time + interval - 1). */
#include "testutil.h"
#include "data_ingest/ohlcv.h"
#include "utils/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *text, const coce_ohlcv_opts *opts,
                 coce_bar **bars, size_t *n, size_t *skipped, coce_err *err)
{
    return coce_ohlcv_parse(text, strlen(text), "bars.csv", 7, opts, bars, n,
                            skipped, err);
}

static void test_header_any_order(void **state)
{
    (void)state;
    const char *text =
        "\xEF\xBB\xBF"
        " Close ,volume,extra,high,low,open,Open_Time,trades,quote_volume\r\n"
        "1.5,10,x,2,1,1.2,2024-01-01T00:00:00Z,3,15\r\n"
        "\r\n"
        "1.6,0,y,1.7,1.4,1.5,2024-01-01 00:01,0,0\r\n"
        "1.4,5,z,1.6,1.3,1.6,1704067380000,4294967295,7.5";
    coce_bar *b = NULL;
    size_t n = 0, sk = 9;
    coce_err err;
    assert_int_equal(parse(text, NULL, &b, &n, &sk, &err), COCE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(sk, 0);
    assert_int_equal(b[0].open_ms, 1704067200000LL);
    assert_int_equal(b[1].open_ms, 1704067260000LL);
    assert_int_equal(b[2].open_ms, 1704067380000LL);
    /* no close_time: the smallest gap (60 s) */
    assert_int_equal(b[0].close_ms, 1704067260000LL);
    assert_int_equal(b[2].close_ms, 1704067440000LL);
    assert_true(b[0].open == 1.2 && b[0].high == 2.0 && b[0].low == 1.0 &&
                b[0].close == 1.5);
    assert_true(b[0].volume == 10.0 && b[0].quote_volume == 15.0);
    assert_int_equal(b[0].trades, 3);
    assert_int_equal(b[2].trades, 4294967295u);
    assert_int_equal(b[1].asset, 7);
    coce_ohlcv_free(b);

    coce_ohlcv_opts o = {0, 3600000};
    assert_int_equal(parse(text, &o, &b, &n, NULL, &err), COCE_OK);
    assert_int_equal(b[1].close_ms, 1704067260000LL + 3600000LL);
    coce_ohlcv_free(b);

    /* optional columns absent; one bar and no interval: close = open */
    assert_int_equal(parse("date,open,high,low,close,volume\n"
                           "2024-01-02,1,1,1,1,0\n",
                           NULL, &b, &n, NULL, &err),
                     COCE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(b[0].close_ms, b[0].open_ms);
    assert_true(b[0].quote_volume == 0.0);
    assert_int_equal(b[0].trades, 0);
    coce_ohlcv_free(b);

    /* header only: no bars */
    assert_int_equal(parse("open_time,open,high,low,close,volume\n", NULL, &b,
                           &n, NULL, &err),
                     COCE_OK);
    assert_int_equal(n, 0);
    assert_null(b);
    coce_ohlcv_free(NULL);
}

static void test_binance_headerless(void **state)
{
    (void)state;
    const char *text =
        "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,"
        "1704070799999,53957248.97,47134,682.81,28971178.70,0\n"
        "1704070800000,42475.23,42775.00,42431.65,42613.56,1196.37,"
        "1704074399999,50984710.31,45720,633.06,26977903.53,0\n"
        /* microseconds, as in Binance spot files from 2025 */
        "1704074400000000,42613.56,42638.00,42500.00,42600.00,0.5,"
        "1704077999999999,21300.0,12,0.2,8520.0,0\n";
    coce_bar *b = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(parse(text, NULL, &b, &n, NULL, &err), COCE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(b[0].open_ms, 1704067200000LL);
    assert_int_equal(b[0].close_ms, 1704070800000LL);
    assert_true(b[0].open == 42283.58 && b[0].high == 42554.57);
    assert_true(b[0].low == 42261.02 && b[0].close == 42475.23);
    assert_true(b[0].volume == 1271.68);
    assert_true(b[0].quote_volume == 53957248.97);
    assert_int_equal(b[0].trades, 47134);
    assert_int_equal(b[2].open_ms, 1704074400000LL);
    assert_int_equal(b[2].close_ms, 1704078000000LL);
    assert_int_equal(b[2].trades, 12);
    coce_ohlcv_free(b);

    /* 11 columns: not the Binance layout */
    assert_int_equal(parse("1704067200000,1,1,1,1,1,1704070799999,1,1,1,1\n",
                           NULL, &b, &n, NULL, &err),
                     COCE_EPARSE);
    assert_string_equal(err.msg, "bars.csv:1: wrong number of columns "
                                 "(expected 12, got 11)");
}

typedef struct bad_case {
    const char *row;
    const char *msg;
} bad_case;

static void test_bad_rows(void **state)
{
    (void)state;
    static const bad_case CASES[] = {
        {"60000,1,0.5,0.4,0.6,1,1,1,61000",
         "bars.csv:3: column 'high': high 0.5 below max(open, close) 1"},
        {"60000,1,2,0.8,0.6,1,1,1,61000",
         "bars.csv:3: column 'low': low 0.80000000000000004 above min(open, "
         "close) 0.59999999999999998"},
        {"60000,1,2,0.5,1,-1,1,1,61000",
         "bars.csv:3: column 'volume': negative volume -1"},
        {"60000,1,2,0.5,1,1,-0.5,1,61000",
         "bars.csv:3: column 'quote_volume': negative volume -0.5"},
        {"60000,0,2,0.5,1,1,1,1,61000",
         "bars.csv:3: column 'open': non-positive price 0"},
        {"60000,1,abc,0.5,1,1,1,1,61000",
         "bars.csv:3: column 'high': not a number 'abc'"},
        {"60000,1,2,0.5,1,1,1e999,1,61000",
         "bars.csv:3: column 'quote_volume': not a number '1e999'"},
        {"yesterday,1,2,0.5,1,1,1,1,61000",
         "bars.csv:3: column 'open_time': not a time 'yesterday'"},
        {"60000,1,2,0.5,1,1,1,1,never",
         "bars.csv:3: column 'close_time': not a time 'never'"},
        {"60000,1,2,0.5,1,1,1,1,59999",
         "bars.csv:3: column 'close_time': 59999 is before open time 60000"},
        {"60000,1,2,0.5,1,1,1,1.5,61000",
         "bars.csv:3: column 'trades': not a trade count '1.5'"},
        {"60000,1,2,0.5,1,1,1,4294967296,61000",
         "bars.csv:3: column 'trades': not a trade count '4294967296'"},
        {"60000,1,2,0.5,1,1,1,,61000",
         "bars.csv:3: column 'trades': not a trade count ''"},
        {"0,1,2,0.5,1,1,1,1,61000",
         "bars.csv:3: column 'open_time': time does not increase (0 after "
         "0)"},
        {"60000,1,2,0.5,1,1,1,1",
         "bars.csv:3: wrong number of columns (expected 9, got 8)"},
    };
    const char *head = "open_time,open,high,low,close,volume,quote_volume,"
                       "trades,close_time\n"
                       "0,1,1,1,1,1,1,1,59999\n";
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; ++i) {
        char text[512];
        (void)snprintf(text, sizeof text, "%s%s\n120000,1,1,1,1,1,1,1,179999\n",
                       head, CASES[i].row);
        coce_bar *b = (coce_bar *)(uintptr_t)1;
        size_t n = 5;
        coce_err err;
        assert_int_equal(parse(text, NULL, &b, &n, NULL, &err), COCE_EPARSE);
        assert_null(b);
        assert_int_equal(n, 0);
        if (strcmp(err.msg, CASES[i].msg) != 0)
            fail_msg("case %zu: got '%s'", i, err.msg);
        /* skipped: the two good rows remain */
        coce_ohlcv_opts o = {1, 0};
        size_t sk = 0;
        assert_int_equal(parse(text, &o, &b, &n, &sk, &err), COCE_OK);
        assert_int_equal(n, 2);
        assert_int_equal(sk, 1);
        assert_int_equal(b[1].open_ms, 120000);
        assert_int_equal(b[1].close_ms, 180000);
        coce_ohlcv_free(b);
    }
}

static void test_header_errors(void **state)
{
    (void)state;
    coce_bar *b = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(parse("", NULL, &b, &n, NULL, &err), COCE_EPARSE);
    assert_string_equal(err.msg, "bars.csv: empty file");
    assert_int_equal(parse("\n  \r\n", NULL, &b, &n, NULL, &err),
                     COCE_EPARSE);
    assert_int_equal(parse("\nopen_time,open,high,low,close\n", NULL, &b, &n,
                           NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "bars.csv:2: header 'open_time,open,high,"
                                    "low,close' has no column 'volume'"));
    char many[600] = "open_time,open,high,low,close,volume";
    for (int i = 0; i < 60; ++i)
        strcat(many, ",x");
    assert_int_equal(parse(many, NULL, &b, &n, NULL, &err), COCE_EPARSE);
    assert_non_null(strstr(err.msg, "more than 64 columns"));
    /* a very long header name is ignored, not truncated into a match */
    assert_int_equal(parse("open_time,open,high,low,close,"
                           "volume_of_something_longer_than_thirty_two\n",
                           NULL, &b, &n, NULL, &err),
                     COCE_EPARSE);
    assert_int_equal(coce_ohlcv_parse(NULL, 0, "x", 0, NULL, &b, &n, NULL,
                                      &err),
                     COCE_EINVAL);
    assert_int_equal(coce_ohlcv_parse("", 0, "x", 0, NULL, NULL, &n, NULL,
                                      &err),
                     COCE_EINVAL);
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[512], path[600];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(path, sizeof path, "%s/k.csv", dir);
    assert_int_equal(coce_test_write_file(path,
                                          "open_time,open,high,low,close,"
                                          "volume\n0,1,2,0.5,1.5,3\n"
                                          "60000,1.5,1.5,1,1,0\n"),
                     0);
    coce_bar *b = NULL;
    size_t n = 0, sk = 3;
    coce_err err;
    assert_int_equal(coce_ohlcv_load(path, 2, NULL, &b, &n, &sk, &err),
                     COCE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sk, 0);
    assert_int_equal(b[1].asset, 2);
    assert_int_equal(b[1].close_ms, 120000);
    coce_ohlcv_free(b);
    assert_int_equal(coce_test_write_file(path,
                                          "open_time,open,high,low,close,"
                                          "volume\n0,1,2,0.5,1.5,3\n"
                                          "0,1.5,1.5,1,1,0\n"),
                     0);
    assert_int_equal(coce_ohlcv_load(path, 2, NULL, &b, &n, NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "/k.csv:3: column 'open_time': time "
                                    "does not increase"));
    (void)snprintf(path, sizeof path, "%s/missing.csv", dir);
    assert_true(coce_ohlcv_load(path, 2, NULL, &b, &n, NULL, &err) < 0);
    assert_null(b);
    assert_int_equal(coce_ohlcv_load(NULL, 2, NULL, &b, &n, NULL, &err),
                     COCE_EINVAL);
    coce_test_rmtree(dir);
}

int main(void)
{
    coce_log_set_stderr_level(COCE_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_any_order),
        cmocka_unit_test(test_binance_headerless),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
