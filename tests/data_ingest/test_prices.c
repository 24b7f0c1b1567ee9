/* Tests of the wide close-price table (src/data_ingest/prices.h). Expected
 * times: Python datetime(..., tzinfo=utc).timestamp() * 1000; real-file
 * counts from pandas.read_csv(stock_prices.csv) (shape, isna().sum()). */
#include "testutil.h"
#include "data_ingest/prices.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_dir[512];

static int setup(void **state)
{
    (void)state;
    return coce_test_tmpdir(g_dir, sizeof g_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(g_dir);
    return 0;
}

static const char *fixture(char *buf, size_t len, const char *name,
                           const char *text)
{
    (void)snprintf(buf, len, "%s/%s", g_dir, name);
    assert_int_equal(coce_test_write_file(buf, text), 0);
    return buf;
}

static void test_load_small(void **state)
{
    (void)state;
    char path[600];
    fixture(path, sizeof path, "p.csv",
            "\xEF\xBB\xBF"
            "Date, AAA ,BBB\r\n"
            "2020-01-01,,1.5\r\n"
            "2020-01-02,2.0, 1.25\n"
            "\n"
            "2020-01-03T12:00:00Z,2.5,"); /* no final newline */
    coce_price_table t;
    coce_err err;
    assert_int_equal(coce_price_table_load(path, &t, &err), COCE_OK);
    assert_int_equal(t.n_rows, 3);
    assert_int_equal(t.n_assets, 2);
    assert_string_equal(t.assets[0], "AAA");
    assert_string_equal(t.assets[1], "BBB");
    assert_int_equal(t.time_ms[0], 1577836800000LL);
    assert_int_equal(t.time_ms[1], 1577923200000LL);
    assert_int_equal(t.time_ms[2], 1578052800000LL);
    assert_true(isnan(t.prices[0]));
    assert_true(t.prices[1] == 1.5);
    assert_true(t.prices[2] == 2.0);
    assert_true(t.prices[3] == 1.25);
    assert_true(t.prices[4] == 2.5);
    assert_true(isnan(t.prices[5]));
    coce_price_table_destroy(&t);
    assert_null(t.prices);
    assert_int_equal(t.n_rows, 0);
    coce_price_table_destroy(&t); /* twice is fine */
    coce_price_table_destroy(NULL);

    fixture(path, sizeof path, "ms.csv", "t,X\n1000,3\n2000,4\n");
    assert_int_equal(coce_price_table_load(path, &t, &err), COCE_OK);
    assert_int_equal(t.time_ms[1], 2000);
    coce_price_table_destroy(&t);

    fixture(path, sizeof path, "hdr.csv", "t,X,Y\n");
    assert_int_equal(coce_price_table_load(path, &t, &err), COCE_OK);
    assert_int_equal(t.n_rows, 0);
    assert_int_equal(t.n_assets, 2);
    coce_price_table_destroy(&t);
}

typedef struct bad_case {
    const char *text;
    int code;
    const char *msg; /* after PATH */
} bad_case;

static void test_load_errors(void **state)
{
    (void)state;
    static const bad_case BAD[] = {
        {"date,A,B\n2020-01-01,1,2\n2020-01-02,1\n", COCE_EPARSE,
         ":3: ragged row: expected 3 columns, got 2"},
        {"date,A,B\n2020-01-01,1,2,3\n", COCE_EPARSE,
         ":2: ragged row: expected 3 columns, got 4"},
        {"date,A,B\n2020-01-01,1,x\n", COCE_EPARSE,
         ":2: column 'B': not a number 'x'"},
        {"date,A,B\n2020-01-01,1,1e999\n", COCE_EPARSE,
         ":2: column 'B': not a number"},
        {"date,A,B\n2020-01-01,0,1\n", COCE_EPARSE,
         ":2: column 'A': non-positive price 0"},
        {"date,A,B\n2020-01-01,1,-2\n", COCE_EPARSE,
         ":2: column 'B': non-positive price -2"},
        {"date,A\n2020-01-02,1\n2020-01-02,1\n", COCE_EPARSE,
         ":3: column 'date': time does not increase"},
        {"date,A\n2020-01-02,1\n2020-01-01,1\n", COCE_EPARSE,
         ":3: column 'date': time does not increase"},
        {"date,A\n01/02/2020,1\n", COCE_EPARSE,
         ":2: column 'date': not a time '01/02/2020'"},
        {"date,A,A\n", COCE_EPARSE, ":1: column 'A': duplicate asset"},
        {"date,A,,B\n", COCE_EPARSE, ":1: column 3: empty asset name"},
        {"date\n2020-01-01\n", COCE_EPARSE,
         ":1: header needs a time column and at least one asset"},
        {"", COCE_EPARSE, ": empty file"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; ++i) {
        char path[600], want[800];
        fixture(path, sizeof path, "bad.csv", BAD[i].text);
        coce_price_table t;
        coce_err err;
        int rc = coce_price_table_load(path, &t, &err);
        (void)snprintf(want, sizeof want, "%s%s", path, BAD[i].msg);
        if (rc != BAD[i].code || strstr(err.msg, want) != err.msg)
            fail_msg("case %zu: rc %d msg '%s', want '%s'", i, rc, err.msg,
                     want);
        assert_int_equal(t.n_rows, 0);
        assert_null(t.assets);
        assert_null(t.prices);
    }
    char path[600];
    (void)snprintf(path, sizeof path, "%s/missing.csv", g_dir);
    coce_price_table t;
    coce_err err;
    assert_int_equal(coce_price_table_load(path, &t, &err), COCE_ENOTFOUND);
    assert_int_equal(coce_price_table_load(NULL, &t, &err), COCE_EINVAL);
    assert_int_equal(coce_price_table_load(path, NULL, &err), COCE_EINVAL);
}

static void test_save_roundtrip(void **state)
{
    (void)state;
    int64_t times[3] = {-86400000, 0, 1523404800123LL};
    char a0[] = "AAA", a1[] = "B.B";
    char *assets[2] = {a0, a1};
    double prices[6] = {0.1 + 0.2, NAN, 1.0 / 3.0, 1e-300, NAN, 1e300};
    coce_price_table t = {3, 2, times, assets, prices};
    char path[600];
    (void)snprintf(path, sizeof path, "%s/sub/out.csv", g_dir);
    coce_err err;
    /* the directory must exist: atomic write does not create it */
    assert_int_not_equal(coce_price_table_save(path, &t, &err), COCE_OK);
    (void)snprintf(path, sizeof path, "%s/out.csv", g_dir);
    assert_int_equal(coce_price_table_save(path, &t, &err), COCE_OK);
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    assert_string_equal(text, "time_ms,AAA,B.B\n"
                              "-86400000,0.30000000000000004,\n"
                              "0,0.33333333333333331,1e-300\n" /* %.17g, Python */
                              "1523404800123,,1.0000000000000001e+300\n");
    free(text);
    coce_price_table u;
    assert_int_equal(coce_price_table_load(path, &u, &err), COCE_OK);
    assert_int_equal(u.n_rows, 3);
    assert_int_equal(u.n_assets, 2);
    assert_string_equal(u.assets[1], "B.B");
    for (size_t r = 0; r < 3; ++r) {
        assert_int_equal(u.time_ms[r], times[r]);
        for (size_t j = 0; j < 2; ++j) {
            double x = prices[r * 2 + j], y = u.prices[r * 2 + j];
            assert_true((isnan(x) && isnan(y)) || x == y);
        }
    }
    coce_price_table_destroy(&u);

    /* invalid tables are refused before anything is written */
    prices[0] = -1.0;
    assert_int_equal(coce_price_table_save(path, &t, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "row 0, asset 'AAA'"));
    prices[0] = INFINITY;
    assert_int_equal(coce_price_table_save(path, &t, &err), COCE_EINVAL);
    prices[0] = 1.0;
    times[1] = times[0];
    assert_int_equal(coce_price_table_save(path, &t, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "row 1: time does not increase"));
    times[1] = 0;
    char bad[] = "A,B";
    assets[1] = bad;
    assert_int_equal(coce_price_table_save(path, &t, &err), COCE_EINVAL);
    assets[1] = a1;
    t.n_assets = 0;
    assert_int_equal(coce_price_table_save(path, &t, &err), COCE_EINVAL);
    assert_int_equal(coce_price_table_save(NULL, &t, &err), COCE_EINVAL);
    assert_int_equal(coce_price_table_save(path, NULL, &err), COCE_EINVAL);
    /* the file from the good save is intact */
    assert_int_equal(coce_price_table_load(path, &u, &err), COCE_OK);
    assert_int_equal(u.n_rows, 3);
    coce_price_table_destroy(&u);
}

/* PyPortfolioOpt's stock_prices.csv: pandas gives shape (7126, 21), 35589
 * blank cells, first row 1989-12-29 (AAPL 0.117203, GOOG blank), last row
 * 2018-04-11 (GOOG 1019.969971, SBUX 59.419998). */
static void test_real_stock_prices(void **state)
{
    (void)state;
    char path[1024];
    if (coce_test_shared_path(path, sizeof path,
                              "data/hrp_oracle/stock_prices.csv") == NULL)
        skip();
    coce_price_table t;
    coce_err err;
    assert_int_equal(coce_price_table_load(path, &t, &err), COCE_OK);
    assert_int_equal(t.n_rows, 7126);
    assert_int_equal(t.n_assets, 20);
    assert_string_equal(t.assets[0], "GOOG");
    assert_string_equal(t.assets[1], "AAPL");
    assert_string_equal(t.assets[19], "SBUX");
    assert_int_equal(t.time_ms[0], 630892800000LL);
    assert_int_equal(t.time_ms[t.n_rows - 1], 1523404800000LL);
    assert_true(isnan(t.prices[0]));
    assert_true(t.prices[1] == 0.117203);
    const double *last = t.prices + (t.n_rows - 1) * t.n_assets;
    assert_true(last[0] == 1019.969971);
    assert_true(last[19] == 59.419998);
    size_t blanks = 0;
    for (size_t i = 0; i < t.n_rows * t.n_assets; ++i)
        blanks += isnan(t.prices[i]) != 0;
    assert_int_equal(blanks, 35589);
    coce_price_table_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_roundtrip, setup, teardown),
        cmocka_unit_test(test_real_stock_prices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
