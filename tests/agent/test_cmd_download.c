/* `coce download-trades` end to end against a fake Binance on 127.0.0.1
 * serving tests/fixtures/api/binance/aggtrades_adxbtc.json. */
#include "../data_ingest/mock_api.h"
#include "agent/cmd_download.h"
#include "testutil.h"
#include "utils/fsutil.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *g_all;

static void route(mock_api *m, struct MHD_Connection *c, const char *path,
                  int n, mock_reply *r)
{
    (void)m;
    (void)path;
    (void)n;
    const char *sym = mock_arg(c, "symbol");
    if (sym == NULL || strcmp(sym, "ADXBTC") != 0) {
        r->status = 400;
        r->body = mock_strdup("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
        return;
    }
    const char *from = mock_arg(c, "fromId");
    const char *st = mock_arg(c, "startTime");
    const char *et = mock_arg(c, "endTime");
    long long limit = atoll(mock_arg(c, "limit"));
    json_t *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(g_all, i, t)
    {
        long long a = json_integer_value(json_object_get(t, "a"));
        long long T = json_integer_value(json_object_get(t, "T"));
        if ((long long)json_array_size(out) >= limit)
            break;
        if (from != NULL ? a >= atoll(from)
                         : (T >= atoll(st) && T <= atoll(et)))
            json_array_append(out, t);
    }
    r->body = json_dumps(out, JSON_COMPACT);
    json_decref(out);
}

static int run(int argc, const char **argv)
{
    return coce_cmd_download_trades(argc, (char **)argv);
}

static int setup(void **state)
{
    (void)state;
    setenv("COCE_BASE_CONFIG", "/nonexistent/base.yaml", 1);
    char p[1024];
    coce_test_path(p, sizeof p,
                   "tests/fixtures/api/binance/aggtrades_adxbtc.json");
    json_error_t je;
    g_all = json_load_file(p, 0, &je);
    return g_all == NULL;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_all);
    return 0;
}

static void test_usage(void **state)
{
    (void)state;
    const char *a1[] = {"download-trades", "--out", "/tmp/x"};
    assert_int_equal(run(3, a1), 2);
    const char *a2[] = {"download-trades", "--events", "e", "--out", "o",
                        "--before", "12x"};
    assert_int_equal(run(7, a2), 2);
    const char *a3[] = {"download-trades", "--events", "e", "--out", "o",
                        "--exchange", "kraken"};
    assert_int_equal(run(7, a3), 2);
    const char *a4[] = {"download-trades", "--help"};
    assert_int_equal(run(2, a4), 0);
    const char *a5[] = {"download-trades", "--events", "e", "--out", "o",
                        "extra"};
    assert_int_equal(run(6, a5), 2);
    const char *a6[] = {"download-trades", "--retries", "99"};
    assert_int_equal(run(3, a6), 2);
    const char *a7[] = {"download-trades", "--bogus"};
    assert_int_equal(run(2, a7), 2);
    const char *a8[] = {"download-trades", "--after", "5", "--page-limit",
                        "0"};
    assert_int_equal(run(5, a8), 2);
    const char *a9[] = {"download-trades", "--events", "e", "--out", "o",
                        "--config", "/nonexistent/c.yaml"};
    assert_int_equal(run(7, a9), 2);
    const char *a10[] = {"download-trades", "--before", "36h", "--after",
                         "30s", "--dedupe-minutes", "5", "--out", "o"};
    assert_int_equal(run(9, a10), 2); /* durations fine, --events missing */
    const char *a11[] = {"download-trades", "--before", "99999999999999d"};
    assert_int_equal(run(3, a11), 2);
    const char *a12[] = {"download-trades", "--timeout-ms", "0"};
    assert_int_equal(run(3, a12), 2);
}

static void test_download_skip_and_fail(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    char dir[512], events[700], out[700], file[900], cache[700];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(events, sizeof events, "%s/events.csv", dir);
    snprintf(out, sizeof out, "%s/trades", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    /* Two announcements of one pump 5 minutes apart (deduped to the first),
     * and one pump on another exchange (filtered out). */
    assert_int_equal(coce_test_write_file(events,
                                          "symbol,time_ms,exchange\n"
                                          "ADX,2019-07-05 17:00,binance\n"
                                          "ADX,2019-07-05 17:05,binance\n"
                                          "XYZ,2019-07-05 17:00,yobit\n"),
                     0);
    /* The repository's base.yaml and a user config are both read. */
    char base_yaml[1024], user_yaml[700];
    coce_test_path(base_yaml, sizeof base_yaml, "config/base.yaml");
    setenv("COCE_BASE_CONFIG", base_yaml, 1);
    snprintf(user_yaml, sizeof user_yaml, "%s/user.yaml", dir);
    assert_int_equal(coce_test_write_file(user_yaml, "run:\n  seed: 7\n"), 0);
    const char *argv[] = {"download-trades", "--events", events,
                          "--out", out, "--before", "120m", "--after", "1h",
                          "--base-url", m.base, "--page-limit", "5",
                          "--retries", "0", "--backoff-ms", "1",
                          "--timeout-ms", "3000", "--cache-dir", cache,
                          "--dedupe-minutes", "10", "--quote", "BTC",
                          "--exchange", "binance", "--config", user_yaml};
    assert_int_equal(run(29, argv), 0);
    setenv("COCE_BASE_CONFIG", "/nonexistent/base.yaml", 1);
    snprintf(file, sizeof file, "%s/ADX_2019-07-05_17.00.csv.gz", out);
    assert_true(coce_fs_exists(file));
    int requests = mock_count(&m);
    assert_int_equal(requests, 6);
    /* A second run finds the file complete and asks for nothing. */
    assert_int_equal(run(29, argv), 0);
    assert_int_equal(mock_count(&m), requests);

    /* An unknown pair fails (exit 1) without a file; others still go. */
    assert_int_equal(coce_test_write_file(events,
                                          "symbol,time_ms,exchange\n"
                                          "NOPE,2019-07-05 17:00,binance\n"
                                          "ADX,2019-07-05 17:00,binance\n"),
                     0);
    assert_int_equal(run(29, argv), 1);
    snprintf(file, sizeof file, "%s/NOPE_2019-07-05_17.00.csv.gz", out);
    assert_false(coce_fs_exists(file));

    /* An output path too long for the file name fails that event. */
    char longdir[1100];
    memset(longdir, 'd', sizeof longdir - 1);
    longdir[sizeof longdir - 1] = '\0';
    argv[4] = longdir;
    assert_int_equal(run(29, argv), 1);
    argv[4] = out;
    /* A bad user config is a usage error. */
    assert_int_equal(coce_test_write_file(user_yaml, "run:\n  nope: 1\n"), 0);
    assert_int_equal(run(29, argv), 2);
    assert_int_equal(coce_test_write_file(user_yaml, "run:\n  seed: 7\n"), 0);
    /* Bad and missing event lists are bad input data. */
    assert_int_equal(coce_test_write_file(events, "symbol,time_ms\nADX,xx\n"),
                     0);
    assert_int_equal(run(29, argv), 3);
    snprintf(events, sizeof events, "%s/none.csv", dir);
    argv[2] = events;
    assert_int_equal(run(29, argv), 3);
    mock_stop(&m);
    coce_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_download_skip_and_fail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
